"""Eukaryotic gene finding that a genome teaches itself: multi-exon genes on both strands from
content chains and splice-site matrices re-estimated on the genome's own first-pass genes, as
GeneMark-ES self-trains.

One genome is decoded at once (all its sequences share the statistics):

1. round 0: a periodic coding chain from the genome's long open reading frames (long ORFs of a
   eukaryote are mostly exons), mixed with the coding chain of the training species that best
   explains them (priors.py: a small genome leans on it, a large one on its own counts), no
   intron or intergenic chain yet, and splice-site matrices counted on the training eukaryotes
   (predict/splice_pwm.json);
2. each round: the gene-structure HMM (predict/viterbi_hmm.py: start codon, in-frame codons,
   stop codon, GT..AG introns that keep the frame and never hide a stop, both strands, partial
   genes at sequence ends and at assembly gaps, which end the stretch before them and begin
   the one after) decodes every sequence with per-base emissions
       coding chain log-ratio by codon position / intron chain / intergenic chain / 5' and 3'
       UTR chains (the untranslated flanks of genes, states of their own)
   (all against one background chain of the genome); its genes then re-estimate (refit.py) the
   chains (mixed with the species prior's), the splice-site matrices (counts mixed with the
   training prior), a start-codon context matrix (12 bases before ATG, 3 after) and the intron
   length. GT-AG and GC-AG introns;
3. the trained site classifier (models/sites.py) scores every donor, acceptor and start at
   each splice and start edge; after round 1 a copy of it is fine-tuned on the genome's own
   genes (site_examples.py) and the sites rescored, so its evidence adapts to the genome too;
4. in every pass, genes made mostly of repeats that the genome itself shows (repeats.py: 16-mers
   in three or more copies) are dropped: transposon ORFs neither reach the output nor teach the
   next round (unmasked drafts, heterochromatin).

Measured and left off by default (bench/eukaryote/vs_augustus.py, docs/benchmarks.md): a second,
long intron-length class (better exon F1, more joined genes), a minimum terminal exon, and a
per-base coding penalty on soft-masked bases (settings.softmask_penalty; `--softmask`, the
default, counts soft-masked bases as repeats for the gene filter instead).

Large genomes (over 2 x EukaryoteSettings.train_bases, 3 Mb) self-train on evenly spread pieces
of about train_bases (or train_share of the genome where that is more, at most train_max_bases):
every round but the last decodes the pieces, the last decodes every base (training_pieces).
Where the seed pass finds too few genes in them (train_min_genes), the pieces grow to what the
genes found say is needed, up to train_max_bases, or the whole genome trains where that is over
half of it.

Speed: each pass's Viterbi batches are decoded in worker processes (settings.workers, one per
CPU up to four; viterbi_decoder.decode_jobs), with the same genes as one process.

Memory: sequences longer than STREAM_BLOCK are decoded block by block (blocks end where no frame
looks coding, so no gene is cut): the emission table (52 bytes per base) and the site arrays of
one block at a time; per whole sequence only its bases (1 byte per base as codes) and the site
classifier's candidates (a few bytes per base) are kept.
"""

from __future__ import annotations

import bisect
from dataclasses import replace

import numpy as np

from genet5.genome.codes import GeneticCode, reverse_complement
from genet5.predict.eukaryote.content import background_counts, fit_coding
from genet5.predict.eukaryote.density import orf_spans, single_orf_fraction
from genet5.predict.eukaryote.pieces import (
    max_training_bases,
    planned_of_pieces,
    training_bases,
    training_pieces,
    training_set,
)
from genet5.predict.eukaryote.refit import refit
from genet5.predict.eukaryote.repeats import (
    RepeatCover, RepeatTable, cut_runs, lower_case_share, union_runs,
)
from genet5.predict.eukaryote.settings import EukaryoteSettings, GenomeModels  # the decoder's public names too
from genet5.predict.prokaryote.coding import ContextCache, order_for
from genet5.predict.prokaryote.orfs import segments
from genet5.predict.viterbi_decoder import (
    RegionJob, ViterbiGene, candidate_regions, decode_jobs, start_set, worker_count,
)
from genet5.predict.viterbi_hmm import (
    E_IG, E_MCDS, E_MINTRON, E_MUTR3, E_MUTR5, E_PCDS, E_PINTRON, E_PUTR3, E_PUTR5, N_EMIT, GeneHMM, padded_base_codes,
)




