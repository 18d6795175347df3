"""The gene set of a whole sequence by dynamic programming, not greedy picking.

Candidates are intervals with a score (log-odds of being a gene with that start). The best
set maximises the summed score subject to how real prokaryotic genes overlap (Prodigal's rules):
two genes on the same strand may share at most `same` bases (a stop codon overlapping the next
start: ATGA, TGATG); genes on opposite strands may overlap by their 3' ends (convergent, up to
`convergent` bases) but by their 5' ends only up to `divergent`; no gene lies inside another.

Weighted interval scheduling with bounded overlaps: candidates sorted by right end; the best
chain ending in candidate i is its score plus the best of (a) any chain ending far left of i (a
running maximum per strand, found by bisection), (b) each candidate ending within `near` bases
left of i and (c) each candidate that ends inside i's first `convergent` bases and may overlap
it, each with the junction score of the pair (Junctions). Time O(n log n + n * neighbours).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

OPERON_DIST = 60  # bp: same-strand neighbours this close are scored as one operon (Prodigal's)
# From this many candidates on, the recursion runs compiled (dp_kernel.py) where numba imports,
# and once it is imported, for any size: below it the Python loop is quicker than numba's
# import (~0.2 s; a 350 kb phage's DP has ~5,000 candidates at ~3 us each, a 2 Mb archaeon's
# ~40,000)
COMPILED_FROM = 20_000

# how two consecutive genes of a chain face each other
SAME, CONVERGENT, DIVERGENT = 0, 1, 2  # same strand; left on '+' and right on '-'; left on '-' and right on '+'


def facing(left_plus: bool, right_plus: bool) -> int:
    if left_plus == right_plus:
        return SAME
    return CONVERGENT if left_plus else DIVERGENT


@dataclass
class Junctions:
    """Score of the junction between two consecutive genes of a chain, by how they face each
    other and the bases d between them (d = right gene's first base - left gene's last base - 1;
    negative: they overlap): `table[facing, d + reach]` for -reach <= d <= near, and beyond
    `near` `tail[facing] - slope * (d - near - 1)` (a geometric tail, so the DP can still keep one
    running maximum per strand for far neighbours). Where a start overlaps its same-strand
    upstream neighbour's stop as in ATGA or TAATG (a coupled operon), the downstream gene also
    gets back `rescue` (per candidate: the negative part of its RBS and upstream scores)."""

    table: np.ndarray  # (3, reach + near + 1)
    reach: int
    tail: np.ndarray  # (3,)
    slope: float
    rescue: np.ndarray

    @property
    def near(self) -> int:
        return self.table.shape[1] - self.reach - 1

    @classmethod
    def prodigal(cls, apart: float, operon: float, rescue: np.ndarray, reach: int = 200) -> Junctions:
        """Prodigal's intergenic term (learned from its method): `apart` for neighbours on
        opposite strands or more than 3 x OPERON_DIST apart (Prodigal: -0.15 x its start weight,
        in effect a cost per gene); same-strand neighbours closer than OPERON_DIST (or
        overlapping by more than 3/4 of it) gain (2 - distance / OPERON_DIST) x `operon`, the
        distance counted from the stop codon's first base to the start."""
        near = 3 * OPERON_DIST - 3
        d = np.arange(-reach, near + 1)
        dist = np.abs(d + 3)
        same = np.where(((dist <= OPERON_DIST) & (d >= 0)) | (dist < OPERON_DIST / 4), (2.0 - dist / OPERON_DIST) * operon, 0.0)
        table = np.stack([same, np.full(len(d), apart), np.full(len(d), apart)])
        return cls(table, reach, np.full(3, apart), 0.0, rescue)

    def pair(self, lo1: int, hi1: int, plus1: bool, idx1: int, lo2: int, plus2: bool, idx2: int) -> float:
        """Score of gene 2 (starting at lo2) following gene 1 (ending at hi1) on its left."""
        f, d = facing(plus1, plus2), lo2 - hi1 - 1
        val = self.table[f, d + self.reach] if d <= self.near else self.tail[f] - self.slope * (d - self.near - 1)
        if f == SAME and d in (-1, -4):  # TAATG / ATGA: the downstream gene's start rides on the stop
            val += self.rescue[idx2] if plus2 else self.rescue[idx1]
        return float(val)

    def best_bonus(self) -> np.ndarray:
        """The most any junction can add to each candidate."""
        return self.rescue + max(float(self.table.max()), float(self.tail.max()), 0.0)


