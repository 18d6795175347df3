"""Self- and cross-attention with grouped-query heads, on F.scaled_dot_product_attention.

Masking is expressed as one boolean tensor (True = may attend) built by `attention_mask`; it
covers causal, bidirectional, sliding-window, packed-document and key-padding cases and is the
reference path (CPU, tests). When no mask is needed the call goes mask-free (is_causal=True for
plain causal attention) so SDPA can pick the flash kernel on GPU. FlexAttention is an optional
GPU path for windowed / packed masks (`Attention.use_flex = True`); it has no CPU backward, so
the dense path stays the reference.

Memory stays linear in sequence length: plain causal attention goes to SDPA's flash kernels
(blocked, on CPU too); a masked call whose (Tq, S) mask would exceed `MASK_BLOCK_ELEMENTS` runs
in query blocks (`masked_attention`), each building only its own rows of the mask and
recomputing them in backward, so memory is O(block * S).

`Attention.sdpa_override` is a generic hook for parallelism code kept outside the model (context
parallelism in genet5.train.context_parallel): when set, it computes the attention from the
rotated q, k, v instead of this module.
"""

from __future__ import annotations

import importlib.util
from functools import partial
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from genet5.nn.alibi import alibi_bias
from genet5.nn.rotary import RotaryEmbedding

# FlexAttention (torch >= 2.5) is the optional GPU path only. Importing it pulls in
# torch._dynamo (seconds of start-up), so it is imported on first use, never on CPU runs.
_HAS_FLEX = importlib.util.find_spec("torch.nn.attention.flex_attention") is not None


def _flex_api():
    from torch.nn.attention import flex_attention as api

    return api

_compiled_flex = None
_BLOCK_MASK_CACHE: dict = {}


def _versions(*tensors):
    return tuple(None if t is None else t._version for t in tensors)


def _flex():
    global _compiled_flex
    if _compiled_flex is None:  # uncompiled flex_attention materializes scores: compile once
        _compiled_flex = torch.compile(_flex_api().flex_attention, dynamic=False)
    return _compiled_flex


