"""The coding chain's hot loops compiled with numba (dp_kernel.coding_kernels says when
they are used): each candidate's summed log-ratio
(CodingModel.frame_sums) and the fit's in-frame context counts (CodingModel.fit).

chain_sums reads each base's row of the chain's table straight from its context and keeps the
running sum of codon totals, where the numpy path first gathers an (L, 3) float32 track and then
sums it (orfs.frame_sums): the same float64 additions in the same order, so the same numbers bit
for bit, without the track's memory traffic. gene_counts marks each base's codon position as the
numpy path does (genes in order, a later gene's position winning where two overlap) and counts
(position, context, base) in one pass: integers, the same. tests/predict/test_prokaryote_dp.py
compares both with the numpy paths.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def chain_sums(codes, ctx, ok, rows, a, e, out):  # pragma: no cover (compiled)
    """out[i] = the sum over candidate i's codons of rows[row(p), (p - a[i]) mod 3], row(p) =
    ctx[p] * 4 + codes[p] where ok[p], else the last row (zeros), for the whole-codon candidates
    (e - a + 1 a multiple of 3); the others are left as they are."""
    n = len(codes)
    zero = rows.shape[0] - 1
    c = np.empty((3, n // 3 + 1))
    for g in range(3):
        m = (n - g) // 3
        c[g, 0] = 0.0
        total = 0.0
        for k in range(m):
            p = g + 3 * k
            r0 = np.int64(ctx[p]) * 4 + codes[p] if ok[p] else zero
            r1 = np.int64(ctx[p + 1]) * 4 + codes[p + 1] if ok[p + 1] else zero
            r2 = np.int64(ctx[p + 2]) * 4 + codes[p + 2] if ok[p + 2] else zero
            v = np.float64(rows[r0, 0])
            v += rows[r1, 1]
            v += rows[r2, 2]
            total += v
            c[g, k + 1] = total
    for i in range(len(a)):
        if (e[i] - a[i] + 1) % 3 == 0:
            g = a[i] % 3
            out[i] = c[g, (e[i] - g) // 3 + 1] - c[g, (a[i] - g) // 3]


@njit(cache=True, nogil=True)
def gene_counts(codes, ctx, ok, a, e, m, out):  # pragma: no cover (compiled)
    """Add to out (3 * m * 4,) int64 the count of each (codon position, context, base) over the
    bases of the genes [a, e] (inclusive) whose context is clean (ok); a base inside two genes is
    counted once, at the position the later gene gives it."""
    if len(a) == 0:
        return
    lo, hi = a.min(), e.max()
    phase = np.full(hi - lo + 1, -1, dtype=np.int64)
    for j in range(len(a)):
        for i in range(a[j], e[j] + 1):
            phase[i - lo] = (i - a[j]) % 3
    for i in range(lo, hi + 1):
        p = phase[i - lo]
        if p >= 0 and ok[i]:
            out[(p * m + np.int64(ctx[i])) * 4 + codes[i]] += 1