def select(lo: np.ndarray, hi: np.ndarray, plus: np.ndarray, score: np.ndarray, *,
           same: int = 60, convergent: int = 200, divergent: int = 0,
           junctions: Junctions | None = None) -> np.ndarray:
    """Indices (into the inputs) of the best-scoring compatible set. Only positive scores can
    be chosen. lo/hi: 1-based inclusive; plus: True for '+' strand. With `junctions`, each
    pair of consecutive genes adds its junction score, and a gene is then kept only if its own
    score plus the junction that belongs to its start (Prodigal's eliminate_bad_genes) is >= 0."""
    if junctions is None:
        keep = np.flatnonzero(score > 0)
    else:
        keep = np.flatnonzero(score + junctions.best_bonus() > 0)
    if keep.size == 0:
        return keep
    order = keep[np.lexsort((lo[keep], hi[keep]))]
    n = len(order)
    reach = max(same, convergent, divergent)
    if junctions is None:
        near, slope, offset = 0, 0.0, 0
        table, tail = np.zeros((3, reach + 1)), np.zeros(3)
    else:
        if junctions.reach < reach:
            raise ValueError(f"junction table reaches {junctions.reach} bp of overlap, the rules allow {reach}")
        near, slope, offset = junctions.near, junctions.slope, junctions.reach
        table, tail = junctions.table, junctions.tail
    top = max(float(table.max()), float(tail.max())) if junctions is not None else 0.0
    from genet5.predict.prokaryote.dp_kernel import kernel as compiled, loaded

    kernel = compiled() if n >= COMPILED_FROM or loaded() else None  # once imported, for every size
    if kernel is not None:
        # arrays straight to the kernel (a draft's records make thousands of small calls: no
        # round trip through lists)
        best_a, back_a, link_a = np.zeros(n), np.full(n, -1, dtype=np.int64), np.zeros(n)
        prefix_a, prefix_at_a = np.zeros(n), np.full(n, -1, dtype=np.int64)
        rescue = junctions.rescue if junctions is not None else np.zeros(len(lo))
        kernel(np.ascontiguousarray(lo[order], dtype=np.int64), np.ascontiguousarray(hi[order], dtype=np.int64),
               np.ascontiguousarray(plus[order], dtype=np.bool_), np.ascontiguousarray(score[order], dtype=np.float64),
               order.astype(np.int64), np.ascontiguousarray(table, dtype=np.float64), np.ascontiguousarray(tail, dtype=np.float64),
               float(slope), int(near), int(offset), float(top), int(same), int(convergent), int(divergent), int(reach),
               np.ascontiguousarray(rescue, dtype=np.float64), junctions is not None, best_a, back_a, link_a, prefix_a, prefix_at_a)
        S, P = score[order].tolist(), plus[order].tolist()
        back, link, prefix_at = back_a.tolist(), link_a.tolist(), prefix_at_a.tolist()
    else:
        L, H = lo[order].tolist(), hi[order].tolist()
        P, S = plus[order].tolist(), score[order].tolist()
        best, back, link = [0.0] * n, [-1] * n, [0.0] * n  # link: junction score between a chosen gene and the one before it
        prefix, prefix_at = [0.0] * n, [-1] * n  # max of best[0..i], and which index reaches it
        _recursion(L, H, P, S, order, table.tolist(), tail.tolist(), slope, near, offset, top, same, convergent, divergent,
                   reach, junctions, best, back, link, prefix, prefix_at)
    chain = []
    i = prefix_at[n - 1]
    while i >= 0:
        chain.append(i)
        i = back[i]
    chain.reverse()
    if junctions is not None:
        chain = _eliminate_bad(chain, S, P, link, back)
    return np.array(sorted(order[i] for i in chain), dtype=np.int64)


