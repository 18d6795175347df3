"""The position term of GeneT5's pointer (GeneT5Config.pointer_rel_buckets): the last pointer
so far, signed log buckets, and cached decoding steps equal to the full decoder with it on."""

from __future__ import annotations

import torch

from genet5.models.configs import get_preset
from genet5.models.genet5 import GeneT5
from genet5.nn.attention import make_kv_caches
from genet5.nn.pointer_position import last_pointer, relative_bucket


def test_last_pointer_carries_the_latest_pointer_forward():
    p = torch.tensor([[-100, 5, -100, -100, 9, 3, -100], [-100, -100, -100, 0, -100, -100, -100]])
    assert last_pointer(p).tolist() == [[-1, 5, 5, 5, 9, 3, 3], [-1, -1, -1, 0, 0, 0, 0]]


def test_buckets_are_signed_monotone_and_saturate():
    d = torch.arange(0, 4000)
    b = relative_bucket(d, 32)
    assert b[:4].tolist() == [0, 1, 2, 3] and (b.diff() >= 0).all() and b.max() == 15 and b[2047:].eq(15).all()
    neg = relative_bucket(-d[1:], 32)
    assert (neg >= 16).all() and (neg - 16 == b[1:]).all()  # the same scale behind the last pointer


def test_cached_steps_match_the_full_decoder_with_the_position_term():
    torch.manual_seed(0)
    cfg = get_preset("genet5-tiny")
    cfg.pointer_rel_buckets = 16
    model = GeneT5(cfg).eval()
    torch.nn.init.normal_(model.pointer_rel.weight)  # zero at initialisation: make it count
    ids = torch.randint(0, 4, (2, 60))
    types = torch.randint(3, 10, (2, 7))
    ptrs = torch.tensor([[-100, 3, -100, 10, 20, -100, 41], [-100, -100, 7, -100, -100, 40, -100]])
    with torch.no_grad():
        enc = model.encode(ids)
        full_tok, full_ptr = model.decode_step(enc, types, ptrs)
        plain = GeneT5(get_preset("genet5-tiny")).eval()
        plain.load_state_dict(model.state_dict(), strict=False)
        assert not torch.allclose(plain.decode_step(plain.encode(ids), types, ptrs)[1], full_ptr)  # the term is used
        caches, last = make_kv_caches(len(model.dec_layers)), last_pointer(ptrs)
        for t in range(types.shape[1]):
            tok, ptr = model.decode_step(enc, types[:, t : t + 1], ptrs[:, t : t + 1], caches, last_ptr_BT=last[:, t : t + 1])
            torch.testing.assert_close(ptr[:, 0], full_ptr[:, t], atol=1e-5, rtol=1e-4)
