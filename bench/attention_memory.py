"""Peak memory and time of one causal attention layer, forward + backward, at long contexts on
CPU (issue: memory linear in sequence length). Each case runs in a fresh process and reports the
growth of its peak RSS over the RSS before the layer ran (inputs and weights already allocated).

Paths: `causal` (plain causal: SDPA's blocked flash kernel, no mask), `docs` (two packed
documents: a causal + document mask), the latter with the query-blocked mask
(genet5.nn.attention.masked_attention) and with the whole (T, T) mask (`docs_dense`, what every
masked call did before the blocked path; quadratic, so only run where it fits).

    python bench/attention_memory.py [--lengths 16384 65536] [--paths causal docs docs_dense]
        [--threads 2] [--out bench/results/attention_memory.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

# One attention layer shaped like genos-small's (dim 256, 8 query heads, 4 kv heads, head_dim 32).
DIM, HEADS, KV_HEADS = 256, 8, 4


def run_case(T: int, path: str, threads: int) -> dict:
    import torch

    from genet5.nn import Attention, RotaryEmbedding
    from genet5.nn import attention as A

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    attn = Attention(DIM, HEADS, KV_HEADS, causal=True, rotary=RotaryEmbedding(DIM // HEADS, 5e7))
    x = torch.randn(1, T, DIM, requires_grad=True)
    kw = {}
    if path.startswith("docs"):
        doc = torch.zeros(1, T, dtype=torch.long)
        doc[:, T // 3 :] = 1
        kw["doc_ids_BT"] = doc
        kw["positions"] = torch.cat([torch.arange(T // 3), torch.arange(T - T // 3)])
    if path == "docs_dense":
        A.MASK_BLOCK_ELEMENTS = 1 << 62  # never block: the whole mask, as before
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0 = time.perf_counter()
    attn(x, **kw).sum().backward()
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"T": T, "path": path, "seconds": round(seconds, 1),
            "peak_growth_mb": round((peak - base) / 2**20), "peak_rss_mb": round(peak / 2**20)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", type=int, nargs="+", default=[16384, 65536])
    ap.add_argument("--paths", nargs="+", default=["causal", "docs", "docs_dense"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-dense", type=int, default=16384, help="longest T for docs_dense")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "attention_memory.json")
    ap.add_argument("--case", nargs=2, help=argparse.SUPPRESS)  # child process: T path
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(int(args.case[0]), args.case[1], args.threads)))
        return
    from io_speed import cpu_model

    rows = []
    for T in args.lengths:
        for path in args.paths:
            if path == "docs_dense" and T > args.max_dense:
                continue
            cmd = [sys.executable, __file__, "--threads", str(args.threads), "--case", str(T), path]
            res = subprocess.run(cmd, check=True, capture_output=True, text=True)
            rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    out = {
        "benchmark": "attention_memory",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "device": f"CPU: {cpu_model()}, {os.cpu_count()} cores, {args.threads} threads",
        "layer": f"Attention(dim={DIM}, heads={HEADS}, kv_heads={KV_HEADS}), batch 1, fwd+bwd",
        "results": rows,
    }
    args.out.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
