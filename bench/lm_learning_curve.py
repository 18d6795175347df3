"""Does Genos learn? Held-out bits per base of a `genet5 lm pretrain` run against Markov chains.

    python bench/lm_learning_curve.py BAKE_DIR RUN_DIR \
        --json bench/results/lm_learning_curve.json --png docs/img/genos_learning_curve.png

The Markov chains of order 0..--max-order are counted on the bake's *train* split (the data the
model saw) and scored on exactly the held-out windows the run validated on (the run's
config.json gives the validation context, window count, seed and N filter; the windows come
from the same `HeldOutBitsPerBase`), with the same targets: the next base, A/C/G/T only, inside
the window's document. Like the model, a chain only sees context inside the window: at a
window's start it backs off to the orders its context allows.

Two chains per order: counted on the forward strand, and on both strands (each training
sequence and its reverse complement, the usual choice of gene finders' background models). The
issue's bar is the order-5 chain; the JSON holds every order so the best one is on record too.
Probabilities are add-alpha smoothed (alpha 1 by default; with 13 Mb of training bases the
counts dominate).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from io_speed import cpu_model  # noqa: E402

from genet5.data.lm_data import LMCorpus
from genet5.tokenizers.nucleotide import A_ID, C_ID
from genet5.train.genos_task import IGNORE, HeldOutBitsPerBase, metric_name

LN2 = math.log(2.0)


def base_codes(ids: np.ndarray) -> np.ndarray:
    """Token ids -> 0..3 for C/G/T/A, -1 for anything else (N, specials)."""
    ids = np.asarray(ids, dtype=np.int64)
    return np.where((ids >= C_ID) & (ids <= A_ID), ids - C_ID, -1)


def valid_run_lengths(codes: np.ndarray, doc: np.ndarray | None = None) -> np.ndarray:
    """run[i] = how many consecutive valid bases end at i (within one document)."""
    ok = codes >= 0
    if doc is not None:
        same = np.ones_like(ok)
        same[1:] = doc[1:] == doc[:-1]
    run = np.zeros(len(codes), np.int64)
    count = 0
    for i in range(len(codes)):  # windows are short (<= a few K); clarity over speed here
        if not ok[i]:
            count = 0
        elif doc is not None and not same[i]:
            count = 1
        else:
            count += 1
        run[i] = count
    return run


def kmer_codes(codes: np.ndarray, k: int) -> np.ndarray:
    """Code of the k-mer ending at each position i >= k-1 (positions < k-1 get 0; mask them)."""
    out = np.zeros(len(codes), np.int64)
    c = np.where(codes >= 0, codes, 0)
    for j in range(k):
        shifted = np.zeros(len(codes), np.int64)
        shifted[k - 1 - j :] = c[: len(codes) - (k - 1 - j)]
        out = out * 4 + shifted if j else shifted
    return out


class MarkovChains:
    """Counts of every (k+1)-mer for k = 0..max_order, from token-id arrays."""

    def __init__(self, max_order: int, alpha: float = 1.0) -> None:
        self.max_order, self.alpha = max_order, alpha
        self.counts = [np.zeros(4 ** (k + 1), np.int64) for k in range(max_order + 1)]

    def add(self, ids: np.ndarray) -> None:
        codes = base_codes(ids)
        # run length of valid bases ending at i, vectorized: distance to the last invalid base
        idx = np.arange(len(codes))
        last_bad = np.maximum.accumulate(np.where(codes < 0, idx, -1))
        run = idx - last_bad
        for k in range(self.max_order + 1):
            km = kmer_codes(codes, k + 1)
            self.counts[k] += np.bincount(km[run >= k + 1], minlength=4 ** (k + 1))

    def log_probs(self, order: int) -> np.ndarray:
        """log P(next | context), shape (4**order, 4)."""
        c = self.counts[order].reshape(-1, 4).astype(np.float64) + self.alpha
        return np.log(c / c.sum(1, keepdims=True))

    def score(self, order: int, input_ids: np.ndarray, labels: np.ndarray, doc: np.ndarray) -> tuple[float, int]:
        """(sum of nats, number of targets) for one collated window; backs off at its start."""
        codes = base_codes(input_ids)
        run = valid_run_lengths(codes, doc)
        target = base_codes(labels.clip(min=0))
        use = labels != IGNORE
        nats = 0.0
        tables = {j: self.log_probs(j) for j in range(order + 1)}
        eff = np.minimum(run, order)  # context length each target can use
        for j in range(order + 1):
            sel = use & (eff == j)
            if not sel.any():
                continue
            ctx = kmer_codes(codes, j)[sel] if j else np.zeros(int(sel.sum()), np.int64)
            nats -= float(tables[j][ctx, target[sel]].sum())
        return nats, int(use.sum())


def reverse_complement_ids(ids: np.ndarray) -> np.ndarray:
    codes = base_codes(ids)
    # C<->G, T<->A: codes 0..3 = C,G,T,A -> complement 1,0,3,2
    comp = np.array([1, 0, 3, 2], np.int64)
    out = np.where(codes >= 0, comp[codes.clip(min=0)] + C_ID, ids)
    return out[::-1]


def read_val_csv(run: Path) -> list[dict[str, float]]:
    path = run / "val.csv"
    if not path.is_file():
        return []
    with path.open() as fh:
        return [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(fh)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bake", type=Path)
    ap.add_argument("run", type=Path, help="genet5 lm pretrain run directory (config.json, val.csv)")
    ap.add_argument("--max-order", type=int, default=8)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--json", type=Path, default=Path("bench/results/lm_learning_curve.json"))
    ap.add_argument("--png", type=Path, default=None)
    args = ap.parse_args(argv)

    cfg = json.loads((args.run / "config.json").read_text())
    lm, train = cfg["model"], cfg["train"]
    valid = LMCorpus(args.bake, "valid")
    val = HeldOutBitsPerBase(valid, int(lm["val_context"]), int(lm["val_windows"]), seed=int(train["seed"]),
                             max_n=float(lm["max_n"]))  # fmt: skip
    corpus = LMCorpus(args.bake, "train")
    fwd = MarkovChains(args.max_order, args.alpha)
    both = MarkovChains(args.max_order, args.alpha)
    for d in range(len(corpus)):
        ids = np.asarray(corpus.document(d))
        fwd.add(ids)
        both.add(ids)
        both.add(reverse_complement_ids(ids))

    markov: dict[str, dict] = {}
    for name, chains in (("forward", fwd), ("both_strands", both)):
        for k in range(args.max_order + 1):
            sums = np.zeros((len(val.groups), 2))
            for g, batch in val.batches:
                for b in range(batch["input_ids"].shape[0]):
                    n, t = chains.score(k, batch["input_ids"][b].numpy(), batch["labels"][b].numpy(),
                                        batch["doc_ids"][b].numpy())  # fmt: skip
                    sums[g] += (n, t)
            entry = {"bpb": float(sums[:, 0].sum() / sums[:, 1].sum() / LN2)}
            for g, group in enumerate(val.groups):
                if sums[g, 1]:
                    entry[metric_name(group)] = float(sums[g, 0] / sums[g, 1] / LN2)
            markov[f"{name}_order{k}"] = entry

    curve = read_val_csv(args.run)
    tokens_per_step = int(cfg["data"]["token_budget"]) * int(train.get("grad_accum", 1))
    result = {
        "date": datetime.date.today().isoformat(),
        "machine": cpu_model(),
        "bake": str(args.bake),
        "run": str(args.run),
        "holdout_groups": val.groups,
        "val_context": int(lm["val_context"]),
        "val_windows_per_group": int(lm["val_windows"]),
        "train_bases": corpus.total_bases,
        "order0_of_sample_bpb": val.order0_bpb,
        "markov": markov,
        "curve": [{"step": int(r["step"]), "tokens": int(r["step"]) * tokens_per_step,
                   **{k: v for k, v in r.items() if k.startswith("val_bpb")}} for r in curve],  # fmt: skip
    }
    best = min(markov.items(), key=lambda kv: kv[1]["bpb"])
    result["best_markov"] = {"name": best[0], **best[1]}
    if curve:
        result["final_model_bpb"] = curve[-1].get("val_bpb")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1))
    m5 = markov.get("forward_order5", {}).get("bpb")
    m5b = markov.get("both_strands_order5", {}).get("bpb")
    print(f"order-5 Markov: {m5:.4f} (forward) / {m5b:.4f} (both strands); best chain {best[0]} {best[1]['bpb']:.4f}; "
          f"model {result.get('final_model_bpb')}", file=sys.stderr)  # fmt: skip
    if args.png and curve:
        plot(result, args.png)
    return 0


def plot(result: dict, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    tok = [r["tokens"] / 1e6 for r in result["curve"]]
    ax.plot(tok, [r["val_bpb"] for r in result["curve"]], "o-", color="C0", lw=2, ms=3, label="Genos, all held out")
    for i, key in enumerate(k for k in result["curve"][-1] if k.startswith("val_bpb/")):
        ax.plot(tok, [r.get(key, float("nan")) for r in result["curve"]], "-", color=f"C{i + 3}", lw=1, alpha=0.7,
                label=f"Genos, {key.split('/', 1)[1].replace('_', ' ')}")  # fmt: skip
    m = result["markov"]
    ax.axhline(m["forward_order5"]["bpb"], color="C1", ls="--", label=f"order-5 Markov (train) {m['forward_order5']['bpb']:.3f}")
    best = result["best_markov"]
    if best["name"] != "forward_order5":
        ax.axhline(best["bpb"], color="C2", ls=":", label=f"best Markov ({best['name'].replace('_', ' ')}) {best['bpb']:.3f}")
    ax.axhline(result["order0_of_sample_bpb"], color="grey", ls="-.", lw=1,
               label=f"base composition of the held-out sample {result['order0_of_sample_bpb']:.3f}")  # fmt: skip
    ax.set_xlabel("training tokens (millions)")
    ax.set_ylabel("held-out bits per base")
    ax.set_title(f"Genos on held-out species ({', '.join(result['holdout_groups'])})", fontsize=10)
    lo = min(min(r["val_bpb"] for r in result["curve"]), best["bpb"]) - 0.02
    ax.set_ylim(lo, min(2.1, max(r["val_bpb"] for r in result["curve"]) + 0.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
