"""Model-agnostic training engine: config, optimizer/schedule, trainer, checkpoints, parallelism."""

from genet5.train.config import (
    DataConfig,
    OptimConfig,
    ParallelConfig,
    RunConfig,
    RunConfigError,
    TrainConfig,
    apply_overrides,
    load_run_config,
)
from genet5.train.distributed import DistInfo, destroy_distributed, init_distributed, parallelize
from genet5.train.trainer import Trainer, TrainResult, evaluate_loss

__all__ = [
    "DataConfig",
    "DistInfo",
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
