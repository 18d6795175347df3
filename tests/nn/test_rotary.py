import torch

from genet5.nn import RotaryEmbedding

torch.set_num_threads(1)


def test_offset_equals_slice_of_full_sequence():
    rope = RotaryEmbedding(16, base=5e7)
    q, k = torch.randn(2, 3, 10, 16), torch.randn(2, 3, 10, 16)
    qf, kf = rope(q, k)
    qo, ko = rope(q[:, :, 6:], k[:, :, 6:], offset=6)
    torch.testing.assert_close(qo, qf[:, :, 6:])
    torch.testing.assert_close(ko, kf[:, :, 6:])
    qp, _ = rope(q[:, :, 6:], k[:, :, 6:], positions=torch.arange(6, 10))
    torch.testing.assert_close(qp, qo)
    qb, _ = rope(q, k, positions=torch.arange(10)[None].expand(2, -1))  # per-sequence (B, T)
    torch.testing.assert_close(qb, qf)


def test_scores_depend_only_on_relative_distance():
    rope = RotaryEmbedding(8)
    q, k = torch.randn(1, 1, 1, 8), torch.randn(1, 1, 1, 8)

    def score(pq, pk):
        rq = rope.rotate(q, torch.tensor([pq]))
        rk = rope.rotate(k, torch.tensor([pk]))
        return (rq * rk).sum()

    torch.testing.assert_close(score(5, 2), score(1003, 1000), atol=1e-4, rtol=1e-4)
    assert not torch.allclose(score(5, 2), score(5, 4))


def test_position_zero_is_identity_and_norm_preserved():
    rope = RotaryEmbedding(8)
    x = torch.randn(1, 2, 4, 8)
    y, _ = rope(x, x)
    torch.testing.assert_close(y[:, :, 0], x[:, :, 0])
    torch.testing.assert_close(y.norm(dim=-1), x.norm(dim=-1))


def test_large_positions_fp32_and_dtype_kept():
    rope = RotaryEmbedding(8, base=5e7)
    x = torch.randn(1, 1, 2, 8, dtype=torch.bfloat16)
    y, _ = rope(x, x, offset=1_000_000)
    assert y.dtype == torch.bfloat16 and torch.isfinite(y.float()).all()
    cos, _ = rope.cos_sin(torch.tensor([1_000_000]))
    assert cos.dtype == torch.float32


def test_positions_from_doc_ids():
    from genet5.nn import positions_from_doc_ids

    ids = torch.tensor([[0, 0, 0, 1, 1, 2], [5, 5, 5, 5, 5, 5]])
    assert positions_from_doc_ids(ids).tolist() == [[0, 1, 2, 0, 1, 0], [0, 1, 2, 3, 4, 5]]
