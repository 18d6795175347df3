"""Token-budget batching: batches filled up to a padded-token budget, bucketed by length.

A batch's cost is `max_len * batch_size` (what the model pays after padding), counted on a
user-chosen length key. Samples are shuffled with (seed, epoch), then sorted by length inside
windows of `sort_window * max_batch_size` samples so that batches hold similar lengths (little
padding) while the epoch stays well mixed; the batch order is shuffled again. Global batches are
dealt round-robin to ranks (rank r gets batches r, r+W, ...), so ranks are disjoint and W ranks
with one micro-batch each see exactly what one process with `grad_accum=W` sees.

`ResumableLoader` counts the batches it has handed out; its `state_dict()` is the data position a
checkpoint needs for an exact resume.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch

from genet5.errors import UserError


class DataOrderError(UserError, ValueError):
    """A checkpoint's data position that does not fit this loader (another seed): one line."""


def lengths_from(dataset: Any, key: str) -> np.ndarray:
    """Lengths of `dataset[i][key]`; uses `dataset.lengths(key)` when the dataset has it (cheap)."""
    if hasattr(dataset, "lengths"):
        return np.asarray(dataset.lengths(key), dtype=np.int64)
    return np.asarray([len(dataset[i][key]) for i in range(len(dataset))], dtype=np.int64)


@dataclass(frozen=True)
class BatchStats:
    num_batches: int
    num_samples: int
    real_tokens: int
    padded_tokens: int
    oversize: int  # samples longer than the budget (kept alone in a batch, or dropped)

    @property
    def padding_fraction(self) -> float:
        return 1.0 - self.real_tokens / self.padded_tokens if self.padded_tokens else 0.0


def padding_fraction(batches: Sequence[Sequence[int]], lengths: np.ndarray) -> float:
    real = sum(int(lengths[b].sum()) for b in batches)
    padded = sum(int(lengths[b].max()) * len(b) for b in batches if len(b))
    return 1.0 - real / padded if padded else 0.0


class TokenBudgetBatchSampler:
    """Deterministic, rank-disjoint batches of sample indices under a padded-token budget."""

    def __init__(
        self,
        lengths: Sequence[int] | np.ndarray,
        token_budget: int,
        max_batch_size: int = 1 << 30,
        *,
        seed: int = 0,
        shuffle: bool = True,
        sort_window: int = 64,
        rank: int = 0,
        world_size: int = 1,
        drop_last: bool = True,
        drop_oversize: bool = False,
        round_to: int | None = None,
    ) -> None:
        if token_budget <= 0 or max_batch_size <= 0:
            raise ValueError("token_budget and max_batch_size must be positive")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside world_size {world_size}")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.token_budget = int(token_budget)
        self.max_batch_size = int(max_batch_size)
        self.seed = int(seed)
        self.shuffle = shuffle
        self.sort_window = max(1, int(sort_window))
        self.rank = rank
        self.world_size = world_size
        self.drop_last = drop_last
        self.drop_oversize = drop_oversize
        # batches per epoch are made a multiple of this (default world_size). Setting it to the
        # same value at every world size gives every world size the very same global batches.
        self.round_to = round_to or world_size
        if self.round_to % world_size:
            raise ValueError(f"round_to={round_to} must be a multiple of world_size={world_size}")
        self.epoch = 0
        self._cache: tuple[int, list[list[int]], int] | None = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def global_batches(self, epoch: int | None = None) -> list[list[int]]:
        """All batches of an epoch, over all ranks, in order (identical on every rank)."""
        epoch = self.epoch if epoch is None else epoch
        if self._cache is not None and self._cache[0] == epoch:
            return self._cache[1]
        n = len(self.lengths)
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        window = self.sort_window * self.max_batch_size if self.shuffle else n
        batches: list[list[int]] = []
        oversize = 0
        for start in range(0, n, max(1, window)):
            chunk = order[start : start + window]
            if self.shuffle:  # longest first inside the window; stable so ties keep shuffle order
                chunk = chunk[np.argsort(-self.lengths[chunk], kind="stable")]
            cur: list[int] = []
            cur_max = 0
            for idx in chunk.tolist():
                length = int(self.lengths[idx])
                if length > self.token_budget:
                    oversize += 1
                    if not self.drop_oversize:
                        batches.append([idx])
                    continue
                new_max = max(cur_max, length)
                if cur and (len(cur) >= self.max_batch_size or new_max * (len(cur) + 1) > self.token_budget):
                    batches.append(cur)
                    cur, new_max = [], length
                cur.append(idx)
                cur_max = new_max
            if cur:
                batches.append(cur)
        if self.shuffle:  # mix long and short batches through the epoch
            batches = [batches[i] for i in rng.permutation(len(batches))]
        self._cache = (epoch, batches, oversize)
        return batches

    def batches(self, epoch: int | None = None) -> list[list[int]]:
        """This rank's batches for an epoch. All ranks get the same count (needed for collectives)."""
        glob = self.global_batches(epoch)
        m = self.round_to
        if len(glob) % m:
            if self.drop_last:
                glob = glob[: len(glob) - len(glob) % m]
            else:  # pad by repeating the first batches, as DistributedSampler does
                glob = glob + glob[: m - len(glob) % m]
        return glob[self.rank :: self.world_size]

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches())

    def __len__(self) -> int:
        return len(self.batches())

    def stats(self, epoch: int | None = None) -> BatchStats:
        glob = self.global_batches(epoch)
        assert self._cache is not None
        real = sum(int(self.lengths[b].sum()) for b in glob)
        padded = sum(int(self.lengths[b].max()) * len(b) for b in glob)
        return BatchStats(len(glob), sum(map(len, glob)), real, padded, self._cache[2])


