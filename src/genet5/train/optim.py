"""AdamW with weight-decay parameter groups, and a cosine schedule with linear warmup and a floor."""

from __future__ import annotations

import math

import torch
from torch import nn

from genet5.train.config import OptimConfig

# Parameters whose names contain one of these are not decayed: decaying a norm gain or an
# embedding row pulls it towards zero for no regularisation benefit.
_NO_DECAY_NAME_PARTS = ("norm", "bias", "embed", "ln_")


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Split trainable parameters into a decayed group (matrices) and a non-decayed one.

    1-D tensors (biases, norm gains) and anything named like a norm/bias/embedding are not decayed.
    Names are module FQNs, so this works the same before or after DDP/FSDP wrapping.
    """
    decay, no_decay = [], []
    seen: set[int] = set()
    for name, p in model.named_parameters():
        if not p.requires_grad or id(p) in seen:  # tied weights appear once
            continue
        seen.add(id(p))
        lname = name.lower()
        if p.ndim < 2 or any(part in lname for part in _NO_DECAY_NAME_PARTS):
            no_decay.append(p)
        else:
            decay.append(p)
    groups = []
    if decay:
        groups.append({"params": decay, "weight_decay": weight_decay})
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    return groups


def build_optimizer(model: nn.Module, cfg: OptimConfig) -> torch.optim.AdamW:
    groups = param_groups(model, cfg.weight_decay)
    params = [p for g in groups for p in g["params"]]
    fused = cfg.fused
    if fused is None:  # the fused CUDA kernel is fastest; CPU keeps the reference foreach path
        fused = bool(params) and all(p.is_cuda for p in params)
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=tuple(cfg.betas), eps=cfg.eps, fused=fused)


def warmup_steps(cfg: OptimConfig, max_steps: int) -> int:
    return cfg.warmup_steps if cfg.warmup_steps > 0 else int(round(cfg.warmup_frac * max_steps))


def lr_factor(step: int, *, warmup: int, max_steps: int, floor: float) -> float:
    """Multiplier of the peak lr at optimizer step `step` (0-based).

    Linear warmup from 1/warmup to 1, then cosine from 1 down to `floor` (min_lr/lr) at max_steps,
    held at the floor afterwards. A pure function of the step, so resuming cannot drift.
    """
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    decay_steps = max(1, max_steps - warmup)
    progress = min(1.0, (step - warmup) / decay_steps)
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def build_scheduler(
    optimizer: torch.optim.Optimizer, cfg: OptimConfig, max_steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    min_lr = cfg.lr / 10 if cfg.min_lr is None else cfg.min_lr
    floor = min_lr / cfg.lr if cfg.lr > 0 else 0.0
    warm = warmup_steps(cfg, max_steps)

    def fn(step: int) -> float:
        return lr_factor(step, warmup=warm, max_steps=max_steps, floor=floor)

    return torch.optim.lr_scheduler.LambdaLR(optimizer, fn)