def _recursion(L, H, P, S, order, table, tail, slope, near, offset, top, same, convergent, divergent, reach,
               junctions, best, back, link, prefix, prefix_at) -> None:
    """select's recursion in Python (dp_kernel.py compiles the same): fills best, back, link,
    prefix and prefix_at (lists of n) in place."""
    n = len(L)
    # far neighbours (more than `near` bases to the left): per strand of the left gene, the
    # running maximum of best + slope x its end, with the index reaching it
    far = {True: ([0.0] * n, [-1] * n), False: ([0.0] * n, [-1] * n)}
    for i in range(n):
        li, hi_i, pi = L[i], H[i], P[i]
        j0 = bisect.bisect_left(H, li - 1 - near, 0, i)  # candidates 0..j0-1 end more than `near` left of i
        j1 = bisect.bisect_left(H, li, j0, i)  # j0..j1-1 end just left of i, j1.. overlap it
        b, arg, jn = 0.0, -1, 0.0
        if j0 > 0:
            for s in (True, False):
                val, at = far[s]
                if at[j0 - 1] >= 0:
                    pair = tail[SAME if s == pi else (CONVERGENT if s else DIVERGENT)] - slope * (li - 2 - near - H[at[j0 - 1]])
                    if best[at[j0 - 1]] + pair > b:
                        b, arg, jn = best[at[j0 - 1]] + pair, at[j0 - 1], pair
        for j in range(j0, j1):
            # a gene ending within `near` bases left of i: its junction from the table (the hot spot)
            if best[j] + top <= b:
                continue
            pair = table[SAME if P[j] == pi else (CONVERGENT if P[j] else DIVERGENT)][li - H[j] - 1 + offset]
            if best[j] + pair > b:
                b, arg, jn = best[j] + pair, j, pair
        j = j1
        limit = li + reach
        while j < i and H[j] < limit:
            hj = H[j]
            if hj < hi_i and L[j] < li:
                pj = P[j]
                ov = hj - li + 1
                if pj == pi:
                    ok = ov <= same
                elif pj:  # j on '+', i on '-': 3' ends face each other
                    ok = ov <= convergent
                else:  # j on '-', i on '+': 5' ends overlap
                    ok = ov <= divergent
                if ok:
                    pair = junctions.pair(L[j], hj, pj, order[j], li, pi, order[i]) if junctions is not None else 0.0
                    if best[j] + pair > b:
                        b, arg, jn = best[j] + pair, j, pair
            j += 1
        best[i] = S[i] + b
        back[i] = arg
        link[i] = jn
        if i and prefix[i - 1] >= best[i]:
            prefix[i], prefix_at[i] = prefix[i - 1], prefix_at[i - 1]
        else:
            prefix[i], prefix_at[i] = best[i], i
        for s in (True, False):
            val, at = far[s]
            cur = best[i] + slope * hi_i if s == pi else -np.inf
            if i and at[i - 1] >= 0 and val[i - 1] >= cur:
                val[i], at[i] = val[i - 1], at[i - 1]
            elif s == pi:
                val[i], at[i] = cur, i


def _eliminate_bad(chain: list[int], S: list[float], P: list[bool], link: list[float], back: list[int]) -> list[int]:
    """Drop chosen genes whose score plus the junction at their start is negative (a junction
    belongs to the downstream gene of a same-strand pair, to the left gene when it is on '-',
    to neither of a convergent pair)."""
    own = {i: S[i] for i in chain}
    for i in chain:
        j = back[i]
        if j < 0:
            continue
        if not P[j]:
            own[j] += link[i]
        elif P[i]:
            own[i] += link[i]
    return [i for i in chain if own[i] >= 0]


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
