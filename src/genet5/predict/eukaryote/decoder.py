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
       coding chain log-ratio by codon position / intron chain / intergenic chain / 5' and 3'
       UTR chains (the untranslated flanks of genes, states of their own)
   (all against one background chain of the genome); its genes then re-estimate the chains, the
   splice-site matrices (counts mixed with the training prior), a start-codon context matrix
   (12 bases before ATG, 3 after) and the intron length. GT-AG and GC-AG introns;
3. the trained site classifier (models/sites.py) scores every donor, acceptor and start at
   each splice and start edge; after round 1 a copy of it is fine-tuned on the genome's own
   genes (site_examples.py) and the sites rescored, so its evidence adapts to the genome too.

Measured and left off by default (bench/eukaryote/vs_augustus.py, docs/benchmarks.md): a second,
long intron-length class (better exon F1, more joined genes), a minimum terminal exon, and the
soft-mask hint (`--softmask`).

Large genomes (over 2 x EukaryoteSettings.train_bases, 3 Mb) self-train on evenly spread pieces
of about train_bases when the seed pass finds enough genes in them: every round but the last
decodes the pieces, the last decodes every base (training_pieces).

Speed: each pass's Viterbi batches are decoded in worker processes (settings.workers, one per
CPU up to four; viterbi_decoder.decode_jobs), with the same genes as one process.

Memory: sequences longer than STREAM_BLOCK are decoded block by block (blocks end where no frame
looks coding, so no gene is cut): the emission table (52 bytes per base) and the site arrays of
one block at a time; per whole sequence only its bases (1 byte per base as codes) and the site
classifier's candidates (a few bytes per base) are kept.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field, replace

import numpy as np

from genet5.genome.codes import GeneticCode, reverse_complement
from genet5.predict.eukaryote.content import ContentModel, background_counts, fit_coding
from genet5.predict.eukaryote.density import orf_spans, single_orf_fraction
from genet5.predict.prokaryote.coding import CodingModel, ContextCache, order_for
from genet5.predict.viterbi_decoder import (
    SPLICE_PWM_FILE, RegionJob, ViterbiGene, candidate_regions, decode_jobs, start_set, worker_count,
)
from genet5.predict.viterbi_hmm import (
    E_IG, E_MCDS, E_MINTRON, E_MUTR3, E_MUTR5, E_PCDS, E_PINTRON, E_PUTR3, E_PUTR5, N_EMIT, GeneHMM, padded_base_codes,
)

DONOR_EXON, DONOR_INTRON = 3, 6  # splice_pwm.json windows (transcription orientation)
ACCEPTOR_INTRON, ACCEPTOR_EXON = 20, 1
START_UP, START_DOWN = 12, 3  # start-codon context: bases before the codon, bases after it


# `--softmask`: the per-base cost of a coding state on a lower-case base. Off by default: on the
# two soft-masked validation genomes (dev harness, 2026-12-04) 0.1 gave fly chr4 gene F1 0.109 ->
# 0.114 but exon F1 0.468 -> 0.416, Zymoseptoria 0.348 -> 0.349; 0.5 lost on both (fly 0.033).
SOFTMASK_PENALTY = 0.1


