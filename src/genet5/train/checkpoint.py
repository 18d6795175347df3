"""Atomic checkpoints: safetensors weights + weights_only torch state + the run config as JSON.

Layout of one checkpoint directory `step-00001234/`:
    model.safetensors   full (unsharded) model weights, fp32 as trained (FSDP shards and
                        expert-parallel slices gathered)
    optim.pt            optimizer + scheduler state (full, FQN-keyed), loaded with weights_only=True
    trainer.pt          step, epoch, data position, early-stopping state (plain types)
    rng-rank{r}.pt      python / numpy / torch / cuda RNG states of rank r, as tensors and ints
    config.json         the RunConfig that made it
    meta.json           step and world size, human-readable
The directory is written under a temporary name and renamed when complete, and `latest` (a text
file naming the newest directory) is replaced atomically, so a kill at any moment leaves either
the old or the new checkpoint, never half of one.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file
from torch import nn

from genet5.errors import UserError
from genet5.train.expert_parallel import full_expert_state, local_expert_state

LATEST = "latest"


class CheckpointError(UserError, ValueError):
    """A checkpoint file that cannot be read (truncated, corrupt) or does not fit the run: one
    line naming the file and the way out."""


def _damaged(path: Path, err: BaseException) -> CheckpointError:
    reason = str(err).strip().splitlines()[0].split(". ")[0] if str(err).strip() else type(err).__name__
    return CheckpointError(
        f"{path}: damaged or incomplete checkpoint file ({reason}); remove {path.parent} to resume from an "
        "earlier checkpoint, or --set train.resume=never to start over"
    )


def _read(path: Path, reader):
    """reader(path), with a missing, truncated or corrupt file as one CheckpointError. safetensors
    and torch.load raise many types on damage (SafetensorError, RuntimeError, EOFError,
    UnpicklingError, ...); a refused pickle in a weights_only load is one of them too."""
    if not path.is_file():
        raise CheckpointError(f"{path}: missing from the checkpoint; remove {path.parent} to resume from an earlier "
                              "checkpoint, or --set train.resume=never to start over")  # fmt: skip
    try:
        return reader(path)
    except Exception as err:
        raise _damaged(path, err) from None


def _torch_load(path: Path):
    return _read(path, lambda p: torch.load(p, map_location="cpu", weights_only=True))


def _is_dist() -> bool:
    return dist.is_available() and dist.is_initialized()


def _rank() -> int:
    return dist.get_rank() if _is_dist() else 0


def _barrier() -> None:
    if _is_dist():
        dist.barrier()


# ---------------------------------------------------------------- RNG as weights_only-safe data
def rng_state() -> dict[str, Any]:
    """All RNG states as tensors/ints/strings (loadable with weights_only=True)."""
    version, py_state, gauss = random.getstate()
    np_kind, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    state: dict[str, Any] = {
        "python_version": version,
        "python": torch.tensor(py_state, dtype=torch.int64),
        "python_gauss": gauss,
        "numpy_kind": str(np_kind),
        "numpy_keys": torch.from_numpy(np.asarray(np_keys, dtype=np.int64)),
        "numpy_pos": int(np_pos),
        "numpy_has_gauss": int(np_has_gauss),
        "numpy_gauss": float(np_gauss),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate((state["python_version"], tuple(state["python"].tolist()), state["python_gauss"]))
    np.random.set_state(
        (
            state["numpy_kind"],
            state["numpy_keys"].numpy().astype(np.uint32),
            state["numpy_pos"],
            state["numpy_has_gauss"],
            state["numpy_gauss"],
        )
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# ---------------------------------------------------------------- helpers
def _dcp():
    # imported on first use: torch.distributed.checkpoint pulls in FSDP (~1-3 s of import)
    from torch.distributed.checkpoint import state_dict

    return state_dict


def _full_opts(**kw: Any):
    # full_state_dict gathers FSDP2 shards (DTensors) into plain tensors; works for DDP/plain too.
    return _dcp().StateDictOptions(full_state_dict=True, cpu_offload=True, **kw)


def _to_safetensors_dict(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """safetensors refuses tensors sharing storage (tied weights): give those their own copy."""
    out, ptrs = {}, set()
    for k, v in sd.items():
        v = v.detach().cpu().contiguous()
        ptr = v.untyped_storage().data_ptr()
        if v.numel() and ptr in ptrs:
            v = v.clone()
        elif v.numel():
            ptrs.add(ptr)
        out[k] = v
    return out


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def latest_checkpoint(out_dir: str | Path) -> Path | None:
    out = Path(out_dir)
    marker = out / LATEST
    if marker.exists():
        p = out / marker.read_text().strip()
        if (p / "meta.json").exists():
            return p
    # fall back to the highest complete step directory (e.g. if `latest` was lost)
    done = sorted(p for p in out.glob("step-*") if (p / "meta.json").exists())
    return done[-1] if done else None


# ---------------------------------------------------------------- save / load
def save_checkpoint(
    out_dir: str | Path,
    step: int,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    scheduler: Any | None,
    trainer_state: dict[str, Any],
    config: dict[str, Any] | None = None,
    keep_last: int = 0,
) -> Path:
    """Collective: every rank must call it (FSDP gathers shards). Rank 0 writes the shared files."""
    out = Path(out_dir)
    name = f"step-{step:08d}"
    final = out / name
    tmp = out / f".tmp-{name}"
    rank = _rank()
    world = dist.get_world_size() if _is_dist() else 1

    sdm = _dcp()
    model_sd = sdm.get_model_state_dict(model, options=_full_opts())
    optim_sd = sdm.get_optimizer_state_dict(model, optimizer, options=_full_opts()) if optimizer else None
    full_expert_state(model, optimizer, model_sd, optim_sd)  # expert-parallel slices made whole

    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
    _barrier()
    if rank == 0:
        save_file(_to_safetensors_dict(model_sd), str(tmp / "model.safetensors"), metadata={"step": str(step)})
        torch.save(
            {"optimizer": optim_sd, "scheduler": scheduler.state_dict() if scheduler else None},
            tmp / "optim.pt",
        )
        torch.save(trainer_state, tmp / "trainer.pt")
        (tmp / "config.json").write_text(json.dumps(config or {}, indent=2, sort_keys=True) + "\n")
    torch.save(rng_state(), tmp / f"rng-rank{rank}.pt")  # each rank its own stream (shared FS)
    _barrier()
    if rank == 0:
        (tmp / "meta.json").write_text(json.dumps({"step": step, "world_size": world}) + "\n")
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)  # the checkpoint appears complete or not at all
        _atomic_write_text(out / LATEST, name + "\n")
        if keep_last > 0:
            old = sorted(p for p in out.glob("step-*") if p.is_dir() and p != final)
            for p in old[: max(0, len(old) - (keep_last - 1))]:
                shutil.rmtree(p, ignore_errors=True)
    _barrier()
    return final


def load_model_weights(model: nn.Module, path: str | Path, strict: bool = True) -> None:
    """Load model.safetensors (a file or a checkpoint dir) into a plain, DDP or FSDP2 model."""
    p = Path(path)
    if p.is_dir():
        p = p / "model.safetensors"
    sd = _read(p, lambda f: load_file(str(f)))
    local_expert_state(model, sd)  # this rank's experts of an expert-parallel model
    sdm = _dcp()
    try:
        sdm.set_model_state_dict(model, sd, options=sdm.StateDictOptions(full_state_dict=True, strict=strict))
    except (RuntimeError, KeyError, ValueError) as err:  # names or shapes of another model
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{p}: the weights do not fit this run's model ({reason}); resume with the settings "
                              "that made the checkpoint, or --set train.resume=never to start over") from None  # fmt: skip


def load_checkpoint(
    ckpt: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any | None = None,
    restore_rng: bool = True,
) -> dict[str, Any]:
    """Restore everything `save_checkpoint` wrote; returns the trainer state. Never unpickles."""
    ckpt = Path(ckpt)
    load_model_weights(model, ckpt)
    if optimizer is not None or scheduler is not None:
        blob = _torch_load(ckpt / "optim.pt")
        if optimizer is not None and blob["optimizer"] is not None:
            local_expert_state(model, {}, blob["optimizer"])
            sdm = _dcp()
            sdm.set_optimizer_state_dict(
                model, optimizer, blob["optimizer"], options=sdm.StateDictOptions(full_state_dict=True)
            )
        if scheduler is not None and blob["scheduler"] is not None:
            scheduler.load_state_dict(blob["scheduler"])
    state = _torch_load(ckpt / "trainer.pt")
    if restore_rng:
        rng_file = ckpt / f"rng-rank{_rank()}.pt"
        if not rng_file.exists():  # resumed on more ranks than saved: derive from rank 0's stream
            rng_file = ckpt / "rng-rank0.pt"
        set_rng_state(_torch_load(rng_file))
    return state
