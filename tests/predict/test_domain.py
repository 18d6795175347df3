"""`--domain auto` from the genome (predict/domain.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from genet5.genome.codes import genetic_code, reverse_complement
from genet5.predict.domain import EXCESS_BELOW, GAP_ABOVE, MIN_BASES, choose_domain, organelle_named, read_head

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_eukaryote import synthetic_genome  # noqa: E402

SENSE = sorted(c for c in genetic_code(11).codon_to_aa if c not in genetic_code(11).stops and c != b"TGG")


def _gene(rng, codons: int) -> bytes:
    return b"ATG" + b"".join(SENSE[i] for i in rng.integers(0, len(SENSE), codons)) + b"TAA"


def _spacer(rng, n: int) -> bytes:  # AT-rich, so it holds stops on every frame
    return bytes(rng.choice(list(b"AATTTAGC"), n).astype(np.uint8))


def _packed(rng, genes: int, gap: int, rbs: bool = False) -> bytes:
    """Unbroken genes on both strands, `gap` bases apart; rbs: each start behind a
    Shine-Dalgarno motif."""
    parts = []
    for k in range(genes):
        g = _gene(rng, int(rng.integers(200, 400)))
        if rbs:
            g = b"AGGAGGTTAAAC" + g
        parts += [g if k % 3 else reverse_complement(g), _spacer(rng, gap)]
    return b"".join(parts)


def test_unbroken_genes_packed_close_are_prokaryotic():
    c = choose_domain([("p", _packed(np.random.default_rng(0), 150, 60))])
    assert c.domain == "prokaryote" and c.excess > 0.85 and c.gap < 100, c


def test_lone_ambiguous_bases_do_not_break_the_genes_but_gaps_do():
    # a draft polished with IUPAC calls (one per 400 bases here) keeps its long ORFs, as the gene
    # finder reads through them; runs of 3+ N are gaps and do cut them
    rng = np.random.default_rng(0)
    seq = bytearray(_packed(rng, 150, 60))
    for i in rng.choice(len(seq), len(seq) // 400, replace=False):
        seq[i] = ord(rng.choice(list("RYKMSWN")))
    c = choose_domain([("p", bytes(seq))])
    assert c.domain == "prokaryote" and c.excess > 0.85, c
    gapped = bytearray(seq)
    for i in range(0, len(gapped) - 3, 400):
        gapped[i : i + 3] = b"NNN"
    assert choose_domain([("p", bytes(gapped))]).excess < c.excess - 0.2


def test_unbroken_genes_far_apart_are_a_compact_eukaryote():
    c = choose_domain([("y", _packed(np.random.default_rng(1), 90, 700))])
    assert c.domain == "eukaryote" and c.gap > GAP_ABOVE, c


def test_genes_broken_by_introns_are_eukaryotic():
    seq, _ = synthetic_genome(genes=60)
    assert len(seq) > MIN_BASES
    c = choose_domain([("syn", seq)])
    assert c.domain == "eukaryote" and c.excess < EXCESS_BELOW, c
    assert "beyond chance" in c.describe()


def test_a_short_input_stays_prokaryotic():
    seq, _ = synthetic_genome(genes=2)
    assert len(seq) < MIN_BASES
    c = choose_domain([("s", seq)])
    assert c.domain == "prokaryote" and "too short" in c.describe()


def test_the_head_is_whole_records_and_the_sample_stops_at_its_size():
    class Rec:
        def __init__(self, i, n):
            self.id, self.seq = f"r{i}", b"A" * n

    stream = iter([Rec(0, 300), Rec(1, 500), Rec(2, 400), Rec(3, 100)])
    head, sample = read_head(stream, bases=700)
    assert [r.id for r in head] == ["r0", "r1"] and [len(r.seq) for r in head] == [300, 500]
    assert [(i, len(s)) for i, s in sample] == [("r0", 300), ("r1", 400)]
    assert [r.id for r in stream] == ["r2", "r3"]  # the rest is left for the caller


def test_an_organelle_named_in_every_header_is_decoded_as_a_prokaryote():
    """Organelle genomes read as eukaryotic by their ORFs (far-apart genes), but their genes are
    a bacterium's: the name in NCBI's headers decides."""
    far_apart = _packed(np.random.default_rng(1), 90, 700)
    assert choose_domain([("y", far_apart)]).domain == "eukaryote"
    c = choose_domain([("cp", far_apart)], ["NC_000932.1 Arabidopsis thaliana chloroplast, complete genome"])
    assert c.domain == "prokaryote" and c.organelle == "plastid" and "plastid genome" in c.describe()
    assert organelle_named(["NC_001284.2 Arabidopsis thaliana mitochondrion, complete genome"]) == "mitochondrion"
    assert organelle_named(["x Homo sapiens mitochondrial DNA", "y Mitochondrion, scaffold 2"]) == "mitochondrion"
    assert organelle_named(["a chloroplast", "b mitochondrion"]) == "organelle"
    # a nuclear assembly with an organelle contig among its records is not an organelle genome,
    # nor is a word that only contains one ("plastidial" protein names, "chloroplastic")
    assert organelle_named(["chr1 Arabidopsis thaliana chromosome 1", "ChrC chloroplast"]) is None
    assert organelle_named(["scaffold_1 chloroplastic-like region"]) is None
    assert choose_domain([("y", far_apart)], ["chr1", "ChrC chloroplast"]).domain == "eukaryote"


def test_starts_behind_a_shine_dalgarno_motif_overrule_far_apart_genes():
    """A bacterium with much non-coding DNA (a decaying symbiont: long ORFs a median 700 bases
    apart) reads as a compact eukaryote by its ORFs; its starts' ribosome binding sites say
    prokaryote. The same genes without the motif stay eukaryotic, as does too small a sample."""
    rng = np.random.default_rng(3)
    with_rbs = choose_domain([("b", _packed(rng, 400, 700, rbs=True))])
    assert with_rbs.domain == "prokaryote" and with_rbs.gap > GAP_ABOVE, with_rbs
    assert with_rbs.sd_low >= 1.2 and "Shine-Dalgarno" in with_rbs.describe()
    without = choose_domain([("y", _packed(np.random.default_rng(3), 400, 700))])
    assert without.domain == "eukaryote" and without.sd_low < 1.2, without
    few = choose_domain([("b", _packed(np.random.default_rng(4), 100, 700, rbs=True))])
    assert few.domain == "eukaryote", few  # 100 ORFs: too few to overrule