@dataclass
class EukaryoteSettings:
    rounds: int = 4  # self-training rounds after the seed pass
    seed_min_codons: int = 250  # ORFs at least this long seed the coding chain
    coding_order: int = 4
    content_order: int = 3  # intron and intergenic chains
    # log-prior of a gene: -10 without UTR states; with them each gene also collects its flanks'
    # UTR log-ratio, so the prior is dearer (validation mean gene F1, utr_mean 200: -13 0.333,
    # -16 0.345, -19 0.334)
    gene_logp: float = -16.0
    intron_logp: float = -8.0
    intron_min: int = 20
    intron_mean: float = 100.0  # round 0; re-estimated after
    # intron length: a short and a long geometric class (viterbi_hmm.GeneHMM); round 0 starts
    # from this long class, later rounds fit both to the introns found (fit_intron_lengths)
    intron_long_classes: bool = False
    intron_long_weight: float = 0.1
    intron_long_mean: float = 1000.0
    fit_intron_long: bool = True  # False: the long class stays as set above
    intron_long_max_weight: float = 0.3
    intron_split: float = 250.0  # introns longer than intron_min + this count as the long class
    # The long class where the genome has long introns: when at least this share of the introns
    # found by pass intron_long_round is longer than intron_min + intron_split, the later rounds
    # decode with the long class and the gene prior intron_long_gene_logp (a cheap long intron
    # makes joining two genes cheap: the dearer -16 prior joins more); 0: never. Compact
    # genomes (density adaptation) keep theirs. Share after pass 1 (dev harness, 2026-12-04):
    # worm 0.50, fly chr4 0.42, Arabidopsis 0.12, Zymoseptoria 0.04. Worm gene F1 over three
    # site fine-tune samples 0.347 / 0.335 / 0.349 (without 0.302 / 0.326 / 0.319), fly
    # 0.192 / 0.182 / 0.181 (0.180 / 0.171 / 0.180); forced on at -12 everywhere: Zymoseptoria
    # 0.353, Arabidopsis 0.524 (joins through false long introns); at -14 / -16: worm
    # 0.316 / 0.269, Arabidopsis 0.457 / 0.494; prior -10 instead of -12: worm 0.351, fly 0.184.
    intron_long_share: float = 0.25
    intron_long_round: int = 1
    intron_long_gene_logp: float = -12.0
    # The shortest intron, fitted per genome: from the pass after intron_long_round on,
    # intron_min rises to intron_min_scale times this quantile of the introns found (never
    # falls; 0: off), and the intron length model starts there: a genome whose introns start
    # at 40-70 bp gets no 20-35 bp false ones and a short-intron class as narrow as its peak.
    # Fitted floor after pass 1 (dev harness, 2026-12-04): worm 39, fly chr4 47, Arabidopsis
    # 63, Zymoseptoria 42. Validation gene F1 over three site fine-tune samples (mean of the
    # four; worm / fly / Arabidopsis / Zymoseptoria): off 0.372 (0.343 / 0.213 / 0.550 / 0.382),
    # 0.05 x 0.9 0.390 (0.325 / 0.255 / 0.580 / 0.399), 0.05 x 0.8 0.387; the floor alone with
    # the length model still starting at 20: 0.377 (worm 0.324), so most of the gain is the
    # narrower length model, and worm loses either way.
    intron_min_quantile: float = 0.05
    intron_min_scale: float = 0.9
    terminal_exon_min: int = 0  # shortest terminal exon (stop codon included) after an intron; 0: none
    gc_ag_logp: float = -4.6  # GC-AG introns (~1% of real ones) allowed at this log-prior
    # Soft-masked (lower-case) repeats as a hint: each masked base costs a coding state this much
    # (log units), as AUGUSTUS's --softmasking makes exons in repeats unlikely; 0 ignores the mask.
    softmask_penalty: float = 0.0
    splice_weight: float = 1.0  # scale of the splice-site log-odds
    # the trained splice-site classifier (models/sites.py, bundled "gene-sites"): its
    # log-likelihood ratio, times this, is added at every splice edge; 0: not used
    site_model_weight: float = 1.0
    site_start_weight: float = 1.0  # the classifier's start evidence, relative to its splice evidence
    # Per-genome adaptation of the classifier: after this self-training round, a copy is
    # fine-tuned on the genome's own genes (site_examples.adapted_site_model) and the sites
    # rescored; 0: the bundled classifier throughout. Chosen on the validation genomes (dev
    # harness, 2026-12-04, mean gene / exon F1 of worm, fly chr4, Arabidopsis, Zymoseptoria):
    # none 0.315 / 0.630; round 1, lr 5e-4, 2 epochs 0.314 / 0.638; round 1, 2e-3, 3 epochs
    # 0.327 / 0.640; round 1, 4e-3, 4 epochs 0.316 / 0.641; round 2, 2e-3, 3 epochs 0.318 / 0.641.
    site_adapt_round: int = 1
    site_adapt_epochs: int = 3
    site_adapt_lr: float = 2e-3
    splice_prior_weight: float = 50.0  # pseudo-introns of the training matrices mixed into the counts
    # A start-codon context matrix (12 bases before the codon, 3 after) learned from each
    # round's genes, beside the site classifier's start evidence. Validation gene F1 without it
    # (bench 2026-12-04, with the score floor): mean 0.361 against 0.380 (worm -0.025, fly -0.019,
    # Arabidopsis -0.009, Zymoseptoria -0.023). Before the floor it was flat on the mean (0.365
    # without, 0.362 with); redesigns measured then (dev harness): 100 background pseudo-starts
    # instead of 20 0.360, dropped with the classifier's start evidence doubled 0.349.
    learn_start_context: bool = True
    start_prior_weight: float = 20.0  # pseudo-starts of background composition mixed into its counts
    min_len: int = 90
    # Genes whose evidence (the sum over their bases of the path's log-ratio to intergenic) is at
    # most this are dropped, in every self-training pass, so weak false genes neither reach the
    # output nor teach the next round. Validation mean gene F1 (dev harness, 2026-12-04, with the
    # long intron rule): 0 0.362, 5 0.369, 10 0.380, 15 0.369, 20 0.364; at 10 over two more site
    # fine-tune samples 0.368 / 0.368 (0: 0.358 / 0.360). Compact genomes move to
    # compact_min_score (yeast, a train genome, lost sensitivity at 10: 0.780 -> 0.705).
    min_score: float = 10.0
    max_region: int = 50_000
    # Genomes over 2 x train_bases self-train on pieces of it: the seed pass and the rounds
    # before the last decode train_piece-base pieces spread evenly over the genome, about
    # train_bases in all, and only the last round decodes (and the adapted site classifier
    # scores) every base; 0: every round decodes the whole genome. Unless the seed pass finds
    # train_min_genes complete genes in the pieces: then the whole genome trains (gene-poor
    # genomes). Dev harness, 2026-12-04: Zymoseptoria chr_10+11 (3.3 Mb; 447 genes in 1.6 Mb of
    # pieces) gene / exon F1 0.376 / 0.514 whole, 0.377 / 0.518 on 1.5 Mb, 0.362 / 0.503 on
    # 1 Mb, 0.359 / 0.496 on 0.4 Mb; on 0.4 Mb of the 1 Mb genomes worm 0.333 -> 0.285, Arabidopsis
    # 0.492 -> 0.425 (about 100 genes each: under train_min_genes, so they train whole). With
    # the UTR states' dearer gene prior the Zymoseptoria seed pass finds 357 genes in its pieces
    # (was 447); on the pieces 0.379 / 0.516, whole 0.380 / 0.515 at 1.4x the CPU: floor 300.
    train_bases: int = 1_500_000
    train_piece: int = 200_000
    train_min_genes: int = 300
    # processes decoding a round's Viterbi batches (viterbi_decoder.decode_jobs); 0: the CPUs
    # that other jobs leave idle when find_genes starts, at most viterbi_decoder.MAX_WORKERS
    # (viterbi_decoder.worker_count). The genes do not depend on it.
    workers: int = 0
    use_self_training: bool = True  # False: the seed pass alone (ablation)
    learn_introns: bool = True  # intron/intergenic chains and site matrices re-estimated (ablation)
    learn_intron_chain: bool = True
    # An intergenic chain learned from what lies between the genes found feeds back: missed genes
    # and joins make it cheaper to miss and join more. Validation gene F1 (worm, fly chr4,
    # Arabidopsis, Zymoseptoria) 0.152 with it, 0.227 without (Zymoseptoria 0.013 -> 0.305).
    learn_intergenic_chain: bool = False
    # Untranslated flanks as states of their own (viterbi_hmm, utr_mean): chains of the 5' and
    # 3' flanks (utr_flank bases beyond each gene found, oriented with it) give them their
    # statistics; 0: none (flanks are intergenic). Without them an AT-rich 3' UTR reads better
    # as an intron plus a tiny terminal exon than as intergenic sequence (Arabidopsis: 16 genes
    # with the true stop spliced out). Validation mean gene F1 (exon F1), gene_logp -16, dev
    # harness 2026-12-04: utr_mean 100 0.333 (0.653), 200 0.345 (0.659), 400 0.350 (0.658),
    # 800 0.348 (0.657); utr_flank 400 (mean 200) 0.334 (0.650); none 0.327 (0.640) at
    # gene_logp -10. Another seed of the site fine-tune: 400 0.355, none 0.316.
    utr_mean: float = 400.0
    utr_flank: int = 200
    # Compact, intron-poor genomes (density.py): with the intron-rich settings the HMM joins
    # neighbouring yeast genes through false introns (gene F1 0.163 on yeast chr I/III/VI). The
    # share of the genome inside exactly one 300+ codon ORF decides: at or below compact_from the
    # settings above hold, from compact_full on the compact ones, linearly between. Validation
    # genomes sit at 0.03-0.35 (worm, Arabidopsis, fly, Zymoseptoria, all best at the settings
    # above); the compact values come from yeast, a *train* genome (0.59; no compact eukaryote is
    # among the validation genomes): gene F1 0.163 -> 0.761 there (0.200 -> 0.751 with the start context).
    adapt_to_density: bool = True
    compact_from: float = 0.40
    compact_full: float = 0.55
    compact_intron_logp: float = -20.0
    compact_gene_logp: float = -6.0
    compact_min_score: float = 0.0


