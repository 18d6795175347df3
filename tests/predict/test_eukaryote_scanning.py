"""Starts shadowed by an upstream in-frame ATG (predict/eukaryote/scanning.py)."""

from __future__ import annotations

import numpy as np

from genet5.genome.codes import reverse_complement
from genet5.predict.eukaryote.scanning import scan_penalties, shadowed_starts
from genet5.predict.prokaryote.orfs import base_codes


def test_an_atg_is_shadowed_by_an_in_frame_atg_upstream_without_a_stop_between():
    #      0         1         2         3
    #      0123456789012345678901234567890123
    seq = b"CCATGAAAATGCCCTAAATGGGATGATGTTTTCC"
    # ATGs at 2, 8 (in frame with 2, no stop between: shadowed), 17 (TAA at 14 in frame: free),
    # 22 (frame 1, nothing upstream in frame), 25 (22 three bases upstream: shadowed)
    assert shadowed_starts(base_codes(seq), 60).tolist() == [8, 25]
    assert shadowed_starts(base_codes(seq), 5).tolist() == [25]  # 8 is 6 bases from 2
    assert shadowed_starts(base_codes(b"ATGNATG"), 60).tolist() == []  # another frame
    assert shadowed_starts(base_codes(b"ATG"), 60).tolist() == []


def test_penalties_sit_at_the_start_gates_of_both_strands():
    rng = np.random.default_rng(0)
    seq = bytes(rng.choice(list(b"ACGT"), 3000).astype(np.uint8))
    n = len(seq)
    pen = scan_penalties(seq, 45, -3.0)
    plus = shadowed_starts(base_codes(seq), 45)
    assert plus.size > 0 and np.all(pen["start"][plus] == -3.0) and np.count_nonzero(pen["start"]) == plus.size
    for i in plus:  # the plus gate is the ATG's first base
        assert seq[i : i + 3] == b"ATG"
    rc = scan_penalties(reverse_complement(seq), 45, -3.0)
    # a minus start's gate is the middle base of its forward CAT: the reverse complement's plus
    # gate at i is this sequence's minus gate at n - 2 - i, and CAT sits at n - 3 - i .. n - 1 - i
    gates = np.flatnonzero(pen["rstart"])
    assert gates.tolist() == sorted((n - 2 - np.flatnonzero(rc["start"])).tolist())
    for t in gates:
        assert seq[t - 1 : t + 2] == b"CAT"


def test_sparse_sites_add_the_penalty_block_by_block_as_whole():
    from genet5.predict.eukaryote.sites import SparseSites, load_site_model

    rng = np.random.default_rng(1)
    seq = bytes(rng.choice(list(b"ACGT"), 6000).astype(np.uint8))
    model = load_site_model()
    plain = SparseSites(model, seq, 1.0, 1.0).dense()
    whole = SparseSites(model, seq, 1.0, 1.0, scan_penalty=-3.0, scan_reach=45).dense()
    blocked = SparseSites(model, seq, 1.0, 1.0, block=1000, scan_penalty=-3.0, scan_reach=45).dense()
    pen = scan_penalties(seq, 45, -3.0)
    for k in ("start", "rstart"):
        np.testing.assert_allclose(whole[k] - plain[k], pen[k], atol=1e-5)
        np.testing.assert_allclose(blocked[k], whole[k], atol=1e-5)
    for k in ("don", "acc"):
        np.testing.assert_array_equal(whole[k], plain[k])
