#!/usr/bin/env python3
"""The seq2seq GeneT5 learning curve (issue 14): validation gene F1 against training bases for
the snapshots (OUT/model_stepN, OUT/model) of one or more scripts/train_seq2seq.py runs.

Each snapshot decodes each piece through the CLI's path (predict_genome with the seq2seq
decoder, as seq2seq_vs_prodigal.py does) and is scored by vs_prodigal.scores against the
reference restricted to the piece's sequences. A piece is a validation genome, or GENOME:SEQID
for one sequence of it (cheap points: M. alvi's first scaffold instead of all 7). Rows are
appended to a CSV; rows already there are skipped, so it can run while training still writes.

    python bench/prokaryote/seq2seq_learning_curve.py --runs S=runs/lc23S M=runs/lc23M \
        --pieces phages/erwinia_phage_MT939486 prokaryotes/Mycoplasmoides_alvi_ATCC29626:NZ_JNJU01000001.1 \
        --csv docs/training_logs/seq2seq_20261204_curve.csv
    python bench/prokaryote/seq2seq_learning_curve.py --csv ... --plot docs/img/seq2seq_learning_curve.png
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vs_prodigal as vp  # noqa: E402

FIELDS = ["run", "parameters", "step", "bases", "piece", "piece_bases", "genes", "start_stop_f1", "start_stop_sn",
          "start_stop_pr", "stop_f1", "nucleotide_f1", "minus_share", "decode_s"]  # fmt: skip


def piece_dir(piece: str) -> Path:
    return vp.RESULTS / "work" / "seq2seq_learning_curve" / piece.replace("/", "_").replace(":", "__")


def minus_share(gff: Path) -> float:
    """Share of the genes on the minus strand: a short run writes nearly all on one strand."""
    strands = [ln.split("\t")[6] for ln in gff.read_text().splitlines() if ln.count("\t") >= 8 and ln.split("\t")[2] == "CDS"]
    return round(strands.count("-") / max(1, len(strands)), 3)


def piece_files(piece: str) -> tuple[Path, Path, int]:
    """FASTA and reference GFF3 of a piece (whole genome, or one sequence of it), cut once."""
    genome, _, seqid = piece.partition(":")
    wd = piece_dir(piece)
    wd.mkdir(parents=True, exist_ok=True)
    fa, ref = wd / "piece.fa", wd / "reference.gff3"
    if not (fa.is_file() and ref.is_file()):
        keep, out = False, []
        with gzip.open(vp.GENOMES / genome / "genome.fa.gz", "rt") as f:
            for line in f:
                if line.startswith(">"):
                    keep = not seqid or line[1:].split()[0] == seqid
                if keep:
                    out.append(line)
        fa.write_text("".join(out))
        with gzip.open(vp.GENOMES / genome / "annotation.gff3.gz", "rt") as f:
            rows = [ln for ln in f if not seqid or ln.split("\t")[0] == seqid
                    or (ln.startswith("#") and (not ln.startswith("##sequence-region") or ln.split()[1:2] == [seqid]))]
        ref.write_text("".join(rows))
    n = sum(len(ln.strip()) for ln in fa.read_text().splitlines() if not ln.startswith(">"))
    return fa, ref, n


def snapshots(run_dir: Path) -> list[tuple[int, Path]]:
    """(step, model dir) of a run: model_stepN, and the final model at run.json's steps_done."""
    got = [(int(m.group(1)), d) for d in run_dir.glob("model_step*") if (m := re.fullmatch(r"model_step(\d+)", d.name))]
    done = run_dir / "run.json"
    if done.is_file() and (run_dir / "model").is_dir():
        steps = json.loads(done.read_text())["steps_done"]
        if steps not in {s for s, _ in got}:
            got.append((steps, run_dir / "model"))
    return sorted(got)


def bases_at(run_dir: Path, step: int) -> int:
    with open(run_dir / "train.csv") as f:
        rows = {int(r["step"]): int(r["bases"]) for r in csv.DictReader(f)}
    return rows.get(step) or rows[max(s for s in rows if s <= step)] * step // max(s for s in rows if s <= step)


