#!/usr/bin/env python3
"""What the per-genome adaptation of the gene-site classifier does to its site calls: average
precision of the bundled classifier and of its copy fine-tuned on the genome's own round-1 genes
(exactly as `genet5 predict --domain eukaryote` builds it), on the reference sites of each
validation eukaryote (candidates and negatives as scripts/train_site_model.py draws them).

    python bench/eukaryote/site_adaptation.py        # -> bench/results/site_adaptation.json

The reference is used only to score; the adaptation sees the decoder's own genes.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import train_site_model as tsm  # noqa: E402

from genet5.genome.codes import genetic_code  # noqa: E402
from genet5.genome.fasta import read_fasta  # noqa: E402
from genet5.models.sites import SITE_TYPES  # noqa: E402
from genet5.predict.eukaryote.decoder import EukaryoteSettings, find_genes  # noqa: E402
from genet5.predict.eukaryote.site_examples import adapted_site_model  # noqa: E402
from genet5.predict.eukaryote.sites import load_site_model  # noqa: E402

OUT = REPO / "bench" / "results" / "site_adaptation.json"
CASES = {  # genome -> sequences decoded (the eukaryote bench's cases)
    "invertebrates/Caenorhabditis_elegans_WS270_1pct": None,
    "invertebrates/Drosophila_melanogaster_dm6_chr4": None,
    "plants/Arabidopsis_thaliana_TAIR10_1pct": ["Chr2", "Chr3", "Chr4", "Chr5"],
    "fungi/Zymoseptoria_tritici_IPO323": ["chr_10", "chr_11"],
}


def main() -> int:
    if not tsm.GENOMES.is_dir():
        print(f"no shared genomes at {tsm.GENOMES}", file=sys.stderr)
        return 1
    bundled = load_site_model()
    settings = EukaryoteSettings()
    doc = {"date": dt.date.today().isoformat(), "cpu": platform.processor() or platform.machine(), "cases": {}}
    for name, seqs in CASES.items():
        t0 = time.perf_counter()
        records = [(r.id, r.seq) for r in read_fasta(tsm._find(tsm.GENOMES / name, "genome")) if seqs is None or r.id in seqs]
        # the decoder's genes after round 1, where find_genes adapts the classifier
        genes, _ = find_genes(records, genetic_code(1), replace(settings, rounds=1))
        tuned = adapted_site_model(bundled, records, genes, settings.site_adapt_epochs, settings.site_adapt_lr)
        # scored on the decoded sequences only
        sites = tsm.genome_sites(name, bundled.config, np.random.default_rng(0), keep={r for r, _ in records})
        row = {}
        for t in SITE_TYPES:
            w, y = sites[t]
            row[t] = {"bundled": round(tsm.average_precision(tsm.logits(bundled, t, w), y), 3),
                      "adapted": round(tsm.average_precision(tsm.logits(tuned, t, w), y), 3) if tuned else None,
                      "positives": int(y.sum()), "chance": round(float(y.mean()), 3)}
        doc["cases"][name] = {"sequences": seqs, "sites": row, "seconds": round(time.perf_counter() - t0, 1)}
        print(name, json.dumps(row), flush=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
