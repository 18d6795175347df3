#!/usr/bin/env python3
"""genet5.GeneFinder (the Python API, predict/finder.py) beside pyrodigal, what a Python user
would pick instead (Prodigal's algorithm as a library), on the prokaryotic validation genomes of
splits.tsv: the same sequences in memory, the same scorer (genet5 eval's), time in process.

    pip install pyrodigal      # a benchmark dependency only
    python bench/prokaryote/vs_pyrodigal.py [--rounds 3]   # -> bench/results/prokaryote_vs_pyrodigal.json

Also, time only, command_speed.py's mock metagenome (400 contigs of 2-20 kb) in meta mode.
Both train on the whole genome (all its records together) and then find the genes of each
record: pyrodigal `GeneFinder().train(*seqs, translation_table=CODE)` then `find_genes(seq)`;
genet5 `GeneFinder(genetic_code=CODE).find_genes_many(records)` (one call: its single mode
trains on the records together and decodes them). Times are medians of the rounds, alternating
the two; pyrodigal runs on one thread (its default), genet5 on its default threads.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench" / "prokaryote"))
from vs_prodigal import cpu_name, genetic_code_of, scores, validation_genomes  # noqa: E402

GENOMES = Path(os.environ.get("GENET5_SHARED", REPO.parent / "shared")) / "genomes"
OUT = REPO / "bench" / "results" / "prokaryote_vs_pyrodigal.json"


def run_pyrodigal(records: list[tuple[str, bytes]], code: int) -> tuple[float, str]:
    import pyrodigal

    t0 = time.perf_counter()
    finder = pyrodigal.GeneFinder()
    finder.train(*[seq for _, seq in records], translation_table=code)
    found = [(sid, finder.find_genes(seq)) for sid, seq in records]
    secs = time.perf_counter() - t0
    out = io.StringIO()
    for i, (sid, genes) in enumerate(found):
        genes.write_gff(out, sequence_id=sid, header=i == 0)
    return secs, out.getvalue()


def run_genet5(records: list[tuple[str, bytes]], code: int) -> tuple[float, str]:
    import genet5

    t0 = time.perf_counter()
    by_id = genet5.GeneFinder(genetic_code=code).find_genes_many(dict(records))
    secs = time.perf_counter() - t0
    out = io.StringIO()
    for i, (sid, _) in enumerate(records):
        by_id[sid].write_gff(out, header=i == 0)
    return secs, out.getvalue()


def metagenome_row(rounds: int) -> dict:
    """Time only (no single reference): command_speed.py's mock metagenome, 400 contigs of 2-20 kb,
    in meta mode, pyrodigal `GeneFinder(meta=True).find_genes` per contig beside genet5
    `GeneFinder(meta=True).find_genes_many` (one call: its processes on 1 Mb or more)."""
    import pyrodigal

    import genet5
    from command_speed import write_mock_metagenome
    from genet5.genome.fasta import read_fasta

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mock.fa"
        write_mock_metagenome(path)
        records = {r.id: r.seq for r in read_fasta(path)}
    times: dict[str, list[float]] = {"pyrodigal": [], "genet5": []}
    for _ in range(rounds):
        t0 = time.perf_counter()
        finder = pyrodigal.GeneFinder(meta=True)
        theirs = sum(len(finder.find_genes(seq)) for seq in records.values())
        times["pyrodigal"].append(round(time.perf_counter() - t0, 3))
        t0 = time.perf_counter()
        ours = sum(len(g) for g in genet5.GeneFinder(meta=True).find_genes_many(records).values())
        times["genet5"].append(round(time.perf_counter() - t0, 3))
    bp = sum(len(s) for s in records.values())
    row = {"genome": "mock-metagenome", "records": len(records), "bp": bp, "genes": {"pyrodigal": theirs, "genet5": ours}}
    for name, secs in times.items():
        row[name] = {"seconds": secs, "median_s": statistics.median(secs)}
    row["ratio_bp_per_s"] = round(row["pyrodigal"]["median_s"] / row["genet5"]["median_s"], 3)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    try:
        import pyrodigal
    except ImportError:
        raise SystemExit("needs pyrodigal: pip install pyrodigal")
    if not (GENOMES / "splits.tsv").is_file():
        raise SystemExit(f"needs {GENOMES} (../shared/genomes)")
    import genet5
    from genet5.genome.fasta import read_fasta

    rows = []
    for genome_dir in validation_genomes():
        code = genetic_code_of(genome_dir)
        fasta = GENOMES / genome_dir / "genome.fa.gz"
        records = [(r.id, r.seq) for r in read_fasta(fasta)]
        bp = sum(len(s) for _, s in records)
        times: dict[str, list[float]] = {"pyrodigal": [], "genet5": []}
        gff: dict[str, str] = {}
        for _ in range(args.rounds):
            for name, run in (("pyrodigal", run_pyrodigal), ("genet5", run_genet5)):
                secs, gff[name] = run(records, code)
                times[name].append(round(secs, 3))
        row = {"genome": genome_dir, "genetic_code": code, "bp": bp, "records": len(records)}
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("pyrodigal", "genet5"):
                path = Path(tmp) / f"{name}.gff3"
                path.write_text(gff[name])
                median = statistics.median(times[name])
                row[name] = {"seconds": times[name], "median_s": median, "bp_per_s": round(bp / median),
                             "scores": scores(GENOMES / genome_dir / "annotation.gff3.gz", path, fasta)}
        row["ratio_bp_per_s"] = round(row["pyrodigal"]["median_s"] / row["genet5"]["median_s"], 3)
        rows.append(row)
        p, g = row["pyrodigal"], row["genet5"]
        print(f"{genome_dir:45s} pyrodigal {p['scores']['start_stop']['f1']:.4f} ({p['scores']['stop']['f1']:.4f}) "
              f"{p['median_s']:.2f} s | genet5 {g['scores']['start_stop']['f1']:.4f} ({g['scores']['stop']['f1']:.4f}) "
              f"{g['median_s']:.2f} s | speed {row['ratio_bp_per_s']:.2f}x", flush=True)
    meta = metagenome_row(args.rounds)
    print(f"mock metagenome ({meta['records']} contigs, meta mode): pyrodigal {meta['pyrodigal']['median_s']:.2f} s | "
          f"genet5 {meta['genet5']['median_s']:.2f} s | speed {meta['ratio_bp_per_s']:.2f}x", flush=True)
    mean = lambda k: round(statistics.mean(r[k]["scores"]["start_stop"]["f1"] for r in rows), 4)  # noqa: E731
    result = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "device": {"cpu": cpu_name(), "cores": os.cpu_count()},
              "versions": {"python": sys.version.split()[0], "pyrodigal": pyrodigal.__version__, "genet5": genet5.__version__},
              "scorer": "genet5.evaluate.compare.compare_files (genet5 eval --genome)", "rounds": args.rounds,
              "mean_start_stop_f1": {"pyrodigal": mean("pyrodigal"), "genet5": mean("genet5")}, "rows": rows,
              "metagenome": meta}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"validation mean start+stop F1: pyrodigal {result['mean_start_stop_f1']['pyrodigal']}, "
          f"genet5 {result['mean_start_stop_f1']['genet5']}; wrote {args.out}")


if __name__ == "__main__":
    main()