class KVCache:
    """Keys/values of one attention layer for incremental decoding.

    Buffers grow by doubling so appending one token is amortized O(1) copies. Keys are stored
    after rotary rotation. An optional key-padding mask (True = padding) is kept alongside, so
    left-padded batched prompts stay masked during generation.
    """

    def __init__(self) -> None:
        self.k_BHSD: torch.Tensor | None = None
        self.v_BHSD: torch.Tensor | None = None
        self.pad_BS: torch.Tensor | None = None
        self.length = 0
        self.has_padding = False  # a padding mask was ever given (avoids a device sync)

    def reset(self) -> None:
        self.__init__()

    def update(
        self, k_BHTD: torch.Tensor, v_BHTD: torch.Tensor, pad_BT: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        B, H, T, D = k_BHTD.shape
        new_len = self.length + T
        if self.k_BHSD is None or new_len > self.k_BHSD.shape[2]:
            cap = max(new_len, 2 * (self.k_BHSD.shape[2] if self.k_BHSD is not None else 0), 16)
            k_new = k_BHTD.new_empty(B, H, cap, D)
            v_new = v_BHTD.new_empty(B, H, cap, v_BHTD.shape[-1])
            pad_new = torch.zeros(B, cap, dtype=torch.bool, device=k_BHTD.device)
            if self.k_BHSD is not None:
                k_new[:, :, : self.length] = self.k_BHSD[:, :, : self.length]
                v_new[:, :, : self.length] = self.v_BHSD[:, :, : self.length]
                pad_new[:, : self.length] = self.pad_BS[:, : self.length]
            self.k_BHSD, self.v_BHSD, self.pad_BS = k_new, v_new, pad_new
        self.k_BHSD[:, :, self.length : new_len] = k_BHTD
        self.v_BHSD[:, :, self.length : new_len] = v_BHTD
        if pad_BT is not None:
            self.pad_BS[:, self.length : new_len] = pad_BT
            self.has_padding = True
        self.length = new_len
        pad = self.pad_BS[:, :new_len] if self.has_padding else None
        return self.k_BHSD[:, :, :new_len], self.v_BHSD[:, :, :new_len], pad


def make_kv_caches(n_layers: int) -> list[KVCache]:
    return [KVCache() for _ in range(n_layers)]


def attention_mask(
    q_len: int,
    k_len: int,
    *,
    device: torch.device | str | None = None,
    q_offset: int = 0,
    causal: bool = False,
    window: int | None = None,
    doc_ids_q_BT: torch.Tensor | None = None,
    doc_ids_k_BS: torch.Tensor | None = None,
    key_padding_mask_BS: torch.Tensor | None = None,
) -> torch.Tensor | None:
    """Boolean mask (B or 1, 1, q_len, k_len), True = query may attend key; None = no mask.

    Query i sits at sequence index q_offset + i, key j at index j.
    window: causal -> a query sees the `window` most recent keys, itself included
    (0 <= i - j < window); bidirectional -> symmetric half-width (|i - j| <= window).
    doc ids: a query sees only keys of its own document (packed sequences).
    key_padding_mask_BS: True marks padding keys, which nobody attends to.
    """
    mask = None
    if causal or window is not None:
        q_idx = torch.arange(q_offset, q_offset + q_len, device=device)[:, None]
        k_idx = torch.arange(k_len, device=device)[None, :]
        diff_QK = q_idx - k_idx
        m = torch.ones(q_len, k_len, dtype=torch.bool, device=device)
        if causal:
            m &= diff_QK >= 0
            if window is not None:
                m &= diff_QK < window
        elif window is not None:
            m &= diff_QK.abs() <= window
        mask = m[None, None]
    if doc_ids_q_BT is not None:
        if doc_ids_k_BS is None:
            doc_ids_k_BS = doc_ids_q_BT
        m = doc_ids_q_BT[:, None, :, None] == doc_ids_k_BS[:, None, None, :]
        mask = m if mask is None else mask & m
    if key_padding_mask_BS is not None:
        m = ~key_padding_mask_BS.bool()[:, None, None, :]
        mask = m if mask is None else mask & m
    return mask


def _sdpa(q, k, v, mask, is_causal=False, bias=None):
    """SDPA with GQA broadcast; rows with no visible key give zeros instead of NaN.

    mask: bool (B|1, 1, Tq, Tk) or None; bias: float (1|B, H, Tq, Tk) added to scores (ALiBi).
    """
    n_rep = q.shape[1] // k.shape[1]
    gqa = {}
    if n_rep > 1:
        if mask is None and bias is None:  # flash / math kernels broadcast KV heads themselves
            gqa = {"enable_gqa": True}
        else:  # the masked (memory-efficient) kernel has no GQA: repeat the KV heads
            k = k.repeat_interleave(n_rep, dim=1)
            v = v.repeat_interleave(n_rep, dim=1)
    has_key = None
    if mask is not None:
        has_key = mask.any(-1, keepdim=True)
        mask = mask | ~has_key  # fully masked rows would be NaN: let them attend, zero below
    attn_mask = mask
    if bias is not None:
        attn_mask = bias if mask is None else torch.where(mask, bias, float("-inf"))
        attn_mask = attn_mask.to(q.dtype)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, is_causal=is_causal, **gqa)
    if has_key is not None:
        out = out * has_key.to(out.dtype)
    return out


# Largest (Tq, S) mask built at once, in elements. Past it, masked attention runs in query blocks
# of MASK_BLOCK_ELEMENTS // S rows: SDPA's CPU kernel turns a bool mask into a float one (4 bytes
# per element), so a dense mask at T = 64K would take 16 GB, a 256-row block 64 MB.
MASK_BLOCK_ELEMENTS = 1 << 24


def visible_key_range(
    lo: int, hi: int, S: int, causal: bool, window: int | None
) -> tuple[int, int]:
    """Keys [k0, k1) that queries at sequence indices [lo, hi) can see at all (before doc ids
    and padding): the rest of each block's mask would be all False, so it is not built."""
    if causal:
        return (0 if window is None else max(0, lo - window + 1)), min(S, hi)
    if window is not None:
        return max(0, lo - window), min(S, hi + window)
    return 0, S


