"""The self-trained eukaryotic decoder on what inputs look like: assembly gaps (runs of >= MIN_GAP
N, whose length is unknown) are hard boundaries, as sequence ends are (no exon, intron or gene
holds one; a gene cut by a gap is partial, written to the gap's edge), and a genome written all
in lower case is read as unmasked, with a note (with --softmask every base would be a repeat and
no gene kept), while a soft-masked genome keeps its mask."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_eukaryote import CODE, synthetic_genome  # noqa: E402

from conftest import run_cli  # noqa: E402
from genet5.genome.extract import SequenceDict, cds_sequence  # noqa: E402
from genet5.predict.eukaryote.decoder import EukaryoteSettings, find_genes  # noqa: E402
from genet5.predict.pipeline import PredictConfig, predict_genome  # noqa: E402

FAST = EukaryoteSettings(rounds=1, seed_min_codons=200)


def gapped_genome():
    """(sequence, planted genes, gaps as 0-based [a, b)): the synthetic genome with a gap of
    exactly 3 N inside the middle exon of gene 2, one of 40 N inside an intron of gene 5 and one
    of 200 N over the first exon of gene 8."""
    seq, planted = synthetic_genome(seed=3, genes=12)
    s, gaps = bytearray(seq), []
    for at, n in (((planted[2][1][1][0] + planted[2][1][1][1]) // 2, 3), (planted[5][1][0][1] + 20, 40),
                  (planted[8][1][0][0] + 10, 200)):
        s[at : at + n] = b"N" * n
        gaps.append((at, at + n))
    return bytes(s), planted, gaps


def _crosses(start: int, end: int, gaps) -> bool:
    """Whether 1-based bases start..end reach into a gap."""
    return any(a < end and start - 1 < b for a, b in gaps)


@pytest.fixture(scope="module")
def gapped():
    seq, planted, gaps = gapped_genome()
    genes, _ = find_genes([("syn", seq)], CODE, FAST)
    return seq, planted, gaps, genes[0]


def test_no_gene_exon_or_intron_holds_an_assembly_gap(gapped):
    seq, _, gaps, genes = gapped
    assert len(genes) >= 10
    for g in genes:
        assert not _crosses(g.start, g.end, gaps), (g.strand, g.cds)
        assert not re.search(rb"N{3,}", seq[g.start - 1 : g.end])


# a cut gene may end in an intron that runs into the gap: its CDS stops at the donor, at most an
# intron (synthetic: up to 125 bases) short of the gap
REACH = 130


def test_genes_cut_by_a_gap_are_partial_there(gapped):
    """Gene 5's gap lies in an intron: its two halves remain, each partial toward the gap."""
    _, planted, gaps, genes = gapped
    a, b = gaps[1]
    first, last = planted[5][1][0][0], planted[5][1][-1][1]
    left = [g for g in genes if g.strand == "+" and g.end_partial and first <= g.start and g.end <= a]
    right = [g for g in genes if g.strand == "+" and g.start_partial and g.start > b and g.end <= last]
    assert left and right, [(g.strand, g.cds, g.start_partial, g.end_partial) for g in genes]
    (a1, b1), (a2, b2) = left[0].cds[0], planted[5][1][0]  # its own first exon, from its start codon
    assert a1 == a2 and 0 <= b2 - b1 <= 2  # (a cut CDS ends on a whole codon)
    for g in genes:  # every open end faces a gap (the sequence ends lie in intergenic sequence here)
        lo_open, hi_open = (g.start_partial, g.end_partial) if g.strand == "+" else (g.end_partial, g.start_partial)
        assert not lo_open or any(0 <= g.start - (e + 1) <= REACH for _, e in gaps)
        assert not hi_open or any(0 <= s - g.end <= REACH for s, _ in gaps)


def test_genes_between_gaps_keep_the_records_coordinates(gapped):
    """Each stretch between gaps is decoded on its own; its genes come back in the record's
    coordinates: planted genes away from the gaps are found whole, beyond the gaps as before them."""
    _, planted, gaps, genes = gapped
    found = {(g.strand, tuple(sorted(g.cds))) for g in genes}
    away = [(strand, tuple(segs)) for strand, segs in planted if not _crosses(segs[0][0], segs[-1][1], gaps)]
    beyond = [p for p in away if p[1][0][0] > gaps[-1][1]]
    assert len(away) == 9 and len(beyond) >= 3
    assert len(set(away) & found) >= 5 and set(beyond) & found


def test_the_output_writes_gap_cut_genes_partial_to_the_gap_edge(tmp_path):
    """Through the pipeline (GFF3 model): a gene cut by a gap is flagged partial at the end that
    faces it, a CDS cut there reaches the base next to the gap as NCBI writes one
    (genes.reach_edges), and no CDS reads an N."""
    seq, _, gaps = gapped_genome()
    fasta = tmp_path / "gapped.fa"
    fasta.write_bytes(b">syn\n" + seq + b"\n")
    ann, _, stats = predict_genome(None, fasta, PredictConfig(domain="eukaryote", genetic_code=1))
    cut = at_edge = 0
    for tx in ann.iter_transcripts():
        lo, hi = min(c.start for c in tx.cds), max(c.end for c in tx.cds)
        assert not _crosses(lo, hi, gaps)
        assert b"N" not in cds_sequence(tx, SequenceDict({"syn": seq}, "gapped"))
        lo_open, hi_open = (tx.start_partial, tx.end_partial) if tx.strand == "+" else (tx.end_partial, tx.start_partial)
        assert not lo_open or any(0 <= lo - (b + 1) <= REACH for _, b in gaps)
        assert not hi_open or any(0 <= a - hi <= REACH for a, _ in gaps)
        cut += lo_open + hi_open
        at_edge += (lo_open and lo - 1 in {b for _, b in gaps}) + (hi_open and hi in {a for a, _ in gaps})
    assert cut >= 2 and at_edge >= 1 and stats.genes >= 10


