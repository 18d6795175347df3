"""Gene-structure HMM options the eukaryote decoder uses: GC-AG introns, a long intron-length
class, a start-codon context matrix, a minimum terminal exon, and the intron-length fit."""

from __future__ import annotations

import numpy as np
import pytest

from genet5.genome.codes import genetic_code, reverse_complement
from genet5.predict.eukaryote.decoder import EukaryoteSettings, GenomeModels, gene_hmm, with_fitted_intron_min, with_long_introns
from genet5.predict.eukaryote.refit import fit_intron_lengths
from genet5.predict.viterbi_decoder import ViterbiGene, decode_regions
from genet5.predict.viterbi_hmm import E_MCDS, E_MINTRON, E_MUTR3, E_PCDS, E_PINTRON, E_PUTR3, N_EMIT, GeneHMM, _Ctx, padded_base_codes, splice_site_pwms

CODE = genetic_code(1)
GT_AG = {(b"GT", b"AG"): 0.0}


def codons(n: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    return "".join(rng.choice(["GCT", "AAA", "CTG", "GGC", "ACC", "CAG"], size=n))


def filler(n: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    return "".join(rng.choice(["TAA", "TAG", "TGA", "CCT", "GCA"], size=n // 3))


def planted(parts: list[str], seed: int = 0) -> tuple[str, list[tuple[int, int]]]:
    """filler + exon, intron, exon ... + filler; the sequence and its exons (1-based)."""
    seq, segs = filler(240, seed), []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            segs.append((len(seq) + 1, len(seq) + len(part)))
        seq += part
    return seq + filler(240, seed + 1), segs


def minus(seq: str, segs):
    n = len(seq)
    return reverse_complement(seq.encode()).decode(), [(n - b + 1, n - a + 1) for a, b in segs]


def coding_evidence(n: int, strand: str, segs) -> np.ndarray:
    """Emissions as the eukaryote decoder's content chains give them: +1 for the right codon
    position on exon bases, -1 for every coding column elsewhere, 0 for introns and intergenic."""
    em = np.zeros((n, N_EMIT), dtype=np.float32)
    em[:, E_PCDS : E_PCDS + 3] = -1.0
    em[:, E_MCDS : E_MCDS + 3] = -1.0
    bases = np.concatenate([np.arange(a - 1, b) for a, b in sorted(segs)])
    if strand == "-":
        bases = bases[::-1]
    col = (E_PCDS if strand == "+" else E_MCDS) + np.arange(bases.size) % 3
    em[bases, :] = 0.0
    em[bases, col] = 1.0
    return em


def decode(seq: str, em: np.ndarray, hmm: GeneHMM):
    return [(g.strand, g.cds) for g in decode_regions(seq.encode(), [(0, len(seq))], lambda g: em[g], hmm, CODE)]


def hmm_with(**options) -> GeneHMM:
    base = dict(gene_logp=-10.0, intron_logp=-8.0, intron_min=20, intron_mean=60.0)
    return GeneHMM(CODE, frozenset({b"ATG"}), options.pop("pairs", GT_AG), **(base | options))


def test_long_intron_class_keeps_a_gene_with_a_3kb_intron_whole():
    intron = "GTAAGT" + filler(2988, 7) .replace("TAA", "CAA") + "TTTCAG"
    seq, segs = planted(["ATG" + codons(60, 1), intron, codons(60, 2) + "TAA"], seed=3)
    for strand, (s, g) in (("+", (seq, segs)), ("-", minus(seq, segs))):
        em = coding_evidence(len(s), strand, g)
        assert decode(s, em, hmm_with(intron_long=(0.1, 1500.0))) == [(strand, g)]
        # one geometric class fitted to a 60-base peak: the 3 kb intron costs more than the gene
        assert (strand, g) not in decode(s, em, hmm_with())


def test_long_intron_class_states_read_the_intergenic_emission():
    hmm = hmm_with(intron_long=(0.2, 1000.0))
    long_states = [i for i, name in enumerate(hmm.names) if name.endswith("L")]
    assert long_states and len(long_states) * 2 == sum(1 for n in hmm.names if n[:2] in ("+I", "-I"))
    assert {int(hmm.emit_arr[i]) for i in long_states} == {0}  # E_IG
    assert set(hmm.jump_ci.tolist()) == {0, 1, 2}
    with pytest.raises(ValueError):
        hmm_with(intron_long=(1.5, 1000.0))


@pytest.mark.parametrize("strand", ["+", "-"])
def test_terminal_exon_minimum(strand):
    # a 9-base terminal exon (two codons and the stop) after an intron
    seq, segs = planted(["ATG" + codons(60, 4), "GTAAGT" + "C" * 68 + "TTTCAG", "GCAAAA" + "TAA"], seed=5)
    if strand == "-":
        seq, segs = minus(seq, segs)
    em = coding_evidence(len(seq), strand, segs)
    assert decode(seq, em, hmm_with()) == [(strand, segs)]
    assert (strand, segs) not in decode(seq, em, hmm_with(terminal_exon_min=24))


@pytest.mark.parametrize("strand", ["+", "-"])
def test_gc_ag_introns_are_allowed_by_the_eukaryote_decoder(strand):
    seq, segs = planted(["ATG" + codons(50, 6), "GCAAGT" + "C" * 80 + "TTTCAG", codons(50, 8) + "TGA"], seed=9)
    if strand == "-":
        seq, segs = minus(seq, segs)
    em = coding_evidence(len(seq), strand, segs)
    models = GenomeModels(coding=None, splice={}, intron_mean=60.0)
    assert decode(seq, em, gene_hmm(CODE, models, EukaryoteSettings(splice_weight=0.0))) == [(strand, segs)]
    no_gc = EukaryoteSettings(splice_weight=0.0, gc_ag_logp=-np.inf)
    assert (strand, segs) not in decode(seq, em, gene_hmm(CODE, models, no_gc))


def test_start_context_reads_the_same_site_on_both_strands():
    up, down = 12, 3  # a Kozak-like context: GCC repeats, ACC before ATG, G after it
    freq = np.full((up + 3 + down, 4), 0.25)
    for k, base in enumerate("GCCGCCGCCACC" + "ATG" + "GCT"):
        freq[k] = 0.1
        freq[k]["ACGT".index(base)] = 0.7
    doc = {"background": [0.25] * 4, "start": {"upstream": up, "freq": freq.tolist()},
           "donor": {"exon_bases": 3, "intron_bases": 6, "freq": [[0.25] * 4] * 9},
           "acceptor": {"exon_bases": 1, "intron_bases": 20, "freq": [[0.25] * 4] * 21}}
    pwm = splice_site_pwms(doc)
    hmm = hmm_with(splice_pwm=doc)

    def term(seq: str, which: str, pos: int) -> float:
        return float(hmm._term(("pwm", which), _Ctx(padded_base_codes(seq.encode()), np.array([pos])))[0])

    good = "TTTTT" + "GCCGCCGCCACC" + "ATG" + "GCTAAAA"
    poor = "TTTTT" + "TTTTTTTTTTTT" + "ATG" + "TTTAAAA"
    t = 5 + up  # the A of ATG
    assert term(good, "start", t) > term(poor, "start", t) + 5
    assert np.all(pwm["start"][1][up : up + 3] == 0.0)  # the codon itself is the gate's, not the matrix's
    n = len(good)
    rc = reverse_complement(good.encode()).decode()
    # the minus-strand gate sits on the codon's middle base, forward position n-1-(t+1)
    assert abs(term(rc, "rstart", n - 1 - (t + 1)) - term(good, "start", t)) < 1e-4


def test_intron_length_fit_finds_both_classes():
    rng = np.random.default_rng(0)
    lengths = np.concatenate([rng.geometric(1 / 40, 900), 250 + rng.geometric(1 / 1500, 100)])
    short, (weight, long_mean) = fit_intron_lengths(lengths.tolist(), 100.0, (0.1, 1000.0))
    assert 20 < short < 40  # the median of the peak
    assert 0.08 < weight < 0.15 and 1200 < long_mean < 2200
    assert fit_intron_lengths([50] * 10, 77.0, (0.1, 1000.0)) == (77.0, (0.1, 1000.0))  # too few: kept
    _, (capped, _) = fit_intron_lengths((300 + rng.geometric(1 / 900, 100)).tolist() + [40] * 30, 50.0, (0.1, 1000.0))
    assert capped == 0.3  # joined genes must not make every long intron cheap


def _genes_with_introns(lengths: list[int]) -> list[list[ViterbiGene]]:
    genes, pos = [], 1
    for n in lengths:  # one two-exon gene per intron, exons of 99 bases
        genes.append(ViterbiGene("+", [(pos, pos + 98), (pos + 99 + n, pos + 197 + n)], 10.0))
        pos += 1000 + n
    return [genes]


def test_long_intron_class_is_chosen_by_the_introns_found():
    base = EukaryoteSettings(intron_long_share=0.25, gene_logp=-16.0, intron_long_gene_logp=-12.0)
    long_tail = with_long_introns(_genes_with_introns([60] * 60 + [900] * 40), base)  # 40% over 270 bases
    assert long_tail.intron_long_classes and long_tail.gene_logp == -12.0
    short = with_long_introns(_genes_with_introns([60] * 90 + [900] * 10), base)  # 10%
    assert short == base
    assert with_long_introns(_genes_with_introns([900] * 20), base) == base  # too few introns to tell


def test_shortest_intron_is_fitted_to_the_introns_found():
    base = EukaryoteSettings(intron_min=20, intron_min_quantile=0.05, intron_min_scale=0.9)
    # a plant-like peak at 70-100 bases with two false 25-base introns below it
    fitted = with_fitted_intron_min(_genes_with_introns([25] * 2 + list(range(70, 100)) * 3), base)
    assert fitted.intron_min == int(0.9 * np.quantile([25] * 2 + list(range(70, 100)) * 3, 0.05))
    assert 60 <= fitted.intron_min < 70  # below the peak, above the false ones
    # never lowered, capped, and left alone with too few introns
    assert with_fitted_intron_min(_genes_with_introns([30] * 40), fitted) == fitted
    assert with_fitted_intron_min(_genes_with_introns([900] * 40), base).intron_min == 100
    assert with_fitted_intron_min(_genes_with_introns([80] * 20), base) == base


def test_softmask_lowers_only_the_coding_columns_of_masked_bases():
    from genet5.predict.eukaryote.content import fit_coding
    from genet5.predict.eukaryote.decoder import emission_table

    seq = ("ATG" + codons(200, 11) + "TAA").encode()
    models = GenomeModels(coding=fit_coding([seq], [seq, reverse_complement(seq)], 2))
    plain = emission_table(seq, models)
    masked = emission_table(seq, models, [(30, 90)], 0.25)
    diff = plain - masked
    assert np.allclose(diff[30:90, E_PCDS : E_PCDS + 3], 0.25) and np.allclose(diff[30:90, E_MCDS : E_MCDS + 3], 0.25)
    diff[30:90, E_PCDS : E_PCDS + 3] = 0.0
    diff[30:90, E_MCDS : E_MCDS + 3] = 0.0
    assert np.allclose(diff, 0.0)  # unmasked bases and non-coding columns untouched


def _site_penalised(seq: str, em: np.ndarray, which: str, pos: int):
    sites = {k: np.zeros(len(seq), dtype=np.float32) for k in ("don", "acc", "racc", "rdon")}
    sites[which][pos] = -50.0
    hmm = hmm_with(site_terms=True)
    return [(g.strand, g.cds) for g in decode_regions(seq.encode(), [(0, len(seq))], lambda g: em[g], hmm, CODE, sites=sites)]


@pytest.mark.parametrize("strand", ["+", "-"])
def test_site_evidence_is_read_at_the_splice_gate_and_nowhere_else(strand):
    intron = "GTAAGT" + filler(90, 5).replace("TAA", "CAA") + "TTTCAG"
    seq, segs = planted(["ATG" + codons(60, 1), intron, codons(60, 2) + "TAA"], seed=3)
    if strand == "-":
        seq, segs = minus(seq, segs)
    em = coding_evidence(len(seq), strand, segs)
    planted_gene = [(strand, segs)]
    assert decode(seq, em, hmm_with()) == planted_gene
    (a1, b1), (a2, b2) = sorted(segs)
    # 0-based gate positions: the last base of the left exon (jump) and the first base of the
    # right exon (edge); on the minus strand the left exon holds the acceptor side
    opener, closer = ("don", "acc") if strand == "+" else ("racc", "rdon")
    for which, pos in ((opener, b1 - 1), (closer, a2 - 1)):
        assert _site_penalised(seq, em, which, pos) != planted_gene  # the gate reads it
        for off in (-1, 1):
            assert _site_penalised(seq, em, which, pos + off) == planted_gene  # no other position does
    other = {"don": "racc", "acc": "rdon", "racc": "don", "rdon": "acc"}
    assert _site_penalised(seq, em, other[opener], b1 - 1) == planted_gene  # nor the other strand's gate


def _at_rich_decoy_gene() -> tuple[str, list[tuple[int, int]], tuple[int, int]]:
    """A gene whose stop codon TAA is followed by a 3' flank that an intron could also explain:
    GT right before the stop (in the codon GGT), an AT-rich stretch, AG, and a two-base tail
    that completes a codon and reaches another stop. Returns the sequence, the true exon and the
    flank (0-based, half-open)."""
    cds = "ATG" + codons(60, 1) + "GGTTAA"
    flank = "AT" * 60 + "TTTCAGCTTAA" + "AT" * 20
    seq, segs = planted([cds + flank], seed=5)
    exon = segs[0]
    segs = [(exon[0], exon[0] + len(cds) - 1)]
    a = exon[0] - 1 + len(cds)
    return seq, segs, (a, a + len(flank))


def test_utr_states_keep_an_at_rich_3prime_flank_out_of_a_false_intron():
    seq, segs, (a, b) = _at_rich_decoy_gene()
    em = coding_evidence(len(seq), "+", segs)
    em[a:b, :] = 0.0
    em[a:b, E_PCDS : E_PCDS + 3] = -1.0
    em[a:b, E_PINTRON] = 0.3  # the flank reads like an intron to the intron chain ...
    # without UTR states the intron wins: the true stop is spliced out and a 5-base exon added
    assert decode(seq, em, hmm_with()) != [("+", segs)]
    em[a:b, E_PUTR3] = 0.3  # ... and as much like a 3' UTR to the UTR chain
    assert decode(seq, em, hmm_with(utr_mean=200.0)) == [("+", segs)]
    # the same on the minus strand
    s, g = minus(seq, segs)
    em_m = coding_evidence(len(s), "-", g)
    a_m, b_m = len(s) - b, len(s) - a
    em_m[a_m:b_m, :] = 0.0
    em_m[a_m:b_m, E_MCDS : E_MCDS + 3] = -1.0
    em_m[a_m:b_m, E_MINTRON] = 0.3
    em_m[a_m:b_m, E_MUTR3] = 0.3
    assert decode(s, em_m, hmm_with(utr_mean=200.0)) == [("-", g)]


def test_utr_states_without_utr_evidence_change_nothing():
    """UTR columns that copy the intergenic one: the same genes as without UTR states."""
    intron = "GTAAGT" + filler(120, 9).replace("TAA", "CAA") + "TTTCAG"
    seq, segs = planted(["ATG" + codons(50, 3), intron, codons(40, 4) + "TAG"], seed=8)
    for strand, (s, g) in (("+", (seq, segs)), ("-", minus(seq, segs))):
        em = coding_evidence(len(s), strand, g)
        assert decode(s, em, hmm_with(utr_mean=200.0)) == decode(s, em, hmm_with()) == [(strand, g)]


def test_gates_sum_the_matrices_at_candidate_sites_only_with_the_same_values():
    """GeneHMM.gates sums a splice or start matrix only where a gate holding it can be finite
    (_needed): every gate, splice and start, must equal the sum taken at every position."""
    rng = np.random.default_rng(3)

    def freq(n: int) -> list:
        f = rng.random((n, 4)) + 0.05
        return (f / f.sum(axis=1, keepdims=True)).tolist()

    doc = {"background": [0.3, 0.2, 0.2, 0.3], "start": {"upstream": 12, "freq": freq(18)},
           "donor": {"exon_bases": 3, "intron_bases": 6, "freq": freq(9)},
           "acceptor": {"exon_bases": 1, "intron_bases": 20, "freq": freq(21)}}
    hmm = hmm_with(pairs={(b"GT", b"AG"): 0.0, (b"GC", b"AG"): -4.6}, splice_pwm=doc, site_terms=True, utr_mean=200.0)
    seq = "".join(rng.choice(list("ACGTN"), p=[0.27, 0.22, 0.22, 0.27, 0.02], size=200_000))  # > one gate chunk
    padded = padded_base_codes(seq.encode())
    sites = {k: rng.normal(size=len(seq) + 128).astype(np.float32) for k in ("don", "acc", "racc", "rdon", "start", "rstart")}
    idx = np.sort(rng.choice(len(seq), size=150_000, replace=False))
    fast = hmm.gates(padded, idx, sites)
    hmm._needed = lambda x, cache: {}  # every matrix at every position, as before
    slow = hmm.gates(padded, idx, sites)
    for a, b in zip(fast, slow):
        assert np.array_equal(a, b)
        assert np.isfinite(a).any() and np.isinf(a).any()


@pytest.mark.parametrize("strand", ["+", "-"])
def test_stop_evidence_is_read_at_the_gene_end_gate_and_nowhere_else(strand):
    """A site model's stop readout ("stop" / "rstop" arrays) is read where the gene ends: just
    past a plus stop codon, on the first forward base of a minus one; a strong penalty there
    moves the gene's end, the same penalty one base off changes nothing."""
    seq, segs = planted(["ATG" + codons(60, 1) + "TAA"], seed=4)
    if strand == "-":
        seq, segs = minus(seq, segs)
    em = coding_evidence(len(seq), strand, segs)
    planted_gene = [(strand, segs)]
    hmm = hmm_with(site_terms=True)
    assert decode(seq, em, hmm) == planted_gene
    (a, b), = segs
    which, gate = ("stop", b) if strand == "+" else ("rstop", a - 1)  # 0-based gate positions

    def with_stop_penalty(pos: int):
        sites = {k: np.zeros(len(seq), dtype=np.float32) for k in ("don", "acc", "racc", "rdon", "stop", "rstop")}
        sites[which][pos] = -50.0
        return [(g.strand, g.cds) for g in decode_regions(seq.encode(), [(0, len(seq))], lambda g: em[g], hmm, CODE,
                                                           sites=sites)]

    assert with_stop_penalty(gate) != planted_gene
    for off in (-1, 1, 3):
        assert with_stop_penalty(gate + off) == planted_gene
