#!/usr/bin/env python3
"""A whole eukaryote genome as a short-read draft: the large validation genome (Zymoseptoria
tritici, 39.7 Mb in 21 chromosomes) cut into contigs of random length (default 5-40 kb, seeded,
as drafts.py cuts the small cases) and decoded as one genome of ~1,800 sequences, the way
`genet5 predict` decodes a draft (all contigs self-train together, on training pieces spread
over the draft). drafts.py's cases are 1-3 Mb and train on all of themselves; this is the case
where the training pieces are cut from many short records.

Reference: the genes lying wholly inside one contig. Ours: the genes not cut by a contig end,
moved back to chromosome coordinates. No AUGUSTUS column (hours on 2 cores for 40 Mb).

    python bench/eukaryote/whole_genome_draft.py        # -> bench/results/eukaryote_whole_genome_draft.json
    python bench/eukaryote/whole_genome_draft.py --min 1000 --max 5000   # 13,227 contigs; each cut its own entry
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from drafts import add_contig_options, contigs_of  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
GENOMES = Path(os.environ.get("GENET5_SHARED", REPO.parent / "shared")) / "genomes"
OUT = REPO / "bench" / "results" / "eukaryote_whole_genome_draft.json"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genome", default="fungi/Zymoseptoria_tritici_IPO323", help="a directory of shared/genomes")
    add_contig_options(ap, OUT)
    args = ap.parse_args()

    import torch

    from genet5.data.splits import read_splits
    from genet5.evaluate.metrics import evaluate
    from genet5.genome.codes import genetic_code
    from genet5.genome.fasta import read_fasta
    from genet5.genome.models import Annotation
    from genet5.genome.readers import load_annotation
    from genet5.predict.eukaryote import decoder
    from genet5.predict.eukaryote.decoder import EukaryoteSettings, find_genes
    from genet5.predict.eukaryote.repeats import cut_runs
    from genet5.predict.genes import predicted_gene

    torch.set_num_threads(1)
    folder = GENOMES / args.genome
    if not folder.is_dir():
        raise SystemExit(f"{folder} not found: this bench needs ../shared/genomes (or GENET5_SHARED)")
    recs = list(read_fasta(next(folder.glob("genome.*"))))
    records, seqs = [(r.id, r.seq) for r in recs], {r.id: r.seq for r in recs}
    masks = {r.id: r.mask for r in recs}
    contigs = contigs_of(records, args.min, args.max, args.seed)
    draft = [(f"{sid}_{lo}", seqs[sid][lo:hi]) for sid, lo, hi in contigs]

    asked = []  # the training pieces each pass on pieces got: (pieces, bases)
    pieces_of = decoder.training_pieces

    def counted(records, settings, bases=None):
        out = pieces_of(records, settings) if bases is None else pieces_of(records, settings, bases)
        asked.append(None if out is None else [len(out), sum(b - a for *_, a, b in out)])
        return out

    decoder.training_pieces = counted
    t0 = time.perf_counter()
    genes, models = find_genes(draft, genetic_code(1), EukaryoteSettings(),
                               masks=[cut_runs(masks[sid], lo, hi) for sid, lo, hi in contigs])
    seconds = time.perf_counter() - t0

    reference = load_annotation(next(folder.glob("annotation.*")))
    spans: dict[str, list[tuple[int, int]]] = {}
    for sid, lo, hi in contigs:
        spans.setdefault(sid, []).append((lo, hi))
    inside = Annotation(source="reference genes inside one contig")
    for sid, found in reference.genes.items():
        firsts = [lo for lo, _ in spans.get(sid, [])]
        for g in found:
            i = bisect.bisect_right(firsts, g.start - 1) - 1  # the contig holding the gene's first base
            if i >= 0 and g.end <= spans[sid][i][1]:
                inside.genes.setdefault(sid, []).append(g)
    ours = Annotation(source="genet5")
    cut = 0
    for (sid, lo, _), found in zip(contigs, genes):
        for g in found:
            if g.start_partial or g.end_partial:
                cut += 1
                continue
            g.cds = [(a + lo, b + lo) for a, b in g.cds]
            ours.add_gene(predicted_gene(g, sid, len(ours.genes.get(sid, [])) + 1, "genet5"))
    total = evaluate(inside, ours).total
    split = read_splits(GENOMES / "splits.tsv").get(args.genome.strip("/"), "?")
    result = {
        "date": dt.date.today().isoformat(), "cpu": platform.processor() or platform.machine(),
        "genome": args.genome, "split": split, "contigs": len(draft), "bp": sum(len(s) for _, s in draft),
        "contig_lengths": f"{args.min}-{args.max} bp, seed {args.seed}", "seconds": round(seconds, 1),
        "training_pieces": asked, "cut_genes_dropped": cut, "prior": models.prior.name if models.prior else None,
        "genet5": {lvl: {"f1": round(total[lvl].f1, 4), "n_ref": total[lvl].n_ref, "n_pred": total[lvl].n_pred}
                   for lvl in ("gene", "exon")},
    }
    doc = json.loads(args.out.read_text()) if args.out.is_file() else {}
    doc.setdefault("cuts", {})[f"{args.genome} {args.min}-{args.max} seed {args.seed}"] = result
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{args.genome} as {len(draft)} contigs: training pieces {asked}; gene F1 {result['genet5']['gene']['f1']:.4f} "
          f"exon F1 {result['genet5']['exon']['f1']:.4f} ({total['gene'].n_ref} reference genes) in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
