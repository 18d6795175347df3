"""Seq2seq training windows: only `train` genomes of splits.tsv, and targets that point at the
planted genes' start and stop codons on both strands."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from genet5.genome.codes import reverse_complement
from genet5.tokenizers.annotation import IGNORE, Tok, decode_genes, genes_to_transcripts
from genet5.tokenizers.nucleotide import NucleotideTokenizer
from genet5.train.seq2seq_data import entry_windows, train_entries

STOPS = {"TAA", "TAG", "TGA"}
# planted genes, 1-based closed CDS (stop codon included)
PLUS = (301, 900)  # ATG ... TAA on +
MINUS = (1501, 2100)  # on -: its start codon ends at 2100, its stop begins at 1501


def _orf(rng: np.random.Generator, n_codons: int) -> str:
    codons = []
    while len(codons) < n_codons:
        c = "".join(rng.choice(list("ACGT"), 3))
        if c not in STOPS:
            codons.append(c)
    return "ATG" + "".join(codons) + "TAA"


def _planted_genome(rng: np.random.Generator) -> str:
    seq = list("".join(rng.choice(list("ACGT"), 3000)))
    plus = _orf(rng, (PLUS[1] - PLUS[0] + 1) // 3 - 2)
    minus = reverse_complement(_orf(rng, (MINUS[1] - MINUS[0] + 1) // 3 - 2).encode()).decode()
    seq[PLUS[0] - 1 : PLUS[1]] = plus
    seq[MINUS[0] - 1 : MINUS[1]] = minus
    return "".join(seq)


def _write(folder: Path, seq: str, genes: list[tuple[str, str, tuple[int, int]]]) -> None:
    folder.mkdir(parents=True)
    with gzip.open(folder / "genome.fa.gz", "wt") as fh:
        fh.write(f">chr\n{seq}\n")
    rows = ["##gff-version 3"]
    for gid, strand, (a, b) in genes:
        rows.append(f"chr\tt\tgene\t{a}\t{b}\t.\t{strand}\t.\tID={gid}")
        rows.append(f"chr\tt\tCDS\t{a}\t{b}\t.\t{strand}\t0\tParent={gid}")
    (folder / "annotation.gff3").write_text("\n".join(rows) + "\n")


@pytest.fixture
def collection(tmp_path: Path) -> tuple[Path, str]:
    rng = np.random.default_rng(7)
    seq = _planted_genome(rng)
    _write(tmp_path / "prokaryotes" / "Planted_one", seq, [("p1", "+", PLUS), ("m1", "-", MINUS)])
    _write(tmp_path / "prokaryotes" / "Held_out", _planted_genome(rng), [("h1", "+", PLUS)])
    _write(tmp_path / "fungi" / "Yeast_like", _planted_genome(rng), [("y1", "+", PLUS)])
    (tmp_path / "manifest.tsv").write_text(
        "path\tspecies\ttaxon\tgenetic_code\n"
        "prokaryotes/Planted_one\tPlanted one\tprokaryotes\t11\n"
        "prokaryotes/Held_out\tHeld out\tprokaryotes\t11\n"
        "fungi/Yeast_like\tYeast like\tfungi\t1\n"
    )
    (tmp_path / "splits.tsv").write_text(
        "path\tsplit\tnote\nprokaryotes/Planted_one\ttrain\t\nprokaryotes/Held_out\tvalidation\t\nfungi/Yeast_like\ttrain\t\n"
    )
    return tmp_path, seq


def test_only_train_rows_of_the_chosen_taxa(collection):
    root, _ = collection
    assert [e.path for e in train_entries(root / "manifest.tsv", root / "splits.tsv")] == ["prokaryotes/Planted_one"]
    every = train_entries(root / "manifest.tsv", root / "splits.tsv", taxa=None)
    assert [e.path for e in every] == ["prokaryotes/Planted_one", "fungi/Yeast_like"]  # never Held_out
    (root / "splits.tsv").write_text("path\tsplit\nprokaryotes/Planted_one\ttrain\n")
    with pytest.raises(ValueError, match="not listed"):
        train_entries(root / "manifest.tsv", root / "splits.tsv")


def test_targets_point_at_the_planted_codons_on_both_strands(collection):
    root, seq = collection
    (entry,) = train_entries(root / "manifest.tsv", root / "splits.tsv")
    wins = list(entry_windows(entry, window=3000, overlap=0))
    assert [w.strand for w in wins] == [1, -1] and all(w.genetic_code == 11 for w in wins)
    tok = NucleotideTokenizer()
    for w in wins:
        dna = tok.decode(w.ids.tolist())
        assert dna == (seq if w.strand == 1 else reverse_complement(seq.encode()).decode())
        # two genes, each strand token + 2 pointers, then EOS; pointers only on boundary tokens
        assert len(w.types) == 7 and w.types[-1] == Tok.EOS
        starts = [p for t, p in zip(w.types, w.ptrs) if t == Tok.CDS_START]
        ends = [p for t, p in zip(w.types, w.ptrs) if t == Tok.CDS_END]
        assert all(p == IGNORE for t, p in zip(w.types, w.ptrs) if t in (Tok.GENE_PLUS, Tok.GENE_MINUS, Tok.EOS))
        plus_tok = [t for t in w.types if t in (Tok.GENE_PLUS, Tok.GENE_MINUS)]
        if w.strand == 1:  # genomic order: the + gene (301) before the - gene (1501)
            assert plus_tok == [Tok.GENE_PLUS, Tok.GENE_MINUS]
            assert starts == [PLUS[0] - 1, MINUS[1] - 1] and ends == [PLUS[1] - 1, MINUS[0] - 1]
        else:  # reverse complement: the old - gene comes first and is now on +
            n = len(seq)
            assert plus_tok == [Tok.GENE_PLUS, Tok.GENE_MINUS]
            assert starts == [n - MINUS[1], n - PLUS[0]] and ends == [n - MINUS[0], n - PLUS[1]]
        # what the pointers name: start codons read forward on +, backward (rc) on -
        genes = decode_genes(w.types, w.ptrs, len(dna))
        for g in genes:
            a, b = g.segments[0]
            cds = dna[a : b + 1] if g.strand == "+" else reverse_complement(dna[a : b + 1].encode()).decode()
            assert cds.startswith("ATG") and cds[-3:] in STOPS and len(cds) % 3 == 0
        if w.strand == 1:  # back to genome coordinates: exactly the planted genes
            txs = genes_to_transcripts(genes, "chr", w.start)
            assert sorted((t.strand, t.cds[0].start, t.cds[-1].end) for t in txs) == [
                ("+", PLUS[0], PLUS[1]), ("-", MINUS[0], MINUS[1])]  # fmt: skip
    # per-base labels: codon positions of the + gene, intergenic outside
    lab = wins[0].labels
    assert lab[PLUS[0] - 1 : PLUS[0] + 5].tolist() == [1, 2, 3, 1, 2, 3] and lab[0] == 0


def test_cut_windows_keep_the_pointer_that_lies_inside(collection):
    root, _ = collection
    (entry,) = train_entries(root / "manifest.tsv", root / "splits.tsv")
    # windows of 1000 with overlap 200: starts 1, 801, 1601, 2001 (aligned to the end)
    wins = [w for w in entry_windows(entry, window=1000, overlap=200) if w.strand == 1]
    by_start = {w.start: w for w in wins}
    w = by_start[801]  # holds 801..1800: the + gene's stop (900) and the - gene's stop (1501)
    assert w.types == [Tok.GENE_PLUS, Tok.CUT_LEFT, Tok.CDS_END, Tok.GENE_MINUS, Tok.CDS_END, Tok.CUT_RIGHT, Tok.EOS]
    assert w.ptrs[2] == PLUS[1] - 801 and w.ptrs[4] == MINUS[0] - 801


def test_plus_targets_keep_each_strands_plus_genes_cut_ones_too(collection):
    """target_strands "plus": a window lists only its plus genes (cut flags kept), so the planted
    - gene is written once, as the plus gene of the reverse complement's window."""
    root, seq = collection
    (entry,) = train_entries(root / "manifest.tsv", root / "splits.tsv")
    both = list(entry_windows(entry, window=1000, overlap=200))
    plus = list(entry_windows(entry, window=1000, overlap=200, target_strands="plus"))
    assert [(w.start, w.strand) for w in plus] == [(w.start, w.strand) for w in both]
    for wb, wp in zip(both, plus):
        assert Tok.GENE_MINUS not in wp.types and wp.types[-1] == Tok.EOS
        n = len(wb.ids)
        kept = [g for g in decode_genes(wb.types, wb.ptrs, n) if g.strand == "+"]
        assert decode_genes(wp.types, wp.ptrs, n) == kept  # segments and cut flags unchanged
        assert np.array_equal(wp.labels, wb.labels) and np.array_equal(wp.ids, wb.ids)
    w = next(w for w in plus if w.start == 801 and w.strand == 1)  # the + gene's cut 3' end only
    assert w.types == [Tok.GENE_PLUS, Tok.CUT_LEFT, Tok.CDS_END, Tok.EOS] and w.ptrs[2] == PLUS[1] - 801
    # whole windows: each planted gene once as a plus gene, the - one on the reverse complement
    whole = list(entry_windows(entry, window=3000, overlap=0, target_strands="plus"))
    n = len(seq)
    got = {w.strand: [(p, t) for t, p in zip(w.types, w.ptrs) if t in (Tok.CDS_START, Tok.CDS_END)] for w in whole}
    assert got[1] == [(PLUS[0] - 1, Tok.CDS_START), (PLUS[1] - 1, Tok.CDS_END)]
    assert got[-1] == [(n - MINUS[1], Tok.CDS_START), (n - MINUS[0], Tok.CDS_END)]
    with pytest.raises(ValueError, match="target_strands"):
        next(entry_windows(entry, target_strands="minus"))
