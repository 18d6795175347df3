"""Gene structures from per-base class probabilities with a gene-structure HMM: the
`--decoder viterbi` path (multi-exon genes on both strands, as Tiberius or HelixerPost do).

The per-base head gives log P(class) for intergenic, CDS codon position 0/1/2 (along
transcription), intron and UTR. The HMM of predict/viterbi_hmm.py emits those classes from its
states (UTR is folded into intergenic) and only allows paths that are valid genes of the
sequence: start codon, in-frame codons without a stop, stop codon, GT..AG introns of at least
`intron_min` bases that keep the reading frame. The single best path over both strands is the
prediction, so genes never overlap (overlapping and nested genes, frameshifted genes such as Ty
elements, and stop codons split by an intron are out of its reach).

Speed: the HMM only runs where the track leaves room for a gene. Candidate regions are the runs
with P(not intergenic, not UTR) >= `genic_threshold`, padded by `pad` bases and merged; outside
them the path is intergenic (HelixerPost does the same). Regions longer than `max_region` are cut
where the track is confidently intergenic. All regions of a batch (`batch_bases` bases, about
500 bytes of working memory per base) advance together, one numpy step per base position, so a
batch costs (its longest region) numpy steps plus work proportional to its bases; decode_jobs
lets the regions of many sequences share a batch.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genet5.genome.codes import GeneticCode, genetic_code, reverse_complement
from genet5.predict.processes import in_processes
from genet5.genome.models import Gene
from genet5.predict import viterbi_kernels
from genet5.predict.decoders import Decoded, start_codon_set
from genet5.predict.genes import predicted_gene
from genet5.predict.viterbi_hmm import (
    E_IG, E_MCDS, E_MINTRON, E_PCDS, E_PINTRON, E_PUTR5, IG, MINUS_CDS, N_EMIT, NEG, PLUS_CDS, PLUS_INTRON,
    GeneHMM, pad_sites, word_code, padded_base_codes,
)
from genet5.predict.viterbi_batch import viterbi_batch
from genet5.tokenizers.annotation import BaseClass

NONCANONICAL = ((b"GC", b"AG"), (b"AT", b"AC"))
# splice-site base frequencies counted on training genomes (scripts/make_splice_pwm.py)
SPLICE_PWM_FILE = Path(__file__).with_name("splice_pwm.json")


@dataclass
class ViterbiGene:
    strand: str
    cds: list[tuple[int, int]]  # 1-based closed CDS segments in transcription order
    score: float  # sum over the gene's bases of log P(path class) - log P(intergenic)
    start_partial: bool = False
    end_partial: bool = False
    start_codon: str = ""

    @property
    def start(self) -> int:
        return min(a for a, _ in self.cds)

    @property
    def end(self) -> int:
        return max(b for _, b in self.cds)

    @property
    def cds_length(self) -> int:
        return sum(b - a + 1 for a, b in self.cds)


def start_set(code: GeneticCode, starts=None) -> frozenset[bytes]:
    """Start codons as bytes; None: ATG only for the standard code (nuclear genes), the code's
    starts otherwise."""
    if starts is None:
        starts = {b"ATG"} if code.id == 1 else set(code.starts)
    return frozenset(s.encode() if isinstance(s, str) else bytes(s) for s in starts)


def build_hmm(
    code: GeneticCode,
    *,
    starts=None,
    splice=("GT", "AG"),
    noncanonical_splice: bool = False,
    noncanonical_logp: float = -4.0,
    gene_logp: float = -10.0,
    intron_logp: float = -8.0,
    intron_min: int = 20,
    intron_mean: float = 100.0,
    splice_pwm_weight: float = 1.0,
) -> GeneHMM:
    """The HMM for one genetic code. `starts` None: ATG only for the standard code (nuclear
    genes), the code's starts otherwise. `splice` is the canonical donor/acceptor pair;
    `noncanonical_splice` adds GC-AG and AT-AC at `noncanonical_logp`. Log-penalties: entering
    a gene `gene_logp`, opening an intron `intron_logp`; intron length is `intron_min` plus a
    geometric part of mean `intron_mean`. `splice_pwm_weight` scales the splice-site log-odds
    (SPLICE_PWM_FILE, counted on training genomes) added at every donor and acceptor; 0 turns
    them off (GT/AG alone)."""
    starts = start_set(code, starts)
    pairs = {tuple(x.encode() if isinstance(x, str) else bytes(x) for x in splice): 0.0}
    if noncanonical_splice:
        for pair in NONCANONICAL:
            pairs.setdefault(pair, noncanonical_logp)
    pwm = json.loads(SPLICE_PWM_FILE.read_text()) if splice_pwm_weight else None
    return GeneHMM(code, starts, pairs, gene_logp=gene_logp, intron_logp=intron_logp,
                   intron_min=intron_min, intron_mean=intron_mean, splice_pwm=pwm,
                   splice_pwm_weight=splice_pwm_weight)


def emissions(logp_LC: np.ndarray, minus_LC: np.ndarray | None = None) -> np.ndarray:
    """(L, N_EMIT) emission table for some rows of the track. Minus-strand states read
    `minus_LC` (the reverse-complement prediction, already in forward order) when given."""
    lp = np.asarray(logp_LC, dtype=np.float32)
    em = np.empty((lp.shape[0], N_EMIT), dtype=np.float32)
    em[:, E_IG] = intergenic_logp(lp, minus_LC)
    cds = BaseClass.CDS_FRAME0  # codon positions 1 and 2 follow it
    em[:, E_PCDS : E_PCDS + 3] = lp[:, cds : cds + 3]
    em[:, E_PINTRON] = lp[:, BaseClass.INTRON]
    minus = lp if minus_LC is None else np.asarray(minus_LC, dtype=np.float32)
    em[:, E_MCDS : E_MCDS + 3] = minus[:, cds : cds + 3]
    em[:, E_MINTRON] = minus[:, BaseClass.INTRON]
    em[:, E_PUTR5:] = em[:, E_IG : E_IG + 1]
    return em


def intergenic_logp(logp_LC: np.ndarray, minus_LC: np.ndarray | None = None) -> np.ndarray:
    """log P(intergenic or UTR); with a reverse-complement prediction, both averaged in log space."""
    ig = np.logaddexp(logp_LC[:, BaseClass.INTERGENIC], logp_LC[:, BaseClass.UTR])
    if minus_LC is not None:
        ig = 0.5 * (ig + np.logaddexp(minus_LC[:, BaseClass.INTERGENIC], minus_LC[:, BaseClass.UTR]))
    return ig


def candidate_regions(
    em_ig: np.ndarray, genic_threshold: float, pad: int, max_region: int, cut_min_ig: float = 0.5
) -> list[tuple[int, int]]:
    """Half-open regions where a gene could lie: genic runs, padded, merged. A region longer
    than `max_region` is cut in its middle half where intergenic is most likely (51-base mean of
    P(intergenic)), and only where that mean is at least `cut_min_ig`, so no cut lands inside a
    confident gene, unless it is longer than 10 * `max_region` (a track with no confident
    intergenic anywhere, e.g. an untrained model: then it is cut anyway, to bound the time)."""
    n = em_ig.size
    genic = -np.expm1(em_ig) >= genic_threshold  # 1 - P(intergenic or UTR)
    d = np.diff(genic.astype(np.int8), prepend=0, append=0)
    lo = np.maximum(np.flatnonzero(d == 1) - pad, 0)
    hi = np.minimum(np.flatnonzero(d == -1) + pad, n)
    if lo.size == 0:
        return []
    reach = np.maximum.accumulate(hi)
    first = np.concatenate([[True], lo[1:] > reach[:-1]])
    starts = lo[first]
    ends = reach[np.concatenate([np.flatnonzero(first)[1:] - 1, [lo.size - 1]])]
    out: list[tuple[int, int]] = []
    todo = list(zip(starts.tolist(), ends.tolist()))
    while todo:
        a, b = todo.pop()
        if b - a > max_region:
            # in the middle half, so that the pieces halve (about) and the recursion stays shallow
            q = (b - a) // 4
            ig = np.convolve(np.exp(em_ig[a + q : b - q]), np.ones(51) / 51, mode="same")
            best = int(np.argmax(ig))
            if ig[best] >= cut_min_ig or b - a > 10 * max_region:  # bound one lane's length
                cut = a + q + best
                todo += [(a, cut + 1), (cut + 1, b)]
                continue
        out.append((a, b))
    return sorted(out)


def decode_viterbi(
    seq: bytes,
    logp_LC: np.ndarray,
    code: GeneticCode,
    *,
    logp_rc_LC: np.ndarray | None = None,
    min_len: int = 90,
    min_score: float = 0.0,
    allow_partial: bool = True,
    genic_threshold: float = 0.2,
    pad: int = 100,
    max_region: int = 20_000,
    batch_bases: int = 500_000,
    hmm: GeneHMM | None = None,
    stats: dict | None = None,
    **hmm_options,
) -> list[ViterbiGene]:
    """Genes of one sequence, sorted by position. `hmm_options` go to build_hmm (starts, splice,
    noncanonical_splice, gene_logp, intron_logp, intron_min, intron_mean); a prebuilt `hmm`
    saves rebuilding it per sequence. `stats`, when given, receives counts of what was dropped."""
    n = len(seq)
    if logp_LC.shape[0] != n:
        raise ValueError(f"probability track has {logp_LC.shape[0]} rows for a {n}-base sequence")
    hmm = hmm or build_hmm(code, **hmm_options)
    minus = None if logp_rc_LC is None else logp_rc_LC[::-1]  # forward order, a view
    regions = candidate_regions(intergenic_logp(logp_LC, minus), genic_threshold, pad, max_region)

    def emit(gpos: np.ndarray) -> np.ndarray:
        return emissions(logp_LC[gpos], None if minus is None else minus[gpos])

    return decode_regions(seq, regions, emit, hmm, code, allow_partial=allow_partial, min_len=min_len,
                          min_score=min_score, batch_bases=batch_bases, stats=stats)


@dataclass
class RegionJob:
    """The regions of one sequence (or one block of it) for decode_jobs; fields as in decode_regions."""

    seq: bytes
    regions: list[tuple[int, int]]
    emit: object  # emit(gpos) -> (len(gpos), N_EMIT) emission rows
    sites: dict[str, np.ndarray] | None = None
    sites_from: int = 0
    padded: np.ndarray | None = None


def decode_regions(
    seq: bytes,
    regions: list[tuple[int, int]],
    emit,
    hmm: GeneHMM,
    code: GeneticCode,
    *,
    allow_partial: bool = True,
    min_len: int = 90,
    min_score: float = 0.0,
    batch_bases: int = 500_000,
    stats: dict | None = None,
    sites: dict[str, np.ndarray] | None = None,
    sites_from: int = 0,
    padded: np.ndarray | None = None,
) -> list[ViterbiGene]:
    """Genes of `seq` found by the HMM in half-open `regions` (intergenic elsewhere), sorted by
    position. `emit(gpos)` gives the (len(gpos), N_EMIT) emission rows of 0-based positions
    `gpos`: any evidence (a network's log-probabilities, self-trained log-likelihood ratios)
    enters through it, one batch at a time, so no whole-sequence table is needed. `sites`:
    per-position splice-site evidence for an HMM built with site_terms (GeneHMM.gates), covering
    bases `sites_from` onwards; `padded`: padded_base_codes(seq), when the caller decodes one long
    sequence block by block and keeps it."""
    job = RegionJob(seq, regions, emit, sites, sites_from, padded)
    return decode_jobs([job], hmm, code, allow_partial=allow_partial, min_len=min_len, min_score=min_score,
                       batch_bases=batch_bases, stats=stats)[0]


def decode_jobs(jobs: list[RegionJob], hmm: GeneHMM, code: GeneticCode, *, allow_partial: bool = True,
                min_len: int = 90, min_score: float = 0.0, batch_bases: int = 500_000,
                stats: dict | None = None, workers: int = 1) -> list[list[ViterbiGene]]:
    """decode_regions for several sequences at once, genes per job. Their regions share
    batches, so a batch's numpy steps (its longest region) serve regions of many sequences: a
    genome of many short sequences costs about as many steps as one. Batches hold about
    `batch_bases` bases (up to a quarter more rather than a small batch left over), at least one
    per worker; with `workers` > 1 they are decoded in that many processes (forked, where the
    platform can fork). Every region is decoded on its own values (the batch only shares the
    numpy calls), so the genes do not depend on the batching or the number of workers."""
    for job in jobs:
        job.padded = padded_base_codes(job.seq) if job.padded is None else job.padded
        job.sites = pad_sites(job.sites) if job.sites else None
    lanes = [(a, b, j) for j, job in enumerate(jobs) for a, b in job.regions]
    counts = {"regions": len(lanes), "region_bases": sum(b - a for a, b, _ in lanes),
              "invalid": 0, "short": 0, "low_score": 0}
    if viterbi_kernels.KERNELS is not None:  # compiled steps: no per-step calls to share, smaller arrays
        batch_bases = min(batch_bases, COMPILED_BATCH_BASES)
    batches = split_lanes(lanes, batch_bases, workers)
    groups = [batches[w::workers] for w in range(min(workers, len(batches)))]  # per worker, its batches

    def run(group) -> tuple[list[tuple[int, ViterbiGene]], dict]:
        found, c = [], dict.fromkeys(("invalid", "short", "low_score"), 0)
        for batch in group:
            found += _decode_batch(jobs, batch, hmm, code, allow_partial, min_len, min_score, c)
        return found, c

    genes: list[list[ViterbiGene]] = [[] for _ in jobs]
    for found, c in in_processes(run, groups):
        for k, g in found:
            genes[k].append(g)
        for key, v in c.items():
            counts[key] += v
    if stats is not None:
        stats.update(counts)
    return [sorted(g, key=lambda g: (g.start, g.end, g.strand)) for g in genes]


def worker_count(workers: int = 0) -> int:
    """Processes to decode with: `workers`, or (0) the CPUs this process may run on that other
    jobs leave idle, at least 1, at most MAX_WORKERS (a round's regions make few batches; each
    worker holds one batch's arrays). Busy CPUs are sampled over a tenth of a second
    (busy_cpus); where that cannot be read, the 1-minute load average stands in, which lags: a
    run started right after another (a loop over genomes) saw the last run's load and took one
    worker on an idle machine (Arabidopsis 1%: 6.4-7.4 s against 5.7 s with two, 2026-12-04).
    Each worker repeats a batch's per-step numpy calls, so on CPUs other jobs keep busy two
    workers cost more CPU than one and gain no time (worm 1%, 2 cores, load ~3-4: 24 CPU s
    either way; measured with the numpy steps, before the compiled ones)."""
    if workers > 0:
        return workers
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        allowed = list(range(os.cpu_count() or 1))
    cpus = len(allowed)
    busy = busy_cpus(allowed)
    if busy is None:
        try:
            busy = os.getloadavg()[0]
        except (AttributeError, OSError):  # no load average on this platform
            busy = 0.0
    return max(1, min(cpus, round(cpus - busy), MAX_WORKERS))


def busy_cpus(allowed: list[int], seconds: float = 0.1, stat: str = "/proc/stat") -> float | None:
    """How many of the CPUs `allowed` other processes keep busy, from /proc/stat's per-CPU
    times over `seconds` (this process sleeps meanwhile); None where it cannot be read."""
    import time

    def sample() -> dict[int, tuple[int, int]]:
        out = {}
        with open(stat) as f:
            for line in f:
                name, *fields = line.split()
                if name.startswith("cpu") and name[3:].isdigit():
                    t = [int(x) for x in fields[:8]]  # user nice system idle iowait irq softirq steal
                    out[int(name[3:])] = (sum(t) - t[3] - t[4], sum(t))
        return out

    try:
        before = sample()
        time.sleep(seconds)
        after = sample()
    except (OSError, ValueError):
        return None
    busy = total = 0
    for cpu in allowed:
        if cpu not in before or cpu not in after:
            return None
        busy += after[cpu][0] - before[cpu][0]
        total += after[cpu][1] - before[cpu][1]
    return len(allowed) * busy / total if total > 0 else None


MAX_WORKERS = 4
# Batch size with the compiled Viterbi (no per-step numpy calls for regions to share): small
# batches keep a batch's gates, emissions and back-pointers (~350 bytes a base) in a few MB
# reused from batch to batch instead of freshly faulted-in pages (worm 1%, 2026-12-04, load 7-14:
# peak RSS 894 MB with 2 Mb pools, 530-540 MB at 32k; CPU 15.3-17.0 s -> 14.9-15.5 s)
COMPILED_BATCH_BASES = 32_768


def split_lanes(lanes: list, batch_bases: int, workers: int = 1) -> list[list]:
    """Regions (a, b, job) into batches, each sorted longest first (as viterbi_batch wants):
    as few as hold about `batch_bases` bases each (25% over rather than one more batch), but at
    least one per worker; the longest regions are dealt first, each to the batch with the fewest
    bases so far, so the batches' longest regions (their numpy steps) and sizes even out."""
    if not lanes:
        return []
    total = sum(b - a for a, b, _ in lanes)
    n = min(len(lanes), max(workers, -(-total // int(1.25 * batch_bases))))
    order = sorted(lanes, key=lambda r: (r[0] - r[1], r[2], r[0]))  # longest first; ties by job, position
    batches: list[list] = [[] for _ in range(n)]
    size = [0] * n
    for lane in order:
        i = size.index(min(size))
        batches[i].append(lane)
        size[i] += lane[1] - lane[0]
    return batches


def _decode_batch(jobs: list[RegionJob], lanes, hmm: GeneHMM, code, allow_partial, min_len, min_score,
                  counts) -> list[tuple[int, ViterbiGene]]:
    S = hmm.n_states
    lo = np.array([a for a, _, _ in lanes], dtype=np.int64)
    lens = np.array([b - a for a, b, _ in lanes], dtype=np.int64)
    job_of = np.array([j for _, _, j in lanes], dtype=np.int64)
    n = np.array([len(jobs[j].seq) for j in job_of.tolist()], dtype=np.int64)  # per lane: its sequence's length
    offs = np.concatenate([[0], np.cumsum(lens)[:-1]])
    region_of = np.repeat(np.arange(len(lanes)), lens)
    gpos = np.arange(int(lens.sum())) - offs[region_of] + lo[region_of]  # genomic 0-based
    used = np.unique(job_of).tolist()
    if len(used) == 1:
        job = jobs[used[0]]
        gn, gj = hmm.gates(job.padded, gpos, job.sites, job.sites_from)
        em_b = job.emit(gpos)
    else:  # each sequence's rows from its own bases and evidence (every value depends on its position only)
        gn = np.empty((gpos.size, len(hmm.gate_keys)), dtype=np.float32)
        gj = np.empty((gpos.size, len(hmm.jump_keys)), dtype=np.float32)
        em_b = np.empty((gpos.size, N_EMIT), dtype=np.float32)
        row_job = job_of[region_of]
        for k in used:
            rows = np.flatnonzero(row_job == k)
            job = jobs[k]
            hmm.gates(job.padded, gpos[rows], job.sites, job.sites_from, out=(gn, gj), rows=rows)
            em_b[rows] = job.emit(gpos[rows])
    init = np.full((len(lanes), S), NEG)
    init[:, hmm.ig_state] = 0.0
    final = init.copy()
    final[:, hmm.kind_arr == IG] = 0.0  # a region may end in a gene's untranslated flank (utr_mean)
    if allow_partial:  # a gene may run off either end of the sequence
        init[lo == 0] = np.where(hmm.edge_ok_arr, hmm.gene_logp, NEG)
        init[lo == 0, hmm.ig_state] = 0.0
        final[lo + lens == n] = 0.0
    path, before = viterbi_batch(hmm, em_b, gn, gj, lens, init, final)
    del gn, gj

    kind = hmm.kind_arr[path]
    in_gene = kind != IG
    is_cds = (kind == PLUS_CDS) | (kind == MINUS_CDS)
    first_of_region = np.zeros(path.size, dtype=bool)
    first_of_region[offs] = True
    last_of_region = np.roll(first_of_region, -1)
    g_start = np.flatnonzero(in_gene & (first_of_region | ~np.roll(in_gene, 1)))
    g_end = np.flatnonzero(in_gene & (last_of_region | ~np.roll(in_gene, -1)))
    c_start = np.flatnonzero(is_cds & (first_of_region | ~np.roll(is_cds, 1)))
    c_end = np.flatnonzero(is_cds & (last_of_region | ~np.roll(is_cds, -1)))
    gain = em_b[np.arange(path.size), hmm.emit_arr[path]] - em_b[:, E_IG]
    cpos = hmm.cpos_arr[path]

    out: list[tuple[int, ViterbiGene]] = []
    for a, b in zip(g_start.tolist(), g_end.tolist()):
        lo_c, hi_c = np.searchsorted(c_start, a), np.searchsorted(c_start, b, side="right")
        if lo_c == hi_c:
            continue  # an intron-only fragment at a sequence edge
        plus = kind[a] in (PLUS_CDS, PLUS_INTRON)
        r = region_of[a]
        left_open = bool(first_of_region[a] and before[r] != hmm.ig_state)
        right_open = bool(last_of_region[b] and lo[r] + lens[r] == n[r])
        segs = [(int(gpos[x]) + 1, int(gpos[y]) + 1) for x, y in zip(c_start[lo_c:hi_c], c_end[lo_c:hi_c])]
        first_cpos, last_cpos = int(cpos[c_start[lo_c]]), int(cpos[c_end[hi_c - 1]])
        score = float(np.sum(gain[a : b + 1], dtype=np.float64))  # the gene's own bases only: batch-independent
        if plus:
            g = ViterbiGene("+", segs, score, left_open, right_open)
            five_cpos, three_cpos = first_cpos, last_cpos
        else:
            g = ViterbiGene("-", segs[::-1], score, right_open, left_open)
            five_cpos, three_cpos = last_cpos, first_cpos
        if g.start_partial:
            _trim(g, five=(3 - five_cpos) % 3)
        if g.end_partial:
            _trim(g, three=(three_cpos + 1) % 3)
        if not g.cds:
            continue
        if g.cds_length < min_len:
            counts["short"] += 1
        elif g.score <= min_score:
            counts["low_score"] += 1
        elif not _valid(g, jobs[job_of[r]].seq, code, hmm):
            counts["invalid"] += 1
        else:
            out.append((int(job_of[r]), g))
    return out


def _trim(g: ViterbiGene, five: int = 0, three: int = 0) -> None:
    """Drop bases from the transcription 5' / 3' end of a partial CDS, to whole codons."""
    plus = g.strand == "+"
    while five and g.cds:
        a, b = g.cds[0]
        take = min(five, b - a + 1)
        g.cds[0] = (a + take, b) if plus else (a, b - take)
        five -= take
        if g.cds[0][0] > g.cds[0][1]:
            g.cds.pop(0)
    while three and g.cds:
        a, b = g.cds[-1]
        take = min(three, b - a + 1)
        g.cds[-1] = (a, b - take) if plus else (a + take, b)
        three -= take
        if g.cds[-1][0] > g.cds[-1][1]:
            g.cds.pop()


def _valid(g: ViterbiGene, seq: bytes, code: GeneticCode, hmm: GeneHMM) -> bool:
    """The spliced CDS read as the cell would: whole codons, a start (unless 5' partial), a
    final stop (unless 3' partial) and no stop before it. Catches split start codons and the
    stop checks the HMM makes on contiguous bases."""
    parts = [seq[a - 1 : b] for a, b in sorted(g.cds)]
    cds = b"".join(parts)
    if g.strand == "-":
        cds = reverse_complement(cds)
    if len(cds) % 3:
        return False
    codons = [cds[i : i + 3] for i in range(0, len(cds), 3)]
    g.start_codon = codons[0].decode()
    if not g.start_partial and not hmm.tables["start"][word_code(codons[0])]:
        return False
    body = codons if g.end_partial else codons[:-1]
    if not g.end_partial and codons[-1] not in code.stops:
        return False
    return not any(c in code.stops for c in body)


def viterbi_gene_to_gene(g: ViterbiGene, seqid: str, index: int, prefix: str) -> Gene:
    return predicted_gene(g, seqid, index, prefix)


class ViterbiDecoder:
    """`--decoder viterbi` (predict/decoders.py): each record is decoded as it comes (nothing is
    learned across the genome), with one HMM built for the run."""

    uses_track = True

    def __init__(self, cfg, source: str = ""):
        self.cfg, self.code = cfg, genetic_code(cfg.genetic_code)
        self.hmm = build_hmm(self.code, starts=start_codon_set(cfg))
        self.genes: list[list[ViterbiGene]] = []

    def add(self, rec, track: np.ndarray | None) -> None:
        if track is None:  # shorter than the shortest gene
            self.genes.append([])
            return
        self.genes.append(decode_viterbi(rec.seq, track, self.code, hmm=self.hmm, min_len=self.cfg.min_gene_length,
                                         min_score=self.cfg.min_score or 0.0))

    def finish(self, on_bases=None) -> Decoded:
        return Decoded(self.genes)
