#!/usr/bin/env python3
"""Draft assemblies: each validation eukaryote cut into contigs of random length (default 5-40 kb,
seeded), decoded as one genome of many sequences (`genet5 predict --domain eukaryote` on a
draft: all contigs self-train together), beside AUGUSTUS, one scorer.

Reference: the genes lying wholly inside one contig, shifted to it. AUGUSTUS: its predictions on
the whole case genome (bench/eukaryote/vs_augustus.py must have run) lying wholly inside a contig;
AUGUSTUS does not train on its input, so that is its prediction on the contig up to genes at
the contig's ends. Ours: genes cut by a contig end (partial) are dropped likewise. (Run on the
worm draft itself, 48 contigs, every prediction kept, partial ones included: AUGUSTUS gene F1
0.348 (exon 0.610), genet5 0.339 (0.600); this way 0.371 / 0.384: both lose most at contig
ends.) Gene and exon counts are pooled over the contigs.

    python bench/eukaryote/drafts.py                      # the four cases of small_inputs.py
    python bench/eukaryote/drafts.py worm --min 2000 --max 10000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from small_inputs import CASES, RESULTS, gff_inside, load_case  # noqa: E402

OUT = RESULTS / "eukaryote_drafts.json"


def contigs_of(records: list[tuple[str, bytes]], shortest: int, longest: int, seed: int) -> list[tuple[str, int, int]]:
    """(seqid, start, end) 0-based half-open contigs covering every record, random lengths."""
    rng = random.Random(seed)
    out = []
    for sid, s in records:
        lo = 0
        while lo < len(s):
            hi = min(len(s), lo + rng.randint(shortest, longest))
            out.append((sid, lo, hi))
            lo = hi
    return out


def add_contig_options(ap: argparse.ArgumentParser, out: Path) -> None:
    """--min / --max (contig lengths), --seed and --out, as the draft benches take them."""
    ap.add_argument("--min", type=int, default=5_000, help="shortest contig (default %(default)s)")
    ap.add_argument("--max", type=int, default=40_000, help="longest contig (default %(default)s)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=out)


def inside_contig(rows: list[str], length: int) -> list[str]:
    """Rows of `rows` (GFF3 lines of one contig) less every transcript with a row past the
    contig's end: WormBase CDS rows share one ID across isoforms, so gff_inside keeps an isoform
    that reaches beyond the gene row by that ID."""
    cols = [r.split("\t") for r in rows]
    attrs = [dict(x.split("=", 1) for x in c[8].split(";") if "=" in x) for c in cols]
    outside = {p for c, a in zip(cols, attrs) if int(c[4]) > length or int(c[3]) < 1
               for p in a.get("Parent", "").split(",") if p}
    return [r for r, a in zip(rows, attrs)
            if a.get("ID") not in outside and not outside & set(a.get("Parent", "").split(","))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cases", nargs="*", help=f"default all: {', '.join(CASES)}")
    add_contig_options(ap, OUT)
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
    doc.update(date=dt.date.today().isoformat(), cpu=platform.processor() or platform.machine(),
               contigs=f"{args.min}-{args.max} bp, seed {args.seed}")
    tmp = Path(tempfile.mkdtemp(prefix="drafts_"))
    for name in args.cases or list(CASES):
        work, what, ref, records, masks = load_case(name)
        seqs = dict(records)
        contigs = contigs_of(records, args.min, args.max, args.seed)
        draft = [(f"{sid.split()[0]}_{lo}", seqs[sid][lo:hi]) for sid, lo, hi in contigs]
        fa = tmp / f"{name}.fa"
        fa.write_text("".join(f">{cid}\n{s.decode()}\n" for cid, s in draft))
        for kind, src in (("ref", ref), ("augustus", work / "prediction.gff3")):
            parts = []
            for (sid, lo, hi), (cid, _) in zip(contigs, draft):
                one = tmp / "one.gff3"
                gff_inside(src, one, sid, lo, hi, cid)
                parts += inside_contig([ln for ln in one.read_text().splitlines() if not ln.startswith("#")], hi - lo)
            (tmp / f"{name}.{kind}.gff3").write_text("##gff-version 3\n" + "".join(ln + "\n" for ln in parts))
        t0 = time.perf_counter()
        genes, models = find_genes(draft, genetic_code(1), EukaryoteSettings(),
                                   masks=[cut_runs(masks[sid], lo, hi) for sid, lo, hi in contigs])
        seconds = round(time.perf_counter() - t0, 1)
        ann = Annotation(source=str(fa))
        partial = 0
        for (cid, _), found in zip(draft, genes):
            for i, g in enumerate(found, 1):
                if g.start_partial or g.end_partial:
                    partial += 1
                else:
                    ann.add_gene(predicted_gene(g, cid, i, "genet5"))
        write_gff3(tmp / f"{name}.genet5.gff3", ann, {cid: len(s) for cid, s in draft})
        case = {"genome": what, "contigs": len(draft), "bp": sum(len(s) for _, s in draft), "seconds": seconds,
                "partial_genes_dropped": partial, "prior": models.prior.name if models.prior else None}
        for tool in ("augustus", "genet5"):
            r = compare_files(tmp / f"{name}.ref.gff3", tmp / f"{name}.{tool}.gff3", fa).result.total
            case[tool] = {lvl: {"f1": round(r[lvl].f1, 4), "n_ref": r[lvl].n_ref, "n_pred": r[lvl].n_pred}
                          for lvl in ("gene", "exon")}
        doc["cases"][name] = case
        print(f"{name}: {len(draft)} contigs, reference genes {case['genet5']['gene']['n_ref']}; gene F1 (exon F1) "
              f"AUGUSTUS {case['augustus']['gene']['f1']:.3f} ({case['augustus']['exon']['f1']:.3f}), "
              f"genet5 {case['genet5']['gene']['f1']:.3f} ({case['genet5']['exon']['f1']:.3f}) in {seconds} s", flush=True)
        args.out.write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
