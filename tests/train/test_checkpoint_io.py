"""Checkpoint files: atomic layout, safe loading, RNG round trip, retention; logging and memwatch."""

from __future__ import annotations

import csv
import importlib.util
import random
import time

import numpy as np
import pytest
import torch
from torch import nn

from genet5.train.checkpoint import (
    latest_checkpoint,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from genet5.train.logging import MetricLogger
from genet5.train.memwatch import MemWatch


class _Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(7, 3)
        self.out = nn.Linear(3, 7, bias=False)
        self.out.weight = self.embed.weight


class _Evil:  # stands for any object a crafted checkpoint could smuggle in
    pass


def _opt_step(model):
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    model.embed(torch.tensor([1, 2])).sum().backward()
    opt.step()
    return opt


def test_save_load_roundtrip_tied_weights_and_weights_only(tmp_path):
    torch.manual_seed(0)
    model = _Tied()
    opt = _opt_step(model)
    path = save_checkpoint(tmp_path, 5, model, opt, None, {"step": 5, "note": "x"}, {"a": 1})
    assert path.name == "step-00000005" and latest_checkpoint(tmp_path) == path
    assert sorted(p.name for p in path.iterdir()) == [
        "config.json", "meta.json", "model.safetensors", "optim.pt", "rng-rank0.pt", "trainer.pt"]
    assert not list(tmp_path.glob(".tmp-*"))
    # every torch file loads under weights_only=True (no arbitrary unpickling)
    for name in ("optim.pt", "trainer.pt", "rng-rank0.pt"):
        torch.load(path / name, weights_only=True)

    torch.manual_seed(1)
    fresh = _Tied()
    opt2 = torch.optim.AdamW(fresh.parameters(), lr=0.1)
    state = load_checkpoint(path, fresh, opt2)
    assert state == {"step": 5, "note": "x"}
    torch.testing.assert_close(fresh.embed.weight, model.embed.weight, rtol=0, atol=0)
    assert fresh.out.weight is fresh.embed.weight  # still tied after loading
    s1, s2 = opt.state_dict()["state"][0], opt2.state_dict()["state"][0]
    torch.testing.assert_close(s1["exp_avg"], s2["exp_avg"], rtol=0, atol=0)


def test_rng_roundtrip_and_a_pickle_is_refused(tmp_path):
    random.seed(3), np.random.seed(3), torch.manual_seed(3)
    state = rng_state()
    torch.save(state, tmp_path / "rng.pt")
    a = (random.random(), np.random.rand(), torch.rand(2))
    set_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True))
    b = (random.random(), np.random.rand(), torch.rand(2))
    assert a[0] == b[0] and a[1] == b[1] and torch.equal(a[2], b[2])

    torch.save({"step": 1, "x": _Evil()}, tmp_path / "trainer.pt")
    with pytest.raises(Exception, match="[Ww]eights.only|Unsupported global"):
        torch.load(tmp_path / "trainer.pt", weights_only=True)


@pytest.mark.parametrize("name", ["model.safetensors", "optim.pt", "trainer.pt", "rng-rank0.pt"])
def test_a_damaged_or_missing_checkpoint_file_is_one_user_error_naming_it(tmp_path, name):
    """A file cut short (a full disk, a copy interrupted) or gone: a CheckpointError (a UserError,
    one line at the command line) naming the file and the way out, not a safetensors/torch error."""
    from genet5.errors import UserError
    from genet5.train.checkpoint import CheckpointError

    model = _Tied()
    opt = _opt_step(model)
    path = save_checkpoint(tmp_path, 1, model, opt, None, {"step": 1})
    (path / name).write_bytes((path / name).read_bytes()[:64])
    fresh = _Tied()
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, fresh, torch.optim.AdamW(fresh.parameters(), lr=0.1))
    msg = str(err.value)
    assert isinstance(err.value, UserError) and "\n" not in msg
    assert msg.startswith(f"{path / name}: damaged or incomplete checkpoint file (")
    assert f"remove {path} to resume from an earlier checkpoint, or --set train.resume=never" in msg
    (path / name).unlink()
    with pytest.raises(CheckpointError, match=f"{name}: missing from the checkpoint"):
        load_checkpoint(path, fresh, torch.optim.AdamW(fresh.parameters(), lr=0.1))


def test_weights_of_another_model_are_one_user_error(tmp_path):
    from genet5.train.checkpoint import CheckpointError

    path = save_checkpoint(tmp_path, 1, nn.Linear(2, 2), None, None, {"step": 1})
    with pytest.raises(CheckpointError, match="model.safetensors: the weights do not fit this run's model"):
        load_checkpoint(path, nn.Linear(3, 2))


def test_keep_last_and_latest_fallback(tmp_path):
    model = nn.Linear(2, 2)
    for step in (1, 2, 3, 4):
        save_checkpoint(tmp_path, step, model, None, None, {"step": step}, keep_last=2)
    assert sorted(p.name for p in tmp_path.glob("step-*")) == ["step-00000003", "step-00000004"]
    (tmp_path / "latest").unlink()
    (tmp_path / ".tmp-step-00000005").mkdir()  # a half-written checkpoint from a kill
    assert latest_checkpoint(tmp_path).name == "step-00000004"


def test_metric_logger_and_memwatch(tmp_path):
    log = MetricLogger(tmp_path, tensorboard=True, progress=False, total_steps=3)
    for s in (1, 2, 3):
        log.log("train", s, {"loss": 1.0 / s, "tokens_per_s": 10.0})
    log.close()
    with (tmp_path / "train.csv").open() as f:
        assert [float(r["loss"]) for r in csv.DictReader(f)] == [1.0, 0.5, 1.0 / 3]
    if importlib.util.find_spec("tensorboard") is not None:  # the optional [train] extra
        assert list((tmp_path / "tb").iterdir())  # event file written
    # resuming at step 2 drops the rows the killed run wrote after its checkpoint
    log = MetricLogger(tmp_path, tensorboard=False, progress=False, start_step=2)
    log.log("train", 3, {"loss": 0.25, "tokens_per_s": 1.0})
    log.close()
    with (tmp_path / "train.csv").open() as f:
        assert [float(r["loss"]) for r in csv.DictReader(f)] == [1.0, 0.5, 0.25]

    with MemWatch(tmp_path / "mem.csv", interval=0.01) as w:
        time.sleep(0.1)
    with (tmp_path / "mem.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == w.samples >= 2 and float(rows[0]["rss_mb"]) > 10


def test_tensorboard_keeps_one_curve_across_a_resume(tmp_path):
    """A run killed after step 5 whose last checkpoint is step 3, resumed: TensorBoard shows
    steps 1..6 once each, the checkpoint's own step 3 included (purged: 4 and 5 of the killed run)."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    log = MetricLogger(tmp_path, tensorboard=True, progress=False, total_steps=6)
    for s in range(1, 6):
        log.log("train", s, {"loss": float(s)})
    log.close()
    time.sleep(1.1)  # event files are read in name order, whose first key is the second they were opened
    log = MetricLogger(tmp_path, tensorboard=True, progress=False, total_steps=6, start_step=3)
    for s in range(4, 7):
        log.log("train", s, {"loss": 10.0 + s})
    log.close()
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    got = [(e.step, e.value) for e in events.Scalars("train/loss")]
    assert got == [(1, 1.0), (2, 2.0), (3, 3.0), (4, 14.0), (5, 15.0), (6, 16.0)]
