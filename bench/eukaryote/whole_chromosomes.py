#!/usr/bin/env python3
"""`genet5 predict` on whole eukaryotic chromosomes as a user runs it: wall time and peak memory.

The validation eukaryotes are 1-3 Mb; a user's genome comes in chromosomes of 20-60 Mb. This
runs the command (a fresh process, the genome's FASTA as shipped, no options but the output)
on the two largest single-record eukaryotes of shared/genomes, D. melanogaster dm3 chr2R (21
Mb) and A. thaliana chr1 (30 Mb), both `train` genomes (so the gene F1 printed beside them is a
training-genome figure, shown only so that a broken run shows), then on the two as one FASTA of
two records (peak memory: per record or per genome), then on the one whole large validation
genome, Zymoseptoria tritici (39.7 Mb in 21 chromosomes; its gene F1 is a validation figure).
Peak RSS of each child process (wait4), wall clock, the machine's load average before each run.

    python bench/eukaryote/whole_chromosomes.py      # -> bench/results/eukaryote_whole_chromosomes.json
    python bench/eukaryote/whole_chromosomes.py --genomes vertebrates/Homo_sapiens_GRCh37_chrX \
        --out bench/results/eukaryote_whole_chromosome_human.json   # named genomes only (~6 min)
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GENOMES = Path(os.environ.get("GENET5_SHARED", REPO.parent / "shared")) / "genomes"
OUT = REPO / "bench" / "results" / "eukaryote_whole_chromosomes.json"
CASES = ["invertebrates/Drosophila_melanogaster_dm3_chr2R", "plants/Arabidopsis_thaliana_TAIR10_chr1"]
WHOLE_GENOMES = ["fungi/Zymoseptoria_tritici_IPO323"]  # many records, run after the chromosomes


def run(fasta: Path, out: Path) -> dict:
    """One `genet5 predict` in a child process: seconds, peak RSS of that child, its summary line."""
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen([sys.executable, "-m", "genet5", "predict", str(fasta), "-o", str(out)],
                             stdout=subprocess.DEVNULL, stderr=err, text=True)
        # this child's own rusage (its forked workers' too, where larger), not the largest of all runs so far
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - t0
        err.seek(0)
        stderr = err.read()
    if p.returncode:
        raise SystemExit(f"genet5 predict {fasta} failed:\n{stderr}")
    return {"seconds": round(seconds, 1), "peak_rss_gb": round(usage.ru_maxrss / 1024 ** 2, 2), "load_before": round(load, 2),
            "summary": stderr.strip().splitlines()[-1]}


def gene_f1(ref: Path, pred: Path, genome: Path) -> float:
    from genet5.evaluate.compare import compare_files

    return round(compare_files(ref, pred, genome).result.total["gene"].f1, 4)


def measure(case: str, tmp: Path, splits: dict, result: dict) -> Path:
    """Runs one shared genome (its FASTA unpacked into tmp), scores it, records it in result;
    returns the plain FASTA."""
    fa = tmp / (case.split("/")[-1] + ".fa")
    with gzip.open(GENOMES / case / "genome.fa.gz", "rb") as src:
        fa.write_bytes(src.read())
    bases = sum(len(ln.strip()) for ln in fa.read_bytes().splitlines() if not ln.startswith(b">"))
    r = run(fa, tmp / "out.gff3")
    ref = next((GENOMES / case).glob("annotation.*"))
    r.update(bases=bases, split=splits.get(case, "?"), gene_f1=gene_f1(ref, tmp / "out.gff3", fa),
             bp_per_s=round(bases / r["seconds"]))
    result["runs"][case] = r
    print(case, r, flush=True)
    return fa


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--genomes", nargs="+", help="shared genomes (paths under shared/genomes) to run alone instead")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    if not GENOMES.exists():
        print(f"{GENOMES} not found: nothing to measure", file=sys.stderr)
        return 0
    from genet5.data.splits import read_splits

    splits = read_splits(GENOMES / "splits.tsv")
    result = {"date": dt.datetime.now().isoformat(timespec="minutes"), "cpu": platform.processor() or platform.machine(),
              "cores": os.cpu_count(), "runs": {}}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if args.genomes:
            for case in args.genomes:
                measure(case, tmp, splits, result)
            args.out.write_text(json.dumps(result, indent=1) + "\n")
            return 0
        plain = []
        for case in CASES:
            plain.append(measure(case, tmp, splits, result))
        both = tmp / "both.fa"
        both.write_bytes(b"".join(f.read_bytes() for f in plain))
        r = run(both, tmp / "out.gff3")
        r["bases"] = sum(v["bases"] for v in result["runs"].values())
        r["bp_per_s"] = round(r["bases"] / r["seconds"])
        result["runs"]["both, one FASTA of two records"] = r
        print("both", r, flush=True)
        for case in WHOLE_GENOMES:
            measure(case, tmp, splits, result)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
