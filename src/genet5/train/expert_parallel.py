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

Training (`parallel.expert_parallel` = E in the run config; train/mesh.py lays out the ranks and
gives `group`, the E ranks that split the experts, and `replica_group`, the ranks that hold the
same slice of experts): `enable_expert_parallel(model, group, replica_group)` swaps every MoE for
an `ExpertParallelMoE` holding the local expert slices. The router (and every non-expert
parameter) is replicated on all ranks: DDP averages its gradients over them
(`distributed.parallelize` hands DDP every parameter but the experts'). The expert parameters are
not averaged over the expert group (each rank's are different experts): `sync_expert_grads`, after
the last backward of a step, sums each slice's gradient over its replica group and divides by the
number of processes, as DDP does for the rest; `clip_grad_norm` (train/distributed.py) adds the
experts' squared norms over the expert group, so every rank clips by the same global norm. FSDP
is not composed with it (it would shard and average the experts over all ranks).

Checkpoints and saved models hold whole expert tensors under the usual names: `full_expert_state`
gathers the slices (and their Adam moments) when a checkpoint is written, `local_expert_state`
slices them again on load, and `disable_expert_parallel` turns the layers back into whole MoE
layers (every rank) before the final model is saved. So a run can resume with another degree, and
the model it saves is an ordinary one.

The MoE load-balancing and z-losses use the local tokens' routing, as in MoE (Megatron computes
them per micro-batch likewise): E ranks with one micro-batch each weigh them as one process
accumulating E micro-batches does.
"""

from __future__ import annotations

from typing import Any

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

    def __init__(self, moe: MoE, group=None, replica_group=None) -> None:
        super().__init__()
        world, rank = dist.get_world_size(group), dist.get_rank(group)
        E = moe.n_experts
        if E % world:
            raise ValueError(f"n_experts={E} is not divisible by the expert-parallel size {world}")
        self.group, self.world, self.rank = group, world, rank
        self.replica_group = replica_group  # the ranks holding the same experts (None: this one only)
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


def enable_expert_parallel(model: nn.Module, group=None, replica_group=None) -> int:
    """Replace every MoE of `model` (in place) by an ExpertParallelMoE over `group` (experts'
    gradients summed over `replica_group` in training); call on identically initialized replicas
    on every rank. Returns the number of layers replaced."""
    n = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, MoE):
                setattr(parent, name, ExpertParallelMoE(child, group, replica_group))
                n += 1
    if n == 0:
        raise ValueError("no MoE layer in the model")
    return n


def _gather_rows(x: torch.Tensor, layer: ExpertParallelMoE) -> torch.Tensor:
    """Every rank's x of the expert group, concatenated in rank order (dim 0)."""
    parts = [torch.empty_like(x) for _ in range(layer.world)]
    dist.all_gather(parts, x.detach().contiguous(), group=layer.group)
    return torch.cat(parts)


@torch.no_grad()
def gather_experts(layer: ExpertParallelMoE) -> dict[str, torch.Tensor]:
    """Full (E, ...) w1, w3, w2 of an expert-parallel layer (on every rank), e.g. for saving."""
    return {name: _gather_rows(getattr(layer, name), layer) for name in ("w1", "w3", "w2")}


def disable_expert_parallel(model: nn.Module) -> int:
    """Gather every ExpertParallelMoE of `model` back into a whole MoE (in place, on every rank:
    a collective), e.g. before saving. Returns the number of layers replaced (0: none)."""
    n = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, ExpertParallelMoE):
                full = gather_experts(child)
                with torch.device("meta"):
                    moe = MoE(child.dim, child.expert_hidden, child.n_experts, child.top_k,
                              child.aux_loss_coef, child.z_loss_coef)  # fmt: skip
                moe.router = child.router
                for w in ("w1", "w3", "w2"):
                    setattr(moe, w, nn.Parameter(full[w], requires_grad=getattr(child, w).requires_grad))
                moe.train(child.training)
                setattr(parent, name, moe)
                n += 1
    return n


# -- training: gradients, checkpoints ------------------------------------------------------------
_WRAPPERS = ("module", "_checkpoint_wrapped_module", "_orig_mod")  # DDP, checkpoint_wrapper, compile


