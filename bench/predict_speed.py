"""`genet5 predict` speed on a 5 Mb bacterial genome (issue bar: under 5 minutes on 2 CPU cores).

The genome is E. coli K-12 (4.64 Mb) plus the first 358,348 bases of Vibrio cholerae chromosome 2
as a second record: 5,000,000 bases in two sequences, both real bacterial DNA. The command runs
as a user runs it (a fresh process, wall clock, model loading included), `--repeats` times; the
median is reported with peak RSS and the machine's load average.

    python bench/predict_speed.py [--shared ../shared/genomes] [--model DIR] [--repeats 1]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from io_speed import cpu_model  # noqa: E402

TOTAL = 5_000_000


def read_fasta(path: Path) -> list[tuple[str, str]]:
    records, name, parts = [], None, []
    with gzip.open(path, "rt") as fh:
        for line in fh:
            if line.startswith(">"):
                if name:
                    records.append((name, "".join(parts)))
                name, parts = line[1:].split()[0], []
            else:
                parts.append(line.strip())
    if name:
        records.append((name, "".join(parts)))
    return records


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "genomes")
    ap.add_argument("--model", type=Path, default=None, help="model dir (default: the bundled model)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "predict_speed.json")
    args = ap.parse_args()
    ecoli = read_fasta(args.shared / "prokaryotes/Escherichia_coli_K12_MG1655/genome.fa.gz")
    vibrio = read_fasta(args.shared / "prokaryotes/Vibrio_cholerae_RFB16/genome.fa.gz")
    need = TOTAL - sum(len(s) for _, s in ecoli)
    second = min(vibrio, key=lambda r: len(r[1]) if len(r[1]) >= need else 1 << 62)
    records = ecoli + [(second[0] + "_prefix", second[1][:need])]
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        fasta = Path(tmp) / "genome5mb.fa"
        with open(fasta, "w") as fh:
            for name, seq in records:
                fh.write(f">{name}\n")
                for i in range(0, len(seq), 80):
                    fh.write(seq[i : i + 80] + "\n")
        cmd = [str(Path(sys.executable).parent / "genet5"), "predict", str(fasta), "-o", str(Path(tmp) / "out.gff3"), "-q", "--threads", str(args.threads)]
        if args.model:
            cmd += ["--model", str(args.model)]
        for _ in range(args.repeats):
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            runs.append({"seconds": round(time.perf_counter() - t0, 2), "load_before": round(load, 2)})
        genes = sum(1 for line in open(Path(tmp) / "out.gff3") if "\tgene\t" in line)
    median = statistics.median(r["seconds"] for r in runs)
    out = {
        "benchmark": "predict_speed",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "device": f"CPU: {cpu_model()}, {os.cpu_count()} cores",
        "command": " ".join(cmd).replace(tmp, "$TMP"),
        "bases": TOTAL,
        "records": [name for name, _ in records],
        "runs": runs,
        "median_s": median,
        "bp_per_s": round(TOTAL / median),
        "genes": genes,
        "peak_rss_mb_children": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "bar_s": 300,
    }
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
