"""Forward+backward training throughput of a Genos config: tokens/s, peak memory, MFU.

    python bench/model_throughput.py                          # genos-tiny on CPU, fp32
    python bench/model_throughput.py --config genos-1.2b --seq-len 8192 --batch 1   # GPU, bf16

FLOPs per token = 6 x (active params excluding the input-embedding lookup)
                + 6 x layers x (heads x head_dim) x context   (the 12*L*H*T attention term,
                  halved for causal attention).
MFU = achieved FLOP/s / peak; peak is H100 bf16 dense 989 TFLOP/s unless --peak-tflops is
given; MFU is not reported on CPU. Writes JSON (device, versions, date) to --out.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from genet5.models import count_params, get_preset
from genet5.models.genos import Genos
from genet5.models.params import genos_train_flops_per_token

H100_BF16_DENSE_TFLOPS = 989.0


def flops_per_token(model: Genos, seq_len: int) -> float:
    return genos_train_flops_per_token(model.config, count_params(model).active, seq_len)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--config", default="genos-tiny")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq-len", type=int, default=256)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument(
        "--dtype",
        choices=["fp32", "bf16"],
        default=None,
        help="autocast dtype (default bf16 on CUDA, fp32 on CPU)",
    )
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--peak-tflops", type=float, default=H100_BF16_DENSE_TFLOPS)
    ap.add_argument("--out", default=None, help="JSON path (default bench/results/...)")
    args = ap.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dtype = args.dtype or ("bf16" if device.type == "cuda" else "fp32")
    torch.manual_seed(0)
    config = get_preset(args.config)
    with torch.device(device):
        model = Genos(config)
    model.train()
    x = torch.randint(5, 10, (args.batch, args.seq_len + 1), device=device)
    inputs, targets = x[:, :-1], x[:, 1:]

    def step() -> float:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=dtype == "bf16"):
            loss = model.loss(inputs, targets)
        loss.backward()
        model.zero_grad(set_to_none=True)
        return loss.item()  # host sync: the step is finished

    for _ in range(args.warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - t0

    tokens = args.batch * args.seq_len * args.steps
    tok_s = tokens / elapsed
    fpt = flops_per_token(model, args.seq_len)
    counts = count_params(model)
    if device.type == "cuda":
        peak_mem = torch.cuda.max_memory_allocated()
        device_name = torch.cuda.get_device_name(device)
        mfu = tok_s * fpt / (args.peak_tflops * 1e12)
    else:
        peak_mem = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # process peak RSS
        device_name = (
            f"CPU {platform.processor() or platform.machine()} ({torch.get_num_threads()} threads)"
        )
        mfu = None
    result = {
        "benchmark": "model_throughput",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "device": device_name,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "config": args.config,
        "dtype": dtype,
        "batch": args.batch,
        "seq_len": args.seq_len,
        "steps": args.steps,
        "total_params": counts.total,
        "active_params": counts.active,
        "tokens_per_s": round(tok_s, 1),
        "step_time_s": round(elapsed / args.steps, 4),
        "flops_per_token": fpt,
        "achieved_tflops": round(tok_s * fpt / 1e12, 4),
        "mfu": None if mfu is None else round(mfu, 4),
        "peak_memory_bytes": peak_mem,
        "peak_memory_kind": "cuda max_memory_allocated"
        if device.type == "cuda"
        else "process max RSS",
    }
    stamp = f"{datetime.now(timezone.utc):%Y%m%d}"
    name = f"model_throughput_{args.config}_{device.type}_{stamp}.json"
    out = Path(args.out) if args.out else Path(__file__).parent / "results" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
