"""The training loop: one loop for any nn.Module, single process, DDP or FSDP2.

Protocol (all a model needs to be trained here):

    loss_fn(model, batch, *, label_smoothing: float) -> (loss, metrics)
        `batch` is a dict of tensors (moved to the device by the trainer) and other values;
        `loss` is a scalar tensor, the MEAN over the units of this micro-batch;
        `metrics` is a dict of floats/scalar tensors averaged for logging (same keys on all ranks).
    batch_weight(batch) -> float            (optional)
        how many units `loss` averages over (e.g. non-ignored target tokens). With it, the step's
        loss is the exact unit-weighted mean over all micro-batches and ranks, so W ranks x 1
        micro-batch equals 1 process x W accumulated micro-batches. Without it, micro-batches
        weigh equally.
    val_fn(model) -> dict[str, float]       (optional, called on every rank, under no_grad/eval)
    train_data: an iterable of batches, re-iterated each epoch. If it has
        state_dict()/load_state_dict() (genet5.data.batching.ResumableLoader) its position is
        checkpointed; otherwise the trainer skips the consumed batches on resume (exact if the
        iterable is deterministic and has set_epoch(epoch)).
"""

from __future__ import annotations

import itertools
import json
import math
import random
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import torch
from torch import nn

from genet5.nn.moe import aux_loss_scale
from genet5.train import checkpoint as ckpt
from genet5.train.config import RunConfig
from genet5.train.distributed import (
    DistInfo,
    all_reduce_sum,
    clip_grad_norm,
    current_dist,
    grad_sync,
    parallelize,
    resolve_mode,
    resolve_precision,
)
from genet5.train.logging import MetricLogger, Throughput
from genet5.train.memwatch import MemWatch
from genet5.train.optim import build_optimizer, build_scheduler

LossFn = Callable[..., "tuple[torch.Tensor, dict[str, Any]]"]
ValFn = Callable[[nn.Module], "dict[str, float]"]