def seed_orfs(records, code: GeneticCode, min_codons: int, min_complexity: float) -> list[bytes]:
    """The long ORFs of every record that are not low-complexity sequence: tandem repeats and
    satellites (unmasked chromosome ends, centromeres) make long ORFs too, and a seed chain
    counted from them reads every repeat as coding, so self-training joins repeats into giant
    genes (D. melanogaster dm6, first 1% of each arm: 389 of its 520 seed ORFs). Complexity:
    zlib's compressed size over the length; most ORFs of real genes come out at 0.30-0.35, the
    arm-end repeats at 0.06-0.25 (settings.seed_min_complexity)."""
    import zlib

    orfs = [o for _, s in records for o in long_orfs(s, code, min_codons)]
    return [o for o in orfs if len(zlib.compress(o, 6)) >= min_complexity * len(o)]


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
        return emission_table(seq[a:b], models, cut_runs(mask, a, b), mask_penalty)[lo - a : hi - a]
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
    h = 200  # the mean over bases i - h .. i + h, clipped to the sequence
    best = np.full(n, -np.inf, dtype=np.float32)
    pos = np.arange(n)
    span = (np.minimum(pos + h + 1, n) - np.maximum(pos - h, 0)).astype(np.float64)
    v = np.empty(n, dtype=np.float32)
    # prefix sums with h copies of the first and last on either side: c[clip(j - h, 0, n)] sits
    # at j, so the window sums are two slices (no gathers; the same values)
    c = np.zeros(n + 1 + 2 * h)
    for col in (E_PCDS, E_MCDS):
        for f in range(3):
            for r in range(3):  # bases r, r + 3, ...: frame f reads codon position (r - f) % 3 there
                np.subtract(em[r::3, col + (r - f) % 3], em[r::3, E_IG], out=v[r::3])
            np.cumsum(v, dtype=np.float64, out=c[h + 1 : h + 1 + n])
            c[h + 1 + n :] = c[h + n]
            np.maximum(best, ((c[2 * h + 1 : 2 * h + 1 + n] - c[:n]) / span).astype(np.float32), out=best)
    # candidate_regions cuts where exp(em_ig) is highest: pass log P(intergenic) ~ -softplus(best)
    em_ig = -np.logaddexp(0.0, 20.0 * best)
    return candidate_regions(em_ig.astype(np.float32), 0.0, 0, max_region)


def decode(records: list[tuple[str, bytes]], code: GeneticCode, models: GenomeModels, settings: EukaryoteSettings,
           starts=None, on_record=None, masks=None, sites=None, repeats=None) -> list[list[ViterbiGene]]:
    """Genes of each record under `models`; `sites`, per record, the site classifier's
    per-position arrays (predict/eukaryote/sites.py) when settings.site_model_weight is set;
    `repeats`, per record, its repeats.RepeatCover: genes with more than
    settings.max_repeat_share of their coding bases in repeats are dropped.
    Records (and blocks of long ones) are pooled up to POOL_BASES and decoded together
    (viterbi_decoder.decode_jobs: regions of several sequences share numpy steps)."""
    hmm = gene_hmm(code, models, settings, starts)
    workers = worker_count(settings.workers)
    out: list[list[ViterbiGene]] = [[] for _ in records]
    pool: list[tuple[int, int, RegionJob]] = []  # (record, where the job's sequence starts in it, job)
    pooled = 0  # bases of the pool's regions (kept as they come: a draft's thousands of contigs)

    def flush() -> None:
        nonlocal pooled
        found = decode_jobs([job for *_, job in pool], hmm, code, min_len=settings.min_len, min_score=settings.min_score,
                            batch_bases=POOL_BASES, workers=workers)
        for (k, shift, _), genes in zip(pool, found):
            for g in genes:
                if shift:  # a stretch between assembly gaps: back to the record's coordinates
                    g.cds = [(a + shift, b + shift) for a, b in g.cds]
                if repeats is None or repeats[k].share(g.cds) <= settings.max_repeat_share:
                    out[k].append(g)
        pool.clear()
        pooled = 0

    for k, (seqid, seq) in enumerate(records):
        if len(seq) >= settings.min_len:
            for shift, job in _record_jobs(seq, models, settings, masks[k] if masks else (), sites[k] if sites else None):
                pool.append((k, shift, job))
                pooled += sum(b - a for a, b in job.regions)
                if pooled >= POOL_BASES:
                    flush()
        if on_record:
            on_record(seqid, len(seq))
    flush()
    return [sorted(genes, key=lambda g: (g.start, g.end, g.strand)) for genes in out]


