import math

import torch
import torch.nn.functional as F

from genet5.nn import MoE
from genet5.nn.moe import load_balancing_loss, router_z_loss

torch.set_num_threads(1)


def reference(moe: MoE, x_BTD):
    """Per-token loop: softmax, top-k, renormalize, weighted sum of SwiGLU experts."""
    out = torch.zeros_like(x_BTD).reshape(-1, moe.dim)
    for n, x in enumerate(x_BTD.reshape(-1, moe.dim)):
        p = (moe.router.weight @ x).softmax(-1)
        w, e = p.topk(moe.top_k)
        w = w / w.sum()
        for wi, ei in zip(w, e):
            h = F.silu(moe.w1[ei] @ x) * (moe.w3[ei] @ x)
            out[n] += wi * (moe.w2[ei] @ h)
    return out.view_as(x_BTD)


def test_equals_reference_loop():
    torch.manual_seed(0)
    moe = MoE(16, 24, n_experts=4, top_k=2)
    x = torch.randn(3, 7, 16)
    torch.testing.assert_close(moe(x), reference(moe, x), atol=1e-5, rtol=1e-5)
    assert int(moe.last_expert_counts.sum()) == 3 * 7 * 2  # nothing dropped


def test_top1_and_topall():
    torch.manual_seed(1)
    for k in (1, 4):
        moe = MoE(8, 12, n_experts=4, top_k=k)
        x = torch.randn(2, 5, 8)
        torch.testing.assert_close(moe(x), reference(moe, x), atol=1e-5, rtol=1e-5)


def test_aux_and_z_loss_hand_case():
    # 2 tokens, 2 experts, top-1; logits (ln 3, 0) and (0, 0)
    logits = torch.tensor([[math.log(3.0), 0.0], [0.0, 0.0]])
    probs = logits.softmax(-1)  # (0.75, 0.25), (0.5, 0.5)
    counts = torch.tensor([2, 0])  # both tokens chose expert 0 (tie broken to 0)
    # f = (1, 0), P = (0.625, 0.375) -> E * sum f*P = 2 * 0.625
    torch.testing.assert_close(load_balancing_loss(probs, counts, top_k=1), torch.tensor(1.25))
    # logsumexp: ln 4 and ln 2 -> mean of squares
    z = (math.log(4.0) ** 2 + math.log(2.0) ** 2) / 2
    torch.testing.assert_close(router_z_loss(logits), torch.tensor(z))
    # uniform routing gives exactly 1
    u = torch.full((4, 4), 0.25)
    torch.testing.assert_close(
        load_balancing_loss(u, torch.tensor([2, 2, 2, 2]), 2), torch.tensor(1.0)
    )


def test_aux_loss_gradient_reaches_router_through_output():
    torch.manual_seed(0)
    moe = MoE(8, 12, n_experts=4, top_k=2, aux_loss_coef=0.1, z_loss_coef=0.01)
    x = torch.randn(2, 6, 8)
    out = moe(x)
    torch.testing.assert_close(out, reference(moe, x), atol=1e-5, rtol=1e-5)  # value unchanged
    (out * 0).sum().backward()  # main loss has zero gradient: only the aux loss can move the router
    g = moe.router.weight.grad
    assert g is not None and g.abs().sum() > 0
    # and it is exactly d(coef*aux + coef_z*z)/d(router)
    w = moe.router.weight.detach().clone().requires_grad_(True)
    logits = x.reshape(-1, 8) @ w.t()
    probs = logits.softmax(-1)
    counts = torch.bincount(probs.topk(2, -1).indices.reshape(-1), minlength=4)
    (0.1 * load_balancing_loss(probs, counts, 2) + 0.01 * router_z_loss(logits)).backward()
    torch.testing.assert_close(g, w.grad, atol=1e-6, rtol=1e-5)


def test_no_aux_gradient_in_eval_and_every_param_gets_grad():
    torch.manual_seed(0)
    moe = MoE(8, 12, n_experts=4, top_k=2)
    moe(torch.randn(4, 16, 8)).pow(2).sum().backward()
    for name, p in moe.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    moe.eval()
    moe.zero_grad()
    (moe(torch.randn(2, 4, 8)) * 0).sum().backward()
    assert moe.router.weight.grad is None or moe.router.weight.grad.abs().sum() == 0


def test_grouped_mm_path_matches_loop_when_available():
    """The sorted/padded grouped-GEMM bookkeeping, checked on CPU in fp32 where this torch's
    grouped_mm has a CPU fallback (skipped otherwise; on GPU it runs in bf16)."""
    import pytest

    from genet5.nn import moe as moe_mod

    if moe_mod._GROUPED_MM is None:
        pytest.skip("no grouped_mm in this torch")
    torch.manual_seed(0)
    moe = MoE(8, 16, n_experts=4, top_k=2)
    x = torch.randn(37, 8, requires_grad=True)
    expert = torch.tensor([0] * 5 + [1] * 0 + [2] * 20 + [3] * 12)  # one empty expert
    counts = torch.bincount(expert, minlength=4)
    try:
        y_g = moe._experts_grouped(x, counts, expert, dtype=torch.float32)
    except (RuntimeError, NotImplementedError) as err:
        pytest.skip(f"grouped_mm not usable on CPU here: {err}")
    y_l = moe._experts_loop(x, counts)
    torch.testing.assert_close(y_g, y_l, atol=1e-5, rtol=1e-5)
    g_g = torch.autograd.grad(y_g.pow(2).sum(), [x, moe.w1, moe.w2])
    g_l = torch.autograd.grad(y_l.pow(2).sum(), [x, moe.w1, moe.w2])
    for a, b in zip(g_g, g_l):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_aux_loss_scale_scales_router_gradient():
    from genet5.nn import set_aux_loss_scale

    torch.manual_seed(0)
    moe = MoE(8, 12, n_experts=4, top_k=2, aux_loss_coef=0.1)
    x = torch.randn(2, 6, 8)
    (moe(x) * 0).sum().backward()
    g1 = moe.router.weight.grad.clone()
    moe.zero_grad()
    set_aux_loss_scale(0.25)  # e.g. 4 gradient-accumulation micro-batches
    try:
        (moe(x) * 0).sum().backward()
    finally:
        set_aux_loss_scale(1.0)
    torch.testing.assert_close(moe.router.weight.grad, g1 * 0.25)
