"""Process-group setup from torchrun's environment, and `parallelize`, kept apart from models.

Models know nothing of parallelism. `parallelize(model, ...)` applies, in torchtitan's order:
activation checkpointing -> torch.compile (per block) -> FSDP2 `fully_shard` (per block, then the
root) or DDP. "Blocks" are what a model lists in `parallel_blocks()`, else every child of every
`nn.ModuleList` (the usual `layers`/`blocks` stacks).
"""

from __future__ import annotations

import datetime
import gc
import os
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Iterator

import torch
import torch.distributed as dist
from torch import nn

from genet5.train.expert_parallel import expert_parallel_layers, expert_parameter_names, sync_expert_grads


def _fsdp2() -> tuple:
    """(fully_shard, MixedPrecisionPolicy), imported on first use (the import costs ~1 s)."""
    try:  # public in recent torch; under _composable in 2.4-2.5
        from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard
    except ImportError:  # pragma: no cover - depends on the installed torch
        try:
            from torch.distributed._composable.fsdp import MixedPrecisionPolicy, fully_shard
        except ImportError:
            raise RuntimeError("FSDP2 (fully_shard) is not available in this torch version") from None
    return fully_shard, MixedPrecisionPolicy


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed(device: str | None = None, timeout_s: float = 1800.0) -> DistInfo:
    """Join the process group torchrun describes (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT).

    Without those variables this is a single process and nothing is initialised. NCCL on CUDA,
    gloo on CPU. Each process uses cuda:LOCAL_RANK.
    """
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        torch.cuda.set_device(local)
        dev = torch.device("cuda", local)
    else:
        dev = torch.device(device)
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        dist.init_process_group(
            backend=backend,
            rank=rank,
            world_size=world,
            timeout=datetime.timedelta(seconds=timeout_s),
            device_id=dev if dev.type == "cuda" else None,
        )
    return DistInfo(rank=rank, world_size=world, local_rank=local, device=dev)


def current_dist(device: torch.device | str | None = None) -> DistInfo:
    """DistInfo of an already-initialised group (or single process)."""
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dist.is_available() and dist.is_initialized():
        return DistInfo(
            dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")), dev
        )
    return DistInfo(device=dev)


def destroy_distributed(wait: bool = False) -> None:
    """Leave the process group (all of them). `wait`: first wait for every rank (the end of a run
    that went well, where rank 0 may still be writing the model). Garbage is collected after, so
    that process groups still held by objects in reference cycles (a model's parallel layers, a
    mesh) are freed now rather than while the interpreter shuts down: a gloo group freed then
    aborted a process now and again ("terminate called without an active exception")."""
    if dist.is_available() and dist.is_initialized():
        if wait:
            dist.barrier()
        dist.destroy_process_group()
        gc.collect()


def resolve_mode(mode: str, world_size: int) -> str:
    if mode == "auto":
        return "ddp" if world_size > 1 else "none"
    if mode not in ("none", "ddp", "fsdp"):
        raise ValueError(f"parallel.mode must be auto|none|ddp|fsdp, got {mode!r}")
    return mode


def resolve_precision(mixed_precision: str, device: torch.device) -> torch.dtype:
    """bf16 only on CUDA by default: CPUs here lack bf16 matrix units, so bf16 is slower there."""
    if mixed_precision == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    if mixed_precision in ("bf16", "bfloat16"):
        return torch.bfloat16
    if mixed_precision in ("fp32", "float32", "no"):
        return torch.float32
    raise ValueError(f"parallel.mixed_precision must be auto|bf16|fp32, got {mixed_precision!r}")


def find_blocks(model: nn.Module) -> list[nn.Module]:
    """The repeated blocks to shard/checkpoint/compile one by one."""
    if hasattr(model, "parallel_blocks"):
        return list(model.parallel_blocks())
    blocks = []
    for m in model.modules():
        if isinstance(m, nn.ModuleList):
            blocks.extend(m)
    return blocks


def _apply_activation_checkpointing(model: nn.Module) -> None:
    # Models may implement their own (e.g. checkpoint inside the block loop); else wrap blocks.
    if hasattr(model, "set_activation_checkpointing"):
        model.set_activation_checkpointing(True)
        return
    from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import (
        CheckpointImpl,
        checkpoint_wrapper,
    )

    for parent in list(model.modules()):
        if not isinstance(parent, nn.ModuleList):
            continue
        for i, block in enumerate(parent):
            # Non-reentrant checkpointing composes with FSDP2 and torch.compile.
            parent[i] = checkpoint_wrapper(block, checkpoint_impl=CheckpointImpl.NO_REENTRANT)


