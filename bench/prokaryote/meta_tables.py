#!/usr/bin/env python3
"""Meta mode without -g: which genetic code each piece is read under (issue 11, item 5).

`genet5 predict --meta` with no -g lets the table-4 parameter sets compete with the table-11
ones per sequence (predict/prokaryote/meta.py, find_genes_meta_any_code). This counts, on
evenly spaced 5 / 10 / 20 / 50 kb pieces of table-4 and AT-rich table-11 genomes, how many
pieces read table 4, with the readthrough rule (as shipped) and without it (the higher score
alone, Prodigal -p meta's rule), beside `prodigal -p meta`'s own choice (its Model Data line).
Each genome's split (shared/genomes/splits.tsv) is in the JSON.

    python bench/prokaryote/meta_tables.py     # -> bench/results/prokaryote_meta_tables.json
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GENOMES = Path(os.environ.get("GENET5_SHARED", REPO.parent / "shared")) / "genomes"
OUT = REPO / "bench" / "results" / "prokaryote_meta_tables.json"
SIZES = (5_000, 10_000, 20_000, 50_000)
PIECES = 40  # at most, per size (fewer where the genome is short)
# (genome, its true table): the table-4 genomes, then AT-rich table-11 ones (where a table-4 set
# can fit best), then two of other G+C
CASES = [("prokaryotes/Mycoplasmoides_alvi_ATCC29626", 4), ("prokaryotes/Mycoplasma_gallisepticum_NC_004829", 4),
         ("phages/erwinia_phage_LT960552", 11), ("phages/erwinia_phage_MT939486", 11),
         ("phages/erwinia_phage_MT939487", 11), ("phages/erwinia_phage_MT939488", 11),
         ("plastids/Arabidopsis_thaliana_chloroplast_NC_000932", 11), ("phages/enterobacteria_phage_NC_000902", 11),
         ("archaea/Methanosarcina_acetivorans_C2A", 11), ("archaea/Thermococcus_kodakarensis_KOD1", 11)]


def prodigal_table(seq: bytes) -> int:
    with tempfile.TemporaryDirectory() as d:
        fa = Path(d) / "p.fa"
        fa.write_bytes(b">p\n" + seq + b"\n")
        out = subprocess.run(["prodigal", "-i", str(fa), "-p", "meta", "-f", "gff", "-q"], capture_output=True, text=True).stdout
    return 4 if any(ln.startswith("# Model Data") and "transl_table=4" in ln for ln in out.splitlines()) else 11


def main() -> int:
    if not GENOMES.exists():
        print(f"{GENOMES} not found: nothing to measure", file=sys.stderr)
        return 0
    from genet5.data.splits import read_splits
    from genet5.genome.codes import genetic_code
    from genet5.genome.fasta import read_fasta
    from genet5.predict.decoders import COMMON_PROKARYOTIC_STARTS
    from genet5.predict.prokaryote.decoder import ProkaryoteSettings, prepare_record
    from genet5.predict.prokaryote.meta import find_genes_meta_any_code, load_sets

    splits = read_splits(GENOMES / "splits.tsv")
    sets, settings = load_sets(), ProkaryoteSettings(use_net=False)
    code11, code4 = genetic_code(11), genetic_code(4)

    def prepared(seq: bytes, code):
        return prepare_record("p", seq, code, code.starts & COMMON_PROKARYOTIC_STARTS, settings)

    result: dict = {"date": dt.date.today().isoformat(), "sizes": SIZES, "genomes": {}}
    for genome_dir, table in CASES:
        seq = max(read_fasta(GENOMES / genome_dir / "genome.fa.gz"), key=lambda r: len(r.seq)).seq
        row: dict = {"split": splits.get(genome_dir, "?"), "table": table}
        for size in SIZES:
            n = min(PIECES, len(seq) // size)
            if n == 0:
                continue
            step = len(seq) // n
            pieces = [seq[i * step : i * step + size] for i in range(n)]
            records = [prepared(p, code11) for p in pieces]
            cell = {"pieces": n}
            for name, rule in (("genet5", True), ("genet5_score_only", False)):
                tables = find_genes_meta_any_code(records, lambda i: prepared(pieces[i], code4), settings, sets,
                                                  readthrough_rule=rule)[2]
                cell[name] = tables.count(4)
            cell["prodigal_meta"] = sum(prodigal_table(p) == 4 for p in pieces)
            row[str(size)] = cell
        result["genomes"][genome_dir] = row
        print(genome_dir, row["split"], f"table {table}:", " | ".join(
            f"{s // 1000} kb {c['genet5']} / {c['genet5_score_only']} / {c['prodigal_meta']} of {c['pieces']}"
            for s, c in ((int(k), v) for k, v in row.items() if k.isdigit())), flush=True)
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print("pieces read as table 4: genet5 (as shipped) / without the readthrough rule / prodigal -p meta")
    return 0


if __name__ == "__main__":
    sys.exit(main())