# -- lower case ---------------------------------------------------------------------------------


def test_lower_case_share_that_makes_a_genome_written_in_lower_case():
    from genet5.predict.eukaryote.repeats import lower_case_share

    seq = b"ACGTNNACGT" * 10  # 80 A/C/G/T bases; N is none
    assert lower_case_share([("s", seq)], [[(0, 100)]]) == 1.0
    assert lower_case_share([("s", seq)], [[(0, 96)]]) == 0.95  # 76 of 80
    assert lower_case_share([("s", seq)], [[(0, 93)]]) is None  # 75 of 80
    assert lower_case_share([("s", seq)], [[]]) is None and lower_case_share([("s", seq)], None) is None
    assert lower_case_share([("s", b"NNNN")], [[(0, 4)]]) is None


def _fasta(tmp_path, name: str, seq: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(b">syn\n" + seq + b"\n")
    return path


def _genes(ann) -> list[tuple]:
    return [(tx.strand, [(c.start, c.end) for c in tx.cds]) for tx in ann.iter_transcripts()]


def test_a_genome_written_in_lower_case_is_read_as_unmasked(tmp_path):
    seq, planted = synthetic_genome(seed=3, genes=12)
    cfg = PredictConfig(domain="eukaryote", genetic_code=1)
    upper, _, _ = predict_genome(None, _fasta(tmp_path, "upper.fa", seq), cfg)
    lower, _, stats = predict_genome(None, _fasta(tmp_path, "lower.fa", seq.lower()), cfg)
    assert len(_genes(upper)) >= 10
    assert _genes(lower) == _genes(upper)
    assert len(stats.notes) == 1 and "lower case" in stats.notes[0] and "--no-softmask" in stats.notes[0]


def test_a_soft_masked_genome_keeps_its_mask(tmp_path):
    """Half of the genome in lower case (its first six genes): a mask, so those genes count as
    repeats and are dropped, as before; no note."""
    seq, planted = synthetic_genome(seed=3, genes=12)
    half = planted[6][1][0][0] - 100
    ann, _, stats = predict_genome(None, _fasta(tmp_path, "half.fa", seq[:half].lower() + seq[half:]),
                                   PredictConfig(domain="eukaryote", genetic_code=1))
    genes = _genes(ann)
    assert genes and all(segs[0][0] > half for _, segs in genes)
    assert stats.notes == []


def test_the_command_says_a_lower_case_genome_is_read_as_unmasked(tmp_path):
    seq, _ = synthetic_genome(seed=3, genes=6)
    fasta, gff = _fasta(tmp_path, "lower.fa", seq.lower()), tmp_path / "out.gff3"
    r = run_cli("predict", "--domain", "eukaryote", fasta, "-o", gff, "-q")
    assert r.returncode == 0, r.stderr
    notes = [ln for ln in r.stderr.splitlines() if ln.startswith("note: ")]
    assert len(notes) == 1 and "read as a genome written in lower case" in notes[0], r.stderr
    assert "\tCDS\t" in gff.read_text()


def test_a_gapped_sequence_decoded_in_blocks_gives_the_genes_of_one_pass(monkeypatch):
    """Stretches between gaps that run over block edges (a long sequence is decoded block by
    block) give the genes of one pass, site evidence included."""
    import genet5.predict.eukaryote.decoder as decoder

    seq, _, gaps = gapped_genome()
    settings = EukaryoteSettings(rounds=1, seed_min_codons=200, max_region=4000)
    whole, _ = find_genes([("syn", seq)], CODE, settings)
    monkeypatch.setattr(decoder, "STREAM_BLOCK", 5000)
    streamed, _ = find_genes([("syn", seq)], CODE, settings)
    key = lambda genes: [(g.strand, g.cds, g.start_partial, g.end_partial, round(g.score, 3)) for g in genes[0]]  # noqa: E731
    assert len(key(whole)) >= 10 and any(g.start_partial or g.end_partial for g in whole[0])
    assert key(streamed) == key(whole)


def test_regions_are_cut_at_the_gaps_into_each_stretchs_coordinates():
    from genet5.predict.eukaryote.decoder import between_gaps

    regions = [(0, 100), (100, 400), (400, 1000)]
    pieces = [(0, 50), (53, 380), (500, 520), (600, 1000)]  # gaps 50-53, 380-500, 520-600
    assert list(between_gaps(regions, pieces)) == [
        (0, 50, [(0, 50)]), (53, 380, [(0, 47), (47, 327)]), (500, 520, [(0, 20)]), (600, 1000, [(0, 400)])]
    assert list(between_gaps(regions, pieces, min_len=30)) == [
        (0, 50, [(0, 50)]), (53, 380, [(0, 47), (47, 327)]), (600, 1000, [(0, 400)])]
    assert list(between_gaps([(540, 560)], pieces)) == [] and list(between_gaps([], pieces)) == []
