"""ALiBi (attention with linear biases), as used by DNABERT-2 / MosaicBERT encoders."""

from __future__ import annotations

import math

import torch


def alibi_slopes(n_heads: int) -> torch.Tensor:
    """Per-head slopes, the geometric sequence of Press et al. (2022).

    For a power of two n: 2^(-8/n), 2^(-16/n), ...; otherwise the slopes of the nearest lower
    power of two followed by every other slope of the next power of two (the reference code).
    """

    def power_of_two(n: int) -> list[float]:
        start = 2.0 ** (-(2.0 ** -(math.log2(n) - 3)))
        return [start * start**i for i in range(n)]

    if math.log2(n_heads).is_integer():
        slopes = power_of_two(n_heads)
    else:
        closest = 2 ** math.floor(math.log2(n_heads))
        slopes = power_of_two(closest) + power_of_two(2 * closest)[0::2][: n_heads - closest]
    return torch.tensor(slopes, dtype=torch.float32)


def alibi_bias(
    n_heads: int,
    q_len: int,
    k_len: int,
    device: torch.device | str | None = None,
    q_offset: int = 0,
) -> torch.Tensor:
    """Additive attention bias (H, q_len, k_len) in fp32: -slope_h * |i - j|.

    Symmetric in distance, as in the bidirectional DNABERT-2 encoder; on the causal part of a
    decoder (j <= i) it equals the original causal ALiBi. q_offset is the absolute position of
    the first query (queries at q_offset + arange(q_len), keys at arange(k_len)).
    """
    q_pos = torch.arange(q_offset, q_offset + q_len, device=device)
    k_pos = torch.arange(k_len, device=device)
    dist_QK = (q_pos[:, None] - k_pos[None, :]).abs().to(torch.float32)
    return -alibi_slopes(n_heads).to(device)[:, None, None] * dist_QK
