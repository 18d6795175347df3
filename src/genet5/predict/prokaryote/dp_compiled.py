"""dp.select's recursion compiled with numba (dp_kernel.py says when it is used).

Module-level functions, imported only through dp_kernel.kernel(): numba's on-disk cache keys a
function by its source and the globals it calls, so these load from the cache in a new process.
Defined inside a function, the recursion's call to lower_bound was a closure over a dispatcher
made anew in each process, and every run compiled it again (~2 s, one more cache file each).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def lower_bound(H, x, lo, hi):  # pragma: no cover (compiled)
    """bisect.bisect_left(H, x, lo, hi)"""
    while lo < hi:
        mid = (lo + hi) // 2
        if H[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def recursion(L, H, P, S, order, table, tail, slope, near, offset, top, same, convergent, divergent, reach,
              rescue, has_junctions, best, back, link, prefix, prefix_at):  # pragma: no cover (compiled)
    n = len(L)
    far_val = np.zeros((2, n))  # [0]: left gene on '+', [1]: on '-'
    far_at = np.full((2, n), -1, dtype=np.int64)
    for i in range(n):
        li, hi_i, pi = L[i], H[i], P[i]
        j0 = lower_bound(H, li - 1 - near, 0, i)  # candidates 0..j0-1 end more than `near` left of i
        j1 = lower_bound(H, li, j0, i)  # j0..j1-1 end just left of i, j1.. overlap it
        b, arg, jn = 0.0, -1, 0.0
        if j0 > 0:
            for s in range(2):  # True ('+') first, as the Python loop
                at = far_at[s, j0 - 1]
                if at >= 0:
                    s_plus = s == 0
                    if s_plus == pi:
                        f = 0
                    elif s_plus:
                        f = 1
                    else:
                        f = 2
                    pair = tail[f] - slope * (li - 2 - near - H[at])
                    if best[at] + pair > b:
                        b, arg, jn = best[at] + pair, at, pair
        for j in range(j0, j1):
            if best[j] + top <= b:
                continue
            if P[j] == pi:
                f = 0
            elif P[j]:
                f = 1
            else:
                f = 2
            pair = table[f, li - H[j] - 1 + offset]
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
                elif pj:
                    ok = ov <= convergent
                else:
                    ok = ov <= divergent
                if ok:
                    pair = 0.0
                    if has_junctions:  # Junctions.pair
                        if pj == pi:
                            f = 0
                        elif pj:
                            f = 1
                        else:
                            f = 2
                        d = li - hj - 1
                        if d <= near:
                            pair = table[f, d + offset]
                        else:
                            pair = tail[f] - slope * (d - near - 1)
                        if f == 0 and (d == -1 or d == -4):
                            pair += rescue[order[i]] if pi else rescue[order[j]]
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
        for s in range(2):
            s_plus = s == 0
            cur = best[i] + slope * hi_i if s_plus == pi else -np.inf
            if i and far_at[s, i - 1] >= 0 and far_val[s, i - 1] >= cur:
                far_val[s, i], far_at[s, i] = far_val[s, i - 1], far_at[s, i - 1]
            elif s_plus == pi:
                far_val[s, i], far_at[s, i] = cur, i
