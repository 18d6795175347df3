"""Speed and memory of using a Genos model (genet5.lm; `genet5 lm score / embed`) on CPU.

A random genos-tiny (seed 0) and random DNA. In-process throughput of score_sequence and
embed_sequence on a 100 kb sequence (default settings: model window = the model's context,
advancing by half of it, so every base goes through the model about twice; plus the same with
--context-stride = context, once); then `genet5 lm embed` and `genet5 lm score` as fresh
processes on 100 kb and 1 Mb single-record FASTAs: wall time and peak RSS (memory should not grow
with the length).

    python bench/lm_inference.py [--threads 1] [--mb 1] [--out bench/results/lm_inference.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from io_speed import cpu_model  # noqa: E402


def run_child(cmd: list[str]) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err}")
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--mb", type=float, default=1.0, help="length of the long FASTA, in Mb")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "lm_inference.json")
    args = ap.parse_args()

    import torch

    from genet5 import lm
    from genet5.models.configs import get_preset
    from genet5.models.genos import Genos
    from genet5.models.weights import save_pretrained

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Genos(get_preset("genos-tiny")).eval()
    rng = np.random.default_rng(0)
    seq = "".join(rng.choice(list("ACGT"), 100_000))
    lm.score_sequence(model, seq[:5000])  # warm-up
    result: dict = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "cpu": cpu_model(),
        "threads": args.threads,
        "torch": torch.__version__,
        "model": "genos-tiny (random weights), context 256",
        "in_process_100kb": {},
    }
    for name, fn in (
        ("score", lambda: lm.score_sequence(model, seq)),
        ("embed_mean", lambda: lm.embed_sequence(model, seq)),
        ("score_context_stride_256", lambda: lm.score_sequence(model, seq, context_stride=256)),
    ):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        result["in_process_100kb"][name] = {"seconds": round(dt, 2), "bases_per_s": round(len(seq) / dt)}
        print(name, result["in_process_100kb"][name], flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        save_pretrained(model, tmp / "model")
        sizes = {"100kb": 100_000, f"{args.mb:g}Mb": int(args.mb * 1_000_000)}
        for label, n in sizes.items():
            s = rng.choice(np.frombuffer(b"ACGT", dtype=np.uint8), n).tobytes()
            with open(tmp / f"{label}.fa", "wb") as fh:
                fh.write(b">chrBench\n" + b"\n".join(s[i : i + 80] for i in range(0, n, 80)) + b"\n")
        cli = [sys.executable, "-m", "genet5", "lm"]
        common = ["--threads", str(args.threads), "-q", "--device", "cpu"]
        result["commands"] = {}
        for label, n in sizes.items():
            fa = str(tmp / f"{label}.fa")
            for cmd, extra in (("embed", ["-o", str(tmp / "e.npy")]), ("score", ["-o", str(tmp / "s.tsv")])):
                r = run_child([*cli, cmd, str(tmp / "model"), fa, *extra, *common])
                r["bases_per_s_incl_startup"] = round(n / r["wall_s"])
                result["commands"][f"{cmd}_{label}"] = r
                print(cmd, label, r, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
