"""Compiled Viterbi loops for viterbi_batch.viterbi_batch (numba), with its numpy loops as fallback.

The numpy forward pass costs about ten numpy calls per base position whatever the number of
regions in a batch (~30 us a step: for a 1 Mb genome ~49k steps a pass, the decoder's largest
cost). These kernels run exactly the same recursion, one region after another (regions never
interact): the same float64 sums of the same float32 inputs, the same tie-breaking (a two-slot
state keeps slot 0 unless slot 1 is strictly greater, as np.greater; a wider state takes the
first maximum, or the first NaN, as np.argmax), so the path is the numpy path bit for bit
(tests/predict/test_viterbi_kernels.py compares the two). They read each input at its row
(region offset + base) instead of gathering time-major copies.

numba is optional: if it is missing or fails to import, or GENET5_NUMBA=0 is set, `KERNELS` is
None and viterbi_batch runs its numpy loops. cache=True keeps the machine code on disk beside
this file (__pycache__), so the compile is paid once per install, not per run.
"""

from __future__ import annotations

import os

import numpy as np

KERNELS = None


def usable(hmm) -> bool:
    """The compiled path applies: numba imported, and every jump lands on a state with a
    self-loop (an intron), which the traceback fills the jumped bases with (the numpy traceback
    points them at the intron's self-loop slot)."""
    if KERNELS is None:
        return False
    K = hmm.max_in
    dst = np.flatnonzero(hmm.slot_is_jump) // K
    return bool(np.all(hmm.slot_prev[dst * K + hmm.loop_slot[dst]] == dst))


def viterbi_compiled(hmm, em, gn, gj, win, lens, offs, init, final, slot_col, gather, blocks):
    """viterbi_batch's result (path (P,) int8, state before each region) from the compiled
    loops. `slot_col`, `gather` (one row per ring block), `blocks` (lo, hi, first slot, width)
    as viterbi_batch lays out the slots."""
    forward, traceback = KERNELS
    S, K, m = hmm.n_states, hmm.max_in, hmm.intron_min
    B = m + 1
    R, P = len(lens), int(lens.sum())
    lens64, offs64 = np.asarray(lens, dtype=np.int64), np.asarray(offs, dtype=np.int64)
    bps = np.empty((P, S), dtype=np.int8)  # back-pointers (slot per state), region-major rows
    delta = np.empty((R, S))
    gather = np.ascontiguousarray(gather, dtype=np.int64)
    n_real = np.empty(S, dtype=np.int64)  # per state, its slots before the first padding one
    for lo, hi, c0, width in blocks.tolist():
        pad = (gather[0, c0 : c0 + (hi - lo) * width] == B * S).reshape(hi - lo, width)
        trailing = np.all(np.maximum.accumulate(pad, axis=1) == pad, axis=1)
        n_real[lo:hi] = np.where(trailing, width - pad.sum(axis=1), width)
    forward(lens64, offs64, np.ascontiguousarray(init, dtype=np.float64), gn, gj, win, em,
            np.asarray(hmm.emit_arr, dtype=np.int64), np.asarray(slot_col, dtype=np.int64),
            np.asarray(hmm.jump_ci, dtype=np.int64), gn.shape[1], gather, blocks, n_real, S, m, bps, delta)
    last = np.argmax(delta + final, axis=1).astype(np.int64)
    path = np.zeros(P, dtype=np.int8)
    state = np.zeros(R, dtype=np.int64)
    traceback(lens64, offs64, last, bps, hmm.slot_prev, hmm.slot_is_jump, K, m, path, state)
    return path, state


def _build():
    from numba import njit

    @njit(cache=True, nogil=True)
    def forward(lens, offs, init, gn, gj, win, em, emit_arr, slot_col, jump_ci, G, gather, blocks, n_real, S, m, bps,
                delta):  # pragma: no cover
        """Forward pass of each region over a ring of its last m + 1 steps' scores and a -inf
        column (viterbi_batch's buffer): per slot, the source score plus its gate; per state,
        the best slot plus the state's emission. A state's padding slots (after its n_real
        real ones) read the -inf column: -inf whatever their gate, never a strict maximum
        nor a NaN, so they are skipped."""
        B = m + 1
        ring = np.empty(B * S + 1)
        for r in range(lens.size):
            ring[:] = -np.inf
            for s in range(S):
                ring[(B - 1) * S + s] = init[r, s]  # "step -1"
            p0 = offs[r]
            for t in range(lens[r]):
                p = p0 + t
                q = t % B
                out = q * S
                for b in range(blocks.shape[0]):
                    lo, hi, c0, width = blocks[b, 0], blocks[b, 1], blocks[b, 2], blocks[b, 3]
                    for i in range(hi - lo):
                        s = lo + i
                        arg = 0
                        best = 0.0
                        for w in range(n_real[s]):
                            c = c0 + i * width + w
                            col = slot_col[c]
                            if col < G:
                                g = gn[p, col]
                            elif t < m:  # a jump's gate is -inf before step m
                                g = np.float32(-np.inf)
                            else:  # its gate at the last exon base plus the intron's emissions (float32, as numpy)
                                j = col - G
                                g = np.float32(gj[p - m, j] + win[p - m, jump_ci[j]])
                            v = ring[gather[q, c]] + g
                            if w == 0:
                                best = v
                            elif width == 2:  # np.greater / np.maximum
                                if v > best:
                                    arg = 1
                                if np.isnan(best) or np.isnan(v):
                                    best = np.nan
                                elif v > best:
                                    best = v
                            elif np.isnan(best):  # np.argmax: the first NaN stays
                                break
                            elif np.isnan(v) or v > best:  # else the first maximum, or the first NaN
                                arg, best = w, v
                        ring[out + s] = best + em[p, emit_arr[s]]
                        bps[p, s] = arg
            out = ((lens[r] - 1) % B) * S
            for s in range(S):
                delta[r, s] = ring[out + s] if lens[r] > 0 else -np.inf

    @njit(cache=True, nogil=True)
    def traceback(lens, offs, last, bps, slot_prev, slot_is_jump, K, m, path, state):  # pragma: no cover
        """Each region's states from its last base back (region-major rows of `path`); `state`
        gets the state before its first base. A jump edge at t fills t-m+1 .. t-1 with its
        intron and resumes at t-m from the jump's source."""
        for r in range(lens.size):
            s = last[r]
            t = lens[r] - 1
            p0 = offs[r]
            while t >= 0:
                path[p0 + t] = s
                slot = s * K + bps[p0 + t, s]
                prev = slot_prev[slot]
                if slot_is_jump[slot]:
                    tt = t - 1
                    while tt > t - m and tt >= 0:
                        path[p0 + tt] = s
                        tt -= 1
                    if t - m < 0:
                        prev = s  # as the numpy loop: the intron's self-loop down to step 0
                    t -= m
                else:
                    t -= 1
                s = prev
            state[r] = s

    return forward, traceback


if os.environ.get("GENET5_NUMBA", "1") != "0":
    try:
        KERNELS = _build()
    except Exception:  # numba missing or broken: the numpy loops do the same work
        KERNELS = None
