"""The ORF decoder on hand-built sequences: exact genes on both strands and at the edges."""

from __future__ import annotations

import numpy as np

from genet5.genome.codes import genetic_code, reverse_complement
from genet5.predict.orf_decoder import decode_orfs

CODE = genetic_code(11)


def oracle_logp(n: int, genes: list[tuple[str, int, int]]) -> np.ndarray:
    """Log-probabilities that put 0.9 on the true class: CDS codon positions counted along
    transcription (as BaseClass does), intergenic elsewhere."""
    labels = np.zeros(n, dtype=int)
    for strand, lo, hi in genes:  # 1-based closed
        k = np.arange(hi - lo + 1)
        if strand == "+":
            labels[lo - 1 : hi] = 1 + k % 3
        else:
            labels[lo - 1 : hi] = (1 + k % 3)[::-1]
    logp = np.full((n, 6), np.log(0.02))
    logp[np.arange(n), labels] = np.log(0.9)
    return logp


def filler(n: int, seed: int) -> str:
    # stop-rich filler (TAA / TAG / TGA in every frame) keeps random ORFs short
    rng = np.random.default_rng(seed)
    return "".join(rng.choice(["TAA", "TAG", "TGA", "CCT", "GCA"], size=n // 3))


def orf(n_codons: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    body = "".join(rng.choice(["GCT", "AAA", "CTG", "GGC", "ACC", "CAG"], size=n_codons))
    return "ATG" + body + "TAA"


def test_one_gene_per_strand_recovered_exactly():
    plus = orf(60, 1)  # 186 bases
    minus = reverse_complement(orf(50, 2).encode()).decode()  # 156 bases
    seq = filler(120, 3) + plus + filler(90, 4) + minus + filler(120, 5)
    p_lo = 121
    m_lo = 120 + len(plus) + 90 + 1
    truth = [("+", p_lo, p_lo + len(plus) - 1), ("-", m_lo, m_lo + len(minus) - 1)]
    genes = decode_orfs(seq.encode(), oracle_logp(len(seq), truth), CODE)
    got = [(g.strand, g.start, g.end) for g in genes]
    assert got == truth
    assert all(not g.start_partial and not g.end_partial and g.start_codon == "ATG" for g in genes)


def test_gene_running_off_the_sequence_end_is_partial():
    plus = orf(80, 7)
    seq = filler(60, 8) + plus[:-60]  # the last 20 codons and the stop are cut off
    lo = 61
    hi = len(seq) - (len(seq) - lo + 1) % 3
    genes = decode_orfs(seq.encode(), oracle_logp(len(seq), [("+", lo, hi)]), CODE)
    assert len(genes) == 1
    g = genes[0]
    assert (g.strand, g.start, g.end_partial, g.start_partial) == ("+", lo, True, False)
    assert (g.end - g.start + 1) % 3 == 0 and g.end <= len(seq)


def test_no_evidence_no_genes_and_reversed_track_equals_rc_track():
    seq = (filler(90, 9) + orf(70, 10) + filler(90, 11)).encode()
    flat = np.log(np.full((len(seq), 6), 1 / 6))
    flat[:, 0] = np.log(0.5)  # intergenic favoured everywhere
    assert decode_orfs(seq, flat, CODE) == []
    truth = [("+", 91, 91 + 3 * 72 - 1)]
    logp = oracle_logp(len(seq), truth)
    a = decode_orfs(seq, logp, CODE)
    b = decode_orfs(seq, logp, CODE, logp_rc_LC=logp[::-1].copy())
    assert [(g.strand, g.start, g.end) for g in a] == [(g.strand, g.start, g.end) for g in b] == truth


def test_overlap_limit():
    # two genes on opposite strands overlapping by 100 bases: only the better one survives
    a = orf(70, 12)
    b_rc = reverse_complement(orf(70, 13).encode()).decode()
    seq = filler(60, 14) + a[:-100] + a[-100:] + b_rc[100:] + filler(60, 15)
    n = len(seq)
    truth = [("+", 61, 60 + len(a))]
    genes = decode_orfs(seq.encode(), oracle_logp(n, truth), CODE, max_overlap=60)
    assert all(not (g.strand == "-" and g.start < 60 + len(a) - 60) for g in genes)
