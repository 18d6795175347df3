"""Model-agnostic training engine: config, optimizer/schedule, trainer, checkpoints, parallelism."""

from genet5.train.config import (
    ConfigError,
    DataConfig,
    OptimConfig,
    ParallelConfig,
    RunConfig,
    TrainConfig,
    apply_overrides,
    load_config,
)
from genet5.train.distributed import DistInfo, destroy_distributed, init_distributed, parallelize
from genet5.train.trainer import Trainer, TrainResult, evaluate_loss

__all__ = [
    "ConfigError",
    "DataConfig",
    "DistInfo",
    "OptimConfig",
    "ParallelConfig",
    "RunConfig",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "apply_overrides",
    "destroy_distributed",
    "evaluate_loss",
    "init_distributed",
    "load_config",
    "parallelize",
]