def stream_blocks(n: int, block: int, regions_in):
    """Cut a sequence of n bases into blocks of about `block` bases at the cuts regions_of makes
    (where no frame looks coding), so that no block edge falls inside a gene: each block's last
    region is left to the next block unless the sequence ends there. `regions_in(lo, hi)` gives
    the regions of bases lo .. hi - 1 in block coordinates. Yields (lo, hi, regions) with the
    regions in sequence coordinates, one block at a time: the caller's per-block arrays (the
    emission table regions_in makes) live only while it works on that block (a list made them
    all at once: 52 bytes a base of the whole record, 1.1 GB on a 21 Mb chromosome)."""
    lo = 0
    while lo < n:
        hi = n if n - lo <= block + block // 2 else lo + block
        regions = sorted(regions_in(lo, hi))
        if hi < n and len(regions) > 1:
            regions = regions[:-1]  # its end is the block's edge, not a cut: decoded with the next block
        end = regions[-1][1] if regions else hi - lo
        yield lo, lo + end, [(a + lo, b + lo) for a, b in regions]
        lo += end


def _record_jobs(seq: bytes, models: GenomeModels, settings: EukaryoteSettings, mask, sites):
    """The regions of one sequence to decode, block by block when it is longer than STREAM_BLOCK
    (a generator: a block's site arrays are made when the pool takes it), as (shift, RegionJob):
    the job's sequence starts `shift` bases into `seq`. Assembly gaps (runs of >= MIN_GAP N,
    orfs.segments, as the other decoders split records) are never decoded: a gap's length is
    unknown, so each stretch between gaps is a sequence of its own, and a gene cut by a gap is
    partial there as at a sequence end (no exon or intron holds a gap, no gene spans one)."""
    pieces = segments(seq)
    whole = pieces == [(0, len(seq))]
    ends = [e for _, e in pieces]
    padded = padded_base_codes(seq) if whole else None
    penalty = settings.softmask_penalty
    ems: dict[int, np.ndarray] = {}
    kept: dict[int, tuple[int, bytes, np.ndarray]] = {}  # per stretch start: its end, bases, padded codes

    def regions_in(lo: int, hi: int) -> list[tuple[int, int]]:
        ems[lo] = emission_table(seq, models, mask, penalty, lo, hi)
        return regions_of(ems[lo], settings.max_region)

    for lo, hi, regions in stream_blocks(len(seq), STREAM_BLOCK, regions_in):
        em = ems.pop(lo)
        if whole:
            yield 0, RegionJob(seq, regions, lambda g, em=em, lo=lo: em[g - lo],
                               sites.dense(lo, hi) if sites is not None else None, lo, padded)
            continue
        first = bisect.bisect_right(ends, lo)  # the stretches that reach into the block
        for s, e, cut in between_gaps(regions, pieces[first:], settings.min_len):
            if s not in kept:
                kept[s] = (e, seq[s:e], padded_base_codes(seq[s:e]))
            _, part, codes = kept[s]
            a, b = max(lo, s), min(hi, e)
            yield s, RegionJob(part, cut, lambda g, em=em, at=lo - s: em[g - at],
                               sites.dense(a, b) if sites is not None else None, a - s, codes)
        for s in [s for s, (e, *_) in kept.items() if e <= hi]:
            del kept[s]


