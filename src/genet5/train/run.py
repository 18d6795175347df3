"""A training run as a task's builder assembles it: what the Trainer needs, and the final save.

Each task has one builder beside it (`genos_task.build_genos_run`, `genet5_task.build_genet5_run`)
that reads the task's run config, joins the process group, builds the device mesh, the model
(with its context / expert parallelism applied from outside), the training data, the loss and
the validation, and returns a `Run`. The commands only parse options, call the builder, fit and
print:

    run = build_genos_run(cfg, bake_dir)
    result = run.trainer().fit()
    run.save_model(out / "model")           # every rank (collective under expert parallelism)

Problems the user can fix are one-line `UserError`s (a RunConfigError for settings, the model
section included; a GenomeFormatError for the data).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from torch import nn

from genet5.train.config import RunConfig
from genet5.train.distributed import DistInfo
from genet5.train.mesh import Mesh
from genet5.train.trainer import LossFn, Trainer, ValFn


def to_stderr(message: str) -> None:
    """The builders' default `log`: a line on stderr (looked up at call time, so captured
    streams see it)."""
    print(message, file=sys.stderr)


@dataclass
class Run:
    config: RunConfig
    model: nn.Module  # what is saved at the end
    loss_fn: LossFn
    train_data: Iterable[dict[str, Any]]
    info: DistInfo
    mesh: Mesh
    trained: nn.Module | None = None  # the module the trainer wraps, if not `model` (a part of it)
    val_fn: ValFn | None = None
    batch_weight: Callable[[dict[str, Any]], float] | None = None
    batch_tokens: Callable[[dict[str, Any]], float] | None = None
    summary: list[str] = field(default_factory=list)  # what the run is, for the user (main rank prints)
    # the console line of each evaluation (main rank; Trainer's val_line), e.g. held-out bits per base
    val_line: Callable[[int, dict[str, float]], str | None] | None = None
    # fields of the model's config to record in the saved model, given the steps trained (Genos:
    # max_seq_len, the longest context it trained at, which its users take as their default window)
    config_at_save: Callable[[int], dict[str, Any]] | None = None

    def trainer(self) -> Trainer:
        return Trainer(
            self.model if self.trained is None else self.trained,
            self.loss_fn,
            self.train_data,
            self.config,
            val_fn=self.val_fn,
            batch_weight=self.batch_weight,
            batch_tokens=self.batch_tokens,
            info=self.info,
            val_line=self.val_line,
        )

    def save_model(self, path: str | Path, steps: int | None = None) -> None:
        """save_pretrained(model) on the main rank. Call it on every rank: expert-parallel
        layers are gathered back into whole MoE layers first (a collective; the model is then
        whole on every rank). DDP wraps the model by reference and FSDP2 shards it in place, so
        `model` holds the trained weights. `steps`: how many the model was trained (for
        `config_at_save`)."""
        from genet5.models.weights import save_pretrained
        from genet5.train.expert_parallel import disable_expert_parallel

        if self.config_at_save is not None and steps is not None:
            for key, value in self.config_at_save(steps).items():
                setattr(self.model.config, key, value)

        disable_expert_parallel(self.model)
        if _is_sharded(self.model):
            # FSDP2 parameters are shards (DTensors): made whole on every rank (a collective per
            # tensor, the same order everywhere), then saved from a plain model of the same config
            from torch.distributed.tensor import DTensor

            from genet5.models.configs import build_model

            state = {k: (v.full_tensor() if isinstance(v, DTensor) else v).detach().cpu()
                     for k, v in self.model.state_dict().items()}  # fmt: skip
            if self.info.is_main:
                plain = build_model(self.model.config)
                plain.load_state_dict(state)
                save_pretrained(plain, path)
            return
        if self.info.is_main:
            save_pretrained(self.model, path)


def _is_sharded(model: nn.Module) -> bool:
    from torch.distributed.tensor import DTensor

    return any(isinstance(p, DTensor) for p in model.parameters())


def warn_if_model_changed(cfg: RunConfig, log: Callable[[str], None] = to_stderr) -> None:
    """A resumed run with other data/model settings does not continue the same curve: say so."""
    out = Path(cfg.train.out_dir)
    if cfg.train.resume == "never" or not (out / "config.json").is_file():
        return
    try:
        before = json.loads((out / "config.json").read_text()).get("model", {})
    except (OSError, ValueError):
        return
    now = asdict(cfg.model)
    changed = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
    if changed:
        log(f"genet5: warning: {out} was started with other settings ({', '.join(changed)}); "
            "resuming continues from its checkpoint with the new ones")  # fmt: skip
