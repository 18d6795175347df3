"""Config loading/overrides and the optimizer's parameter groups and schedule."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from genet5.train.config import (
    DEFAULT_CONTEXT_SCHEDULE,
    GeneT5ModelConfig,
    GeneT5RunConfig,
    GenosModelConfig,
    GenosRunConfig,
    ModelSection,
    RunConfig,
    RunConfigError,
    from_dict,
    load_run_config,
)
from genet5.train.optim import build_optimizer, build_scheduler, lr_factor, param_groups
from genet5.train.config import OptimConfig


def test_yaml_json_and_dotted_overrides(tmp_path):
    y = tmp_path / "run.yaml"
    y.write_text("train:\n  max_steps: 50\n  out_dir: runs/x\noptim:\n  lr: 1e-4\nmodel:\n  preset: genos-small\n")
    cfg = load_run_config(y, ["optim.lr=3e-4", "train.grad_accum=4", "parallel.mode=fsdp",
                          "optim.betas=[0.9, 0.99]", "optim.fused=null", "model.val_windows=2"], cls=GenosRunConfig)
    assert cfg.train.max_steps == 50 and cfg.train.grad_accum == 4
    assert cfg.optim.lr == 3e-4 and cfg.optim.betas == (0.9, 0.99) and cfg.optim.fused is None
    assert cfg.parallel.mode == "fsdp"
    assert cfg.model == GenosModelConfig(preset="genos-small", val_windows=2)
    # the JSON saved beside checkpoints loads back to the same config
    j = tmp_path / "config.json"
    cfg.save_json(j)
    assert load_run_config(j, cls=GenosRunConfig) == cfg
    assert json.loads(j.read_text())["optim"]["lr"] == 3e-4


def test_model_sections_are_typed_with_defaults_here():
    genos, genet5 = GenosRunConfig().model, GeneT5RunConfig().model
    assert (genos.preset, genos.init, genos.context_schedule) == ("genos-tiny", None, DEFAULT_CONTEXT_SCHEDULE)
    assert (genos.rc_prob, genos.max_n, genos.val_context, genos.val_windows) == (0.0, 0.5, None, 8)
    # objective None: the run takes it from --init's model (a fresh preset: per_base)
    assert (genet5.preset, genet5.init, genet5.objective) == ("genet5-cpu", None, None)
    assert RunConfig().model == ModelSection()  # a task without its own section: preset / init
    with pytest.raises(RunConfigError, match=r"^config.model: unknown key\(s\) \['colour'\]; known: \['context_schedule'"):
        load_run_config(None, ["model.colour=red"], cls=GenosRunConfig)
    with pytest.raises(RunConfigError, match=r"config.model: unknown key\(s\) \['objective'\]"):
        load_run_config(None, ["model.objective=full"], cls=GenosRunConfig)  # genet5 train's key
    with pytest.raises(RunConfigError, match=r"config.model: unknown key\(s\) \['val_windows'\]"):
        load_run_config(None, ["model.val_windows=2"], cls=GeneT5RunConfig)
    with pytest.raises(RunConfigError, match="config.model.val_windows: expected an integer, got 'many'"):
        load_run_config(None, ["model.val_windows=many"], cls=GenosRunConfig)
    with pytest.raises(RunConfigError, match="config.model.preset: expected a string, got 3"):
        load_run_config(None, ["model.preset=3"], cls=GeneT5RunConfig)
    with pytest.raises(RunConfigError, match="config.model: expected a mapping, got 'genos-tiny'"):
        load_run_config(None, ["model=genos-tiny"], cls=GenosRunConfig)
    assert load_run_config(None, ["model.val_context=null"], cls=GenosRunConfig).model.val_context is None


def test_run_configs_written_before_load(tmp_path):
    """The config of the bundled genos-tiny-prok run (written before the model section was
    typed, without parallel.context_parallel / expert_parallel) and the model sections genet5
    train wrote (preset or init, and the objective) still load."""
    logged = Path(__file__).resolve().parents[2] / "docs" / "training_logs" / "genos_tiny_prok_20261130_config.json"
    cfg = load_run_config(logged, cls=GenosRunConfig)
    assert cfg.model == GenosModelConfig(context_schedule="1K:0.9,4K:0.1", val_context=1024, val_windows=16)
    assert (cfg.parallel.context_parallel, cfg.parallel.expert_parallel, cfg.train.max_steps) == (1, 1, 2500)
    for section, want in [({"preset": "genet5-tiny", "objective": "full"}, GeneT5ModelConfig("genet5-tiny", None, "full")),
                          ({"init": "runs/a/model", "objective": "per_base"},
                           GeneT5ModelConfig(init="runs/a/model", objective="per_base"))]:
        path = tmp_path / "config.json"
        path.write_text(json.dumps({"train": {"max_steps": 3}, "model": section}))
        assert load_run_config(path, cls=GeneT5RunConfig).model == want


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


def test_a_lower_lr_alone_lowers_the_floor_too():
    """min_lr unset is lr / 10: `--set optim.lr=1e-5` alone (fine-tuning) trains, its floor
    1e-6, instead of meeting the refusal of a fixed 3e-5 floor above it."""
    cfg = load_run_config(None, ["optim.lr=1e-5", "train.max_steps=10"])
    assert cfg.optim.min_lr is None
    opt = torch.optim.AdamW([nn.Parameter(torch.zeros(2))], lr=1e-5)
    sched = build_scheduler(opt, cfg.optim, max_steps=10)
    for _ in range(10):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(1e-6)


@pytest.mark.parametrize(
    "override, message",
    [
        ("optim.lr=-1e-3", "optim.lr must be > 0, got -0.001"),
        ("optim.lr=.nan", "optim.lr must be > 0, got nan"),
        ("data.token_budget=0", "data.token_budget must be >= 1, got 0"),
        ("train.grad_accum=0", "train.grad_accum must be >= 1, got 0"),
        ("train.max_steps=0", "train.max_steps must be >= 1, got 0"),
        ("train.max_steps=-3", "train.max_steps must be >= 1, got -3"),
        ("train.keep_last=-1", "train.keep_last must be >= 0 (0: off), got -1"),
        ("train.early_stop_mode=up", "train.early_stop_mode must be min or max, got up"),
        ("optim.betas=[0.9, 1.5]", "optim.betas must be two values in [0, 1), got [0.9, 1.5]"),
        # a floor above the peak: the cosine "decay" climbed to it (min_lr=1: the LR rose to 0.9)
        ("optim.min_lr=1", "optim.min_lr must be <= optim.lr (0.0003), got 1.0"),
        ("parallel.mode=fdsp", "parallel.mode must be auto, none, ddp or fsdp, got fdsp"),
    ],
)
def test_values_that_cannot_train_are_refused_on_load(override, message):
    """They parse, but AdamW or the loop would fail with a traceback, or train nothing."""
    with pytest.raises(RunConfigError) as err:
        load_run_config(None, [override], cls=GenosRunConfig)
    assert str(err.value) == message
    assert load_run_config(None, ["train.max_steps=1", "optim.lr=1e-4"]).train.max_steps == 1  # the edges pass


def test_command_defaults_sit_below_the_file_and_the_overrides(tmp_path):
    """genet5 train's own default run directory (runs/genet5) yields to a config file's
    train.out_dir, which yields to --set train.out_dir."""
    f = tmp_path / "run.yaml"
    f.write_text("train: {out_dir: runs/from_file, max_steps: 3}\n")
    below = {"train": {"out_dir": "runs/genet5"}}
    assert load_run_config(None, [], defaults=below).train.out_dir == "runs/genet5"
    cfg = load_run_config(f, [], defaults=below)
    assert (cfg.train.out_dir, cfg.train.max_steps) == ("runs/from_file", 3)
    assert load_run_config(f, ["train.out_dir=runs/set"], defaults=below).train.out_dir == "runs/set"
    assert load_run_config(None, ["train.out_dir=runs/set"], defaults=below).train.out_dir == "runs/set"
    assert below == {"train": {"out_dir": "runs/genet5"}}  # the command's defaults are not changed
