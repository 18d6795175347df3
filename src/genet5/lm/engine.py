"""Hidden states of long DNA sequences in bounded memory: context windows, batches, chunked prefill.

Two levels of cutting, both exact where they can be:

- **Context windows** (`plan_spans`). A sequence longer than `context` tokens is covered by model
  windows of `context` tokens that advance by `stride` (default context // 2). Window k gives
  the hidden states of the positions it *owns*: the first window all of its positions, every
  later one the positions after the previous window's end. So each position is computed exactly
  once, with between `context - stride` and `context` tokens of left context (itself included);
  the last window is moved left to end at the sequence end, which only adds context. A sequence
  no longer than `context` is one window: its hidden states are those of one full forward.
- **Chunked prefill** (`WindowRunner`). Each window goes through the model in chunks of `chunk`
  tokens that append to the per-layer KV cache, so attention works on (chunk x window) scores,
  not (window x window). For a causal model this is exact: chunk c's queries see the cached keys
  of all earlier chunks, the same keys a one-shot forward shows them.

Windows of several sequences are batched up to `batch_tokens` (padded tokens). Padding goes on
the right, which a causal model never looks at, so no mask is needed and batching is exact too.
Memory: the KV cache and activations of one batch of windows (O(batch_tokens + chunk *
context)), plus whatever the caller keeps per position.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Hashable, Iterable, Iterator

import numpy as np
import torch

from genet5.tokenizers.nucleotide import _ENCODE_TABLE, A_ID, C_ID, PAD_ID

DEFAULT_CHUNK = 4096
DEFAULT_BATCH_TOKENS = 32768


def encode(seq: str | bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    """Token ids (uint8, one per base) of a DNA string, bytes, or an id array (returned as is).
    Lower case = upper case, U = T, IUPAC ambiguity letters = N, anything else = [UNK]."""
    if isinstance(seq, np.ndarray):
        return seq
    if isinstance(seq, str):
        seq = seq.encode("latin-1", errors="replace")
    return _ENCODE_TABLE[np.frombuffer(seq, dtype=np.uint8)]


def is_base(ids: np.ndarray | torch.Tensor):
    """True where the id is A, C, G or T (the targets a Genos model is trained and scored on)."""
    return (ids >= C_ID) & (ids <= A_ID)


@dataclass(frozen=True)
class Span:
    """One model window: tokens [start, end) of the sequence; gives hidden states of [own, end)."""

    start: int
    end: int
    own: int


def plan_spans(length: int, context: int, stride: int | None = None) -> list[Span]:
    """Model windows covering a sequence of `length` tokens (see the module docstring)."""
    if context < 1:
        raise ValueError(f"context must be >= 1, got {context}")
    if stride is None:
        stride = max(1, context // 2)
    if not 1 <= stride <= context:
        raise ValueError(f"stride must be in [1, context={context}], got {stride}")
    if length <= context:
        return [Span(0, length, 0)] if length else []
    spans = [Span(0, context, 0)]
    while spans[-1].end < length:
        s = min(spans[-1].start + stride, length - context)
        spans.append(Span(s, s + context, spans[-1].end))
    return spans


def autocast_for(device: torch.device, enabled: bool | None = None):
    """bf16 autocast on CUDA (default there), nothing on CPU (fp32)."""
    if device.type == "cuda" and enabled is not False:
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


class WindowRunner:
    """Runs batches of windows through a Genos model with chunked prefill; see the module doc."""

    def __init__(
        self,
        model,
        *,
        chunk: int = DEFAULT_CHUNK,
        batch_tokens: int = DEFAULT_BATCH_TOKENS,
        autocast: bool | None = None,
    ) -> None:
        if chunk < 1 or batch_tokens < 1:
            raise ValueError("chunk and batch_tokens must be >= 1")
        self.model = model
        self.chunk, self.batch_tokens = chunk, batch_tokens
        self.device = next(model.parameters()).device
        self.autocast = autocast

    @torch.no_grad()
    def hidden(self, windows: list[np.ndarray], owns: list[int]) -> list[torch.Tensor]:
        """Final hidden states (n, D) of positions owns[b]..len-1 of each window (ids arrays),
        as float tensors on the model's device."""
        B = len(windows)
        T = max(len(w) for w in windows)
        ids = np.full((B, T), PAD_ID, dtype=np.int64)
        for b, w in enumerate(windows):
            ids[b, : len(w)] = w
        x = torch.from_numpy(ids).to(self.device)
        pieces: list[list[torch.Tensor]] = [[] for _ in range(B)]
        caches = self.model.new_kv_caches()
        with autocast_for(self.device, self.autocast):
            for c0 in range(0, T, self.chunk):
                c1 = min(c0 + self.chunk, T)
                h = self.model.hidden_states(x[:, c0:c1], kv_caches=caches)
                for b, w in enumerate(windows):
                    a, e = max(owns[b], c0), min(len(w), c1)
                    if a < e:
                        pieces[b].append(h[b, a - c0 : e - c0].float())
        D = self.model.config.dim
        return [torch.cat(p) if p else torch.zeros(0, D, device=self.device) for p in pieces]

    def stream(
        self, items: Iterable[tuple[Hashable, np.ndarray]], context: int, stride: int | None = None
    ) -> Iterator[tuple[Any, np.ndarray, int, torch.Tensor]]:
        """For each (key, ids) in order: (key, ids, first_position, hidden (n, D)) per model
        window, in position order; together they cover positions 0..len(ids)-1 exactly once. An
        empty sequence yields one item with n = 0."""
        pending: list[tuple[Any, np.ndarray, Span]] = []
        longest = 0
        for key, ids in items:
            spans = plan_spans(len(ids), context, stride)
            if not spans:
                yield from self._flush(pending)
                pending, longest = [], 0
                yield key, ids, 0, torch.zeros(0, self.model.config.dim, device=self.device)
                continue
            for sp in spans:
                n = sp.end - sp.start
                if pending and (len(pending) + 1) * max(longest, n) > self.batch_tokens:
                    yield from self._flush(pending)
                    pending, longest = [], 0
                pending.append((key, ids, sp))
                longest = max(longest, n)
        yield from self._flush(pending)

    def _flush(self, pending):
        if not pending:
            return
        hs = self.hidden([ids[sp.start : sp.end] for _, ids, sp in pending], [sp.own - sp.start for _, _, sp in pending])
        for (key, ids, sp), h in zip(pending, hs):
            yield key, ids, sp.own, h
