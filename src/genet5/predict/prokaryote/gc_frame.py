"""Prodigal's first gene set, the one it fits its hexamer table on (learned from its method,
written anew): every candidate is scored by how consistently the most GC-rich codon position
of a 120 bp window sits at one place of its codons ("GC frame plot"), each place weighted by
how often the genome's ORFs favour it, times its length; the dynamic program then picks the
best set. Long real genes, whose third (or first) codon positions are GC-biased, dominate it.
"""

from __future__ import annotations

import numpy as np

from genet5.predict.prokaryote.orfs import Strand

HALF_WINDOW = 60  # bases each side: Prodigal's 120 bp window


_GC = bytes(1 if chr(b) in "GCgc" else 0 for b in range(256))  # G/C -> 1, any other byte -> 0


def richest_codon_place(seq: bytes) -> np.ndarray:
    """For each base, the place (0, 1, 2) in its triplet (triplets counted from the sequence
    start) whose in-frame GC count over the window is highest (ties: the first)."""
    gc = np.frombuffer(seq.translate(_GC), dtype=np.uint8)  # one C pass (np.isin of the codes was 6x slower)
    n = len(gc)
    tot = np.zeros(n, dtype=np.int32)
    span = (HALF_WINDOW - 1) // 3  # in-frame neighbours each side strictly within the window
    for f in range(3):
        c = np.zeros(len(gc[f::3]) + 1, dtype=np.int32)
        np.cumsum(gc[f::3], out=c[1:])  # c[k]: GC of the first k bases of frame f
        idx = np.arange(len(c) - 1)
        tot[f::3] = c[np.minimum(idx + span + 1, len(idx))] - c[np.maximum(idx - span, 0)]
    out = np.zeros(n, dtype=np.int8)
    full = n - n % 3
    if full:
        out[:full] = np.repeat(np.argmax(tot[:full].reshape(-1, 3), axis=1).astype(np.int8), 3)
    return out


def place_shares(cand: Strand) -> np.ndarray:
    """(candidates, 3): the share of each candidate's codons (start through stop) whose richest
    place is codon position 0, 1, 2."""
    place = richest_codon_place(cand.seq)
    a, last = cand.a, cand.e - 2
    n_codons = (cand.e - cand.a + 1) // 3
    counts = np.zeros((len(a), 3))
    for g in range(3):  # candidates whose codons start at bases = g (mod 3)
        sel = (a % 3) == g
        if not sel.any():
            continue
        lo = (a[sel] - g) // 3
        hi = np.maximum((last[sel] - g) // 3 + 1, lo)
        frame = (place[g::3] - g) % 3  # the richest place relative to these codons' first base
        for k in range(2):  # places 0 and 1 counted; 2 is the rest
            c = np.zeros(len(frame) + 1, dtype=np.int32)
            np.cumsum(frame == k, out=c[1:])
            counts[sel, k] = c[np.minimum(hi, len(c) - 1)] - c[lo]
        counts[sel, 2] = np.minimum(hi, len(frame)) - lo - counts[sel, 0] - counts[sel, 1]
    return counts / np.maximum(n_codons, 1)[:, None]


def first_pass_scores(strands: list[Strand], threads: int = 1) -> list[np.ndarray]:
    """Prodigal's first-pass score of every candidate: length x (place weights . shares), the
    place weights from the genome's candidates (each votes for its dominant place by share x
    length), normalised to sum 3. threads: strands read at once (the same scores)."""
    from genet5.predict.prokaryote.threads import thread_map

    shares = thread_map(place_shares, strands, threads, bases=sum(c.length for c in strands))
    bias = np.zeros(3)
    for c, sh in zip(strands, shares):
        top = np.argmax(sh, axis=1)
        np.add.at(bias, top, sh[np.arange(len(top)), top] * (c.e - c.a + 1) / 1000.0)
    bias = 3.0 * bias / max(bias.sum(), 1e-9)
    return [(c.e - c.a + 1) * (sh @ bias) for c, sh in zip(strands, shares)]
