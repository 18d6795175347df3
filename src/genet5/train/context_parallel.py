"""Context parallelism (CP): one long sequence split over the ranks of a process group.

Sharding ("zigzag", load-balanced for causal attention). The sequence of length T is cut into
2W chunks of c = T / 2W tokens; rank r holds chunks r and 2W-1-r, in that order. Under a causal
mask chunk i attends to i + 1 chunks of keys, so every rank does (r + 1) + (2W - r) = 2W + 1
chunk-pairs of work: equal on all ranks (a plain split would leave the last rank W times the
first one's work).

Attention ("all-gather KV", as Llama 3 trains at 128K). Each rank projects its own tokens; keys
and values are all-gathered (differentiable: the backward is a reduce-scatter, so a rank's K/V
gradient sums what every rank's queries sent back) and put into global order, and the local
queries attend to them under a mask built from global indices: rank r's chunk i sees the
keys [0, (i + 1) c) causally. RoPE needs nothing special: the model's `positions=` argument gets
the global positions of the local tokens (`cp_positions`), so q and k are rotated by where they
sit in the full sequence before they are exchanged.

Trade-off against ring attention: here every rank holds the full K/V of the sequence,
O(T * kv_dim) per layer (GQA keeps that small: kv_dim = n_kv_heads * head_dim), while queries,
activations, MLP/MoE work and the logits are 1/W. Memory is still linear in T, the code is a
few collectives around ordinary attention (masks, windows, packed documents and padding all
work unchanged), and the exchange is one all-gather + one reduce-scatter per layer that overlaps
badly with compute only at small T. Ring attention (K/V blocks passed around the ring, partial
softmaxes merged with their log-sum-exp) brings K/V memory to O(T / W) too, at the cost of W
communication steps per layer and a hand-written backward; it pays off only when the full K/V
of one layer no longer fits one device.

Attention itself: the local query chunks go through `genet5.nn.attention.masked_attention`,
so chunk 0 of rank 0 is plain causal (flash) and the others build their causal mask in query
blocks past MASK_BLOCK_ELEMENTS: memory stays O(block * T) per layer.

Use (the model never imports this module: it sees only `Attention.sdpa_override`):

    with context_parallel(model, group):           # or enable_context_parallel(model, group)
        local = cp_shard_batch(batch, rank, world)  # the same full batch on every rank
        loss, metrics = cp_lm_loss_fn(model, local) # mean over this rank's targets
        # weight by local / global targets; DDP/FSDP average over ranks, hence * world
        (loss * local["n_targets"] / local["n_targets_global"] * world).backward()

With the Trainer, `cp_lm_loss_fn` and `batch_targets` (local n_targets) follow its protocol.
Loss terms that are not sums over tokens do not split: the MoE load-balancing and z-losses are
computed over each rank's local tokens, so their gradients differ from one process's (the main
loss and its gradients are exact).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from genet5.nn.attention import Attention, CrossAttention, masked_attention, visible_key_range
from genet5.nn.rotary import positions_from_doc_ids
from genet5.train.expert_parallel import moe_metrics

IGNORE = -100
LN2 = 0.6931471805599453


# -- sharding ------------------------------------------------------------------------------------
def _chunk_size(T: int, world: int) -> int:
    if T % (2 * world):
        raise ValueError(
            f"context parallelism over {world} ranks needs a sequence length divisible by "
            f"{2 * world} (2 chunks per rank), got {T}"
        )
    return T // (2 * world)


def cp_chunks(rank: int, world: int) -> tuple[int, int]:
    """The two chunk indices (of 2 * world) that rank holds, in local order."""
    return rank, 2 * world - 1 - rank


def cp_positions(T: int, rank: int, world: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Global positions (T / world,) of the tokens `shard_sequence` gives rank."""
    c = _chunk_size(T, world)
    return torch.cat([torch.arange(i * c, (i + 1) * c, device=device) for i in cp_chunks(rank, world)])


def shard_sequence(x: torch.Tensor, rank: int, world: int, dim: int = 1) -> torch.Tensor:
    """Rank's part of a full-sequence tensor: chunks r and 2W-1-r along `dim`, concatenated."""
    c = _chunk_size(x.shape[dim], world)
    return torch.cat([x.narrow(dim, i * c, c) for i in cp_chunks(rank, world)], dim=dim)


