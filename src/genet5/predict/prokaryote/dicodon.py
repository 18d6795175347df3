"""A second self-trained score of each candidate gene, built the way Prodigal builds its own
(Hyatt et al. 2010; learned from its method, not its code), to sit beside the decoder's
weighted sum (decoder.py):

- coding: an in-frame hexamer ("dicodon") log-ratio of the genome's chosen genes against every
  hexamer of both strands, clipped to +-5, summed once per codon from the start to the stop;
  a start is charged for coding evidence it leaves upstream in its ORF, and the ORF-length
  log-odds is added, lowered for interior starts by what they leave upstream, with a floor of
  half of it on the coding of long ORFs;
- start: start codon and Shine-Dalgarno log-odds plus the base composition at -1, -2 and
  -15..-44 against the genome's GC, all times a start weight; the start parts of genes under
  250 bp shrink (positive) or grow (negative) with 250 / length, and a start whose coding is
  negative loses 0.5; genes cut by a sequence edge are scored as Prodigal scores them (a
  partial gene's edge candidate gets a bonus, a start codon in an ORF that runs off the edge a
  cost, a 3'-partial gene half the bonus off). The codon and motif weights (over Prodigal's
  motif bins, sd_bins.py) and the composition are learned from sure ORFs (train_starts),
  blended with the decoder's start model (starts.py) where there are few.

What it adds to the decoder's own terms is a different *shape* (coding per codon and clipped,
the start weight well above the coding's, the short-gene scaling); docs/benchmarks.md, issue 11.
"""

from __future__ import annotations

import numpy as np

from genet5.predict.prokaryote.orfs import Strand, base_codes
from genet5.predict.prokaryote.sd_bins import N_BINS, best_bins
from genet5.predict.prokaryote.threads import memoized, thread_map

CLIP_CODING = 5.0
CLIP_START = 4.0
# upstream columns: bases -1, -2 and -15..-44 (the Shine-Dalgarno region -3..-14 is the RBS's)
UPSTREAM = np.array([1, 2] + list(range(15, 45)))
UPSTREAM_SHARE = 0.4  # weight of each upstream column relative to the codon and RBS terms
SHORT_GENE = 250  # bp below which a gene's start parts are rescaled by length
# Genes cut by a sequence edge, in start-weight units (Prodigal's values): an edge candidate's
# start score; a 3'-partial gene pays half of it; a start codon whose ORF runs off the 5' edge
# pays EDGE_CLOSING in its upstream part
EDGE_BONUS = 0.74
EDGE_CLOSING = -1.0
START_TRAIN_ROUNDS = 10  # Prodigal's start training: rounds, and the whole score of a sure gene
START_TRAIN_MIN = 35.0


def hexamers(codes: np.ndarray) -> np.ndarray:
    """Index 0..4095 of the hexamer starting at each base; -1 where it has a non-ACGT base or
    runs off the end. int16: a genome's both strands are kept for every round (HexamerCache),
    146 MB as int64 for a 9 Mb genome, 36 MB so."""
    n = len(codes)
    out = np.full(n, -1, dtype=np.int16)
    if n < 6:
        return out
    # int16 throughout, in place (4^6 - 1 fits): int64 temporaries were ~0.3 GB on a 9 Mb strand
    idx = np.zeros(n - 5, dtype=np.int16)
    ok = np.ones(n - 5, dtype=bool)
    for j in range(6):
        c = codes[j : n - 5 + j]
        clean = c < 4
        ok &= clean
        idx *= 4
        idx += np.where(clean, c, 0).astype(np.int16, copy=False)
    out[: n - 5] = np.where(ok, idx, -1)
    return out


