"""Does Genos learn? Held-out bits per base of a `genet5 lm pretrain` run against Markov chains.

    python bench/lm_learning_curve.py BAKE_DIR RUN_DIR [--model MODEL] \
        --json bench/results/lm_learning_curve.json --png docs/img/genos_learning_curve.png

The Markov chains of order 0..--max-order are counted on the bake's *train* split (the data the
model saw) and scored on exactly the held-out windows the run validated on (the run's
config.json gives the validation context, window count, seed and N filter; the windows come
from the same `HeldOutBitsPerBase`), with the same targets: the next base, A/C/G/T only, inside
the window's document. Like the model, a chain only sees context inside the window: at a
window's start it backs off to the orders its context allows.

Two chains per order: counted on the forward strand, and on both strands (each training
sequence and its reverse complement, the usual choice of gene finders' background models).

The baseline (`selected`): add-k smoothed chains, P(b | ctx) = (n(ctx, b) + k) / (n(ctx) + 4k),
with the order (0..--max-order), k (--k-grid, up to 1e6: near uniform) and the strand choice
picked by pooled bits per base on *tuning* windows: a second sample of the same held-out
(validation) species drawn with another seed, minus every window sharing a 32-mer with a
reported window. The reported windows choose nothing. A large k pulls a chain towards the
uniform guess, so a chain whose training statistics do not transfer cannot score much worse
than 2 bits. Per species and pooled, bits per base come with 95% intervals from a bootstrap
over windows (resampled within each species); with --model (the run's final model, e.g. the
bundled genos-tiny-prok) the model is scored window by window the same way, and the difference
model - chain gets a paired bootstrap interval.

A chain counted on the training split cannot follow the composition of the genome it is
scoring, while the model reads the window it is in (1K bases of context). So a second baseline
(`cache_markov`, the cache language model of speech recognition, Kuhn & De Mori 1990): the
selected chain mixed with a chain counted on the window itself, P = lam * P_train + (1 - lam) *
P_window, where P_window uses the window's bases before the target (same document) only,
interpolated down the orders, P_j(b | ctx) = (m_j(ctx, b) + beta * P_j-1(b | ctx')) /
(m_j(ctx) + beta), P_-1 = uniform; lam, beta and the window chain's order are chosen on the
same tuning windows.

The add-one chains of every order (the earlier baseline, `markov`) stay in the JSON; the
order-5 add-one chain is the issue's original bar.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from io_speed import cpu_model  # noqa: E402

from genet5.data.lm_data import LMCorpus
from genet5.tokenizers.nucleotide import A_ID, C_ID
from genet5.train.genos_task import IGNORE, HeldOutBitsPerBase, metric_name

LN2 = math.log(2.0)
K_GRID = (0.01, 0.1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6)
# cache chain: weight of the training chain, pseudo-count of the lower order, window chain order
LAMBDA_GRID = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
BETA_GRID = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)
CACHE_MAX_ORDER = 5
DISJOINT_K = 32  # a tuning window sharing a 32-mer with a reported window is dropped


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


@dataclass
class Window:
    """One collated window, reduced to what scoring a chain needs: per context length j, the
    j-mer context of every target whose usable context (inside the window and its document,
    capped at the order) is j, and the target base."""

    group: int
    run: np.ndarray  # usable context length of each target
    target: np.ndarray  # 0..3
    kmers: list[np.ndarray]  # kmers[j]: j-mer context code of each target (j = 0: zeros)
    doc: np.ndarray | None = None  # document of each target (the window chain counts within it)

    @classmethod
    def from_arrays(cls, group: int, input_ids: np.ndarray, labels: np.ndarray, doc: np.ndarray, max_order: int) -> "Window":
        codes = base_codes(input_ids)
        use = labels != IGNORE
        run = valid_run_lengths(codes, doc)[use]
        target = base_codes(labels.clip(min=0))[use]
        kmers = [np.zeros(int(use.sum()), np.int64)] + [kmer_codes(codes, j)[use] for j in range(1, max_order + 1)]
        return cls(group, run, target, kmers, np.asarray(doc, np.int64)[use])

    @property
    def n(self) -> int:
        return len(self.target)


class MarkovChains:
    """Counts of every (k+1)-mer for k = 0..max_order, from token-id arrays."""

    def __init__(self, max_order: int, alpha: float = 1.0) -> None:
        self.max_order, self.alpha = max_order, alpha
        self.counts = [np.zeros(4 ** (k + 1), np.int64) for k in range(max_order + 1)]
        self._tables: dict[tuple[int, float], np.ndarray] = {}

    def add(self, ids: np.ndarray) -> None:
        codes = base_codes(ids)
        # run length of valid bases ending at i, vectorized: distance to the last invalid base
        idx = np.arange(len(codes))
        last_bad = np.maximum.accumulate(np.where(codes < 0, idx, -1))
        run = idx - last_bad
        for k in range(self.max_order + 1):
            km = kmer_codes(codes, k + 1)
            self.counts[k] += np.bincount(km[run >= k + 1], minlength=4 ** (k + 1))
        self._tables.clear()

    def log_probs(self, order: int, alpha: float | None = None) -> np.ndarray:
        """log P(next | context), shape (4**order, 4), add-alpha smoothed (default: self.alpha)."""
        alpha = self.alpha if alpha is None else alpha
        key = (order, alpha)
        if key not in self._tables:
            c = self.counts[order].reshape(-1, 4).astype(np.float64) + alpha
            self._tables[key] = np.log(c / c.sum(1, keepdims=True))
        return self._tables[key]

    def window_nats(self, order: int, w: Window, alpha: float | None = None) -> float:
        """Nats of one prepared window; at its start the chain backs off to the context it has."""
        eff = np.minimum(w.run, order)
        nats = 0.0
        for j in range(order + 1):
            sel = eff == j
            if sel.any():
                nats -= float(self.log_probs(j, alpha)[w.kmers[j][sel], w.target[sel]].sum())
        return nats

    def window_probs(self, order: int, w: Window, alpha: float | None = None) -> np.ndarray:
        """(targets, 4) P(next | context) of one prepared window, backing off as window_nats."""
        eff = np.minimum(w.run, order)
        out = np.zeros((w.n, 4))
        for j in range(order + 1):
            sel = eff == j
            if sel.any():
                out[sel] = np.exp(self.log_probs(j, alpha)[w.kmers[j][sel]])
        return out

    def score(self, order: int, input_ids: np.ndarray, labels: np.ndarray, doc: np.ndarray,
              alpha: float | None = None) -> tuple[float, int]:  # fmt: skip
        """(sum of nats, number of targets) for one collated window; backs off at its start."""
        w = Window.from_arrays(0, input_ids, labels, doc, order)
        return self.window_nats(order, w, alpha), w.n


def prefix_counts(w: Window, j: int) -> np.ndarray:
    """(targets, 4): for target t and each base b, how often the (j+1)-mer (t's j-mer context,
    b) occurred at an earlier target of the same document of the window whose context is that
    long. What a chain counted on the window up to t knows (no base at or after t)."""
    n, size = w.n, 4 ** (j + 1)
    doc = w.doc if w.doc is not None else np.zeros(n, np.int64)
    doc = doc - doc.min() if n else doc
    seen = np.flatnonzero(w.run >= j)
    keys = np.sort((doc[seen] * size + w.kmers[j][seen] * 4 + w.target[seen]) * (n + 1) + seen)
    out = np.zeros((n, 4))
    for b in range(4):
        q = (doc * size + w.kmers[j] * 4 + b) * (n + 1)
        out[:, b] = np.searchsorted(keys, q + np.arange(n)) - np.searchsorted(keys, q)
    return out


class CacheChain:
    """The window's own chain, interpolated down the orders (module docstring), mixed with a
    chain counted on the training split. Counts are taken once per window and order."""

    def __init__(self, windows: list[Window], train_probs: list[np.ndarray], max_order: int = CACHE_MAX_ORDER) -> None:
        self.windows, self.train_probs = windows, train_probs
        self.counts = [[prefix_counts(w, j) for j in range(max_order + 1)] for w in windows]

    def window_nats(self, i: int, order: int, beta: float, lam: float) -> float:
        w, m = self.windows[i], self.counts[i]
        eff = np.minimum(w.run, order)
        p = np.full((w.n, 4), 0.25)
        for j in range(order + 1):
            pj = (m[j] + beta * p) / (m[j].sum(1, keepdims=True) + beta)
            p = np.where((eff >= j)[:, None], pj, p)
        mix = lam * self.train_probs[i] + (1.0 - lam) * p
        return float(-np.log(mix[np.arange(w.n), w.target]).sum())

    def nats(self, order: int, beta: float, lam: float) -> np.ndarray:
        return np.array([self.window_nats(i, order, beta, lam) for i in range(len(self.windows))])


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


def sample_windows(val: HeldOutBitsPerBase, max_order: int) -> list[tuple[Window, np.ndarray]]:
    """(prepared window, its raw input ids) for every window of a held-out sample."""
    out = []
    for g, batch in val.batches:
        for b in range(batch["input_ids"].shape[0]):
            ids = batch["input_ids"][b].numpy()
            out.append((Window.from_arrays(g, ids, batch["labels"][b].numpy(), batch["doc_ids"][b].numpy(), max_order), ids))
    return out


def kmer_set(ids: np.ndarray, k: int = DISJOINT_K) -> set[bytes]:
    raw = np.asarray(ids, np.uint8).tobytes()
    return {raw[i : i + k] for i in range(len(raw) - k + 1)}


def disjoint(tuning: list[tuple[Window, np.ndarray]], reported: list[tuple[Window, np.ndarray]]) -> list[Window]:
    """Tuning windows that share no DISJOINT_K-mer (either strand) with any reported window."""
    seen: set[bytes] = set()
    for _, ids in reported:
        seen |= kmer_set(ids) | kmer_set(reverse_complement_ids(ids))
    return [w for w, ids in tuning if not (kmer_set(ids) & seen)]


def bits(nats: np.ndarray, n: np.ndarray) -> float:
    return float(nats.sum() / n.sum() / LN2)


def bootstrap(groups: np.ndarray, nats: np.ndarray, n: np.ndarray, reps: int = 2000, seed: int = 0,
              other: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """Bits per base of `reps` resamples of the windows (with replacement, within each group):
    (reps, n_groups + 1), the last column pooled. With `other` (nats of a second model on the
    same windows): the paired difference, nats - other."""
    rng = np.random.default_rng(seed)
    ug = np.unique(groups)
    out = np.zeros((reps, len(ug) + 1))
    for r in range(reps):
        picks = [rng.choice(np.flatnonzero(groups == g), size=int((groups == g).sum())) for g in ug]
        for c, idx in enumerate(picks):
            d = nats[idx] - (other[idx] if other is not None else 0.0)
            out[r, c] = d.sum() / n[idx].sum() / LN2
        idx = np.concatenate(picks)
        d = nats[idx] - (other[idx] if other is not None else 0.0)
        out[r, -1] = d.sum() / n[idx].sum() / LN2
    return out


def summary(names: list[str], groups: np.ndarray, nats: np.ndarray, n: np.ndarray,
            other: np.ndarray | None = None) -> dict[str, dict[str, float]]:  # fmt: skip
    """Per group and pooled ("all"): bits per base (or difference) and its 95% interval."""
    boot = bootstrap(groups, nats, n, other=other)
    d = nats - (other if other is not None else 0.0)
    out = {}
    for c, g in enumerate(np.unique(groups)):
        sel = groups == g
        out[metric_name(names[g])] = {"bpb": bits(d[sel], n[sel]), "ci95": [float(x) for x in np.percentile(boot[:, c], [2.5, 97.5])],
                                      "windows": int(sel.sum())}  # fmt: skip
    out["all"] = {"bpb": bits(d, n), "ci95": [float(x) for x in np.percentile(boot[:, -1], [2.5, 97.5])],
                  "windows": len(groups)}  # fmt: skip
    return out


def genos_window_nats(model_path: str, val: HeldOutBitsPerBase) -> np.ndarray:
    """Nats per window of a saved Genos on the held-out sample (same targets as the chains)."""
    import torch
    import torch.nn.functional as F

    import genet5

    model = genet5.load_model(model_path)
    out = []
    with torch.no_grad():
        for _, batch in val.batches:
            doc = batch["doc_ids"] if batch.get("packed", True) else None
            logits = model(batch["input_ids"], doc_ids_BT=doc).float()
            ce = F.cross_entropy(logits.transpose(1, 2), batch["labels"], ignore_index=IGNORE, reduction="none")
            out.extend(float(x) for x in ce.sum(1))
    return np.array(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bake", type=Path)
    ap.add_argument("run", type=Path, help="genet5 lm pretrain run directory (config.json, val.csv)")
    ap.add_argument("--model", default=None, help="the run's final model (a directory or a bundled name) to score window by window")
    ap.add_argument("--max-order", type=int, default=8)
    ap.add_argument("--alpha", type=float, default=1.0, help="add-alpha of the fixed chains table (`markov`)")
    ap.add_argument("--tuning-windows", type=int, default=48, help="tuning windows drawn per species group (before the overlap filter)")
    ap.add_argument("--json", type=Path, default=Path("bench/results/lm_learning_curve.json"))
    ap.add_argument("--png", type=Path, default=None)
    args = ap.parse_args(argv)

    cfg = json.loads((args.run / "config.json").read_text())
    lm, train = cfg["model"], cfg["train"]
    valid = LMCorpus(args.bake, "valid")
    context, seed, max_n = int(lm["val_context"]), int(train["seed"]), float(lm["max_n"])
    val = HeldOutBitsPerBase(valid, context, int(lm["val_windows"]), seed=seed, max_n=max_n)
    tune = HeldOutBitsPerBase(valid, context, args.tuning_windows, seed=seed + 1, max_n=max_n)
    if tune.groups != val.groups:
        raise SystemExit("tuning and reported samples disagree on the species groups")
    reported = sample_windows(val, args.max_order)
    tuning = disjoint(sample_windows(tune, args.max_order), reported)
    corpus = LMCorpus(args.bake, "train")
    chains = {"forward": MarkovChains(args.max_order, args.alpha), "both_strands": MarkovChains(args.max_order, args.alpha)}
    for d in range(len(corpus)):
        ids = np.asarray(corpus.document(d))
        chains["forward"].add(ids)
        chains["both_strands"].add(ids)
        chains["both_strands"].add(reverse_complement_ids(ids))

    groups = np.array([w.group for w, _ in reported])
    n = np.array([w.n for w, _ in reported], np.float64)

    def nats_of(name: str, order: int, alpha: float, ws: list[Window]) -> np.ndarray:
        return np.array([chains[name].window_nats(order, w, alpha) for w in ws])

    # the fixed add-alpha table of every order (the earlier baseline), on the reported windows
    markov: dict[str, dict] = {}
    for name in chains:
        for k in range(args.max_order + 1):
            nats = nats_of(name, k, args.alpha, [w for w, _ in reported])
            entry = {"bpb": bits(nats, n)}
            for g, group in enumerate(val.groups):
                if (groups == g).any():
                    entry[metric_name(group)] = bits(nats[groups == g], n[groups == g])
            markov[f"{name}_order{k}"] = entry

    # selection on the tuning windows only
    tn = np.array([w.n for w in tuning], np.float64)
    grid = []
    for name in chains:
        for k in range(args.max_order + 1):
            for alpha in K_GRID:
                grid.append({"strands": name, "order": k, "k": alpha, "tuning_bpb": bits(nats_of(name, k, alpha, tuning), tn)})
    chosen = min(grid, key=lambda r: r["tuning_bpb"])
    sel_nats = nats_of(chosen["strands"], chosen["order"], chosen["k"], [w for w, _ in reported])
    tuning_groups = np.array([w.group for w in tuning])
    selected = {
        **chosen,
        "chosen_on": f"{len(tuning)} tuning windows of the held-out species (seed {seed + 1}; "
                     f"{', '.join(f'{metric_name(g)} {int((tuning_groups == i).sum())}' for i, g in enumerate(val.groups))}), "
                     f"none sharing a {DISJOINT_K}-mer with a reported window",  # fmt: skip
        "reported": summary(val.groups, groups, sel_nats, n),
    }
    # the cache chain: the selected chain mixed with the window's own, chosen on the tuning windows
    def probs(ws: list[Window]) -> list[np.ndarray]:
        return [chains[chosen["strands"]].window_probs(chosen["order"], w, chosen["k"]) for w in ws]

    cache_tune = CacheChain(tuning, probs(tuning))
    cache_grid = [{"order": o, "beta": b, "lambda": lam, "tuning_bpb": bits(cache_tune.nats(o, b, lam), tn)}
                  for o in range(CACHE_MAX_ORDER + 1) for b in BETA_GRID for lam in LAMBDA_GRID]  # fmt: skip
    cache_chosen = min(cache_grid, key=lambda r: r["tuning_bpb"])
    reported_windows = [w for w, _ in reported]
    cache_nats = CacheChain(reported_windows, probs(reported_windows)).nats(cache_chosen["order"], cache_chosen["beta"], cache_chosen["lambda"])
    cache = {**cache_chosen, "train_chain": {k: chosen[k] for k in ("strands", "order", "k")},
             "chosen_on": selected["chosen_on"], "reported": summary(val.groups, groups, cache_nats, n)}  # fmt: skip
    uniform = {"bpb": 2.0}

    curve = read_val_csv(args.run)
    tokens_per_step = int(cfg["data"]["token_budget"]) * int(train.get("grad_accum", 1))
    result = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores, CPU only",
        "bake": str(args.bake),
        "run": str(args.run),
        "holdout_groups": val.groups,
        "val_context": context,
        "val_windows_per_group": int(lm["val_windows"]),
        "train_bases": corpus.total_bases,
        "order0_of_sample_bpb": val.order0_bpb,
        "uniform": uniform,
        "markov_alpha": args.alpha,
        "markov": markov,
        "k_grid": list(K_GRID),
        "selection_grid": grid,
        "selected_markov": selected,
        "cache_grid": cache_grid,
        "cache_markov": cache,
        "curve": [{"step": int(r["step"]), "tokens": int(r["step"]) * tokens_per_step,
                   **{k: v for k, v in r.items() if k.startswith("val_bpb")}} for r in curve],  # fmt: skip
    }
    if curve:
        result["final_model_bpb"] = curve[-1].get("val_bpb")
    if args.model:
        g_nats = genos_window_nats(args.model, val)
        result["model"] = {
            "path": args.model,
            "reported": summary(val.groups, groups, g_nats, n),
            "minus_selected_markov": summary(val.groups, groups, g_nats, n, other=sel_nats),
            "minus_cache_markov": summary(val.groups, groups, g_nats, n, other=cache_nats),
        }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1))
    s = selected["reported"]["all"]
    print(f"selected chain ({chosen['strands']}, order {chosen['order']}, k {chosen['k']:g}): "
          f"{s['bpb']:.4f} [{s['ci95'][0]:.4f}, {s['ci95'][1]:.4f}]; order-5 add-{args.alpha:g}: "
          f"{markov['forward_order5']['bpb']:.4f}; model {result.get('final_model_bpb')}", file=sys.stderr)  # fmt: skip
    c = cache["reported"]["all"]
    print(f"cache chain (window order {cache['order']}, beta {cache['beta']:g}, lambda {cache['lambda']:g}): "
          f"{c['bpb']:.4f} [{c['ci95'][0]:.4f}, {c['ci95'][1]:.4f}]", file=sys.stderr)  # fmt: skip
    if "model" in result:
        m, d = result["model"]["reported"]["all"], result["model"]["minus_selected_markov"]["all"]
        dc = result["model"]["minus_cache_markov"]["all"]
        print(f"model window by window: {m['bpb']:.4f} [{m['ci95'][0]:.4f}, {m['ci95'][1]:.4f}]; "
              f"model - chain {d['bpb']:+.4f} [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]; "
              f"model - cache chain {dc['bpb']:+.4f} [{dc['ci95'][0]:+.4f}, {dc['ci95'][1]:+.4f}]", file=sys.stderr)  # fmt: skip
    if args.png and curve:
        plot(result, args.png)
    return 0


def plot(result: dict, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4.4), dpi=110)
    tok = [r["tokens"] / 1e6 for r in result["curve"]]
    ax.plot(tok, [r["val_bpb"] for r in result["curve"]], "o-", color="C0", lw=2, ms=3, label="Genos, all held out")
    for i, key in enumerate(k for k in result["curve"][-1] if k.startswith("val_bpb/")):
        ax.plot(tok, [r.get(key, float("nan")) for r in result["curve"]], "-", color=f"C{i + 3}", lw=1, alpha=0.7,
                label=f"Genos, {key.split('/', 1)[1].replace('_', ' ')}")  # fmt: skip
    sel = result["selected_markov"]
    s = sel["reported"]["all"]
    ax.axhspan(*s["ci95"], color="C1", alpha=0.15, lw=0)
    ax.axhline(s["bpb"], color="C1", ls="--",
               label=f"Markov, add-k (order {sel['order']}, k {sel['k']:g}, chosen on tuning windows) {s['bpb']:.3f}")  # fmt: skip
    if "model" in result:  # the final model's interval, from the same window bootstrap
        g = result["model"]["reported"]["all"]
        ax.errorbar([tok[-1]], [g["bpb"]], yerr=[[g["bpb"] - g["ci95"][0]], [g["ci95"][1] - g["bpb"]]], color="C0",
                    capsize=3, lw=1.2)  # fmt: skip
    if "cache_markov" in result:
        cm = result["cache_markov"]
        c = cm["reported"]["all"]
        ax.axhspan(*c["ci95"], color="C8", alpha=0.15, lw=0)
        ax.axhline(c["bpb"], color="C8", ls="--",
                   label=f"Markov + the window's own chain (cache; lambda {cm['lambda']:g}) {c['bpb']:.3f}")  # fmt: skip
    m5 = result["markov"]["forward_order5"]["bpb"]
    ax.axhline(m5, color="C2", ls=":", label=f"order-5 Markov, add-{result['markov_alpha']:g} {m5:.3f}")
    ax.axhline(2.0, color="black", lw=0.8, alpha=0.5, label="uniform 2.000")
    ax.axhline(result["order0_of_sample_bpb"], color="grey", ls="-.", lw=1,
               label=f"base composition of the held-out sample {result['order0_of_sample_bpb']:.3f}")  # fmt: skip
    ax.set_xlabel("training tokens (millions)")
    ax.set_ylabel("held-out bits per base (validation windows)")
    ax.set_title(f"Genos on held-out species ({', '.join(result['holdout_groups'])})\nbands: 95% bootstrap over windows", fontsize=8)
    values = [v for r in result["curve"] for k, v in r.items() if k.startswith("val_bpb")]
    lo = min(*values, s["ci95"][0], result.get("cache_markov", {}).get("reported", {}).get("all", {}).get("ci95", [9])[0]) - 0.01
    ax.set_ylim(lo, min(2.1, max(*values, m5, 2.0) + 0.01))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
