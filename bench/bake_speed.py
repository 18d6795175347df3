"""Speed and size of `genet5 bake` (GeneT5 windows) and `genet5 lm bake` on the shared genomes.

Each bake runs as a user runs it (a fresh process, wall clock, cold output directory). Also
times random access through WindowDataset (what the trainer pays per sample).

    python bench/bake_speed.py [--shared ../shared/genomes] [--workers 2] [--subset 1.0]
                               [--only KEY_OR_PATH ...] [--no-lm] [--out bench/results/bake_speed.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
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


def subset_manifest(shared: Path, only: list[str], tmp: Path) -> Path:
    """A manifest of the named entries, with symlinked folders so entry keys stay the same."""
    with open(shared / "manifest.tsv", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    keep = [rows[0]] + [r for r in rows[1:] if any(o in (r[0], Path(r[0]).name) for o in only)]
    if len(keep) == 1:
        sys.exit(f"bench/bake_speed.py: --only {only} matches no manifest path")
    for r in keep[1:]:
        (tmp / r[0]).parent.mkdir(parents=True, exist_ok=True)
        (tmp / r[0]).symlink_to((shared / r[0]).resolve())
    with open(tmp / "manifest.tsv", "w", newline="") as fh:
        csv.writer(fh, delimiter="\t", lineterminator="\n").writerows(keep)
    return tmp / "manifest.tsv"


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_shared = Path(os.environ.get("GENET5_SHARED", REPO.parent / "shared")) / "genomes"
    ap.add_argument("--shared", type=Path, default=default_shared if default_shared.is_dir() else Path("/work/shared/genomes"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--subset", type=float, default=1.0)
    ap.add_argument("--window", type=int, default=4096)
    ap.add_argument("--overlap", type=int, default=512)
    ap.add_argument("--only", nargs="*", default=[], help="manifest paths or folder names (default: all)")
    ap.add_argument("--no-lm", action="store_true", help="skip the LM bake")
    ap.add_argument("--keep", type=Path, help="bake here and keep it (default: a temporary directory)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "bake_speed.json")
    args = ap.parse_args()
    if not (args.shared / "manifest.tsv").is_file():
        sys.exit(f"bench/bake_speed.py: {args.shared}/manifest.tsv not found (pass --shared)")
    genet5 = [sys.executable, "-m", "genet5"]
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        manifest = subset_manifest(args.shared, args.only, tmp / "raw") if args.only else args.shared / "manifest.tsv"
        out = args.keep or tmp / "bake"
        cmd = genet5 + ["bake", str(manifest), str(out), "--workers", str(args.workers), "--subset", str(args.subset),
                        "--window", str(args.window), "--overlap", str(args.overlap), "-q"]  # fmt: skip
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        bake_s = time.perf_counter() - t0
        index = json.loads((out / "index.json").read_text())
        stats = [json.loads((out / "species" / s["key"] / "stats.json").read_text()) for s in index["species"]]

        from genet5.data.shards import WindowDataset

        ds = WindowDataset(out, split=None)
        rng = np.random.default_rng(0)
        picks = rng.integers(len(ds), size=min(2000, len(ds)))
        t0 = time.perf_counter()
        for i in picks:
            ds[int(i)]
        read_s = time.perf_counter() - t0
        result = {
            "bake": {
                "command": " ".join(cmd[2:]),
                "seconds": round(bake_s, 2),
                "genomes": len(index["species"]),
                "genome_bases": sum(s["genome_bases"] for s in stats),
                "windows": sum(s["windows"] for s in stats),
                "window_bases": sum(s["bases"] for s in index["species"]),
                "genes_in_windows": sum(s["genes"] for s in stats),
                "partial_genes": sum(s["partial_genes"] for s in stats),
                "windows_skipped_n": sum(s["windows_skipped_n"] for s in stats),
                "bytes": dir_bytes(out),
                "mbases_per_s": round(sum(s["genome_bases"] for s in stats) / bake_s / 1e6, 2),
            },
            "dataset_random_read": {"samples": len(picks), "seconds": round(read_s, 3),
                                    "samples_per_s": round(len(picks) / read_s)},  # fmt: skip
        }
        if not args.no_lm:
            lm_out = tmp / "lm"
            lm_cmd = genet5 + ["lm", "bake", str(manifest), str(lm_out)]
            t0 = time.perf_counter()
            subprocess.run(lm_cmd, check=True, stdout=subprocess.DEVNULL)
            lm_s = time.perf_counter() - t0
            lm_index = json.loads((lm_out / "index.json").read_text())
            result["lm_bake"] = {"command": " ".join(lm_cmd[2:]), "seconds": round(lm_s, 2),
                                 "documents": lm_index["splits"]["train"]["documents"],
                                 "bases": lm_index["splits"]["train"]["bases"], "bytes": dir_bytes(lm_out)}  # fmt: skip
    record = {
        "benchmark": "bake_speed",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "device": f"CPU: {cpu_model()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "subset": args.subset,
        "workers": args.workers,
        "only": args.only or "all",
        **result,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
