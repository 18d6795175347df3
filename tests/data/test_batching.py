"""Token-budget batching: budget, cap, determinism, rank disjointness, padding, resumable position."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genet5.data.batching import (
    ResumableLoader,
    TokenBudgetBatchSampler,
    lengths_from,
    padding_fraction,
)


def _lengths(n=500, seed=0):
    return np.random.default_rng(seed).integers(5, 200, size=n)


def test_budget_cap_and_every_sample_once():
    lengths = _lengths()
    s = TokenBudgetBatchSampler(lengths, token_budget=1000, max_batch_size=16, seed=1)
    batches = s.batches()
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= 16
        assert lengths[b].max() * len(b) <= 1000
    # greedy fill: batches are not needlessly small
    assert np.mean([lengths[b].max() * len(b) for b in batches]) > 0.7 * 1000


def test_bucketing_limits_padding():
    lengths = _lengths(2000)
    bucketed = TokenBudgetBatchSampler(lengths, 2000, 64, seed=0, sort_window=16)
    unsorted = TokenBudgetBatchSampler(lengths, 2000, 64, seed=0, sort_window=1)
    st = bucketed.stats()
    assert st.padding_fraction == pytest.approx(padding_fraction(bucketed.batches(), lengths))
    assert st.padding_fraction < 0.1
    # a window of one batch barely sorts: much more padding
    assert unsorted.stats().padding_fraction > 2 * st.padding_fraction
    assert st.num_samples == len(lengths) and st.oversize == 0


def test_deterministic_per_seed_and_epoch():
    lengths = _lengths()
    a = TokenBudgetBatchSampler(lengths, 800, 8, seed=7)
    b = TokenBudgetBatchSampler(lengths, 800, 8, seed=7)
    assert a.batches(0) == b.batches(0)
    assert a.batches(0) != a.batches(1)  # reshuffled each epoch
    assert a.batches(0) != TokenBudgetBatchSampler(lengths, 800, 8, seed=8).batches(0)


@pytest.mark.parametrize("drop_last", [True, False])
def test_ranks_are_disjoint_and_equal_in_count(drop_last):
    lengths = _lengths(301)
    world = 3
    per_rank = [
        TokenBudgetBatchSampler(lengths, 700, 8, seed=2, rank=r, world_size=world, drop_last=drop_last).batches(4)
        for r in range(world)
    ]
    assert len({len(p) for p in per_rank}) == 1  # collectives need the same number of steps
    glob = TokenBudgetBatchSampler(lengths, 700, 8, seed=2).global_batches(4)
    if drop_last:
        seen = [i for p in per_rank for b in p for i in b]
        assert len(seen) == len(set(seen))  # disjoint
    # rank r gets global batches r, r+W, ...: W ranks x 1 batch == 1 process x W accumulated
    assert [p[1] for p in per_rank] == glob[world : 2 * world]


def test_round_to_gives_the_same_global_batches_at_any_world_size():
    lengths = _lengths(301)
    one = TokenBudgetBatchSampler(lengths, 700, 8, seed=2, round_to=4).batches()
    four = [TokenBudgetBatchSampler(lengths, 700, 8, seed=2, rank=r, world_size=4, round_to=4).batches()
            for r in range(4)]
    assert len(one) % 4 == 0
    assert [four[k % 4][k // 4] for k in range(len(one))] == one
    with pytest.raises(ValueError, match="multiple of world_size"):
        TokenBudgetBatchSampler(lengths, 700, 8, rank=0, world_size=4, round_to=6)


def test_oversize_samples():
    lengths = np.array([10, 500, 20, 30])
    keep = TokenBudgetBatchSampler(lengths, 100, 4, shuffle=False)
    assert [1] in keep.batches() and keep.stats().oversize == 1
    drop = TokenBudgetBatchSampler(lengths, 100, 4, shuffle=False, drop_oversize=True)
    assert all(1 not in b for b in drop.batches())


class _DS:
    def __init__(self, lengths):
        self.data = [{"tokens": torch.arange(int(n))} for n in lengths]

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        return self.data[i]


def _collate(samples):
    return {"lens": torch.tensor([len(s["tokens"]) for s in samples])}


def test_resumable_loader_continues_mid_epoch_and_across_epochs():
    lengths = _lengths(120)
    ds = _DS(lengths)
    assert list(lengths_from(ds, "tokens")) == list(lengths)
    mk = lambda: ResumableLoader(ds, TokenBudgetBatchSampler(lengths, 600, 8, seed=3), _collate)  # noqa: E731
    ref = mk()
    straight = [b["lens"].tolist() for _ in range(2) for b in ref]  # two epochs
    assert ref.state_dict() == {"epoch": 2, "consumed": 0, "seed": 3}

    first = mk()
    it = iter(first)
    k = len(first) - 2
    got = [next(it)["lens"].tolist() for _ in range(k)]
    state = first.state_dict()
    assert state == {"epoch": 0, "consumed": k, "seed": 3}

    second = mk()
    second.load_state_dict(state)
    got += [b["lens"].tolist() for b in second] + [b["lens"].tolist() for b in second]
    assert got == straight

    other = ResumableLoader(ds, TokenBudgetBatchSampler(lengths, 600, 8, seed=4), _collate)
    with pytest.raises(ValueError, match="data seed changed") as err:
        other.load_state_dict(state)
    from genet5.errors import UserError

    assert isinstance(err.value, UserError)  # one line on the command line, not a traceback


def test_loader_with_workers_counts_yielded_batches():
    lengths = _lengths(60)
    loader = ResumableLoader(_DS(lengths), TokenBudgetBatchSampler(lengths, 600, 8, seed=0), _collate,
                             num_workers=1)
    it = iter(loader)
    next(it), next(it)
    assert loader.state_dict()["consumed"] == 2  # workers prefetch; the position does not move
