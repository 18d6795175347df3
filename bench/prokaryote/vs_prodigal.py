#!/usr/bin/env python3
"""`genet5 predict --domain prokaryote` beside Prodigal on whole genomes, one scorer for both,
plus the ablation of each part of our decoder.

For each genome (default: the prokaryotic `validation` genomes of shared/genomes/splits.tsv):

1. Prodigal (`prodigal -i genome.fa -g CODE -f gff`, single mode, the Debian package) is run
   and timed; its GFF3 is scored by genet5's evaluator (`compare_files`, the code behind
   `genet5 eval --genome`);
2. the bundled network's per-base track is computed once (timed) and the decoder is run in
   process in several variants, each written to GFF3 and scored the same way:
   full (the default: self-trained statistics + the Prodigal-method dicodon score + the learned
   start classifier + DP, no per-base network), no_dicodon (without the dicodon score, the
   default until 2026-12-04), no_matrix_check (the start matrix at its full weight whatever its
   held-out gain, the default until 2026-12-05), no_spacing (without the self-trained gene
   spacing's junction term, the default until 2026-12-05, session 31), no_atypical (without
   the shipped GC-bin chains for atypical genes, the default until session 33), statistics_alone (without the classifier), classifier_alone (the classifier at
   full weight in place of the self-trained start model), with_network (the default + the
   per-base network, `--network`), network_alone (per-base network + fixed start prior + DP,
   no self-training, no classifier), no_self_training (long-ORF first pass + classifier),
   no_start_model (no self-trained start model; the classifier at its default weight),
   greedy (greedy selection instead of the DP); and meta mode (`--mode meta`: the shipped
   parameter sets, no self-training) beside Prodigal `-p meta` on the same genome;
3. JSON goes to bench/results/prokaryote_vs_prodigal.json (device, versions, date), and
   `--table` prints the Markdown tables of docs/benchmarks.md.

Usage:
    python bench/prokaryote/vs_prodigal.py                    # validation genomes
    python bench/prokaryote/vs_prodigal.py --genomes prokaryotes/Escherichia_coli_K12_MG1655
    python bench/prokaryote/vs_prodigal.py --table
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from genet5.data.splits import read_manifest, read_splits

REPO = Path(__file__).resolve().parents[2]
GENOMES = Path(os.environ.get("GENET5_SHARED", REPO.parent / "shared")) / "genomes"
RESULTS = REPO / "bench" / "results"
WORK = RESULTS / "work" / "prokaryote_vs_prodigal"
OUT = RESULTS / "prokaryote_vs_prodigal.json"
PROKARYOTIC = ("prokaryotes/", "archaea/", "phages/")
VARIANTS = {
    "full": {},
    "no_dicodon": {"use_dicodon": False},
    "no_matrix_check": {"matrix_gain_full": 0.0},
    "no_spacing": {"spacing_weight": 0.0},
    "no_atypical": {"atypical_penalty": None},
    "statistics_alone": {"start_net_model": None},
    "classifier_alone": {"use_start_model": False, "start_net_full_below": 10**12, "start_net_max_bases": 10**12,
                         "weights": {"start_net": 1.0}},
    "with_network": {"use_net": True},
    "network_alone": {"use_net": True, "use_self_training": False, "start_net_model": None},
    "no_self_training": {"use_self_training": False},
    "no_start_model": {"use_start_model": False},
    "greedy": {"use_dp": False},
}


def validation_genomes() -> list[str]:
    return [path for path, s in read_splits(GENOMES / "splits.tsv").items() if s == "validation" and path.startswith(PROKARYOTIC)]


def genetic_code_of(genome_dir: str) -> int:
    codes = {e.path.strip("/"): e.genetic_code for e in read_manifest(GENOMES / "manifest.tsv")}
    if codes.get(genome_dir) is None:
        raise SystemExit(f"{genome_dir}: not in manifest.tsv or no genetic code there")
    return codes[genome_dir]


def cpu_name() -> str:
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def scores(ref: Path, pred: Path, genome: Path) -> dict:
    from genet5.evaluate.compare import compare_files

    r = compare_files(ref, pred, genome).result.total
    return {level: {"sn": round(r[level].sn, 4), "pr": round(r[level].pr, 4), "f1": round(r[level].f1, 4)}
            for level in ("stop", "start_stop", "nucleotide")}


def run_prodigal(genome: Path, code: int, wd: Path, mode: str = "single") -> dict:
    out = wd / ("prodigal.gff" if mode == "single" else f"prodigal_{mode}.gff")
    t0 = time.perf_counter()
    p = subprocess.run(["prodigal", "-i", str(genome), "-g", str(code), "-p", mode, "-f", "gff", "-o", str(out), "-q"],
                       capture_output=True, text=True)
    secs = time.perf_counter() - t0
    if p.returncode != 0:
        return {"error": p.stderr.strip()[-300:]}
    return {"seconds": round(secs, 3), "file": out}


def write_genes(path: Path, source: Path, records: list[tuple[str, bytes]], found: list, code: int,
                tables: list[int] | None = None) -> None:
    """Each record's decoded genes as GFF3 (genet5 IDs, the genetic code on every CDS, a cut gene
    to the edge that cut it), as `genet5 predict` writes them; `tables`: each record's own code
    (meta mode without -g)."""
    from genet5.genome.gff3_writer import write_gff3
    from genet5.genome.models import Annotation
    from genet5.predict.genes import gap_edges, predicted_gene

    ann = Annotation(source=str(source))
    for k, ((sid, seq), genes) in enumerate(zip(records, found)):
        ann.genetic_codes[sid] = tables[k] if tables else code
        edges = gap_edges(seq)
        for i, g in enumerate(genes, 1):
            ann.add_gene(predicted_gene(g, sid, i, "genet5", edges))
    write_gff3(path, ann, {sid: len(seq) for sid, seq in records})


def run_ours(genome: Path, code: int, wd: Path, threads: int) -> dict:
    import torch

    from genet5.genome.fasta import read_fasta
    from genet5.models.genet5 import GeneT5PerBase
    from genet5.models.weights import BUNDLED_GENE_MODEL, load_model
    from genet5.predict.decoders import start_codon_set
    from genet5.predict.pipeline import PredictConfig, per_base_logprobs
    from genet5.predict.prokaryote.decoder import find_genes, prepare_record, settings_for
    from genet5.predict.prokaryote.meta import find_genes_meta
    from genet5.genome.codes import genetic_code

    torch.set_num_threads(threads)
    net = load_model(BUNDLED_GENE_MODEL, GeneT5PerBase)
    cfg = PredictConfig(genetic_code=code, domain="prokaryote")
    base = settings_for(cfg)
    gc = genetic_code(code)
    t0 = time.perf_counter()
    records = [(r.id, r.seq) for r in read_fasta(genome)]
    tracks = {sid: per_base_logprobs(net, seq, cfg) for sid, seq in records}
    t_net = time.perf_counter() - t0
    out: dict = {"network_seconds": round(t_net, 3), "variants": {}}
    for name, change in [*VARIANTS.items(), ("meta", {})]:
        if "weights" in change:  # a dict of weights to change
            change = {**change, "weights": replace(base.weights, **change["weights"])}
        settings = replace(base, **change)
        t1 = time.perf_counter()
        prepared = [prepare_record(sid, seq, gc, start_codon_set(cfg), settings,
                                   tracks[sid] if settings.use_net else None) for sid, seq in records]
        found = find_genes_meta(prepared, settings, code=code)[0] if name == "meta" else find_genes(prepared, settings)
        t_dec = time.perf_counter() - t1
        path = wd / f"genet5_{name}.gff3"
        write_genes(path, genome, records, found, code)
        total = t_dec + (t_net if settings.use_net else 0.0)
        out["variants"][name] = {"decode_seconds": round(t_dec, 3), "seconds": round(total, 3), "file": path}
    return out


def run_genome(genome_dir: str, threads: int) -> dict:
    src = GENOMES / genome_dir
    wd = WORK / genome_dir.replace("/", "_")
    wd.mkdir(parents=True, exist_ok=True)
    fasta = wd / "genome.fa"
    with gzip.open(src / "genome.fa.gz", "rb") as fin, open(fasta, "wb") as fout:
        shutil.copyfileobj(fin, fout)
    ref = src / "annotation.gff3.gz"
    code = genetic_code_of(genome_dir)
    bp = sum(len(ln) for ln in fasta.read_text().splitlines() if not ln.startswith(">"))
    rec: dict = {"genome": genome_dir, "genetic_code": code, "bp": bp}
    prod = run_prodigal(fasta, code, wd)
    if "file" in prod:
        prod["scores"] = scores(ref, prod.pop("file"), fasta)
        prod["bp_per_s"] = round(bp / prod["seconds"])
    rec["prodigal"] = prod
    meta = run_prodigal(fasta, code, wd, "meta")
    if "file" in meta:
        meta["scores"] = scores(ref, meta.pop("file"), fasta)
    rec["prodigal_meta"] = meta
    ours = run_ours(fasta, code, wd, threads)
    for v in ours["variants"].values():
        v["scores"] = scores(ref, v.pop("file"), fasta)
        v["bp_per_s"] = round(bp / v["seconds"])
    rec["genet5"] = ours
    full = ours["variants"]["full"]["scores"]["start_stop"]["f1"]
    peer = prod.get("scores", {}).get("start_stop", {}).get("f1")
    print(f"{genome_dir}: genet5 {full:.4f} vs Prodigal {peer} (exact start+stop F1); "
          + ", ".join(f"{k} {v['scores']['start_stop']['f1']:.4f}" for k, v in ours["variants"].items()), flush=True)
    return rec


def table(data: dict) -> str:
    lines = ["| genome | bp | Prodigal start+stop (stop) | genet5 start+stop (stop) | no dicodon score | no start-matrix check | no spacing model | no atypical chains | statistics alone | classifier alone | with network | network alone | no self-training | no start model | greedy | genet5 / Prodigal bp/s | meta mode | Prodigal -p meta |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in data["genomes"]:
        v = r["genet5"]["variants"]
        f = lambda s: f"{s['start_stop']['f1']:.3f} ({s['stop']['f1']:.3f})"
        p = r["prodigal"]
        lines.append(
            f"| {r['genome'].split('/')[-1]} | {r['bp']:,} | {f(p['scores'])} | **{f(v['full']['scores'])}** | "
            f"{f(v['no_dicodon']['scores']) if 'no_dicodon' in v else ''} | "
            f"{f(v['no_matrix_check']['scores']) if 'no_matrix_check' in v else ''} | "
            f"{f(v['no_spacing']['scores']) if 'no_spacing' in v else ''} | "
            f"{f(v['no_atypical']['scores']) if 'no_atypical' in v else ''} | "
            f"{f(v['statistics_alone']['scores'])} | {f(v['classifier_alone']['scores'])} | "
            f"{f(v['with_network']['scores'])} | {f(v['network_alone']['scores'])} | {f(v['no_self_training']['scores'])} | {f(v['no_start_model']['scores'])} | "
            f"{f(v['greedy']['scores'])} | {v['full']['bp_per_s']:,} / {p['bp_per_s']:,} | "
            f"{f(v['meta']['scores']) if 'meta' in v else ''} | {f(r['prodigal_meta']['scores']) if 'scores' in r.get('prodigal_meta', {}) else ''} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genomes", help="comma-separated genome directories (default: prokaryotic validation genomes)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--table", action="store_true", help="print the Markdown table of --out and exit")
    args = ap.parse_args()
    if args.table:
        print(table(json.loads(args.out.read_text())))
        return 0
    if shutil.which("prodigal") is None:
        raise SystemExit("prodigal not found: apt-get install prodigal (make test does it)")
    genomes = args.genomes.split(",") if args.genomes else validation_genomes()
    import torch

    data = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d"),
        "device": {"cpu": cpu_name(), "cores": os.cpu_count(), "threads": args.threads},
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "prodigal": subprocess.run(["prodigal", "-v"], capture_output=True, text=True).stderr.strip()},
        "scorer": "genet5.evaluate.compare.compare_files (genet5 eval --genome)",
        "genomes": [run_genome(g, args.threads) for g in genomes],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1, default=str) + "\n")
    print(table(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
