"""Viterbi over many regions of a genome at once for the gene-structure HMM (viterbi_hmm.py): the
compiled loops where numba imports (viterbi_kernels.py), else numpy vectorised across states and
across the regions of a batch (one numpy step per base position serves every region, so the
Python overhead per step is shared); both give the same path. Kept apart from the HMM's states
and gates (viterbi_hmm.py), which it reads."""

from __future__ import annotations

import numpy as np

from genet5.predict import viterbi_kernels as _kernels
from genet5.predict.viterbi_hmm import E_IG, E_MINTRON, E_PINTRON, NEG, GeneHMM


def viterbi_batch(
    hmm: GeneHMM,
    em: np.ndarray,
    gn: np.ndarray,
    gj: np.ndarray,
    lens: np.ndarray,
    init: np.ndarray,
    final: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Viterbi over R regions laid end to end in `em` (P, N_EMIT), `gn`, `gj` (P, .).

    `lens` must be in descending order: step t then touches regions [0, k_t) only, so no
    padding is computed. `init` (R, S) scores the state before each region's first base,
    `final` (R, S) the state of its last base (0 allowed / -inf). Returns the state path (P,)
    and the state before each region's first base.

    A step costs a fixed number of numpy calls (about ten) whatever the number of regions, so
    everything that does not depend on the previous step is gathered ahead, in time-major chunks
    of _STEP_CHUNK rows: each slot's gate, each state's emission, and for a jump slot its gate
    at the last exon base (m steps back) with the intron emissions after it. The scores of the
    last m + 1 steps and a -inf column live in one buffer that a single gather per step reads:
    the step before for edges, m steps back for jumps."""
    S, K, m = hmm.n_states, hmm.max_in, hmm.intron_min
    J = len(hmm.jump_keys)
    R, P = len(lens), int(lens.sum())
    offs = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
    T = int(lens[0]) if R else 0
    n_active = R - np.searchsorted(lens[::-1], np.arange(T + 1), side="right")
    # jump edges: gate at the last exon base j plus the intron emissions j+1 .. j+m, used at j+m
    win = _window_sums(em[:, [E_PINTRON, E_MINTRON, E_IG]], lens, m)
    # slots of both blocks side by side: (state block, first slot column, states, width)
    slot_src = np.concatenate([b_src for _, _, _, b_src, _ in hmm.blocks])
    slot_gate = np.concatenate([b_gate for _, _, _, _, b_gate in hmm.blocks])
    jump_cols = np.flatnonzero((slot_src >= S) & (slot_src < S + J))
    jump_of_col = slot_src[jump_cols] - S
    G = gn.shape[1]
    slot_col = slot_gate.copy()  # per slot, its column in [edge gates (G) | jump gates (J)]
    slot_col[jump_cols] = G + jump_of_col
    layout, col = [], 0
    for lo, hi, width, _, _ in hmm.blocks:
        # a state's first slot in the flattened candidates (k, slots) of a step, per row and state
        first = (np.arange(R)[:, None] * slot_src.size + col + np.arange(hi - lo)[None, :] * width) if width > 2 else None
        layout.append((lo, hi, col, col + (hi - lo) * width, width, first))
        col += (hi - lo) * width
    # One buffer per region: the scores of steps t-m .. t in a ring of m + 1 blocks of S, and -inf.
    # Step t reads block (t-1) % B (edges) and (t-m) % B (jumps), and writes block t % B.
    B = m + 1
    NEGCOL = B * S
    buf = np.full((R, NEGCOL + 1), NEG)
    buf[:, (B - 1) * S : B * S] = init  # "step -1"; jumps before step m read -inf gates
    gather = []  # per t % B: the buffer column each slot reads
    for q in range(B):
        src_col = np.where(slot_src < S, ((q - 1) % B) * S + slot_src, NEGCOL)
        src_col[jump_cols] = ((q - m) % B) * S + hmm.jump_src[jump_of_col]
        gather.append(src_col)
    if _kernels.usable(hmm):  # compiled loops (viterbi_kernels.py): the same recursion, region by region
        blocks = np.array([(lo, hi, c0, width) for lo, hi, c0, _, width, _ in layout], dtype=np.int64).reshape(-1, 4)
        return _kernels.viterbi_compiled(hmm, em, gn, gj, win, lens, offs, init, final, slot_col, np.stack(gather), blocks)
    # Time-major order: the rows of step t (regions 0 .. k_t - 1 at their base t) lie together
    # at step_lo[t] .. step_lo[t] + k_t.
    step_lo = np.concatenate([[0], np.cumsum(n_active[:T])]).astype(np.int64)
    region_of = np.repeat(np.arange(R), lens)
    major = np.empty(P, dtype=np.int64)  # time-major row -> region-major row
    major[step_lo[np.arange(P) - offs[region_of]] + region_of] = np.arange(P)
    del region_of
    step_of = np.repeat(np.arange(T), n_active[:T])  # per time-major row, its step
    delta = np.full((R, S), NEG)  # each region's scores at its last base
    bps = np.empty((P, S), dtype=np.int8)  # back-pointers (slot per state), time-major rows
    ks, los = n_active.tolist(), step_lo.tolist()  # Python ints: cheaper per step than numpy scalars
    chunk_end, base = 0, 0
    for t in range(T):
        k = ks[t]
        if t == chunk_end:  # per-step inputs of the next steps, gathered at once
            chunk_end = int(np.searchsorted(step_lo, los[t] + _STEP_CHUNK, side="right")) - 1
            chunk_end = min(max(chunk_end, t + 1), T)
            base = los[t]
            rows_c = major[base : los[chunk_end]]
            gates_c = np.empty((rows_c.size, G + J), dtype=np.float32)  # edge gates, then jump gates
            gates_c[:, :G] = gn[rows_c]
            if J:  # a jump's gate: that of the same region m steps back, -inf before step m
                tm = np.arange(base, los[chunk_end])
                tm -= step_lo[step_of[tm]] - step_lo[np.maximum(step_of[tm] - m, 0)]
                back = major[tm]
                np.add(gj[back], win[back].take(hmm.jump_ci, axis=1), out=gates_c[:, G:])
                gates_c[step_of[base : los[chunk_end]] < m, G:] = NEG
            g_c = gates_c.take(slot_col, axis=1)  # (rows, slots) gate of every slot
            e_c = em[rows_c].take(hmm.emit_arr, axis=1)  # (rows, S) emission of every state
        a = los[t] - base
        live = buf[:k]
        q = t % B
        out = live[:, q * S : (q + 1) * S]
        cand = live.take(gather[q], axis=1)
        cand += g_c[a : a + k]
        bp = bps[los[t] : los[t] + k]
        for lo, hi, c0, c1, width, first in layout:
            block = cand[:, c0:c1].reshape(k, hi - lo, width)
            if width == 2:
                np.greater(block[:, :, 1], block[:, :, 0], out=bp[:, lo:hi], casting="unsafe")
                np.maximum(block[:, :, 0], block[:, :, 1], out=out[:, lo:hi])
            else:  # (a gather at the argmax is faster than a max over the short last axis)
                arg = block.argmax(axis=2)
                bp[:, lo:hi] = arg
                arg += first[:k]
                out[:, lo:hi] = cand.take(arg)
        out += e_c[a : a + k]
        ended = ks[t + 1]  # rows [ended, k) have their last base at t
        if ended < k:
            delta[ended:k] = out[ended:]
    del buf, g_c, e_c
    last = np.argmax(delta + final, axis=1)

    # Traceback, all regions at once, in time-major rows. A jump edge at t fills t-m+1 .. t-1
    # with its intron: those steps are pointed at the intron's self-loop and the exon before it
    # is restored at t-m.
    path_t = np.zeros(P, dtype=np.int8)
    state = np.zeros(R, dtype=np.int64)
    flat_bps = bps.reshape(-1)
    row_first = np.arange(R, dtype=np.int64) * S  # flat index of a step's row r, state 0 (less the step's start)
    slot_prev, slot_is_jump = hmm.slot_prev, hmm.slot_is_jump
    fixes: dict[int, list[tuple[int, int]]] = {}
    for t in range(T - 1, -1, -1):
        k, k_next, lo = ks[t], ks[t + 1], los[t]
        if k_next < k:
            state[k_next:k] = last[k_next:k]  # regions whose last base is t
        for r, prev in fixes.pop(t, ()):
            state[r] = prev
        s = state[:k].copy()
        path_t[lo : lo + k] = s
        slot = s * K
        slot += flat_bps.take(row_first[:k] + (s + lo * S))  # int8 back-pointers added to int64 slots
        np.take(slot_prev, slot, out=state[:k])
        jumped = slot_is_jump.take(slot)
        if jumped.any():
            for r in np.flatnonzero(jumped).tolist():
                intron = int(s[r])
                for tt in range(t - m + 1, t):
                    bps[step_lo[tt] + r, intron] = hmm.loop_slot[intron]
                fixes.setdefault(t - m, []).append((r, int(state[r])))
                state[r] = intron
    path = np.empty(P, dtype=np.int8)
    path[major] = path_t
    return path, state


# rows (regions x steps) of per-step inputs gathered at once by viterbi_batch: ~0.6 kB each
_STEP_CHUNK = 32_768


def _window_sums(x: np.ndarray, lens: np.ndarray, m: int) -> np.ndarray:
    """(P, C) float32: per row j, the sum of rows j+1 .. j+m of `x` (P, C) within its region
    (regions of `lens` rows laid end to end; cut at the region's end), from each region's own
    cumulated sums, so that a region's values do not depend on the regions batched with it."""
    out = np.empty(x.shape, dtype=np.float32)
    a = 0
    for n in lens.tolist():
        c = np.zeros((n + 1, x.shape[1]))
        np.cumsum(x[a : a + n], axis=0, dtype=np.float64, out=c[1:])
        j = np.arange(n)
        out[a : a + n] = c[np.minimum(j + m + 1, n)] - c[j + 1]
        a += n
    return out
