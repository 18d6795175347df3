"""Dataclass configs for the training engine, loadable from YAML/JSON with dotted overrides.

A run is described by one `RunConfig` (train / optim / parallel / data / model sections). The
model section is typed per task: `GenosRunConfig` (genet5 lm pretrain) and `GeneT5RunConfig`
(genet5 train) carry their own `model` dataclass with its defaults, so an unknown key or a wrong
type in it is a one-line `RunConfigError` on load, like anywhere else. It is saved as JSON beside
every checkpoint so a checkpoint always says how it was made.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from genet5.errors import UserError


@dataclass
class OptimConfig:
    lr: float = 3e-4
    # floor of the cosine schedule; None: lr / 10 (Genos: 1e-4 -> 1e-5), so a lower lr alone
    # (fine-tuning) does not meet a fixed floor above it
    min_lr: float | None = None
    warmup_steps: int = 0  # if 0, warmup_frac * max_steps is used
    warmup_frac: float = 0.0
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)
    eps: float = 1e-8
    fused: bool | None = None  # None: fused AdamW when every parameter is on CUDA


@dataclass
class ParallelConfig:
    mode: str = "auto"  # auto | none | ddp | fsdp  (auto: ddp when world_size > 1)
    mixed_precision: str = "auto"  # auto | bf16 | fp32  (auto: bf16 on CUDA, fp32 on CPU)
    activation_checkpointing: bool = False
    compile: bool = False
    reshard_after_forward: bool = True  # FSDP2: free gathered params after forward (ZeRO-3)
    # the device mesh (train/mesh.py): data x context x expert = the number of processes
    context_parallel: int = 1  # ranks that split each sequence (genet5 lm pretrain; 1 = off)
    expert_parallel: int = 1  # ranks that split each MoE layer's experts (genet5 lm pretrain; 1 = off)


@dataclass
class DataConfig:
    token_budget: int = 16384  # padded tokens per micro-batch (max_len_in_batch * batch_size)
    max_batch_size: int = 64
    length_key: str = "input_ids"
    sort_window: int = 64  # batches' worth of samples sorted together (bucketing window)
    drop_last: bool = True
    num_workers: int = 0
    # the data trained on, recorded by the task (genet5 train: the bake directory and the sha256 of
    # its index.json), so that a resume on other data is refused rather than silently continued
    bake: str | None = None
    bake_digest: str | None = None


@dataclass
class TrainConfig:
    out_dir: str = "runs/default"
    max_steps: int = 1000
    grad_accum: int = 1
    clip_grad: float = 1.0  # <= 0: no clipping, the norm is still reported
    label_smoothing: float = 0.0  # passed to loss_fn(..., label_smoothing=)
    seed: int = 0
    eval_every: int = 0  # steps; 0 = only at the end (if a val_fn is given)
    early_stop_metric: str = "val_loss"
    early_stop_mode: str = "min"  # min | max
    patience: int = 0  # evaluations without improvement before stopping; 0 = off
    checkpoint_every: int = 0  # steps; 0 = only at the end
    keep_last: int = 2  # checkpoints kept on disk (0 = keep all)
    resume: str = "auto"  # auto (latest in out_dir if any) | never | <path to a checkpoint dir>
    log_every: int = 10
    tensorboard: bool = True
    progress: bool = True
    memwatch_interval: float = 0.0  # seconds between memory samples; 0 = off


@dataclass
class ModelSection:
    """What a run trains: a fresh model from a named preset, or the weights of a saved model
    directory (`init`, which then says what the model is). A task's section adds its own keys."""

    preset: str | None = None
    init: str | None = None


# genet5 lm pretrain: context by stage, CONTEXT:STEPS or CONTEXT:FRACTION of train.max_steps
DEFAULT_CONTEXT_SCHEDULE = "8K:0.7,32K:0.1,128K:0.1,1M:0.1"


