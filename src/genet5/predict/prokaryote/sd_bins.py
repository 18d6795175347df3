"""Shine-Dalgarno motifs binned the way Prodigal bins them (Hyatt et al. 2010; learned from its
method and documentation, written anew), for the Prodigal-method start score (dicodon.py).

A motif is a piece of AGGAGG, 3 to 6 bases, ending 4 to 15 bases before the start codon
(the spacer) and lying within 20 bases of it, found exactly or, for 5 and 6 bases, with one
mismatch away from its two first and two last bases (AGxAGG, AGGxGG, AGxAG, GGxGG). Each motif
has a strength (A counts 2, G 3, a mismatched A -3 and G -2, less 2) and a spacer group
(4, 5-10, 11-12, 13-15 bases); strength and group give one of N_BINS bins, bin 0 being "no
motif". A start may carry several motifs: which one it is scored by depends on the bins'
weights (`best_bins`), so a candidate keeps the set of bins it has, as a bit mask.
"""

from __future__ import annotations

import functools

import numpy as np

from genet5.predict.prokaryote.orfs import base_codes

N_BINS = 28
SD = b"AGGAGG"
MIN_SPACER, MAX_SPACER = 4, 15
REACH = 20  # the motif's region starts at most this many bases before the start codon


def _group(spacer: int, exact: bool, length: int) -> int:
    """Spacer group: 0 for 5-10, 1 / 2 for the short (4) and medium (11-12) spacers, 3 for 13-15.
    For exact motifs of 5-6 bases the short and medium groups swap (a long motif sits further
    upstream best), as in Prodigal."""
    if spacer >= 13:
        return 3
    if spacer < 5:
        short = 2 if (exact and length < 5) else 1
        return short
    if spacer > 10:
        return 1 if (exact and length < 5) else 2
    return 0


# bin of an exact motif by (strength, spacer group), and of a one-mismatch motif likewise
_EXACT = {(6, 2): 1, (6, 3): 2, (8, 3): 3, (9, 3): 3, (6, 1): 6, (11, 3): 10, (12, 3): 10, (14, 3): 10,
          (8, 2): 11, (9, 2): 11, (8, 1): 12, (9, 1): 12, (6, 0): 13, (8, 0): 15, (9, 0): 16,
          (11, 2): 20, (11, 1): 21, (11, 0): 22, (12, 2): 20, (12, 1): 23, (12, 0): 24,
          (14, 2): 25, (14, 1): 26, (14, 0): 27}
_MISMATCH = {(6, 3): 2, (7, 3): 2, (9, 3): 3, (6, 2): 4, (6, 1): 5, (6, 0): 9, (7, 2): 7, (7, 1): 8,
             (7, 0): 14, (9, 2): 17, (9, 1): 18, (9, 0): 19}


def _pieces() -> list[tuple[bytes, int, int | None]]:
    """(pattern, offset in AGGAGG, mismatch position or None) of every motif kind; a pattern
    is matched where it lies whole within REACH bases of the start."""
    out = []
    for length in range(3, 7):
        for off in range(0, 7 - length):
            out.append((SD[off : off + length], off, None))
            if length >= 5:
                for k in range(2, length - 2):  # one mismatch, never in the first or last two
                    out.append((SD[off : off + length], off, k))
    return out


def _strength(piece: bytes, mismatch: int | None) -> int:
    is_a = [b == ord("A") for b in piece]
    return sum((-3 if is_a[i] else -2) if i == mismatch else (2 if is_a[i] else 3) for i in range(len(piece))) - 2


