#!/usr/bin/env python3
"""Train the bundled prokaryote start classifier (genet5.models.prok_starts) on the `train`
prokaryotes, archaea and phages of shared/genomes/splits.tsv and report it on the `validation`
ones.

    python scripts/train_start_model.py OUT_DIR [--epochs 6] [--threads 1]

Examples, per genome: the candidates of the prokaryote decoder (predict/prokaryote/orfs.py: every
ATG/GTG/TTG of every ORF of at least 90 bp, both strands); an ORF whose annotated gene (same
strand, start and stop, stops included as the scorer does) is one of its candidates is one
example: the classifier's logits over the ORF's start codons go through a softmax and the loss is
the annotated start's negative log-probability. At most MAX_ORFS ORFs per genome, so
Bradyrhizobium's 8,000 genes do not drown the phages'. Split by species, never by window:
validation genomes are only scored (top-1 accuracy of the annotated start among its ORF's
starts, beside two baselines: the ORF's first start and the first ATG).

Writes OUT_DIR/config.json + model.safetensors (genet5.models.weights.save_pretrained) and
OUT_DIR/training.json (data counts, per-epoch loss, validation accuracy, the command).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from genet5.data.splits import read_manifest, read_splits
from genet5.evaluate.metrics import _collect
from genet5.genome.codes import genetic_code
from genet5.genome.fasta import RecordSequence, read_fasta
from genet5.genome.readers import load_annotation
from genet5.genome.validate import include_stop_codons
from genet5.models.prok_starts import StartNet, StartNetConfig
from genet5.models.weights import save_pretrained
from genet5.predict.decoders import COMMON_PROKARYOTIC_STARTS
from genet5.predict.prokaryote.learned_starts import base_counts, genome_freq, place_features, windows
from genet5.predict.prokaryote.orfs import record_candidates

REPO = Path(__file__).resolve().parents[1]
GENOMES = Path(os.environ.get("GENET5_SHARED", REPO.parent / "shared")) / "genomes"
PROKARYOTE_PREFIXES = ("prokaryotes/", "archaea/", "phages/")
MAX_ORFS = 2500
MIN_LEN = 90


def split_genomes(split: str) -> list[str]:
    return [path for path, s in read_splits(GENOMES / "splits.tsv").items() if s == split and path.startswith(PROKARYOTE_PREFIXES)]


def genetic_code_of(name: str) -> int:
    codes = {e.path.strip("/"): e.genetic_code for e in read_manifest(GENOMES / "manifest.tsv")}
    if codes.get(name) is None:
        raise SystemExit(f"{name}: not in manifest.tsv or no genetic code there")
    return codes[name]


def genome_examples(name: str, cfg: StartNetConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """{"win" (n, window) int8, "place" (n, 6), "group" (n,) ORF index, "label" (n,) bool,
    "freq" (4,)} of one genome: every start codon of every ORF whose annotated start is one."""
    directory = GENOMES / name
    code = genetic_code(genetic_code_of(name))
    ann = load_annotation(directory / "annotation.gff3.gz")
    records = list(read_fasta(directory / "genome.fa.gz"))
    for r in records:
        include_stop_codons(ann.subset([r.id]), RecordSequence(r), code.id, None)
    freq = genome_freq(sum(base_counts(r.seq) for r in records))
    parts, n_groups = [], 0
    for r in records:
        truth = _collect(ann, r.id)[0].start_stops  # (strand, five, three)
        for cand in record_candidates(r.id, r.seq, code, code.starts & COMMON_PROKARYOTIC_STARTS, MIN_LEN):
            lo, hi = cand.genomic_all()
            five, three = (lo, hi) if cand.strand == "+" else (hi, lo)
            label = np.array([(cand.strand, int(f), int(t)) in truth for f, t in zip(five, three)]) & ~cand.edge
            orfs = np.unique(cand.orf[label])
            keep = np.isin(cand.orf, orfs) & ~cand.edge
            if not keep.any():
                continue
            _, group = np.unique(cand.orf[keep], return_inverse=True)
            parts.append((windows(cand, cfg.up, cfg.down)[keep], place_features(cand)[keep], group + n_groups, label[keep]))
            n_groups += len(orfs)
    win, place, group, label = (np.concatenate(x) for x in zip(*parts))
    if n_groups > MAX_ORFS:
        chosen = np.isin(group, rng.choice(n_groups, MAX_ORFS, replace=False))
        win, place, group, label = win[chosen], place[chosen], group[chosen], label[chosen]
        group = np.unique(group, return_inverse=True)[1]
    return {"win": win, "place": place, "group": group, "label": label, "freq": np.tile(freq, (len(win), 1)), "down": cfg.down}


def group_log_softmax(logit: torch.Tensor, group: torch.Tensor, n: int) -> torch.Tensor:
    """Log-probability of each candidate among the candidates of its group (ORF)."""
    best = torch.full((n,), -1e9).scatter_reduce(0, group, logit.detach(), reduce="amax")
    z = torch.zeros(n).index_add(0, group, torch.exp(logit - best[group]))
    return logit - best[group] - torch.log(z[group])


def top1(score: np.ndarray, group: np.ndarray, label: np.ndarray) -> float:
    """Share of groups whose highest-scoring candidate is the annotated start."""
    n = group.max() + 1
    best = np.full(n, -np.inf)
    np.maximum.at(best, group, score)
    hit = np.zeros(n, dtype=bool)
    hit[group[label & (score >= best[group])]] = True
    return float(hit.mean())


def baselines(d: dict) -> dict[str, float]:
    first = d["place"][:, 5]  # the ORF's first start: the longest gene
    up = d["win"].shape[1] - d["down"]
    atg = (d["win"][:, up : up + 3] == np.array([0, 3, 2])).all(axis=1)  # ATG: the codon at offset up
    first_atg = atg * 10.0 - d["place"][:, 0]
    return {"first_start": top1(first, d["group"], d["label"]), "first_atg": top1(first_atg, d["group"], d["label"])}


@torch.no_grad()
def predict(model: StartNet, d: dict) -> np.ndarray:
    model.eval()
    return model(torch.from_numpy(d["win"]), torch.from_numpy(d["freq"]), torch.from_numpy(d["place"])).numpy()


def collect(names: list[str], cfg: StartNetConfig, rng) -> tuple[dict, dict]:
    out, counts = {}, {}
    for name in names:
        t0 = time.time()
        out[name] = genome_examples(name, cfg, rng)
        counts[name] = {"orfs": int(out[name]["group"].max() + 1), "candidates": len(out[name]["group"])}
        print(f"  {name}: {counts[name]} ({time.time() - t0:.0f} s)", file=sys.stderr)
    return out, counts


def concat(parts: list[dict]) -> dict:
    offsets = np.cumsum([0] + [p["group"].max() + 1 for p in parts])
    d = {k: np.concatenate([p[k] for p in parts]) for k in ("win", "place", "label", "freq")}
    d["group"] = np.concatenate([p["group"] + o for p, o in zip(parts, offsets)])
    return d


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--exclude", default="", help="comma-separated substrings of training genomes to leave out")
    ap.add_argument("--up", type=int, default=30)
    ap.add_argument("--down", type=int, default=30)
    ap.add_argument("--n-place", type=int, default=6, help="place features read (0: bases only)")
    ap.add_argument("--hidden", type=int, default=64)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    cfg = StartNetConfig(up=args.up, down=args.down, n_place=args.n_place, hidden=args.hidden)
    excluded = [x for x in args.exclude.split(",") if x]
    train_names = [g for g in split_genomes("train") if not any(x in g for x in excluded)]
    val_names = split_genomes("validation")
    print("train genomes:", file=sys.stderr)
    train_by_genome, train_counts = collect(train_names, cfg, rng)
    print("validation genomes:", file=sys.stderr)
    val_by_genome, val_counts = collect(val_names, cfg, rng)
    train = concat(list(train_by_genome.values()))
    n_groups = int(train["group"].max() + 1)
    model = StartNet(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-3)
    history = []
    tensors = {k: torch.from_numpy(v) for k, v in train.items()}
    # batches of whole ORFs: candidates sorted by group, groups shuffled per epoch
    starts_of = np.searchsorted(train["group"], np.arange(n_groups + 1))
    for epoch in range(args.epochs):
        model.train()
        t0, losses = time.time(), []
        order = rng.permutation(n_groups)
        for i in range(0, n_groups, 256):
            gs = order[i : i + 256]
            idx = np.concatenate([np.arange(starts_of[g], starts_of[g + 1]) for g in gs])
            t_idx = torch.from_numpy(idx)
            logit = model(tensors["win"][t_idx], tensors["freq"][t_idx], tensors["place"][t_idx])
            group = torch.from_numpy(np.repeat(np.arange(len(gs)), starts_of[gs + 1] - starts_of[gs]))
            lp = group_log_softmax(logit, group, len(gs))
            loss = -lp[tensors["label"][t_idx]].mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        for g in opt.param_groups:
            g["lr"] *= 0.6
        acc = {name: round(top1(predict(model, d), d["group"], d["label"]), 4) for name, d in val_by_genome.items()}
        history.append({"epoch": epoch + 1, "train_loss": round(float(np.mean(losses)), 4), "seconds": round(time.time() - t0, 1),
                        "validation_top1": acc})
        print(json.dumps(history[-1]), file=sys.stderr)
    base = {name: {k: round(v, 4) for k, v in baselines(d).items()} for name, d in val_by_genome.items()}
    train_acc = {name: round(top1(predict(model, d), d["group"], d["label"]), 4) for name, d in train_by_genome.items()}
    save_pretrained(model, args.out)
    report = {"train_genomes": train_counts, "validation_genomes": val_counts, "epochs": history,
              "train_top1": train_acc, "validation_top1_baselines": base,
              "parameters": sum(p.numel() for p in model.parameters()),
              "command": " ".join(["python", "scripts/train_start_model.py"] + sys.argv[1:])}
    (args.out / "training.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({"baselines": base}, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
