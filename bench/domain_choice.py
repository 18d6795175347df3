#!/usr/bin/env python3
"""`--domain auto` (predict/domain.py) on every shared genome: the domain it chooses from the
first 2 Mb, its two numbers, the time, and whether the choice matches the genome's taxon in
manifest.tsv (organelles and plastids count as prokaryote-like: their genes have no introns to
speak of, and the eukaryote decoder is wrong for them).

    python bench/domain_choice.py [--genomes ../shared/genomes]   -> bench/results/domain_choice.json
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from genet5.genome.fasta import read_fasta  # noqa: E402
from genet5.predict.domain import choose_domain, read_head  # noqa: E402

EUKARYOTE_TAXA = {"fungi", "invertebrates", "plants", "vertebrates"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genomes", type=Path, default=REPO.parent / "shared" / "genomes")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "domain_choice.json")
    args = ap.parse_args()
    if not (args.genomes / "manifest.tsv").is_file():
        print(f"{args.genomes}: no manifest.tsv (the shared genomes are not here)", file=sys.stderr)
        return 2
    splits = {r[0]: r[1] for r in (ln.split("\t") for ln in (args.genomes / "splits.tsv").read_text().splitlines()[1:]) if r}
    rows = []
    for r in csv.DictReader(open(args.genomes / "manifest.tsv"), delimiter="\t"):
        t0 = time.perf_counter()
        head, sample = read_head(read_fasta(args.genomes / r["path"] / "genome.fa.gz"))
        c = choose_domain(sample, [rec.description for rec in head])  # as the CLI asks: the headers too
        want = "eukaryote" if r["taxon"] in EUKARYOTE_TAXA else "prokaryote"
        rows.append({"genome": r["path"], "taxon": r["taxon"], "split": splits.get(r["path"], ""), "chosen": c.domain,
                     "expected": want, "right": c.domain == want, "excess": round(c.excess, 3), "gap": c.gap, "organelle": c.organelle,
                     "bases": c.bases, "seconds": round(time.perf_counter() - t0, 2)})
        print(f"{r['path']:58s} {c.domain:10s} {'ok ' if c.domain == want else 'WRONG'} {c.reason()}", flush=True)
    doc = {"date": dt.datetime.now().isoformat(timespec="seconds"), "machine": platform.processor() or platform.machine(),
           "right": sum(x["right"] for x in rows), "genomes": len(rows), "rows": rows}
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{doc['right']} of {doc['genomes']} as expected; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
