"""Genos pretraining on the training engine: window batches, the loss, held-out bits per base.

- `LMWindowBatches` is the trainer's `train_data`: an endless stream of micro-batches of windows
  drawn by the stateless `LMWindowSampler` at the context the `ContextSchedule` gives for the
  step. Micro-batch m is accumulation index `m % grad_accum` of step `m // grad_accum`; rank r's
  samples of it are slots `(a * world + r) * B ...`, so W ranks x A micro-batches draw exactly
  the windows one process accumulating W*A micro-batches draws. Its state (micro-batches handed
  out) goes into every checkpoint, so a resumed run continues with the same windows, stage and
  context.
- `lm_loss_fn` is next-token cross-entropy over the real bases (A/C/G/T) of each window; a
  target in another document of a packed window, an N or a special id is ignored. The MoE
  load-balancing and z-losses need nothing here: the MoE layers attach them to their outputs
  (see genet5.nn.moe); the trainer weighs them like the main loss (1 / grad_accum).
- `HeldOutBitsPerBase` is the `val_fn`: a fixed sample of windows per held-out species group of
  the LM bake, scored in bits per base (nats / ln 2) per group and overall.
- Context parallelism (`parallel.context_parallel` = C > 1): the ranks of one CP group share a
  data rank (rank // C), so they draw the same windows; `CPShardedBatches` gives each its zigzag
  part (`genet5.train.context_parallel.cp_shard_batch`) and `cp_lm_loss_fn` is the loss. The
  validation batches are sharded the same way.
- Expert parallelism (`parallel.expert_parallel` = E > 1): the E ranks of an expert group draw
  their own windows (batch rank = rank // C) and exchange the tokens routed to each other's
  experts (`genet5.train.expert_parallel`); nothing here changes.
- `build_genos_run(cfg, bake_dir)` assembles all of it for `genet5 lm pretrain`: the schedule
  fitted to the corpus, the device mesh (train/mesh.py), the model (a preset or `init`) with its
  parallelism applied from outside, a memory check of the largest step, data and validation.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genet5.data.lm_data import ContextSchedule, LMCorpus, LMWindowSampler
from genet5.errors import UserError
from genet5.genome.models import GenomeFormatError
from genet5.tokenizers.nucleotide import A_ID, C_ID
from genet5.train.config import DEFAULT_CONTEXT_SCHEDULE, GenosModelConfig, GenosRunConfig, RunConfigError
from genet5.train.context_parallel import cp_lm_loss_fn, cp_shard_batch, enable_context_parallel
from genet5.train.distributed import DistInfo, init_distributed
from genet5.train.expert_parallel import enable_expert_parallel, moe_metrics
from genet5.train.mesh import ParallelDims, check_degrees
from genet5.train.run import Run, to_stderr, warn_if_model_changed

IGNORE = -100
LN2 = math.log(2.0)


# -- batches ----------------------------------------------------------------------------------
def collate_lm(samples: list[dict[str, np.ndarray]]) -> dict[str, Any]:
    """Stack sampler windows; labels are the next base, IGNORE across a document boundary, at the
    window's last position, and where the next token is not A/C/G/T."""
    ids = np.stack([s["input_ids"] for s in samples]).astype(np.int64)
    doc = np.stack([s["doc_ids"] for s in samples]).astype(np.int64)
    labels = np.full_like(ids, IGNORE)
    nxt = ids[:, 1:]
    ok = (doc[:, 1:] == doc[:, :-1]) & (nxt >= C_ID) & (nxt <= A_ID)
    labels[:, :-1] = np.where(ok, nxt, IGNORE)
    return {
        "input_ids": torch.from_numpy(ids),
        "doc_ids": torch.from_numpy(doc),
        "labels": torch.from_numpy(labels),
        "packed": bool(doc.any()),  # single-document windows take the plain causal path
        "n_targets": int(ok.sum()),
    }