def _masked_block(q, k, v, doc_q, doc_k, pad_k, *, q_offset, causal, window, alibi):
    mask = attention_mask(
        q.shape[2],
        k.shape[2],
        device=q.device,
        q_offset=q_offset,
        causal=causal,
        window=window,
        doc_ids_q_BT=doc_q,
        doc_ids_k_BS=doc_k,
        key_padding_mask_BS=pad_k,
    )
    bias = None
    if alibi:
        bias = alibi_bias(q.shape[1], q.shape[2], k.shape[2], q.device, q_offset=q_offset)[None]
    return _sdpa(q, k, v, mask, bias=bias)


def masked_attention(
    q_BHTD: torch.Tensor,
    k_BHSD: torch.Tensor,
    v_BHSD: torch.Tensor,
    *,
    q_offset: int = 0,
    causal: bool = False,
    window: int | None = None,
    doc_ids_q_BT: torch.Tensor | None = None,
    doc_ids_k_BS: torch.Tensor | None = None,
    key_padding_mask_BS: torch.Tensor | None = None,
    alibi: bool = False,
) -> torch.Tensor:
    """Attention of queries at sequence indices q_offset + arange(Tq) over keys at arange(S),
    masked as `attention_mask` describes (plus ALiBi when `alibi`).

    No mask when none is needed (plain causal -> is_causal, so SDPA's flash kernel runs). A mask
    of at most MASK_BLOCK_ELEMENTS is built whole; a larger one is never materialized: queries
    go in blocks, each with only the keys it can reach and its own rows of the mask, and under
    autograd each block is checkpointed, so backward rebuilds its mask instead of keeping it.
    Memory is then O(block * S) instead of O(Tq * S); the result equals the dense one up to
    float summation order.
    """
    Tq, S = q_BHTD.shape[2], k_BHSD.shape[2]
    masked = (
        window is not None
        or doc_ids_q_BT is not None
        or key_padding_mask_BS is not None
        or alibi
    )
    if not masked:
        if causal and q_offset == 0 and Tq == S:
            return _sdpa(q_BHTD, k_BHSD, v_BHSD, None, is_causal=True)
        # a causal query block at the end of the keys with nothing else to mask sees all keys
        if not causal or (Tq == 1 and q_offset + 1 == S):
            return _sdpa(q_BHTD, k_BHSD, v_BHSD, None)
    if doc_ids_q_BT is not None and doc_ids_k_BS is None:
        doc_ids_k_BS = doc_ids_q_BT  # self-attention over the same tokens
    kw = dict(causal=causal, window=window, alibi=alibi)
    if Tq * S <= MASK_BLOCK_ELEMENTS:
        args = (doc_ids_q_BT, doc_ids_k_BS, key_padding_mask_BS)
        return _masked_block(q_BHTD, k_BHSD, v_BHSD, *args, q_offset=q_offset, **kw)
    rows = max(1, min(Tq, MASK_BLOCK_ELEMENTS // S))
    recompute = torch.is_grad_enabled() and any(t.requires_grad for t in (q_BHTD, k_BHSD, v_BHSD))
    outs = []
    for q0 in range(0, Tq, rows):
        q1 = min(Tq, q0 + rows)
        k0, k1 = visible_key_range(q_offset + q0, q_offset + q1, S, causal, window)
        if k1 <= k0:  # no key in reach: these rows see nothing (zeros, as _sdpa gives them)
            outs.append(q_BHTD.new_zeros(*q_BHTD.shape[:2], q1 - q0, v_BHSD.shape[-1]))
            continue
        fn = partial(_masked_block, q_offset=q_offset + q0 - k0, **kw)
        args = (
            q_BHTD[:, :, q0:q1],
            k_BHSD[:, :, k0:k1],
            v_BHSD[:, :, k0:k1],
            None if doc_ids_q_BT is None else doc_ids_q_BT[:, q0:q1],
            None if doc_ids_k_BS is None else doc_ids_k_BS[:, k0:k1],
            None if key_padding_mask_BS is None else key_padding_mask_BS[:, k0:k1],
        )
        if recompute:  # keep only the inputs (views of q, k, v); the mask is rebuilt in backward
            outs.append(checkpoint(fn, *args, use_reentrant=False, preserve_rng_state=False))
        else:
            outs.append(fn(*args))
    return torch.cat(outs, dim=2)


def local_window_attention(q_BHTD, k_BHTD, v_BHTD, window: int, pad_BT=None):
    """Bidirectional sliding-window attention (|i - j| <= window) in O(T * window).

    The sequence is cut into blocks of `window` queries; each block sees the keys of itself and
    its two neighbours (3 * window keys), which contain every key within reach. Same result as
    the dense (T, T) mask, without building it: the dense path costs T^2 memory and time, which
    on a 4 kb window is most of the encoder's work on CPU.
    """
    B, H, T, D = q_BHTD.shape
    w = window
    nb = -(-T // w)
    extra = nb * w - T
    q = F.pad(q_BHTD, (0, 0, 0, extra)).view(B, H, nb, w, D)
    kp = F.pad(k_BHTD, (0, 0, w, w + extra))  # one block of zeros at each end
    vp = F.pad(v_BHTD, (0, 0, w, w + extra))
    k = kp.unfold(2, 3 * w, w).transpose(-1, -2)  # (B, Hkv, nb, 3w, D)
    v = vp.unfold(2, 3 * w, w).transpose(-1, -2)
    valid_BT = torch.ones(B, T, dtype=torch.bool, device=q.device) if pad_BT is None else ~pad_BT.bool()
    valid = F.pad(valid_BT, (w, w + extra), value=False).unfold(1, 3 * w, w)  # (B, nb, 3w)
    qi = torch.arange(w, device=q.device)[:, None]
    kj = torch.arange(3 * w, device=q.device)[None, :]
    near = (qi + w - kj).abs() <= w  # (w, 3w): key kj of the block triple vs query qi
    mask = near[None, None] & valid[:, :, None, :]  # (B, nb, w, 3w)
    # Blocks go into the batch dimension: SDPA's fused CPU kernel takes 4-D inputs only (a 5-D
    # call falls back to the unfused math path, ~4x slower here).
    Hk = k.shape[1]
    q4 = q.permute(0, 2, 1, 3, 4).reshape(B * nb, H, w, D)
    k4 = k.permute(0, 2, 1, 3, 4).reshape(B * nb, Hk, 3 * w, D)
    v4 = v.permute(0, 2, 1, 3, 4).reshape(B * nb, Hk, 3 * w, D)
    out = _sdpa(q4, k4, v4, mask.reshape(B * nb, 1, w, 3 * w))
    return out.view(B, nb, H, w, D).permute(0, 2, 1, 3, 4).reshape(B, H, nb * w, D)[:, :, :T]


class Attention(nn.Module):
    """Multi-head self-attention with grouped-query heads (n_kv_heads divides n_heads).

    causal: decoder (True) or bidirectional encoder (False); window: sliding window (see
    `attention_mask`); rotary: a shared RotaryEmbedding or None; use_alibi: add ALiBi bias
    (DNABERT-2-style encoder). No biases anywhere.
    """

    def __init__(
        self,
        dim: int,
        n_heads: int,
        n_kv_heads: int | None = None,
        head_dim: int | None = None,
        causal: bool = True,
        window: int | None = None,
        rotary: RotaryEmbedding | None = None,
        use_alibi: bool = False,
    ):
        super().__init__()
        n_kv_heads = n_kv_heads or n_heads
        if n_heads % n_kv_heads:
            raise ValueError(f"n_heads={n_heads} is not a multiple of n_kv_heads={n_kv_heads}")
        self.n_heads, self.n_kv_heads = n_heads, n_kv_heads
        self.head_dim = head_dim or dim // n_heads
        self.causal, self.window, self.use_alibi = causal, window, use_alibi
        self.rotary = rotary
        self.use_flex = False  # opt-in GPU path, set by the training setup
        # Parallelism hook (e.g. context parallelism), set from outside the model: called as
        # override(self, q, k, v, positions=, doc_ids_BT=, key_padding_mask_BT=) with q, k
        # already rotated, it returns the attention output (B, H, T, Dh).
        self.sdpa_override: Callable[..., torch.Tensor] | None = None
        self.wq = nn.Linear(dim, n_heads * self.head_dim, bias=False)
        self.wk = nn.Linear(dim, n_kv_heads * self.head_dim, bias=False)
        self.wv = nn.Linear(dim, n_kv_heads * self.head_dim, bias=False)
        self.wo = nn.Linear(n_heads * self.head_dim, dim, bias=False)

    def forward(
        self,
        x_BTD: torch.Tensor,
        *,
        positions: torch.Tensor | None = None,
        doc_ids_BT: torch.Tensor | None = None,
        key_padding_mask_BT: torch.Tensor | None = None,
        kv_cache: KVCache | None = None,
    ) -> torch.Tensor:
        """positions: (T,) or (B, T) rotary positions (default: cache length + arange(T)).
        doc_ids_BT: document id per token for packed sequences (not with kv_cache).
        key_padding_mask_BT: True marks padding tokens (ignored as keys)."""
        B, T, _ = x_BTD.shape
        q_BHTD = self.wq(x_BTD).view(B, T, self.n_heads, self.head_dim).transpose(1, 2)
        k_BHTD = self.wk(x_BTD).view(B, T, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v_BHTD = self.wv(x_BTD).view(B, T, self.n_kv_heads, self.head_dim).transpose(1, 2)
        offset = kv_cache.length if kv_cache is not None else 0
        if self.rotary is not None:
            q_BHTD, k_BHTD = self.rotary(q_BHTD, k_BHTD, positions=positions, offset=offset)
        if self.sdpa_override is not None:
            if kv_cache is not None:
                raise ValueError("Attention.sdpa_override (context parallelism) excludes kv_cache")
            out_BHTD = self.sdpa_override(
                self,
                q_BHTD,
                k_BHTD,
                v_BHTD,
                positions=positions,
                doc_ids_BT=doc_ids_BT,
                key_padding_mask_BT=key_padding_mask_BT,
            )
            return self.wo(out_BHTD.transpose(1, 2).reshape(B, T, -1))
        pad_BS = key_padding_mask_BT
        if kv_cache is not None:
            if doc_ids_BT is not None:
                raise ValueError("doc_ids_BT (packed documents) cannot be combined with kv_cache")
            k_BHTD, v_BHTD, pad_BS = kv_cache.update(k_BHTD, v_BHTD, key_padding_mask_BT)
        S = k_BHTD.shape[2]

        if (
            self.use_flex
            and x_BTD.is_cuda
            and _HAS_FLEX
            and kv_cache is None
            and not self.use_alibi
        ):
            out_BHTD = self._flex_forward(q_BHTD, k_BHTD, v_BHTD, doc_ids_BT, pad_BS)
        elif (
            self.window is not None
            and not self.causal
            and kv_cache is None
            and doc_ids_BT is None
            and not self.use_alibi
            and T == S
            and T > 2 * self.window
        ):
            out_BHTD = local_window_attention(q_BHTD, k_BHTD, v_BHTD, self.window, pad_BS)
        else:
            out_BHTD = masked_attention(
                q_BHTD,
                k_BHTD,
                v_BHTD,
                q_offset=offset,
                causal=self.causal,
                window=self.window,
                doc_ids_q_BT=doc_ids_BT,
                key_padding_mask_BS=pad_BS,
                alibi=self.use_alibi,
            )
        return self.wo(out_BHTD.transpose(1, 2).reshape(B, T, -1))

    def _flex_forward(self, q, k, v, doc_ids_BT, pad_BS):
        causal, window = self.causal, self.window

        def mask_mod(b, h, q_idx, kv_idx):
            ok = q_idx >= 0  # all-true tensor of the right kind
            if causal:
                ok = ok & (q_idx >= kv_idx)
                if window is not None:
                    ok = ok & (q_idx - kv_idx < window)
            elif window is not None:
                ok = ok & ((q_idx - kv_idx).abs() <= window)
            if doc_ids_BT is not None:
                ok = ok & (doc_ids_BT[b, q_idx] == doc_ids_BT[b, kv_idx])
            if pad_BS is not None:
                ok = ok & ~pad_BS[b, kv_idx]
            return ok

        B, T, S = q.shape[0], q.shape[2], k.shape[2]
        # every layer of one forward sees the same masks: build the block mask once. The cache
        # holds the mask tensors themselves, so `is` + _version identify them safely.
        key = (causal, window, B, T, S, q.device)
        hit = _BLOCK_MASK_CACHE.get("entry")
        if (
            hit is not None
            and hit[0] == key
            and hit[1] is doc_ids_BT
            and hit[2] is pad_BS
            and hit[3] == _versions(doc_ids_BT, pad_BS)
        ):
            block_mask = hit[4]
        else:
            per_batch = doc_ids_BT is not None or pad_BS is not None
            block_mask = _flex_api().create_block_mask(
                mask_mod, B if per_batch else None, None, T, S, device=q.device
            )
            _BLOCK_MASK_CACHE["entry"] = (
                key,
                doc_ids_BT,
                pad_BS,
                _versions(doc_ids_BT, pad_BS),
                block_mask,
            )
        return _flex()(q, k, v, block_mask=block_mask, enable_gqa=q.shape[1] != k.shape[1])


class CrossAttention(nn.Module):
    """Queries from x (dim), keys/values from a memory (kv_dim), grouped-query heads, no mask
    other than the memory padding mask (True = padding position in memory)."""

    def __init__(
        self,
        dim: int,
        kv_dim: int,
        n_heads: int,
        n_kv_heads: int | None = None,
        head_dim: int | None = None,
    ):
        super().__init__()
        n_kv_heads = n_kv_heads or n_heads
        if n_heads % n_kv_heads:
            raise ValueError(f"n_heads={n_heads} is not a multiple of n_kv_heads={n_kv_heads}")
        self.n_heads, self.n_kv_heads = n_heads, n_kv_heads
        self.head_dim = head_dim or dim // n_heads
        self.wq = nn.Linear(dim, n_heads * self.head_dim, bias=False)
        self.wk = nn.Linear(kv_dim, n_kv_heads * self.head_dim, bias=False)
        self.wv = nn.Linear(kv_dim, n_kv_heads * self.head_dim, bias=False)
        self.wo = nn.Linear(n_heads * self.head_dim, dim, bias=False)

    def project_memory(self, memory_BSD: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values of the memory, (B, Hkv, S, Dh) each: compute once when decoding."""
        B, S, _ = memory_BSD.shape
        k = self.wk(memory_BSD).view(B, S, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.wv(memory_BSD).view(B, S, self.n_kv_heads, self.head_dim).transpose(1, 2)
        return k, v

    def forward(
        self,
        x_BTD: torch.Tensor,
        memory_BSD: torch.Tensor | None = None,
        *,
        memory_padding_mask_BS: torch.Tensor | None = None,
        memory_kv: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        B, T, _ = x_BTD.shape
        if memory_kv is None:
            if memory_BSD is None:
                raise ValueError("CrossAttention needs memory_BSD or memory_kv")
            memory_kv = self.project_memory(memory_BSD)
        k_BHSD, v_BHSD = memory_kv
        q_BHTD = self.wq(x_BTD).view(B, T, self.n_heads, self.head_dim).transpose(1, 2)
        mask = None
        if memory_padding_mask_BS is not None:
            mask = ~memory_padding_mask_BS.bool()[:, None, None, :]
        out_BHTD = _sdpa(q_BHTD, k_BHSD, v_BHSD, mask)
        return self.wo(out_BHTD.transpose(1, 2).reshape(B, T, -1))
