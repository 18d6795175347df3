"""`genet5 lm pretrain`: pretrain a Genos model on an LM bake with the shared training engine.

The commands that use a trained model (score, embed, generate) are in genet5.cli.lm_use_cmds."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any, List, Optional

import typer

from genet5.cli.app import fail
from genet5.cli.data_cmds import command_group
from genet5.train.config import DEFAULT_CONTEXT_SCHEDULE

lm_app = command_group("lm", "Genos genomic language models.")

DEFAULT_SCHEDULE = DEFAULT_CONTEXT_SCHEDULE


def _describe(schedule, max_steps: int) -> str:
    parts, start, last = [], 0, len(schedule.stages) - 1
    for i, (st, end) in enumerate(zip(schedule.stages, schedule.boundaries)):
        end = max_steps if i == last else min(end, max_steps)
        if end > start:
            parts.append(f"{st.context} x {end - start}")
        start = max(start, end)
    return ", ".join(parts) + " steps"


# One genos-tiny training step on 2 CPU cores (2026-12-03, AMD EPYC): 8K tokens 1 s, 32K 8.8 s,
# 128K 88 s; attention grows with the square of the context, so a 1M stage would take hours a step.
CPU_MAX_DEFAULT_CONTEXT = 32768


def _fit_schedule_to_corpus(schedule, corpus, explicit: bool, on_cpu: bool):
    """Windows longer than the longest training document only pack unrelated documents side by
    side (attention stays within each), at the memory cost of the full context: a 1M-token stage
    on a 400 kb corpus teaches nothing that 256K does not, and ran a 24 GB machine out of memory.
    The default schedule is capped at the largest power of two within the longest document, and
    on CPU at 32K (CPU_MAX_DEFAULT_CONTEXT); a schedule the user wrote is kept, with a warning."""
    longest = int(corpus.docs[:, 2].max())
    too_long = sorted({st.context for st in schedule.stages if st.context > longest})
    if explicit:
        if too_long:
            typer.echo(f"genet5: warning: context {', '.join(map(str, too_long))} exceeds the longest training document "
                       f"({longest:,} bases): those windows pack several documents", err=True)  # fmt: skip
        return schedule
    cap, why = 1 << max(1, longest.bit_length() - 1), f"the longest training document has {longest:,} bases"
    if on_cpu and CPU_MAX_DEFAULT_CONTEXT < cap:
        cap, why = CPU_MAX_DEFAULT_CONTEXT, "on CPU a 128K-token step takes minutes and 1M hours"
    if all(st.context <= cap for st in schedule.stages):
        return schedule
    typer.echo(f"context capped at {cap:,} tokens: {why} (--context-schedule sets it yourself)", err=True)
    return schedule.capped(cap)


# Measured peak memory of one fp32 training step of genos-tiny on CPU (2026-12-03): 0.68 GB at
# 16K tokens, 1.00 GB at 32K, 1.70 GB at 64K: about 21 KB per token, i.e. ~33 bytes per token per
# layer per unit of (dim + top_k * expert_hidden). Larger presets are scaled by that product.
_BYTES_PER_TOKEN_UNIT = 33.0
_BASE_BYTES = 0.35e9


def step_memory_bytes(mcfg, n_params: int, tokens: int, activation_checkpointing: bool = False) -> float:
    """Rough peak memory of one fp32 training step over `tokens` tokens: weights, gradients and
    two Adam moments (16 bytes a parameter) plus the activations kept for the backward pass
    (with activation checkpointing about one layer's worth)."""
    width = mcfg.dim + (mcfg.top_k * mcfg.expert_hidden if getattr(mcfg, "n_experts", 0) else mcfg.ffn_hidden)
    layers = 1 if activation_checkpointing else mcfg.n_layers
    return _BASE_BYTES + 16 * n_params + _BYTES_PER_TOKEN_UNIT * layers * width * tokens


def _available_memory_bytes() -> float | None:
    import torch

    if torch.cuda.is_available():
        return float(torch.cuda.mem_get_info()[1])
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _check_step_memory(model, schedule, cfg, cp: int) -> None:
    """Refuse, before the first step, a schedule whose largest step will not fit (a 1M-token
    stage on a 24 GB machine was killed for memory after 11 minutes)."""
    available = _available_memory_bytes()
    if available is None:
        return
    budget = cfg.data.token_budget
    tokens, ctx = max((max(st.context, budget // st.context * st.context) // cp, st.context) for st in schedule.stages)
    n_params = sum(p.numel() for p in model.parameters())
    need = step_memory_bytes(model.config, n_params, tokens, cfg.parallel.activation_checkpointing)
    if need > 0.8 * available:  # the estimate is rough, and the machine runs other things
        fail(f"the largest training step ({tokens:,} tokens per process at context {ctx:,}) needs about {need / 1e9:.1f} GB, "
             f"over 80% of the {available / 1e9:.1f} GB available: shorten the last stage of --context-schedule, "
             "lower data.token_budget, or --set parallel.activation_checkpointing=true")  # fmt: skip


@lm_app.command("pretrain")
def pretrain(
    data: Path = typer.Argument(..., help="LM bake directory (genet5 lm bake ... OUT_DIR)."),
    out: Path = typer.Option(Path("runs/genos"), "--out", "-o", help="Run directory: checkpoints, logs, final model."),
    preset: Optional[str] = typer.Option(None, "--preset", help="Genos preset (default genos-tiny; genet5 info lists sizes)."),
    init: Optional[Path] = typer.Option(None, "--init", help="Start from a saved Genos model directory instead of a fresh --preset."),
    config: Optional[Path] = typer.Option(None, "--config", help="RunConfig YAML/JSON (train/optim/parallel/data/model sections)."),
    overrides: Optional[List[str]] = typer.Option(None, "--set", help="Dotted overrides, e.g. --set train.max_steps=500 --set data.token_budget=8192."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads for torch."),
    context_schedule: Optional[str] = typer.Option(
        None, "--context-schedule",
        help=f"Context by stage: CONTEXT:STEPS or CONTEXT:FRACTION, comma-separated, K/M suffixes (default {DEFAULT_SCHEDULE}).",
    ),
    rc_prob: Optional[float] = typer.Option(None, "--rc-prob", help="Reverse-complement augmentation probability per window (default 0)."),
    max_n: Optional[float] = typer.Option(None, "--max-n", help="Redraw windows with a larger fraction of N (default 0.5)."),
    val_context: Optional[int] = typer.Option(None, "--val-context", help="Validation window length (default: the first stage's context)."),
    val_windows: Optional[int] = typer.Option(None, "--val-windows", help="Validation windows per held-out species group (default 8)."),
    stop_at: Optional[int] = typer.Option(None, "--stop-at", help="End after this step with a checkpoint (the schedule still targets max_steps); rerun to continue."),
) -> None:
    """Pretrain a Genos model on an LM bake (next-base prediction, progressive context).

    Reports held-out bits per base per species; resumes from the run directory's last checkpoint
    if there is one."""
    import math

    import torch

    from genet5.data.lm_data import ContextSchedule, LMCorpus, LMWindowSampler
    from genet5.models.configs import ModelConfigError
    from genet5.models.configs import get_preset
    from genet5.models.genos import Genos
    from genet5.models.weights import save_pretrained
    from genet5.train import GenosModelConfig, GenosRunConfig, Trainer, destroy_distributed, init_distributed
    from genet5.train.genos_task import (
        CPShardedBatches,
        HeldOutBitsPerBase,
        LMWindowBatches,
        batch_targets,
        lm_loss_fn,
    )

    from genet5.cli.train_cmds import run_config

    cfg = run_config(config, out, overrides, threads, GenosRunConfig)
    flags = {"preset": preset, "init": str(init) if init else None, "context_schedule": context_schedule,
             "rc_prob": rc_prob, "max_n": max_n, "val_context": val_context, "val_windows": val_windows}  # fmt: skip
    lm = {**dataclasses.asdict(cfg.model), **{k: v for k, v in flags.items() if v is not None}}
    if lm["init"] is not None and preset is None:
        lm["preset"] = None  # the saved model says what it is
    t = cfg.train
    try:
        schedule = ContextSchedule.parse(str(lm["context_schedule"]), total_steps=t.max_steps)
    except ValueError as err:
        fail(f"--context-schedule: {err}")
    val_from_schedule = lm["val_context"] is None
    val_ctx = lm["val_context"] = int(lm["val_context"] or schedule.stages[0].context)
    if not 0.0 <= float(lm["rc_prob"]) <= 1.0:
        fail(f"--rc-prob must be in [0, 1], got {lm['rc_prob']}")
    if int(lm["val_windows"]) < 0 or val_ctx < 2:
        fail("--val-windows must be >= 0 and --val-context >= 2")
    cp = cfg.parallel.context_parallel
    if cp < 1:
        fail(f"parallel.context_parallel must be >= 1, got {cp}")
    if cp > 1:  # each sequence is cut into 2 * cp equal chunks (zigzag)
        bad = sorted({st.context for st in schedule.stages if st.context % (2 * cp)})
        if bad:
            fail(f"parallel.context_parallel={cp} needs every context to be a multiple of {2 * cp}; "
                 f"--context-schedule has {', '.join(map(str, bad))}")  # fmt: skip
        if val_ctx % (2 * cp):
            fail(f"parallel.context_parallel={cp} needs --val-context to be a multiple of {2 * cp}, got {val_ctx}")
    try:
        train_corpus = LMCorpus(data, "train")
        valid_corpus = LMCorpus(data, "valid")
    except ValueError as err:  # GenomeFormatError too: not an LM bake
        fail(str(err))
    if train_corpus.total_bases == 0:
        fail(f"{data}: the train split holds no bases")
    schedule = _fit_schedule_to_corpus(schedule, train_corpus, explicit=lm["context_schedule"] != DEFAULT_SCHEDULE,
                                       on_cpu=not torch.cuda.is_available())  # fmt: skip
    if val_from_schedule:
        val_ctx = lm["val_context"] = schedule.stages[0].context

    # the run's config records everything that decides the data and the model
    cfg.model = GenosModelConfig(**lm)
    _warn_if_changed(out, lm, t.resume)
    info = init_distributed()
    try:
        cp_group, cp_rank, data_rank, data_world = _context_parallel_layout(cfg, info)
        torch.manual_seed(t.seed)  # same fresh weights on every rank
        if lm["init"] is not None:
            from genet5.models.weights import WeightLoadError, load_model

            try:
                model = load_model(lm["init"]).train()
            except (WeightLoadError, OSError) as err:
                fail(f"--init {lm['init']}: {err}")
            if not isinstance(model, Genos):
                fail(f"--init {lm['init']}: not a Genos model")
        else:
            try:
                mcfg = get_preset(lm["preset"])
            except ModelConfigError as err:
                fail(str(err))
            if getattr(mcfg, "model_type", None) != "genos":
                fail(f"--preset {lm['preset']}: not a Genos preset (model_type {mcfg.model_type!r})")
            model = Genos(mcfg)
        _check_step_memory(model, schedule, cfg, cp)
        sampler = LMWindowSampler(train_corpus, seed=t.seed, max_n=float(lm["max_n"]), rc_prob=float(lm["rc_prob"]))
        # under CP the ranks of one group share a data rank: the same windows, then each its part
        batches = LMWindowBatches(sampler, schedule, cfg.data.token_budget, cfg.data.max_batch_size,
                                  grad_accum=t.grad_accum, rank=data_rank, world_size=data_world)  # fmt: skip
        train_data = CPShardedBatches(batches, cp_rank, cp) if cp > 1 else batches
        loss_fn = lm_loss_fn
        if cp > 1:
            from genet5.train.context_parallel import cp_lm_loss_fn, enable_context_parallel

            enable_context_parallel(model, cp_group)  # before the Trainer wraps it (DDP/FSDP)
            loss_fn = cp_lm_loss_fn
        val_fn = None
        if len(valid_corpus) and int(lm["val_windows"]) > 0:
            val_bs = max(1, min(cfg.data.max_batch_size, cfg.data.token_budget // val_ctx))
            val_fn = HeldOutBitsPerBase(valid_corpus, val_ctx, int(lm["val_windows"]), batch_size=val_bs,
                                        seed=t.seed, max_n=float(lm["max_n"]), rank=data_rank,
                                        world_size=data_world, cp_rank=cp_rank, cp_world=cp)  # fmt: skip
        if info.is_main:
            n_params = sum(p.numel() for p in model.parameters())
            typer.echo(f"Genos {lm['preset'] or lm['init']}: {n_params:,} parameters; train {train_corpus.total_bases:,} bases "
                       f"in {len(train_corpus)} documents; context {_describe(schedule, t.max_steps)}", err=True)  # fmt: skip
            if val_fn is not None:
                typer.echo(f"validation: {len(val_fn.groups)} held-out group(s) ({'; '.join(val_fn.groups)}), "
                           f"{lm['val_windows']} x {val_ctx} bases each; order-0 baseline {val_fn.order0_bpb:.3f} bits/base", err=True)  # fmt: skip
            else:
                typer.echo("validation: none (the bake holds no held-out species)", err=True)
            if cp > 1:
                typer.echo(f"context parallel: {cp} ranks per sequence, {data_world} data-parallel groups", err=True)
        trainer = Trainer(model, loss_fn, train_data, cfg, val_fn=val_fn, batch_weight=batch_targets, info=info)
        result = trainer.fit(stop_at=stop_at)
        finished = result.step >= t.max_steps or result.stopped_early
        if info.is_main:
            last = result.val_history[-1] if result.val_history else {}
            if "val_bpb" in last and not math.isnan(last["val_bpb"]):
                groups = ", ".join(f"{k.split('/', 1)[1]} {v:.4f}" for k, v in last.items() if k.startswith("val_bpb/"))
                typer.echo(f"step {last['step']}: held-out {last['val_bpb']:.4f} bits/base ({groups}); "
                           f"order-0 {last['val_order0_bpb']:.4f}", err=True)  # fmt: skip
            if finished:
                final = out / "model"
                save_pretrained(model, final)  # DDP wraps by reference
                typer.echo(f"trained {result.step} steps; final model in {final}")
            else:
                typer.echo(f"stopped at step {result.step} of {t.max_steps}; checkpoint {result.checkpoint} "
                           "(run the same command again to continue)")  # fmt: skip
    finally:
        destroy_distributed()


def _context_parallel_layout(cfg, info) -> tuple[Any, int, int, int]:
    """(CP group of this rank, rank in it, data rank, data world) for parallel.context_parallel =
    C: groups of C consecutive ranks split each sequence; data rank = rank // C. C = 1: no group,
    the plain data-parallel ranks."""
    cp = cfg.parallel.context_parallel
    if cp == 1:
        return None, 0, info.rank, info.world_size
    if info.world_size % cp:
        fail(f"parallel.context_parallel={cp} must divide the number of processes ({info.world_size}); "
             f"launch with torchrun --nproc-per-node a multiple of {cp}")  # fmt: skip
    from genet5.train.distributed import resolve_mode

    try:
        mode = resolve_mode(cfg.parallel.mode, info.world_size)
    except ValueError as err:
        fail(str(err))
    if mode == "none":
        fail("parallel.context_parallel needs parallel.mode ddp, fsdp or auto (gradients are summed over ranks)")
    import torch.distributed as dist

    group = None
    for first in range(0, info.world_size, cp):  # new_group is collective: every rank, same order
        ranks = list(range(first, first + cp))
        g = dist.new_group(ranks)
        if info.rank in ranks:
            group = g
    return group, info.rank % cp, info.rank // cp, info.world_size // cp


def _warn_if_changed(out: Path, model_section: dict[str, Any], resume: str) -> None:
    """A resumed run with other data/model settings does not continue the same curve: say so."""
    if resume == "never":
        return
    path = out / "config.json"
    if not path.is_file():
        return
    try:
        before = json.loads(path.read_text()).get("model", {})
    except (OSError, ValueError):
        return
    changed = sorted(k for k in set(before) | set(model_section) if before.get(k) != model_section.get(k))
    if changed:
        print(f"genet5: warning: {out} was started with other settings ({', '.join(changed)}); "
              "resuming continues from its checkpoint with the new ones", file=sys.stderr)  # fmt: skip


# `genet5 lm score / embed / generate` live in their own module on the same group
from genet5.cli import lm_use_cmds as _lm_use_cmds  # noqa: E402,F401
