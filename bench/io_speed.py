"""Speed of the foundation on a whole chromosome: `genet5 stats` and `genet5 eval`.

Targets (issue 2): stats on A. thaliana chr1 (30 Mb FASTA, ~190k GFF3 lines) under 10 s and
eval of two whole-chromosome annotations under 5 s, on a 2-core machine. Each command runs as
a user runs it (a fresh process, wall clock), `--repeats` times; the median is reported.

    python bench/io_speed.py [--shared ../shared/genomes] [--repeats 3] [--out bench/results/io_speed.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def installed_env(cache_dir: Path) -> dict[str, str]:
    """The environment for timing `genet5` as an installed package runs: with its bytecode
    compiled once (pip compiles it at install; an editable install writes it on first run).
    Where PYTHONDONTWRITEBYTECODE is set (these sessions' machines) every run would otherwise
    compile genet5's own modules again, ~0.05 s of a phage's ~0.5 s. The bytecode goes to
    cache_dir (PYTHONPYCACHEPREFIX), not into the source tree."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache_dir)
    import genet5

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(genet5.__file__).parent)], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    return env


def timed(cmd: list[str], repeats: int) -> dict:
    seconds = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        seconds.append(time.perf_counter() - t0)
    return {"command": " ".join(cmd), "seconds": [round(s, 3) for s in seconds], "median_s": round(statistics.median(seconds), 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "genomes")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "io_speed.json")
    args = ap.parse_args()
    chr1 = args.shared / "plants" / "Arabidopsis_thaliana_TAIR10_chr1"
    if not chr1.is_dir():
        sys.exit(f"bench/io_speed.py: {chr1} not found (pass --shared)")
    genet5 = [sys.executable, "-m", "genet5"]
    results = {}
    results["stats_athaliana_chr1"] = timed(genet5 + ["stats", str(chr1 / "genome.fa.gz"), str(chr1 / "annotation.gff3.gz")], args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        # A second whole-chromosome annotation in another dialect: the reference as GTF.
        gtf = Path(tmp) / "chr1.gtf"
        subprocess.run(genet5 + ["convert", str(chr1 / "annotation.gff3.gz"), "--to", "gtf", "-o", str(gtf)], check=True, stdout=subprocess.DEVNULL)
        results["eval_athaliana_chr1_gff3_vs_gtf"] = timed(genet5 + ["eval", str(chr1 / "annotation.gff3.gz"), str(gtf)], args.repeats)
        results["eval_athaliana_chr1_with_genome"] = timed(
            genet5 + ["eval", str(chr1 / "annotation.gff3.gz"), str(gtf), "--genome", str(chr1 / "genome.fa.gz")], args.repeats
        )
    out = {
        "benchmark": "io_speed",
        "date": date.today().isoformat(),
        "device": f"CPU: {cpu_model()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    for name, r in results.items():
        print(f"{name:40s} median {r['median_s']:.2f} s  {r['seconds']}")


if __name__ == "__main__":
    main()
