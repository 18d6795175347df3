"""The device mesh: the processes of a run on named axes (data, expert, context), as torchtitan's
ParallelDims, and the process groups along them.

Degrees: context C (`parallel.context_parallel`: ranks that split each sequence), expert E
(`parallel.expert_parallel`: ranks that split the experts of each MoE layer) and data
D = world / (C * E); C * E must divide the number of processes. Ranks are laid out as

    rank = (d * E + e) * C + c        (context innermost: a context group is C consecutive ranks)

and what each axis shares:

- the C ranks of a context group draw the same windows, each keeping its zigzag part
  (train/context_parallel.py, over `context_group`);
- the E ranks of an expert group draw different windows and send each other the tokens routed
  to their experts (train/expert_parallel.py, over `expert_group`);
- so a run draws world / C streams of batches: batch rank = rank // C (`batch_rank`,
  `batch_world`);
- every parameter but the experts is on all ranks (gradients averaged over all of them, by DDP
  or FSDP2); each slice of experts is on the D * C ranks with the same expert index (their
  gradients summed over `expert_replica_group`).

`ParallelDims` is the description (checked against the world size and the parallel mode, one
line each); `ParallelDims.build(rank)` makes the groups (collective: every rank, same order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genet5.train.config import ParallelConfig, RunConfigError


def check_degrees(parallel: ParallelConfig) -> None:
    """The configured degrees are positive (before anything else is read)."""
    for name in ("context_parallel", "expert_parallel"):
        value = getattr(parallel, name)
        if value < 1:
            raise RunConfigError(f"parallel.{name} must be >= 1, got {value}")


@dataclass(frozen=True)
class ParallelDims:
    world_size: int
    context: int = 1
    expert: int = 1

    def __post_init__(self) -> None:
        check_degrees(ParallelConfig(context_parallel=self.context, expert_parallel=self.expert))
        n = self.context * self.expert
        if self.world_size % n:
            named = [f"parallel.{k}={v}" for k, v in (("context_parallel", self.context), ("expert_parallel", self.expert)) if v > 1]
            what = " x ".join(named) + (f" ({n})" if len(named) > 1 else "")
            raise RunConfigError(f"{what} must divide the number of processes ({self.world_size}); "
                                 f"launch with torchrun --nproc-per-node a multiple of {n}")  # fmt: skip

    @classmethod
    def from_config(cls, parallel: ParallelConfig, world_size: int) -> ParallelDims:
        """The mesh of `parallel` over `world_size` processes, with its parallel mode checked."""
        dims = cls(world_size, parallel.context_parallel, parallel.expert_parallel)
        if dims.context == dims.expert == 1:
            return dims
        from genet5.train.distributed import resolve_mode

        try:
            mode = resolve_mode(parallel.mode, world_size)
        except ValueError as err:
            raise RunConfigError(str(err)) from None
        if mode == "none":
            axis = "context_parallel" if dims.context > 1 else "expert_parallel"
            modes = "ddp, fsdp or auto" if dims.expert == 1 else "ddp or auto"
            raise RunConfigError(f"parallel.{axis} needs parallel.mode {modes} (gradients are summed over ranks)")
        if mode == "fsdp" and dims.expert > 1:
            raise RunConfigError("parallel.expert_parallel needs parallel.mode ddp or auto: FSDP would shard "
                                 "every parameter over all ranks, experts included")  # fmt: skip
        return dims

    @property
    def data(self) -> int:
        return self.world_size // (self.context * self.expert)

    @property
    def batch_world(self) -> int:
        """Streams of batches (data x expert): the ranks of a context group share one."""
        return self.world_size // self.context

    def rank_of(self, data: int, expert: int, context: int) -> int:
        return (data * self.expert + expert) * self.context + context

    def coords(self, rank: int) -> dict[str, int]:
        rest, c = divmod(rank, self.context)
        d, e = divmod(rest, self.expert)
        return {"data": d, "expert": e, "context": c}

    def group_ranks(self) -> dict[str, list[list[int]]]:
        """The ranks of every group along each axis (an axis of degree 1 has none)."""
        D, E, C = self.data, self.expert, self.context
        out: dict[str, list[list[int]]] = {"context": [], "expert": [], "expert_replica": []}
        if C > 1:
            out["context"] = [[self.rank_of(d, e, c) for c in range(C)] for d in range(D) for e in range(E)]
        if E > 1:
            out["expert"] = [[self.rank_of(d, e, c) for e in range(E)] for d in range(D) for c in range(C)]
            if D * C > 1:
                out["expert_replica"] = [[self.rank_of(d, e, c) for d in range(D) for c in range(C)] for e in range(E)]
        return out

    def build(self, rank: int) -> Mesh:
        """This rank's groups. Collective when any degree is > 1: `dist.new_group` is called by
        every rank for every group, in the same order (a separate group even when one spans all
        ranks, so its collectives never interleave with DDP's on the default group)."""
        groups: dict[str, Any] = {}
        for axis, ranks_list in self.group_ranks().items():
            if not ranks_list:
                continue
            import torch.distributed as dist

            for ranks in ranks_list:
                g = dist.new_group(ranks)
                if rank in ranks:
                    groups[axis] = g
        return Mesh(self, rank, groups.get("context"), groups.get("expert"), groups.get("expert_replica"))


@dataclass(frozen=True)
class Mesh:
    """One rank's place in the mesh and its groups (None along an axis of degree 1; the
    replica group is also None when each slice of experts is on one rank only)."""

    dims: ParallelDims
    rank: int
    context_group: Any = None
    expert_group: Any = None
    expert_replica_group: Any = None

    @property
    def context_rank(self) -> int:
        return self.dims.coords(self.rank)["context"]

    @property
    def expert_rank(self) -> int:
        return self.dims.coords(self.rank)["expert"]

    @property
    def batch_rank(self) -> int:
        return self.rank // self.dims.context

    @property
    def batch_world(self) -> int:
        return self.dims.batch_world

    def describe(self) -> list[str]:
        """A line per axis in use, for the user."""
        d = self.dims
        lines = []
        if d.context > 1:
            lines.append(f"context parallel: {d.context} ranks per sequence, {d.batch_world} data-parallel groups")
        if d.expert > 1:
            lines.append(f"expert parallel: each MoE layer's experts split over {d.expert} ranks "
                         f"({d.data * d.context} cop{'ies' if d.data * d.context > 1 else 'y'} of each slice)")  # fmt: skip
        return lines
