"""Eukaryotic gene finding that a genome teaches itself: multi-exon genes on both strands from
content chains and splice-site matrices re-estimated on the genome's own first-pass genes, as
GeneMark-ES self-trains.

One genome is decoded at once (all its sequences share the statistics):

1. round 0: a periodic coding chain from the genome's long open reading frames (long ORFs of a
   eukaryote are mostly exons), no intron or intergenic chain yet, and splice-site matrices
   counted on the training eukaryotes (predict/splice_pwm.json);
2. each round: the gene-structure HMM (predict/viterbi_hmm.py: start codon, in-frame codons,
   stop codon, GT..AG introns that keep the frame and never hide a stop, both strands, partial
   genes at sequence ends) decodes every sequence with per-base emissions
       coding chain log-ratio by codon position / intron chain / intergenic chain
   (all against one background chain of the genome); its genes then re-estimate the chains, the
   splice-site matrices (counts mixed with the training prior) and the mean intron length.

Memory: the emission table of one sequence (36 bytes per base) at a time. A 100 Mb chromosome
therefore needs about 4 GB; streaming windows are still to do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

import numpy as np

from genet5.genome.codes import GeneticCode, reverse_complement
from genet5.predict.eukaryote.content import ContentModel, background_counts, fit_coding
from genet5.predict.eukaryote.density import orf_spans, single_orf_fraction
from genet5.predict.prokaryote.coding import CodingModel, order_for
from genet5.predict.viterbi_decoder import SPLICE_PWM_FILE, ViterbiGene, build_hmm, candidate_regions, decode_regions
from genet5.predict.viterbi_hmm import E_IG, E_MCDS, E_MINTRON, E_PCDS, E_PINTRON, N_EMIT, splice_site_pwms

DONOR_EXON, DONOR_INTRON = 3, 6  # splice_pwm.json windows (transcription orientation)
ACCEPTOR_INTRON, ACCEPTOR_EXON = 20, 1


@dataclass
class EukaryoteSettings:
    rounds: int = 4  # self-training rounds after the seed pass
    seed_min_codons: int = 250  # ORFs at least this long seed the coding chain
    coding_order: int = 4
    content_order: int = 3  # intron and intergenic chains
    gene_logp: float = -10.0
    intron_logp: float = -8.0
    intron_min: int = 20
    intron_mean: float = 100.0  # round 0; re-estimated after
    splice_weight: float = 1.0  # scale of the splice-site log-odds
    splice_prior_weight: float = 50.0  # pseudo-introns of the training matrices mixed into the counts
    min_len: int = 90
    min_score: float = 0.0
    max_region: int = 50_000
    use_self_training: bool = True  # False: the seed pass alone (ablation)
    learn_introns: bool = True  # intron/intergenic chains and site matrices re-estimated (ablation)
    learn_intron_chain: bool = True
    # An intergenic chain learned from what lies between the genes found feeds back: missed genes
    # and joins make it cheaper to miss and join more. Validation gene F1 (worm, fly chr4,
    # Arabidopsis, Zymoseptoria) 0.152 with it, 0.227 without (Zymoseptoria 0.013 -> 0.305).
    learn_intergenic_chain: bool = False
    # Compact, intron-poor genomes (density.py): with the intron-rich settings the HMM joins
    # neighbouring yeast genes through false introns (gene F1 0.163 on yeast chr I/III/VI). The
    # share of the genome inside exactly one 300+ codon ORF decides: at or below compact_from the
    # settings above hold, from compact_full on the compact ones, linearly between. Validation
    # genomes sit at 0.03-0.35 (worm, Arabidopsis, fly, Zymoseptoria, all best at the settings
    # above); the compact values come from yeast, a *train* genome (0.59; no compact eukaryote is
    # among the validation genomes): gene F1 0.163 -> 0.761 there.
    adapt_to_density: bool = True
    compact_from: float = 0.40
    compact_full: float = 0.55
    compact_intron_logp: float = -20.0
    compact_gene_logp: float = -6.0


@dataclass
class GenomeModels:
    coding: CodingModel
    intron: ContentModel | None = None
    intergenic: ContentModel | None = None
    splice: dict = field(default_factory=lambda: json.loads(SPLICE_PWM_FILE.read_text()))
    intron_mean: float = 100.0
    single_orf_fraction: float | None = None  # density.py; None: not measured
    compactness: float = 0.0  # 0 intron-rich settings .. 1 compact settings


def long_orfs(seq: bytes, code: GeneticCode, min_codons: int) -> list[bytes]:
    """Open reading frames (stop to stop, both strands, no N) of at least `min_codons` codons,
    as oriented sequences in frame."""
    rc = reverse_complement(seq)
    return [(seq if strand == 1 else rc)[a:b] for strand, a, b in orf_spans(seq, code, min_codons)]


def emission_table(seq: bytes, models: GenomeModels) -> np.ndarray:
    """(L, N_EMIT) float32: per-base log-ratios against the background for each HMM emission."""
    n = len(seq)
    rc = reverse_complement(seq)
    em = np.zeros((n, N_EMIT), dtype=np.float32)
    em[:, E_PCDS : E_PCDS + 3] = models.coding.track(seq)
    em[:, E_MCDS : E_MCDS + 3] = models.coding.track(rc)[::-1]
    if models.intron is not None:
        em[:, E_PINTRON] = models.intron.track(seq)
        em[:, E_MINTRON] = models.intron.track(rc)[::-1]
    if models.intergenic is not None:
        em[:, E_IG] = 0.5 * (models.intergenic.track(seq) + models.intergenic.track(rc)[::-1])
    return em


def regions_of(em: np.ndarray, max_region: int) -> list[tuple[int, int]]:
    """The whole sequence, cut into pieces of at most ~max_region bases where no frame on either
    strand looks coding (401-base mean of the best frame's coding log-ratio below 0)."""
    n = em.shape[0]
    if n <= max_region:
        return [(0, n)]
    w = 401
    best = np.full(n, -np.inf, dtype=np.float32)
    pos = np.arange(n)
    for col in (E_PCDS, E_MCDS):
        for f in range(3):
            v = em[pos, col + (pos - f) % 3] - em[:, E_IG]
            c = np.concatenate([[0.0], np.cumsum(v, dtype=np.float64)])
            lo, hi = np.clip(pos - w // 2, 0, n), np.clip(pos + w // 2 + 1, 0, n)
            best = np.maximum(best, ((c[hi] - c[lo]) / (hi - lo)).astype(np.float32))
    # candidate_regions cuts where exp(em_ig) is highest: pass log P(intergenic) ~ -softplus(best)
    em_ig = -np.logaddexp(0.0, 20.0 * best)
    return candidate_regions(em_ig.astype(np.float32), 0.0, 0, max_region)


def decode(records: list[tuple[str, bytes]], code: GeneticCode, models: GenomeModels, settings: EukaryoteSettings,
           starts=None, on_record=None) -> list[list[ViterbiGene]]:
    hmm = build_hmm(code, starts=starts, gene_logp=settings.gene_logp, intron_logp=settings.intron_logp,
                    intron_min=settings.intron_min, intron_mean=models.intron_mean, splice_pwm_weight=1.0)
    hmm.pwm = splice_site_pwms(models.splice, settings.splice_weight)  # the genome's own, in the gates built above
    out = []
    for seqid, seq in records:
        if len(seq) < settings.min_len:
            out.append([])
        else:
            em = emission_table(seq, models)
            out.append(decode_regions(seq, regions_of(em, settings.max_region), lambda g, em=em: em[g], hmm, code,
                                      min_len=settings.min_len, min_score=settings.min_score))
        if on_record:
            on_record(seqid)
    return out


def find_genes(records: list[tuple[str, bytes]], code: GeneticCode, settings: EukaryoteSettings | None = None,
               starts=None, on_round=None, on_record=None, initial: GenomeModels | None = None,
               ) -> tuple[list[list[ViterbiGene]], GenomeModels]:
    """Genes of every record (genome-wide self-training), and the models of the last round.
    `on_round(round, genes)` is called after each decoding pass (benchmarks), `on_record(seqid)`
    after each record of each pass (progress); `initial` replaces the seed models."""
    settings = settings or EukaryoteSettings()
    density, compactness = None, 0.0
    if settings.adapt_to_density:
        settings, density, compactness = for_gene_density(records, code, settings)
    both = [s for _, s in records] + [reverse_complement(s) for _, s in records]
    seeds = [o for _, s in records for o in long_orfs(s, code, settings.seed_min_codons)]
    if not seeds:
        seeds = [o for _, s in records for o in long_orfs(s, code, 100)]
    models = initial or GenomeModels(coding=fit_coding(seeds, both, min(settings.coding_order, order_for(sum(map(len, seeds))))),
                                     intron_mean=settings.intron_mean)
    counts = np.array([sum(s.count(b) for s in both) for b in (b"A", b"C", b"G", b"T")], dtype=np.float64)
    models.splice["background"] = (counts / counts.sum()).tolist()
    bg = background_counts(both, settings.content_order)
    genes = decode(records, code, models, settings, starts, on_record)
    if on_round:
        on_round(0, genes)
    for r in range(1, settings.rounds + 1 if settings.use_self_training else 1):
        models = refit(records, genes, models, bg, both, settings)
        genes = decode(records, code, models, settings, starts, on_record)
        if on_round:
            on_round(r, genes)
    models.single_orf_fraction, models.compactness = density, compactness
    return genes, models


def for_gene_density(records, code: GeneticCode, settings: EukaryoteSettings) -> tuple[EukaryoteSettings, float, float]:
    """(settings moved toward the compact ones as far as the genome is compact, single-ORF
    fraction, compactness 0..1)."""
    density = single_orf_fraction(records, code)
    span = max(settings.compact_full - settings.compact_from, 1e-9)
    t = float(np.clip((density - settings.compact_from) / span, 0.0, 1.0))
    if t > 0:
        settings = replace(settings,
                           intron_logp=(1 - t) * settings.intron_logp + t * settings.compact_intron_logp,
                           gene_logp=(1 - t) * settings.gene_logp + t * settings.compact_gene_logp)  # fmt: skip
    return settings, density, t


def refit(records, genes, models: GenomeModels, bg: np.ndarray, both: list[bytes], settings: EukaryoteSettings) -> GenomeModels:
    """Models re-estimated from the genes of the last pass (complete genes only for coding and
    sites; the rest of the sequence, outside any gene, for the intergenic chain)."""
    cds, introns, intergenic = [], [], []
    donors, acceptors, intron_lengths = [], [], []
    for (_, seq), found in zip(records, genes):
        last = 0
        for g in sorted(found, key=lambda g: g.start):
            if g.start - 1 > last:
                intergenic.append(seq[last : g.start - 1])
            last = max(last, g.end)
            if g.start_partial or g.end_partial:
                continue
            segs = sorted(g.cds)
            spliced = b"".join(seq[a - 1 : b] for a, b in segs)
            cds.append(spliced if g.strand == "+" else reverse_complement(spliced))
            for (a1, b1), (a2, b2) in zip(segs, segs[1:]):
                intron = seq[b1 : a2 - 1]  # forward, 0-based [b1, a2-1)
                don = seq[b1 - DONOR_EXON : b1 + DONOR_INTRON]
                acc = seq[a2 - 1 - ACCEPTOR_INTRON : a2 - 1 + ACCEPTOR_EXON]
                if g.strand == "-":
                    intron = reverse_complement(intron)
                    don = reverse_complement(seq[a2 - 1 - DONOR_INTRON : a2 - 1 + DONOR_EXON])
                    acc = reverse_complement(seq[b1 - ACCEPTOR_EXON : b1 + ACCEPTOR_INTRON])
                introns.append(intron)
                intron_lengths.append(len(intron))
                if len(don) == DONOR_EXON + DONOR_INTRON:
                    donors.append(don)
                if len(acc) == ACCEPTOR_INTRON + ACCEPTOR_EXON:
                    acceptors.append(acc)
        if last < len(seq):
            intergenic.append(seq[last:])
    if len(cds) < 20:
        return models  # too little to learn from: keep the last models
    coding = fit_coding(cds, both, min(settings.coding_order, order_for(sum(map(len, cds)))))
    if not settings.learn_introns:
        return GenomeModels(coding=coding, splice=models.splice, intron_mean=models.intron_mean)
    k = settings.content_order
    intron_model = None
    if settings.learn_intron_chain and sum(map(len, introns)) > 50 * 4 ** (k + 1):
        intron_model = ContentModel.fit(introns, bg, k)
    ig_model = None
    if settings.learn_intergenic_chain:
        ig_model = ContentModel.fit(intergenic + [reverse_complement(s) for s in intergenic], bg, k)
    splice = _splice_counts(models.splice, donors, acceptors, settings.splice_prior_weight)
    # the median, not the mean: a few false long introns (two genes joined) must not make all
    # long introns cheap in the next round, and the short-intron peak of most genomes sets it
    mean = float(np.median(intron_lengths)) - settings.intron_min if intron_lengths else models.intron_mean
    return GenomeModels(coding, intron_model, ig_model, splice, float(np.clip(mean, 30.0, 5000.0)))


def _splice_counts(prior: dict, donors: list[bytes], acceptors: list[bytes], weight: float) -> dict:
    lut = {ord("A"): 0, ord("C"): 1, ord("G"): 2, ord("T"): 3}

    def freq(sites: list[bytes], prior_freq) -> list[list[float]]:
        p = np.asarray(prior_freq, dtype=np.float64) * weight
        c = np.zeros_like(p)
        for s in sites:
            for i, ch in enumerate(s):
                j = lut.get(ch)
                if j is not None:
                    c[i, j] += 1
        f = c + p
        return (f / f.sum(axis=1, keepdims=True)).tolist()

    out = dict(prior)
    out["donor"] = dict(prior["donor"], freq=freq(donors, prior["donor"]["freq"]))
    out["acceptor"] = dict(prior["acceptor"], freq=freq(acceptors, prior["acceptor"]["freq"]))
    out["introns"] = len(donors)
    return out


def annotated_genes(ann, records: list[tuple[str, bytes]]) -> list[list[ViterbiGene]]:
    """Per record, one ViterbiGene per annotated coding gene (its longest complete coding
    transcript), the form refit() learns from: how a reference annotation becomes a model."""
    out = []
    for seqid, seq in records:
        genes = []
        for g in ann.genes.get(seqid, []):
            tx = [t for t in g.coding_transcripts if not (t.start_partial or t.end_partial or t.pseudo)]
            if g.pseudo or not tx:
                continue
            t = max(tx, key=lambda t: t.cds_length)
            segs = [(s.start, s.end) for s in t.cds]
            if max(b for _, b in segs) > len(seq):
                continue
            genes.append(ViterbiGene(t.strand, segs, 0.0))
        out.append(genes)
    return out
