#!/usr/bin/env python3
"""Organelle genomes: `genet5 predict` as a user runs it (the domain read from the FASTA headers;
the mitochondrion given its table, -g 1 for a plant), the same genome forced through the nuclear
decoder (`--domain eukaryote`), and Prodigal 2.6.3 (`-p single -g CODE`), all scored by genet5's
evaluator (the code behind `genet5 eval --genome`).

    python bench/organelles.py     # -> bench/results/organelles.json

Both organelles are outside splits.tsv's train/validation lists (`split` in the JSON says so).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from io_speed import cpu_model  # noqa: E402

GENOMES = Path(os.environ.get("GENET5_SHARED", REPO.parent / "shared")) / "genomes"
OUT = REPO / "bench" / "results" / "organelles.json"
CASES = [("plastids/Arabidopsis_thaliana_chloroplast_NC_000932", 11, []),
         ("organelles/Arabidopsis_thaliana_mitochondrion_NC_001284", 1, ["-g", "1"])]


def scores(ref: Path, pred: Path, genome: Path) -> dict:
    from genet5.evaluate.compare import compare_files

    r = compare_files(ref, pred, genome).result.total
    return {level: round(r[level].f1, 4) for level in ("gene", "start_stop", "stop")}


def main() -> int:
    if not GENOMES.exists() or not shutil.which("prodigal"):
        print("needs ../shared/genomes and prodigal", file=sys.stderr)
        return 1
    from genet5.data.splits import read_splits

    splits = read_splits(GENOMES / "splits.tsv")
    genet5 = str(Path(sys.executable).parent / "genet5")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for genome_dir, code, flags in CASES:
            d = GENOMES / genome_dir
            fa = Path(tmp) / "genome.fa"
            with gzip.open(d / "genome.fa.gz", "rb") as src, open(fa, "wb") as dst:
                shutil.copyfileobj(src, dst)
            row = {"genome": genome_dir, "split": splits.get(genome_dir, "not in splits.tsv"), "table": code}
            for name, extra in (("genet5_default", flags), ("genet5_as_eukaryote", ["--domain", "eukaryote", "-g", "1"])):
                out = Path(tmp) / f"{name}.gff3"
                p = subprocess.run([genet5, "predict", str(fa), "-o", str(out), "-q", *extra], capture_output=True, text=True)
                if p.returncode != 0:
                    print(p.stderr, file=sys.stderr)
                    return 1
                row[name] = scores(d / "annotation.gff3.gz", out, d / "genome.fa.gz")
                row[name]["header"] = out.read_text().splitlines()[1]
            prod = Path(tmp) / "prodigal.gff"
            subprocess.run(["prodigal", "-i", str(fa), "-g", str(code), "-f", "gff", "-q", "-o", str(prod)], check=True,
                           capture_output=True)
            row["prodigal"] = scores(d / "annotation.gff3.gz", prod, d / "genome.fa.gz")
            rows.append(row)
            print(f"{genome_dir}: gene F1 genet5 {row['genet5_default']['gene']:.3f}, as a eukaryote "
                  f"{row['genet5_as_eukaryote']['gene']:.3f}, Prodigal -g {code} {row['prodigal']['gene']:.3f}", flush=True)
    OUT.write_text(json.dumps({"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                               "device": {"cpu": cpu_model(), "cores": os.cpu_count()}, "rows": rows}, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