@dataclass
class GenosModelConfig(ModelSection):
    """`model:` of genet5 lm pretrain (its flags of the same names win over these)."""

    preset: str | None = "genos-tiny"
    context_schedule: str = DEFAULT_CONTEXT_SCHEDULE
    rc_prob: float = 0.0  # reverse-complement a training window with this probability
    max_n: float = 0.5  # redraw windows with a larger fraction of N
    val_context: int | None = None  # validation window length; None: the first stage's context
    val_windows: int = 8  # validation windows per held-out species group


@dataclass
class GeneT5ModelConfig(ModelSection):
    """`model:` of genet5 train (its flags of the same names win over these)."""

    preset: str | None = "genet5-cpu"
    # per_base (encoder + per-base head) | full (encoder-decoder); None: what `init` is (a GeneT5
    # trains full, a per-base model per_base), per_base for a fresh preset
    objective: str | None = None
    # fields of the preset's GeneT5Config to change (a fresh model only), e.g. {pointer_rel_buckets: 32}
    # for the pointer's position term, which the presets leave off (configs/genet5-1.55b-seq2seq.yaml)
    config: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunConfig:
    train: TrainConfig = field(default_factory=TrainConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    parallel: ParallelConfig = field(default_factory=ParallelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelSection = field(default_factory=ModelSection)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def save_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    def validate(self) -> "RunConfig":
        """Refuse values that parse but cannot train (a negative learning rate, no steps, an empty
        micro-batch): one RunConfigError naming the key, before any work, rather than a traceback
        from AdamW or the loop, or a "trained 0 steps" run. Returns self."""
        t, o, d, p = self.train, self.optim, self.data, self.parallel
        rules = [
            ("train.max_steps", t.max_steps, t.max_steps >= 1, ">= 1"),
            ("train.grad_accum", t.grad_accum, t.grad_accum >= 1, ">= 1"),
            ("train.label_smoothing", t.label_smoothing, 0.0 <= t.label_smoothing < 1.0, "in [0, 1)"),
            ("train.early_stop_mode", t.early_stop_mode, t.early_stop_mode in ("min", "max"), "min or max"),
            ("optim.lr", o.lr, o.lr > 0, "> 0"),
            ("optim.min_lr", o.min_lr, o.min_lr is None or o.min_lr >= 0, ">= 0"),
            # a floor above the peak would make the cosine "decay" climb
            ("optim.min_lr", o.min_lr, o.min_lr is None or o.min_lr <= o.lr, f"<= optim.lr ({o.lr:g})"),
            ("optim.warmup_frac", o.warmup_frac, 0.0 <= o.warmup_frac <= 1.0, "in [0, 1]"),
            ("optim.weight_decay", o.weight_decay, o.weight_decay >= 0, ">= 0"),
            ("optim.betas", list(o.betas), all(0.0 <= b < 1.0 for b in o.betas), "two values in [0, 1)"),
            ("optim.eps", o.eps, o.eps >= 0, ">= 0"),
            ("data.token_budget", d.token_budget, d.token_budget >= 1, ">= 1"),
            ("data.max_batch_size", d.max_batch_size, d.max_batch_size >= 1, ">= 1"),
            ("data.sort_window", d.sort_window, d.sort_window >= 1, ">= 1"),
            ("parallel.mode", p.mode, p.mode in ("auto", "none", "ddp", "fsdp"), "auto, none, ddp or fsdp"),
            ("parallel.mixed_precision", p.mixed_precision,
             p.mixed_precision in ("auto", "bf16", "bfloat16", "fp32", "float32", "no"), "auto, bf16 or fp32"),
            ("parallel.context_parallel", p.context_parallel, p.context_parallel >= 1, ">= 1"),
            ("parallel.expert_parallel", p.expert_parallel, p.expert_parallel >= 1, ">= 1"),
        ]
        for key in ("eval_every", "checkpoint_every", "keep_last", "log_every", "patience", "memwatch_interval"):
            rules.append((f"train.{key}", getattr(t, key), getattr(t, key) >= 0, ">= 0 (0: off)"))
        rules += [("optim.warmup_steps", o.warmup_steps, o.warmup_steps >= 0, ">= 0"),
                  ("data.num_workers", d.num_workers, d.num_workers >= 0, ">= 0")]  # fmt: skip
        for key, value, ok, want in rules:
            if not ok or (isinstance(value, float) and not math.isfinite(value)):  # inf passes the tests above
                raise RunConfigError(f"{key} must be {want}, got {value}")
        return self


@dataclass
class GenosRunConfig(RunConfig):
    """The run config of genet5 lm pretrain (train/genos_task.py: build_genos_run)."""

    model: GenosModelConfig = field(default_factory=GenosModelConfig)


@dataclass
class GeneT5RunConfig(RunConfig):
    """The run config of genet5 train (train/genet5_task.py: build_genet5_run)."""

    model: GeneT5ModelConfig = field(default_factory=GeneT5ModelConfig)


class RunConfigError(UserError, ValueError):
    """A training run's config file or override that does not fit the dataclasses (one clear
    line; a model's config has models.configs.ModelConfigError)."""


def _coerce(tp: Any, value: Any, where: str) -> Any:
    """Convert a parsed YAML/JSON value to the annotated type, strictly enough to catch typos."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise RunConfigError(f"{where}: expected a mapping, got {value!r}")
        return from_dict(tp, value, where)
    if origin is typing.Union or origin is types.UnionType:
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(a, value, where)
            except RunConfigError as e:
                errors.append(str(e))
        raise RunConfigError(errors[0] if errors else f"{where}: bad value {value!r}")
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise RunConfigError(f"{where}: expected a list, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise RunConfigError(f"{where}: expected {len(args)} values, got {len(value)}")
            return tuple(_coerce(a, v, where) for a, v in zip(args, value))
        inner = args[0] if args else Any
        return origin(_coerce(inner, v, where) for v in value)
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise RunConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if tp is Any:
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise RunConfigError(f"{where}: expected true/false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise RunConfigError(f"{where}: expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "3e-4" as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise RunConfigError(f"{where}: expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise RunConfigError(f"{where}: expected a string, got {value!r}")
    return value


def from_dict(cls: type, data: dict[str, Any], where: str = "config") -> Any:
    """Build dataclass `cls` from a nested dict; unknown keys are errors (typos must not pass)."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise RunConfigError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(names)}")
    kwargs = {k: _coerce(hints[k], v, f"{where}.{k}") for k, v in data.items()}
    return cls(**kwargs)


def _set_dotted(d: dict[str, Any], dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node = d
    for k in keys[:-1]:
        nxt = node.get(k)
        if not isinstance(nxt, dict):
            nxt = {}
            node[k] = nxt
        node = nxt
    node[keys[-1]] = value


def apply_overrides(data: dict[str, Any], overrides: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Apply `a.b.c=value` overrides; values are parsed as YAML (numbers, bools, lists, null)."""
    for item in overrides:
        if "=" not in item:
            raise RunConfigError(f"override {item!r}: expected key=value, e.g. optim.lr=3e-4")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        _set_dotted(data, key.strip(), value)
    return data


def _merge(under: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` merged onto `under`, section by section (a key of `over` wins); `under` is left as
    it was (the overrides are applied to the result in place)."""
    out = copy.deepcopy(under)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load_run_config(
    path: str | Path | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    cls: type = RunConfig,
    defaults: dict[str, Any] | None = None,
) -> Any:
    """Load a YAML or JSON file (JSON is YAML) into `cls`, then apply dotted overrides.
    `defaults` (nested, e.g. {"train": {"out_dir": ...}}): a command's own defaults, below the
    file and the overrides but above the dataclasses'."""
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            loaded = yaml.safe_load(p.read_text())
        except (OSError, yaml.YAMLError) as e:
            raise RunConfigError(f"{p}: cannot read config: {e}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise RunConfigError(f"{p}: top level must be a mapping")
        data = loaded or {}
    if defaults:
        data = _merge(defaults, data)
    apply_overrides(data, list(overrides))
    return from_dict(cls, data).validate()
