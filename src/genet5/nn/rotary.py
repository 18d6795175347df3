"""Rotary position embedding (RoPE), half-split ("rotate_half") layout as in GPT-NeoX / Llama."""

from __future__ import annotations

import torch
from torch import nn


class RotaryEmbedding(nn.Module):
    """Rotates query/key pairs by position-dependent angles.

    Holds no parameters and no buffers: the inverse frequencies are recomputed in fp32 on each
    call (head_dim/2 numbers, negligible), so `model.to(torch.bfloat16)` or meta-device
    construction can never degrade them. With base 5e7 and positions up to 1M the angles need
    fp32; they are cast to the activation dtype only at the end.
    """

    def __init__(self, head_dim: int, base: float = 10000.0):
        super().__init__()
        if head_dim % 2:
            raise ValueError(f"rotary head_dim must be even, got {head_dim}")
        self.head_dim, self.base = head_dim, float(base)

    def inv_freq(self, device: torch.device | None = None) -> torch.Tensor:
        exponent = torch.arange(0, self.head_dim, 2, device=device, dtype=torch.float32)
        return 1.0 / (self.base ** (exponent / self.head_dim))

    def cos_sin(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """positions (T,) or (B, T) integers -> cos, sin of shape (..., T, head_dim) in fp32."""
        angles = positions.to(torch.float32)[..., None] * self.inv_freq(positions.device)
        angles = torch.cat([angles, angles], dim=-1)
        return angles.cos(), angles.sin()

    @staticmethod
    def _rotate_half(x: torch.Tensor) -> torch.Tensor:
        x1, x2 = x.chunk(2, dim=-1)
        return torch.cat([-x2, x1], dim=-1)

    def rotate(self, x_BHTD: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        cos, sin = self.cos_sin(positions)
        if cos.dim() == 3:  # (B, T, Dh): per-sequence positions, broadcast over heads
            cos, sin = cos[:, None], sin[:, None]
        x32 = x_BHTD.float()
        return (x32 * cos + self._rotate_half(x32) * sin).to(x_BHTD.dtype)

    def forward(
        self,
        q_BHTD: torch.Tensor,
        k_BHTD: torch.Tensor,
        positions: torch.Tensor | None = None,
        offset: int = 0,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Apply RoPE to q and k.

        positions: integer tensor (T,) or (B, T) (e.g. reset at document starts in packed
        batches); if None, positions are offset + arange(T) (KV-cached decoding, where offset is
        the number of tokens already in the cache, or a later chunk of a long sequence).
        """
        if positions is None:
            T = q_BHTD.shape[-2]
            positions = torch.arange(offset, offset + T, device=q_BHTD.device)
        return self.rotate(q_BHTD, positions), self.rotate(k_BHTD, positions)

    def extra_repr(self) -> str:
        return f"head_dim={self.head_dim}, base={self.base:g}"


def positions_from_doc_ids(doc_ids_BT: torch.Tensor) -> torch.Tensor:
    """Positions that restart at 0 at every document boundary of a packed batch.

    [[0,0,0,1,1,2]] -> [[0,1,2,0,1,0]]. No host sync: the start index of each token's
    document is a running maximum of boundary indices.
    """
    B, T = doc_ids_BT.shape
    idx_BT = torch.arange(T, device=doc_ids_BT.device).expand(B, T)
    boundary_BT = torch.ones_like(doc_ids_BT, dtype=torch.bool)
    boundary_BT[:, 1:] = doc_ids_BT[:, 1:] != doc_ids_BT[:, :-1]
    start_BT = torch.where(boundary_BT, idx_BT, torch.zeros_like(idx_BT)).cummax(dim=1).values
    return idx_BT - start_BT
