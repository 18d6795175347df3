"""Trainer behaviour: exact resume (in-process and after SIGKILL), accumulation, clipping, early stop."""

from __future__ import annotations

import copy
import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
import tinylm  # noqa: E402

from genet5.train import Trainer  # noqa: E402
from genet5.train.checkpoint import latest_checkpoint  # noqa: E402

N = 12


def _csv_losses(path: Path) -> list[float]:
    with path.open() as f:
        return [float(r["loss"]) for r in csv.DictReader(f)]


def test_resume_is_exact(tmp_path):
    # dropout > 0 so that the restored RNG state matters, and 2 epochs' worth of steps so the
    # data position crosses an epoch boundary.
    cfg = tinylm.tiny_config(str(tmp_path / "straight"), max_steps=N, checkpoint_every=5)
    cfg.model.dropout = 0.1
    straight = tinylm.make_trainer(cfg).fit()
    assert straight.step == N

    cfg.train.out_dir = str(tmp_path / "stopped")
    first = tinylm.make_trainer(cfg).fit(stop_at=7)  # preempted after step 7
    assert first.step == 7
    torch.manual_seed(999)  # a resumed process starts with a different RNG and a fresh init
    cfg.model.init_seed = 5
    second = tinylm.make_trainer(cfg).fit()
    assert second.resumed_from is not None and second.resumed_from.name == "step-00000007"
    resumed = first.losses + second.losses
    assert resumed == straight.losses  # bit-exact on CPU fp32
    assert second.grad_norms == straight.grad_norms[7:]
    # the CSV of the resumed run holds one continuous curve
    assert _csv_losses(tmp_path / "stopped" / "train.csv") == straight.losses


