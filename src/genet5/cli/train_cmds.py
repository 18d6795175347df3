"""`genet5 train`: train GeneT5 on baked windows with the shared training engine."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from genet5.cli.app import app, fail
from genet5.train.config import GeneT5ModelConfig


def given(ctx: typer.Context, name: str) -> bool:
    """Whether option `name` was given (not its default), so that a config file's value counts."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


def run_config(config: Optional[Path], out: Path, overrides: Optional[List[str]], threads: Optional[int], cls: type):
    """The run config (`cls`: the task's RunConfig) of a training command (file, then --set
    overrides, with the run directory), and torch's CPU threads; a bad configuration is one line
    and exit 2."""
    import torch

    from genet5.train import RunConfigError, load_run_config

    if threads:
        torch.set_num_threads(threads)
    try:
        return load_run_config(config, [f"train.out_dir={out}"] + list(overrides or []), cls=cls)
    except RunConfigError as err:
        fail(str(err))


@app.command()
def train(
    ctx: typer.Context,
    data: Path = typer.Argument(..., help="Bake directory (genet5 bake OUT_DIR)."),
    out: Path = typer.Option(Path("runs/genet5"), "--out", "-o", help="Run directory: checkpoints, logs, final model."),
    preset: str = typer.Option(GeneT5ModelConfig.preset, "--preset", help="Model preset (genet5 info lists its size)."),
    objective: str = typer.Option(GeneT5ModelConfig.objective, "--objective", help="per_base (encoder + per-base head) or full (encoder-decoder)."),
    config: Optional[Path] = typer.Option(None, "--config", help="RunConfig YAML/JSON (train/optim/parallel/data/model sections)."),
    overrides: Optional[List[str]] = typer.Option(None, "--set", help="Dotted overrides, e.g. --set optim.lr=1e-3 --set train.max_steps=500."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads for torch."),
    init: Optional[Path] = typer.Option(None, "--init", help="Start from the weights of a saved model (a model directory) instead of a fresh --preset."),
) -> None:
    """Train a GeneT5 model; resumes from the run directory's last checkpoint if there is one."""
    import torch

    from genet5.data.batching import build_loader
    from genet5.data.shards import WindowDataset
    from genet5.models.configs import ModelConfigError
    from genet5.models.configs import get_preset
    from genet5.models.genet5 import GeneT5, GeneT5Config, GeneT5PerBase
    from genet5.models.weights import save_pretrained
    from genet5.train import GeneT5RunConfig, Trainer, evaluate_loss, init_distributed
    from genet5.train.genet5_task import LOSSES, TRAINED_MODULE, batch_bases, collate_windows

    cfg = run_config(config, out, overrides, threads, GeneT5RunConfig)
    m = cfg.model  # flags given win over the config file's model section
    m.preset = preset if given(ctx, "preset") else m.preset
    m.objective = objective if given(ctx, "objective") else m.objective
    if init is not None or m.init is not None:
        m.init, m.preset = str(init or m.init), None  # the saved model says what it is
    init, preset, objective = (Path(m.init) if m.init else None), m.preset, m.objective
    if objective not in LOSSES:
        fail(f"--objective must be one of {', '.join(LOSSES)}, not {objective!r}")
    if cfg.parallel.context_parallel != 1:
        fail("parallel.context_parallel is for Genos (genet5 lm pretrain); GeneT5 training splits batches, not sequences")
    info = init_distributed()
    torch.manual_seed(cfg.train.seed)
    # per_base trains (and saves) the encoder and head alone; a full GeneT5 given as --init keeps
    # its decoder in the saved model, untouched
    if init is not None:
        from genet5.models.weights import WeightLoadError, load_model

        try:
            model = load_model(init).train()
        except (WeightLoadError, OSError) as err:
            fail(f"--init {init}: {err}")
        wanted = GeneT5 if objective == "full" else GeneT5PerBase
        if not isinstance(model, wanted):
            fail(f"--init {init}: not a {'GeneT5 encoder-decoder' if objective == 'full' else 'GeneT5'} model")
    else:
        try:
            mcfg = get_preset(preset)
        except ModelConfigError as err:
            fail(f"--preset: {err}")
        if not isinstance(mcfg, GeneT5Config):
            fail(f"--preset {preset}: not a GeneT5 preset (model_type {mcfg.model_type!r})")
        model = GeneT5(mcfg) if objective == "full" else GeneT5PerBase(mcfg.per_base_config())
    train_ds = WindowDataset(data, split="train")
    valid_ds = WindowDataset(data, split="valid")
    if len(train_ds) == 0:
        fail(f"{data}: no training windows")
    loader = build_loader(train_ds, collate_windows, cfg.data, seed=cfg.train.seed, rank=info.rank, world_size=info.world_size)
    loss_fn = LOSSES[objective]
    val_fn = None  # no held-out species: train without validation
    if len(valid_ds):
        # a fixed, small validation sample keeps evaluation cheap on a CPU
        step = max(1, len(valid_ds) // 64)
        val_items = [valid_ds[i] for i in range(0, len(valid_ds), step)][:64]
        val_batches = [collate_windows(val_items[i : i + 4]) for i in range(0, len(val_items), 4)]

        def validate(m):
            return evaluate_loss(m, loss_fn, val_batches, device=next(m.parameters()).device, batch_weight=batch_bases)

        val_fn = validate

    trainer = Trainer(TRAINED_MODULE[objective](model), loss_fn, loader, cfg, val_fn=val_fn, batch_weight=batch_bases, batch_tokens=batch_bases, info=info)
    result = trainer.fit()
    if info.rank == 0:
        final = out / "model"
        save_pretrained(model, final)  # DDP wraps by reference and FSDP2 shards in place
        typer.echo(f"trained {result.step} steps; final model in {final}")
