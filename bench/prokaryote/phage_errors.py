#!/usr/bin/env python3
"""Error anatomy of `genet5 predict --domain prokaryote` on the validation phages (issue 11):
every reference gene we miss, every gene we add, every start we place elsewhere, described by
length, strand, start codon, Shine-Dalgarno class, overlap with a reference neighbour and
Prodigal's own call on it (its `conf` and score; the Erwinia references are Prodigal output).

    python bench/prokaryote/phage_errors.py     # -> bench/results/prokaryote_phage_errors.json

Genes are compared exactly by (sequence, strand, first base, last base) of the CDS, and a gene
with the reference's stop but another start is a "wrong start", not a miss plus an extra.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
GENOMES = Path(os.environ.get("GENET5_SHARED", REPO.parent / "shared")) / "genomes"
OUT = REPO / "bench" / "results" / "prokaryote_phage_errors.json"
SD_NAMES = ["AGGAGG", "AGGAG/GGAGG", "AGGA/GGAG/GAGG", "AGG/GGA/GAG"]  # starts.SD_GROUPS


def phages() -> list[str]:
    from genet5.data.splits import read_splits

    return [p for p, s in read_splits(GENOMES / "splits.tsv").items() if s == "validation" and p.startswith("phages/")]


def reference(path: Path) -> set:
    out = set()
    with gzip.open(path, "rt") as fh:
        for ln in fh:
            f = ln.rstrip("\n").split("\t")
            if len(f) == 9 and f[2] == "CDS":
                out.add((f[0], f[6], int(f[3]), int(f[4])))
    return out


def prodigal_calls(fasta: Path) -> dict:
    p = subprocess.run(["prodigal", "-i", str(fasta), "-f", "gff", "-q"], capture_output=True, text=True, check=True)
    out = {}
    for ln in p.stdout.splitlines():
        f = ln.split("\t")
        if ln.startswith("#") or len(f) < 9:
            continue
        attrs = dict(x.split("=", 1) for x in f[8].strip(";").split(";"))
        out[(f[0], f[6], int(f[3]), int(f[4]))] = {"conf": float(attrs["conf"]), "score": float(attrs["score"])}
    return out


def rna_spans(fasta: Path) -> dict | None:
    """tRNA and tmRNA genes by ARAGORN (Debian `aragorn`, `make bench-tools`; None without it):
    seqid -> [(lo, hi)], 1-based inclusive. Annotation pipelines such as Prokka drop a CDS that
    touches one, which is where some references part from Prodigal's own calls."""
    import re
    import shutil

    if not shutil.which("aragorn"):
        return None
    p = subprocess.run(["aragorn", "-t", "-m", "-gcbact", "-l", "-w", str(fasta)], capture_output=True, text=True, check=True)
    out, sid = {}, None
    for ln in p.stdout.splitlines():
        if ln.startswith(">"):
            sid = ln[1:].split()[0]
            out[sid] = []
        elif (m := re.search(r"c?\[(-?\d+),(\d+)\]", ln)) and sid is not None:
            out[sid].append((int(m.group(1)), int(m.group(2))))
    return out


def touches_rna(key, rnas: dict | None) -> bool | None:
    if rnas is None:
        return None
    return any(min(key[3], b) >= max(key[2], a) for a, b in rnas.get(key[0], []))