def between_gaps(regions: list[tuple[int, int]], pieces: list[tuple[int, int]], min_len: int = 1):
    """The sorted `regions` cut at assembly gaps: (s, e, regions of the stretch [s, e) of
    `pieces` (orfs.segments) in the stretch's own coordinates) for each stretch that they reach
    with at least one piece of `min_len` bases or more (a shorter one holds no gene). One sweep
    over both lists."""
    i = 0
    for s, e in pieces:
        if not regions or s >= regions[-1][1]:
            return
        while regions[i][1] <= s:
            i += 1
        cut, j = [], i
        while j < len(regions) and regions[j][0] < e:
            a, b = max(regions[j][0], s), min(regions[j][1], e)
            if b - a >= min_len:
                cut.append((a - s, b - s))
            j += 1
        if cut:
            yield s, e, cut


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


def find_genes(records: list[tuple[str, bytes]], code: GeneticCode, settings: EukaryoteSettings | None = None,
               starts=None, on_round=None, on_record=None, initial: GenomeModels | None = None,
               masks: list[list[tuple[int, int]]] | None = None, site_model=None,
               on_replan=None) -> tuple[list[list[ViterbiGene]], GenomeModels]:
    """Genes of every record (genome-wide self-training), and the models of the last round.
    `on_round(round, genes)` is called after each decoding pass (benchmarks; genes of the
    training pieces, not of the records, in passes on pieces: settings.train_bases),
    `on_record(seqid, bases)` after each record (or piece) of each pass (progress; planned_bases
    gives the total; `on_replan(bases)` where the training pieces grow: the bases of every
    pass from there on, the grown pieces' seed pass included); `initial` replaces the seed models; `masks`, per record, its soft-masked
    runs: counted as repeats by the gene filter (settings.max_repeat_share) and, with
    settings.softmask_penalty, made dearer for coding states (ignored where they hold nearly
    every base: a genome written in lower case, repeats.lower_case_share); `site_model`,
    the splice-site classifier to use when settings.site_model_weight is set (default: the
    bundled one)."""
    settings = settings or EukaryoteSettings()
    args = (records, code, settings, starts, on_round, on_record, initial, masks, site_model, on_replan)
    if settings.site_model_weight <= 0:
        return _find_genes(*args)
    from genet5.predict.eukaryote.sites import keep_trunk_features

    with keep_trunk_features():  # the classifier's passes convolve each block once
        return _find_genes(*args)


