"""Prodigal's Shine-Dalgarno motif bins (predict/prokaryote/sd_bins.py) on built upstream regions."""

from __future__ import annotations

import numpy as np

from genet5.predict.prokaryote.sd_bins import N_BINS, best_bins, bin_masks


def _start_after(motif: bytes, spacer: int) -> tuple[bytes, np.ndarray]:
    """A sequence with `motif`, `spacer` C's and then ATG, after 30 C's; the start's index."""
    seq = b"C" * 30 + motif + b"C" * spacer + b"ATG" + b"C" * 30
    return seq, np.array([30 + len(motif) + spacer])


def _bins(mask: int) -> set[int]:
    return {b for b in range(N_BINS) if mask >> b & 1}


def test_full_motif_at_a_usual_spacer_is_the_top_bin_and_carries_its_pieces():
    seq, a = _start_after(b"AGGAGG", 7)
    exact, mism = bin_masks(seq, a)
    assert 27 in _bins(int(exact[0])) and _bins(int(mism[0])) == {0}
    assert {24, 22, 16, 15, 13} <= _bins(int(exact[0]))  # GGAGG, AGGAG, GAGG, AGGA, 3-base pieces
    assert best_bins(exact, np.zeros(N_BINS))[0] == 27  # equal weights: the higher bin
    weights = np.zeros(N_BINS)
    weights[27], weights[24] = -1.0, 2.0
    assert best_bins(exact, weights)[0] == 24  # trained weights choose among the motifs a start has


def test_spacer_groups_and_reach():
    assert _bins(int(bin_masks(*_start_after(b"GGA", 4))[0][0])) == {0, 1}  # 3 bases, spacer 4
    assert _bins(int(bin_masks(*_start_after(b"GGA", 14))[0][0])) == {0, 2}  # 3 bases, spacer 13-15
    assert _bins(int(bin_masks(*_start_after(b"AGGAGG", 12))[0][0])) >= {25}  # 6 bases, spacer 11-12
    assert _bins(int(bin_masks(*_start_after(b"GGA", 3))[0][0])) == {0}  # too close to the start
    assert _bins(int(bin_masks(*_start_after(b"AGGAGG", 16))[0][0])) == {0}  # too far


def test_one_mismatch_motifs_only_inside():
    exact, mism = bin_masks(*_start_after(b"GGTGG", 7))  # GGxGG
    assert 14 in _bins(int(mism[0]))
    _, end = bin_masks(*_start_after(b"GGAGT", 7))  # the mismatch at the last base: no motif of 5
    assert _bins(int(end[0])) == {0}


def test_masks_of_many_sequences_at_once_equal_each_alone():
    """One pass over several strands (bin_masks_many) gives each strand's own masks: no motif
    is read across the join, and a motif frame must start inside its own sequence."""
    from genet5.predict.prokaryote.sd_bins import bin_masks, bin_masks_many

    rng = np.random.default_rng(0)
    items = []
    for n in (40, 300, 5, 2000):
        seq = bytes(rng.choice(list(b"ACGT"), size=n, p=[0.3, 0.15, 0.4, 0.15]))
        seq = b"GGAGGAGG" + seq[8:] if n > 8 else seq  # a motif at the very start
        items.append((seq, np.arange(0, max(n - 3, 0), 7)))
    items.append((b"AGGAGGTTAAACATG" * 3, np.array([12, 27, 42])))
    together = bin_masks_many(items)
    for (seq, a), (exact, mism) in zip(items, together):
        alone = bin_masks(seq, a) if len(a) else (np.ones(0, dtype=np.int64), np.ones(0, dtype=np.int64))
        np.testing.assert_array_equal(exact, alone[0])
        np.testing.assert_array_equal(mism, alone[1])
    assert any((e > 1).any() for e, _ in together)  # motifs were found at all
    for threads in (2, 3):  # the starts split in parts: the same masks
        for (e1, m1), (e2, m2) in zip(together, bin_masks_many(items, threads)):
            np.testing.assert_array_equal(e1, e2)
            np.testing.assert_array_equal(m1, m2)


def test_lookup_masks_equal_the_base_by_base_definition():
    """_masks (table lookups) against _masks_reference (one comparison per motif base) on
    random AGGAGG-rich sequences with N, starts at every distance from a sequence's beginning
    (where only some offsets of AGGAGG fit) and sequences shorter than the motif region."""
    from genet5.predict.prokaryote import sd_bins
    from genet5.predict.prokaryote.orfs import base_codes

    rng = np.random.default_rng(7)
    alphabet = np.array(list(b"AGGAGGACGTN"))
    parts, starts, origin, offset = [], [], [], 0
    for n in (5, 19, 30, 400, 5000):
        seq = bytes(rng.choice(alphabet, size=n).astype(np.uint8))
        a = np.arange(n) if n < 500 else np.sort(rng.choice(n, size=500, replace=False))
        parts += [np.full(sd_bins.REACH, 4, dtype=np.int8), base_codes(seq).astype(np.int8)]
        offset += sd_bins.REACH
        starts.append(a + offset)
        origin.append(np.full(len(a), offset))
        offset += n
    codes = np.concatenate(parts)
    a, o = np.concatenate(starts) - sd_bins.REACH, np.concatenate(origin) - sd_bins.REACH
    fast, slow = sd_bins._masks(codes, a, o), sd_bins._masks_reference(codes, a, o)
    assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1])
    assert (fast[0] > 1).mean() > 0.5 and (fast[1] > 1).mean() > 0.1  # motifs of both kinds were found


def test_best_bins_the_same_in_short_pieces_and_whole():
    """best_bins takes a (starts, bins) array up to 4,096 starts and a loop over bins beyond:
    the same bins either way, for random masks and weights (ties included)."""
    rng = np.random.default_rng(3)
    n = 10_000
    bits = (rng.random((n, N_BINS)) < 0.15).astype(np.int64)
    mask = (bits << np.arange(N_BINS)).sum(axis=1) | 1
    for weights in (np.zeros(N_BINS), rng.normal(size=N_BINS).round(1), -np.abs(rng.normal(size=N_BINS))):
        whole = best_bins(mask, weights)  # the loop
        pieces = np.concatenate([best_bins(mask[i : i + 1000], weights) for i in range(0, n, 1000)])
        assert np.array_equal(whole, pieces)
        assert all(m >> b & 1 for m, b in zip(mask.tolist(), whole.tolist()))
