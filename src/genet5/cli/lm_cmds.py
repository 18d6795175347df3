"""`genet5 lm pretrain`: pretrain a Genos model on an LM bake with the shared training engine.

The command parses its options into the run config and prints; the run is assembled by
genet5.train.genos_task.build_genos_run. The commands that use a trained model (score, embed,
generate) are in genet5.cli.lm_use_cmds."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from genet5.cli.app import fail
from genet5.cli.data_cmds import command_group
from genet5.train.config import GenosModelConfig as Defaults

lm_app = command_group("lm", "Genos genomic language models.")


@lm_app.command("pretrain")
def pretrain(
    ctx: typer.Context,
    data: Path = typer.Argument(..., help="LM bake directory (genet5 lm bake ... OUT_DIR)."),
    out: Path = typer.Option(Path("runs/genos"), "--out", "-o", help="Run directory: checkpoints, logs, final model "
                             "(wins over --set train.out_dir and the config file's out_dir)."),
    preset: Optional[str] = typer.Option(None, "--preset", help=f"Genos preset (default {Defaults.preset}; genet5 info lists sizes)."),
    init: Optional[Path] = typer.Option(None, "--init", help="Start from a saved Genos model directory instead of a fresh --preset."),
    config: Optional[Path] = typer.Option(None, "--config", help="RunConfig YAML/JSON (train/optim/parallel/data/model sections)."),
    overrides: Optional[List[str]] = typer.Option(None, "--set", help="Dotted overrides, e.g. --set train.max_steps=500 --set data.token_budget=8192."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads for torch."),
    context_schedule: Optional[str] = typer.Option(
        None, "--context-schedule",
        help=f"Context by stage: CONTEXT:STEPS or CONTEXT:FRACTION, comma-separated, K/M suffixes (default {Defaults.context_schedule}).",
    ),
    rc_prob: Optional[float] = typer.Option(None, "--rc-prob", help=f"Reverse-complement augmentation probability per window (default {Defaults.rc_prob:g})."),
    max_n: Optional[float] = typer.Option(None, "--max-n", help=f"Redraw windows with a larger fraction of N (default {Defaults.max_n:g})."),
    val_context: Optional[int] = typer.Option(None, "--val-context", help="Validation window length (default: the first stage's context)."),
    val_windows: Optional[int] = typer.Option(None, "--val-windows", help=f"Validation windows per held-out species group (default {Defaults.val_windows})."),
    stop_at: Optional[int] = typer.Option(None, "--stop-at", help="End after this step with a checkpoint (the schedule still targets max_steps); rerun to continue."),
) -> None:
    """Pretrain a Genos model on an LM bake (next-base prediction, progressive context).

    Reports held-out bits per base per species; resumes from the run directory's last checkpoint
    if there is one."""
    from genet5.errors import UserError
    from genet5.train import GenosRunConfig, destroy_distributed
    from genet5.train.genos_task import build_genos_run

    from genet5.cli.train_cmds import given, run_config

    cfg = run_config(config, out, overrides, threads, GenosRunConfig, out_given=given(ctx, "out"))
    out = Path(cfg.train.out_dir)  # the final model goes beside the checkpoints
    flags = {"preset": preset, "init": str(init) if init else None, "context_schedule": context_schedule,
             "rc_prob": rc_prob, "max_n": max_n, "val_context": val_context, "val_windows": val_windows}  # fmt: skip
    for key, value in flags.items():  # flags win over the config file's model section
        if value is not None:
            setattr(cfg.model, key, value)
    if cfg.model.init is not None:
        if preset is not None:  # it would be ignored, and config.json would record it
            fail("--init and --preset exclude each other: a saved model keeps its own configuration")
        cfg.model.preset = None  # the saved model says what it is
    run, ok = None, False
    try:
        try:
            run = build_genos_run(cfg, data, log=lambda line: typer.echo(line, err=True))
        except UserError as err:
            fail(str(err))
        main = run.info.is_main
        if main:
            for line in run.summary:
                typer.echo(line, err=True)
        try:  # each evaluation's held-out line is printed by the trainer (run.val_line)
            result = run.trainer().fit(stop_at=stop_at)
        except UserError as err:  # a damaged checkpoint found on resume, say
            fail(str(err))
        t = cfg.train
        finished = result.step >= t.max_steps or result.stopped_early
        if finished:
            run.save_model(out / "model", steps=result.step)
        if main:
            if finished:
                typer.echo(f"trained {result.step} steps; final model in {out / 'model'}")
            else:
                typer.echo(f"stopped at step {result.step} of {t.max_steps}; checkpoint {result.checkpoint} "
                           "(run the same command again to continue)")  # fmt: skip
        ok = True
    finally:
        run = None  # its model and mesh hold process groups: let them go before the groups end
        destroy_distributed(wait=ok)


# `genet5 lm score / embed / generate` live in their own module on the same group
from genet5.cli import lm_use_cmds as _lm_use_cmds  # noqa: E402,F401