def describe(key, seqs: dict, ref_sorted: list) -> dict:
    from genet5.genome.codes import reverse_complement
    from genet5.predict.prokaryote.starts import SPACER_BINS, features

    sid, strand, lo, hi = key
    s = seqs[sid]
    if strand == "+":
        window, at = s[max(0, lo - 41) : lo - 1 + 40], min(40, lo - 1)
    else:
        window, at = reverse_complement(s[hi - 40 : hi + 40]), min(40, len(s) - hi)
    codon = window[at : at + 3].decode()
    rbs = int(features(window, np.array([at]))[1][0])
    group = "none" if rbs >= len(SD_NAMES) * len(SPACER_BINS) else SD_NAMES[rbs // len(SPACER_BINS)]
    overlap = max([min(hi, o[3]) - max(lo, o[2]) + 1 for o in ref_sorted if o[0] == sid and o != key] + [0])
    return {"strand": strand, "lo": lo, "hi": hi, "length": hi - lo + 1, "start_codon": codon, "sd": group,
            "overlap": max(overlap, 0)}


def ours(fasta: Path) -> set:
    from genet5.genome.codes import genetic_code
    from genet5.genome.fasta import read_fasta
    from genet5.predict.decoders import start_codon_set
    from genet5.predict.pipeline import PredictConfig
    from genet5.predict.prokaryote.decoder import find_genes, prepare_record, settings_for

    cfg = PredictConfig(genetic_code=11, domain="prokaryote")
    settings = settings_for(cfg)
    records = list(read_fasta(fasta))
    prepared = [prepare_record(r.id, r.seq, genetic_code(11), start_codon_set(cfg), settings) for r in records]
    found = find_genes(prepared, settings)
    return {(r.id, g.strand, g.start, g.end) for r, genes in zip(records, found) for g in genes}


def anatomy(genome_dir: str) -> dict:
    from genet5.genome.fasta import read_fasta

    ref = reference(GENOMES / genome_dir / "annotation.gff3.gz")
    with tempfile.TemporaryDirectory() as d:
        fasta = Path(d) / "g.fa"
        seqs = {r.id: r.seq.upper() for r in read_fasta(GENOMES / genome_dir / "genome.fa.gz")}
        fasta.write_bytes(b"".join(b">" + k.encode() + b"\n" + v + b"\n" for k, v in seqs.items()))
        prod = prodigal_calls(fasta)
        pred = ours(fasta)
        rnas = rna_spans(fasta)
    stop = lambda k: (k[0], k[1], k[3] if k[1] == "+" else k[2])  # noqa: E731
    rs, ps = {stop(k): k for k in ref}, {stop(k): k for k in pred}
    ref_sorted = sorted(ref, key=lambda k: k[2])
    missed = [describe(rs[s], seqs, ref_sorted) | {"prodigal": prod.get(rs[s])} for s in rs if s not in ps]
    extra = [describe(ps[s], seqs, ref_sorted) | {"prodigal_calls_it": ps[s] in prod, "touches_trna": touches_rna(ps[s], rnas)}
             for s in ps if s not in rs]
    wrong = []
    for s in rs:
        if s in ps and ps[s] != rs[s]:
            r, o = describe(rs[s], seqs, ref_sorted), describe(ps[s], seqs, ref_sorted)
            wrong.append({"reference": r, "ours": o, "ours_shorter_by": r["length"] - o["length"], "prodigal": prod.get(rs[s])})
    tp = len(ref & pred)
    conf = np.array([v["conf"] for v in prod.values()])
    return {
        "genome": genome_dir, "reference_genes": len(ref), "predicted": len(pred), "prodigal_genes": len(prod),
        "reference_genes_prodigal_calls_exactly": len(ref & set(prod)),
        "prodigal_expected_errors": round(float((1 - conf / 100).sum()), 1),
        "prodigal_calls_conf_under_90": round(float((conf < 90).mean()), 3),
        "f1_start_stop": round(2 * tp / (len(ref) + len(pred)), 4),
        "f1_against_prodigal_output": round(2 * len(pred & set(prod)) / (len(pred) + len(prod)), 4),
        "missed": missed, "extra": extra, "wrong_start": wrong,
        # ARAGORN's tRNA/tmRNA genes, the reference's CDS and Prodigal's extra calls that touch one
        "trna_genes": None if rnas is None else sum(map(len, rnas.values())),
        "reference_touching_trna": None if rnas is None else sum(bool(touches_rna(k, rnas)) for k in ref),
        "prodigal_extra": len(set(prod) - ref),
        "prodigal_extra_touching_trna": None if rnas is None else sum(bool(touches_rna(k, rnas)) for k in set(prod) - ref),
    }


def summary(r: dict) -> dict:
    m, w, x = r["missed"], r["wrong_start"], r["extra"]
    pconf = [e["prodigal"]["conf"] for e in m if e["prodigal"]]
    return {
        "missed": len(m), "missed_under_300bp": sum(e["length"] < 300 for e in m),
        "missed_atg": sum(e["start_codon"] == "ATG" for e in m), "missed_no_sd": sum(e["sd"] == "none" for e in m),
        "missed_overlapping_a_neighbour": sum(e["overlap"] > 0 for e in m),
        "missed_prodigal_conf_median": round(float(np.median(pconf)), 1) if pconf else None,
        "missed_prodigal_conf_under_90": sum(c < 90 for c in pconf),
        "extra": len(x), "extra_prodigal_also_calls": sum(e["prodigal_calls_it"] for e in x),
        "extra_touching_trna": None if r["trna_genes"] is None else sum(bool(e["touches_trna"]) for e in x),
        "prodigal_extra": r["prodigal_extra"], "prodigal_extra_touching_trna": r["prodigal_extra_touching_trna"],
        "reference_touching_trna": r["reference_touching_trna"],
        "wrong_start": len(w), "wrong_start_ours_shorter": sum(e["ours_shorter_by"] > 0 for e in w),
        "wrong_start_reference_no_sd": sum(e["reference"]["sd"] == "none" for e in w),
        "missed_strand": dict(Counter(e["strand"] for e in m)),  # the references are ~85-95% '+'
        "wrong_start_prodigal_conf_median": round(float(np.median([e["prodigal"]["conf"] for e in w if e["prodigal"]])), 1) if w else None,
    }


def main() -> int:
    results = [anatomy(g) for g in phages()]
    for r in results:
        r["summary"] = summary(r)
        print(r["genome"], r["f1_start_stop"], json.dumps(r["summary"]), flush=True)
    OUT.write_text(json.dumps({"date": dt.date.today().isoformat(), "decoder": "default (settings_for), no network",
                               "prodigal": "2.6.3 -p single", "genomes": results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