class ResumableLoader:
    """Iterates collated batches of one rank, epoch after epoch, and can resume mid-epoch.

    `state_dict()` = {"epoch", "consumed", "seed"}: the next batch handed out is batch `consumed`
    of epoch `epoch`. The count moves when a batch is *yielded* to the caller, not when a worker
    prefetches it, so it is exact with `num_workers > 0` too. Iterating past the end of an epoch
    moves to the next epoch; one `for` loop covers one epoch.
    """

    def __init__(
        self,
        dataset: Any,
        sampler: TokenBudgetBatchSampler,
        collate_fn: Callable[[list[Any]], dict[str, Any]],
        num_workers: int = 0,
    ) -> None:
        self.dataset = dataset
        self.sampler = sampler
        self.collate_fn = collate_fn
        self.num_workers = num_workers
        self.epoch = sampler.epoch
        self.consumed = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch, self.consumed = int(epoch), 0

    def __len__(self) -> int:
        return len(self.sampler.batches(self.epoch))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self.sampler.set_epoch(self.epoch)
        todo = self.sampler.batches(self.epoch)[self.consumed :]
        if self.num_workers > 0:
            source: Any = torch.utils.data.DataLoader(
                self.dataset, batch_sampler=todo, collate_fn=self.collate_fn, num_workers=self.num_workers
            )
        else:
            source = (self.collate_fn([self.dataset[i] for i in idx]) for idx in todo)
        for batch in source:
            self.consumed += 1
            yield batch
        self.epoch, self.consumed = self.epoch + 1, 0

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "consumed": self.consumed, "seed": self.sampler.seed}

    def load_state_dict(self, state: dict[str, int]) -> None:
        if int(state.get("seed", self.sampler.seed)) != self.sampler.seed:
            raise DataOrderError(
                f"data seed changed since the checkpoint ({state['seed']} -> {self.sampler.seed}): "
                f"the resumed run would not see the same data order; resume with train.seed={state['seed']}, "
                "or --set train.resume=never to start over"
            )
        self.epoch, self.consumed = int(state["epoch"]), int(state["consumed"])


def build_loader(
    dataset: Any,
    collate_fn: Callable[[list[Any]], dict[str, Any]],
    data_cfg: Any,
    *,
    seed: int,
    rank: int = 0,
    world_size: int = 1,
    round_to: int | None = None,
) -> ResumableLoader:
    """A ResumableLoader from a `genet5.train.config.DataConfig` (any object with its fields)."""
    sampler = TokenBudgetBatchSampler(
        lengths_from(dataset, data_cfg.length_key),
        data_cfg.token_budget,
        data_cfg.max_batch_size,
        seed=seed,
        sort_window=data_cfg.sort_window,
        rank=rank,
        world_size=world_size,
        drop_last=data_cfg.drop_last,
        round_to=round_to,
    )
    return ResumableLoader(dataset, sampler, collate_fn, num_workers=data_cfg.num_workers)
