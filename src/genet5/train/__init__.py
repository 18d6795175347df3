"""Model-agnostic training engine: config, optimizer/schedule, trainer, checkpoints, parallelism.

The config names load with the package (no torch: the command line reads its defaults at
start-up); the rest load on first use."""

from genet5.train.config import (
    DataConfig,
    GeneT5ModelConfig,
    GeneT5RunConfig,
    GenosModelConfig,
    GenosRunConfig,
    ModelSection,
    OptimConfig,
    ParallelConfig,
    RunConfig,
    RunConfigError,
    TrainConfig,
    apply_overrides,
    load_run_config,
)

_LAZY = {
    "DistInfo": "genet5.train.distributed",
    "destroy_distributed": "genet5.train.distributed",
    "init_distributed": "genet5.train.distributed",
    "parallelize": "genet5.train.distributed",
    "Trainer": "genet5.train.trainer",
    "TrainResult": "genet5.train.trainer",
    "evaluate_loss": "genet5.train.trainer",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'genet5.train' has no attribute {name!r}")


__all__ = [
    "DataConfig",
    "DistInfo",
    "GeneT5ModelConfig",
    "GeneT5RunConfig",
    "GenosModelConfig",
    "GenosRunConfig",
    "ModelSection",
    "OptimConfig",
    "ParallelConfig",
    "RunConfig",
    "RunConfigError",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "apply_overrides",
    "destroy_distributed",
    "evaluate_loss",
    "init_distributed",
    "load_run_config",
    "parallelize",
]