def unshard_sequence(parts: Sequence[torch.Tensor], dim: int = 1) -> torch.Tensor:
    """Inverse of `shard_sequence`: the full sequence from the parts of ranks 0..W-1."""
    world = len(parts)
    c = parts[0].shape[dim] // 2
    chunks: list[torch.Tensor | None] = [None] * (2 * world)
    for r, p in enumerate(parts):
        lo, hi = cp_chunks(r, world)
        chunks[lo], chunks[hi] = p.narrow(dim, 0, c), p.narrow(dim, c, c)
    return torch.cat(chunks, dim=dim)  # type: ignore[arg-type]


# -- collectives -----------------------------------------------------------------------------------
def _gather_stacked(x: torch.Tensor, group) -> torch.Tensor:
    """(W, *x.shape): every rank's x. The collective wants the ranks concatenated along dim 0."""
    x = x.contiguous()
    world = dist.get_world_size(group)
    out = x.new_empty((world * x.shape[0], *x.shape[1:]))
    dist.all_gather_into_tensor(out, x, group=group)
    return out.view(world, *x.shape)


def _reduce_scatter_by_all_reduce(group) -> bool:
    # gloo's reduce-scatter is recent (torch 2.13 has it, the oldest supported torch may not):
    # all-reduce + this rank's slice works everywhere, at W times the traffic (CPU tests only)
    return dist.get_backend(group) == "gloo"


