"""`genet5 train`: train GeneT5 on baked windows with the shared training engine.

The command parses its options into the run config and prints; the run is assembled by
genet5.train.genet5_task.build_genet5_run. `run_config` is shared with `genet5 lm pretrain`."""

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


def run_config(config: Optional[Path], out: Path, overrides: Optional[List[str]], threads: Optional[int], cls: type,
               *, out_given: Optional[bool] = None):  # fmt: skip
    """The run config (`cls`: the task's RunConfig) of a training command (file, then --set
    overrides, with the run directory), and torch's CPU threads; a bad configuration is one line
    and exit 2. The run directory: with `out_given` (True or False), --out if given, else the
    --set train.out_dir, else the config file's, else `out` (the option's default); with None
    (genet5 lm pretrain, which saves its model under `out`), `out` under the --set overrides."""
    import torch

    from genet5.train import RunConfigError, load_run_config

    if threads is not None:
        if threads < 1:  # torch refuses negatives with a traceback and 0 would be ignored
            fail(f"--threads must be >= 1, got {threads}")
        torch.set_num_threads(threads)
    sets, defaults = list(overrides or []), None
    if out_given is None:
        sets = [f"train.out_dir={out}"] + sets
    elif not out_given:
        defaults = {"train": {"out_dir": str(out)}}
    try:
        cfg = load_run_config(config, sets, cls=cls, defaults=defaults)
    except RunConfigError as err:
        fail(str(err))
    if out_given:
        cfg.train.out_dir = str(out)  # as typed (not read as YAML)
    return cfg


@app.command()
def train(
    ctx: typer.Context,
    data: Path = typer.Argument(..., help="Bake directory (genet5 bake OUT_DIR)."),
    out: Path = typer.Option(Path("runs/genet5"), "--out", "-o", help="Run directory: checkpoints, logs, final model "
                             "(wins over --set train.out_dir and the config file's out_dir)."),
    preset: str = typer.Option(GeneT5ModelConfig.preset, "--preset", help="Model preset (genet5 info lists its size)."),
    objective: Optional[str] = typer.Option(None, "--objective", help="per_base (encoder + per-base head) or full (encoder-decoder); "
                                            "default: what the --init model is, per_base for a --preset."),
    config: Optional[Path] = typer.Option(None, "--config", help="RunConfig YAML/JSON (train/optim/parallel/data/model sections)."),
    overrides: Optional[List[str]] = typer.Option(None, "--set", help="Dotted overrides, e.g. --set optim.lr=1e-3 --set train.max_steps=500."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads for torch."),
    init: Optional[Path] = typer.Option(None, "--init", help="Start from the weights of a saved model (a model directory) instead of a fresh --preset."),
) -> None:
    """Train a GeneT5 model; resumes from the run directory's last checkpoint if there is one."""
    from genet5.errors import UserError
    from genet5.train import GeneT5RunConfig, destroy_distributed
    from genet5.train.genet5_task import build_genet5_run

    cfg = run_config(config, out, overrides, threads, GeneT5RunConfig, out_given=given(ctx, "out"))
    out = Path(cfg.train.out_dir)  # the final model goes beside the checkpoints
    m = cfg.model  # flags given win over the config file's model section
    if (init is not None or m.init is not None) and given(ctx, "preset"):  # it would be ignored
        fail("--init and --preset exclude each other: a saved model keeps its own configuration")
    m.preset = preset if given(ctx, "preset") else m.preset
    m.objective = objective if objective is not None else m.objective
    if init is not None or m.init is not None:
        m.init, m.preset = str(init or m.init), None  # the saved model says what it is
    run, ok = None, False
    try:
        try:
            run = build_genet5_run(cfg, data)
        except UserError as err:
            fail(str(err))
        try:
            result = run.trainer().fit()
        except UserError as err:  # a damaged checkpoint found on resume, say
            fail(str(err))
        final = out / "model"
        run.save_model(final)
        if run.info.is_main:
            typer.echo(f"trained {result.step} steps; final model in {final}")
        ok = True
    finally:
        run = None  # its model and mesh hold process groups: let them go before the groups end
        destroy_distributed(wait=ok)
