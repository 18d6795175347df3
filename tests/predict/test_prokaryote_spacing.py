"""Junction scores in the prokaryote DP: Prodigal's fixed table, the genome's self-trained gene
spacing (spacing.py), and the DP's exactness with a distance-dependent junction."""

from __future__ import annotations

import itertools

import numpy as np

from genet5.predict.prokaryote import dp
from genet5.predict.prokaryote.spacing import SpacingModel, neighbour_pairs

UNIT = 0.15 * 4.35  # Prodigal's: 0.15 x its start weight


def test_prodigal_table_keeps_prodigals_rules():
    j = dp.Junctions.prodigal(-UNIT, UNIT, np.array([0.0, 0.7]))
    # same strand, 20 bases apart: distance from the stop's first base 23, an operon
    assert np.isclose(j.pair(1, 300, True, 0, 321, True, 1), (2 - 23 / 60) * UNIT)
    assert j.pair(1, 300, True, 0, 401, True, 1) == 0.0  # 100 apart: neither operon nor apart
    assert j.pair(1, 300, True, 0, 601, True, 1) == -UNIT  # 300 apart
    assert j.pair(1, 300, True, 0, 321, False, 1) == -UNIT  # opposite strands
    # ATGA: the start rides on the stop, its negative start parts come back
    assert np.isclose(j.pair(1, 300, True, 0, 297, True, 1), (2 - 1 / 60) * UNIT + 0.7)


def _model(gaps, n=400, seed=0):
    rng = np.random.default_rng(seed)
    gap = rng.choice(gaps, size=n)
    return SpacingModel.fit(np.zeros(n, dtype=int), gap, reach=200)


def test_tight_genomes_reward_a_gene_filling_a_gap_more():
    tight = _model(np.arange(-4, 30))  # phage-like: neighbours a few bases apart
    loose = _model(np.arange(-4, 400))  # long intergenic regions common
    assert tight.pairs == loose.pairs == 400

    def fill_gain(m: SpacingModel) -> float:
        # one 340-base junction replaced by a gene with 10-base junctions on both sides
        j = m.junctions(1.0, np.zeros(3), center=-6.5)
        return j.pair(1, 300, True, 0, 311, True, 1) + j.pair(311, 620, True, 1, 631, True, 2) - j.pair(1, 300, True, 0, 641, True, 2)

    assert fill_gain(tight) > fill_gain(loose) + 1.0
    # past NEAR the density falls geometrically, still a little less likely the further apart
    j = tight.junctions(1.0, np.zeros(2))
    assert j.pair(1, 300, True, 0, 1001, True, 1) > j.pair(1, 300, True, 0, 2001, True, 1)


def test_spacing_added_to_prodigals_table_and_facings_counted():
    lo = np.array([1, 310, 700, 1000])
    hi = np.array([300, 650, 900, 1300])
    plus = np.array([True, True, False, True])
    facing, gap = neighbour_pairs(lo, hi, plus)
    assert facing.tolist() == [dp.SAME, dp.CONVERGENT, dp.DIVERGENT] and gap.tolist() == [9, 49, 99]
    m = SpacingModel.fit(facing, gap, reach=200)
    base = dp.Junctions.prodigal(-UNIT, UNIT, np.zeros(2))
    alone, both = m.junctions(0.5, np.zeros(2)), m.junctions(0.5, np.zeros(2), base)
    for lo2 in (150, 290, 310, 400, 700, 5000):
        for plus2 in (True, False):
            want = alone.pair(1, 300, True, 0, lo2, plus2, 1) + base.pair(1, 300, True, 0, lo2, plus2, 1)
            assert np.isclose(both.pair(1, 300, True, 0, lo2, plus2, 1), want)


def _chain_value(idx, lo, hi, plus, score, j: dp.Junctions) -> float:
    order = sorted(idx, key=lambda k: (hi[k], lo[k]))
    val = sum(score[k] for k in order)
    for a, b in zip(order, order[1:]):
        val += j.pair(int(lo[a]), int(hi[a]), bool(plus[a]), a, int(lo[b]), bool(plus[b]), b)
    return val


def _compatible(a, b, lo, hi, plus, same, convergent, divergent) -> bool:
    """b follows a in a chain (a ends first): the DP's rule for consecutive genes."""
    if hi[a] < lo[b]:
        return True
    if not (hi[a] < hi[b] and lo[a] < lo[b]):
        return False
    ov = hi[a] - lo[b] + 1
    if plus[a] == plus[b]:
        return ov <= same
    return ov <= (convergent if plus[a] else divergent)


def test_dp_with_a_distance_dependent_junction_finds_the_best_chain():
    rng = np.random.default_rng(7)
    rules = dict(same=30, convergent=60, divergent=10)
    for _ in range(40):
        n = 9
        lo = rng.integers(1, 400, n)
        hi = lo + rng.integers(30, 150, n)
        plus = rng.random(n) < 0.5
        score = rng.uniform(6.0, 9.0, n)  # high enough that no gene is dropped after the DP
        near = 25
        table = rng.uniform(-1.5, 1.5, (3, 60 + near + 1))
        j = dp.Junctions(table, 60, rng.uniform(-1.5, 0.0, 3), 0.01, np.zeros(n))
        got = dp.select(lo, hi, plus, score, junctions=j, **rules)
        best = 0.0
        for r in range(1, n + 1):
            for sub in itertools.combinations(range(n), r):
                order = sorted(sub, key=lambda k: (hi[k], lo[k]))
                if all(_compatible(a, b, lo, hi, plus, **rules) for a, b in zip(order, order[1:])):
                    best = max(best, _chain_value(order, lo, hi, plus, score, j))
        assert np.isclose(_chain_value(list(got), lo, hi, plus, score, j), best)