def _find_genes(records, code, settings, starts, on_round, on_record, initial, masks, site_model, on_replan):
    settings = replace(settings, workers=worker_count(settings.workers))  # chosen once, by the load at the start
    lower = lower_case_share(records, masks)
    if lower is not None:
        masks = None  # (nearly) all lower case: not soft-masked, only written so (repeats.LOWER_CASE_SHARE)
    density, compactness = None, 0.0
    if settings.adapt_to_density:
        settings, density, compactness = for_gene_density(records, code, settings)
    both = [s for _, s in records] + [reverse_complement(s) for _, s in records]
    seeds = seed_orfs(records, code, settings.seed_min_codons, settings.seed_min_complexity)
    if not seeds:
        seeds = seed_orfs(records, code, 100, settings.seed_min_complexity)
    runs = repeats = None  # per record: the repeats' runs found in the genome itself, as repeats.RepeatCover
    if settings.max_repeat_share < 1:
        table = RepeatTable(records, settings.repeat_min_copies)
        runs = [table.runs(seq) for _, seq in records]
        if masks:  # soft-masked runs (`--softmask`, the default) are repeats too
            runs = [union_runs(r, m) for r, m in zip(runs, masks)]
        repeats = [RepeatCover(r) for r in runs]
    bg = background_counts(both, settings.content_order)
    prior, candidates = None, []
    if settings.prior_weight > 0 and initial is None:
        from genet5.predict.eukaryote.priors import candidate_priors, choose_prior, load_priors

        if settings.prior_name or not seeds:
            prior = choose_prior(load_priors(), seeds, settings.prior_name)
        else:  # best coding likelihood first; small inputs let the close rivals decode too
            small = sum(len(s) for _, s in records) <= settings.prior_decode_max_bases
            candidates = candidate_priors(load_priors(), seeds, density if settings.prior_by_density else None,
                                          settings.compact_from, settings.prior_decode_margin if small else 0.0)
            prior = candidates[0] if candidates else None
    if initial is not None:
        models = initial
    elif prior is not None:
        models = _prior_seed_models(prior, seeds, both, settings)
    else:
        models = GenomeModels(coding=fit_coding(seeds, both, min(settings.coding_order, order_for(sum(map(len, seeds))))),
                              intron_mean=settings.intron_mean)
    counts = np.array([sum(s.count(b) for s in both) for b in (b"A", b"C", b"G", b"T")], dtype=np.float64)
    models.splice["background"] = (counts / counts.sum()).tolist()
    rounds = settings.rounds if settings.use_self_training else 0
    pieces = training_pieces(records, settings) if rounds else None
    # what the passes before the last decode: the records, or pieces of them
    train, train_masks, train_repeats = training_set(records, masks, runs, repeats, pieces)
    sites = None
    if settings.site_model_weight > 0:  # the classifier's evidence changes only where it is adapted
        from genet5.predict.eukaryote.sites import load_site_model

        site_model = site_model or load_site_model()
        sites = _site_arrays(site_model, train, settings)
    if len(candidates) > 1:  # each candidate species decodes the seed pass; the best-explained one stays
        models, genes = _best_seed_pass(candidates, seeds, both, models.splice["background"], train, code, settings,
                                        starts, train_masks, sites, train_repeats)
        for seqid, seq in train if on_record else ():  # progress: one seed pass, as planned_bases counts it
            on_record(seqid, len(seq))
    else:
        genes = decode(train, code, models, settings, starts, on_record, train_masks, sites, train_repeats)
    if models.prior is not None and models.prior.settings:  # the chosen species' own decoder settings, from round 1
        settings = replace(settings, **models.prior.settings)
    asked = training_bases(records, settings)
    while pieces is not None and (found := _complete_genes(genes)) < settings.train_min_genes:
        # too few genes in the pieces to learn from (a gene-poor genome): pieces holding as many
        # bases as the genes found say train_min_genes need (with a margin), at most
        # train_max_bases, or all of the genome where that is more than half of it. What is asked
        # for grows by more than the margin each time (the pieces themselves may not: short
        # records) until it reaches the cap, so this ends.
        if asked >= max_training_bases(settings):
            break
        grown = asked * settings.train_grow_margin * settings.train_min_genes / found if found else float("inf")
        asked = min(grown, max_training_bases(settings))
        pieces = training_pieces(records, settings, int(asked)) if asked < float("inf") else None
        if on_replan:
            on_replan(planned_of_pieces(records, pieces, rounds))
        train, train_masks, train_repeats = training_set(records, masks, runs, repeats, pieces)
        sites = _site_arrays(site_model, train, settings) if sites is not None else None
        genes = decode(train, code, models, settings, starts, on_record, train_masks, sites, train_repeats)
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
            genes = decode(records, code, models, settings, starts, on_record, masks, sites, repeats)
        else:
            genes = decode(train, code, models, settings, starts, on_record, train_masks, sites, train_repeats)
        if on_round:
            on_round(r, genes)
        if sites is not None and r == settings.site_adapt_round and r < rounds:
            from genet5.predict.eukaryote.sites import drop_trunk_features

            tuned = _adapted_model(site_model, train, genes, settings)
            if tuned is not None:
                site_model = tuned
                if pieces is None:  # the trunk's features of every block come from the cache
                    sites = _site_arrays(tuned, records, settings)
                else:  # every record scored once; the pieces read their part of it
                    drop_trunk_features()  # the pieces' blocks: the records' own are other blocks
                    whole_sites = _site_arrays(tuned, records, settings)
                    sites = [whole_sites[k].cut(a, b) for _, k, a, b in pieces]
            drop_trunk_features()  # no later pass scores sites with the trunk's cached features
    models.single_orf_fraction, models.compactness, models.lower_case_share = density, compactness, lower
    if settings.report_min_score > settings.min_score:  # weak genes taught the rounds; they are not reported
        genes = [[g for g in found if g.score > settings.report_min_score] for found in genes]
    return genes, models


