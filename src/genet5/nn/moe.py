"""Mixture-of-experts feed-forward layer (token-choice top-k, dropless).

Router in fp32: softmax over experts, then top-k, with the k weights renormalized to sum to 1
(Megatron `moe_router_pre_softmax=False` with top-k renormalization; Mixtral). Tokens are
sorted by expert and run through one grouped matmul (`grouped_mm` on CUDA in bf16 when this
torch has it; an exact per-expert loop otherwise). No capacity factor: no token is dropped.

The Switch load-balancing loss and the router z-loss are attached to the layer's output with
the Megatron autograd trick (`MoEAuxLossAutoScaler`): the output is returned unchanged, and its
backward adds d(aux)/d(router) as if aux had been added to the training loss. So the caller's
loss code never sees the aux loss, yet the router is trained by it.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Iterator, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


class MoEAuxLossAutoScaler(torch.autograd.Function):
    """Identity on `output`; in backward, gives `aux_loss` a gradient of `main_loss_scale`.

    Set the scale (e.g. 1 / gradient-accumulation steps, or the AMP loss scale) with
    `set_aux_loss_scale` so the aux loss is weighted like the main loss it rides along with.
    """

    main_loss_scale: float = 1.0

    @staticmethod
    def forward(ctx, output: torch.Tensor, aux_loss: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(aux_loss)
        return output

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        (aux_loss,) = ctx.saved_tensors
        return grad_output, torch.full_like(aux_loss, MoEAuxLossAutoScaler.main_loss_scale)


def set_aux_loss_scale(scale: float) -> None:
    MoEAuxLossAutoScaler.main_loss_scale = float(scale)


@contextmanager
def aux_loss_scale(scale: float) -> Iterator[None]:
    """`set_aux_loss_scale(scale)` for the duration of the block (backward included), then the
    previous scale again: the setting is process-wide. The trainer wraps each optimizer step in
    it with 1 / (micro-batches accumulated)."""
    before = MoEAuxLossAutoScaler.main_loss_scale
    set_aux_loss_scale(scale)
    try:
        yield
    finally:
        MoEAuxLossAutoScaler.main_loss_scale = before


def _grouped_mm_fn():
    fn = getattr(F, "grouped_mm", None)  # public from torch ~2.10
    return fn if fn is not None else getattr(torch, "_grouped_mm", None)  # torch >= 2.8


_GROUPED_MM = _grouped_mm_fn()
_GROUPED_MM_BROKEN = False  # set after a first failure (e.g. unsupported GPU): use the loop
_ALIGN_M = 16  # rows per expert group padded to a multiple of this for the grouped kernel


def load_balancing_loss(probs_NE: torch.Tensor, counts_E: torch.Tensor, top_k: int) -> torch.Tensor:
    """Switch-Transformer loss E * sum_e f_e * P_e (1.0 when routing is perfectly uniform).

    f_e: fraction of the N*k routed assignments that went to expert e (not differentiable);
    P_e: mean router probability of expert e (carries the gradient).
    """
    N, E = probs_NE.shape
    f_E = counts_E.to(probs_NE.dtype) / max(N * top_k, 1)
    return E * (f_E * probs_NE.mean(0)).sum()


def router_z_loss(logits_NE: torch.Tensor) -> torch.Tensor:
    """ST-MoE z-loss: mean over tokens of logsumexp(logits)^2; keeps router logits small."""
    return torch.logsumexp(logits_NE, dim=-1).pow(2).mean()


class Routing(NamedTuple):
    """Top-k routing of N tokens, with the N*K (token, expert) assignments sorted by expert."""

    logits_NE: torch.Tensor  # fp32 router logits
    probs_NE: torch.Tensor
    top_w_NK: torch.Tensor  # renormalized weights of the chosen experts
    flat_e: torch.Tensor  # expert of each assignment, token-major (N*K,)
    order_M: torch.Tensor  # assignments sorted by expert (stable)
    token_M: torch.Tensor  # the token of each sorted assignment
    counts_E: torch.Tensor  # assignments per expert


def route_tokens(x_ND: torch.Tensor, router_weight: torch.Tensor, top_k: int, n_experts: int) -> Routing:
    """fp32 softmax router, top-k, weights renormalized to sum to 1 (shared with the
    expert-parallel layer in genet5.train.expert_parallel, so both route identically)."""
    with torch.autocast(device_type=x_ND.device.type, enabled=False):  # router in fp32
        logits_NE = F.linear(x_ND.float(), router_weight.float())
    probs_NE = logits_NE.softmax(dim=-1)
    top_w_NK, top_e_NK = probs_NE.topk(top_k, dim=-1)
    top_w_NK = top_w_NK / top_w_NK.sum(dim=-1, keepdim=True)
    flat_e = top_e_NK.reshape(-1)
    order_M = flat_e.argsort(stable=True)
    return Routing(logits_NE, probs_NE, top_w_NK, flat_e, order_M, order_M // top_k,
                   torch.bincount(flat_e, minlength=n_experts))  # fmt: skip


def combine_expert_outputs(layer: nn.Module, y_MD: torch.Tensor, r: Routing, x_ND: torch.Tensor) -> torch.Tensor:
    """Weight and sum each token's k expert outputs (y_MD in sorted-assignment order) in fp32,
    back to the input dtype; record the layer's routing stats and attach its aux / z losses
    (`layer` has aux_loss_coef, z_loss_coef, top_k, dim and the last_* attributes)."""
    y_MD = y_MD.float() * r.top_w_NK.reshape(-1)[r.order_M, None]
    out_ND = y_MD.new_zeros(x_ND.shape[0], layer.dim).index_add_(0, r.token_M, y_MD).to(x_ND.dtype)
    aux = load_balancing_loss(r.probs_NE, r.counts_E, layer.top_k)
    z = router_z_loss(r.logits_NE)
    layer.last_expert_counts = r.counts_E.detach()
    layer.last_aux_loss, layer.last_z_loss = aux.detach(), z.detach()
    total_aux = layer.aux_loss_coef * aux + layer.z_loss_coef * z
    if layer.training and torch.is_grad_enabled() and total_aux.requires_grad:
        out_ND = MoEAuxLossAutoScaler.apply(out_ND, total_aux)
    return out_ND


class MoE(nn.Module):
    """Top-k routed SwiGLU experts. Expert weights are stacked Linear weights (out, in):
    w1, w3: (E, hidden, dim) gate and up; w2: (E, dim, hidden) down."""

    def __init__(
        self,
        dim: int,
        expert_hidden: int,
        n_experts: int,
        top_k: int,
        aux_loss_coef: float = 1e-3,
        z_loss_coef: float = 1e-3,
    ):
        super().__init__()
        if not 1 <= top_k <= n_experts:
            raise ValueError(f"top_k={top_k} must be in [1, n_experts={n_experts}]")
        self.dim, self.expert_hidden = dim, expert_hidden
        self.n_experts, self.top_k = n_experts, top_k
        self.aux_loss_coef, self.z_loss_coef = aux_loss_coef, z_loss_coef
        self.router = nn.Linear(dim, n_experts, bias=False)
        self.w1 = nn.Parameter(torch.empty(n_experts, expert_hidden, dim))
        self.w3 = nn.Parameter(torch.empty(n_experts, expert_hidden, dim))
        self.w2 = nn.Parameter(torch.empty(n_experts, dim, expert_hidden))
        self.reset_parameters()
        # logging statistics of the last forward (detached)
        self.last_expert_counts: torch.Tensor | None = None
        self.last_aux_loss: torch.Tensor | None = None
        self.last_z_loss: torch.Tensor | None = None

    def reset_parameters(self) -> None:
        # same scale as nn.Linear's default for each expert
        for w, fan_in in ((self.w1, self.dim), (self.w3, self.dim), (self.w2, self.expert_hidden)):
            bound = 1.0 / math.sqrt(fan_in)
            nn.init.uniform_(w, -bound, bound)

    # -- experts ---------------------------------------------------------------------------
    def _experts_loop(self, x_MD: torch.Tensor, counts_E: torch.Tensor) -> torch.Tensor:
        """Exact reference path: one matmul chain per expert over its contiguous slice."""
        outs, start = [], 0
        for e, n in enumerate(counts_E.tolist()):  # host sync; fine on CPU
            if n == 0:
                continue
            seg = x_MD[start : start + n]
            h = F.silu(seg @ self.w1[e].t()) * (seg @ self.w3[e].t())
            outs.append(h @ self.w2[e].t())
            start += n
        return torch.cat(outs) if outs else x_MD.new_zeros(0, self.dim)

    def _experts_grouped(
        self,
        x_MD: torch.Tensor,
        counts_E: torch.Tensor,
        expert_sorted_M: torch.Tensor,
        dtype: torch.dtype = torch.bfloat16,
    ) -> torch.Tensor:
        """grouped_mm path without host sync: each expert's rows are placed at an aligned
        offset in a buffer of static upper-bound size, multiplied, then gathered back."""
        M, E = x_MD.shape[0], self.n_experts
        padded_E = (counts_E + _ALIGN_M - 1) // _ALIGN_M * _ALIGN_M
        padded_end_E = padded_E.cumsum(0)
        padded_start_E = padded_end_E - padded_E
        start_E = counts_E.cumsum(0) - counts_E
        rank_M = torch.arange(M, device=x_MD.device) - start_E[expert_sorted_M]
        dest_M = padded_start_E[expert_sorted_M] + rank_M
        buf = x_MD.new_zeros(M + E * _ALIGN_M, self.dim, dtype=dtype)
        buf[dest_M] = x_MD.to(dtype)
        offs = padded_end_E.to(torch.int32)
        w1, w3, w2 = (w.to(dtype) for w in (self.w1, self.w3, self.w2))
        h = F.silu(_GROUPED_MM(buf, w1.transpose(-2, -1), offs=offs))
        h = h * _GROUPED_MM(buf, w3.transpose(-2, -1), offs=offs)
        y = _GROUPED_MM(h, w2.transpose(-2, -1), offs=offs)
        return y[dest_M]

    def _use_grouped(self, x: torch.Tensor) -> bool:
        if _GROUPED_MM is None or _GROUPED_MM_BROKEN or not x.is_cuda:
            return False
        if torch.is_autocast_enabled("cuda"):
            return torch.get_autocast_dtype("cuda") == torch.bfloat16
        return x.dtype == torch.bfloat16

    def forward(self, x_BTD: torch.Tensor) -> torch.Tensor:
        global _GROUPED_MM_BROKEN
        shape = x_BTD.shape
        x_ND = x_BTD.reshape(-1, self.dim)
        K, E = self.top_k, self.n_experts

        r = route_tokens(x_ND, self.router.weight, K, E)
        counts_E, order_M, token_M = r.counts_E, r.order_M, r.token_M
        flat_e = r.flat_e
        x_MD = x_ND[token_M]
        y_MD = None
        if self._use_grouped(x_ND):
            try:
                y_MD = self._experts_grouped(x_MD, counts_E, flat_e[order_M])
            except RuntimeError:  # kernel unsupported on this GPU/torch: fall back for good
                _GROUPED_MM_BROKEN = True
        if y_MD is None:
            y_MD = self._experts_loop(x_MD, counts_E)
        return combine_expert_outputs(self, y_MD, r, x_ND).view(shape)

    def extra_repr(self) -> str:
        return (
            f"dim={self.dim}, expert_hidden={self.expert_hidden}, n_experts={self.n_experts}, "
            f"top_k={self.top_k}"
        )
