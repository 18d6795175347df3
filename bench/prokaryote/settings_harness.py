#!/usr/bin/env python3
"""Fast in-process check of prokaryote decoder settings (issue 11): decodes genomes in single
mode with settings overrides and prints exact start+stop F1 per genome and the group means.

    python bench/prokaryote/settings_harness.py [--set weights.bias=-1.5 --set rounds=5]
           [--groups validation,train_large,train_phages]

Candidates (and the start classifier's term) are prepared once per genome and cached under
$TMPDIR (they do not depend on the settings below); genes are compared exactly by (sequence,
strand, first base, last base) of the CDS, as `genet5 eval`'s start+stop level does for
single-exon genes.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from phage_errors import reference  # noqa: E402  (the exact CDS set of a reference, shared)

REPO = Path(__file__).resolve().parents[2]
GENOMES = Path(os.environ.get("GENET5_SHARED", REPO.parent / "shared")) / "genomes"
if not GENOMES.exists():
    GENOMES = Path("/work/shared/genomes")
CACHE = Path(tempfile.gettempdir()) / "genet5_prok_harness"

GROUPS = {
    "validation": ["prokaryotes/Vibrio_cholerae_RFB16", "prokaryotes/Mycoplasmoides_alvi_ATCC29626",
                   "archaea/Thermococcus_kodakarensis_KOD1", "phages/erwinia_phage_LT960552",
                   "phages/erwinia_phage_MT939486", "phages/erwinia_phage_MT939487", "phages/erwinia_phage_MT939488"],
    "train_large": ["prokaryotes/Escherichia_coli_K12_MG1655", "prokaryotes/Mycoplasma_gallisepticum_NC_004829",
                    "archaea/Methanosarcina_acetivorans_C2A", "prokaryotes/Bradyrhizobium_japonicum_USDA110"],
    "train_phages": ["phages/enterobacteria_phage_NC_000902", "phages/enterobacteria_phage_NC_013600",
                     "phages/enterobacteria_phage_NC_016566", "phages/enterobacteria_phage_NC_019724",
                     "phages/enterobacteria_phage_NC_024783", "phages/enterobacteria_phage_NC_028901",
                     "phages/enterobacteria_phage_NC_031081", "phages/escherichia_phage_JX128258",
                     "phages/escherichia_phage_MH051335", "phages/escherichia_phage_MH816966",
                     "phages/escherichia_phage_MK373776"],
}


def genetic_code_of(genome_dir: str) -> int:
    from genet5.data.splits import read_manifest

    return {e.path.strip("/"): e.genetic_code for e in read_manifest(GENOMES / "manifest.tsv")}[genome_dir]




def _code_digest() -> str:
    """A digest of the code that makes the cached records (candidates, their order, the start
    features and classifier): a cache made by other code is not read."""
    import hashlib

    import genet5.predict.prokaryote as prok

    h = hashlib.sha1()
    for name in ("orfs.py", "starts.py", "learned_starts.py", "decoder.py"):
        h.update((Path(prok.__file__).parent / name).read_bytes())
    return h.hexdigest()[:10]


def prepared(genome_dir: str, settings):
    """(records, reference) of one genome, cached: candidates, start features and the start
    classifier's term depend only on the sequence, min_len and the classifier."""
    from genet5.genome.codes import genetic_code
    from genet5.genome.fasta import read_fasta
    from genet5.predict.prokaryote.decoder import ensure_start_net, prepare_record
    from genet5.predict.prokaryote.starts import CODONS

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / (genome_dir.replace("/", "_") + f"_{settings.min_len}_{settings.start_net_model}_{_code_digest()}.pkl")
    if path.exists():
        with open(path, "rb") as fh:
            return pickle.load(fh)
    code = genetic_code(genetic_code_of(genome_dir))
    starts = set(CODONS)
    records = [prepare_record(r.id, r.seq, code, starts, settings) for r in read_fasta(GENOMES / genome_dir / "genome.fa.gz")]
    ensure_start_net(records, settings)
    out = (records, reference(GENOMES / genome_dir / "annotation.gff3.gz"))
    with open(path, "wb") as fh:
        pickle.dump(out, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return out


def parse_value(v: str):
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return {"True": True, "False": False, "None": None}.get(v, v)


def with_overrides(settings, sets: list[str]):
    weights = {}
    top = {}
    for s in sets:
        key, _, value = s.partition("=")
        if key.startswith("weights."):
            weights[key[len("weights."):]] = parse_value(value)
        else:
            top[key] = parse_value(value)
    if weights:
        top["weights"] = replace(settings.weights, **weights)
    return replace(settings, **top)


def score_genome(genome_dir: str, settings) -> dict:
    from genet5.predict.prokaryote.decoder import find_genes

    records, ref = prepared(genome_dir, settings)
    t0 = time.perf_counter()
    found = find_genes(records, settings)
    secs = time.perf_counter() - t0
    pred = set()
    for rec, genes in zip(records, found):
        sid = next((d.cand.seqid for d in rec), None)
        pred |= {(sid, g.strand, g.start, g.end) for g in genes}
    tp = len(ref & pred)
    stops_ref = {(s, st, e if st == "+" else b) for s, st, b, e in ref}
    stops_pred = {(s, st, e if st == "+" else b) for s, st, b, e in pred}
    return {"f1": 2 * tp / (len(ref) + len(pred)), "stop_f1": 2 * len(stops_ref & stops_pred) / (len(stops_ref) + len(stops_pred)),
            "ref": len(ref), "pred": len(pred), "seconds": secs}


def main() -> int:
    import torch

    from genet5.predict.prokaryote.decoder import ProkaryoteSettings

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", action="append", default=[], help="KEY=VALUE of ProkaryoteSettings (weights.NAME for a weight)")
    ap.add_argument("--groups", default="validation", help="comma-separated: " + ", ".join(GROUPS))
    ap.add_argument("--genomes", default="", help="comma-separated genome directories instead of groups")
    ap.add_argument("--mix", type=float, default=None,
                    help="L: the decoder's own weights times 1 - L, the dicodon score's L (--set applies after)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    settings = ProkaryoteSettings(use_net=False)
    if args.mix is not None:
        from genet5.predict.prokaryote.decoder import FEATURES

        scaled = {f: getattr(settings.weights, f) * (1 - args.mix) for f in FEATURES if not f.startswith("dicodon")}
        settings = replace(settings, weights=replace(settings.weights, **scaled, dicodon=args.mix, dicodon_start=args.mix))
    settings = with_overrides(settings, args.set)
    groups = {"genomes": args.genomes.split(",")} if args.genomes else {g: GROUPS[g] for g in args.groups.split(",")}
    print("settings:", " ".join(args.set) or "default", f"mix {args.mix}" if args.mix is not None else "", flush=True)
    for name, dirs in groups.items():
        f1s = []
        for d in dirs:
            r = score_genome(d, settings)
            f1s.append(r["f1"])
            print(f"  {d.split('/')[-1]:40s} start+stop {r['f1']:.4f}  stop {r['stop_f1']:.4f}  genes {r['pred']}/{r['ref']}  {r['seconds']:.1f}s", flush=True)
        print(f"{name} mean {sum(f1s) / len(f1s):.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