class _AllGather(torch.autograd.Function):
    """(W, *x.shape) stack of every rank's x; backward sums the incoming gradients over ranks and
    returns this rank's slice (a reduce-scatter)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, group) -> torch.Tensor:
        ctx.group = group
        return _gather_stacked(x, group)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        group = ctx.group
        if _reduce_scatter_by_all_reduce(group):
            g = grad.contiguous().clone()
            dist.all_reduce(g, group=group)
            return g[dist.get_rank(group)], None
        out = grad.new_empty(grad.shape[1:])
        dist.reduce_scatter_tensor(out, grad.contiguous().flatten(0, 1), group=group)
        return out, None


def gather_sequence(x: torch.Tensor, group=None, dim: int = 1) -> torch.Tensor:
    """The full sequence, in global order, from every rank's local part along `dim`.
    Differentiable for floating tensors (e.g. keys/values, logits); plain for integer ones."""
    if x.is_floating_point() and torch.is_grad_enabled() and x.requires_grad:
        stacked = _AllGather.apply(x, group)
    else:
        y = x.to(torch.uint8) if x.dtype == torch.bool else x  # gloo has no bool
        stacked = _gather_stacked(y, group).to(x.dtype)
    return unshard_sequence(list(stacked.unbind(0)), dim=dim)


# -- attention -------------------------------------------------------------------------------------
class ContextParallelAttention:
    """`Attention.sdpa_override` for context parallelism over `group` (None: the default group).

    Called with this rank's rotated q (B, H, T/W, Dh) and k, v (B, Hkv, T/W, Dh) for the tokens
    `shard_sequence` gave it; gathers K/V (kv heads only) and the doc ids / padding of the whole
    sequence, then runs each of its two query chunks against the keys it can reach.
    """

    def __init__(self, group=None) -> None:
        self.group = group

    def __call__(
        self,
        attn: Attention,
        q: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        *,
        positions: torch.Tensor | None,
        doc_ids_BT: torch.Tensor | None,
        key_padding_mask_BT: torch.Tensor | None,
    ) -> torch.Tensor:
        if positions is None and attn.rotary is not None:
            # the default arange(T/W) would rotate every rank's tokens as if they came first
            raise ValueError(
                "context parallelism needs the global positions of the local tokens: pass "
                "positions= (cp_positions / cp_shard_batch give them)"
            )
        world, rank = dist.get_world_size(self.group), dist.get_rank(self.group)
        T_local = q.shape[2]
        if T_local % 2:
            raise ValueError(f"local sequence length {T_local} must be even (two chunks per rank)")
        c, T = T_local // 2, T_local * world
        k_all = gather_sequence(k, self.group, dim=2)
        v_all = gather_sequence(v, self.group, dim=2)
        doc_all = None if doc_ids_BT is None else gather_sequence(doc_ids_BT, self.group)
        pad_all = None if key_padding_mask_BT is None else gather_sequence(key_padding_mask_BT, self.group)
        outs = []
        for half, i in enumerate(cp_chunks(rank, world)):
            p0 = i * c  # global index of the chunk's first query
            k0, k1 = visible_key_range(p0, p0 + c, T, attn.causal, attn.window)
            outs.append(
                masked_attention(
                    q[:, :, half * c : (half + 1) * c],
                    k_all[:, :, k0:k1],
                    v_all[:, :, k0:k1],
                    q_offset=p0 - k0,
                    causal=attn.causal,
                    window=attn.window,
                    doc_ids_q_BT=None if doc_ids_BT is None else doc_ids_BT[:, half * c : (half + 1) * c],
                    doc_ids_k_BS=None if doc_all is None else doc_all[:, k0:k1],
                    key_padding_mask_BS=None if pad_all is None else pad_all[:, k0:k1],
                    alibi=attn.use_alibi,
                )
            )
        return torch.cat(outs, dim=2)

    def __repr__(self) -> str:
        return f"ContextParallelAttention(group={self.group})"


def enable_context_parallel(model: nn.Module, group=None) -> int:
    """Route every self-attention layer of `model` through context parallelism over `group`.
    Returns the number of layers switched. Works on FSDP/checkpoint-wrapped models (the
    Attention modules stay in place). Models with cross-attention are refused: their memory
    is not a sharded sequence."""
    if any(isinstance(m, CrossAttention) for m in model.modules()):
        raise ValueError("context parallelism covers decoder-only models (self-attention only)")
    override = ContextParallelAttention(group)
    n = 0
    for m in model.modules():
        if isinstance(m, Attention):
            m.sdpa_override = override
            n += 1
    if n == 0:
        raise ValueError("no genet5 Attention layer in the model")
    return n


def disable_context_parallel(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, Attention) and isinstance(m.sdpa_override, ContextParallelAttention):
            m.sdpa_override = None


@contextmanager
def context_parallel(model: nn.Module, group=None) -> Iterator[nn.Module]:
    """`enable_context_parallel` for the duration of the block."""
    enable_context_parallel(model, group)
    try:
        yield model
    finally:
        disable_context_parallel(model)


# -- language-model batches and loss ----------------------------------------------------------
def cp_shard_batch(batch: dict[str, Any], rank: int, world: int) -> dict[str, Any]:
    """This rank's part of a `genet5.train.genos_task.collate_lm` batch (the same full batch on
    every rank of the CP group).

    Labels are already shifted by collate_lm, so sharding them with the inputs keeps each token's
    target. Adds `positions` (global RoPE positions of the local tokens; restarting at each
    document of a packed batch, computed on the full sequence), sets `n_targets` to the local
    count and keeps the full one as `n_targets_global`.
    """
    ids = batch["input_ids"]
    T = ids.shape[1]
    out = dict(batch)
    packed = batch.get("packed", "doc_ids" in batch) and "doc_ids" in batch
    if packed:
        out["positions"] = shard_sequence(positions_from_doc_ids(batch["doc_ids"]), rank, world)
    else:
        out["positions"] = cp_positions(T, rank, world, device=ids.device)
    for key in ("input_ids", "labels", "doc_ids", "key_padding_mask"):
        if key in batch:
            out[key] = shard_sequence(batch[key], rank, world)
    out["packed"] = bool(packed)
    n_global = batch.get("n_targets")
    out["n_targets_global"] = int((batch["labels"] != IGNORE).sum()) if n_global is None else int(n_global)
    out["n_targets"] = int((out["labels"] != IGNORE).sum())
    out["cp_world"] = world
    return out


def cp_lm_loss_fn(model: nn.Module, batch: dict[str, Any], *, label_smoothing: float = 0.0):
    """Trainer loss_fn for a `cp_shard_batch` batch: mean next-token cross-entropy (fp32) over
    this rank's targets (0 when it has none), plus metrics. Weighted by the local target count
    (the trainer's `batch_targets`), the ranks' losses sum to the full sequence's mean."""
    doc = batch["doc_ids"] if batch.get("packed") else None
    logits = model(batch["input_ids"], positions=batch["positions"], doc_ids_BT=doc)
    labels = batch["labels"]
    total = F.cross_entropy(
        logits.flatten(0, 1).float(),
        labels.flatten(),
        ignore_index=IGNORE,
        label_smoothing=label_smoothing,
        reduction="sum",
    )
    loss = total / max(int(batch.get("n_targets", (labels != IGNORE).sum())), 1)
    metrics: dict[str, Any] = {
        "bits_per_base": float(loss.detach()) / LN2,
        "context": float(batch["input_ids"].shape[1] * batch.get("cp_world", 1)),
    }
    metrics.update(moe_metrics(model))  # whole or expert-parallel MoE layers
    return loss, metrics