def bin_masks(seq: bytes, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(exact, mismatch) bit masks over N_BINS of the motifs before each start `a` (oriented,
    0-based) of `seq`; bit 0 (no motif) is always set."""
    return bin_masks_many([(seq, a)])[0]


def bin_masks_many(items: list[tuple[bytes, np.ndarray]], threads: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    """bin_masks of each (sequence, starts), in one pass over all of them: the pass costs ~3 ms
    of Python whatever its length, and a draft of 300 contigs has 600 strands. threads: the
    starts split in that many parts, read at once (numpy without the GIL; the same masks)."""
    # each sequence behind REACH codes of N: every motif base read lies at or after a - REACH,
    # so no index needs clipping and no motif reaches into the sequence before
    parts, starts, origin, offset = [], [], [], 0
    for seq, a in items:
        parts += [np.full(REACH, 4, dtype=np.int8), base_codes(seq).astype(np.int8)]
        offset += REACH
        starts.append(np.asarray(a, dtype=np.int64) + offset)
        origin.append(np.full(len(a), offset, dtype=np.int64))
        offset += len(seq)
    if not items:
        return []
    codes = np.concatenate(parts)
    a, origin = np.concatenate(starts) - REACH, np.concatenate(origin) - REACH
    from genet5.predict.prokaryote.threads import thread_map

    cuts = np.linspace(0, len(a), max(threads, 1) + 1).astype(np.int64)
    parts = thread_map(lambda ij: _masks(codes, a[ij[0] : ij[1]], origin[ij[0] : ij[1]]), list(zip(cuts[:-1], cuts[1:])),
                       threads, bases=len(codes))
    exact, mism = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    bounds = np.cumsum([0] + [len(x) for x in starts])
    return [(exact[i:j], mism[i:j]) for i, j in zip(bounds[:-1], bounds[1:])]


@functools.lru_cache(maxsize=1)
def _tables() -> list[tuple[int, int, np.ndarray, np.ndarray, list[tuple[int, np.ndarray, np.ndarray]]]]:
    """Per motif length and spacer that _masks_reference tries: (length, spacer, exact bits,
    mismatch bits, [(offset, exact bits, mismatch bits), ...]): the bit mask of the bins that
    a window of that length read at that spacer sets, by the window's bases as a base-5 number
    (N is 4: it matches no base, and counts as a mismatch where one is allowed, as there), for
    all offsets in AGGAGG together and for each (a start near its sequence's beginning allows
    only the offsets whose AGGAGG frame starts inside the sequence)."""
    by_key: dict[tuple[int, int], dict[int, list[np.ndarray]]] = {}
    for piece, off, k in _pieces():
        length = len(piece)
        pc = [int(x) for x in base_codes(piece)]
        strength = _strength(piece, k)
        for spacer in range(MIN_SPACER, MAX_SPACER + 1):
            if spacer + length + off > REACH:
                continue
            b = (_EXACT if k is None else _MISMATCH).get((strength, _group(spacer, k is None, length)))
            if b is None:
                continue
            per_off = by_key.setdefault((length, spacer), {})
            if off not in per_off:
                per_off[off] = [np.zeros(5 ** length, np.int32), np.zeros(5 ** length, np.int32)]
            digits = [[c] for c in pc]
            if k is not None:
                digits[k] = [c for c in range(5) if c != pc[k]]
            words = np.zeros(1, np.int64)
            for options in digits:  # every window matching: the pattern, position k free but unequal
                words = (words[:, None] * 5 + np.array(options)[None, :]).reshape(-1)
            per_off[off][0 if k is None else 1][words] |= 1 << b
    out = []
    for (length, spacer), per_off in sorted(by_key.items()):
        ex = np.bitwise_or.reduce([t[0] for t in per_off.values()])
        mm = np.bitwise_or.reduce([t[1] for t in per_off.values()])
        out.append((length, spacer, ex, mm, [(off, t[0], t[1]) for off, t in sorted(per_off.items())]))
    return out


def _masks(codes: np.ndarray, a: np.ndarray, origin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """_masks_reference's masks from table lookups: the REACH bases before each start read
    once, each (length, spacer) window as one base-5 number, its bins from _tables (one
    gather per motif length and spacer instead of one comparison per base and offset)."""
    exact = np.ones(len(a), dtype=np.int32)
    mism = np.ones(len(a), dtype=np.int32)
    if not len(a):
        return exact.astype(np.int64), mism.astype(np.int64)
    # the REACH bases before each start (at a + REACH in codes): codes[a] .. codes[a + REACH - 1]
    window = codes[a[:, None] + np.arange(REACH)[None, :]].astype(np.int16)
    near = np.flatnonzero(a - origin < REACH)  # starts whose window begins before their sequence
    for length, spacer, ex, mm, per_off in _tables():
        col = REACH - spacer - length  # the window's first base
        w = window[:, col].astype(np.intp)
        for i in range(1, length):
            w *= 5
            w += window[:, col + i]
        ex_bits, mm_bits = ex[w], mm[w]
        if len(near):  # only the offsets whose AGGAGG frame starts inside the sequence
            wn, room = w[near], a[near] - spacer - length - origin[near]
            ex_bits[near] = mm_bits[near] = 0
            for off, ex_off, mm_off in per_off:
                ok = room >= off
                ex_bits[near] |= np.where(ok, ex_off[wn], 0)
                mm_bits[near] |= np.where(ok, mm_off[wn], 0)
        exact |= ex_bits
        mism |= mm_bits
    return exact.astype(np.int64), mism.astype(np.int64)


def _masks_reference(codes: np.ndarray, a: np.ndarray, origin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """codes: REACH codes of N, then the sequences (each behind REACH of N); a: the starts in
    those coordinates less REACH; origin: where each start's own sequence begins, likewise.
    One comparison per motif base (the definition; _masks computes the same by lookups)."""
    exact = np.ones(len(a), dtype=np.int64)
    mism = np.ones(len(a), dtype=np.int64)
    for piece, off, k in _pieces():
        pc = base_codes(piece)
        strength = _strength(piece, k)
        for spacer in range(MIN_SPACER, MAX_SPACER + 1):
            if spacer + len(piece) + off > REACH:
                continue
            group = _group(spacer, k is None, len(piece))
            b = (_EXACT if k is None else _MISMATCH).get((strength, group))
            if b is None:
                continue
            beg = a - spacer - len(piece)
            ok = beg - off >= origin  # the AGGAGG frame it was found in starts inside the sequence
            hit = ok.copy()
            for i in range(len(pc)):
                base = codes[beg + i + REACH]
                hit &= (base != pc[i]) if i == k else (base == pc[i])
            if k is None:
                exact |= np.where(hit, 1 << b, 0)
            else:
                mism |= np.where(hit, 1 << b, 0)
    return exact, mism


def best_bins(mask: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The bin each start is scored by: the best-weighted of the bins it has (ties: the higher
    bin)."""
    # bins from the best weight down (ties: higher bin first); each start takes the first it has,
    # and keeps bin 0 (no motif, always present) if it has none weighing at least as much
    order = []
    for b in sorted(range(1, N_BINS), key=lambda k: (-weights[k], -k)):
        if weights[b] < weights[0]:
            break
        order.append(b)
    out = np.zeros(len(mask), dtype=np.int64)
    if not order or not len(mask):
        return out
    if len(mask) <= _SMALL:  # a draft's short strands: a few array operations instead of one per bin
        bins = np.array(order)
        has = (np.asarray(mask)[:, None] >> bins[None, :]) & 1  # (starts, bins in order of preference)
        first = has.argmax(axis=1)
        return np.where(has[np.arange(len(mask)), first] == 1, bins[first], 0)
    todo = np.ones(len(mask), dtype=bool)
    for b in order:
        has = todo & ((mask >> b) & 1).astype(bool)
        out[has] = b
        todo &= ~has
    return out


_SMALL = 4096  # best_bins: up to this many starts at once in a (starts, bins) array
