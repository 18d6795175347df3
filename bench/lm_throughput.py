"""Genos training throughput, MFU and peak memory against context length.

    python bench/lm_throughput.py                                   # genos-tiny, CPU, 1K..16K
    python bench/lm_throughput.py --config genos-1.2b --contexts 8K,16K,32K,64K,128K,256K \
        --activation-checkpointing --find-max      # one GPU: bf16, flash attention via SDPA

Each point is one micro-batch of `--batch` sequences of `context` tokens: forward, fp32
cross-entropy, backward, (optionally) an AdamW step. Reported per point: tokens/s (median of
`--steps` timed steps after `--warmup`), training FLOPs per token
(`genet5.models.params.genos_train_flops_per_token`: 6 x active non-embedding parameters plus
the causal attention term), achieved TFLOP/s, MFU against `--peak-tflops` (H100/H200 bf16 dense
989 TFLOP/s by default; not reported on CPU) and peak memory:
- CUDA: `torch.cuda.max_memory_allocated` of the point (reset before it);
- CPU: the peak RSS of a fresh subprocess that runs only that point (RSS peaks never go down,
  so points cannot share a process), minus the same subprocess's RSS before the model is built.

`--find-max` keeps doubling the context after the list until a point runs out of memory
(CUDA) and records the longest that fit. Writes JSON to --out and, with --png, the
memory-versus-context curve.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from io_speed import cpu_model  # noqa: E402  (one CPU-name helper for all bench scripts)


def parse_size(s: str) -> int:
    s = s.strip().upper()
    mult = {"K": 1024, "M": 1024 * 1024}.get(s[-1:], 1)
    return int(float(s[:-1] if mult > 1 else s) * mult)


def rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_point(args: argparse.Namespace, context: int) -> dict:
    """Time one context in this process; the caller decides about isolation."""
    from genet5.models import count_params, get_preset
    from genet5.models.genos import Genos
    from genet5.models.params import genos_train_flops_per_token
    from genet5.train.distributed import _apply_activation_checkpointing

    device = torch.device(args.device)
    dtype = args.dtype or ("bf16" if device.type == "cuda" else "fp32")
    rss0 = rss_bytes()  # after the imports: the point's own memory only
    torch.manual_seed(0)
    config = get_preset(args.config)
    with torch.device(device):
        model = Genos(config)
    if args.activation_checkpointing:
        _apply_activation_checkpointing(model)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=device.type == "cuda") if args.optimizer else None
    x = torch.randint(5, 9, (args.batch, context + 1), device=device)
    inputs, targets = x[:, :-1], x[:, 1:]

    def step() -> float:
        t0 = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=dtype == "bf16"):
            loss = model.loss(inputs, targets)
        loss.backward()
        if opt is not None:
            opt.step()
        model.zero_grad(set_to_none=True)
        loss.item()  # host sync: the step is finished
        return time.perf_counter() - t0

    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    for _ in range(args.warmup):
        step()
    times = [step() for _ in range(args.steps)]
    med = statistics.median(times)
    tok_s = args.batch * context / med
    counts = count_params(model)
    fpt = genos_train_flops_per_token(config, counts.active, context)
    point = {
        "context": context,
        "batch": args.batch,
        "step_time_s_median": round(med, 5),
        "step_time_s_all": [round(t, 5) for t in times],
        "tokens_per_s": round(tok_s, 1),
        "flops_per_token": fpt,
        "achieved_tflops": round(tok_s * fpt / 1e12, 4),
        "total_params": counts.total,
        "active_params": counts.active,
    }
    if device.type == "cuda":
        point["peak_memory_bytes"] = torch.cuda.max_memory_allocated()
        point["mfu"] = round(tok_s * fpt / (args.peak_tflops * 1e12), 4)
    else:
        point["peak_memory_bytes"] = rss_bytes() - rss0
    return point


def point_in_subprocess(argv: list[str], context: int) -> dict:
    cmd = [sys.executable, __file__, *argv, "--single", str(context)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"context": context, "error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="genos-tiny")
    ap.add_argument("--contexts", default="1K,2K,4K,8K,16K", help="comma-separated, K/M suffixes")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", choices=["fp32", "bf16"], default=None, help="autocast dtype (default bf16 on CUDA, fp32 on CPU)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--activation-checkpointing", action="store_true", help="recompute each block in backward")
    ap.add_argument("--no-optimizer", dest="optimizer", action="store_false", help="time forward+backward only")
    ap.add_argument("--find-max", action="store_true", help="after the list, double the context until out of memory")
    ap.add_argument("--peak-tflops", type=float, default=989.0, help="accelerator peak for MFU (H100/H200 bf16 dense)")
    ap.add_argument("--out", type=Path, default=None, help="JSON path (default bench/results/lm_throughput_<config>_<device>.json)")
    ap.add_argument("--png", type=Path, default=None, help="memory and tokens/s against context")
    ap.add_argument("--single", type=int, default=None, help=argparse.SUPPRESS)  # one point, JSON on stdout
    ap.add_argument("--plot-only", type=Path, nargs="+", default=None, help="draw --png from saved JSON results, run nothing")
    args = ap.parse_args(argv)
    if args.plot_only:
        plot([json.loads(p.read_text()) for p in args.plot_only], args.png or Path("lm_throughput.png"))
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)

    if args.single is not None:
        print(json.dumps(run_point(args, args.single)))
        return 0

    device = torch.device(args.device)
    contexts = [parse_size(c) for c in args.contexts.split(",") if c.strip()]
    points: list[dict] = []

    def measure(ctx: int) -> dict:
        if device.type == "cpu":
            p = point_in_subprocess(argv, ctx)
        else:
            try:
                p = run_point(args, ctx)
            except torch.cuda.OutOfMemoryError:
                p = {"context": ctx, "error": "out of memory"}
            torch.cuda.empty_cache()
        msg = p.get("error") or (f"{p['tokens_per_s']:,.0f} tok/s, {p['peak_memory_bytes'] / 2**20:,.0f} MiB"
                                 + (f", MFU {p['mfu']:.3f}" if "mfu" in p else ""))  # fmt: skip
        print(f"context {ctx:>9,}: {msg}", file=sys.stderr, flush=True)
        points.append(p)
        return p

    for ctx in contexts:
        measure(ctx)
    longest = max((p["context"] for p in points if "error" not in p), default=None)
    if args.find_max and longest is not None:
        ctx = longest * 2
        while "error" not in measure(ctx):
            longest, ctx = ctx, ctx * 2

    if device.type == "cuda":
        device_name = torch.cuda.get_device_name(device)
    else:
        device_name = f"CPU {cpu_model()} ({args.threads or torch.get_num_threads()} threads)"
    result = {
        "benchmark": "lm_throughput",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "device": device_name,
        "torch": torch.__version__,
        "config": args.config,
        "dtype": args.dtype or ("bf16" if device.type == "cuda" else "fp32"),
        "activation_checkpointing": args.activation_checkpointing,
        "optimizer_step": args.optimizer,
        "peak_memory_kind": "cuda max_memory_allocated" if device.type == "cuda" else "subprocess peak RSS growth",
        "longest_context_that_ran": longest,
        "points": points,
    }
    out = args.out or Path(__file__).parent / "results" / f"lm_throughput_{args.config}_{device.type}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    if args.png:
        plot([result], args.png)
    return 0


def plot(results: list[dict], png: Path) -> None:
    """Peak memory (left, log-log) and tokens/s (right) against context, one line per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4), dpi=120)
    ax2 = ax.twinx()
    for i, result in enumerate(results):
        ok = [p for p in result["points"] if "error" not in p]
        ctx = [p["context"] for p in ok]
        label = "activation checkpointing" if result["activation_checkpointing"] else "no checkpointing"
        ax.plot(ctx, [p["peak_memory_bytes"] / 2**20 for p in ok], "o-", color=f"C{i}", label=f"memory, {label}")
        ax2.plot(ctx, [p["tokens_per_s"] for p in ok], "s--", color=f"C{i}", alpha=0.6, label=f"tokens/s, {label}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_xlabel("context (tokens)")
    ax.set_ylabel("peak memory (MiB), solid")
    ax2.set_ylabel("training tokens/s, dashed")
    r = results[0]
    ax.set_title(f"{r['config']} on {r['device']} ({r['dtype']})", fontsize=9)
    ax.grid(alpha=0.3)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper center")
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
