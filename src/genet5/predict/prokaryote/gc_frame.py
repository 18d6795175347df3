"""Prodigal's first gene set, the one it fits its hexamer table on (learned from its method,
written anew): every candidate is scored by how consistently the most GC-rich codon position
of a 120 bp window sits at one place of its codons ("GC frame plot"), each place weighted by
how often the genome's ORFs favour it, times its length; the dynamic program then picks the
best set. Long real genes, whose third (or first) codon positions are GC-biased, dominate it.
"""

from __future__ import annotations

import numpy as np

from genet5.predict.prokaryote.dicodon import _codon_sums
from genet5.predict.prokaryote.orfs import Strand, base_codes

HALF_WINDOW = 60  # bases each side: Prodigal's 120 bp window


def richest_codon_place(seq: bytes) -> np.ndarray:
    """For each base, the place (0, 1, 2) in its triplet (triplets counted from the sequence
    start) whose in-frame GC count over the window is highest (ties: the first)."""
    gc = np.isin(base_codes(seq), (1, 2)).astype(np.int64)
    n = len(gc)
    tot = np.zeros(n, dtype=np.int64)
    for f in range(3):
        c = np.concatenate([[0], np.cumsum(gc[f::3])])  # c[k]: GC of the first k bases of frame f
        idx = np.arange(len(gc[f::3]))
        span = (HALF_WINDOW - 1) // 3  # in-frame neighbours each side strictly within the window
        lo, hi = np.maximum(idx - span, 0), np.minimum(idx + span + 1, len(idx))
        tot[f::3] = c[hi] - c[lo]
    out = np.zeros(n, dtype=np.int64)
    full = n - n % 3
    if full:
        trip = tot[:full].reshape(-1, 3)
        out[:full] = np.repeat(np.argmax(trip, axis=1), 3)
    return out


def place_shares(cand: Strand) -> np.ndarray:
    """(candidates, 3): the share of each candidate's codons (start through stop) whose richest
    place is codon position 0, 1, 2."""
    place = richest_codon_place(cand.seq)
    rel = (place - np.arange(len(place)) % 3) % 3
    n_codons = (cand.e - cand.a + 1) // 3
    return np.stack([_codon_sums((rel == k).astype(np.float64), cand.a, cand.e - 2) for k in range(3)], axis=1) / np.maximum(n_codons, 1)[:, None]


def first_pass_scores(strands: list[Strand]) -> list[np.ndarray]:
    """Prodigal's first-pass score of every candidate: length x (place weights . shares), the
    place weights from the genome's candidates (each votes for its dominant place by share x
    length), normalised to sum 3."""
    shares = [place_shares(c) for c in strands]
    bias = np.zeros(3)
    for c, sh in zip(strands, shares):
        top = np.argmax(sh, axis=1)
        np.add.at(bias, top, sh[np.arange(len(top)), top] * (c.e - c.a + 1) / 1000.0)
    bias = 3.0 * bias / max(bias.sum(), 1e-9)
    return [(c.e - c.a + 1) * (sh @ bias) for c, sh in zip(strands, shares)]
