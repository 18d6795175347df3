import math

import pytest
import torch

from genet5.nn import Attention, CrossAttention, KVCache, RotaryEmbedding, alibi_bias, alibi_slopes
from genet5.nn.attention import attention_mask

torch.set_num_threads(1)
D, H, HKV, T = 32, 4, 2, 12


def reference(attn: Attention, x, mask_TS=None, positions=None, bias_HTS=None):
    """Naive attention with heads repeated by hand and an explicit boolean mask (T, S)."""
    B, T_, _ = x.shape
    q = attn.wq(x).view(B, T_, attn.n_heads, -1).transpose(1, 2)
    k = attn.wk(x).view(B, T_, attn.n_kv_heads, -1).transpose(1, 2)
    v = attn.wv(x).view(B, T_, attn.n_kv_heads, -1).transpose(1, 2)
    if attn.rotary is not None:
        q, k = attn.rotary(q, k, positions=positions)
    rep = attn.n_heads // attn.n_kv_heads
    k, v = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
    s = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if bias_HTS is not None:
        s = s + bias_HTS
    if mask_TS is not None:
        s = s.masked_fill(~mask_TS, float("-inf"))
    o = s.softmax(-1) @ v
    return attn.wo(o.transpose(1, 2).reshape(B, T_, -1))