class HexamerCache:
    """Memo of (base codes, hexamers) per oriented sequence: every self-training round reads the
    same sequences (keyed by the bytes object; bytes cache their hash)."""

    def __init__(self):
        self._memo: dict = {}

    def __call__(self, s: bytes) -> tuple[np.ndarray, np.ndarray]:
        hit = self._memo.get(s)
        if hit is None:
            codes = base_codes(s)
            hit = self._memo[s] = (codes, hexamers(codes))
        return hit

    def counts(self, s: bytes) -> np.ndarray:
        """(4096,) hexamer counts of `s` (background_counts: the same every round)."""
        key = ("counts", s)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = _hexamer_counts(self(s)[1])
        return hit

    def fill(self, seqs: list[bytes], threads: int) -> None:
        """Compute the missing entries for `seqs` on `threads` threads."""
        todo = [s for s in seqs if s not in self._memo]
        thread_map(self, todo, threads, bases=sum(map(len, todo)))


def _hexamer_counts(h: np.ndarray) -> np.ndarray:
    return np.bincount(h[h >= 0], minlength=4096)


def _uncached(s: bytes) -> tuple[np.ndarray, np.ndarray]:
    codes = base_codes(s)
    return codes, hexamers(codes)


def _codon_sums(values: np.ndarray, a: np.ndarray, last: np.ndarray) -> np.ndarray:
    """sum of values[j] for j = a, a+3, ..., last (inclusive; 0 where last < a); `values` (L,),
    or (rows, L) for several tables at once (each row the same numbers as alone)."""
    out = np.zeros(values.shape[:-1] + (len(a),))
    for g in range(3):
        sel = (a % 3) == g
        if not sel.any():
            continue
        frame = values[..., g::3]  # c[k]: sum of the first k codons of frame g
        c = np.concatenate([np.zeros(frame.shape[:-1] + (1,)), np.cumsum(frame, axis=-1)], axis=-1)
        lo = (a[sel] - g) // 3
        hi = np.maximum((last[sel] - g) // 3 + 1, lo)
        out[..., sel] = c[..., np.minimum(hi, c.shape[-1] - 1)] - c[..., lo]
    return out


def _group_running_max(values: np.ndarray, group: np.ndarray, order: np.ndarray) -> np.ndarray:
    """For each element, the maximum of `values` over the elements of its group that come
    before it in `order` (itself included; `order` keeps each group together); `values` (n,),
    or (rows, n), row by row."""
    if values.shape[-1] == 0:
        return values.copy()
    v = values[..., order].astype(np.float64)
    g = group[order]
    rank = np.concatenate([[0], np.cumsum(np.diff(g) != 0)])
    lo = v.min(axis=-1, keepdims=True)
    step = v.max(axis=-1, keepdims=True) - lo + 1.0
    # lifting each later group above every earlier one makes one running max a per-group one
    lifted = v - lo + rank * step
    res = np.empty_like(v)
    res[..., order] = np.maximum.accumulate(lifted, axis=-1) - rank * step + lo
    return res


def _upstream_counts(codes: np.ndarray, a: np.ndarray) -> np.ndarray:
    """(len(UPSTREAM), 4) base counts at the upstream columns of the starts `a`."""
    up = a[:, None] - UPSTREAM[None, :]
    b = np.where(up >= 0, codes[np.clip(up, 0, None)], 4)
    cols = len(UPSTREAM)  # one bincount over (column, base), N (4) counted and dropped
    flat = (np.arange(cols)[None, :] * 5 + b).ravel()
    return np.bincount(flat, minlength=cols * 5).reshape(cols, 5)[:, :4].astype(np.float64)


def _upstream_log_odds(counts: np.ndarray, gc: float, pseudo_starts: float) -> np.ndarray:
    """Each upstream column's base log-odds against the genome's GC (clipped), `pseudo_starts`
    starts of the GC-expected mix added to every column."""
    gc = min(max(gc, 0.1), 0.9)
    expected = np.array([(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])
    ups = counts + pseudo_starts * expected[None, :]
    tot = ups.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        up_lo = np.where(tot > 0, np.log(ups / np.maximum(tot, 1) / expected[None, :]), 0.0)
    return np.clip(np.nan_to_num(up_lo, neginf=-CLIP_START), -CLIP_START, CLIP_START)


def _class_log_ratio(counts: np.ndarray, background: np.ndarray) -> np.ndarray:
    """log(share among the picked starts / share among all starts), clipped; -4 for a class no
    candidate has, 0 for all when nothing was picked (Prodigal's)."""
    if counts.sum() == 0:
        return np.zeros(len(counts))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(background > 0, np.log(counts / counts.sum() / background), -CLIP_START)
    return np.clip(np.nan_to_num(out, neginf=-CLIP_START), -CLIP_START, CLIP_START)


def _training_bin(exact: np.ndarray, mism: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The motif bin a start counts under while the weights are trained: the exact motif's
    unless the one-mismatch motif's weighs more than 1 above it (or there is no exact one);
    within 1 of each other, the higher bin."""
    we, wm = weights[exact], weights[mism]
    return np.where((we > wm + 1.0) | (mism == 0), exact,
                    np.where((we < wm - 1.0) | (exact == 0), mism, np.maximum(exact, mism)))


def _upstream_bases(cand: Strand, cache: HexamerCache | None = None) -> np.ndarray:
    """(candidates, len(UPSTREAM)): the base code at each upstream column of each start (4 off
    the sequence)."""
    codes = (cache or _uncached)(cand.seq)[0]
    up = cand.a[:, None] - UPSTREAM[None, :]
    return np.where(up >= 0, codes[np.clip(up, 0, None)], 4)


def _length_floor(length_log_odds: np.ndarray, cand: Strand, order: np.ndarray) -> np.ndarray:
    """coding_scores' length term: a start's length log-odds lowered by what a longer start of
    its ORF has above it (interior starts)."""
    lfac = length_log_odds.astype(np.float64)
    longest = _group_running_max(lfac, cand.orf, order)
    return np.where(lfac > 0, lfac - np.maximum(np.minimum(longest - lfac, lfac), 0.0), lfac)


def _start_scaling(cand: Strand) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What DicodonModel.scores takes from the candidates alone (computed once per strand, not
    once per parameter set): the upstream part's charge for closing a gene whose ORF runs off the
    5' edge, and the factors on the negative and positive start parts of short genes."""
    # a start codon in an ORF that runs off the sequence's edge pays for closing a gene that
    # could go on past it (the edge candidate, a partial gene, gets a bonus instead): on a
    # contig, the true start of such a gene lies beyond the edge more often than not
    open5 = np.isin(cand.orf, cand.orf[cand.edge]) & ~cand.edge
    span = (cand.e - cand.a + 1 - 3).astype(np.float64)  # start to the stop codon's first base
    short = (~cand.edge) & (~cand.open3) & (span < SHORT_GENE)
    neg = np.where(short, SHORT_GENE / np.maximum(span, 1.0), 1.0)
    pos = np.where(short, span / SHORT_GENE, 1.0)
    return np.where(open5, EDGE_CLOSING, 0.0), neg, pos


def orf_groups(cand: Strand) -> tuple[np.ndarray, np.ndarray]:
    """(order, first): candidates sorted by ORF, upstream start first, and where each ORF
    begins in that order (for best_start_per_orf, once per strand)."""
    order = upstream_order(cand)
    o = cand.orf[order]
    return order, np.flatnonzero(np.concatenate(([True], o[1:] != o[:-1]))) if len(o) else np.zeros(0, dtype=np.int64)


def _orf_sizes(first: np.ndarray, n: int) -> np.ndarray:
    """Candidates of each ORF from where each begins among n (np.diff of np.r_: ~15 us a call)."""
    sizes = np.empty(len(first), dtype=np.int64)
    sizes[:-1] = first[1:] - first[:-1]
    sizes[-1] = n - first[-1]
    return sizes


def best_start_per_orf(total: np.ndarray, groups: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Index of the best-scoring candidate of each ORF (ties: the downstream one; ORFs whose
    every candidate scores -inf give none)."""
    order, first = groups
    if len(order) == 0:
        return np.zeros(0, dtype=np.int64)
    t = total[order]
    top = np.repeat(np.maximum.reduceat(t, first), _orf_sizes(first, len(t)))
    at = np.maximum.reduceat(np.where(t == top, np.arange(len(t)), -1), first)
    best = order[at]
    return best[np.isfinite(total[best])]


def best_start_per_orf_rows(totals: np.ndarray, groups: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """best_start_per_orf for each row of `totals` (rows, candidates) at once, before its
    filter of -inf rows: (rows, ORFs) candidate indices, the same choice row by row."""
    order, first = groups
    if len(order) == 0:
        return np.zeros((len(totals), 0), dtype=np.int64)
    t = totals[:, order]
    top = np.repeat(np.maximum.reduceat(t, first, axis=1), _orf_sizes(first, t.shape[1]), axis=1)
    at = np.maximum.reduceat(np.where(t == top, np.arange(t.shape[1]), -1), first, axis=1)
    return order[at]


def upstream_order(cand: Strand) -> np.ndarray:
    """Candidates sorted by ORF, the most upstream start first."""
    return np.lexsort((cand.a, cand.orf))


def background_counts(seqs: list[bytes], cache: HexamerCache | None = None) -> np.ndarray:
    """Counts of the 4096 hexamers at every position of `seqs` (a genome's two strands)."""
    bg = np.zeros(4096)
    for s in seqs:
        bg += cache.counts(s) if cache is not None else _hexamer_counts(_uncached(s)[1])
    return bg


def gene_counts(genes: list[tuple[bytes, np.ndarray, np.ndarray]], cache: HexamerCache | None = None,
                through_stop: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(in-frame hexamer counts (4096), upstream base counts (len(UPSTREAM), 4)) of the genes
    (DicodonModel.fit's `genes` and `through_stop`)."""
    read = cache or _uncached
    cnt = np.zeros(4096)
    ups = np.zeros((len(UPSTREAM), 4))
    for s, a, e in genes:
        if len(a) == 0:
            continue
        codes, h = read(s)
        # hexamers at each codon from the start to the last sense codon (it reads the stop),
        # or to the one before
        lengths = np.maximum((e - 5 - a) // 3 + 1 - (0 if through_stop else 1), 0)
        pos = np.repeat(a, lengths) + 3 * (np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths))
        hp = h[pos]
        cnt += np.bincount(hp[hp >= 0], minlength=4096)
        ups += _upstream_counts(codes, a)
    return cnt, ups


class DicodonModel:
    """Prodigal-style coding table (4096 in-frame hexamer log-ratios) and upstream composition
    (len(UPSTREAM), 4) log-odds against the genome's GC."""

    def __init__(self, coding: np.ndarray, upstream: np.ndarray, start_weight: float, codons: int = 0):
        self.coding, self.upstream, self.start_weight = coding, upstream, start_weight
        self.codons = codons  # codons of the genes it was fitted on
        self.type_wt: np.ndarray | None = None  # own start codon and RBS class weights (train_starts)
        self.rbs_wt: np.ndarray | None = None
        self.sure_starts = 0
        self.start_share = 0.0

    @classmethod
    def fit(cls, genes: list[tuple[bytes, np.ndarray, np.ndarray]], background: list[bytes], gc: float,
            start_weight: float, pseudo: float = 0.0, pseudo_starts: float = 0.0,
            cache: HexamerCache | None = None, through_stop: bool = True) -> "DicodonModel":
        """genes: per oriented sequence, (sequence, starts, last bases incl. the stop) of the chosen
        complete genes; background: oriented sequences of the genome (both strands); pseudo:
        codons of the background's hexamer mix added to the genes' counts (pulls a small genome's
        table towards 0 where it has seen a hexamer a few times); pseudo_starts: starts of the
        GC-expected composition added to each upstream column's counts; through_stop: count the
        hexamer that reads the stop codon too (Prodigal counts to the last sense codon only, so
        that hexamer, which every candidate's score reads, is never seen in its genes)."""
        cnt, ups = gene_counts(genes, cache, through_stop)
        bg = background_counts(background, cache)
        return cls.from_counts(cnt, bg, ups, gc, start_weight, pseudo, pseudo_starts)

    @classmethod
    def from_counts(cls, cnt: np.ndarray, bg: np.ndarray, ups: np.ndarray, gc: float, start_weight: float,
                    pseudo: float = 0.0, pseudo_starts: float = 0.0) -> "DicodonModel":
        """The model of in-frame hexamer counts `cnt` (4096) against background hexamer counts
        `bg` (4096), and upstream base counts `ups` (len(UPSTREAM), 4); `fit` explains the rest
        (scripts/make_meta_models.py pools counts of several genomes this way)."""
        bg_frac = bg / max(bg.sum(), 1)
        cnt = cnt + pseudo * bg_frac
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.log((cnt / max(cnt.sum(), 1)) / bg_frac)
        ratio[(cnt == 0) & (bg > 0)] = -CLIP_CODING
        ratio[bg == 0] = 0.0
        coding = np.clip(ratio, -CLIP_CODING, CLIP_CODING)
        return cls(coding, _upstream_log_odds(ups, gc, pseudo_starts), start_weight, int(cnt.sum() - pseudo))

    def train_starts(self, strands: list[tuple[Strand, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]],
                     gc: float, half_starts: float = 0.0, cache: HexamerCache | None = None,
                     memo: dict | None = None, threads: int = 1) -> None:
        """Start codon and Shine-Dalgarno bin weights (sd_bins.py), and the upstream composition,
        learned Prodigal's way (its train_starts_sd) instead of from the decoder's genes: in
        every ORF the start with the best coding + start weight x (codon + motif weight) is
        taken if that reaches START_TRAIN_MIN (a sure gene); each class's weight is the
        log-ratio of its share among those starts to its share among all candidate starts
        (clipped +-4, no pseudo-counts); START_TRAIN_ROUNDS rounds from zero weights; the last
        round's starts give the upstream composition. strands: (candidates, length log-odds,
        codon class, (exact, one-mismatch) motif bin masks) per strand. half_starts: the codon
        and motif weights count n / (n + half_starts) against the decoder's start model's
        log-odds, and the composition against the one fitted on the decoder's genes, n the sure
        starts they were learned from (a 50 kb phage has ~30). threads: the strands' coding
        scores computed on that many threads (the same scores)."""
        from genet5.predict.prokaryote.starts import N_CODON

        # every strand's candidates as one flat set (a draft of 300 contigs has 600 strands: the
        # rounds below cost Python per call, not per candidate); ORFs stay apart by strand.
        # memo (threads.memoized): scores() reads the same coding scores next
        cscores = thread_map(lambda x: memoized(memo, ("hexamers", id(self.coding), id(x[0])),
                                                lambda: self.coding_scores(x[0], x[1], cache)),
                             strands, threads, bases=sum(x[0].length for x in strands))
        cands = [x[0] for x in strands]
        offsets = list(np.cumsum([0] + [len(c.a) for c in cands]))
        cat = (lambda xs, dt: np.concatenate(xs).astype(dt, copy=False) if xs else np.zeros(0, dtype=dt))
        cscore = cat(cscores, np.float64)
        cod = cat([x[2] for x in strands], np.int64)
        edge = cat([c.edge for c in cands], bool)
        masks = [x[3] for x in strands]
        zero = np.zeros(N_BINS)  # before training every bin weighs 0: a start's highest bin
        b_exact = best_bins(cat([m[0] for m in masks], np.int64), zero)
        b_mism = best_bins(cat([m[1] for m in masks], np.int64), zero)
        groups = [orf_groups(c) for c in cands]
        order = cat([g[0] + off for g, off in zip(groups, offsets)], np.int64)
        first = cat([g[1] + off for g, off in zip(groups, offsets)], np.int64)
        all_codon = cod[~edge]
        bg_codon = np.bincount(all_codon, minlength=N_CODON) / max(len(all_codon), 1)
        nodes = len(all_codon) + sum(len(np.unique(c.orf)) for c in cands)
        type_wt, rbs_wt = np.zeros(N_CODON), np.zeros(N_BINS)
        threshold = START_TRAIN_MIN
        best = np.zeros(0, dtype=np.int64)
        for _ in range(START_TRAIN_ROUNDS):
            motif = _training_bin(b_exact, b_mism, rbs_wt)
            bg_bin = np.bincount(motif[~edge], minlength=N_BINS).astype(np.float64)
            total = np.where(edge, -np.inf, cscore + self.start_weight * (rbs_wt[motif] + type_wt[cod]))
            best = best_start_per_orf(total, (order, first))
            best = best[total[best] >= threshold]
            n_codon = np.bincount(cod[best], minlength=N_CODON).astype(np.float64)
            n_bin = np.bincount(motif[best], minlength=N_BINS).astype(np.float64)
            type_wt = _class_log_ratio(n_codon, bg_codon)
            rbs_wt = _class_log_ratio(n_bin, bg_bin / max(bg_bin.sum(), 1))
            if n_codon.sum() <= nodes / 2000.0:  # too few sure genes: Prodigal halves its bar
                threshold /= 2.0
        # the last round's starts, back per strand (best is in flat order, not sorted)
        strand_of = np.searchsorted(offsets, best, side="right") - 1
        picked = [np.sort(best[strand_of == i]) - offsets[i] for i in range(len(cands))]
        self.type_wt, self.rbs_wt = type_wt, rbs_wt
        self.sure_starts = int(n_codon.sum())  # starts the last round learned from
        self.start_share = self.sure_starts / (self.sure_starts + half_starts) if self.sure_starts else 0.0
        counts = np.zeros((len(UPSTREAM), 4))
        for c, idx in zip(cands, picked):
            counts += _upstream_counts((cache or _uncached)(c.seq)[0], c.a[idx])
        # blended like the weights: a few sure starts cannot fill 32 x 4 columns
        self.upstream = self.start_share * _upstream_log_odds(counts, gc, 0.0) + (1 - self.start_share) * self.upstream

    def start_log_odds(self, codon_class: np.ndarray, masks: tuple[np.ndarray, np.ndarray] | None,
                       codon: np.ndarray, rbs: np.ndarray, memo: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The codon and RBS log-odds the start score uses: its own (train_starts; the better
        of the best exact and best one-mismatch motif) where it has them, else the given ones
        (the decoder's start model). memo: threads.memoized's."""
        if self.type_wt is None or masks is None:
            return codon, rbs
        w, share = self.rbs_wt, self.start_share
        own_rbs = memoized(memo, ("sd_bins", id(w), id(masks)),
                           lambda: np.maximum(w[best_bins(masks[0], w)], w[best_bins(masks[1], w)]))
        return share * self.type_wt[codon_class] + (1 - share) * codon, share * own_rbs + (1 - share) * rbs

    def coding_scores(self, cand: Strand, length_log_odds: np.ndarray, cache: HexamerCache | None = None) -> np.ndarray:
        """Each candidate's coding score: hexamer sum, charged for coding left upstream, plus the
        length log-odds lowered for interior starts, with the long-ORF floor."""
        h = (cache or _uncached)(cand.seq)[1]
        values = np.where(h >= 0, self.coding[np.maximum(h, 0)], 0.0)
        raw = _codon_sums(values, cand.a, cand.e - 5)
        order = upstream_order(cand)
        best_up = _group_running_max(raw, cand.orf, order)
        cscore = raw - (best_up - raw)
        lfac = _length_floor(length_log_odds, cand, order)
        cscore = np.where((lfac > 3.0) & (cscore < 0.5 * lfac), 0.5 * lfac, cscore)
        return cscore + lfac

    @staticmethod
    def coding_scores_many(models: list["DicodonModel"], cand: Strand, length_log_odds: np.ndarray,
                           cache: HexamerCache | None = None) -> np.ndarray:
        """(models, candidates): each model's coding_scores, the same numbers, its hexamer table
        read with the others' in one gather (meta mode scores a contig under ~12 parameter
        sets: one call per set cost more than its arithmetic on a contig of a few kb)."""
        h = (cache or _uncached)(cand.seq)[1]
        tables = np.stack([m.coding for m in models])
        values = np.where(h >= 0, tables[:, np.maximum(h, 0)], 0.0)
        raw = _codon_sums(values, cand.a, cand.e - 5)
        order = upstream_order(cand)
        best_up = _group_running_max(raw, cand.orf, order)
        cscore = raw - (best_up - raw)
        lfac = _length_floor(length_log_odds, cand, order)
        cscore = np.where((lfac > 3.0) & (cscore < 0.5 * lfac), 0.5 * lfac, cscore)
        return cscore + lfac

    def upstream_scores(self, cand: Strand, cache: HexamerCache | None = None, memo: dict | None = None) -> np.ndarray:
        b = memoized(memo, ("upstream_bases", id(cand)), lambda: _upstream_bases(cand, cache))  # the same for every table
        table = np.concatenate([self.upstream, np.zeros((len(UPSTREAM), 1))], axis=1)
        return table[np.arange(len(UPSTREAM))[None, :], b].sum(axis=1)

    def scores(self, cand: Strand, length_log_odds: np.ndarray, codon: np.ndarray, rbs: np.ndarray,
               cache: HexamerCache | None = None, memo: dict | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(coding, start, rescue) score of each candidate, Prodigal's way (its whole score is
        coding + start; rescue: the negative part of the RBS and upstream scores, which a start
        overlapping its operon neighbour's stop gets back, dp.Junctions). codon, rbs: the start
        model's log-odds of each candidate's start codon and RBS class. memo: threads.memoized's
        (the hexamer and upstream sums, by table)."""
        cscore = memoized(memo, ("hexamers", id(self.coding), id(cand)), lambda: self.coding_scores(cand, length_log_odds, cache))
        upstream = memoized(memo, ("upstream", id(self.upstream), id(cand)), lambda: self.upstream_scores(cand, cache, memo))
        w = self.start_weight
        # the charge for closing a gene whose ORF runs off the 5' edge, the short-gene factors
        closing, neg, pos = memoized(memo, ("start_scaling", id(cand)), lambda: _start_scaling(cand))
        parts = [w * np.clip(codon, -CLIP_START, CLIP_START), w * np.clip(rbs, -CLIP_START, CLIP_START),
                 w * (UPSTREAM_SHARE * upstream + closing)]
        scaled = [np.where(p < 0, p * neg, p * pos) for p in parts]
        sscore = np.where(cand.edge, EDGE_BONUS * w, sum(scaled)) - np.where(cand.open3, 0.5 * EDGE_BONUS * w, 0.0)
        # negative coding costs a start 0.5, or the whole start weight where the gene's stop is
        # past the edge (less coding stands behind the start there)
        sscore = sscore - np.where((cscore < 0) & ~cand.edge, np.where(cand.open3, w, 0.5), 0.0)
        # what a start riding on its upstream neighbour's stop (ATGA, TAATG) gets back (dp.Junctions)
        rescue = np.where(cand.edge, 0.0, -(np.minimum(scaled[1], 0.0) + np.minimum(scaled[2], 0.0)))
        return cscore, sscore, rescue
