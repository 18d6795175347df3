"""Expert parallelism (EP): the experts of each MoE layer split over the ranks of a group.

Rank r of W holds experts [r * E/W, (r + 1) * E/W) (E divisible by W); the router is replicated.
Each rank routes its own tokens exactly as `genet5.nn.moe.MoE` does, then

    1. sorts its (token, expert) assignments by expert - hence by owning rank,
    2. exchanges the per-expert counts (all_to_all_single on E integers),
    3. sends each assignment's token vector to the expert's rank (all_to_all_single, uneven),
    4. runs its local experts on what it received (grouped by expert),
    5. sends the outputs back by the reverse all_to_all, and weights and sums them per token.

Both exchanges are differentiable (the backward of an all_to_all is the reverse all_to_all), so
a rank's expert weights get the gradient of every token routed to them, from all ranks. No token
is dropped (dropless, like MoE). Gloo supports uneven all_to_all_single, so this runs on CPU.

Scope, kept minimal: `enable_expert_parallel(model, group)` swaps every MoE for an
`ExpertParallelMoE` holding the local expert slices. The router (and every non-expert parameter)
stays replicated and needs its gradients summed over the group, and the expert parameters must
NOT be averaged over it (each rank's are different experts): so a DDP/FSDP wrapper over the same
ranks is not composed here (that needs a 2-D mesh, experts sharded along the EP dimension). State
dicts hold the local slices under the usual names (w1/w2/w3 with E/W rows); `gather_experts`
rebuilds the full tensors for saving. The MoE load-balancing and z-losses use the local tokens'
routing, as in MoE (Megatron computes them per micro-batch likewise).
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from genet5.nn.moe import MoE, combine_expert_outputs, route_tokens


class _AllToAll(torch.autograd.Function):
    """Rows of x go to ranks in blocks of in_splits; returns what arrives (out_splits rows from
    each rank). Backward: the gradient rows travel back the same way reversed."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, in_splits: list[int], out_splits: list[int], group) -> torch.Tensor:
        ctx.in_splits, ctx.out_splits, ctx.group = in_splits, out_splits, group
        out = x.new_empty((sum(out_splits), *x.shape[1:]))
        dist.all_to_all_single(out, x.contiguous(), out_splits, in_splits, group=group)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        back = grad.new_empty((sum(ctx.in_splits), *grad.shape[1:]))
        dist.all_to_all_single(back, grad.contiguous(), ctx.in_splits, ctx.out_splits, group=ctx.group)
        return back, None, None, None


class ExpertParallelMoE(nn.Module):
    """The MoE layer `moe` with only this rank's experts; same routing, same outputs."""

    def __init__(self, moe: MoE, group=None) -> None:
        super().__init__()
        world, rank = dist.get_world_size(group), dist.get_rank(group)
        E = moe.n_experts
        if E % world:
            raise ValueError(f"n_experts={E} is not divisible by the expert-parallel size {world}")
        self.group, self.world, self.rank = group, world, rank
        self.dim, self.expert_hidden, self.n_experts, self.top_k = moe.dim, moe.expert_hidden, E, moe.top_k
        self.aux_loss_coef, self.z_loss_coef = moe.aux_loss_coef, moe.z_loss_coef
        self.n_local = E // world
        lo = rank * self.n_local
        self.router = moe.router  # replicated
        self.w1 = nn.Parameter(moe.w1.detach()[lo : lo + self.n_local].clone())
        self.w3 = nn.Parameter(moe.w3.detach()[lo : lo + self.n_local].clone())
        self.w2 = nn.Parameter(moe.w2.detach()[lo : lo + self.n_local].clone())
        self.last_expert_counts = self.last_aux_loss = self.last_z_loss = None

    def _local_experts(self, x_MD: torch.Tensor, counts: list[int]) -> torch.Tensor:
        outs, start = [], 0
        for e, n in enumerate(counts):
            if n:
                seg = x_MD[start : start + n]
                h = F.silu(seg @ self.w1[e].t()) * (seg @ self.w3[e].t())
                outs.append(h @ self.w2[e].t())
                start += n
        if outs:
            return torch.cat(outs)
        # No token for any local expert: stay in the graph all the same (the reverse exchanges
        # must run on every rank in backward) and give the weights zero gradients, as MoE gives
        # its unused experts.
        zero = 0.0 * (x_MD.sum() + self.w1.sum() + self.w3.sum() + self.w2.sum())
        return x_MD.new_zeros(0, self.dim) + zero

    def forward(self, x_BTD: torch.Tensor) -> torch.Tensor:
        shape = x_BTD.shape
        x_ND = x_BTD.reshape(-1, self.dim)
        K, E, W, El = self.top_k, self.n_experts, self.world, self.n_local
        r = route_tokens(x_ND, self.router.weight, K, E)  # as in MoE.forward
        token_M, counts_E = r.token_M, r.counts_E  # assignments sorted by expert = by owning rank

        # 1-2: how many rows each rank sends to / receives from every rank, per expert
        recv_counts = torch.empty_like(counts_E)
        dist.all_to_all_single(recv_counts, counts_E, group=self.group)  # (W * El): src-major
        send_splits = counts_E.view(W, El).sum(1).tolist()
        recv_WE = recv_counts.view(W, El)
        recv_splits = recv_WE.sum(1).tolist()
        # 3: token vectors to the experts' ranks; arrive grouped by source rank, then expert
        x_recv = _AllToAll.apply(x_ND[token_M], send_splits, recv_splits, self.group)
        # 4: regroup by local expert (stable: source order kept within an expert), run, undo
        src_expert = torch.arange(El, device=x_ND.device).repeat(W).repeat_interleave(recv_WE.reshape(-1))
        by_expert = src_expert.argsort(stable=True)
        y_sorted = self._local_experts(x_recv[by_expert], recv_WE.sum(0).tolist())
        y_recv = torch.empty_like(y_sorted).index_copy(0, by_expert, y_sorted)
        # 5: outputs back to the tokens' ranks, in the order they were sent
        y_MD = _AllToAll.apply(y_recv, recv_splits, send_splits, self.group)
        return combine_expert_outputs(self, y_MD, r, x_ND).view(shape)

    def extra_repr(self) -> str:
        return f"experts {self.rank * self.n_local}..{(self.rank + 1) * self.n_local - 1} of {self.n_experts}"


def enable_expert_parallel(model: nn.Module, group=None) -> int:
    """Replace every MoE of `model` (in place) by an ExpertParallelMoE over `group`; call on
    identically initialized replicas on every rank. Returns the number of layers replaced."""
    n = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, MoE):
                setattr(parent, name, ExpertParallelMoE(child, group))
                n += 1
    if n == 0:
        raise ValueError("no MoE layer in the model")
    return n


@torch.no_grad()
def gather_experts(layer: ExpertParallelMoE) -> dict[str, torch.Tensor]:
    """Full (E, ...) w1, w3, w2 of an expert-parallel layer (on every rank), e.g. for saving."""
    out = {}
    for name in ("w1", "w3", "w2"):
        w = getattr(layer, name).detach().contiguous()
        full = w.new_empty((layer.world * w.shape[0], *w.shape[1:]))
        dist.all_gather_into_tensor(full, w, group=layer.group)
        out[name] = full
    return out