def make(**kw):
    torch.manual_seed(0)
    kw.setdefault("rotary", RotaryEmbedding(D // H, base=100.0))
    return Attention(D, H, HKV, **kw)


def test_causal_matches_reference_and_future_never_leaks():
    attn = make(causal=True)
    x = torch.randn(2, T, D)
    tri = torch.ones(T, T, dtype=torch.bool).tril()
    torch.testing.assert_close(attn(x), reference(attn, x, tri), atol=1e-5, rtol=1e-5)
    x2 = x.clone()
    x2[:, 7:] = torch.randn(2, T - 7, D)
    torch.testing.assert_close(attn(x)[:, :7], attn(x2)[:, :7], atol=1e-6, rtol=0)
    assert not torch.allclose(attn(x)[:, 7:], attn(x2)[:, 7:])


def test_gqa_equals_repeated_heads():
    gqa = make(causal=True)
    mha = Attention(D, H, H, causal=True, rotary=gqa.rotary)
    hd = D // H
    with torch.no_grad():
        mha.wq.weight.copy_(gqa.wq.weight)
        mha.wo.weight.copy_(gqa.wo.weight)
        for name in ("wk", "wv"):  # each kv head serves H/HKV consecutive query heads
            w = getattr(gqa, name).weight.view(HKV, hd, D).repeat_interleave(H // HKV, 0)
            getattr(mha, name).weight.copy_(w.reshape(H * hd, D))
    x = torch.randn(2, T, D)
    torch.testing.assert_close(gqa(x), mha(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("causal", [True, False])
def test_window_equals_dense_masked(causal):
    w = 3
    attn = make(causal=causal, window=w)
    x = torch.randn(2, T, D)
    i, j = torch.arange(T)[:, None], torch.arange(T)[None]
    mask = ((i - j >= 0) & (i - j < w)) if causal else ((i - j).abs() <= w)
    torch.testing.assert_close(attn(x), reference(attn, x, mask), atol=1e-5, rtol=1e-5)
    # and the window really restricts: differs from full attention
    full = make(causal=causal)
    assert not torch.allclose(attn(x), full(x), atol=1e-4)


@pytest.mark.parametrize("causal", [True, False])
def test_packed_documents_do_not_see_each_other(causal):
    attn = make(causal=causal)
    a, b = torch.randn(1, 5, D), torch.randn(1, 7, D)
    packed = torch.cat([a, b], 1)
    doc_ids = torch.tensor([[0] * 5 + [1] * 7])
    positions = torch.cat([torch.arange(5), torch.arange(7)])[None]  # reset at each document
    out = attn(packed, positions=positions, doc_ids_BT=doc_ids)
    torch.testing.assert_close(out[:, :5], attn(a), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out[:, 5:], attn(b), atol=1e-5, rtol=1e-5)


def test_key_padding_is_ignored_bidirectional():
    attn = make(causal=False)
    x = torch.randn(2, T, D)
    pad = torch.zeros(2, T, dtype=torch.bool)
    pad[1, 8:] = True
    out = attn(x, key_padding_mask_BT=pad)
    torch.testing.assert_close(out[1:, :8], attn(x[1:, :8]), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out[:1], attn(x[:1]), atol=1e-5, rtol=1e-5)


def test_fully_masked_rows_are_zero_not_nan():
    attn = make(causal=True)
    x = torch.randn(1, 4, D)
    pad = torch.tensor([[True, False, False, False]])  # left padding: query 0 sees no key
    out = attn(x, key_padding_mask_BT=pad)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out[0, 0], torch.zeros(D))


@pytest.mark.parametrize("window", [None, 4])
def test_kv_cache_equals_full_recompute(window):
    attn = make(causal=True, window=window)
    x = torch.randn(2, T, D)
    full = attn(x)
    cache = KVCache()
    chunks = [attn(x[:, :5], kv_cache=cache)]  # prompt, then one token at a time
    for t in range(5, T):
        chunks.append(attn(x[:, t : t + 1], kv_cache=cache))
    assert cache.length == T
    torch.testing.assert_close(torch.cat(chunks, 1), full, atol=1e-5, rtol=1e-5)


def test_kv_cache_rejects_doc_ids():
    attn = make()
    with pytest.raises(ValueError):
        attn(
            torch.randn(1, 3, D), doc_ids_BT=torch.zeros(1, 3, dtype=torch.long), kv_cache=KVCache()
        )


def test_alibi_slopes_and_bias():
    torch.testing.assert_close(alibi_slopes(8), torch.tensor([2.0 ** -(i + 1) for i in range(8)]))
    s12 = alibi_slopes(12)  # non power of two: 8 slopes of n=8, then odd-indexed ones of n=16
    assert s12.shape == (12,) and s12[8] == 2.0**-0.5
    b = alibi_bias(2, 3, 4, "cpu")
    assert b.shape == (2, 3, 4)
    torch.testing.assert_close(b[0, 2], -torch.tensor([2.0, 1.0, 0.0, 1.0]) * alibi_slopes(2)[0])


def test_alibi_attention_matches_reference():
    attn = make(causal=False, rotary=None, use_alibi=True)
    x = torch.randn(2, T, D)
    bias = alibi_bias(H, T, T, "cpu")
    torch.testing.assert_close(attn(x), reference(attn, x, bias_HTS=bias), atol=1e-5, rtol=1e-5)


def test_attention_mask_helper_none_when_nothing_to_mask():
    assert attention_mask(4, 4) is None
    m = attention_mask(2, 5, q_offset=3, causal=True)
    assert m.shape == (1, 1, 2, 5)
    assert m[0, 0].tolist() == [[True] * 4 + [False], [True] * 5]


def test_cross_attention_memory_padding():
    torch.manual_seed(0)
    xa = CrossAttention(D, 24, H, HKV)
    x, mem = torch.randn(2, 5, D), torch.randn(2, 9, 24)
    pad = torch.zeros(2, 9, dtype=torch.bool)
    pad[0, 6:] = True
    out = xa(x, mem, memory_padding_mask_BS=pad)
    torch.testing.assert_close(out[:1], xa(x[:1], mem[:1, :6]), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out[1:], xa(x[1:], mem[1:]), atol=1e-5, rtol=1e-5)
    # precomputed memory keys/values give the same answer (decoding reuses them)
    kv = xa.project_memory(mem)
    torch.testing.assert_close(xa(x, memory_kv=kv, memory_padding_mask_BS=pad), out)


def test_flex_mask_mod_matches_dense_mask(monkeypatch):
    """The optional FlexAttention path's mask_mod, run eagerly on CPU (forward only) against
    the dense reference: causal + window + packed documents + key padding in one go."""
    import warnings

    from genet5.nn import attention as A

    if not A._HAS_FLEX:
        pytest.skip("no FlexAttention in this torch")
    monkeypatch.setattr(A, "_compiled_flex", A._flex_api().flex_attention)  # eager, no compile on CPU
    attn = make(causal=True, window=3)
    q, k, v = (
        torch.randn(2, H, T, D // H),
        torch.randn(2, HKV, T, D // H),
        torch.randn(2, HKV, T, D // H),
    )
    doc = torch.tensor([[0] * 5 + [1] * 7, [0] * T])
    pad = torch.zeros(2, T, dtype=torch.bool)
    pad[1, 10:] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = attn._flex_forward(q, k, v, doc, pad)
    mask = attention_mask(T, T, causal=True, window=3, doc_ids_q_BT=doc, key_padding_mask_BS=pad)
    torch.testing.assert_close(out, A._sdpa(q, k, v, mask), atol=1e-5, rtol=1e-5)
    # a second call with the same mask tensors reuses the block mask; new ids rebuild it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        entry = A._BLOCK_MASK_CACHE["entry"]
        attn._flex_forward(q, k, v, doc, pad)
        assert A._BLOCK_MASK_CACHE["entry"] is entry
        doc2 = torch.zeros_like(doc)
        out2 = attn._flex_forward(q, k, v, doc2, pad)
    mask2 = attention_mask(T, T, causal=True, window=3, doc_ids_q_BT=doc2, key_padding_mask_BS=pad)
    torch.testing.assert_close(out2, A._sdpa(q, k, v, mask2), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("T, window, n_kv", [(100, 8, 2), (64, 16, 4), (37, 5, 1)])
def test_block_local_window_equals_dense_mask(T, window, n_kv):
    """The O(T*w) block path gives what the dense (T, T) window mask gives, padding included."""
    from genet5.nn.attention import _sdpa, attention_mask, local_window_attention

    torch.manual_seed(0)
    B, H, D = 2, 4, 8
    q = torch.randn(B, H, T, D)
    k = torch.randn(B, n_kv, T, D)
    v = torch.randn(B, n_kv, T, D)
    pad = torch.zeros(B, T, dtype=torch.bool)
    pad[1, T - 7 :] = True
    dense = _sdpa(q, k, v, attention_mask(T, T, device=q.device, causal=False, window=window, key_padding_mask_BS=pad))
    local = local_window_attention(q, k, v, window, pad)
    torch.testing.assert_close(local, dense, rtol=1e-5, atol=1e-6)


# -- query-blocked masked attention (memory linear in sequence length) ----------------------------
def _qkv(B, Tq, S, n_kv=HKV, seed=0):
    g = torch.Generator().manual_seed(seed)
    hd = D // H
    return [
        torch.randn(B, h, t, hd, generator=g, requires_grad=True)
        for h, t in ((H, Tq), (n_kv, S), (n_kv, S))
    ]


BLOCK_CASES = {
    "causal_docs": dict(causal=True, docs=True),
    "causal_window_pad": dict(causal=True, window=5, pad=True),
    "bidir_window_pad": dict(causal=False, window=4, pad=True),
    "bidir_alibi_docs": dict(causal=False, alibi=True, docs=True),
    "kv_chunk_offset": dict(causal=True, q_offset=17, pad=True),  # a later chunk vs its cache
    "kv_chunk_offset_nomask": dict(causal=True, q_offset=17),
}


@pytest.mark.parametrize("case", list(BLOCK_CASES))
def test_blocked_masked_attention_equals_dense(case, monkeypatch):
    """Above MASK_BLOCK_ELEMENTS the mask is built per query block (and rebuilt in backward):
    outputs and q/k/v gradients equal the dense-mask path."""
    from genet5.nn import attention as A

    c = BLOCK_CASES[case]
    B, Tq = 2, 40
    off = c.get("q_offset", 0)
    S = Tq + off
    kw = dict(q_offset=off, causal=c["causal"], window=c.get("window"), alibi=c.get("alibi", False))
    if c.get("docs"):
        kw["doc_ids_q_BT"] = torch.tensor([[0] * 13 + [1] * 20 + [2] * 7, [0] * Tq])
    if c.get("pad"):
        pad = torch.zeros(B, S, dtype=torch.bool)
        pad[1, :9] = True  # left padding: some early queries of row 1 see no key at all
        kw["key_padding_mask_BS"] = pad
    go = torch.randn(B, H, Tq, D // H)
    results = []
    for budget in (1 << 24, 7 * S):  # dense, then blocks of 7 query rows
        monkeypatch.setattr(A, "MASK_BLOCK_ELEMENTS", budget)
        q, k, v = _qkv(B, Tq, S)
        out = A.masked_attention(q, k, v, **kw)
        out.backward(go)
        results.append((out.detach(), q.grad, k.grad, v.grad))
    for dense, blocked in zip(*results):
        assert torch.isfinite(blocked).all()
        torch.testing.assert_close(blocked, dense, atol=1e-5, rtol=1e-5)


def test_blocked_attention_module_and_saved_memory(monkeypatch):
    """Attention with packed documents: blocked == dense, and in the blocked path autograd keeps
    no (T, S) tensor (the checkpointed blocks save only views of q, k, v)."""
    from genet5.nn import attention as A

    attn = make(causal=True)
    Tn = 48
    x = torch.randn(1, Tn, D)
    doc = torch.tensor([[0] * 20 + [1] * 28])
    pos = torch.cat([torch.arange(20), torch.arange(28)])[None]

    def run(budget):
        monkeypatch.setattr(A, "MASK_BLOCK_ELEMENTS", budget)
        attn.zero_grad()
        xx = x.clone().requires_grad_(True)
        saved = []

        def pack(t):
            saved.append(t.numel())
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out = attn(xx, positions=pos, doc_ids_BT=doc)
        out.square().sum().backward()
        return out.detach(), xx.grad, attn.wq.weight.grad.clone(), max(saved)

    dense = run(1 << 24)
    blocked = run(8 * Tn)
    for a, b in zip(dense[:3], blocked[:3]):
        torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-5)
    assert dense[3] >= Tn * Tn  # the dense path keeps the (T, T) mask for backward
    assert blocked[3] < Tn * Tn  # the blocked path keeps nothing quadratic
