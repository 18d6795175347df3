"""GeneT5 on the training engine: batches from baked windows, the loss, validation.

`objective` chooses what is trained:
- "full": token + pointer + per-base losses (the whole encoder-decoder);
- "per_base": the encoder and its per-base head only (models/genet5.GeneT5PerBase; no
  decoder), which is what `genet5 predict` uses, and trains several times faster on a CPU.

`build_genet5_run(cfg, bake_dir)` assembles a run of `genet5 train` from its run config.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genet5.genome.models import GenomeFormatError
from genet5.tokenizers.annotation import IGNORE, Tok, plus_strand_target, shift_right
from genet5.train.config import GeneT5ModelConfig, GeneT5RunConfig, RunConfigError
from genet5.train.distributed import DistInfo, init_distributed
from genet5.train.mesh import ParallelDims
from genet5.train.run import Run, to_stderr

PAD_ID = 0  # nucleotide tokenizer [PAD]


def collate_windows(samples: list[dict[str, Any]], target_strands: str = "both") -> dict[str, Any]:
    """Pad a list of WindowDataset items into tensors (padding: [PAD] ids, IGNORE labels).
    ``target_strands`` "plus" (GeneT5Config.target_strands): each target keeps only its window's
    plus-strand genes (bakes hold both strands' genes; the reverse complement's window, also in
    the bake, carries the minus ones as plus genes)."""
    B = len(samples)
    L = max(len(s["input_ids"]) for s in samples)
    T = max(len(s["target_types"]) for s in samples)  # decoder inputs: BOS + targets[:-1]
    ids = np.full((B, L), PAD_ID, np.int64)
    labels = np.full((B, L), IGNORE, np.int64)
    pad = np.ones((B, L), bool)
    dec_types = np.full((B, T), int(Tok.PAD), np.int64)
    dec_ptrs = np.full((B, T), IGNORE, np.int64)
    tgt_types = np.full((B, T), int(Tok.PAD), np.int64)
    tgt_ptrs = np.full((B, T), IGNORE, np.int64)
    for i, s in enumerate(samples):
        n = len(s["input_ids"])
        ids[i, :n] = s["input_ids"]
        labels[i, :n] = s["base_labels"]
        pad[i, :n] = False
        t_types, t_ptrs = list(s["target_types"]), list(s["target_pointers"])
        if target_strands == "plus":
            t_types, t_ptrs = plus_strand_target(t_types, t_ptrs, n)
        d_types, d_ptrs = shift_right(t_types, t_ptrs)
        dec_types[i, : len(d_types)] = d_types
        dec_ptrs[i, : len(d_ptrs)] = d_ptrs
        tgt_types[i, : len(t_types)] = t_types
        tgt_ptrs[i, : len(t_ptrs)] = t_ptrs
    return {
        "input_ids": torch.from_numpy(ids),
        "padding_mask": torch.from_numpy(pad),
        "base_labels": torch.from_numpy(labels),
        "dec_types": torch.from_numpy(dec_types),
        "dec_pointers": torch.from_numpy(dec_ptrs),
        "target_types": torch.from_numpy(tgt_types),
        "target_pointers": torch.from_numpy(tgt_ptrs),
        "n_bases": int((~pad).sum()),
    }


def per_base_loss(model, batch: dict[str, Any], *, label_smoothing: float = 0.0):
    """Cross-entropy of the per-base head; `model` is a GeneT5PerBase (possibly DDP-wrapped)."""
    logits = model(batch["input_ids"], batch["padding_mask"]).float()
    labels = batch["base_labels"]
    loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE, label_smoothing=label_smoothing)
    with torch.no_grad():
        valid = labels != IGNORE
        acc = (logits.argmax(-1) == labels)[valid].float().mean()
        coding = valid & (labels >= 1) & (labels <= 3)
        cds_acc = (logits.argmax(-1) == labels)[coding].float().mean() if coding.any() else acc.new_zeros(())
    return loss, {"base_acc": float(acc), "cds_frame_acc": float(cds_acc)}


def full_loss(model, batch: dict[str, Any], *, label_smoothing: float = 0.0):
    """Token + pointer + per-base losses (weights from the model config)."""
    out = model(
        batch["input_ids"],
        batch["dec_types"],
        enc_padding_mask_BS=batch["padding_mask"],
        dec_input_pointers_BT=batch["dec_pointers"],
        target_types_BT=batch["target_types"],
        target_pointers_BT=batch["target_pointers"],
        base_labels_BL=batch["base_labels"],
    )
    return out.loss, {
        "token_loss": float(out.token_loss.detach()),
        "pointer_loss": float(out.pointer_loss.detach()),
        "aux_loss": float(out.aux_loss.detach()),
    }


LOSSES = {"per_base": per_base_loss, "full": full_loss}
# What each objective trains, as the module the training engine wraps (DDP/FSDP sync gradients
# through its forward, and its parameters must be only what gets gradients): per_base the
# encoder and head (GeneT5PerBase, or a GeneT5's encoder and head, shared, not copied).
TRAINED_MODULE = {"per_base": lambda model: model.per_base(), "full": lambda model: model}


def batch_bases(batch: dict[str, Any]) -> float:
    return float(batch["n_bases"])


# -- the run: what genet5 train trains ----------------------------------------------------------
def genet5_model(m: GeneT5ModelConfig) -> nn.Module:
    """A fresh model of preset `m.preset` (GeneT5 for the full objective, its per-base part for
    per_base), or the saved model `m.init`, in train mode. A full GeneT5 given as `init` to
    per_base keeps its decoder, untouched, in the saved model."""
    from genet5.models.configs import ModelConfigError, get_preset
    from genet5.models.genet5 import GeneT5, GeneT5Config, GeneT5PerBase

    full = m.objective == "full"
    if m.init is not None and m.config:
        raise RunConfigError("model.config changes a fresh --preset; a saved model (--init) keeps its own config")
    if m.init is not None:
        from genet5.models.weights import WeightLoadError, load_model

        try:
            model = load_model(m.init).train()
        except (WeightLoadError, OSError) as err:
            said = str(err).startswith(f"{m.init}: ")  # a WeightLoadError names the path itself
            raise RunConfigError(f"--init {err}" if said else f"--init {m.init}: {err}") from None
        if not isinstance(model, GeneT5 if full else GeneT5PerBase):
            raise RunConfigError(f"--init {m.init}: not a {'GeneT5 encoder-decoder' if full else 'GeneT5'} model")
        return model
    if m.preset is None:
        raise RunConfigError("model: give a preset or init")
    try:
        mcfg = get_preset(m.preset)
    except ModelConfigError as err:
        raise RunConfigError(f"--preset: {err}") from None
    if not isinstance(mcfg, GeneT5Config):
        raise RunConfigError(f"--preset {m.preset}: not a GeneT5 preset (model_type {mcfg.model_type!r})")
    mcfg = preset_with(mcfg, m.config)
    return GeneT5(mcfg) if full else GeneT5PerBase(mcfg.per_base_config())


def preset_with(mcfg: Any, changes: dict[str, Any]) -> Any:
    """`mcfg` with the fields `changes` names set, each of the field's own type (a RunConfigError
    names an unknown field or a wrong value)."""
    import dataclasses
    import typing

    from genet5.train.config import _coerce

    hints = typing.get_type_hints(type(mcfg))
    unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(mcfg)} | ({"model_type"} & set(changes)))
    if unknown:
        raise RunConfigError(f"model.config: unknown key(s) {unknown} of a {type(mcfg).__name__}")
    values = {k: _coerce(hints[k], v, f"model.config.{k}") for k, v in changes.items()}
    try:
        return dataclasses.replace(mcfg, **values)
    except (TypeError, ValueError) as err:  # the config's own checks (__post_init__)
        raise RunConfigError(f"model.config: {err}") from None


def default_objective(m: GeneT5ModelConfig, run_dir: str | Path | None = None) -> str:
    """The objective when none is given: the one the run in `run_dir` records, if it is resumed
    (a resume goes on as it started); else what the --init model is (a GeneT5 encoder-decoder
    trains full, else its decoder would never train; a per-base model per_base), per_base for a
    preset."""
    import json

    if run_dir is not None:
        try:
            recorded = json.loads((Path(run_dir) / "config.json").read_text())["model"]["objective"]
        except (OSError, ValueError, KeyError, TypeError):
            recorded = None
        if recorded in LOSSES:
            return recorded
    if m.init is None:
        return "per_base"
    from genet5.models.genet5_config import MODEL_TYPE
    from genet5.models.weights import WeightLoadError, load_model_config, resolve_model_path

    try:
        config = load_model_config(resolve_model_path(m.init))
    except (WeightLoadError, OSError):  # genet5_model says what is wrong with it
        return "per_base"
    return "full" if getattr(config, "model_type", None) == MODEL_TYPE else "per_base"


def bake_digest(data: str | Path) -> str | None:
    """sha256 of the bake's index.json (it lists every shard's sha256 and the split): what the
    run config records, so that a resume on another bake is refused."""
    import hashlib

    try:
        return hashlib.sha256((Path(data) / "index.json").read_bytes()).hexdigest()
    except OSError:  # WindowDataset names the problem
        return None


def val_loss_line(step: int, metrics: dict[str, float]) -> str | None:
    """The console line of an evaluation of `genet5 train` (val.csv has it too)."""
    return f"step {step}: val_loss {metrics['val_loss']:.4f}" if "val_loss" in metrics else None


def build_genet5_run(
    cfg: GeneT5RunConfig, data: str | Path, *, info: DistInfo | None = None, log: Callable[[str], None] = to_stderr
) -> Run:
    """Everything `genet5 train` trains on the bake `data` (windows of its train split; a fixed
    sample of its valid split, if any, for validation). Joins the process group unless `info`
    is given; settings that do not fit are a RunConfigError (one line). The run config records
    the objective it resolves to and the bake (path and index.json digest)."""
    import torch.distributed as dist

    from genet5.data.batching import build_loader
    from genet5.data.shards import WindowDataset
    from genet5.train.distributed import resolve_mode
    from genet5.train.trainer import evaluate_loss

    m, t = cfg.model, cfg.train
    cfg.validate()  # a config built in Python, not by load_run_config
    if m.objective is None:
        m.objective = default_objective(m, t.out_dir if t.resume == "auto" else None)
    if m.objective not in LOSSES:
        raise RunConfigError(f"--objective must be one of {', '.join(LOSSES)}, not {m.objective!r}")
    if cfg.parallel.context_parallel != 1:
        raise RunConfigError("parallel.context_parallel is for Genos (genet5 lm pretrain); GeneT5 training splits batches, not sequences")
    if cfg.parallel.expert_parallel != 1:
        raise RunConfigError("parallel.expert_parallel is for Genos (genet5 lm pretrain); genet5 train does not split experts")
    if cfg.data.length_key not in WindowDataset.LENGTH_KEYS:
        raise RunConfigError(f"data.length_key must be one of {', '.join(WindowDataset.LENGTH_KEYS)}, got {cfg.data.length_key!r}")
    info = info or init_distributed()
    mode = resolve_mode(cfg.parallel.mode, info.world_size)
    if mode in ("ddp", "fsdp") and not dist.is_initialized():  # before the model is built (the trainer says it too)
        raise RunConfigError(f"parallel.mode={mode} needs several processes: launch with torchrun --nproc-per-node N "
                             "(or use parallel.mode=auto for one process)")  # fmt: skip
    mesh = ParallelDims.from_config(cfg.parallel, info.world_size).build(info.rank)
    torch.manual_seed(t.seed)
    model = genet5_model(m)
    train_ds = WindowDataset(data, split="train")
    valid_ds = WindowDataset(data, split="valid")
    if len(train_ds) == 0:
        raise GenomeFormatError(str(data), None, "no training windows")
    cfg.data.bake, cfg.data.bake_digest = str(data), bake_digest(data)
    if t.patience and info.is_main:  # early stopping needs evaluations to count
        if not len(valid_ds):
            log(f"genet5: warning: train.patience={t.patience} is ignored: {data} holds no validation windows "
                "(bake with --holdout or --splits)")  # fmt: skip
        elif not t.eval_every:
            log(f"genet5: warning: train.patience={t.patience} is ignored without train.eval_every "
                "(the only evaluation is at the end)")  # fmt: skip
    collate = functools.partial(collate_windows, target_strands=getattr(model.config, "target_strands", "both"))
    loader = build_loader(train_ds, collate, cfg.data, seed=cfg.train.seed, rank=mesh.batch_rank,
                          world_size=mesh.batch_world)  # fmt: skip
    loss_fn = LOSSES[m.objective]
    val_fn = None  # no held-out species: train without validation
    if len(valid_ds):
        # a fixed, small validation sample keeps evaluation cheap on a CPU
        step = max(1, len(valid_ds) // 64)
        val_items = [valid_ds[i] for i in range(0, len(valid_ds), step)][:64]
        val_batches = [collate(val_items[i : i + 4]) for i in range(0, len(val_items), 4)]

        def val_fn(model):
            return evaluate_loss(model, loss_fn, val_batches, device=next(model.parameters()).device, batch_weight=batch_bases)

    return Run(cfg, model, loss_fn, loader, info, mesh, trained=TRAINED_MODULE[m.objective](model), val_fn=val_fn,
               batch_weight=batch_bases, batch_tokens=batch_bases, val_line=val_loss_line)  # fmt: skip
