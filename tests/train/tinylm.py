"""A tiny causal LM + random DNA-like data for the engine tests; also a runnable training script.

    python tests/train/tinylm.py out=/tmp/run train.max_steps=20
    torchrun --nproc-per-node 2 tests/train/tinylm.py out=/tmp/run parallel.mode=fsdp
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genet5.data.batching import build_loader
from genet5.train import RunConfig, Trainer, apply_overrides, destroy_distributed, init_distributed
from genet5.train.config import ModelSection, from_dict
from genet5.train.trainer import evaluate_loss

VOCAB = 12


class Block(nn.Module):
    def __init__(self, d: int, dropout: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.mix = nn.Linear(d, d)
        self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.drop = nn.Dropout(dropout)

    def forward(self, x_BTD: torch.Tensor) -> torch.Tensor:
        h = self.norm(x_BTD)
        # causal "attention": running mean over previous positions, enough to make a real LM
        T = h.shape[1]
        mix = torch.cumsum(self.mix(h), dim=1) / torch.arange(1, T + 1, device=h.device)[None, :, None]
        return x_BTD + self.drop(self.ff(mix))


class TinyLM(nn.Module):
    def __init__(self, d: int = 16, layers: int = 2, dropout: float = 0.0) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, d)
        self.layers = nn.ModuleList(Block(d, dropout) for _ in range(layers))
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, VOCAB, bias=False)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(input_ids)
        for layer in self.layers:
            x = layer(x)
        return self.head(self.norm(x))


@dataclass
class TinyModelConfig(ModelSection):
    """The `model:` section of this test task (a task types its own, as genos_task does)."""

    d: int = 16
    layers: int = 2
    dropout: float = 0.0
    init_seed: int = 0


@dataclass
class TinyRunConfig(RunConfig):
    model: TinyModelConfig = field(default_factory=TinyModelConfig)


class SeqDataset:
    """Variable-length sequences with a learnable pattern (period-3 repeats plus noise)."""

    def __init__(self, n: int = 96, min_len: int = 4, max_len: int = 24, seed: int = 123) -> None:
        g = np.random.default_rng(seed)
        self.items = []
        for _ in range(n):
            L = int(g.integers(min_len, max_len + 1))
            motif = g.integers(1, VOCAB, size=3)
            seq = np.resize(motif, L)
            noise = g.random(L) < 0.1
            seq[noise] = g.integers(1, VOCAB, size=int(noise.sum()))
            self.items.append({"input_ids": torch.as_tensor(seq, dtype=torch.long)})

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]


def collate(samples: list[dict]) -> dict:
    T = max(len(s["input_ids"]) for s in samples)
    ids = torch.zeros(len(samples), T, dtype=torch.long)
    labels = torch.full((len(samples), T), -100, dtype=torch.long)
    for i, s in enumerate(samples):
        x = s["input_ids"]
        ids[i, : len(x)] = x
        labels[i, : len(x) - 1] = x[1:]
    return {"input_ids": ids, "labels": labels}


def loss_fn(model: nn.Module, batch: dict, *, label_smoothing: float = 0.0):
    logits = model(batch["input_ids"])
    loss = F.cross_entropy(
        logits.flatten(0, 1).float(),
        batch["labels"].flatten(),
        ignore_index=-100,
        label_smoothing=label_smoothing,
    )
    return loss, {"ppl": loss.detach().exp()}


def batch_weight(batch: dict) -> float:
    return float((batch["labels"] != -100).sum())


def build(cfg: TinyRunConfig, rank: int = 0, world: int = 1, n: int = 96, round_to: int | None = None):
    m = cfg.model
    torch.manual_seed(m.init_seed)  # same init on every rank (FSDP needs it)
    model = TinyLM(d=m.d, layers=m.layers, dropout=m.dropout)
    ds = SeqDataset(n=n)
    loader = build_loader(ds, collate, cfg.data, seed=cfg.train.seed, rank=rank, world_size=world,
                          round_to=round_to)
    val = [collate([ds[i] for i in range(j, j + 8)]) for j in range(0, 32, 8)][rank::world]
    return model, loader, val


def tiny_config(out_dir: str, **train) -> TinyRunConfig:
    cfg = TinyRunConfig()
    cfg.train.out_dir = out_dir
    cfg.train.tensorboard = False
    cfg.train.progress = False
    cfg.train.log_every = 1
    cfg.data.token_budget = 96
    cfg.data.max_batch_size = 8
    cfg.data.sort_window = 4
    cfg.optim.lr = 3e-3
    cfg.optim.min_lr = 3e-4
    cfg.optim.warmup_steps = 3
    for k, v in train.items():
        setattr(cfg.train, k, v)
    return cfg


def make_trainer(cfg: TinyRunConfig, info=None, sleep: float = 0.0, round_to: int | None = None) -> Trainer:
    rank, world = (info.rank, info.world_size) if info else (0, 1)
    model, loader, val = build(cfg, rank, world, round_to=round_to)

    def slow_loss(m, b, **kw):
        if sleep:
            time.sleep(sleep)
        return loss_fn(m, b, **kw)

    def val_fn(m):
        return evaluate_loss(m, loss_fn, val, device=info.device if info else torch.device("cpu"), batch_weight=batch_weight)

    return Trainer(model, slow_loss, loader, cfg, val_fn=val_fn, batch_weight=batch_weight, info=info)


def main(argv: list[str]) -> None:
    sleep = float(os.environ.get("TINYLM_STEP_SLEEP", "0"))
    out = next((a.split("=", 1)[1] for a in argv if a.startswith("out=")), "runs/tinylm")
    overrides = [a for a in argv if not a.startswith("out=")]
    cfg = from_dict(TinyRunConfig, apply_overrides(tiny_config(out).to_dict(), overrides))
    info = init_distributed(device="cpu")
    try:
        result = make_trainer(cfg, info, sleep).fit()
        if info.is_main:
            print(json.dumps({"step": result.step, "losses": result.losses}))
    finally:
        destroy_distributed()


if __name__ == "__main__":
    main(sys.argv[1:])
