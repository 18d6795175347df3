#!/usr/bin/env python3
"""`genet5 predict --domain eukaryote --decoder seq2seq` (GeneT5's encoder-decoder, issue 14)
beside the default eukaryote decoder (`selftrained`) and AUGUSTUS, on the eukaryote cases of
vs_augustus.py: the same sequences and references (its work directories), the same scorer
(vs_augustus.score: nucleotide, exon, gene; plus stop F1 from genet5's evaluator), both genet5
decoders run here through the CLI's path (predict_genome) and timed in the same process, one
after the other. AUGUSTUS's cells are read from its kept output (`make bench-tools` and a
vs_augustus.py run made them; a case without them is prepared here without AUGUSTUS).

    python bench/eukaryote/seq2seq_vs_selftrained.py                       # validation cases
    python bench/eukaryote/seq2seq_vs_selftrained.py celegans_1pct --models genet5-seq2seq-eukaryote runs/x/model
    python bench/eukaryote/seq2seq_vs_selftrained.py --no-selftrained --ablation   # + stitched parts only
    python bench/eukaryote/seq2seq_vs_selftrained.py --first-record --out bench/results/eukaryote_seq2seq_curve.json \
        celegans_1pct athal_1pct_no_chr1 dmel_1pct_no_2R yeast3 --no-selftrained --models RUN/model_step350 ...
    python bench/eukaryote/seq2seq_vs_selftrained.py --table

Writes bench/results/eukaryote_seq2seq.json (or --out).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vs_augustus as va  # noqa: E402
from run_baselines import GENOMES, prepare_genome, prepare_reference  # noqa: E402

OUT = va.RESULTS / "eukaryote_seq2seq.json"
VALIDATION = ("celegans_1pct", "dmel_chr4", "dmel_1pct_no_2R", "athal_1pct_no_chr1", "zymo_chr10_11")


def inputs(case) -> tuple[Path, Path, Path]:
    """(work dir, genome.fa, reference) of a vs_augustus case, prepared when missing."""
    wd = va.RESULTS / "work" / case.augustus.name
    genome = wd / "genome.fa"
    refs = sorted(wd.glob("reference.*"))
    if not genome.is_file() or not refs:
        wd.mkdir(parents=True, exist_ok=True)
        lengths = prepare_genome(GENOMES / case.augustus.genome_dir / "genome.fa.gz", genome, case.augustus.sequences)
        refs = [prepare_reference(GENOMES / case.augustus.genome_dir, wd / "reference", set(lengths))]
    return wd, genome, refs[0]


def scores(ref: Path, pred: Path, genome: Path) -> dict:
    from genet5.evaluate.compare import compare_files

    out = va.score(ref, pred, genome)
    stop = compare_files(ref, pred, genome).result.total["stop"]
    out["stop"] = {"sn": round(stop.sn, 4), "pr": round(stop.pr, 4), "f1": round(stop.f1, 4)}
    return out


def first_record(wd: Path, genome: Path, ref: Path) -> tuple[Path, Path]:
    """The case's first sequence alone and its reference rows (the learning curve's pieces)."""
    from genet5.genome.fasta import read_fasta

    rec = next(iter(read_fasta(genome)))
    fa, rf = wd / "first_record.fa", wd / f"first_record.ref{ref.suffix}"
    fa.write_text(f">{rec.id}\n{rec.seq.decode()}\n")
    rows = [ln for ln in ref.read_text().splitlines(keepends=True) if ln.startswith("#") or ln.split("\t")[0] == rec.id]
    rf.write_text("".join(rows))
    return fa, rf


def run(genome: Path, ref: Path, wd: Path, decoder: str, model: str | None, label: str, owned_only: bool = False) -> dict:
    import functools

    from genet5.genome.gff3_writer import write_gff3
    from genet5.predict import seq2seq_decoder
    from genet5.predict.pipeline import PredictConfig, predict_genome

    cfg = PredictConfig(domain="eukaryote", decoder=decoder, genetic_code=1, seq2seq_model=model)
    decode = seq2seq_decoder.decode_eukaryote_sequence
    if owned_only:  # the ablation: no gene a window wrote whole unless its owned parts stitch to it
        seq2seq_decoder.decode_eukaryote_sequence = functools.partial(decode, whole_window_genes=False)
    t0 = time.perf_counter()
    try:
        ann, lengths, stats = predict_genome(None, genome, cfg)
    finally:
        seq2seq_decoder.decode_eukaryote_sequence = decode
    secs = time.perf_counter() - t0
    gff = wd / f"genet5_{label}.gff3"
    write_gff3(gff, ann, lengths)
    row = {"decoder": decoder, "model": model, "genes": stats.genes, "seconds": round(secs, 1),
           "bp_per_s": round(stats.bases / secs), "scores": scores(ref, gff, genome),
           "cds_per_transcript": va.segments_per_transcript(gff)}  # fmt: skip
    s = row["scores"]
    print(f"  {label}: gene F1 {s['gene']['f1']:.3f} exon F1 {s['exon']['f1']:.3f} stop F1 {s['stop']['f1']:.3f} "
          f"({row['genes']} genes, {secs:.0f} s)", flush=True)  # fmt: skip
    return row


def table(doc: dict) -> str:
    labels = sorted({k for c in doc["cases"].values() for k in c["genet5"] if k != "selftrained"})
    cell = lambda r: (f"{r['scores']['gene']['f1']:.3f} / {r['scores']['exon']['f1']:.3f} / "  # noqa: E731
                      f"{r['scores']['stop']['f1']:.3f} / {r['bp_per_s']:,}")
    rows = ["| case | split | AUGUSTUS | selftrained (default) | " + " | ".join(f"seq2seq {x}" for x in labels) + " |",
            "|" + "---|" * (4 + len(labels))]
    for name, c in doc["cases"].items():
        g = c["genet5"]
        rows.append(f"| {name} | {c['split'].split(';')[0].split(':')[0]} | {cell(c['augustus']) if c.get('augustus') else '-'} | "
                    f"{cell(g['selftrained']) if 'selftrained' in g else '-'} | "
                    + " | ".join(cell(g[x]) if x in g else "-" for x in labels) + " |")
    return "cells: gene F1 / exon F1 / stop F1 / bp/s\n\n" + "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cases", nargs="*", help=f"vs_augustus.py case names (default the validation ones: {', '.join(VALIDATION)})")
    ap.add_argument("--models", nargs="*", default=["genet5-seq2seq-eukaryote"],
                    help="seq2seq checkpoints (bundled names or directories), each a column")
    ap.add_argument("--no-selftrained", action="store_true", help="keep the stored default-decoder cells")
    ap.add_argument("--ablation", action="store_true",
                    help="also each model with only the genes stitched from the windows' owned parts (column LABEL_owned_only)")
    ap.add_argument("--first-record", action="store_true", help="each case's first sequence only (the learning curve's pieces)")
    ap.add_argument("--out", type=Path, default=OUT, help="results JSON, read and updated (default %(default)s)")
    ap.add_argument("--table", action="store_true")
    args = ap.parse_args()
    out = args.out
    doc = json.loads(out.read_text()) if out.is_file() else {"cases": {}}
    if args.table:
        print(table(doc))
        return 0
    import torch

    torch.set_num_threads(2)
    doc.update(date=dt.date.today().isoformat(), cpu=platform.processor() or platform.machine(), threads=2)
    for case in va.CASES:
        if case.name not in (args.cases or VALIDATION):
            continue
        print(case.name, flush=True)
        wd, genome, ref = inputs(case)
        if args.first_record:
            genome, ref = first_record(wd, genome, ref)
        rec = doc["cases"].setdefault(case.name, {"split": case.split, "genet5": {}})
        rec["sequences"] = "first" if args.first_record else "all"
        aug = wd / "prediction.gff3"
        if aug.is_file() and not args.first_record:
            meta = json.loads((wd / "run.json").read_text()) if (wd / "run.json").is_file() else {}
            rec["augustus"] = {"scores": scores(ref, aug, genome), "bp_per_s": round(meta.get("bp_per_s", 0)),
                               "cds_per_transcript": va.segments_per_transcript(aug)}  # fmt: skip
        if not args.no_selftrained:
            rec["genet5"]["selftrained"] = run(genome, ref, wd, "selftrained", None, "selftrained")
        for m in args.models:
            label = Path(m).name if m != "genet5-seq2seq-eukaryote" else "bundled"
            rec["genet5"][label] = run(genome, ref, wd, "seq2seq", m, f"seq2seq_{label}")
            if args.ablation:
                rec["genet5"][f"{label}_owned_only"] = run(genome, ref, wd, "seq2seq", m, f"seq2seq_{label}_owned_only",
                                                           owned_only=True)  # fmt: skip
        out.write_text(json.dumps(doc, indent=1) + "\n")
    print(table(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
