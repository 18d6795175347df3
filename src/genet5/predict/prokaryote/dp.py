"""The gene set of a whole sequence by dynamic programming, not greedy picking.

Candidates are intervals with a score (log-odds of being a gene with that start). The best
set maximises the summed score subject to how real prokaryotic genes overlap (Prodigal's rules):
two genes on the same strand may share at most `same` bases (a stop codon overlapping the next
start: ATGA, TGATG); genes on opposite strands may overlap by their 3' ends (convergent, up to
`convergent` bases) but by their 5' ends only up to `divergent`; no gene lies inside another.

Weighted interval scheduling with bounded overlaps: candidates sorted by right end; the best
chain ending in candidate i is its score plus the best of (a) any chain ending left of i (a
running prefix maximum, found by bisection) and (b) each candidate that ends inside i's first
`convergent` bases and may overlap it. Time O(n log n + n * overlapping neighbours).
"""

from __future__ import annotations

import bisect

import numpy as np


def select(lo: np.ndarray, hi: np.ndarray, plus: np.ndarray, score: np.ndarray, *,
           same: int = 60, convergent: int = 200, divergent: int = 0) -> np.ndarray:
    """Indices (into the inputs) of the best-scoring compatible set. Only positive scores can
    be chosen. lo/hi: 1-based inclusive; plus: True for '+' strand."""
    keep = np.flatnonzero(score > 0)
    if keep.size == 0:
        return keep
    order = keep[np.lexsort((lo[keep], hi[keep]))]
    L, H = lo[order].tolist(), hi[order].tolist()
    P, S = plus[order].tolist(), score[order].tolist()
    n = len(order)
    best = [0.0] * n
    back = [-1] * n
    prefix = [0.0] * n  # max of best[0..i]
    prefix_at = [-1] * n  # which index reaches it
    reach = max(same, convergent, divergent)
    for i in range(n):
        li, hi_i, pi = L[i], H[i], P[i]
        j0 = bisect.bisect_left(H, li, 0, i)  # candidates 0..j0-1 end left of i
        b, arg = 0.0, -1
        if j0 > 0 and prefix[j0 - 1] > 0:
            b, arg = prefix[j0 - 1], prefix_at[j0 - 1]
        j = j0
        limit = li + reach
        while j < i and H[j] < limit:
            hj = H[j]
            if hj < hi_i and L[j] < li and best[j] > b:
                ov = hj - li + 1
                pj = P[j]
                if pj == pi:
                    allowed = same
                elif pj:  # j on '+', i on '-': 3' ends face each other
                    allowed = convergent
                else:  # j on '-', i on '+': 5' ends overlap
                    allowed = divergent
                if ov <= allowed:
                    b, arg = best[j], j
            j += 1
        best[i] = S[i] + b
        back[i] = arg
        if i and prefix[i - 1] >= best[i]:
            prefix[i], prefix_at[i] = prefix[i - 1], prefix_at[i - 1]
        else:
            prefix[i], prefix_at[i] = best[i], i
    chosen = []
    i = prefix_at[n - 1]
    while i >= 0:
        chosen.append(order[i])
        i = back[i]
    return np.array(sorted(chosen), dtype=np.int64)


def greedy(lo: np.ndarray, hi: np.ndarray, plus: np.ndarray, score: np.ndarray, *,
           same: int = 60, convergent: int = 200, divergent: int = 0) -> np.ndarray:
    """Highest score first, each kept unless it breaks the overlap rules with one already kept:
    the older decoder's selection, kept only to measure what the DP adds (an ablation)."""
    kept: list[int] = []
    los: list[int] = []  # kept, sorted by lo
    idx: list[int] = []
    longest = 0
    for i in np.argsort(-score, kind="stable"):
        if score[i] <= 0:
            break
        li, hi_i = int(lo[i]), int(hi[i])
        ok = True
        p = bisect.bisect_left(los, li - longest)
        while p < len(los) and los[p] <= hi_i:
            j = idx[p]
            p += 1
            ov = min(hi_i, hi[j]) - max(li, lo[j]) + 1
            if ov <= 0:
                continue
            first, second = (j, i) if (lo[j], hi[j]) < (li, hi_i) else (i, j)
            if hi[second] <= hi[first] or lo[second] <= lo[first]:
                ok = False  # nested
            elif plus[first] == plus[second]:
                ok = ov <= same
            elif plus[first]:
                ok = ov <= convergent
            else:
                ok = ov <= divergent
            if not ok:
                break
        if ok:
            q = bisect.bisect_left(los, li)
            los.insert(q, li)
            idx.insert(q, int(i))
            longest = max(longest, hi_i - li + 1)
            kept.append(int(i))
    return np.array(sorted(kept), dtype=np.int64)