def test_resume_after_sigkill(tmp_path):
    # A real kill: the run is a separate process, SIGKILLed mid-run after a checkpoint; the
    # resume (here in-process, to save a second torch import) must continue the same curve.
    script = Path(__file__).parent / "tinylm.py"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent), "TINYLM_STEP_SLEEP": "0.3"}
    killed_dir = tmp_path / "killed"
    args = [sys.executable, str(script), f"out={killed_dir}",
            f"train.max_steps={N}", "train.checkpoint_every=3", "train.keep_last=0"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 90
    try:
        while time.time() < deadline:
            ck = latest_checkpoint(killed_dir)
            if ck is not None and ck.name >= "step-00000006":
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    killed_at = int(latest_checkpoint(killed_dir).name.split("-")[1])
    assert 6 <= killed_at < N
    rows_at_kill = len(_csv_losses(killed_dir / "train.csv"))
    assert rows_at_kill >= killed_at  # the killed run may have logged steps past its checkpoint

    cfg = tinylm.tiny_config(str(killed_dir), max_steps=N, checkpoint_every=3, keep_last=0)
    resumed = tinylm.make_trainer(cfg).fit()
    assert resumed.resumed_from.name == f"step-{killed_at:08d}"
    cfg.train.out_dir = str(tmp_path / "straight")
    straight = tinylm.make_trainer(cfg).fit()

    curve = _csv_losses(killed_dir / "train.csv")  # killed run's rows up to the checkpoint + resumed
    assert len(curve) == N
    assert max(abs(x - y) for x, y in zip(curve, straight.losses)) <= 1e-6
    assert resumed.losses == straight.losses[killed_at:]
    assert not list(killed_dir.glob(".tmp-*"))


def test_grad_accumulation_matches_one_big_batch(tmp_path):
    # Two micro-batches accumulated == one batch holding both (unit-weighted mean of the loss).
    cfg = tinylm.tiny_config(str(tmp_path / "a"), max_steps=1, grad_accum=2, resume="never")
    model, loader, _ = tinylm.build(cfg)
    batches = list(loader)[:2]
    trainer = Trainer(model, tinylm.loss_fn, batches, cfg, batch_weight=tinylm.batch_weight)
    m_acc = trainer.train_step(batches)

    cfg.train.out_dir = str(tmp_path / "b")
    model2, _, _ = tinylm.build(cfg)
    samples = [{"input_ids": r[: int((l != -100).sum()) + 1]} for b in batches
               for r, l in zip(b["input_ids"], b["labels"])]
    big = tinylm.collate(samples)
    trainer2 = Trainer(model2, tinylm.loss_fn, [big], cfg, batch_weight=tinylm.batch_weight)
    m_big = trainer2.train_step([big])
    assert abs(m_acc["loss"] - m_big["loss"]) < 1e-6
    assert abs(m_acc["grad_norm"] - m_big["grad_norm"]) < 1e-5
    for p, q in zip(trainer.model.parameters(), trainer2.model.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-6)


def test_clipping_label_smoothing_and_lr_schedule(tmp_path):
    seen = []

    def loss_fn(model, batch, *, label_smoothing):
        seen.append(label_smoothing)
        return tinylm.loss_fn(model, batch, label_smoothing=label_smoothing)

    cfg = tinylm.tiny_config(str(tmp_path), max_steps=4, clip_grad=1e-3, label_smoothing=0.1)
    model, loader, _ = tinylm.build(cfg)
    before = [p.detach().clone() for p in model.parameters()]
    r = Trainer(model, loss_fn, loader, cfg).fit()
    assert seen and all(x == 0.1 for x in seen)
    assert all(g > 1e-3 for g in r.grad_norms)  # the reported norm is the one before clipping
    # warmup 3 steps then cosine: lrs logged in the CSV follow the schedule
    with (tmp_path / "train.csv").open() as f:
        lrs = [float(row["lr"]) for row in csv.DictReader(f)]
    assert lrs[:3] == pytest.approx([1e-3, 2e-3, 3e-3])
    assert lrs[3] == pytest.approx(3e-3)  # first cosine step is the peak
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_early_stopping_with_patience(tmp_path):
    values = iter([3.0, 2.0, 2.5, 2.4, 2.6, 1.0])  # best at eval 2, then 3 evals without gain

    cfg = tinylm.tiny_config(str(tmp_path), max_steps=50, eval_every=2, patience=3)
    model, loader, _ = tinylm.build(cfg)
    trainer = Trainer(model, tinylm.loss_fn, loader, cfg, val_fn=lambda m: {"val_loss": next(values)})
    r = trainer.fit()
    assert r.stopped_early and r.step == 10
    assert r.best_metric == 2.0 and r.best_step == 4
    assert [v["val_loss"] for v in r.val_history] == [3.0, 2.0, 2.5, 2.4, 2.6]
    assert latest_checkpoint(tmp_path).name == "step-00000010"
    # resuming a run that stopped early does not train further
    model, loader, _ = tinylm.build(cfg)
    again = Trainer(model, tinylm.loss_fn, loader, cfg, val_fn=lambda m: {"val_loss": 0.0}).fit()
    assert again.stopped_early and again.step == 10 and again.losses == []


def test_activation_checkpointing_keeps_results_and_weight_names(tmp_path):
    cfg = tinylm.tiny_config(str(tmp_path / "plain"), max_steps=3)
    plain = tinylm.make_trainer(cfg).fit()
    cfg = tinylm.tiny_config(str(tmp_path / "ac"), max_steps=3)
    cfg.parallel.activation_checkpointing = True
    ac = tinylm.make_trainer(cfg).fit()
    assert max(abs(a - b) for a, b in zip(plain.losses, ac.losses)) < 1e-6
    # checkpoint keys are the plain FQNs, so the weights load into an unwrapped model
    from safetensors.torch import load_file

    keys = set(load_file(str(latest_checkpoint(tmp_path / "ac") / "model.safetensors")))
    assert keys == set(tinylm.TinyLM().state_dict())


def test_bf16_autocast_on_request_and_nonfinite_steps_skipped(tmp_path):
    cfg = tinylm.tiny_config(str(tmp_path / "bf16"), max_steps=2)
    cfg.parallel.mixed_precision = "bf16"  # CPU autocast works, it is only slow there
    dtypes = []

    def loss_fn(model, batch, **kw):
        dtypes.append(model(batch["input_ids"]).dtype)
        return tinylm.loss_fn(model, batch, **kw)

    model, loader, _ = tinylm.build(cfg)
    Trainer(model, loss_fn, loader, cfg).fit()
    assert dtypes and all(d == torch.bfloat16 for d in dtypes)
    assert all(p.dtype == torch.float32 for p in model.parameters())  # master weights stay fp32

    calls = []

    def bad_loss(model, batch, **kw):
        loss, m = tinylm.loss_fn(model, batch, **kw)
        calls.append(1)
        return (loss * float("inf") if len(calls) == 2 else loss), m

    cfg = tinylm.tiny_config(str(tmp_path / "inf"), max_steps=1)
    model, loader, _ = tinylm.build(cfg)
    trainer = Trainer(model, bad_loss, loader, cfg)
    batches = list(loader)[:2]
    trainer.train_step(batches[:1])
    before = [p.detach().clone() for p in model.parameters()]
    m = trainer.train_step(batches[1:])
    assert m["skipped"] == 1.0 and not torch.isfinite(torch.tensor(m["grad_norm"]))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_moe_aux_loss_weighs_like_the_mean_over_micro_batches(tmp_path):
    """The trainer scales the MoE aux-loss gradient by 1 / micro-batches accumulated (for every
    task: genet5 train and lm pretrain both train through it) and restores the previous scale."""
    from genet5.nn.moe import MoE, MoEAuxLossAutoScaler, set_aux_loss_scale

    torch.manual_seed(0)
    net = torch.nn.Sequential(MoE(8, 12, n_experts=4, top_k=2, aux_loss_coef=0.1, z_loss_coef=0.0))
    x = torch.randn(2, 6, 8)
    ref = copy.deepcopy(net)
    (ref(x) * 0).sum().backward()  # only the aux loss reaches the router: one batch, scale 1
    router = net[0].router.weight
    seen = []
    router.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.clone()))

    def loss_fn(model, batch, *, label_smoothing):
        return (model(batch["x"]) * 0).sum(), {}

    cfg = tinylm.tiny_config(str(tmp_path), max_steps=1, grad_accum=2, resume="never")
    trainer = Trainer(net, loss_fn, [{"x": x}], cfg)
    set_aux_loss_scale(0.3)  # whatever was set before the step comes back after it
    try:
        trainer.train_step([{"x": x}, {"x": x}])
        assert MoEAuxLossAutoScaler.main_loss_scale == 0.3
    finally:
        set_aux_loss_scale(1.0)
    assert len(seen) == 2
    # two micro-batches at 1/2 each: the gradient of one batch's aux loss, not twice it
    torch.testing.assert_close(seen[-1], ref[0].router.weight.grad)


