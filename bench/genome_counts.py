"""Per-genome load report of ../shared/genomes: our coding-transcript count beside an independent
count, and the CDS validity rate; JSON plus a Markdown table for docs/benchmarks.md.

The independent count is the manifest's `coding_transcripts` column (the curators' count), or,
where that column counts something else (see tests/test_shared_genomes.py), a plain line scan of
the annotation that does not use genet5's parser (distinct transcript keys of CDS rows).

    python bench/genome_counts.py [--shared ../shared/genomes] [--out bench/results/genome_counts.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from test_shared_genomes import MANIFEST_COUNTS_OTHER, scan_transcript_ids  # noqa: E402

from genet5.genome.stats import genome_stats  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "genomes")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "genome_counts.json")
    args = ap.parse_args()
    rows = list(csv.DictReader(open(args.shared / "manifest.tsv"), delimiter="\t"))
    out = []
    print("| genome | sequences | bp | coding transcripts (ours) | independent count | how counted | CDS valid |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        name = row["path"].split("/")[-1]
        d = args.shared / row["path"]
        t0 = time.perf_counter()
        report = genome_stats(d / "genome.fa.gz", d / row["annotation"])
        ann = report["annotation"]
        if name in MANIFEST_COUNTS_OTHER:
            independent, how = scan_transcript_ids(d / row["annotation"]), "line scan (manifest counts " + MANIFEST_COUNTS_OTHER[name].split(";")[0] + f": {row['coding_transcripts']})"
        else:
            independent, how = int(row["coding_transcripts"]), "manifest"
        v = ann["validation"]
        rec = {
            "genome": row["path"], "sequences": report["sequences"]["count"], "bp": report["sequences"]["total_bp"],
            "coding_transcripts": ann["coding_transcripts"], "coding_genes": ann["coding_genes"],
            "independent_count": independent, "independent_how": how,
            "cds_valid_fraction": v["valid_fraction"], "seconds": round(time.perf_counter() - t0, 2),
        }
        out.append(rec)
        print(f"| {row['path']} | {rec['sequences']} | {rec['bp']:,} | {rec['coding_transcripts']:,} | {independent:,} | {how} | {100 * v['valid_fraction']:.2f}% |", flush=True)
    args.out.write_text(json.dumps({"benchmark": "genome_counts", "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "genomes": out}, indent=1) + "\n")


if __name__ == "__main__":
    main()