def _complete_genes(genes: list[list[ViterbiGene]]) -> int:
    return sum(not (g.start_partial or g.end_partial) for found in genes for g in found)


def _prior_seed_models(prior, seeds, both, settings: EukaryoteSettings) -> GenomeModels:
    """The seed pass's models with a species prior: its coding chain mixed with the seed ORFs'
    counts (the prior's intron and UTR chains join from the first refit on: in the seed pass
    they cost)."""
    return GenomeModels(coding=fit_coding(seeds, both, prior.order, prior.coding, settings.prior_weight),
                        intron_mean=settings.intron_mean, prior=prior)


def _best_seed_pass(candidates, seeds, both, background, train, code, settings, starts, masks, sites, repeats):
    """(seed models, seed-pass genes) of the candidate species prior whose genes have the
    highest summed score: the Viterbi path's log-ratio to an all-intergenic path, the same
    background for every candidate, so the species that explains the sequence best."""
    best = None
    for prior in candidates:
        models = _prior_seed_models(prior, seeds, both, settings)
        models.splice["background"] = background
        genes = decode(train, code, models, settings, starts, None, masks, sites, repeats)
        score = sum(g.score for found in genes for g in found)
        if best is None or score > best[0]:
            best = (score, models, genes)
    return best[1], best[2]


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


def _adapted_model(site_model, records, genes, settings: EukaryoteSettings):
    """The classifier fine-tuned on this genome's genes (None: too few)."""
    from genet5.predict.eukaryote.site_examples import adapted_site_model
    from genet5.predict.eukaryote.sites import one_thread

    with one_thread():  # 9x faster on 2 busy cores, and the same weights on every machine
        return adapted_site_model(site_model, records, genes, settings.site_adapt_epochs, settings.site_adapt_lr,
                                  train_trunk=settings.site_adapt_trunk)


def _site_arrays(site_model, records, settings: EukaryoteSettings) -> list:
    """Per record, the classifier's sparse site evidence (None for records too short for a gene)."""
    from genet5.memory import release_free_memory
    from genet5.predict.eukaryote.sites import sparse_sites_of

    threads = worker_count(settings.workers)  # the two strands at once
    scored = [k for k, (_, seq) in enumerate(records) if len(seq) >= settings.min_len]
    arrays = sparse_sites_of(site_model, [records[k][1] for k in scored], settings.site_model_weight,
                             settings.site_start_weight, threads=threads, stop_weight=settings.site_stop_weight,
                             scan_penalty=settings.scan_penalty, scan_reach=settings.scan_reach)
    out: list = [None] * len(records)
    for k, arr in zip(scored, arrays):
        out[k] = arr
    release_free_memory()  # the blocks' dense arrays, freed, would stay as holes through the decoding
    return out


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
                           min_score=(1 - t) * settings.min_score + t * settings.compact_min_score,
                           report_min_score=(1 - t) * settings.report_min_score + t * settings.compact_min_score,
                           scan_reach=round((1 - t) * settings.scan_reach + t * settings.compact_scan_reach))  # fmt: skip
    return settings, density, t
