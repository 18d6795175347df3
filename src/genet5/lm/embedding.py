"""Sequence embeddings: pooled final hidden states (`Genos.hidden_states`, after the final norm).

Each position's hidden state is computed as in scoring (genet5.lm.engine): in one pass when the
sequence fits in `context`, else with between `context - context_stride` and `context` tokens of
left context; always in chunks through the KV cache, which for a causal model is exactly the
one-pass result. Pooling runs as the states arrive (a running sum, max and last), so memory does
not grow with the sequence:

- mean: the average over all positions (N and other non-base tokens included: they are input);
- max: the element-wise maximum over positions;
- last: the state of the last position, the only one that has seen the whole window (up to
  `context` bases).

With `window`, each window [start, end) is embedded as a sequence of its own (its first base
sees no context from before the window): the row is what `embed_sequence` gives for
`seq[start:end]`.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator

import numpy as np
import torch

from genet5.lm.engine import DEFAULT_BATCH_TOKENS, DEFAULT_CHUNK, WindowRunner, encode
from genet5.lm.model import model_context
from genet5.lm.scoring import report_windows

POOLS = ("mean", "max", "last")


class _Pool:
    def __init__(self, pool: str, dim: int, device: torch.device):
        self.pool, self.n = pool, 0
        if pool == "mean":
            self.acc = torch.zeros(dim, dtype=torch.float64, device=device)  # running sum
        else:
            self.acc = torch.full((dim,), float("-inf"), device=device)  # running max
        self.last = torch.zeros(dim, device=device)

    def add(self, h: torch.Tensor) -> None:
        if not h.shape[0]:
            return
        self.n += h.shape[0]
        if self.pool == "mean":
            self.acc += h.sum(0, dtype=torch.float64)
        elif self.pool == "max":
            self.acc = torch.maximum(self.acc, h.max(0).values)
        else:
            self.last = h[-1]

    def result(self) -> np.ndarray:
        if self.n == 0:
            return np.full(self.last.shape[0], np.nan, dtype=np.float32)
        if self.pool == "mean":
            return (self.acc / self.n).float().cpu().numpy()
        return (self.acc if self.pool == "max" else self.last).float().cpu().numpy()


def embed_records(
    model,
    records: Iterable[tuple[str, str | bytes | np.ndarray]],
    *,
    pool: str = "mean",
    window: int | None = None,
    stride: int | None = None,
    context: int | None = None,
    context_stride: int | None = None,
    chunk: int = DEFAULT_CHUNK,
    batch_tokens: int = DEFAULT_BATCH_TOKENS,
    autocast: bool | None = None,
    on_bases: Callable[[int], None] | None = None,
) -> Iterator[tuple[str, int, int, np.ndarray]]:
    """(seqid, start, end, float32 vector) per sequence, or per window of `window` bases every
    `stride` (default `window`); start/end 0-based half-open."""
    if pool not in POOLS:
        raise ValueError(f"pool must be one of {', '.join(POOLS)}, got {pool!r}")
    ctx = context or model_context(model)
    runner = WindowRunner(model, chunk=chunk, batch_tokens=batch_tokens, autocast=autocast)
    dim = model.config.dim

    def items():
        for seqid, seq in records:
            ids = encode(seq)
            for s, e in report_windows(len(ids), window, stride):
                yield (seqid, s, e), ids[s:e]

    acc = None
    for key, ids, first, h in runner.stream(items(), ctx, context_stride):
        if acc is None:
            acc = _Pool(pool, dim, h.device)
        acc.add(h)
        if on_bases is not None:
            on_bases(h.shape[0])
        if first + h.shape[0] >= len(ids):
            yield (*key, acc.result())
            acc = None


def embed_sequence(model, seq: str | bytes | np.ndarray, pool: str = "mean", **kwargs) -> np.ndarray:
    """Pooled final hidden state (float32, shape (dim,)) of one DNA sequence; kwargs: context,
    context_stride, chunk, batch_tokens, autocast."""
    if len(encode(seq)) == 0:  # no position to pool: the vector would be NaN
        raise ValueError("embed_sequence needs a sequence of at least one base, got an empty one")
    return next(embed_records(model, [("seq", seq)], pool=pool, **kwargs))[3]