def decode(model_dir: Path, fa: Path, ref: Path, code: int, gff: Path) -> dict:
    from genet5.genome.gff3_writer import write_gff3
    from genet5.predict.pipeline import PredictConfig, predict_genome

    cfg = PredictConfig(domain="prokaryote", decoder="seq2seq", genetic_code=code, seq2seq_model=str(model_dir))
    t0 = time.perf_counter()
    ann, lengths, stats = predict_genome(None, fa, cfg)
    secs = time.perf_counter() - t0
    write_gff3(gff, ann, lengths)
    return {"genes": stats.genes, "decode_s": round(secs, 1), "scores": vp.scores(ref, gff, fa)}


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pieces = sorted({r["piece"] for r in rows})
    fig, axes = plt.subplots(1, len(pieces), figsize=(5 * len(pieces), 4), squeeze=False)
    for ax, piece in zip(axes[0], pieces):
        for run in sorted({r["run"] for r in rows}):
            pts = sorted((int(r["bases"]), float(r["start_stop_f1"]), float(r["stop_f1"]), int(r["parameters"]))
                         for r in rows if r["run"] == run and r["piece"] == piece)  # fmt: skip
            if not pts:
                continue
            label = f"{run} ({pts[0][3] / 1e6:.2f} M)"
            line = ax.plot([p[0] / 1e6 for p in pts], [p[1] for p in pts], "o-", label=label + " start+stop")[0]
            ax.plot([p[0] / 1e6 for p in pts], [p[2] for p in pts], "x--", color=line.get_color(), alpha=0.6)
        ax.set_title(piece.split("/")[-1].replace(":", " "), fontsize=9)
        ax.set_xlabel("training bases (M)")
        ax.set_ylabel("F1 (solid: exact start+stop, dashed: stop)")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", nargs="*", default=[], help="LABEL=RUN_DIR (a scripts/train_seq2seq.py output)")
    ap.add_argument("--pieces", nargs="*", default=[], help="GENOME or GENOME:SEQID (validation genomes only)")
    ap.add_argument("--steps", type=int, nargs="*", help="only these snapshot steps")
    ap.add_argument("--csv", type=Path, required=True)
    ap.add_argument("--plot", type=Path)
    args = ap.parse_args()
    rows = list(csv.DictReader(open(args.csv))) if args.csv.is_file() else []
    if rows and "minus_share" not in rows[0]:  # rows of an earlier version: the strands from their GFF3
        for r in rows:
            r["minus_share"] = minus_share(piece_dir(r["piece"]) / f"{r['run']}_step{r['step']}.gff3")
        with open(args.csv, "w", newline="") as f:
            w = csv.DictWriter(f, FIELDS)
            w.writeheader()
            w.writerows(rows)
    done = {(r["run"], r["step"], r["piece"]) for r in rows}
    split = vp.read_splits(vp.GENOMES / "splits.tsv")
    for piece in args.pieces:
        if split.get(piece.partition(":")[0]) != "validation":
            raise SystemExit(f"{piece}: not a validation genome of splits.tsv")
    for spec in args.runs:
        label, run_dir = spec.split("=", 1)
        run_dir = Path(run_dir)
        for step, model_dir in snapshots(run_dir):
            if args.steps and step not in args.steps:
                continue
            from genet5.models.weights import load_model

            n_params = sum(p.numel() for p in load_model(model_dir).parameters())
            for piece in args.pieces:
                if (label, str(step), piece) in done:
                    continue
                fa, ref, n = piece_files(piece)
                gff = fa.parent / f"{label}_step{step}.gff3"
                got = decode(model_dir, fa, ref, vp.genetic_code_of(piece.partition(":")[0]), gff)
                s = got["scores"]
                row = {"run": label, "parameters": n_params, "step": step, "bases": bases_at(run_dir, step), "piece": piece,
                       "piece_bases": n, "genes": got["genes"], "start_stop_f1": s["start_stop"]["f1"],
                       "start_stop_sn": s["start_stop"]["sn"], "start_stop_pr": s["start_stop"]["pr"],
                       "stop_f1": s["stop"]["f1"], "nucleotide_f1": s["nucleotide"]["f1"], "minus_share": minus_share(gff),
                       "decode_s": got["decode_s"]}  # fmt: skip
                print(json.dumps(row), flush=True)
                new = not args.csv.is_file()
                with open(args.csv, "a", newline="") as f:
                    w = csv.DictWriter(f, FIELDS)
                    if new:
                        w.writeheader()
                    w.writerow(row)
                rows.append({k: str(v) for k, v in row.items()})
                done.add((label, str(step), piece))
    if args.plot:
        plot(rows, args.plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