@dataclass
class GenomeModels:
    coding: CodingModel
    intron: ContentModel | None = None
    intergenic: ContentModel | None = None
    splice: dict = field(default_factory=lambda: json.loads(SPLICE_PWM_FILE.read_text()))
    intron_mean: float = 100.0
    intron_long: tuple[float, float] | None = None  # (weight, mean) of the long class; None: the settings' start values
    utr5: ContentModel | None = None  # chains of genes' untranslated flanks, oriented with the gene
    utr3: ContentModel | None = None
    single_orf_fraction: float | None = None  # density.py; None: not measured
    compactness: float = 0.0  # 0 intron-rich settings .. 1 compact settings


def long_orfs(seq: bytes, code: GeneticCode, min_codons: int) -> list[bytes]:
    """Open reading frames (stop to stop, both strands, no N) of at least `min_codons` codons,
    as oriented sequences in frame."""
    rc = reverse_complement(seq)
    return [(seq if strand == 1 else rc)[a:b] for strand, a, b in orf_spans(seq, code, min_codons)]


def emission_table(seq: bytes, models: GenomeModels, mask: list[tuple[int, int]] = (), mask_penalty: float = 0.0,
                   lo: int = 0, hi: int | None = None) -> np.ndarray:
    """(hi - lo, N_EMIT) float32: per-base log-ratios against the background for each HMM
    emission, bases lo .. hi - 1 (default all); coding columns lowered by `mask_penalty` on the
    soft-masked runs `mask` (0-based [a, b)). The chains read only a few bases around each base,
    so a block computed with _CHAIN_CONTEXT bases on each side equals that slice of the whole."""
    hi = len(seq) if hi is None else hi
    a, b = max(0, lo - _CHAIN_CONTEXT), min(len(seq), hi + _CHAIN_CONTEXT)
    if (a, b) != (0, len(seq)):
        shifted = [(max(x, a) - a, min(y, b) - a) for x, y in mask if y > a and x < b]
        return emission_table(seq[a:b], models, shifted, mask_penalty)[lo - a : hi - a]
    n = len(seq)
    rc = reverse_complement(seq)
    cache = ContextCache()  # the intron and UTR chains read the same contexts of each strand
    em = np.zeros((n, N_EMIT), dtype=np.float32)
    em[:, E_PCDS : E_PCDS + 3] = models.coding.track(seq, cache)
    em[:, E_MCDS : E_MCDS + 3] = models.coding.track(rc, cache)[::-1]
    if models.intron is not None:
        em[:, E_PINTRON] = models.intron.track(seq, cache)
        em[:, E_MINTRON] = models.intron.track(rc, cache)[::-1]
    if models.intergenic is not None:
        em[:, E_IG] = 0.5 * (models.intergenic.track(seq, cache) + models.intergenic.track(rc, cache)[::-1])
    em[:, E_PUTR5:] = em[:, E_IG : E_IG + 1]
    for model, plus, minus in ((models.utr5, E_PUTR5, E_MUTR5), (models.utr3, E_PUTR3, E_MUTR3)):
        if model is not None:
            em[:, plus] = model.track(seq, cache)
            em[:, minus] = model.track(rc, cache)[::-1]
    if mask_penalty:
        for a, b in mask:
            em[a:b, E_PCDS : E_PCDS + 3] -= mask_penalty
            em[a:b, E_MCDS : E_MCDS + 3] -= mask_penalty
    return em


