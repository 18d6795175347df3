"""Parameter counting without allocating weights (meta device).

total: every parameter once (tied weights counted once). active: what one token uses: for each
MoE layer the router plus top_k / n_experts of the expert weights; everything else in full,
embeddings included (they are a lookup, but so the numbers add up to the same model).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from genet5.nn.moe import MoE


@dataclass(frozen=True)
class ParamCounts:
    total: int
    active: int
    embedding: int  # input embedding + (untied) output projection

    def as_dict(self) -> dict[str, int]:
        return {
            "total_params": self.total,
            "active_params": self.active,
            "embedding_params": self.embedding,
        }


def count_params(model: nn.Module) -> ParamCounts:
    seen: set[int] = set()
    total = active = 0
    expert_ids: dict[int, float] = {}  # id(param) -> fraction of it a token uses
    for m in model.modules():
        if isinstance(m, MoE):
            for p in (m.w1, m.w2, m.w3):
                expert_ids[id(p)] = m.top_k / m.n_experts
    for p in model.parameters():  # parameters() already yields a tied tensor only once
        if id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel()
        active += round(p.numel() * expert_ids.get(id(p), 1.0))
    embedding = 0
    emb_ids: set[int] = set()
    for m in model.modules():
        if isinstance(m, nn.Embedding) and id(m.weight) not in emb_ids:
            emb_ids.add(id(m.weight))
            embedding += m.weight.numel()
    out = getattr(model, "output", None)
    if isinstance(out, nn.Linear) and id(out.weight) not in emb_ids:
        embedding += out.weight.numel()
    return ParamCounts(total=total, active=active, embedding=embedding)


def count_params_for_config(config) -> ParamCounts:
    """Build the model for `config` on the meta device (no memory) and count."""
    from genet5.models.configs import build_model

    with torch.device("meta"):
        model = build_model(config)
    return count_params(model)


def genos_train_flops_per_token(config, active_params: int, seq_len: int) -> float:
    """Training FLOPs per token (forward + backward) of a Genos model at context seq_len.

    6 x (active parameters less the input-embedding lookup) for the matmuls, plus the attention
    scores and values: 12 x layers x (heads x head_dim) x seq_len, halved for causal attention
    (PaLM appendix B's accounting, the one MFU figures are usually quoted with).
    """
    matmul = 6 * (active_params - config.vocab_size * config.dim)
    attn = 12 * config.n_layers * config.n_heads * config.resolved_head_dim * seq_len / 2
    return float(matmul + attn)
