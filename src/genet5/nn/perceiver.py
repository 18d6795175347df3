"""Perceiver-style compressor: a fixed number of learned latents summarize a long memory."""

from __future__ import annotations

import torch
from torch import nn

from genet5.nn.attention import CrossAttention
from genet5.nn.block import TransformerBlock
from genet5.nn.mlp import SwiGLU
from genet5.nn.norms import RMSNorm


class PerceiverCompressor(nn.Module):
    """Latents (L, D) cross-attend to a padded encoder output (B, S, kv_dim), then refine
    themselves with n_layers bidirectional self-attention blocks; returns (B, L, D).

    The cost is O(L * S) instead of O(S^2), which is what lets a decoder condition on a
    long window through a fixed-size summary. Padding positions of the memory are masked.
    """

    def __init__(
        self,
        dim: int,
        n_latents: int,
        n_heads: int,
        n_kv_heads: int | None,
        n_layers: int,
        ffn_hidden: int,
        *,
        kv_dim: int | None = None,
        norm_eps: float = 1e-6,
    ):
        super().__init__()
        kv_dim = kv_dim or dim
        self.dim, self.n_latents = dim, n_latents
        self.latents = nn.Parameter(torch.randn(n_latents, dim) * 0.02)
        self.cross_q_norm = RMSNorm(dim, norm_eps)
        self.cross_kv_norm = RMSNorm(kv_dim, norm_eps)
        self.cross_attn = CrossAttention(dim, kv_dim, n_heads, n_kv_heads)
        self.cross_ffn_norm = RMSNorm(dim, norm_eps)
        self.cross_ffn = SwiGLU(dim, ffn_hidden)
        self.layers = nn.ModuleList(
            TransformerBlock(dim, n_heads, n_kv_heads, ffn_hidden, causal=False, norm_eps=norm_eps)
            for _ in range(n_layers)
        )
        self.norm = RMSNorm(dim, norm_eps)

    def forward(
        self, memory_BSD: torch.Tensor, memory_padding_mask_BS: torch.Tensor | None = None
    ) -> torch.Tensor:
        """memory_padding_mask_BS: True marks padding positions of the memory."""
        B = memory_BSD.shape[0]
        lat_BLD = self.latents.to(memory_BSD.dtype)[None].expand(B, -1, -1)
        lat_BLD = lat_BLD + self.cross_attn(
            self.cross_q_norm(lat_BLD),
            self.cross_kv_norm(memory_BSD),
            memory_padding_mask_BS=memory_padding_mask_BS,
        )
        lat_BLD = lat_BLD + self.cross_ffn(self.cross_ffn_norm(lat_BLD))
        for layer in self.layers:
            lat_BLD = layer(lat_BLD)
        return self.norm(lat_BLD)
