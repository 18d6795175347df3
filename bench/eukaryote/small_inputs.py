#!/usr/bin/env python3
"""Small eukaryotic inputs: pieces of 0.14-0.27 Mb of the validation eukaryotes, each decoded
alone (as a user with one short chromosome or contig would run `genet5 predict --domain
eukaryote`), beside AUGUSTUS, one scorer.

A 0.2 Mb input holds 15-80 genes: too few to self-train every chain from the genome's own
genes, which is what the species priors (predict/eukaryote/priors.py) are for; this bench
measures them (`--variants full,no_species_prior`).

Pieces: each sequence of the case up to 1.5 x --size whole (the worm and Arabidopsis 1% files
are 0.14-0.27 Mb sequences), longer ones cut into --size pieces, at most --pieces per case,
spread evenly. Reference: the genes lying wholly inside the piece. AUGUSTUS: its predictions on
the whole case genome (bench/eukaryote/vs_augustus.py must have run: bench/results/work/<case>/)
that lie wholly inside the piece; AUGUSTUS does not train on its input, so this is what it
predicts on the piece alone, up to genes near the piece's ends. Ours: genes with a partial end
are dropped likewise. Gene and exon counts are pooled over a case's pieces.

    python bench/eukaryote/small_inputs.py                     # all four cases, both variants
    python bench/eukaryote/small_inputs.py worm --variants full
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "results"
OUT = RESULTS / "eukaryote_small_inputs.json"
CASES = {  # name: (bench/results/work directory made by vs_augustus.py, what the genome is)
    "worm": ("celegans_1pct_augustus", "C. elegans 1%: validation, species never trained on"),
    "arabidopsis": ("athal_1pct_no_chr1_augustus", "A. thaliana 1% Chr2-5: validation, same species as training"),
    "fly_chr4": ("dmel_chr4_augustus", "D. melanogaster chr4: validation, same species as training"),
    "zymoseptoria": ("zymo_chr10_11_augustus", "Z. tritici chr_10+11: validation, genus in no training set"),
}
VARIANTS = {"full": {}, "no_species_prior": {"prior_weight": 0.0}}


def pieces_of(records: list[tuple[str, bytes]], size: int, most: int) -> list[tuple[str, int, int]]:
    out = []
    for sid, s in records:
        if len(s) <= 1.5 * size:
            out.append((sid, 0, len(s)))
        else:
            out += [(sid, i * size, (i + 1) * size) for i in range(len(s) // size)]
    if len(out) > most:
        step = len(out) / most
        out = [out[int(i * step)] for i in range(most)]
    return out


def gff_inside(src: Path, dst: Path, seqid: str, lo: int, hi: int, new_id: str) -> None:
    """The gene trees of `src` on `seqid` whose gene row lies wholly in (lo, hi], shifted to the piece."""
    rows = [ln.rstrip("\n").split("\t") for ln in src.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    keep: set[str] = set()
    lines = ["##gff-version 3"]
    for c in rows:
        attrs = dict(x.split("=", 1) for x in c[8].split(";") if "=" in x)
        if c[0] == seqid and c[2] == "gene" and int(c[3]) > lo and int(c[4]) <= hi:
            keep.add(attrs.get("ID", ""))
    for c in rows:  # parents precede children in these files
        attrs = dict(x.split("=", 1) for x in c[8].split(";") if "=" in x)
        if c[0] == seqid and (attrs.get("ID") in keep or any(p in keep for p in attrs.get("Parent", "").split(","))):
            keep.add(attrs.get("ID", ""))
            lines.append("\t".join([new_id, *c[1:3], str(int(c[3]) - lo), str(int(c[4]) - lo), *c[5:]]))
    dst.write_text("\n".join(lines) + "\n")


def load_case(name: str) -> tuple[Path, str, Path, list[tuple[str, bytes]], dict[str, list]]:
    """(work directory, what the genome is, reference annotation, records, soft-masked runs per
    record) of a case, whose AUGUSTUS prediction vs_augustus.py must have made."""
    from genet5.genome.fasta import read_fasta

    work_name, what = CASES[name]
    work = RESULTS / "work" / work_name
    if not (work / "prediction.gff3").is_file():
        raise SystemExit(f"{work} has no AUGUSTUS prediction: run bench/eukaryote/vs_augustus.py {name} first")
    recs = list(read_fasta(work / "genome.fa"))
    return work, what, next(work.glob("reference.*")), [(r.id, r.seq) for r in recs], {r.id: r.mask for r in recs}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cases", nargs="*", help=f"default all: {', '.join(CASES)}")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--size", type=int, default=250_000)
    ap.add_argument("--pieces", type=int, default=6)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()

    import torch

    from genet5.evaluate.compare import compare_files
    from genet5.genome.codes import genetic_code
    from genet5.genome.gff3_writer import write_gff3
    from genet5.genome.models import Annotation
    from genet5.predict.eukaryote.decoder import EukaryoteSettings, find_genes
    from genet5.predict.eukaryote.repeats import cut_runs
    from genet5.predict.genes import predicted_gene

    torch.set_num_threads(1)
    doc = json.loads(args.out.read_text()) if args.out.is_file() else {"cases": {}}
    doc.update(date=dt.date.today().isoformat(), cpu=platform.processor() or platform.machine(), size=args.size)
    tmp = Path(tempfile.mkdtemp(prefix="small_inputs_"))
    for name in args.cases or list(CASES):
        work, what, ref, records, masks = load_case(name)
        seqs = dict(records)
        case = doc["cases"].setdefault(name, {"genome": what})
        totals: dict[str, dict] = {}
        rows = []
        for sid, lo, hi in pieces_of(records, args.size, args.pieces):
            pid = f"{sid.split()[0]}_{lo}"
            seq = seqs[sid][lo:hi]
            fa = tmp / f"{pid}.fa"
            fa.write_text(f">{pid}\n{seq.decode()}\n")
            gff_inside(ref, tmp / f"{pid}.ref.gff3", sid, lo, hi, pid)
            gff_inside(work / "prediction.gff3", tmp / f"{pid}.augustus.gff3", sid, lo, hi, pid)
            row = {"piece": pid, "bp": len(seq)}
            for variant in ["augustus"] + args.variants.split(","):
                seconds = None
                if variant != "augustus":
                    t0 = time.perf_counter()
                    genes, models = find_genes([(pid, seq)], genetic_code(1), replace(EukaryoteSettings(), **VARIANTS[variant]),
                                               masks=[cut_runs(masks[sid], lo, hi)])
                    seconds = round(time.perf_counter() - t0, 1)
                    ann = Annotation(source=str(fa))
                    for i, g in enumerate(genes[0], 1):
                        if not (g.start_partial or g.end_partial):
                            ann.add_gene(predicted_gene(g, pid, i, "genet5"))
                    write_gff3(tmp / f"{pid}.{variant}.gff3", ann, {pid: len(seq)})
                    row[f"{variant}_prior"] = models.prior.name if models.prior else None
                r = compare_files(tmp / f"{pid}.ref.gff3", tmp / f"{pid}.{variant}.gff3", fa).result.total
                row[variant] = {lvl: {"found_ref": r[lvl].found_ref, "n_ref": r[lvl].n_ref, "correct_pred": r[lvl].correct_pred,
                                      "n_pred": r[lvl].n_pred, "f1": round(r[lvl].f1, 4)} for lvl in ("gene", "exon")}
                if seconds is not None:
                    row[variant]["seconds"] = seconds
                for lvl in ("gene", "exon"):
                    t = totals.setdefault(variant, {}).setdefault(lvl, [0, 0, 0, 0])
                    m = r[lvl]
                    t[0] += m.found_ref; t[1] += m.n_ref; t[2] += m.correct_pred; t[3] += m.n_pred  # noqa: E702
            rows.append(row)
            print(pid, " ".join(f"{v} {row[v]['gene']['f1']:.3f}" for v in ["augustus"] + args.variants.split(",")), flush=True)

        def pooled(t):
            sn, pr = t[0] / max(1, t[1]), t[2] / max(1, t[3])
            return round(2 * sn * pr / max(1e-9, sn + pr), 4)

        case["pieces"] = rows
        case["pooled"] = {**case.get("pooled", {}), **{v: {lvl: pooled(t) for lvl, t in d.items()} for v, d in totals.items()}}
        print(name, "pooled gene F1:", {v: p["gene"] for v, p in case["pooled"].items()}, flush=True)
        args.out.write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