def test_a_resume_that_cannot_continue_the_run_is_refused_and_a_new_batching_warned(tmp_path, capsys):
    """Checked against the checkpoint's config.json before anything is loaded: fewer max_steps
    than trained ("step 6 of 4", then "trained 6 steps"), another seed (a traceback from the
    loader), another bake: one RunConfigError each; a changed batching: one warning line."""
    from genet5.train.config import RunConfigError

    cfg = tinylm.tiny_config(str(tmp_path / "run"), max_steps=6)
    cfg.data.bake, cfg.data.bake_digest = "bake_a", "a" * 64
    tinylm.make_trainer(cfg).fit()
    ckpt = tmp_path / "run" / "step-00000006"
    cases = [
        (("train", "max_steps", 4), f"train.max_steps=4 is below the 6 steps {ckpt} has trained: give train.max_steps >= 6"),
        (("train", "seed", 7), f"train.seed changed since {ckpt} (0 -> 7): the resumed run would not see the same data order"),
        (("data", "bake_digest", "b" * 64), f"{ckpt} was trained on another bake (bake_a, index.json sha256 aaaaaaaaaaaa; now "
                                            "bake_a, bbbbbbbbbbbb): resuming would continue on other windows"),
    ]  # fmt: skip
    for (section, key, value), message in cases:
        other = copy.deepcopy(cfg)
        other.train.max_steps = 8
        setattr(getattr(other, section), key, value)
        with pytest.raises(RunConfigError) as err:
            tinylm.make_trainer(other).fit()
        assert str(err.value).startswith(message) and "resume=never" in str(err.value)
    capsys.readouterr()
    other = copy.deepcopy(cfg)
    other.train.max_steps, other.data.token_budget, other.data.drop_last = 8, 64, False
    assert tinylm.make_trainer(other).fit().step == 8
    assert capsys.readouterr().err.splitlines()[0] == (
        f"genet5: warning: data.token_budget 96 -> 64, data.drop_last true -> false since {ckpt}: training continues "
        "from step 6, but the data order differs from there on")
