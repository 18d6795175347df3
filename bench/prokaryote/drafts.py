#!/usr/bin/env python3
"""Draft assemblies: each prokaryotic validation genome cut at random points into many contigs,
then `genet5 predict DRAFT -o OUT` with no other option (the domain and table read from the
draft, as a user who passes nothing gets them) beside Prodigal 2.6.3 (`-p single -g CODE`, the
table given) on the same file.

    python bench/prokaryote/drafts.py [--rounds 3]    # -> bench/results/prokaryote_drafts.json

Scored exactly (start and stop) on the reference genes wholly inside one contig, against each
tool's complete (not partial) genes; and, "with cut genes", every gene of each tool against
those plus the pieces of the reference genes a cut splits, each running to the contig's edge as
NCBI annotates a cut gene in a draft (partial=true, to the last base before the edge; pieces of
MIN_CUT_PIECE bases or more). The cuts are drawn with a fixed seed, so every run cuts the same
drafts. Seconds: the median of --rounds runs of each tool, the two alternated (load changes hit
both).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from phage_errors import reference  # noqa: E402  (the exact CDS set of a reference, shared)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from io_speed import installed_env  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
GENOMES = Path(os.environ.get("GENET5_SHARED", REPO.parent / "shared")) / "genomes"
OUT = REPO / "bench" / "results" / "prokaryote_drafts.json"
CASES = [("prokaryotes/Vibrio_cholerae_RFB16", 11, (75, 300, 1000)), ("prokaryotes/Mycoplasmoides_alvi_ATCC29626", 4, (40, 150)),
         ("archaea/Thermococcus_kodakarensis_KOD1", 11, (75, 300))]
GENET5 = [sys.executable, "-m", "genet5"]


# A reference gene cut by a contig end counts, in the "with cut genes" scores, as the piece of it
# on each side that is at least this long (what a gene finder can call), running to the edge as
# NCBI annotates a cut gene (partial=true, to the last base before the edge)
MIN_CUT_PIECE = 90


def cut(genome_dir: str, contigs: int, seed: int = 0, with_cut: bool = False):
    """The genome in about `contigs` pieces (per record, in proportion to its length) and the
    reference genes wholly inside a piece, in the piece's coordinates; with_cut: and the pieces
    of the genes that a cut splits (MIN_CUT_PIECE), as a third value."""
    from genet5.genome.fasta import read_fasta

    records = list(read_fasta(GENOMES / genome_dir / "genome.fa.gz"))
    ref = reference(GENOMES / genome_dir / "annotation.gff3.gz")
    rng = random.Random(seed)
    total = sum(len(r.seq) for r in records)
    pieces, truth, cut_genes = [], set(), set()
    for r in records:
        k = max(1, round(contigs * len(r.seq) / total))
        inner = range(1000, len(r.seq) - 1000)
        bounds = [0] + (sorted(rng.sample(inner, k - 1)) if k > 1 and len(inner) >= k else []) + [len(r.seq)]
        for i, (lo, hi) in enumerate(zip(bounds, bounds[1:])):
            name = f"{r.id}_contig{i + 1}"
            pieces.append((name, r.seq[lo:hi]))
            truth |= {(name, st, a - lo, b - lo) for sid, st, a, b in ref if sid == r.id and a > lo and b <= hi}
            cut_genes |= {(name, st, max(a, lo + 1) - lo, min(b, hi) - lo) for sid, st, a, b in ref
                          if sid == r.id and a <= hi and b > lo and not (a > lo and b <= hi) and min(b, hi) - max(a, lo + 1) + 1 >= MIN_CUT_PIECE}
    return (pieces, truth, cut_genes) if with_cut else (pieces, truth)


def complete_cds(gff: str, is_partial) -> set:
    out = set()
    for ln in gff.splitlines():
        f = ln.split("\t")
        if len(f) == 9 and f[2] == "CDS" and not is_partial(f[8]):
            out.add((f[0], f[6], int(f[3]), int(f[4])))
    return out


def all_cds(gff: str) -> set:
    return complete_cds(gff, lambda attrs: False)


def f1(pred: set, truth: set) -> float:
    return 2 * len(pred & truth) / max(len(pred) + len(truth), 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3, help="runs of each tool per draft (median seconds)")
    args = ap.parse_args()
    if not GENOMES.exists():
        print(f"no shared genomes at {GENOMES}", file=sys.stderr)
        return 1
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        fa, out = Path(tmp) / "draft.fa", Path(tmp) / "out.gff3"
        env = installed_env(Path(tmp) / "pycache")  # genet5 with its bytecode, as installed
        for genome_dir, code, sizes in CASES:
            for contigs in sizes:
                pieces, truth, cut_genes = cut(genome_dir, contigs, with_cut=True)
                fa.write_text("".join(f">{name}\n{seq.decode()}\n" for name, seq in pieces))
                ours_times, prod_times = [], []
                for _ in range(max(args.rounds, 1)):
                    t0 = time.perf_counter()
                    p = subprocess.run(GENET5 + ["predict", str(fa), "-o", str(out)], capture_output=True, text=True, env=env)
                    ours_times.append(time.perf_counter() - t0)
                    if p.returncode != 0:
                        print(p.stderr, file=sys.stderr)
                        return 1
                    t0 = time.perf_counter()
                    prod = subprocess.run(["prodigal", "-i", str(fa), "-f", "gff", "-q", "-g", str(code)],
                                          capture_output=True, text=True, check=True).stdout
                    prod_times.append(time.perf_counter() - t0)
                ours_s, prod_s = statistics.median(ours_times), statistics.median(prod_times)
                text = out.read_text()
                used = text.split("genetic code ", 1)[1].split(",", 1)[0].strip()
                ours = complete_cds(text, lambda attrs: "partial=true" in attrs)
                theirs = complete_cds(prod, lambda attrs: "partial=00" not in attrs)
                row = {"genome": genome_dir, "table": code, "contigs": len(pieces), "reference_complete_genes": len(truth),
                       "genet5_table_used": int(used), "genet5_f1": round(f1(ours, truth), 4), "genet5_genes": len(ours),
                       "genet5_seconds": round(ours_s, 2), "prodigal_f1": round(f1(theirs, truth), 4),
                       "prodigal_genes": len(theirs), "prodigal_seconds": round(prod_s, 2),
                       "genet5_over_prodigal_bp_per_s": round(prod_s / ours_s, 2),
                       # every gene, cut ones included, against the reference with its cut genes' pieces
                       "reference_cut_pieces": len(cut_genes),
                       "genet5_f1_with_cut": round(f1(all_cds(text), truth | cut_genes), 4),
                       "prodigal_f1_with_cut": round(f1(all_cds(prod), truth | cut_genes), 4),
                       "genet5_cut_found": len(all_cds(text) & cut_genes), "prodigal_cut_found": len(all_cds(prod) & cut_genes)}
                rows.append(row)
                print(f"{genome_dir:45s} {len(pieces):4d} contigs  genet5 {row['genet5_f1']:.4f} (table {used}, "
                      f"{ours_s:.1f} s)  Prodigal {row['prodigal_f1']:.4f} ({prod_s:.1f} s); with cut genes "
                      f"{row['genet5_f1_with_cut']:.4f} / {row['prodigal_f1_with_cut']:.4f} (cut pieces found "
                      f"{row['genet5_cut_found']} / {row['prodigal_cut_found']} of {len(cut_genes)})", flush=True)
    OUT.write_text(json.dumps({"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                               "device": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
                               "load_at_end": os.getloadavg(), "rounds": max(args.rounds, 1),
                               "genet5_command": "genet5 predict DRAFT -o OUT",
                               "genet5_bytecode": "compiled once, as installed (io_speed.installed_env)", "prodigal_command": "prodigal -i DRAFT -f gff -q -g CODE",
                               "rows": rows}, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