def _no_group(mode: str) -> Exception:
    """parallel.mode ddp / fsdp in a single process (not started by torchrun): a setting the user
    fixes, one line."""
    from genet5.train.config import RunConfigError

    return RunConfigError(f"parallel.mode={mode} needs several processes: launch with torchrun --nproc-per-node N "
                          "(or use parallel.mode=auto for one process)")  # fmt: skip


def parallelize(
    model: nn.Module,
    mode: str = "auto",
    *,
    info: DistInfo | None = None,
    mixed_precision: str | torch.dtype = "auto",
    activation_checkpointing: bool = False,
    compile: bool = False,
    reshard_after_forward: bool = True,
) -> nn.Module:
    """Return the model ready to train under `mode` (none | ddp | fsdp | auto).

    The model is moved to `info.device`. For FSDP2 the parameters become DTensors sharded over all
    ranks; `mixed_precision` bf16 casts gathered params to bf16 while gradients are reduced in fp32.
    For DDP/none, bf16 is applied by autocast in the trainer instead.
    """
    info = info or current_dist()
    mode = resolve_mode(mode, info.world_size)
    dtype = (
        mixed_precision
        if isinstance(mixed_precision, torch.dtype)
        else resolve_precision(mixed_precision, info.device)
    )
    model.to(info.device)
    if activation_checkpointing:
        _apply_activation_checkpointing(model)
    if compile:
        for block in find_blocks(model) or [model]:
            block.compile()  # in place: parameter names (and so checkpoints) do not change
    expert = expert_parameter_names(model)  # expert-parallel layers: experts differ by rank
    if mode == "fsdp":
        if not dist.is_initialized():
            raise _no_group("fsdp")
        if expert:
            raise ValueError("FSDP does not compose with expert parallelism (it would average different experts)")
        fully_shard, MixedPrecisionPolicy = _fsdp2()
        mp = MixedPrecisionPolicy(param_dtype=dtype, reduce_dtype=torch.float32)
        for block in find_blocks(model):
            fully_shard(block, mp_policy=mp, reshard_after_forward=reshard_after_forward)
        # The root keeps its params gathered after forward: backward needs them at once anyway.
        fully_shard(model, mp_policy=mp, reshard_after_forward=False)
        return model
    if mode == "ddp":
        if not dist.is_initialized():
            raise _no_group("ddp")
        ids = [info.device.index] if info.device.type == "cuda" else None
        if expert:  # their gradients are synced by sync_expert_grads (see grad_sync)
            nn.parallel.DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(model, expert)
        return nn.parallel.DistributedDataParallel(model, device_ids=ids)
    return model


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


@contextmanager
def grad_sync(model: nn.Module, enabled: bool) -> Iterator[None]:
    """Skip the gradient all-reduce on all but the last micro-batch of an accumulation; after the
    last one's backward, also sync the gradients of expert-parallel layers (which DDP leaves)."""
    if isinstance(model, nn.parallel.DistributedDataParallel) and not enabled:
        with model.no_sync():
            yield
        return
    if hasattr(model, "set_requires_gradient_sync"):  # FSDP2 module
        model.set_requires_gradient_sync(enabled)
    with nullcontext():
        yield
    if enabled:
        sync_expert_grads(model)  # nothing without expert-parallel layers


def clip_grad_norm(model: nn.Module, params: list[torch.Tensor], max_norm: float) -> torch.Tensor:
    """clip_grad_norm_ of `params` by their global norm, returned. Under FSDP2 the norm is a
    DTensor made whole; with expert-parallel layers the experts' squared norms are summed over
    the expert group (each rank holds other experts), so every rank clips by the same factor."""
    layers = expert_parallel_layers(model)
    if not layers:
        norm = torch.nn.utils.clip_grad_norm_(params, max_norm, foreach=True)
        return norm.full_tensor() if hasattr(norm, "full_tensor") else norm
    experts = {id(getattr(layer, w)) for _, layer in layers for w in ("w1", "w3", "w2")}
    squares = []
    for mine in (False, True):
        grads = [p.grad for p in params if (id(p) in experts) == mine]
        sq = torch.nn.utils.get_total_norm(grads, foreach=True).float() ** 2 if grads else torch.zeros((), device=params[0].device)
        squares.append(sq.reshape(1))
    dist.all_reduce(squares[1], group=layers[0][1].group)
    total = (squares[0] + squares[1]).sqrt()[0]
    torch.nn.utils.clip_grads_with_norm_(params, max_norm, total, foreach=True)
    return total


def all_reduce_sum(values: list[float], device: torch.device) -> list[float]:
    """Sum a few floats over ranks (fp64 so token counts stay exact)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()
