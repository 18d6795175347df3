#!/usr/bin/env python3
"""`genet5 predict --decoder seq2seq` beside the default prokaryote decoder and Prodigal (issue 14),
with vs_prodigal.py's scorer and genomes: its JSON (bench/results/prokaryote_vs_prodigal.json)
gives the Prodigal and default-decoder rows; this script decodes each genome with one or more
seq2seq checkpoints through the same path as the CLI (predict_genome, Seq2SeqDecoder), times
it, scores it with vs_prodigal.scores, and writes bench/results/seq2seq_vs_prodigal.json.

    python bench/prokaryote/seq2seq_vs_prodigal.py --models genet5-seq2seq runs/x/model
    python bench/prokaryote/seq2seq_vs_prodigal.py --table
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vs_prodigal as vp  # noqa: E402

OUT = vp.RESULTS / "seq2seq_vs_prodigal.json"
DEFAULT_GENOMES = ("phages/erwinia_phage_MT939486", "phages/erwinia_phage_LT960552", "prokaryotes/Mycoplasmoides_alvi_ATCC29626")


def run(genome_dir: str, model: str, label: str) -> dict:
    import gzip
    import shutil

    from genet5.genome.gff3_writer import write_gff3
    from genet5.predict.pipeline import PredictConfig, predict_genome

    wd = vp.WORK / genome_dir.replace("/", "_")
    wd.mkdir(parents=True, exist_ok=True)
    fasta = wd / "genome.fa"
    if not fasta.is_file():
        with gzip.open(vp.GENOMES / genome_dir / "genome.fa.gz", "rb") as fin, open(fasta, "wb") as fout:
            shutil.copyfileobj(fin, fout)
    code = vp.genetic_code_of(genome_dir)
    cfg = PredictConfig(domain="prokaryote", decoder="seq2seq", genetic_code=code, seq2seq_model=model)
    t0 = time.perf_counter()
    ann, lengths, stats = predict_genome(None, fasta, cfg)
    secs = time.perf_counter() - t0
    gff = wd / f"seq2seq_{label}.gff3"
    write_gff3(gff, ann, lengths)
    row = {"model": model, "genes": stats.genes, "seconds": round(secs, 1), "bp_per_s": round(stats.bases / secs),
           "scores": vp.scores(vp.GENOMES / genome_dir / "annotation.gff3.gz", gff, fasta)}  # fmt: skip
    print(f"{genome_dir} {label}: {json.dumps(row)}", flush=True)
    return row


def table(data: dict, peers: dict) -> str:
    labels = sorted({k for r in data["genomes"].values() for k in r})
    head = "| genome | Prodigal | default decoder | " + " | ".join(f"seq2seq {x}" for x in labels) + " |"
    lines = ["exact start+stop F1 (stop F1) bp/s", "", head, "|" + "---|" * (3 + len(labels))]
    f = lambda s: f"{s['start_stop']['f1']:.3f} ({s['stop']['f1']:.3f}) {s['bp_per_s']:,}"  # noqa: E731
    for g, rows in data["genomes"].items():
        peer = peers.get(g, {})
        p, d = peer.get("prodigal"), peer.get("genet5", {}).get("variants", {}).get("full")
        cell = lambda x: f({**x["scores"], "bp_per_s": x["bp_per_s"]}) if x else "-"  # noqa: E731
        lines.append(f"| {g.split('/')[-1]} | {cell(p)} | {cell(d)} | "
                     + " | ".join(f"{cell(rows[x])}, {rows[x]['genes']} genes" if x in rows else "-" for x in labels) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genomes", default=",".join(DEFAULT_GENOMES), help="comma-separated genome directories (validation)")
    ap.add_argument("--models", nargs="*", default=["genet5-seq2seq"], help="LABEL=DIR or DIR (label: the directory's parent name)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--table", action="store_true")
    args = ap.parse_args()
    data = json.loads(args.out.read_text()) if args.out.is_file() else {"genomes": {}}
    if not args.table:
        split = vp.read_splits(vp.GENOMES / "splits.tsv")
        for g in args.genomes.split(","):
            if split.get(g) != "validation":
                raise SystemExit(f"{g}: not a validation genome of splits.tsv")
            for m in args.models:
                label, model = m.split("=", 1) if "=" in m else (Path(m).parent.name or m, m)
                data["genomes"].setdefault(g, {})[label] = run(g, model, label)
        data.update(date=dt.date.today().isoformat(), device={"cpu": vp.cpu_name(), "threads": 1},
                    scorer="bench/prokaryote/vs_prodigal.py scores (genet5.evaluate.compare.compare_files)")
        args.out.write_text(json.dumps(data, indent=1))
    peers = {r["genome"]: r for r in json.loads(vp.OUT.read_text())["genomes"]} if vp.OUT.is_file() else {}
    print(table(data, peers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
