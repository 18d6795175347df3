import torch

from genet5.nn import PerceiverCompressor, RMSNorm, RotaryEmbedding, SwiGLU, TransformerBlock

torch.set_num_threads(1)


def test_rmsnorm_value():
    n = RMSNorm(4, eps=0.0)
    x = torch.tensor([[1.0, -1.0, 1.0, -1.0], [2.0, 2.0, 2.0, 2.0]])
    torch.testing.assert_close(n(x), torch.sign(x))
    assert n(x.bfloat16()).dtype == torch.bfloat16


def test_swiglu_value():
    torch.manual_seed(0)
    m = SwiGLU(6, 10)
    x = torch.randn(3, 6)
    ref = (torch.nn.functional.silu(x @ m.w1.weight.t()) * (x @ m.w3.weight.t())) @ m.w2.weight.t()
    torch.testing.assert_close(m(x), ref)
    assert all(mod.bias is None for mod in (m.w1, m.w2, m.w3))


def test_block_gradients_reach_every_parameter():
    torch.manual_seed(0)
    for n_experts in (0, 4):
        blk = TransformerBlock(16, 4, 2, 32, rotary=RotaryEmbedding(4), n_experts=n_experts)
        blk(torch.randn(2, 16, 16)).pow(2).mean().backward()
        for name, p in blk.named_parameters():
            assert p.grad is not None and p.grad.abs().sum() > 0, (n_experts, name)


def test_perceiver_shape_padding_invariance_and_grads():
    torch.manual_seed(0)
    pc = PerceiverCompressor(
        16, n_latents=3, n_heads=4, n_kv_heads=2, n_layers=1, ffn_hidden=32, kv_dim=12
    )
    mem = torch.randn(2, 9, 12)
    pad = torch.zeros(2, 9, dtype=torch.bool)
    pad[0, 5:] = True
    out = pc(mem, pad)
    assert out.shape == (2, 3, 16)
    torch.testing.assert_close(out[:1], pc(mem[:1, :5]), atol=1e-5, rtol=1e-5)
    mem2 = mem.clone()
    mem2[0, 5:] = 100.0  # garbage in padding changes nothing
    torch.testing.assert_close(pc(mem2, pad), out, atol=1e-5, rtol=1e-5)
    out.sum().backward()
    for name, p in pc.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
