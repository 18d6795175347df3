"""Model configurations: dataclasses, named presets, and JSON round-trip.

Every config dataclass carries a `model_type` string; `config_from_dict` dispatches on it, so a
config.json written by `save_pretrained` always reloads as the right class. Model modules add
their config classes and presets on import (`register_config`, `register_preset`); the
lookup functions import the built-in model modules first, so `get_preset("genos-1.2b")` works
without the caller importing anything.
"""

from __future__ import annotations

import dataclasses
import importlib
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from genet5.errors import UserError

# model_type -> (config class, model class or None until its module registers it)
_CONFIG_CLASSES: dict[str, type] = {}
_MODEL_CLASSES: dict[str, type] = {}
_PRESETS: dict[str, Any] = {}
_BUILTIN_MODEL_MODULES = ["genet5.models.genos", "genet5.models.genet5", "genet5.models.sites", "genet5.models.prok_starts"]


class ModelConfigError(UserError, ValueError):
    """A model config that cannot be built: unknown preset or model type, unknown or bad fields
    (a training run's own configuration has train.config.RunConfigError)."""


def register_config(cls: type) -> type:
    """Class decorator: make a config dataclass reachable by its `model_type` default."""
    model_type = cls.__dataclass_fields__["model_type"].default
    _CONFIG_CLASSES[model_type] = cls
    return cls


def register_model(model_type: str, model_cls: type) -> None:
    _MODEL_CLASSES[model_type] = model_cls


def register_preset(name: str, config: Any, *, overwrite: bool = False) -> None:
    if name in _PRESETS and not overwrite and _PRESETS[name] != config:
        raise ModelConfigError(f"preset {name!r} is already registered with a different config")
    _PRESETS[name] = config


def _load_builtin_models() -> None:
    for name in _BUILTIN_MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:  # a genuinely missing dependency, not an absent module
                raise


def get_preset(name: str) -> Any:
    """A fresh copy of a named preset (mutating it never changes the registry)."""
    _load_builtin_models()
    if name not in _PRESETS:
        raise ModelConfigError(f"unknown model preset {name!r}; known: {', '.join(list_presets())}")
    return config_from_dict(config_to_dict(_PRESETS[name]))


def list_presets() -> list[str]:
    _load_builtin_models()
    return sorted(_PRESETS)


def model_class_for(config: Any) -> type:
    _load_builtin_models()
    model_type = getattr(config, "model_type", None)
    if model_type not in _MODEL_CLASSES:
        raise ModelConfigError(f"no model class registered for model_type {model_type!r}")
    return _MODEL_CLASSES[model_type]


def build_model(config: Any):
    """Instantiate the model class registered for config.model_type (on the current default
    device: wrap in `with torch.device("meta"):` to build without allocating)."""
    return model_class_for(config)(config)


# -- JSON round-trip --------------------------------------------------------------------------
def config_to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def _convert(tp: Any, value: Any) -> Any:
    """Turn a JSON value back into the annotated type (nested dataclasses, tuples)."""
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:  # Optional[X] / X | None
        for arg in typing.get_args(tp):
            if arg is not type(None) and dataclasses.is_dataclass(arg) and isinstance(value, dict):
                return dataclass_from_dict(arg, value)
        return value
    if dataclasses.is_dataclass(tp) and isinstance(value, dict):
        return dataclass_from_dict(tp, value)
    if origin is tuple and isinstance(value, list):
        return tuple(value)
    if tp is float and isinstance(value, int):
        return float(value)
    return value


def dataclass_from_dict(cls: type, data: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ModelConfigError(f"{cls.__name__}: unknown field(s) {', '.join(unknown)}")
    hints = typing.get_type_hints(cls)
    return cls(**{k: _convert(hints.get(k, Any), v) for k, v in data.items()})


def config_from_dict(data: dict[str, Any]) -> Any:
    """Dispatch on data['model_type'] to the registered config class."""
    _load_builtin_models()
    model_type = data.get("model_type")
    if model_type not in _CONFIG_CLASSES:
        raise ModelConfigError(
            f"unknown model_type {model_type!r}; known: {', '.join(sorted(_CONFIG_CLASSES))}"
        )
    return dataclass_from_dict(_CONFIG_CLASSES[model_type], data)


# -- Genos ------------------------------------------------------------------------------------
@register_config
@dataclass
class GenosConfig:
    """Decoder-only MoE language model over DNA (Genos, Zhejiang Lab / BGI).

    Every FFN is a routed MoE (no dense or shared expert). head_dim defaults to
    dim // n_heads (Megatron's kv_channels default). norm_eps is not published; 1e-5 is the
    Megatron default. Set n_experts = 0 for a dense SwiGLU model with ffn_hidden.
    """

    model_type: str = "genos"
    vocab_size: int = 128
    dim: int = 1024
    n_layers: int = 12
    n_heads: int = 16
    n_kv_heads: int = 8
    head_dim: int | None = None
    n_experts: int = 8
    top_k: int = 2
    expert_hidden: int = 4096
    ffn_hidden: int = 4096  # only used when n_experts == 0
    rope_base: float = 50_000_000.0
    norm_eps: float = 1e-5
    init_std: float = 0.01
    aux_loss_coef: float = 1e-3
    z_loss_coef: float = 1e-3
    window: int | None = None  # sliding-window lookback; None = full causal attention
    max_seq_len: int = 8192  # training context (informational; RoPE has no hard limit)
    tie_embeddings: bool = False
    pad_token_id: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # free-form notes (e.g. provenance)

    def __post_init__(self) -> None:
        for name in ("n_heads", "n_kv_heads"):  # divisors below: 0 would be a ZeroDivisionError
            if getattr(self, name) < 1:
                raise ModelConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.n_heads % self.n_kv_heads:
            raise ModelConfigError(
                f"n_heads={self.n_heads} not a multiple of n_kv_heads={self.n_kv_heads}"
            )
        if self.head_dim is None and self.dim % self.n_heads:
            raise ModelConfigError(f"dim={self.dim} not divisible by n_heads={self.n_heads}")
        if self.n_experts and not 1 <= self.top_k <= self.n_experts:
            raise ModelConfigError(f"top_k={self.top_k} must be in [1, n_experts={self.n_experts}]")

    @property
    def resolved_head_dim(self) -> int:
        return self.head_dim or self.dim // self.n_heads


register_preset("genos-1.2b", GenosConfig())
register_preset(
    "genos-10b", GenosConfig(vocab_size=256, dim=4096, expert_hidden=8192, ffn_hidden=8192)
)
# tiny configs for tests and CPU benchmarks (same shape rules, vocab 128 as in genos-1.2b)
register_preset(
    "genos-tiny",
    GenosConfig(
        dim=64,
        n_layers=2,
        n_heads=4,
        n_kv_heads=2,
        n_experts=4,
        top_k=2,
        expert_hidden=128,
        ffn_hidden=128,
        max_seq_len=256,
    ),
)
register_preset(
    "genos-small",
    GenosConfig(
        dim=256,
        n_layers=4,
        n_heads=8,
        n_kv_heads=4,
        n_experts=8,
        top_k=2,
        expert_hidden=512,
        ffn_hidden=512,
        max_seq_len=1024,
    ),
)
