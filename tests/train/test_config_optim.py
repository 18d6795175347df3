"""Config loading/overrides and the optimizer's parameter groups and schedule."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from genet5.train.config import RunConfigError, RunConfig, from_dict, load_run_config
from genet5.train.optim import build_optimizer, build_scheduler, lr_factor, param_groups
from genet5.train.config import OptimConfig


def test_yaml_json_and_dotted_overrides(tmp_path):
    y = tmp_path / "run.yaml"
    y.write_text("train:\n  max_steps: 50\n  out_dir: runs/x\noptim:\n  lr: 1e-4\nmodel:\n  preset: genos-tiny\n")
    cfg = load_run_config(y, ["optim.lr=3e-4", "train.grad_accum=4", "parallel.mode=fsdp",
                          "optim.betas=[0.9, 0.99]", "optim.fused=null", "model.layers=2"])
    assert cfg.train.max_steps == 50 and cfg.train.grad_accum == 4
    assert cfg.optim.lr == 3e-4 and cfg.optim.betas == (0.9, 0.99) and cfg.optim.fused is None
    assert cfg.parallel.mode == "fsdp"
    assert cfg.model == {"preset": "genos-tiny", "layers": 2}
    # the JSON saved beside checkpoints loads back to the same config
    j = tmp_path / "config.json"
    cfg.save_json(j)
    assert load_run_config(j) == cfg
    assert json.loads(j.read_text())["optim"]["lr"] == 3e-4


def test_config_errors_are_clear(tmp_path):
    with pytest.raises(RunConfigError, match=r"config.optim: unknown key\(s\) \['lrr'\]"):
        load_run_config(None, ["optim.lrr=1"])
    with pytest.raises(RunConfigError, match="config.train.max_steps: expected an integer"):
        load_run_config(None, ["train.max_steps=ten"])
    with pytest.raises(RunConfigError, match="expected key=value"):
        load_run_config(None, ["optim.lr"])
    with pytest.raises(RunConfigError, match="expected true/false"):
        from_dict(RunConfig, {"parallel": {"compile": "yes"}})


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.proj = nn.Linear(4, 4)
        self.norm = nn.LayerNorm(4)
        self.head = nn.Linear(4, 10, bias=False)
        self.head.weight = self.embed.weight  # tied: must appear once


def test_param_groups_exclude_norms_biases_embeddings():
    net = _Net()
    decay, no_decay = param_groups(net, 0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert {id(p) for p in decay["params"]} == {id(net.proj.weight)}
    names = {id(p): n for n, p in net.named_parameters()}
    assert sorted(names[id(p)] for p in no_decay["params"]) == [
        "embed.weight", "norm.bias", "norm.weight", "proj.bias"]
    opt = build_optimizer(net, OptimConfig(lr=1e-3))
    assert opt.defaults["fused"] is False  # CPU: fused kernel only when all params are on CUDA


def test_cosine_schedule_with_warmup_and_floor():
    f = [lr_factor(s, warmup=10, max_steps=110, floor=0.1) for s in range(0, 130)]
    assert f[0] == pytest.approx(0.1) and f[9] == pytest.approx(1.0)  # linear warmup
    assert f[10] == pytest.approx(1.0)
    assert f[60] == pytest.approx(0.1 + 0.9 * 0.5)  # halfway through the cosine
    assert f[110] == pytest.approx(0.1) and f[129] == pytest.approx(0.1)  # held at the floor
    assert all(a >= b for a, b in zip(f[10:], f[11:]))
    opt = torch.optim.AdamW([nn.Parameter(torch.zeros(2))], lr=1e-4)
    sched = build_scheduler(opt, OptimConfig(lr=1e-4, min_lr=1e-5, warmup_frac=0.1), max_steps=100)
    lrs = []
    for _ in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[9] == pytest.approx(1e-4) and lrs[0] == pytest.approx(1e-5)
    assert lrs[-1] == pytest.approx(1e-5 + 0.9e-4 * 0.5 * (1 + math.cos(math.pi * 89 / 90)))
