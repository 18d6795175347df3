"""Where the seq2seq decoder's last pointer was: the position term of GeneT5's pointer
(GeneT5Config.pointer_rel_buckets). The pointer's q . k scores say what a base looks like, not
where it lies; these give each base its signed distance from the last pointer, in buckets."""

from __future__ import annotations

import math

import torch


def last_pointer(pointers_BT: torch.Tensor) -> torch.Tensor:
    """(B, T) the last pointer (>= 0) at or before each step; -1 where there is none yet."""
    T = pointers_BT.shape[1]
    steps = torch.arange(T, device=pointers_BT.device).expand_as(pointers_BT)
    idx_BT = torch.where(pointers_BT >= 0, steps, torch.full_like(steps, -1)).cummax(1).values
    picked = torch.gather(pointers_BT, 1, idx_BT.clamp(min=0))
    return torch.where(idx_BT >= 0, picked, torch.full_like(picked, -1))


def relative_bucket(dist: torch.Tensor, n_buckets: int, exact: int = 4, max_dist: int = 2048) -> torch.Tensor:
    """Signed distance -> bucket: half the buckets for d >= 0, half for d < 0; |d| < exact
    each its own bucket, then log-spaced up to max_dist (beyond it the last bucket)."""
    half = n_buckets // 2
    a = dist.abs()
    log_b = exact + (torch.log(a.clamp(min=1).float() / exact) / math.log(max_dist / exact) * (half - exact)).long()
    b = torch.where(a < exact, a, log_b.clamp(max=half - 1))
    return torch.where(dist < 0, b + half, b)
