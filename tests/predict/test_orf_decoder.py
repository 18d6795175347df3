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


def _convergent_pair(overlap: int) -> tuple[str, tuple[str, int, int], tuple[str, int, int]]:
    """A plus-strand gene (90 codons) and a minus-strand gene (60 codons) whose 3' ends overlap by
    `overlap` bases (tail to tail). The shared stretch holds no T except the two stop codons, so
    it is open in every frame of both strands; both genes are real ORFs of the sequence."""
    rng = np.random.default_rng(16)
    body = ["GCT", "AAA", "CTG", "GGC", "ACC", "CAG"]  # no stop codon, none starts with T
    a = "ATG" + "".join(rng.choice(body, size=90)) + "TAA"
    b = "ATG" + "".join(rng.choice(body, size=60)) + "TAA"
    p = 60  # 0-based first base of the plus gene
    q = p + len(a) - overlap  # 0-based leftmost base of the minus gene (its stop codon, as TTA)
    s = list(filler(p, 17) + a) + [""] * (q + len(b) - p - len(a)) + list(filler(60, 18))
    # the minus gene, laid down in forward coordinates, codon by codon from its stop
    b_fw = reverse_complement(b.encode()).decode()
    for i in range(q + overlap, q + len(b)):
        s[i] = b_fw[i - q]
    # the shared stretch: random A/C/G, then the bases each reading frame needs
    s[q : q + overlap] = rng.choice(list("ACG"), size=overlap)
    s[q : q + 3] = "TTA"  # the minus gene's stop; read in the plus gene's frame: ..T | TAC
    s[q + 3] = "C"
    s[p + len(a) - 3 : p + len(a)] = "TAA"  # the plus gene's stop
    k = p + len(a) - 3 - q  # where TAA falls in the minus gene's codon windows
    assert k % 3 == 1
    s[q + k - 1] = "G"  # window (G, T, A) reads TAC on the minus strand, not a stop
    seq = "".join(s)
    assert len(seq) == q + len(b) + 60
    plus = ("+", p + 1, p + len(a))
    minus = ("-", q + 1, q + len(b))
    return seq, plus, minus


def test_overlap_limit():
    # convergent genes on opposite strands overlapping by exactly 100 bases: both pass a
    # 100-base limit, only the better-scoring (longer) one survives a 99- or 60-base limit
    seq, plus, minus = _convergent_pair(100)
    assert max(plus[1], minus[1]) <= min(plus[2], minus[2])
    assert min(plus[2], minus[2]) - max(plus[1], minus[1]) + 1 == 100
    n = len(seq)
    fw = oracle_logp(n, [plus])
    rc = oracle_logp(n, [minus])[::-1].copy()  # minus-strand evidence in its own coordinates

    def called(limit):
        genes = decode_orfs(seq.encode(), fw, CODE, logp_rc_LC=rc, max_overlap=limit)
        return [(g.strand, g.start, g.end) for g in genes]

    assert called(100) == sorted([plus, minus], key=lambda t: (t[1], t[2]))
    assert called(99) == [plus]
    assert called(60) == [plus]


def _sd_genome(n_genes: int, seed: int) -> tuple[str, list[tuple[str, int, int]], list[tuple[str, int, int]]]:
    """Genes whose true ATG sits 8 bases after a Shine-Dalgarno AGGAGG, each with a decoy ATG
    in frame 30 bases upstream (no SD). Returns the sequence, the true genes and the decoys."""
    rng = np.random.default_rng(seed)
    seq, truth, decoys = "", [], []
    for i in range(n_genes):
        seq += filler(60, seed * 1000 + i)
        decoy_at = len(seq) + 1
        # decoy ATG + 9 codons (no stop, no SD) + spacer holding the SD + true gene
        pre = "ATG" + "".join(rng.choice(["GCT", "CAC", "CTC", "ACC"], size=5)) + "GCAGGAGGCCCTTC"[:12] + "CAGCCCTCC"
        pre = pre[: 30]
        gene = orf(60 + i % 7, seed * 1000 + 500 + i)
        seq += pre + gene
        lo = decoy_at + len(pre)
        truth.append(("+", lo, lo + len(gene) - 1))
        decoys.append(("+", decoy_at, lo + len(gene) - 1))
    return seq + filler(60, seed), truth, decoys


def test_learned_start_model_fixes_starts_the_evidence_blurs():
    seq, truth, decoys = _sd_genome(150, 21)
    assert all(seq[hi - 3 : hi] == "TAA" for _, _, hi in truth)
    # Evidence: clearly coding over the true gene; over the 30 decoy bases upstream, mildly
    # coding for two genes in five (so a first pass takes the decoy there) and mildly
    # intergenic for the rest.
    logp = oracle_logp(len(seq), truth)
    for i, ((_, d_lo, _), (_, lo, _)) in enumerate(zip(decoys, truth)):
        k = np.arange(lo - d_lo)
        p_code = 0.6 if i % 5 < 2 else 0.4
        block = np.full((lo - d_lo, 6), np.log(0.02))
        block[:, 0] = np.log(1 - p_code)
        block[k, 1 + k % 3] = np.log(p_code)
        logp[d_lo - 1 : lo - 1] = block
    plain = decode_orfs(seq.encode(), logp, CODE, learn_starts=False)
    learned = decode_orfs(seq.encode(), logp, CODE)
    want = set(truth)

    def right(genes):
        return sum((g.strand, g.start, g.end) in want for g in genes)

    assert right(plain) <= 0.65 * len(truth)  # the decoys win where the evidence says so
    assert right(learned) >= 0.97 * len(truth)
    assert len(learned) == len(plain)  # start choice only: the same genes are found
