#!/usr/bin/env python3
"""Whole-command speed and memory of `genet5 predict` beside Prodigal on prokaryotic genomes.

Each round runs, on the same uncompressed FASTA, `prodigal -i G -g CODE -f gff -q` and then
`genet5 predict G -o OUT --domain prokaryote -g CODE -q` (fresh processes, start-up, reading and
writing included, as a user runs them, genet5's bytecode compiled once as an install has it),
under `/usr/bin/time` for the peak RSS; the rounds
alternate the two so load changes hit both. Medians of the rounds are reported with the ratio of
bp/s, the machine's load average and the CPU.

    python bench/prokaryote/command_speed.py [--rounds 3] [--genomes DIR,DIR] [--defaults]
        # -> bench/results/prokaryote_command_speed.json

Default genomes: three validation genomes (Vibrio 4.1 Mb, T. kodakarensis 2.1 Mb, the phage
MT939486 0.36 Mb), Bradyrhizobium (train, 9.1 Mb: the largest, for memory) and MOCK_METAGENOME:
400 contigs of 2-20 kb cut from Vibrio, T. kodakarensis, the phage LT960552 and E. coli (fixed
seed), run as a metagenome is, `prodigal -p meta` beside `genet5 predict --meta`; and
MOCK_SHORT_CONTIGS: 2,000 contigs of 0.5-3 kb from the same genomes, run the same way.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
from io_speed import cpu_model, installed_env  # noqa: E402

GENOMES = Path(os.environ.get("GENET5_SHARED", REPO.parent / "shared")) / "genomes"
OUT = REPO / "bench" / "results" / "prokaryote_command_speed.json"
MOCK_METAGENOME = "mock-metagenome"
MOCK_SHORT_CONTIGS = "mock-short-contigs"  # 2,000 contigs of 0.5-3 kb: an assembly's long tail
MOCK_SOURCES = ["prokaryotes/Vibrio_cholerae_RFB16", "archaea/Thermococcus_kodakarensis_KOD1",
                "phages/erwinia_phage_LT960552", "prokaryotes/Escherichia_coli_K12_MG1655"]
DEFAULT = ["prokaryotes/Vibrio_cholerae_RFB16", "archaea/Thermococcus_kodakarensis_KOD1",
           "phages/erwinia_phage_MT939486", "prokaryotes/Bradyrhizobium_japonicum_USDA110", MOCK_METAGENOME,
           MOCK_SHORT_CONTIGS]


def write_mock_metagenome(path: Path, per_genome: int = 100, seed: int = 0, short: bool = False) -> None:
    """Contigs of 2, 5, 10 or 20 kb from random places of MOCK_SOURCES (all code 11); short:
    500 per genome of 0.5-3 kb instead, the many short contigs of a metagenome's assembly."""
    import random

    rng = random.Random(seed)
    with open(path, "w") as out:
        n = 0
        for genome_dir in MOCK_SOURCES:
            with gzip.open(GENOMES / genome_dir / "genome.fa.gz", "rt") as f:
                seq = "".join(ln.strip() for ln in f if not ln.startswith(">"))
            for _ in range(500 if short else per_genome):
                size = rng.randint(500, 3000) if short else rng.choice([2000, 5000, 10000, 20000])
                at = rng.randrange(0, len(seq) - size)
                out.write(f">contig{n}\n{seq[at:at + size]}\n")
                n += 1


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS in kB) of one command."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True, env=env)
    secs = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr[-500:]}")
    return secs, int(p.stderr.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--genomes", default=",".join(DEFAULT))
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--defaults", action="store_true",
                    help="also time `genet5 predict G -o OUT -q` (domain, table and mode read from the genome)")
    args = ap.parse_args()
    if not GENOMES.exists() or not shutil.which("prodigal") or not Path("/usr/bin/time").exists():
        print("needs ../shared/genomes, prodigal and /usr/bin/time", file=sys.stderr)
        return 1
    from genet5.data.splits import read_manifest, read_splits

    codes = {e.path.strip("/"): e.genetic_code for e in read_manifest(GENOMES / "manifest.tsv")}
    splits = read_splits(GENOMES / "splits.tsv")
    genet5 = str(Path(sys.executable).parent / "genet5")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        env = installed_env(Path(tmp) / "pycache")  # genet5 with its bytecode, as installed
        for genome_dir in args.genomes.split(","):
            fa = Path(tmp) / "genome.fa"
            meta = genome_dir in (MOCK_METAGENOME, MOCK_SHORT_CONTIGS)
            if meta:
                write_mock_metagenome(fa, short=genome_dir == MOCK_SHORT_CONTIGS)
            else:
                with gzip.open(GENOMES / genome_dir / "genome.fa.gz", "rb") as src, open(fa, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            bp = sum(len(ln.strip()) for ln in open(fa, "rb") if not ln.startswith(b">"))
            code = "11" if meta else str(codes[genome_dir])
            ours, theirs, plain = [], [], []
            for _ in range(args.rounds):
                theirs.append(timed(["prodigal", "-i", str(fa), "-g", code, "-f", "gff", "-q", "-o", os.devnull]
                                    + (["-p", "meta"] if meta else [])))
                ours.append(timed([genet5, "predict", str(fa), "-o", str(Path(tmp) / "out.gff3"), "--domain", "prokaryote",
                                   "-g", code, "-q"] + (["--meta"] if meta else []), env))
                if args.defaults:
                    plain.append(timed([genet5, "predict", str(fa), "-o", str(Path(tmp) / "out.gff3"), "-q"], env))
            o, t = statistics.median(s for s, _ in ours), statistics.median(s for s, _ in theirs)
            row = {"genome": genome_dir, "split": "validation + train pieces" if meta else splits.get(genome_dir, ""),
                   "mode": "meta" if meta else "single", "bp": bp, "genet5_seconds": [round(s, 3) for s, _ in ours],
                   "prodigal_seconds": [round(s, 3) for s, _ in theirs], "genet5_median_s": round(o, 3), "prodigal_median_s": round(t, 3),
                   "ratio_bp_per_s": round(t / o, 3), "genet5_peak_rss_mb": round(max(r for _, r in ours) / 1024, 1),
                   "prodigal_peak_rss_mb": round(max(r for _, r in theirs) / 1024, 1), "load_average": os.getloadavg()}
            if plain:  # what a user gets without naming the domain and table: genet5 reads both from the genome
                d = statistics.median(s for s, _ in plain)
                row.update(genet5_defaults_seconds=[round(s, 3) for s, _ in plain], genet5_defaults_median_s=round(d, 3),
                           defaults_ratio_bp_per_s=round(t / d, 3))
            rows.append(row)
            print(f"{genome_dir:45s} {bp:>10,} bp  genet5 {o:.2f} s  Prodigal {t:.2f} s  ratio {t / o:.2f}x  "
                  f"peak RSS {row['genet5_peak_rss_mb']} MB  load {row['load_average'][0]:.2f}"
                  + (f"  defaults {d:.2f} s ({t / d:.2f}x)" if plain else ""), flush=True)
    args.out.write_text(json.dumps({"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                                    "device": {"cpu": cpu_model(), "cores": os.cpu_count()}, "rounds": args.rounds,
                                    "genet5_bytecode": "compiled once, as installed (io_speed.installed_env)",
                                    "rows": rows}, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