_CHAIN_CONTEXT = 32  # bases on each side of a block: more than any chain's order
# Sequences longer than this are decoded in blocks of about this size (emissions, site arrays
# and gates of one block at a time): memory stays bounded on a 100 Mb chromosome.
STREAM_BLOCK = 2_000_000
# Regions of up to this many bases (several records, or blocks) are decoded as one Viterbi batch:
# a batch costs (its longest region, <= max_region) numpy steps, so pooling a genome's short
# records saves steps; memory ~0.5 kB per base of the batch. A pool is split into at least one
# batch per worker process: 2 Mb pools two 1.65 Mb Zymoseptoria chromosomes into one batch per
# worker (one batch each a round, where 1 Mb pools made two).
POOL_BASES = 2_000_000


def regions_of(em: np.ndarray, max_region: int) -> list[tuple[int, int]]:
    """The whole sequence, cut into pieces of at most ~max_region bases where no frame on either
    strand looks coding (401-base mean of the best frame's coding log-ratio below 0)."""
    n = em.shape[0]
    if n <= max_region:
        return [(0, n)]
    w = 401
    best = np.full(n, -np.inf, dtype=np.float32)
    pos = np.arange(n)
    lo, hi = np.clip(pos - w // 2, 0, n), np.clip(pos + w // 2 + 1, 0, n)
    span = (hi - lo).astype(np.float64)
    v = np.empty(n, dtype=np.float32)
    c = np.zeros(n + 1)
    for col in (E_PCDS, E_MCDS):
        for f in range(3):
            for r in range(3):  # bases r, r + 3, ...: frame f reads codon position (r - f) % 3 there
                np.subtract(em[r::3, col + (r - f) % 3], em[r::3, E_IG], out=v[r::3])
            np.cumsum(v, dtype=np.float64, out=c[1:])
            np.maximum(best, ((c[hi] - c[lo]) / span).astype(np.float32), out=best)
    # candidate_regions cuts where exp(em_ig) is highest: pass log P(intergenic) ~ -softplus(best)
    em_ig = -np.logaddexp(0.0, 20.0 * best)
    return candidate_regions(em_ig.astype(np.float32), 0.0, 0, max_region)


def decode(records: list[tuple[str, bytes]], code: GeneticCode, models: GenomeModels, settings: EukaryoteSettings,
           starts=None, on_record=None, masks=None, sites=None) -> list[list[ViterbiGene]]:
    """Genes of each record under `models`; `sites`, per record, the site classifier's
    per-position arrays (predict/eukaryote/sites.py) when settings.site_model_weight is set.
    Records (and blocks of long ones) are pooled up to POOL_BASES and decoded together
    (viterbi_decoder.decode_jobs: regions of several sequences share numpy steps)."""
    hmm = gene_hmm(code, models, settings, starts)
    workers = worker_count(settings.workers)
    out: list[list[ViterbiGene]] = [[] for _ in records]
    pool: list[tuple[int, RegionJob]] = []

    def flush() -> None:
        found = decode_jobs([job for _, job in pool], hmm, code, min_len=settings.min_len, min_score=settings.min_score,
                            batch_bases=POOL_BASES, workers=workers)
        for (k, _), genes in zip(pool, found):
            out[k] += genes
        pool.clear()

    for k, (seqid, seq) in enumerate(records):
        if len(seq) >= settings.min_len:
            for job in _record_jobs(seq, models, settings, masks[k] if masks else (), sites[k] if sites else None):
                pool.append((k, job))
                if sum(b - a for _, j in pool for a, b in j.regions) >= POOL_BASES:
                    flush()
        if on_record:
            on_record(seqid, len(seq))
    flush()
    return [sorted(genes, key=lambda g: (g.start, g.end, g.strand)) for genes in out]


def stream_blocks(n: int, block: int, regions_in) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """Cut a sequence of n bases into blocks of about `block` bases at the cuts regions_of makes
    (where no frame looks coding), so that no block edge falls inside a gene: each block's last
    region is left to the next block unless the sequence ends there. `regions_in(lo, hi)` gives
    the regions of bases lo .. hi - 1 in block coordinates. Returns (lo, hi, regions) with the
    regions in sequence coordinates."""
    out, lo = [], 0
    while lo < n:
        hi = n if n - lo <= block + block // 2 else lo + block
        regions = sorted(regions_in(lo, hi))
        if hi < n and len(regions) > 1:
            regions = regions[:-1]  # its end is the block's edge, not a cut: decoded with the next block
        end = regions[-1][1] if regions else hi - lo
        out.append((lo, lo + end, [(a + lo, b + lo) for a, b in regions]))
        lo += end
    return out


def _record_jobs(seq: bytes, models: GenomeModels, settings: EukaryoteSettings, mask, sites):
    """The regions of one sequence to decode, block by block when it is longer than STREAM_BLOCK
    (a generator: a block's site arrays are made when the pool takes it)."""
    padded = padded_base_codes(seq)
    penalty = settings.softmask_penalty
    ems: dict[int, np.ndarray] = {}

    def regions_in(lo: int, hi: int) -> list[tuple[int, int]]:
        ems[lo] = emission_table(seq, models, mask, penalty, lo, hi)
        return regions_of(ems[lo], settings.max_region)

    for lo, hi, regions in stream_blocks(len(seq), STREAM_BLOCK, regions_in):
        em = ems.pop(lo)
        yield RegionJob(seq, regions, lambda g, em=em, lo=lo: em[g - lo],
                        sites.dense(lo, hi) if sites is not None else None, lo, padded)


def gene_hmm(code: GeneticCode, models: GenomeModels, settings: EukaryoteSettings, starts=None) -> GeneHMM:
    """The gene-structure HMM with the genome's own splice-site matrices and intron lengths."""
    pairs = {(b"GT", b"AG"): 0.0}
    if settings.gc_ag_logp > -np.inf:
        pairs[(b"GC", b"AG")] = settings.gc_ag_logp
    return GeneHMM(code, start_set(code, starts), pairs, gene_logp=settings.gene_logp, intron_logp=settings.intron_logp,
                   intron_min=settings.intron_min, intron_mean=models.intron_mean, splice_pwm=models.splice,
                   splice_pwm_weight=settings.splice_weight,
                   intron_long=(models.intron_long or (settings.intron_long_weight, settings.intron_long_mean))
                   if settings.intron_long_classes else None,
                   terminal_exon_min=settings.terminal_exon_min,
                   utr_mean=settings.utr_mean or None, site_terms=settings.site_model_weight > 0)


def fit_intron_lengths(lengths: list[int], short_mean: float, long: tuple[float, float], split: float = 250.0,
                       max_weight: float = 0.3) -> tuple[float, tuple[float, float]]:
    """(short mean, (long weight, long mean)) from the intron lengths beyond intron_min: the
    short class from the median of those up to `split` (the short-intron peak is not geometric,
    and a median keeps it where the peak is), the long class from the share and mean of the
    rest. The long weight is held within 2%..max_weight: joined genes (very long false introns)
    must not make every long intron cheap in the next round."""
    x = np.asarray(lengths, dtype=np.float64)
    if x.size < 30:
        return short_mean, long
    short, rest = x[x <= split], x[x > split]
    ms = float(np.clip(np.median(short), 10.0, 500.0)) if short.size >= 10 else short_mean
    if rest.size < 5:
        return ms, long
    w = float(np.clip(rest.size / x.size, 0.02, max_weight))
    return ms, (w, float(np.clip(rest.mean(), 4.0 * ms, 20000.0)))


def find_genes(records: list[tuple[str, bytes]], code: GeneticCode, settings: EukaryoteSettings | None = None,
               starts=None, on_round=None, on_record=None, initial: GenomeModels | None = None,
               masks: list[list[tuple[int, int]]] | None = None, site_model=None) -> tuple[list[list[ViterbiGene]], GenomeModels]:
    """Genes of every record (genome-wide self-training), and the models of the last round.
    `on_round(round, genes)` is called after each decoding pass (benchmarks; genes of the
    training pieces, not of the records, in passes on pieces: settings.train_bases),
    `on_record(seqid, bases)` after each record (or piece) of each pass (progress; planned_bases
    gives the total); `initial` replaces the seed models; `masks`, per record, its soft-masked
    runs (used with settings.softmask_penalty); `site_model`, the splice-site classifier to use
    when settings.site_model_weight is set (default: the bundled one)."""
    settings = settings or EukaryoteSettings()
    settings = replace(settings, workers=worker_count(settings.workers))  # chosen once, by the load at the start
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
    rounds = settings.rounds if settings.use_self_training else 0
    pieces = training_pieces(records, settings) if rounds else None
    # what the passes before the last decode: the records, or pieces of them
    train = records if pieces is None else [(seqid, records[k][1][a:b]) for seqid, k, a, b in pieces]
    train_masks = masks if pieces is None or not masks else [_cut_mask(masks[k], a, b) for _, k, a, b in pieces]
    sites = None
    if settings.site_model_weight > 0:  # the classifier's evidence changes only where it is adapted
        from genet5.predict.eukaryote.sites import load_site_model

        site_model = site_model or load_site_model()
        sites = _site_arrays(site_model, train, settings)
    genes = decode(train, code, models, settings, starts, on_record, train_masks, sites)
    if pieces is not None and sum(not (g.start_partial or g.end_partial) for found in genes for g in found) < settings.train_min_genes:
        # too few genes in the pieces to learn from (a gene-poor genome): train on all of it
        pieces, train, train_masks = None, records, masks
        sites = _site_arrays(site_model, records, settings) if sites is not None else None
        genes = decode(train, code, models, settings, starts, on_record, train_masks, sites)
    if on_round:
        on_round(0, genes)
    whole_sites = None  # pieces: the adapted classifier's arrays of the whole records, for the last pass
    for r in range(1, rounds + 1):
        if (r - 1 == settings.intron_long_round and settings.intron_long_share > 0 and not settings.intron_long_classes
                and compactness == 0):  # compact genomes keep their own gene prior
            settings = with_long_introns(genes, settings)
        if r - 1 >= settings.intron_long_round and settings.intron_min_quantile > 0:
            settings = with_fitted_intron_min(genes, settings)
        models = refit(train, genes, models, bg, both, settings)
        if r == rounds and pieces is not None:  # the last pass: the whole genome, once
            if sites is not None:
                sites = whole_sites if whole_sites is not None else _site_arrays(site_model, records, settings)
            genes = decode(records, code, models, settings, starts, on_record, masks, sites)
        else:
            genes = decode(train, code, models, settings, starts, on_record, train_masks, sites)
        if on_round:
            on_round(r, genes)
        if sites is not None and r == settings.site_adapt_round and r < rounds:
            tuned = _adapted_model(site_model, train, genes, settings)
            if tuned is not None:
                site_model = tuned
                if pieces is None:
                    sites = _site_arrays(tuned, records, settings)
                else:  # every record scored once; the pieces read their part of it
                    whole_sites = _site_arrays(tuned, records, settings)
                    sites = [whole_sites[k].cut(a, b) for _, k, a, b in pieces]
    models.single_orf_fraction, models.compactness = density, compactness
    return genes, models


def _intron_lengths(genes: list[list[ViterbiGene]]) -> list[int]:
    lengths = []
    for found in genes:
        for g in found:
            cds = sorted(g.cds)
            lengths += [b - a - 1 for (_, a), (b, _) in zip(cds, cds[1:])]
    return lengths


def with_fitted_intron_min(genes: list[list[ViterbiGene]], settings: EukaryoteSettings) -> EukaryoteSettings:
    """The settings with intron_min raised to intron_min_scale x the intron_min_quantile of the
    introns found (at least 30 of them; never lowered)."""
    lengths = _intron_lengths(genes)
    if len(lengths) < 30:
        return settings
    fitted = int(settings.intron_min_scale * float(np.quantile(lengths, settings.intron_min_quantile)))
    fitted = min(fitted, 100)  # a pass with only long introns (few genes, joins) must not forbid real short ones
    return replace(settings, intron_min=fitted) if fitted > settings.intron_min else settings


def with_long_introns(genes: list[list[ViterbiGene]], settings: EukaryoteSettings) -> EukaryoteSettings:
    """The settings with the long intron class, if the introns found have a long tail."""
    lengths = _intron_lengths(genes)
    if len(lengths) < 30:
        return settings
    share = float(np.mean(np.asarray(lengths) > settings.intron_min + settings.intron_split))
    if share < settings.intron_long_share:
        return settings
    return replace(settings, intron_long_classes=True, gene_logp=settings.intron_long_gene_logp)


def training_pieces(records: list[tuple[str, bytes]], settings: EukaryoteSettings) -> list[tuple[str, int, int, int]] | None:
    """Pieces (seqid, record index, start, end; 0-based half-open) of about settings.train_piece
    bases each, about settings.train_bases in all, evenly spread over the genome (records laid
    end to end), for the self-training passes; None: the genome is small enough to train on whole
    (at most 2 x train_bases, or train_bases 0)."""
    total = sum(len(s) for _, s in records)
    if settings.train_bases <= 0 or total <= 2 * settings.train_bases:
        return None
    size = max(settings.train_piece, settings.min_len)
    n = max(1, -(-settings.train_bases // size))
    ends = np.cumsum([len(s) for _, s in records])
    out = []
    for i in range(n):
        at = (2 * i + 1) * total // (2 * n) - size // 2  # centred in its n-th of the genome
        k = int(np.searchsorted(ends, at, side="right"))
        first = int(ends[k - 1]) if k else 0
        a = max(0, at - first)
        b = min(len(records[k][1]), a + size)
        a = max(0, b - size)
        if not out or out[-1][1] != k or out[-1][3] <= a:
            out.append((records[k][0], k, a, b))
    return out


def planned_bases(records: list[tuple[str, bytes]], settings: EukaryoteSettings | None = None) -> int:
    """Bases find_genes decodes over all its passes (for progress): every record each pass, or
    the training pieces in the passes before the last."""
    settings = settings or EukaryoteSettings()
    genome = sum(len(s) for _, s in records)
    rounds = settings.rounds if settings.use_self_training else 0
    pieces = training_pieces(records, settings) if rounds else None
    if pieces is None:
        return genome * (rounds + 1)
    return sum(b - a for *_, a, b in pieces) * rounds + genome


def _cut_mask(mask: list[tuple[int, int]], a: int, b: int) -> list[tuple[int, int]]:
    return [(max(x, a) - a, min(y, b) - a) for x, y in mask if y > a and x < b]


def _adapted_model(site_model, records, genes, settings: EukaryoteSettings):
    """The classifier fine-tuned on this genome's genes (None: too few)."""
    from genet5.predict.eukaryote.site_examples import adapted_site_model
    from genet5.predict.eukaryote.sites import one_thread

    with one_thread():  # 9x faster on 2 busy cores, and the same weights on every machine
        return adapted_site_model(site_model, records, genes, settings.site_adapt_epochs, settings.site_adapt_lr)


def _site_arrays(site_model, records, settings: EukaryoteSettings) -> list:
    """Per record, the classifier's sparse site evidence (None for records too short for a gene)."""
    from genet5.predict.eukaryote.sites import SparseSites

    threads = worker_count(settings.workers)  # the two strands at once
    return [SparseSites(site_model, seq, settings.site_model_weight, settings.site_start_weight, threads=threads)
            if len(seq) >= settings.min_len else None for _, seq in records]


def for_gene_density(records, code: GeneticCode, settings: EukaryoteSettings) -> tuple[EukaryoteSettings, float, float]:
    """(settings moved toward the compact ones as far as the genome is compact, single-ORF
    fraction, compactness 0..1)."""
    density = single_orf_fraction(records, code)
    span = max(settings.compact_full - settings.compact_from, 1e-9)
    t = float(np.clip((density - settings.compact_from) / span, 0.0, 1.0))
    if t > 0:
        settings = replace(settings,
                           intron_logp=(1 - t) * settings.intron_logp + t * settings.compact_intron_logp,
                           gene_logp=(1 - t) * settings.gene_logp + t * settings.compact_gene_logp,
                           min_score=(1 - t) * settings.min_score + t * settings.compact_min_score)  # fmt: skip
    return settings, density, t


def refit(records, genes, models: GenomeModels, bg: np.ndarray, both: list[bytes], settings: EukaryoteSettings) -> GenomeModels:
    """Models re-estimated from the genes of the last pass (complete genes only for coding and
    sites; the rest of the sequence, outside any gene, for the intergenic chain; up to
    settings.utr_flank bases beyond each gene for the UTR chains)."""
    cds, introns, intergenic = [], [], []
    utr5, utr3 = [], []
    donors, acceptors, intron_lengths, starts = [], [], [], []
    for (_, seq), found in zip(records, genes):
        _collect_flanks(seq, found, settings.utr_flank, utr5, utr3)
        last = 0
        for g in sorted(found, key=lambda g: g.start):
            if g.start - 1 > last:
                intergenic.append(seq[last : g.start - 1])
            last = max(last, g.end)
            if g.start_partial or g.end_partial:
                continue
            segs = sorted(g.cds)
            if g.strand == "+":
                first = segs[0][0] - 1  # 0-based first base of the start codon
                context = seq[first - START_UP : first + 3 + START_DOWN] if first >= START_UP else b""
            else:
                codon_end = segs[-1][1]  # 0-based end (exclusive) of the minus gene's start codon
                context = (reverse_complement(seq[codon_end - 3 - START_DOWN : codon_end + START_UP])
                           if codon_end >= 3 + START_DOWN else b"")
            if len(context) == START_UP + 3 + START_DOWN:
                starts.append(context)
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
        return GenomeModels(coding=coding, splice=models.splice, intron_mean=models.intron_mean, intron_long=models.intron_long)
    k = settings.content_order
    intron_model = None
    if settings.intron_long_classes:  # the chain serves the short class only (the long one reads as intergenic)
        introns = [s for s in introns if len(s) <= settings.intron_min + settings.intron_split] or introns
    if settings.learn_intron_chain and sum(map(len, introns)) > 50 * 4 ** (k + 1):
        intron_model = ContentModel.fit(introns, bg, k)
    ig_model = None
    if settings.learn_intergenic_chain:
        ig_model = ContentModel.fit(intergenic + [reverse_complement(s) for s in intergenic], bg, k)
    splice = _splice_counts(models.splice, donors, acceptors, settings.splice_prior_weight)
    if settings.learn_start_context and len(starts) >= 20:
        background = models.splice["background"]
        prior = [background] * (START_UP + 3 + START_DOWN)
        splice["start"] = {"upstream": START_UP, "freq": _site_freq(starts, prior, settings.start_prior_weight), "sites": len(starts)}
    # the median, not the mean: a few false long introns (two genes joined) must not make all
    # long introns cheap in the next round, and the short-intron peak of most genomes sets it
    mean = float(np.median(intron_lengths)) - settings.intron_min if intron_lengths else models.intron_mean
    mean = float(np.clip(mean, 30.0, 5000.0))
    long = models.intron_long
    if settings.intron_long_classes and settings.fit_intron_long and intron_lengths:
        beyond = [n - settings.intron_min for n in intron_lengths]
        mean, long = fit_intron_lengths(beyond, mean, long or (settings.intron_long_weight, settings.intron_long_mean),
                                        split=settings.intron_split, max_weight=settings.intron_long_max_weight)
    u5 = u3 = None
    if settings.utr_mean > 0 and sum(map(len, utr3)) > 50 * 4 ** (k + 1):
        u5, u3 = ContentModel.fit(utr5, bg, k), ContentModel.fit(utr3, bg, k)
    return GenomeModels(coding, intron_model, ig_model, splice, mean, long, u5, u3)


def _collect_flanks(seq: bytes, found, flank: int, utr5: list[bytes], utr3: list[bytes]) -> None:
    """Up to `flank` bases beyond each gene, stopping at a neighbouring gene, oriented with it."""
    spans = sorted((g.start - 1, g.end) for g in found)  # 0-based half-open
    starts = [a for a, _ in spans]
    ends = sorted(b for _, b in spans)
    for g in found:
        a, b = g.start - 1, g.end
        i = bisect.bisect_left(ends, a + 1) - 1  # the nearest gene ending at or before a
        left = seq[max(a - flank, ends[i] if i >= 0 else 0, 0) : a]
        j = bisect.bisect_right(starts, b - 1)  # the nearest gene starting at or after b
        right = seq[b : min(b + flank, starts[j] if j < len(starts) else len(seq))]
        if g.strand == "+":
            five, three = left, right
        else:
            five, three = reverse_complement(right), reverse_complement(left)
        if len(five) > 10:
            utr5.append(five)
        if len(three) > 10:
            utr3.append(three)


def _site_freq(sites: list[bytes], prior_freq, weight: float) -> list[list[float]]:
    """Per-position base frequencies of equal-length sites, with `weight` pseudo-sites of
    `prior_freq` mixed in."""
    lut = {ord("A"): 0, ord("C"): 1, ord("G"): 2, ord("T"): 3}
    p = np.asarray(prior_freq, dtype=np.float64) * weight
    c = np.zeros_like(p)
    for s in sites:
        for i, ch in enumerate(s):
            j = lut.get(ch)
            if j is not None:
                c[i, j] += 1
    f = c + p
    return (f / f.sum(axis=1, keepdims=True)).tolist()


def _splice_counts(prior: dict, donors: list[bytes], acceptors: list[bytes], weight: float) -> dict:
    out = dict(prior)
    out["donor"] = dict(prior["donor"], freq=_site_freq(donors, prior["donor"]["freq"], weight))
    out["acceptor"] = dict(prior["acceptor"], freq=_site_freq(acceptors, prior["acceptor"]["freq"], weight))
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
