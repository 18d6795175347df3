#!/usr/bin/env python3
"""`-g auto` on every shared genome of table 11 or 4 (its first 2 Mb, as the CLI reads it) and
on pieces cut from seven of them: the table chosen, the evidence (TGA-ended genes read on as
coding past the TGA), and the seconds it took.

    python bench/prokaryote/code_choice.py     # -> bench/results/prokaryote_code_choice.json

Pieces: twelve per genome and size (10, 20, 50, 100 kb), evenly spaced along its longest record.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GENOMES = Path(os.environ.get("GENET5_SHARED", REPO.parent / "shared")) / "genomes"
OUT = REPO / "bench" / "results" / "prokaryote_code_choice.json"
PIECE_GENOMES = ["prokaryotes/Mycoplasmoides_alvi_ATCC29626", "prokaryotes/Mycoplasma_gallisepticum_NC_004829",
                 "prokaryotes/Vibrio_cholerae_RFB16", "prokaryotes/Escherichia_coli_K12_MG1655",
                 "prokaryotes/Bradyrhizobium_japonicum_USDA110", "archaea/Thermococcus_kodakarensis_KOD1",
                 "archaea/Methanosarcina_acetivorans_C2A", "phages/erwinia_phage_MT939486"]
PIECE_SIZES = (10_000, 20_000, 50_000, 100_000)
PIECES = 12


def main() -> int:
    if not GENOMES.exists():
        print(f"no shared genomes at {GENOMES}", file=sys.stderr)
        return 1
    from genet5.data.splits import read_manifest
    from genet5.genome.fasta import read_fasta
    from genet5.predict.prokaryote.code_choice import choose_code

    whole, pieces = [], []
    for e in read_manifest(GENOMES / "manifest.tsv"):
        if e.genetic_code not in (4, 11):
            continue
        path = e.path.strip("/")
        t0 = time.perf_counter()
        c = choose_code([(r.id, r.seq) for r in read_fasta(GENOMES / path / "genome.fa.gz")])
        secs = time.perf_counter() - t0
        whole.append({"genome": path, "table": e.genetic_code, "chosen": c.table, "readthroughs": c.readthroughs,
                      "coding": c.coding, "seconds": round(secs, 2)})
        print(f"{path:58s} table {e.genetic_code} chosen {c.table}  {c.describe()}  {secs:.1f}s", flush=True)
        if path in PIECE_GENOMES:
            seq = max((r.seq for r in read_fasta(GENOMES / path / "genome.fa.gz")), key=len)
            for size in PIECE_SIZES:
                step = max((len(seq) - size) // PIECES, 1)
                chosen = [choose_code([("piece", seq[k * step : k * step + size])]).table for k in range(PIECES)]
                pieces.append({"genome": path, "table": e.genetic_code, "size": size, "pieces": PIECES,
                               "chosen_table_4": chosen.count(4)})
                print(f"  {size // 1000} kb pieces: table 4 chosen for {chosen.count(4)} of {PIECES}", flush=True)
    wrong = sum(w["chosen"] != w["table"] for w in whole)
    OUT.write_text(json.dumps({"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                               "device": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
                               "whole_genomes": whole, "wrong_whole_genomes": wrong, "pieces": pieces}, indent=1) + "\n")
    print(f"{len(whole) - wrong} of {len(whole)} genomes right; wrote {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
