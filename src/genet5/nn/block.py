"""Pre-norm transformer block shared by Genos (decoder) and GeneT5 (encoder / decoder)."""

from __future__ import annotations

import torch
from torch import nn

from genet5.nn.attention import Attention, KVCache
from genet5.nn.mlp import SwiGLU
from genet5.nn.moe import MoE
from genet5.nn.norms import RMSNorm
from genet5.nn.rotary import RotaryEmbedding


class TransformerBlock(nn.Module):
    """x + attn(norm(x)), then h + ffn(norm(h)); ffn is SwiGLU, or MoE when n_experts > 0
    (ffn_hidden is then the per-expert hidden size)."""

    def __init__(
        self,
        dim: int,
        n_heads: int,
        n_kv_heads: int | None,
        ffn_hidden: int,
        *,
        head_dim: int | None = None,
        causal: bool = True,
        window: int | None = None,
        rotary: RotaryEmbedding | None = None,
        use_alibi: bool = False,
        n_experts: int = 0,
        top_k: int = 2,
        aux_loss_coef: float = 1e-3,
        z_loss_coef: float = 1e-3,
        norm_eps: float = 1e-6,
    ):
        super().__init__()
        self.attn_norm = RMSNorm(dim, norm_eps)
        self.attn = Attention(
            dim,
            n_heads,
            n_kv_heads,
            head_dim=head_dim,
            causal=causal,
            window=window,
            rotary=rotary,
            use_alibi=use_alibi,
        )
        self.ffn_norm = RMSNorm(dim, norm_eps)
        self.ffn: nn.Module
        if n_experts > 0:
            self.ffn = MoE(dim, ffn_hidden, n_experts, top_k, aux_loss_coef, z_loss_coef)
        else:
            self.ffn = SwiGLU(dim, ffn_hidden)

    @property
    def is_moe(self) -> bool:
        return isinstance(self.ffn, MoE)

    def forward(
        self,
        x_BTD: torch.Tensor,
        *,
        positions: torch.Tensor | None = None,
        doc_ids_BT: torch.Tensor | None = None,
        key_padding_mask_BT: torch.Tensor | None = None,
        kv_cache: KVCache | None = None,
    ) -> torch.Tensor:
        h_BTD = x_BTD + self.attn(
            self.attn_norm(x_BTD),
            positions=positions,
            doc_ids_BT=doc_ids_BT,
            key_padding_mask_BT=key_padding_mask_BT,
            kv_cache=kv_cache,
        )
        return h_BTD + self.ffn(self.ffn_norm(h_BTD))
