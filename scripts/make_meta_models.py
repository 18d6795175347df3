#!/usr/bin/env python3
"""Build the meta-mode parameter sets (bundled/prokaryote-meta) from the prokaryotic `train`
genomes of shared/genomes/splits.tsv: each genome self-trains exactly as `genet5 predict
--domain prokaryote` does by default (statistics + the bundled start classifier, no per-base
network), and its final coding chain and start model become one set. Deterministic: rerunning it
reproduces the bundled files (tests/scripts/test_make_meta_models.py checks one set).

    python scripts/make_meta_models.py            # writes src/genet5/bundled/prokaryote-meta
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GENOMES = Path(os.environ.get("GENET5_SHARED", REPO.parent / "shared")) / "genomes"
PROKARYOTIC = ("prokaryotes/", "archaea/", "phages/", "plastids/")


def train_genomes() -> list[tuple[str, int]]:
    """(manifest path, genetic code) of the prokaryotic `train` genomes of splits.tsv, in its order."""
    from genet5.data.splits import read_manifest, read_splits

    codes = {e.path.strip("/"): e.genetic_code for e in read_manifest(GENOMES / "manifest.tsv")}
    names = [p for p, s in read_splits(GENOMES / "splits.tsv").items() if s == "train" and p.startswith(PROKARYOTIC)]
    missing = [p for p in names if codes.get(p) is None]
    if missing:
        raise SystemExit(f"not in manifest.tsv or no genetic code there: {', '.join(missing)}")
    return [(p, codes[p]) for p in names]


def parameter_set(name: str, code_number: int, records=None):
    """The ParameterSet genome `name` (a manifest path) teaches itself under the default decoder."""
    from genet5.genome.codes import genetic_code
    from genet5.genome.fasta import read_fasta
    from genet5.predict.decoders import start_codon_set
    from genet5.predict.pipeline import PredictConfig
    from genet5.predict.prokaryote.decoder import prepare_record, self_train, settings_for
    from genet5.predict.prokaryote.meta import ParameterSet

    records = list(read_fasta(GENOMES / name / "genome.fa.gz")) if records is None else records
    cfg = PredictConfig(genetic_code=code_number, domain="prokaryote")
    settings, code = settings_for(cfg), genetic_code(code_number)
    prepared = [prepare_record(r.id, r.seq, code, start_codon_set(cfg), settings) for r in records]
    st = self_train(prepared, settings)
    seq = b"".join(r.seq.upper() for r in records)
    gc = (seq.count(b"G") + seq.count(b"C")) / max(1, sum(seq.count(c) for c in b"ACGT"))
    return ParameterSet(name.split("/")[-1], gc, st.coding, st.starts)


def main() -> int:
    import torch

    from genet5.genome.fasta import read_fasta
    from genet5.predict.prokaryote.meta import BUNDLED, save_sets

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-o", "--out", type=Path, default=BUNDLED)
    ap.add_argument("--min-bp", type=int, default=40_000, help="skip genomes smaller than this (too little to learn)")
    args = ap.parse_args()
    torch.set_num_threads(1)  # the start classifier: one thread, the same numbers on any machine
    sets, species_seen = [], set()
    for name, code_number in train_genomes():
        species = name if "phage" in name else " ".join(name.split("/")[-1].split("_")[:2])
        if species in species_seen:
            continue  # strains of one species would only repeat one set
        records = list(read_fasta(GENOMES / name / "genome.fa.gz"))
        if sum(len(r.seq) for r in records) < args.min_bp:
            continue
        species_seen.add(species)
        ps = parameter_set(name, code_number, records)
        sets.append(ps)
        print(f"{name}: GC {ps.gc:.3f}, coding order {ps.coding.k}", flush=True)
    save_sets(args.out, sets, {"made_by": "scripts/make_meta_models.py", "date": dt.date.today().isoformat(),
                               "split": "train genomes of shared/genomes/splits.tsv",
                               "decoder": "default prokaryote settings (settings_for), no per-base network"})
    print(f"wrote {len(sets)} sets to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