@dataclass
class TrainResult:
    step: int
    losses: list[float] = field(default_factory=list)  # global loss of each step run in this call
    grad_norms: list[float] = field(default_factory=list)
    val_history: list[dict[str, float]] = field(default_factory=list)
    stopped_early: bool = False
    best_metric: float | None = None
    best_step: int | None = None
    checkpoint: Path | None = None
    resumed_from: Path | None = None


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def to_device(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


class Trainer:
    def __init__(
        self,
        model: nn.Module,
        loss_fn: LossFn,
        train_data: Iterable[dict[str, Any]],
        config: RunConfig,
        *,
        val_fn: ValFn | None = None,
        batch_weight: Callable[[dict[str, Any]], float] | None = None,
        batch_tokens: Callable[[dict[str, Any]], float] | None = None,
        info: DistInfo | None = None,
        already_parallel: bool = False,
        val_line: Callable[[int, dict[str, float]], str | None] | None = None,
    ) -> None:
        self.cfg = config
        self.val_line = val_line  # the console line of an evaluation (main rank), e.g. held-out bits per base
        self.info = info or current_dist()
        self.loss_fn = loss_fn
        self.val_fn = val_fn
        self.train_data = train_data
        self.batch_weight = batch_weight
        self.batch_tokens = batch_tokens or self._default_tokens
        p = config.parallel
        self.mode = resolve_mode(p.mode, self.info.world_size)
        self.dtype = resolve_precision(p.mixed_precision, self.info.device)
        if not already_parallel:
            model = parallelize(
                model,
                self.mode,
                info=self.info,
                mixed_precision=self.dtype,
                activation_checkpointing=p.activation_checkpointing,
                compile=p.compile,
                reshard_after_forward=p.reshard_after_forward,
            )
        self.model = model
        # Built after parallelize: FSDP2 replaces parameters by sharded DTensors.
        self.optimizer = build_optimizer(model, config.optim)
        self.scheduler = build_scheduler(self.optimizer, config.optim, config.train.max_steps)
        self.out_dir = Path(config.train.out_dir)
        self.step = 0
        self.epoch = 0
        self.consumed = 0  # batches of the current epoch handed to the loop
        self.best: float | None = None
        self.best_step: int | None = None
        self.bad_evals = 0

    # ------------------------------------------------------------------ pieces
    def _default_tokens(self, batch: dict[str, Any]) -> float:
        x = batch.get(self.cfg.data.length_key)
        return float(x.numel()) if torch.is_tensor(x) else 0.0

    def _autocast(self):
        # FSDP2 casts parameters itself (MixedPrecisionPolicy); DDP/single use autocast.
        if self.dtype == torch.float32 or self.mode == "fsdp":
            return nullcontext()
        return torch.autocast(self.info.device.type, dtype=self.dtype)

    def _batch_stream(self) -> Iterator[dict[str, Any]]:
        data = self.train_data
        stateful = hasattr(data, "state_dict") and hasattr(data, "load_state_dict")
        while True:
            if not stateful and hasattr(data, "set_epoch"):
                data.set_epoch(self.epoch)
            it = iter(data)
            if not stateful and self.consumed:
                it = itertools.islice(it, self.consumed, None)
            n = 0
            for batch in it:
                n += 1
                self.consumed += 1
                yield batch
            if n == 0 and self.consumed == 0:
                raise RuntimeError("training data yielded no batch in a whole epoch")
            self.epoch, self.consumed = self.epoch + 1, 0

    def _state(self) -> dict[str, Any]:
        data = self.train_data
        return {
            "step": self.step,
            "epoch": self.epoch,
            "consumed": self.consumed,
            "data": data.state_dict() if hasattr(data, "state_dict") else None,
            "best": self.best,
            "best_step": self.best_step,
            "bad_evals": self.bad_evals,
            "world_size": self.info.world_size,
        }

    def save(self) -> Path:
        return ckpt.save_checkpoint(
            self.out_dir,
            self.step,
            self.model,
            self.optimizer,
            self.scheduler,
            self._state(),
            self.cfg.to_dict(),
            keep_last=self.cfg.train.keep_last,
        )

    # data settings that decide which batches come in which order: changing one on resume is
    # allowed (a warning), like a changed rank count
    DATA_ORDER_KEYS = ("token_budget", "max_batch_size", "sort_window", "drop_last", "length_key")

    def check_resume(self, path: str | Path) -> None:
        """Before anything is loaded: refuse a resume that cannot continue the run of checkpoint
        `path` (train.max_steps below the steps it has trained, another seed, another bake) in one
        RunConfigError; warn in one line when the batching changed (the data order differs)."""
        from genet5.train.config import RunConfigError

        path = Path(path)
        try:
            before = json.loads((path / "config.json").read_text())
            step = int(json.loads((path / "meta.json").read_text())["step"])
            data_before, train_before = dict(before.get("data") or {}), dict(before.get("train") or {})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return  # load_checkpoint names the damaged file
        t, d = self.cfg.train, self.cfg.data
        over = "or --set train.resume=never to start over"
        if step > t.max_steps:
            raise RunConfigError(f"train.max_steps={t.max_steps} is below the {step} steps {path} has trained: "
                                 f"give train.max_steps >= {step} to continue it, {over}")  # fmt: skip
        seed = train_before.get("seed", t.seed)
        if seed != t.seed:
            raise RunConfigError(f"train.seed changed since {path} ({seed} -> {t.seed}): the resumed run would not "
                                 f"see the same data order; resume with train.seed={seed}, {over}")  # fmt: skip
        digest = data_before.get("bake_digest")
        if digest and d.bake_digest and digest != d.bake_digest:
            raise RunConfigError(f"{path} was trained on another bake ({data_before.get('bake')}, index.json sha256 "
                                 f"{digest[:12]}; now {d.bake}, {d.bake_digest[:12]}): resuming would continue on "
                                 f"other windows; give that bake, {over} (or --init its model into a new run)")  # fmt: skip
        shown = lambda v: json.dumps(v) if isinstance(v, bool) else str(v)  # noqa: E731  (as in YAML: true, not True)
        changed = [f"data.{k} {shown(data_before[k])} -> {shown(getattr(d, k))}" for k in self.DATA_ORDER_KEYS
                   if k in data_before and data_before[k] != getattr(d, k)]  # fmt: skip
        if changed and self.info.is_main:
            print(f"genet5: warning: {', '.join(changed)} since {path}: training continues from step {step}, "
                  "but the data order differs from there on", file=sys.stderr, flush=True)  # fmt: skip

    def resume(self, path: str | Path) -> None:
        state = ckpt.load_checkpoint(path, self.model, self.optimizer, self.scheduler)
        if state["world_size"] != self.info.world_size and self.info.is_main:
            # weights/optimizer are world-size free (full state dicts); the data position is not
            print(f"genet5: warning: resuming a {state['world_size']}-rank checkpoint on {self.info.world_size} "
                  "ranks: training continues, but not on exactly the same data order", file=sys.stderr, flush=True)  # fmt: skip
        self.step, self.epoch, self.consumed = state["step"], state["epoch"], state["consumed"]
        self.best, self.best_step, self.bad_evals = state["best"], state["best_step"], state["bad_evals"]
        if state["data"] is not None and hasattr(self.train_data, "load_state_dict"):
            self.train_data.load_state_dict(state["data"])

    def _find_resume(self) -> Path | None:
        r = self.cfg.train.resume
        if r == "never":
            return None
        if r == "auto":
            return ckpt.latest_checkpoint(self.out_dir)
        path = Path(r)
        if not (path / "meta.json").is_file():  # else the load fails on a file name that is not there
            from genet5.train.config import RunConfigError

            what = "no such directory" if not path.exists() else "not a finished checkpoint (no meta.json)"
            raise RunConfigError(f"train.resume={r}: {what}; give a step-NNNNNNNN directory of a run, auto or never")
        return path

    def _report(self, step: int, metrics: dict[str, float]) -> None:
        """Say what an evaluation found on the console (the CSV and TensorBoard have it too)."""
        line = self.val_line(step, metrics) if self.val_line is not None and self.info.is_main else None
        if line:
            print(line, file=sys.stderr, flush=True)

    # ------------------------------------------------------------------ one optimizer step
    def train_step(self, micro_batches: list[dict[str, Any]]) -> dict[str, float]:
        model, dev, world = self.model, self.info.device, self.info.world_size
        weights = [float(self.batch_weight(b)) if self.batch_weight else 1.0 for b in micro_batches]
        tokens = sum(self.batch_tokens(b) for b in micro_batches)
        total_w = all_reduce_sum([sum(weights)], dev)[0]
        if total_w <= 0:
            raise RuntimeError(f"step {self.step + 1}: batches carry no loss weight")
        model.train()
        loss_sum = torch.zeros((), dtype=torch.float64, device=dev)
        metric_sums: dict[str, float] = {}
        last = len(micro_batches) - 1
        # MoE load-balancing / z-losses ride on the expert outputs' backward (genet5.nn.moe):
        # weighted 1 / micro-batches (train.grad_accum in fit), like the mean of the main loss;
        # DDP's average over ranks does the rest. Restored after the step (process-wide).
        with aux_loss_scale(1.0 / len(micro_batches)):
            for i, (batch, w) in enumerate(zip(micro_batches, weights)):
                batch = to_device(batch, dev)
                with grad_sync(model, i == last), self._autocast():
                    loss, metrics = self.loss_fn(model, batch, label_smoothing=self.cfg.train.label_smoothing)
                    # DDP/FSDP average gradients over ranks, hence * world: the sum over all
                    # micro-batches and ranks is then the unit-weighted mean of the losses.
                    (loss.float() * (w * world / total_w)).backward()
                loss_sum += loss.detach().double() * w
                for k, v in (metrics or {}).items():
                    metric_sums[k] = metric_sums.get(k, 0.0) + float(v) * w
        keys = sorted(metric_sums)
        reduced = all_reduce_sum([loss_sum.item(), tokens, *[metric_sums[k] for k in keys]], dev)
        out = {"loss": reduced[0] / total_w, "tokens": reduced[1]}
        out.update({k: reduced[2 + j] / total_w for j, k in enumerate(keys)})

        params = [p for p in model.parameters() if p.grad is not None]
        clip = self.cfg.train.clip_grad
        norm = clip_grad_norm(model, params, clip if clip > 0 else math.inf)  # global, on every rank
        out["grad_norm"] = float(norm)
        out["lr"] = self.optimizer.param_groups[0]["lr"]
        if math.isfinite(out["grad_norm"]):
            self.optimizer.step()
        else:  # same decision on all ranks: the norm is global
            out["skipped"] = 1.0
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return out

    # ------------------------------------------------------------------ validation
    def validate(self) -> dict[str, float]:
        if self.val_fn is None:
            return {}
        self.model.eval()
        with torch.no_grad(), self._autocast():
            metrics = {k: float(v) for k, v in self.val_fn(self.model).items()}
        self.model.train()
        t = self.cfg.train
        if t.early_stop_metric in metrics:
            value = metrics[t.early_stop_metric]
            better = (
                self.best is None
                or (t.early_stop_mode == "min" and value < self.best)
                or (t.early_stop_mode == "max" and value > self.best)
            )
            if better:
                self.best, self.best_step, self.bad_evals = value, self.step, 0
            else:
                self.bad_evals += 1
        return metrics

    # ------------------------------------------------------------------ the loop
    def fit(self, stop_at: int | None = None) -> TrainResult:
        """Train to `train.max_steps` (resuming if a checkpoint is found, see `train.resume`).

        `stop_at` ends the call after that step with a checkpoint, as a preemption would; the
        schedule still runs to max_steps, so a later fit() continues the same curve.
        """
        t = self.cfg.train
        result = TrainResult(step=self.step)
        resume_from = self._find_resume()
        if resume_from is not None:
            self.check_resume(resume_from)
            self.resume(resume_from)
            result.resumed_from = resume_from
            if self.info.is_main:
                print(f"resuming from {resume_from} (step {self.step} of {t.max_steps})", file=sys.stderr, flush=True)
        else:
            seed_everything(t.seed + self.info.rank)  # ranks draw different dropout masks
        main = self.info.is_main
        log = MetricLogger(
            self.out_dir,
            enabled=main,
            tensorboard=t.tensorboard,
            progress=t.progress,
            total_steps=t.max_steps,
            start_step=self.step,
        )
        watch = None
        if t.memwatch_interval > 0 and main:
            watch = MemWatch(self.out_dir / "memory.csv", t.memwatch_interval).start()
        if main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self.cfg.save_json(self.out_dir / "config.json")
        stream = self._batch_stream()
        speed = Throughput()
        saved_at = validated_at = -1
        start_step = self.step
        # a run resumed after it early-stopped stays stopped
        result.stopped_early = bool(t.patience) and self.bad_evals >= t.patience
        try:
            while (
                self.step < t.max_steps
                and (stop_at is None or self.step < stop_at)
                and not result.stopped_early
            ):
                micro = [next(stream) for _ in range(t.grad_accum)]
                t0 = time.perf_counter()
                m = self.train_step(micro)
                self.step += 1
                speed.add(m["tokens"])
                result.losses.append(m["loss"])
                result.grad_norms.append(m["grad_norm"])
                if t.log_every and (self.step % t.log_every == 0 or self.step == 1):
                    m.update(epoch=self.epoch, step_time_s=time.perf_counter() - t0)
                    m["tokens_per_s"] = speed.rate()
                    log.log("train", self.step, m)
                else:
                    log.advance(self.step)
                if t.eval_every and self.step % t.eval_every == 0 and self.val_fn is not None:
                    v = self.validate()
                    validated_at = self.step
                    result.val_history.append({"step": self.step, **v})
                    log.log("val", self.step, v)
                    self._report(self.step, v)
                    # agree across ranks (a rank-local metric must not leave one rank behind)
                    if t.patience and all_reduce_sum(
                        [float(self.bad_evals >= t.patience)], self.info.device
                    )[0] > 0:
                        result.stopped_early = True
                        break
                if t.checkpoint_every and self.step % t.checkpoint_every == 0:
                    result.checkpoint = self.save()
                    saved_at = self.step
            finished = self.step >= t.max_steps or result.stopped_early
            ran = self.step != start_step or resume_from is None  # else: nothing left to do
            if ran and finished and self.val_fn is not None and validated_at != self.step:
                v = self.validate()
                result.val_history.append({"step": self.step, **v})
                log.log("val", self.step, v)
                self._report(self.step, v)
            if ran and saved_at != self.step:
                result.checkpoint = self.save()
        finally:
            log.close()
            if watch is not None:
                watch.stop()
        result.step = self.step
        result.best_metric, result.best_step = self.best, self.best_step
        return result


def evaluate_loss(
    model: nn.Module,
    loss_fn: LossFn,
    batches: Iterable[dict[str, Any]],
    *,
    device: torch.device,
    batch_weight: Callable[[dict[str, Any]], float] | None = None,
    name: str = "val_loss",
) -> dict[str, float]:
    """Unit-weighted mean loss over `batches` (each rank its own shard), reduced over ranks.

    Validation uses no label smoothing, so the number is comparable across runs.
    """
    total = weight = 0.0
    for b in batches:
        loss, _ = loss_fn(model, to_device(b, device), label_smoothing=0.0)
        w = float(batch_weight(b)) if batch_weight else 1.0
        total += float(loss) * w
        weight += w
    total, weight = all_reduce_sum([total, weight], device)
    return {name: total / max(weight, 1e-12)}
