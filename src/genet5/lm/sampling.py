"""Sampling DNA from a Genos model (KV-cached, `Genos.generate`).

Only the four base tokens (A, C, G, T) can be sampled: every other id of the vocabulary (N,
specials, unused padding ids) is masked to probability 0 before temperature / top-k / top-p, so
the output is always plain DNA. The prompt is kept to its last `context` bases (default: the
model's training context); the continuation may grow past it (the cache keeps everything).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from genet5.lm.engine import DEFAULT_CHUNK, autocast_for, encode
from genet5.lm.model import model_context
from genet5.tokenizers.nucleotide import A_ID, C_ID, G_ID, T_ID

DNA_IDS = (C_ID, G_ID, T_ID, A_ID)
_LETTERS = np.frombuffer(b"?????CGTAN" + b"?" * 246, dtype=np.uint8)


def decode_bases(ids: np.ndarray | torch.Tensor) -> str:
    arr = ids.cpu().numpy() if isinstance(ids, torch.Tensor) else np.asarray(ids)
    return _LETTERS[arr.astype(np.int64)].tobytes().decode("ascii")


def sample_sequences(
    model,
    prompt: str | bytes,
    length: int,
    *,
    num_samples: int = 1,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    context: int | None = None,
    chunk: int = DEFAULT_CHUNK,
    autocast: bool | None = None,
) -> list[str]:
    """`num_samples` continuations of `length` bases after `prompt` (the prompt not included).
    Same seed, same model, same device => same samples."""
    if length < 0 or num_samples < 1:
        raise ValueError("length must be >= 0 and num_samples >= 1")
    if not 0 <= temperature < math.inf:  # NaN and inf would give NaN probabilities (a multinomial error)
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    ids = encode(prompt)
    if len(ids) == 0:
        raise ValueError("the prompt is empty: give at least one base")
    ctx = context or model_context(model)
    ids = ids[-ctx:]
    device = next(model.parameters()).device
    if generator is None and seed is not None:
        generator = torch.Generator(device=device).manual_seed(seed)
    x = torch.from_numpy(ids.astype(np.int64)).to(device)[None].expand(num_samples, -1).contiguous()
    with autocast_for(device, autocast):  # bf16 on CUDA, fp32 on CPU
        out = model.generate(
            x, length, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator,
            allowed_token_ids=DNA_IDS, prefill_chunk=chunk,
        )  # fmt: skip
    return [decode_bases(row) for row in out[:, x.shape[1] :]]