class LMWindowBatches:
    """Endless micro-batches of windows at the scheduled context (see the module docstring).

    Per rank and micro-batch: B = min(max_batch_size, max(1, tokens_per_batch // context))
    windows, so the tokens per step stay about constant as the context grows.
    """

    def __init__(
        self,
        sampler: LMWindowSampler,
        schedule: ContextSchedule,
        tokens_per_batch: int,
        max_batch_size: int,
        *,
        grad_accum: int = 1,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if grad_accum < 1 or tokens_per_batch < 1 or max_batch_size < 1:
            raise ValueError("grad_accum, tokens_per_batch and max_batch_size must be positive")
        self.sampler, self.schedule = sampler, schedule
        self.tokens_per_batch, self.max_batch_size = tokens_per_batch, max_batch_size
        self.grad_accum, self.rank, self.world_size = grad_accum, rank, world_size
        self.micro = 0  # micro-batches handed out so far (the resumable position)

    def batch_size_at(self, step: int) -> int:
        return min(self.max_batch_size, self.schedule.batch_size_at(step, self.tokens_per_batch))

    def micro_batch(self, m: int) -> dict[str, Any]:
        step, a = divmod(m, self.grad_accum)
        context = self.schedule.context_at(step)
        B = self.batch_size_at(step)
        slot0 = (a * self.world_size + self.rank) * B
        batch = collate_lm([self.sampler.sample(step, slot0 + b, context) for b in range(B)])
        batch["stage"] = self.schedule.stage_at(step)
        return batch

    def __iter__(self):
        while True:
            batch = self.micro_batch(self.micro)
            self.micro += 1  # before the yield: state_dict() counts what was handed out
            yield batch

    def state_dict(self) -> dict[str, int]:
        return {"micro": self.micro, "grad_accum": self.grad_accum}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        micro, accum = int(state["micro"]), int(state.get("grad_accum", self.grad_accum))
        # checkpoints fall on step boundaries: keep the step if grad_accum was changed
        self.micro = micro if accum == self.grad_accum else (micro // accum) * self.grad_accum


class CPShardedBatches:
    """Context parallelism: this rank's zigzag part (`cp_shard_batch`) of every batch of `inner`
    (the same full batches on every rank of the CP group). The position is the inner loader's,
    so checkpoints and exact resume work as without CP."""

    def __init__(self, inner: LMWindowBatches, cp_rank: int, cp_world: int) -> None:
        self.inner, self.cp_rank, self.cp_world = inner, cp_rank, cp_world

    def __iter__(self):
        for batch in self.inner:
            yield cp_shard_batch(batch, self.cp_rank, self.cp_world)

    def state_dict(self) -> dict[str, int]:
        return self.inner.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.inner.load_state_dict(state)


# -- loss -------------------------------------------------------------------------------------
def lm_loss_fn(model: nn.Module, batch: dict[str, Any], *, label_smoothing: float = 0.0):
    """Mean next-base cross-entropy (fp32 softmax) over the batch's targets, plus metrics."""
    doc = batch["doc_ids"] if batch.get("packed", True) else None
    logits = model(batch["input_ids"], doc_ids_BT=doc)
    loss = F.cross_entropy(
        logits.flatten(0, 1).float(), batch["labels"].flatten(), ignore_index=IGNORE, label_smoothing=label_smoothing
    )
    metrics: dict[str, Any] = {"bits_per_base": float(loss.detach()) / LN2, "context": float(batch["input_ids"].shape[1])}
    metrics.update(moe_metrics(model))  # whole or expert-parallel MoE layers
    return loss, metrics


def batch_targets(batch: dict[str, Any]) -> float:
    return float(batch["n_targets"])


# -- validation -------------------------------------------------------------------------------
class _DocSubset:
    """The documents `idx` of a corpus, with the attributes LMWindowSampler draws from."""

    def __init__(self, corpus: LMCorpus, idx: list[int]) -> None:
        self.corpus, self.idx = corpus, np.asarray(idx, np.int64)
        self.docs = corpus.docs[self.idx]
        self.cum = np.concatenate([[0], np.cumsum(self.docs[:, 2])]).astype(np.int64)

    @property
    def total_bases(self) -> int:
        return int(self.cum[-1])

    def document(self, d: int) -> np.ndarray:
        return self.corpus.document(int(self.idx[d]))


def documents_by_group(corpus: LMCorpus) -> dict[str, list[int]]:
    """Document indices per species group (the holdout unit of the bake), in corpus order."""
    index = json.loads((corpus.root / "index.json").read_text())
    group_of = {e["key"]: e["group"] for e in index.get("entries", [])}
    out: dict[str, list[int]] = {}
    for d, name in enumerate(corpus.names):
        key = name.split("/", 1)[0]
        out.setdefault(group_of.get(key, key), []).append(d)
    return out


def metric_name(group: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "_", group).strip("_") or "unnamed"


class HeldOutBitsPerBase:
    """val_fn: bits per base on a fixed sample of held-out windows, per species group.

    `windows` windows of `context` tokens per group (drawn once, seeded), scored in micro-batches
    of `batch_size`; ranks score disjoint batches and the sums are all-reduced. With several
    ranks every rank runs the same number of forward passes (ranks with one batch fewer score a
    copy of the first batch with weight 0): FSDP gathers parameters in every forward, so
    unequal counts would hang. Under context parallelism (`cp_world` > 1, the model already
    switched by `enable_context_parallel`) `rank`/`world_size` are the data rank/world, every rank
    of a CP group scores its `cp_shard_batch` part of the same batches with `cp_lm_loss_fn`, and
    each target is counted once (by the rank that holds it). Returns
    `val_loss` (nats, all groups pooled), `val_bpb`, `val_bpb/<group>` and `val_order0_bpb` (the
    entropy of the sample's own base composition: what a model without context would reach).
    """

    def __init__(
        self,
        corpus: LMCorpus,
        context: int,
        windows: int = 8,
        *,
        batch_size: int = 4,
        seed: int = 0,
        max_n: float = 0.5,
        rank: int = 0,
        world_size: int = 1,
        cp_rank: int = 0,
        cp_world: int = 1,
    ) -> None:
        self.cp_world = cp_world
        self.groups: list[str] = []
        # (group index, batch) for this rank; group -1: a padding batch (forward only, weight 0)
        self.batches: list[tuple[int, dict[str, Any]]] = []
        first: dict[str, Any] | None = None
        counts_all = np.zeros(4, np.int64)
        k = 0
        for g, (group, docs) in enumerate(sorted(documents_by_group(corpus).items())):
            sub = _DocSubset(corpus, docs)
            self.groups.append(group)
            if sub.total_bases == 0:
                continue
            sampler = LMWindowSampler(sub, seed=seed, max_n=max_n)  # type: ignore[arg-type]
            samples = [sampler.sample(0, i, context) for i in range(windows)]
            for i in range(0, len(samples), batch_size):
                batch = collate_lm(samples[i : i + batch_size])
                lab = batch["labels"].numpy()
                counts_all += np.bincount(lab[lab != IGNORE] - C_ID, minlength=4)[:4]
                if cp_world > 1:
                    batch = cp_shard_batch(batch, cp_rank, cp_world)
                if k == 0:
                    first = batch
                if k % world_size == rank:
                    self.batches.append((g, batch))
                k += 1
        if world_size > 1 and first is not None:
            while len(self.batches) < -(-k // world_size):  # ceil(k / world_size) on every rank
                self.batches.append((-1, first))
        p = counts_all / max(counts_all.sum(), 1)
        self.order0_bpb = float(-(p[p > 0] * np.log2(p[p > 0])).sum())

    def __call__(self, model: nn.Module) -> dict[str, float]:
        from genet5.train.distributed import all_reduce_sum
        from genet5.train.trainer import to_device

        device = next(model.parameters()).device
        loss_fn = cp_lm_loss_fn if self.cp_world > 1 else lm_loss_fn
        sums = [0.0] * (2 * len(self.groups))
        for g, batch in self.batches:
            loss, _ = loss_fn(model, to_device(batch, device), label_smoothing=0.0)
            if g < 0:
                continue  # padding: the forward pass only keeps the ranks in step
            w = batch_targets(batch)
            sums[2 * g] += float(loss) * w
            sums[2 * g + 1] += w
        sums = all_reduce_sum(sums, device)
        total, weight = sum(sums[0::2]), sum(sums[1::2])
        out = {"val_loss": total / max(weight, 1e-12)}
        out["val_bpb"] = out["val_loss"] / LN2
        for g, group in enumerate(self.groups):
            if sums[2 * g + 1] > 0:
                out[f"val_bpb/{metric_name(group)}"] = sums[2 * g] / sums[2 * g + 1] / LN2
        out["val_order0_bpb"] = self.order0_bpb
        out["val_targets"] = weight
        return out


# -- the run: what genet5 lm pretrain trains ----------------------------------------------------
def describe_schedule(schedule: ContextSchedule, max_steps: int) -> str:
    parts, start, last = [], 0, len(schedule.stages) - 1
    for i, (st, end) in enumerate(zip(schedule.stages, schedule.boundaries)):
        end = max_steps if i == last else min(end, max_steps)
        if end > start:
            parts.append(f"{st.context} x {end - start}")
        start = max(start, end)
    return ", ".join(parts) + " steps"


def longest_trained_context(schedule: ContextSchedule, steps: int) -> int:
    """The longest context of the stages that steps 0 .. steps-1 ran (the first stage's for 0)."""
    contexts, start, last = [schedule.stages[0].context], 0, len(schedule.stages) - 1
    for i, (st, end) in enumerate(zip(schedule.stages, schedule.boundaries)):
        if start < (steps if i == last else min(end, steps)):
            contexts.append(st.context)
        start = max(start, end)
    return max(contexts)


def held_out_line(step: int, metrics: dict[str, float]) -> str | None:
    """The console line of one evaluation of HeldOutBitsPerBase (None when nothing was scored)."""
    bpb = metrics.get("val_bpb", float("nan"))
    if math.isnan(bpb):
        return None
    groups = ", ".join(f"{k.split('/', 1)[1]} {v:.4f}" for k, v in metrics.items() if k.startswith("val_bpb/"))
    return f"step {step}: held-out {bpb:.4f} bits/base ({groups}); order-0 {metrics['val_order0_bpb']:.4f}"


# One genos-tiny training step on 2 CPU cores (2026-12-03, AMD EPYC): 8K tokens 1 s, 32K 8.8 s,
# 128K 88 s; attention grows with the square of the context, so a 1M stage would take hours a step.
CPU_MAX_DEFAULT_CONTEXT = 32768


def fit_schedule_to_corpus(schedule, corpus, explicit: bool, on_cpu: bool, log: Callable[[str], None] = to_stderr):
    """Windows longer than the longest training document only pack unrelated documents side by
    side (attention stays within each), at the memory cost of the full context: a 1M-token stage
    on a 400 kb corpus teaches nothing that 256K does not, and ran a 24 GB machine out of memory.
    The default schedule is capped at the largest power of two within the longest document, and
    on CPU at 32K (CPU_MAX_DEFAULT_CONTEXT); a schedule the user wrote is kept, with a warning."""
    longest = int(corpus.docs[:, 2].max())
    too_long = sorted({st.context for st in schedule.stages if st.context > longest})
    if explicit:
        if too_long:
            log(f"genet5: warning: context {', '.join(map(str, too_long))} exceeds the longest training document "
                f"({longest:,} bases): those windows pack several documents")  # fmt: skip
        return schedule
    cap, why = 1 << max(1, longest.bit_length() - 1), f"the longest training document has {longest:,} bases"
    if on_cpu and CPU_MAX_DEFAULT_CONTEXT < cap:
        cap, why = CPU_MAX_DEFAULT_CONTEXT, "on CPU a 128K-token step takes minutes and 1M hours"
    if all(st.context <= cap for st in schedule.stages):
        return schedule
    log(f"context capped at {cap:,} tokens: {why} (--context-schedule sets it yourself)")
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


def check_step_memory(model: nn.Module, schedule: ContextSchedule, cfg: GenosRunConfig, cp: int) -> None:
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
        raise RunConfigError(
            f"the largest training step ({tokens:,} tokens per process at context {ctx:,}) needs about {need / 1e9:.1f} GB, "
            f"over 80% of the {available / 1e9:.1f} GB available: shorten the last stage of --context-schedule, "
            "lower data.token_budget, or --set parallel.activation_checkpointing=true")  # fmt: skip


def genos_model(m: GenosModelConfig) -> nn.Module:
    """A fresh Genos of preset `m.preset`, or the saved Genos `m.init`, in train mode."""
    from genet5.models.configs import get_preset
    from genet5.models.genos import Genos

    if m.init is not None:
        from genet5.models.configs import ModelConfigError
        from genet5.models.weights import WeightLoadError, load_model

        try:
            model = load_model(m.init).train()
        except (WeightLoadError, OSError) as err:
            said = str(err).startswith(f"{m.init}: ")  # a WeightLoadError names the path itself
            raise RunConfigError(f"--init {err}" if said else f"--init {m.init}: {err}") from None
        except ModelConfigError as err:  # a config.json the model cannot be built from (n_layers 0)
            raise RunConfigError(f"--init {m.init}: config.json: {err}") from None
        if not isinstance(model, Genos):
            raise RunConfigError(f"--init {m.init}: not a Genos model")
        return model
    if m.preset is None:
        raise RunConfigError("model: give a preset or init")
    mcfg = get_preset(m.preset)  # an unknown name is a ModelConfigError (one line)
    if getattr(mcfg, "model_type", None) != "genos":
        raise RunConfigError(f"--preset {m.preset}: not a Genos preset (model_type {mcfg.model_type!r})")
    return Genos(mcfg)


def build_genos_run(
    cfg: GenosRunConfig, data: str | Path, *, info: DistInfo | None = None, log: Callable[[str], None] = to_stderr
) -> Run:
    """Everything `genet5 lm pretrain` trains on the LM bake `data`, from its run config (whose
    model section is completed: the validation context it resolves to is recorded). Joins the
    process group (`init_distributed`) unless `info` is given; settings that do not fit are a
    RunConfigError, a bake that is not one a GenomeFormatError (one line each)."""
    m, t = cfg.model, cfg.train
    cfg.validate()
    try:
        schedule = ContextSchedule.parse(str(m.context_schedule), total_steps=t.max_steps)
    except ValueError as err:
        raise RunConfigError(f"--context-schedule: {err}") from None
    val_from_schedule = m.val_context is None
    if not val_from_schedule and m.val_context < 2:  # 0 would silently mean "the first stage's context"
        raise RunConfigError(f"--val-context must be >= 2, got {m.val_context}")
    val_ctx = m.val_context = int(schedule.stages[0].context if val_from_schedule else m.val_context)
    if not 0.0 <= m.rc_prob <= 1.0:
        raise RunConfigError(f"--rc-prob must be in [0, 1], got {m.rc_prob}")
    if not 0.0 <= m.max_n <= 1.0:  # a fraction of a window; a negative one would redraw every window
        raise RunConfigError(f"--max-n must be in [0, 1], got {m.max_n}")
    if m.val_windows < 0:
        raise RunConfigError(f"--val-windows must be >= 0, got {m.val_windows}")
    check_degrees(cfg.parallel)
    cp = cfg.parallel.context_parallel
    if cp > 1:  # each sequence is cut into 2 * cp equal chunks (zigzag)
        bad = sorted({st.context for st in schedule.stages if st.context % (2 * cp)})
        if bad:
            raise RunConfigError(f"parallel.context_parallel={cp} needs every context to be a multiple of {2 * cp}; "
                                 f"--context-schedule has {', '.join(map(str, bad))}")  # fmt: skip
        if val_ctx % (2 * cp):
            raise RunConfigError(f"parallel.context_parallel={cp} needs --val-context to be a multiple of {2 * cp}, got {val_ctx}")
    try:
        train_corpus, valid_corpus = LMCorpus(data, "train"), LMCorpus(data, "valid")
    except UserError:  # not an LM bake
        raise
    except ValueError as err:
        raise GenomeFormatError(str(data), None, str(err)) from None
    if train_corpus.total_bases == 0:
        raise GenomeFormatError(str(data), None, "the train split holds no bases")
    for corpus in (train_corpus, valid_corpus):  # every shard as baked (sha256 up to 2 GB: 0.7 s per GB)
        corpus.check()
    if not train_corpus.has_bases():  # else the first step fails: no target in any window
        raise GenomeFormatError(str(data), None, "the train split holds no usable bases (only N or other "
                                "non-A/C/G/T letters): nothing to learn from")  # fmt: skip
    schedule = fit_schedule_to_corpus(schedule, train_corpus, explicit=m.context_schedule != DEFAULT_CONTEXT_SCHEDULE,
                                      on_cpu=not torch.cuda.is_available(), log=log)  # fmt: skip
    if val_from_schedule:
        val_ctx = m.val_context = schedule.stages[0].context
    warn_if_model_changed(cfg, log)  # the config records everything that decides data and model

    info = info or init_distributed()
    mesh = ParallelDims.from_config(cfg.parallel, info.world_size).build(info.rank)
    torch.manual_seed(t.seed)  # same fresh weights on every rank
    model = genos_model(m)
    check_step_memory(model, schedule, cfg, cp)
    n_params = sum(p.numel() for p in model.parameters())
    sampler = LMWindowSampler(train_corpus, seed=t.seed, max_n=m.max_n, rc_prob=m.rc_prob)
    # the ranks of a context group share a batch rank: the same windows, then each its part
    batches = LMWindowBatches(sampler, schedule, cfg.data.token_budget, cfg.data.max_batch_size,
                              grad_accum=t.grad_accum, rank=mesh.batch_rank, world_size=mesh.batch_world)  # fmt: skip
    train_data: Any = batches
    loss_fn = lm_loss_fn
    # parallelism from outside the model, before the Trainer wraps it (DDP/FSDP)
    if mesh.context_group is not None:
        enable_context_parallel(model, mesh.context_group)
        train_data, loss_fn = CPShardedBatches(batches, mesh.context_rank, cp), cp_lm_loss_fn
    if mesh.expert_group is not None:
        ep, n_experts = mesh.dims.expert, getattr(model.config, "n_experts", 0)
        if not n_experts or n_experts % ep:
            raise RunConfigError(f"parallel.expert_parallel={ep} must divide the model's number of experts ({n_experts})")
        enable_expert_parallel(model, mesh.expert_group, mesh.expert_replica_group)
    val_fn = None
    if len(valid_corpus) and m.val_windows > 0:
        val_bs = max(1, min(cfg.data.max_batch_size, cfg.data.token_budget // val_ctx))
        val_fn = HeldOutBitsPerBase(valid_corpus, val_ctx, m.val_windows, batch_size=val_bs, seed=t.seed,
                                    max_n=m.max_n, rank=mesh.batch_rank, world_size=mesh.batch_world,
                                    cp_rank=mesh.context_rank, cp_world=cp)  # fmt: skip
    summary = [f"Genos {m.preset or m.init}: {n_params:,} parameters; train {train_corpus.total_bases:,} bases "
               f"in {len(train_corpus)} documents; context {describe_schedule(schedule, t.max_steps)}"]  # fmt: skip
    if val_fn is not None:
        summary.append(f"validation: {len(val_fn.groups)} held-out group(s) ({'; '.join(val_fn.groups)}), "
                       f"{m.val_windows} x {val_ctx} bases each; order-0 baseline {val_fn.order0_bpb:.3f} bits/base")  # fmt: skip
    else:
        summary.append("validation: none (the bake holds no held-out species)")
    summary += mesh.describe()
    # the saved model's max_seq_len: the longest context trained (a preset's value says nothing about
    # that; a saved model given as --init keeps the longest of its earlier training too)
    before = int(getattr(model.config, "max_seq_len", 0) or 0) if m.init is not None else 0

    def record(steps: int) -> dict[str, int]:
        return {"max_seq_len": max(before, longest_trained_context(schedule, steps))}

    return Run(cfg, model, loss_fn, train_data, info, mesh, val_fn=val_fn, batch_weight=batch_targets, summary=summary,
               val_line=held_out_line, config_at_save=record)  # fmt: skip