def expert_parallel_layers(model: nn.Module) -> list[tuple[str, ExpertParallelMoE]]:
    """(name as in checkpoints, layer) of every ExpertParallelMoE in `model` (DDP-wrapped or
    not); the names skip wrapper modules, as torch.distributed.checkpoint's do."""
    out = []
    for name, module in model.named_modules():
        if isinstance(module, ExpertParallelMoE):
            out.append((".".join(a for a in name.split(".") if a not in _WRAPPERS), module))
    return out


def expert_parameter_names(model: nn.Module) -> list[str]:
    """Names (in `model`, wrappers included) of the expert-sharded parameters: DDP must leave
    them alone."""
    ids = {id(getattr(layer, w)) for _, layer in expert_parallel_layers(model) for w in ("w1", "w3", "w2")}
    return [name for name, p in model.named_parameters() if id(p) in ids]


def sync_expert_grads(model: nn.Module) -> None:
    """After the last backward of a step: each expert slice's gradient summed over the ranks that
    hold it, divided by the number of processes (the trainer scales every rank's loss by
    world / total weight, which DDP's average undoes for the other parameters)."""
    layers = expert_parallel_layers(model)
    if not layers:
        return
    world = dist.get_world_size()
    for _, layer in layers:
        params = [layer.w1, layer.w3, layer.w2]
        flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params])
        if layer.replica_group is not None:
            dist.all_reduce(flat, group=layer.replica_group)
        flat.div_(world)
        for p, g in zip(params, flat.split([p.numel() for p in params])):
            p.grad = g.view_as(p)




def full_expert_state(model: nn.Module, optimizer, model_sd: dict[str, Any], optim_sd: dict[str, Any] | None) -> None:
    """Put whole expert tensors into a checkpoint's state dicts (in place): the weights, and the
    optimizer's per-parameter tensors of the experts' shape (Adam's moments). Collective: every
    rank calls it in the same order (the state dicts only matter on the rank that writes)."""
    for prefix, layer in expert_parallel_layers(model):
        for w in ("w1", "w3", "w2"):
            p, key = getattr(layer, w), f"{prefix}.{w}"
            model_sd[key] = _gather_rows(p, layer).cpu()
            if optimizer is None or optim_sd is None:
                continue
            state = optimizer.state.get(p, {})
            for k in sorted(state):  # the same keys on every rank (each took the same steps)
                v = state[k]
                if torch.is_tensor(v) and v.shape == p.shape:
                    optim_sd.setdefault("state", {}).setdefault(key, {})[k] = _gather_rows(v, layer).cpu()


def local_expert_state(model: nn.Module, model_sd: dict[str, Any], optim_sd: dict[str, Any] | None = None) -> None:
    """This rank's slices of the whole expert tensors of a checkpoint (in place), to load into
    an expert-parallel model; tensors already of the local shape are kept."""
    for prefix, layer in expert_parallel_layers(model):
        lo, n = layer.rank * layer.n_local, layer.n_local
        for w in ("w1", "w3", "w2"):
            key = f"{prefix}.{w}"
            tensors = [(model_sd, key)]
            if optim_sd is not None:
                st = optim_sd.get("state", {}).get(key, {})
                tensors += [(st, k) for k, v in st.items() if torch.is_tensor(v) and v.dim() > 0]
            for holder, k in tensors:
                v = holder.get(k)
                if v is not None and v.shape[0] == layer.n_experts != n:
                    holder[k] = v[lo : lo + n].clone()


def moe_metrics(model: nn.Module) -> dict[str, float]:
    """Mean aux and z-loss over the MoE layers (whole or expert-parallel) of the last forward,
    for logging; {} without MoE layers."""
    layers = [m for m in model.modules() if isinstance(m, (MoE, ExpertParallelMoE)) and m.last_aux_loss is not None]
    if not layers:
        return {}
    return {
        "moe_aux_loss": float(torch.stack([m.last_aux_loss for m in layers]).mean()),
        "moe_z_loss": float(torch.stack([m.last_z_loss for m in layers]).mean()),
    }
