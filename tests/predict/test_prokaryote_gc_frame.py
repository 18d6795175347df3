"""Prodigal's first-pass gene set scoring (predict/prokaryote/gc_frame.py) on built sequences."""

from __future__ import annotations

import numpy as np

from genet5.predict.prokaryote.gc_frame import first_pass_scores, place_shares, richest_codon_place
from genet5.predict.prokaryote.orfs import Strand


def _strand(seq: bytes, a: list[int], e: list[int]) -> Strand:
    n = len(a)
    return Strand("s", "+", 0, len(seq), seq, np.array(a), np.array(e), np.arange(n), np.zeros(n, bool), np.zeros(n, bool))


def test_richest_place_follows_the_gc_rich_codon_position():
    seq = b"AAG" * 100  # G at the third place of every triplet
    assert (richest_codon_place(seq)[:297] == 2).all()
    assert (richest_codon_place(b"AGA" * 100)[:297] == 1).all()


def test_first_pass_prefers_the_frame_whose_third_positions_are_gc_rich():
    seq = b"ATG" + b"AAG" * 200 + b"TAA"
    cand = _strand(seq, [0, 1], [len(seq) - 1, len(seq) - 3])  # in frame, and one base over
    shares = place_shares(cand)
    assert shares[0, 2] > 0.95 and shares[1, 1] > 0.95  # the same G seen from two frames
    # the genome's candidates vote for place 3 (both long, the in-frame one a little longer):
    # the in-frame reading scores highest
    scores = first_pass_scores([cand])[0]
    assert scores[0] > scores[1] > 0
