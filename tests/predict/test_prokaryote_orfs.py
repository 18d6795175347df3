"""Candidates of the prokaryotic gene finder (predict/prokaryote/orfs.py): segments between
gaps, ORFs with their starts and partial ends, codon hits, frame sums."""

from __future__ import annotations

import numpy as np

from genet5.genome.codes import genetic_code
from genet5.predict.prokaryote.orfs import base_codes, codon_hits, frame_sums, record_candidates, segments, word_hits

CODE11 = genetic_code(11)
STARTS = frozenset({b"ATG", b"GTG", b"TTG"})


def test_segments_split_at_gaps_only():
    seq = b"ACGT" * 10 + b"NNNNN" + b"ACGT" * 5 + b"N" + b"ACGT"
    assert segments(seq) == [(0, 40), (45, 70)]  # a lone N is a base call, a run is a gap
    # fewer than min_gap non-ACGT letters in all (the fast path) against a run of them
    assert segments(b"acgtRYacgtN") == [(0, 11)] and segments(b"NN") == [(0, 2)] and segments(b"") == []
    assert segments(b"ACGNNNT") == [(0, 3), (6, 7)] and segments(b"NNN") == []


def test_candidates_are_orfs_with_partial_ends():
    body = "ATG" + "GCT" * 40 + "TAA"
    seq = ("GCA" * 10 + body + "GCA" * 10).encode()
    strands = record_candidates("s", seq, CODE11, STARTS, 90)
    plus = next(s for s in strands if s.strand == "+")
    lo, hi = plus.genomic_all()
    k = np.flatnonzero((lo == 31) & (hi == 30 + len(body)))
    assert k.size == 1 and not plus.edge[k[0]] and not plus.open3[k[0]]
    # the ORF before the gene runs off the 5' end: an edge candidate, 5' partial, starting at base 1
    edge = np.flatnonzero(plus.edge)
    assert edge.size and lo[edge].min() == 1
    # a gap cuts a gene: both pieces become partial candidates, none spans the gap
    gapped = seq[:90] + b"N" * 20 + seq[110:]
    for s in record_candidates("s", gapped, CODE11, STARTS, 30):
        glo, ghi = s.genomic_all()
        assert not np.any((glo <= 100) & (ghi >= 91))

    # --closed (Prodigal's -c): the complete candidates only, at the ends and at the gap alike
    for closed_seq in (seq, gapped):
        all_strands = record_candidates("s", closed_seq, CODE11, STARTS, 30)
        closed = record_candidates("s", closed_seq, CODE11, STARTS, 30, closed=True)
        for a, c in zip(all_strands, closed):
            assert not c.edge.any() and not c.open3.any()
            whole = ~a.edge & ~a.open3
            assert sorted(zip(*c.genomic_all())) == sorted(zip(a.genomic_all()[0][whole], a.genomic_all()[1][whole]))
        assert sum(a.edge.sum() + a.open3.sum() for a in all_strands) > 0


def test_frame_sums_match_a_sum_base_by_base():
    """The codon-total path (whole-codon spans) and the base-by-base one (any span) give the
    definition: sum over i in [a, e] of w[i, (i - a) mod 3]; the sequence's last codons too."""
    rng = np.random.default_rng(5)
    n = 3001
    w = rng.normal(size=(n, 3)).astype(np.float32)
    a = np.array([0, 1, 2, 3, 2998, 2997, 2996, 10, 11, 500])
    e = np.array([2, 3000, 2999, 302, 3000, 2999, 2998, 13, 2000, 1000])  # 2998, 4 and 1990 bases: partial codon ends
    want = np.array([sum(float(w[i, (i - x) % 3]) for i in range(x, y + 1)) for x, y in zip(a, e)])
    got = frame_sums(w, a, e)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    whole = (e - a + 1) % 3 == 0
    assert whole.sum() == 7 and (~whole).sum() == 3  # both paths ran
    from genet5.predict.prokaryote.orfs import _base_frame_sums

    np.testing.assert_array_equal(got[whole], _base_frame_sums(w, a[whole], e[whole]))


def test_codon_hits_match_word_hits():
    """The one-comparison-per-codon path against the base-by-base one: N, IUPAC letters and
    lower case in the sequence, a word with N, sequences too short for a codon."""
    rng = np.random.default_rng(1)
    letters = list(b"ACGTNRacgt")
    seq = rng.choice(letters, size=20_000, p=[0.24] * 4 + [0.01, 0.01] + [0.005] * 4).astype(np.uint8).tobytes()
    seq += b"ARNYA"  # a run of three non-ACGT letters: the word NNN's hit
    codes = base_codes(seq)
    for codons in (CODE11.stops, STARTS, (b"TAA", b"TAG"), genetic_code(4).stops, (b"atg", b"NNN")):
        want, got = word_hits(codes, codons), codon_hits(codes, codons)
        assert got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want), codons
    assert codon_hits(codes, (b"NNN",)).any() and codon_hits(codes, (b"ATG",)).any()
    for n in range(6):
        short = base_codes(seq[:n])
        assert np.array_equal(codon_hits(short, STARTS), word_hits(short, STARTS)) and len(codon_hits(short, STARTS)) == max(n - 2, 0)
