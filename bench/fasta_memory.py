"""Memory and time of `genet5 stats` on one 120 Mb chromosome (issue 2: memory bounded on
100+ Mb chromosomes). Writes a random 120,000,000-base single-record FASTA (80-column lines) to a
temporary folder, runs the command in a fresh process, reports wall time and its peak RSS.

    python bench/fasta_memory.py [--mb 120] [--out bench/results/fasta_memory.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=120)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "fasta_memory.json")
    args = ap.parse_args()
    n = args.mb * 1_000_000
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        fasta = Path(tmp) / "big.fa"
        with open(fasta, "wb") as fh:
            fh.write(b">chrBig\n")
            for lo in range(0, n, 8_000_000):  # 100,000 lines of 80 bases per block
                block = np.frombuffer(b"ACGT", dtype=np.uint8)[rng.integers(0, 4, min(8_000_000, n - lo))]
                lines = np.full((len(block) + 79) // 80 * 81, ord("\n"), dtype=np.uint8)
                view = lines.reshape(-1, 81)
                full = len(block) // 80
                view[:full, :80] = block[: full * 80].reshape(full, 80)
                rest = len(block) - full * 80
                fh.write(view[:full].tobytes())
                if rest:
                    fh.write(block[full * 80 :].tobytes() + b"\n")
        cmd = [str(Path(sys.executable).parent / "genet5"), "stats", str(fasta)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    out = {
        "benchmark": "fasta_memory", "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "device": f"CPU: {cpu_model()}, {os.cpu_count()} cores", "bases": n, "command": "genet5 stats big.fa",
        "seconds": round(seconds, 2), "peak_rss_mb": round(rss / 2**20), "bytes_per_base": round(rss / n, 2),
    }
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
