#!/usr/bin/env python3
"""Speed of the eukaryote decoder (predict/eukaryote/decoder.py `find_genes`: seed pass, four
self-training rounds, the site classifier and its per-genome fine-tune) on the validation
genomes, in process, with a digest of the genes so that runs of two code versions can be shown
to give the same genes.

Cases (the dev harness's sequences): C. elegans 1% (all), Arabidopsis 1% Chr2-5 (Chr1 overlaps
training), Zymoseptoria tritici chr_10 + chr_11. Each case runs `--repeats` times in a fresh
process (imports and model loading excluded from the time); the median wall time is reported
with every run's time, the 1-minute load average before each run and the peak RSS.

    python bench/eukaryote/decoder_speed.py --label after [--repeats 3] [--cases worm,athal,zymo] [--workers N]
    python bench/eukaryote/decoder_speed.py --label augustus --augustus [--repeats 1]   # the peer, same load

Results are merged by label into bench/results/eukaryote_decoder_speed.json. To time an older
version, run this script with that version's src first on PYTHONPATH (and the same --label
scheme); the gene digests must then match.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "bench" / "results" / "eukaryote_decoder_speed.json"
SHARED = REPO.parent / "shared" / "genomes"
CASES = {
    "worm": ("invertebrates/Caenorhabditis_elegans_WS270_1pct", None),
    "athal": ("plants/Arabidopsis_thaliana_TAIR10_1pct", ["Chr2", "Chr3", "Chr4", "Chr5"]),
    "zymo": ("fungi/Zymoseptoria_tritici_IPO323", ["chr_10", "chr_11"]),
}


def one_run(case: str, workers: int = 0) -> dict:
    """Decode one case in this process; time, genes and their digest. `workers` 0: the
    decoder's default (EukaryoteSettings.workers; code before it had none: then ignored)."""
    import genet5
    from genet5.genome.codes import genetic_code
    from genet5.genome.fasta import read_fasta
    from genet5.predict.eukaryote.decoder import EukaryoteSettings, find_genes

    path, keep = CASES[case]
    recs = [r for r in read_fasta(SHARED / path / "genome.fa.gz") if keep is None or r.id in keep]
    records, masks = [(r.id, r.seq) for r in recs], [r.mask for r in recs]
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    settings = EukaryoteSettings(workers=workers) if workers else None
    genes, _ = find_genes(records, genetic_code(1), settings, masks=masks)
    seconds = time.perf_counter() - t0
    keys = [(sid, g.strand, tuple(g.cds), g.start_partial, g.end_partial) for (sid, _), found in zip(records, genes) for g in found]
    return {"seconds": round(seconds, 2), "bp": sum(len(s) for _, s in records), "genes": len(keys),
            "genes_md5": hashlib.md5(repr(keys).encode()).hexdigest(), "load_before": load,
            # with each gene's start codon and score: the same path bit for bit gives the same digest
            "scores_md5": hashlib.md5(repr([(g.start_codon, g.score) for found in genes for g in found]).encode()).hexdigest(),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "src": str(Path(genet5.__file__).parent),
            "workers": getattr(settings or EukaryoteSettings(), "workers", None), "load_after": os.getloadavg()[0],
            "cpu_seconds": round(time.process_time(), 2),  # this process, imports included
            "cpu_seconds_workers": round(sum(getattr(resource.getrusage(resource.RUSAGE_CHILDREN), f) for f in ("ru_utime", "ru_stime")), 2),
            "peak_rss_mb_worker": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)}


AUGUSTUS_SPECIES = {"worm": "caenorhabditis", "athal": "arabidopsis", "zymo": "Sphaceloma_murrayae"}  # as bench/baselines


def augustus_run(case: str, jobs: int = 2) -> dict:
    """AUGUSTUS on the same sequences as bench/baselines/run_baselines.py runs it (one process
    per sequence, `jobs` at a time, --gff3=on, the species of its case), timed here so that
    both tools meet the same load: wall and CPU seconds, load before and after."""
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    from genet5.genome.fasta import read_fasta

    path, keep = CASES[case]
    env = dict(os.environ, AUGUSTUS_CONFIG_PATH=os.environ.get("AUGUSTUS_CONFIG_PATH", "/usr/share/augustus/config"))
    with tempfile.TemporaryDirectory() as wd:
        files, bp = [], 0
        for r in read_fasta(SHARED / path / "genome.fa.gz"):
            if keep is None or r.id in keep:
                f = Path(wd) / f"{r.id}.fa"
                f.write_bytes(b">" + r.id.encode() + b"\n" + r.seq + b"\n")
                files.append(f)
                bp += len(r.seq)

        def run(f: Path) -> None:
            with open(f.with_suffix(".gff3"), "w") as out:
                subprocess.run(["augustus", f"--species={AUGUSTUS_SPECIES[case]}", "--gff3=on", str(f)], stdout=out,
                               env=env, check=True)

        load, before = os.getloadavg()[0], resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(run, sorted(files, key=lambda f: -f.stat().st_size)))
        seconds = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(getattr(after, k) - getattr(before, k) for k in ("ru_utime", "ru_stime"))
    return {"seconds": round(seconds, 2), "bp": bp, "cpu_seconds": round(cpu, 2), "processes": len(files), "jobs": jobs,
            "load_before": load, "load_after": os.getloadavg()[0], "tool": "augustus --species=" + AUGUSTUS_SPECIES[case]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--label", required=True, help="name of this code version in the JSON (e.g. before, after)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--workers", type=int, default=0, help="decoder processes (0: the decoder's default, the CPUs available)")
    ap.add_argument("--augustus", action="store_true",
                    help="time AUGUSTUS (2 processes, as bench/baselines) on the cases instead, under this label")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # child process: one run of one case, JSON on stdout
    a = ap.parse_args()
    if a.one:
        print(json.dumps(augustus_run(a.one) if a.augustus else one_run(a.one, a.workers)))
        return 0
    entry = {"date": dt.date.today().isoformat(), "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, CPU",
             "cases": {}}
    for case in a.cases.split(","):
        runs = []
        for _ in range(a.repeats):
            done = subprocess.run([sys.executable, __file__, "--label", a.label, "--one", case, "--workers", str(a.workers)]
                                  + (["--augustus"] if a.augustus else []), capture_output=True, text=True, check=True)
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(case, runs[-1], flush=True)
        med = statistics.median(r["seconds"] for r in runs)
        entry["cases"][case] = {"median_seconds": med, "kbp_per_s": round(runs[0]["bp"] / med / 1000, 1), "runs": runs}
        if not a.augustus:
            entry["cases"][case]["same_genes_every_run"] = len({r["genes_md5"] for r in runs}) == 1
        # written after each case (read late: another label may run beside this one)
        doc = json.loads(OUT.read_text()) if OUT.exists() else {}
        doc[a.label] = entry
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps({c: (v["median_seconds"], v["kbp_per_s"]) for c, v in entry["cases"].items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
