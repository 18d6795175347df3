"""Log-likelihood of DNA under a Genos model, per sequence or per window, in bounded memory.

Base i (0-based) is scored as log p(base i | bases before it), natural log, from the model's
hidden state at position i - 1 (so the first base of a sequence is never scored). Only A/C/G/T
bases are scored (as in training); N, IUPAC letters and other tokens are fed to the model as
input but are not targets. A sequence longer than `context` is cut into overlapping model
windows (genet5.lm.engine): every base is scored once, with between `context - context_stride`
and `context` bases of left context.

Report windows (`window`, `stride`) are slices of that per-base score: a row [start, end) sums
the bases in it, each scored with its left context in the whole sequence (up to `context`), so
rows with stride == window add up to the whole-sequence score. Per-base scores are never kept:
running sums are read off at the window boundaries, so memory does not grow with the length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Hashable, Iterable, Iterator

import numpy as np
import torch

from genet5.lm.engine import DEFAULT_BATCH_TOKENS, DEFAULT_CHUNK, WindowRunner, encode, is_base
from genet5.lm.model import model_context

LN2 = math.log(2.0)


@dataclass
class WindowScore:
    seqid: str
    start: int  # 0-based, half-open
    end: int
    n_bases: int  # scored targets (A/C/G/T with a base before them)
    log_likelihood: float  # natural log, summed over the scored bases

    @property
    def bits_per_base(self) -> float:
        return -self.log_likelihood / self.n_bases / LN2 if self.n_bases else float("nan")


def report_windows(length: int, window: int | None = None, stride: int | None = None) -> list[tuple[int, int]]:
    """[start, end) rows: the whole sequence, or windows of `window` every `stride` (default
    `window`) up to the one that reaches the end (shorter when the sequence ends inside it)."""
    if window is None:
        return [(0, length)]
    stride = window if stride is None else stride
    if window < 1 or stride < 1:
        raise ValueError("window and stride must be >= 1")
    out, s = [], 0
    while True:
        out.append((s, min(s + window, length)))
        if s + window >= length:
            return out
        s += stride


@torch.no_grad()
def target_logprobs(model, ids: np.ndarray, first: int, h: torch.Tensor) -> tuple[int, np.ndarray, np.ndarray]:
    """From hidden states of positions first.. : (first target position, log p per target
    (0 where not scored), scored mask). Targets are first+1 .. (at most the sequence end)."""
    k = min(h.shape[0], len(ids) - 1 - first)
    if k <= 0:
        return first + 1, np.zeros(0), np.zeros(0, dtype=bool)
    logp = torch.log_softmax(model.output(h[:k].to(model.output.weight.dtype)).float(), dim=-1)
    tgt = torch.from_numpy(ids[first + 1 : first + 1 + k].astype(np.int64)).to(h.device)
    lp = logp.gather(-1, tgt[:, None])[:, 0]
    ok = is_base(tgt)
    lp = torch.where(ok, lp, torch.zeros_like(lp))
    return first + 1, lp.double().cpu().numpy(), ok.cpu().numpy()


class _Prefix:
    """Running sums of (log p, scored) over positions, recorded at given boundaries: value at
    boundary b = sum over positions < b. Positions must arrive in order."""

    def __init__(self, bounds: Iterable[int]):
        self.bounds = np.array(sorted(set(bounds)), dtype=np.int64)
        self.ll = np.zeros(len(self.bounds))
        self.n = np.zeros(len(self.bounds), dtype=np.int64)
        self.carry_ll, self.carry_n, self.seen = 0.0, 0, 0

    def add(self, p0: int, lp: np.ndarray, ok: np.ndarray) -> None:
        end = p0 + len(lp)
        cl, cn = np.cumsum(lp), np.cumsum(ok)
        lo = np.searchsorted(self.bounds, self.seen, "right")
        hi = np.searchsorted(self.bounds, end, "right")
        k = self.bounds[lo:hi] - p0  # positions of this piece before each boundary
        idx = np.clip(k - 1, 0, None)
        has = k > 0
        self.ll[lo:hi] = self.carry_ll + np.where(has, cl[idx] if len(cl) else 0.0, 0.0)
        self.n[lo:hi] = self.carry_n + np.where(has, cn[idx] if len(cn) else 0, 0)
        if len(lp):
            self.carry_ll += float(cl[-1])
            self.carry_n += int(cn[-1])
        self.seen = max(self.seen, end)

    def finish(self, length: int) -> None:
        self.add(length, np.zeros(0), np.zeros(0, dtype=bool))

    def between(self, start: int, end: int) -> tuple[int, float]:
        i, j = np.searchsorted(self.bounds, [start, end])
        return int(self.n[j] - self.n[i]), float(self.ll[j] - self.ll[i])


def _runner(model, chunk: int, batch_tokens: int, autocast: bool | None) -> WindowRunner:
    return WindowRunner(model, chunk=chunk, batch_tokens=batch_tokens, autocast=autocast)


def score_records(
    model,
    records: Iterable[tuple[str, str | bytes | np.ndarray]],
    *,
    window: int | None = None,
    stride: int | None = None,
    context: int | None = None,
    context_stride: int | None = None,
    chunk: int = DEFAULT_CHUNK,
    batch_tokens: int = DEFAULT_BATCH_TOKENS,
    autocast: bool | None = None,
    on_bases: Callable[[int], None] | None = None,
) -> Iterator[WindowScore]:
    """WindowScore rows of (seqid, sequence) records, in order (see the module docstring).

    context: model window (default the model's training context, config.max_seq_len);
    context_stride: how far model windows advance (default context // 2)."""
    ctx = context or model_context(model)
    runner = _runner(model, chunk, batch_tokens, autocast)
    state: dict[int, tuple[str, list[tuple[int, int]], _Prefix]] = {}

    def items():
        for i, (seqid, seq) in enumerate(records):
            ids = encode(seq)
            wins = report_windows(len(ids), window, stride)
            state[i] = (seqid, wins, _Prefix([b for w in wins for b in w]))
            yield i, ids

    for key, ids, first, h in runner.stream(items(), ctx, context_stride):
        seqid, wins, prefix = state[key]
        prefix.add(*target_logprobs(model, ids, first, h))
        if on_bases is not None:
            on_bases(h.shape[0])
        if first + h.shape[0] >= len(ids):  # the sequence's last model window
            prefix.finish(len(ids))
            del state[key]
            for s, e in wins:
                n, ll = prefix.between(s, e)
                yield WindowScore(seqid, s, e, n, ll)


def total_log_likelihoods(
    model,
    items: Iterable[tuple[Hashable, str | bytes | np.ndarray]],
    *,
    context: int | None = None,
    context_stride: int | None = None,
    chunk: int = DEFAULT_CHUNK,
    batch_tokens: int = DEFAULT_BATCH_TOKENS,
    autocast: bool | None = None,
) -> Iterator[tuple[Hashable, float, int]]:
    """(key, log-likelihood, scored bases) of each (key, sequence), in order, batched."""
    ctx = context or model_context(model)
    runner = _runner(model, chunk, batch_tokens, autocast)
    ll, n = 0.0, 0
    for key, ids, first, h in runner.stream(((k, encode(s)) for k, s in items), ctx, context_stride):
        _, lp, ok = target_logprobs(model, ids, first, h)
        ll += float(lp.sum())
        n += int(ok.sum())
        if first + h.shape[0] >= len(ids):
            yield key, ll, n
            ll, n = 0.0, 0


def score_sequence(model, seq: str | bytes | np.ndarray, **kwargs) -> float:
    """Log-likelihood (natural log) of one DNA sequence: the sum of log p(base | left context)
    over its A/C/G/T bases after the first. kwargs: context, context_stride, chunk, ..."""
    return next(score_records(model, [("seq", seq)], **kwargs)).log_likelihood


def log_likelihoods(model, seq: str | bytes | np.ndarray, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """Per-base (log p, scored) arrays of length len(seq); log p is 0 where not scored. Keeps
    one float per base (the CLI does not use this)."""
    ids = encode(seq)
    ctx = kwargs.pop("context", None) or model_context(model)
    stride = kwargs.pop("context_stride", None)
    runner = _runner(model, kwargs.pop("chunk", DEFAULT_CHUNK), kwargs.pop("batch_tokens", DEFAULT_BATCH_TOKENS),
                     kwargs.pop("autocast", None))  # fmt: skip
    if kwargs:
        raise TypeError(f"unexpected arguments {sorted(kwargs)}")
    lp_all, ok_all = np.zeros(len(ids)), np.zeros(len(ids), dtype=bool)
    for _, _, first, h in runner.stream([(0, ids)], ctx, stride):
        p0, lp, ok = target_logprobs(model, ids, first, h)
        lp_all[p0 : p0 + len(lp)], ok_all[p0 : p0 + len(ok)] = lp, ok
    return lp_all, ok_all
