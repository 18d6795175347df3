"""Where `genet5 predict` spends its time, and what the learned start model buys.

1. Encoder + per-base head alone (bases/s) on the first 1 Mb of E. coli, for several window
   sizes; ORF candidate search and decoding (with start-model self-training) on that track.
2. Start model on/off (`learn_starts`) with the same track, scored by genet5's evaluator, on
   the held-out Erwinia phages: stop F1 and exact start+stop F1.

    python bench/predict_breakdown.py [--shared ../shared/genomes] [--model DIR] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from io_speed import cpu_model  # noqa: E402

from genet5.evaluate.metrics import evaluate  # noqa: E402
from genet5.genome.fasta import FastaRecord, read_fasta  # noqa: E402
from genet5.genome.gff import read_annotation  # noqa: E402
from genet5.genome.models import Annotation  # noqa: E402
from genet5.models.genet5 import GeneT5PerBase  # noqa: E402
from genet5.models.weights import BUNDLED_DIR, BUNDLED_GENE_MODEL, load_model  # noqa: E402
from genet5.predict.decoders import DECODERS  # noqa: E402
from genet5.predict.genes import predicted_gene  # noqa: E402
from genet5.predict.pipeline import PredictConfig, per_base_logprobs  # noqa: E402

BUNDLED = BUNDLED_DIR / BUNDLED_GENE_MODEL  # the model `genet5 predict` uses by default

PHAGES = ["phages/erwinia_phage_LT960552", "phages/erwinia_phage_MT939486"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "genomes")
    ap.add_argument("--model", type=Path, default=BUNDLED)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "predict_breakdown.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.model, GeneT5PerBase)
    ecoli = next(iter(read_fasta(args.shared / "prokaryotes/Escherichia_coli_K12_MG1655/genome.fa.gz")))
    seq = ecoli.seq[:1_000_000]
    out: dict = {"benchmark": "predict_breakdown", "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 "device": f"CPU: {cpu_model()}, {os.cpu_count()} cores", "threads": args.threads,
                 "model": str(args.model), "load_before": round(os.getloadavg()[0], 2), "encoder": {}}  # fmt: skip
    for window, batch in ((4096, 4), (8192, 2)):
        cfg = PredictConfig(window=window, batch_size=batch)
        t0 = time.perf_counter()
        logp = per_base_logprobs(model, seq, cfg)
        out["encoder"][f"window_{window}"] = round(len(seq) / (time.perf_counter() - t0))
    # the orf decoder from the decoder table, as `genet5 predict --decoder orf` runs it
    cfg = PredictConfig(genetic_code=11, decoder="orf")
    decoder = DECODERS["orf"].build(cfg, "E. coli, first 1 Mb")
    t0 = time.perf_counter()
    decoder.add(FastaRecord(ecoli.id, "", seq), logp)
    t1 = time.perf_counter()
    decoder.finish()
    t2 = time.perf_counter()
    out["orf_candidates_s_per_mb"] = round(t1 - t0, 2)
    out["orf_decode_s_per_mb"] = round(t2 - t1, 2)
    out["start_model"] = {}
    for name in PHAGES:
        d = args.shared / name
        ref = read_annotation(d / "annotation.gff3.gz")
        records = list(read_fasta(d / "genome.fa.gz"))
        tracks = [per_base_logprobs(model, r.seq, cfg) for r in records]
        row = {}
        for learn in (False, True):
            decoder = DECODERS["orf"].build(replace(cfg, learn_starts=learn), name)
            for r, track in zip(records, tracks):
                decoder.add(r, track)
            ann = Annotation()
            for r, found in zip(records, decoder.finish().genes):
                for i, g in enumerate(found, 1):
                    ann.add_gene(predicted_gene(g, r.id, i, "x"))
            res = evaluate(ref, ann).total
            row["learned" if learn else "fixed_prior"] = {"stop_f1": round(res["stop"].f1, 3), "start_stop_f1": round(res["start_stop"].f1, 3)}
        out["start_model"][name] = row
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
