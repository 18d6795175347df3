#!/usr/bin/env python3
"""Short inputs: single mode (the piece teaches itself) against meta mode (shipped parameter
sets) on contigs cut from the prokaryotic validation genomes, beside Prodigal -p single and
-p meta on the same pieces; this is what sets META_BELOW (predict/prokaryote/meta.py).

For each piece size, non-overlapping pieces are cut from each genome's longest sequence; each is
decoded as a genome of its own. Scoring: exact start+stop and stop F1 over the reference genes
that lie wholly inside a piece; predictions marked partial (cut by the piece's ends) are not
counted, for any tool. And "with cut genes": every prediction against those genes plus the
pieces of the genes a piece's ends cut, as drafts.py scores them. The per-base network is not used (it is off by default); each of our
modes runs with the learned start classifier (the default) and without it (statistics alone);
genet5_meta_no_g is meta mode without -g (every genome read under table 11, the table-4 sets
competing per piece, as `genet5 predict --meta` does; Prodigal -p meta chooses its table so),
genet5_meta_no_g_score_only the same without its readthrough rule (the higher score alone
decides, Prodigal's rule: the ablation); the JSON counts the pieces each read as table 4.

    python bench/prokaryote/meta_pieces.py            # -> bench/results/prokaryote_meta_pieces.json
    python bench/prokaryote/meta_pieces.py --whole    # -> bench/results/prokaryote_meta_whole.json

--whole: meta mode on each whole prokaryotic validation genome (every sequence picks its set)
beside `prodigal -p meta`, both scored by genet5's evaluator (vs_prodigal.py's `scores`, the code
behind `genet5 eval --genome`), with the seconds each took.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
GENOMES = Path(os.environ.get("GENET5_SHARED", REPO.parent / "shared")) / "genomes"
OUT = REPO / "bench" / "results" / "prokaryote_meta_pieces.json"
OUT_WHOLE = REPO / "bench" / "results" / "prokaryote_meta_whole.json"
CASES = [("prokaryotes/Vibrio_cholerae_RFB16", 11), ("archaea/Thermococcus_kodakarensis_KOD1", 11),
         ("prokaryotes/Mycoplasmoides_alvi_ATCC29626", 4), ("phages/erwinia_phage_LT960552", 11)]
SIZES = (5_000, 10_000, 20_000, 50_000)
# Pieces per genome and size: at least PIECES, and as many as make PIECE_BASES of sequence, so
# that every size holds ~200 reference genes per genome (8 pieces of 5 kb hold ~40: one gene
# was 0.006 of F1, and a 40-piece draw moved 5 kb figures by 0.03)
PIECES = 8
PIECE_BASES = 200_000


def pieces_for(size: int) -> int:
    return max(PIECES, PIECE_BASES // size)


def truth_in(ref, seqid: str, lo: int, hi: int) -> set:
    out = set()
    for t in ref.iter_transcripts():
        if t.seqid == seqid and t.cds and len(t.cds) == 1 and t.cds_length % 3 == 0:
            a, b = t.cds[0].start, t.cds[0].end
            if a > lo and b <= hi:
                out.add((t.strand, a - lo, b - lo))
    return out


# "with cut genes": every gene of each tool, cut ones included, against the reference genes inside
# a piece plus the pieces of those its ends cut, each to the edge as NCBI annotates a cut gene
# (drafts.py's rule; pieces of at least this many bases)
MIN_CUT_PIECE = 90


def cut_in(ref, seqid: str, lo: int, hi: int) -> set:
    out = set()
    for t in ref.iter_transcripts():
        if t.seqid == seqid and t.cds and len(t.cds) == 1:
            a, b = t.cds[0].start, t.cds[0].end
            if a <= hi and b > lo and not (a > lo and b <= hi) and min(b, hi) - max(a, lo + 1) + 1 >= MIN_CUT_PIECE:
                out.add((t.strand, max(a, lo + 1) - lo, min(b, hi) - lo))
    return out


def as_written(g, edges) -> tuple[str, int, int, bool]:
    """(strand, first, last, partial) of a decoded gene as `genet5 predict` writes it: a cut
    gene runs to the edge that cut it (predict/genes.py)."""
    from genet5.predict.genes import predicted_gene

    cds = predicted_gene(g, "p", 1, "x", edges).transcripts[0].cds[0]
    return g.strand, cds.start, cds.end, g.start_partial or g.end_partial


def f1(tp: int, n_ref: int, n_pred: int) -> float:
    return 2 * tp / (n_ref + n_pred) if n_ref + n_pred else 0.0


def prodigal(seq: bytes, code: int, mode: str) -> list[tuple[str, int, int, bool]]:
    with tempfile.TemporaryDirectory() as d:
        fa = Path(d) / "p.fa"
        fa.write_bytes(b">p\n" + seq + b"\n")
        p = subprocess.run(["prodigal", "-i", str(fa), "-g", str(code), "-p", mode, "-f", "gff", "-q"],
                           capture_output=True, text=True)
        out = []
        for ln in p.stdout.splitlines():
            if ln.startswith("#") or "\tCDS\t" not in ln:
                continue
            c = ln.split("\t")
            partial = "partial=00" not in c[8]
            out.append((c[6], int(c[3]), int(c[4]), partial))
        return out


def whole_genomes() -> dict:
    """Meta mode and prodigal -p meta on every prokaryotic validation genome, one scorer."""
    import time

    sys.path.insert(0, str(Path(__file__).parent))
    from vs_prodigal import WORK, genetic_code_of, run_prodigal, scores, validation_genomes, write_genes

    from genet5.genome.codes import genetic_code
    from genet5.genome.fasta import read_fasta
    from genet5.predict.decoders import COMMON_PROKARYOTIC_STARTS
    from genet5.predict.prokaryote.decoder import ProkaryoteSettings, prepare_record
    from genet5.predict.prokaryote.meta import find_genes_meta, find_genes_meta_any_code, load_sets

    sets, settings, out = load_sets(), ProkaryoteSettings(use_net=False), {}
    for genome_dir in validation_genomes():
        code, wd = genetic_code_of(genome_dir), WORK / genome_dir.replace("/", "_")
        wd.mkdir(parents=True, exist_ok=True)
        fasta, ref = wd / "genome.fa", GENOMES / genome_dir / "annotation.gff3.gz"
        with gzip.open(GENOMES / genome_dir / "genome.fa.gz", "rb") as fin, open(fasta, "wb") as fout:
            shutil.copyfileobj(fin, fout)
        records = [(r.id, r.seq) for r in read_fasta(fasta)]
        gc = genetic_code(code)
        t0 = time.perf_counter()
        prepared = [prepare_record(sid, seq, gc, gc.starts & COMMON_PROKARYOTIC_STARTS, settings) for sid, seq in records]
        found, picked = find_genes_meta(prepared, settings, sets, code=code)
        secs = time.perf_counter() - t0
        write_genes(wd / "genet5_meta.gff3", fasta, records, found, code)
        # without -g, as `genet5 predict --meta` runs: every sequence read under table 11, table 4 competing
        code11, code4 = genetic_code(11), genetic_code(4)
        seqs = [seq for _, seq in records]
        no_g, picked_no_g, tables = find_genes_meta_any_code(
            [prepare_record(sid, seq, code11, code11.starts & COMMON_PROKARYOTIC_STARTS, settings) for sid, seq in records],
            lambda i: prepare_record(records[i][0], seqs[i], code4, code4.starts & COMMON_PROKARYOTIC_STARTS, settings),
            settings, sets)
        write_genes(wd / "genet5_meta_no_g.gff3", fasta, records, no_g, code, tables)
        prod = run_prodigal(fasta, code, wd, "meta")
        out[genome_dir] = {"genetic_code": code, "bp": sum(len(s) for _, s in records),
                           "genet5_meta": {"scores": scores(ref, wd / "genet5_meta.gff3", fasta), "seconds": round(secs, 2),
                                           "sets": sorted(set(picked))},
                           "genet5_meta_no_g": {"scores": scores(ref, wd / "genet5_meta_no_g.gff3", fasta),
                                                "sequences_table_4": tables.count(4), "sequences": len(tables)},
                           "prodigal_meta": {"scores": scores(ref, prod.pop("file"), fasta), **prod} if "file" in prod else prod}
        f = lambda v: v["scores"]["start_stop"]["f1"]  # noqa: E731
        print(f"{genome_dir}: meta {f(out[genome_dir]['genet5_meta']):.4f} (without -g "
              f"{f(out[genome_dir]['genet5_meta_no_g']):.4f}, table 4 on {tables.count(4)} of {len(tables)}) vs prodigal -p meta "
              f"{f(out[genome_dir]['prodigal_meta']):.4f} ({secs:.1f} s; {', '.join(sorted(set(picked)))})", flush=True)
    return out


def main() -> int:
    if "--whole" in sys.argv[1:]:
        result = {"date": dt.date.today().isoformat(), "network": False, "genomes": whole_genomes()}
        OUT_WHOLE.write_text(json.dumps(result, indent=1) + "\n")
        return 0
    from genet5.genome.codes import genetic_code
    from genet5.genome.fasta import RecordSequence, read_fasta
    from genet5.genome.readers import load_annotation
    from genet5.genome.validate import include_stop_codons
    from genet5.predict.decoders import COMMON_PROKARYOTIC_STARTS
    from genet5.predict.genes import gap_edges
    from genet5.predict.prokaryote.decoder import ProkaryoteSettings, find_genes, prepare_record
    from genet5.predict.prokaryote.meta import find_genes_meta, find_genes_meta_any_code, load_sets

    sets = load_sets()
    code11, code4 = genetic_code(11), genetic_code(4)
    settings = ProkaryoteSettings(use_net=False)
    stats = ProkaryoteSettings(use_net=False, start_net_model=None)
    tools = ("genet5_single", "genet5_meta", "genet5_single_stats", "genet5_meta_stats", "genet5_meta_no_g",
             "genet5_meta_no_g_score_only", "prodigal_single", "prodigal_meta")
    table4 = {}  # genome -> tool -> size -> pieces read under table 4 (without -g)
    tally = {t: {s: [0, 0, 0, 0] for s in SIZES} for t in tools}  # tp start+stop, tp stop, n_ref, n_pred
    per_genome: dict = {}  # genome -> tool -> size -> the same four counts
    with_cut = {t: {s: [0, 0, 0] for s in SIZES} for t in tools}  # tp start+stop, n_ref, n_pred (cut genes in)
    for genome_dir, code in CASES:
        rec = max(read_fasta(GENOMES / genome_dir / "genome.fa.gz"), key=lambda r: len(r.seq))
        ref = load_annotation(GENOMES / genome_dir / "annotation.gff3.gz")
        include_stop_codons(ref.subset([rec.id]), RecordSequence(rec), code, code)
        gc = genetic_code(code)
        starts = gc.starts & COMMON_PROKARYOTIC_STARTS
        rng = np.random.default_rng(0)
        for size in SIZES:
            slots = len(rec.seq) // size
            offsets = sorted(rng.choice(slots, size=min(pieces_for(size), slots), replace=False) * size)
            for off in offsets:
                seq = rec.seq[off : off + size]
                truth = truth_in(ref, rec.id, off, off + size)
                cut = cut_in(ref, rec.id, off, off + size)
                stops = {(s, b if s == "+" else a) for s, a, b in truth}
                prep = [prepare_record("p", seq, gc, starts, settings)]
                # without -g (`genet5 predict --meta`): read under table 11, table 4 competing;
                # score_only: the ablation of the readthrough rule (Prodigal's: the higher score decides)
                no_g = {}
                for tool, rule in (("genet5_meta_no_g", True), ("genet5_meta_no_g_score_only", False)):
                    found, _, tables = find_genes_meta_any_code(
                        [prepare_record("p", seq, code11, code11.starts & COMMON_PROKARYOTIC_STARTS, settings)],
                        lambda i: prepare_record("p", seq, code4, code4.starts & COMMON_PROKARYOTIC_STARTS, settings),
                        settings, sets, readthrough_rule=rule)
                    no_g[tool] = [as_written(g, gap_edges(seq)) for g in found[0]]
                    t4 = table4.setdefault(genome_dir, {}).setdefault(tool, {})
                    t4[str(size)] = t4.get(str(size), 0) + tables.count(4)
                bare = [prepare_record("p", seq, gc, starts, stats)]
                edges = gap_edges(seq)
                genes_of = lambda found: [as_written(g, edges) for g in found]  # noqa: E731
                preds = {
                    "genet5_single": genes_of(find_genes(prep, settings)[0]),
                    "genet5_meta": genes_of(find_genes_meta(prep, settings, sets, code=code)[0][0]),
                    "genet5_single_stats": genes_of(find_genes(bare, stats)[0]),
                    "genet5_meta_stats": genes_of(find_genes_meta(bare, stats, sets, code=code)[0][0]),
                    **no_g,
                    "prodigal_single": prodigal(seq, code, "single"),
                    "prodigal_meta": prodigal(seq, code, "meta"),
                }
                for tool, genes in preds.items():
                    full = [(s, a, b) for s, a, b, partial in genes if not partial]
                    counts = (len(set(full) & truth), len({(s, b if s == "+" else a) for s, a, b in full} & stops),
                              len(truth), len(full))
                    g = per_genome.setdefault(genome_dir, {}).setdefault(tool, {}).setdefault(size, [0, 0, 0, 0])
                    for t in (tally[tool][size], g):
                        for k in range(4):
                            t[k] += counts[k]
                    every = {(s, a, b) for s, a, b, _ in genes}
                    w = with_cut[tool][size]
                    w[0] += len(every & (truth | cut))
                    w[1] += len(truth | cut)
                    w[2] += len(every)
        print(genome_dir, "done", flush=True)
    result = {
        "date": dt.date.today().isoformat(), "sizes": SIZES, "pieces_per_genome": {s: pieces_for(s) for s in SIZES},
        "genomes": [c[0] for c in CASES], "network": False,
        "start_classifier": "genet5_single / genet5_meta: bundled prokaryote-starts; *_stats: without it",
        "f1": {tool: {str(s): {"start_stop": round(f1(v[0], v[2], v[3]), 4), "stop": round(f1(v[1], v[2], v[3]), 4),
                               "n_ref": v[2], "n_pred": v[3]} for s, v in by.items()} for tool, by in tally.items()},
        "f1_with_cut_genes": {tool: {str(s): {"start_stop": round(f1(*v), 4), "n_ref": v[1], "n_pred": v[2]}
                                     for s, v in by.items()} for tool, by in with_cut.items()},
        "pieces_read_as_table_4_without_g": table4,
        "per_genome_start_stop_f1": {g: {tool: {str(s): round(f1(v[0], v[2], v[3]), 4) for s, v in by.items()}
                                         for tool, by in tools_of.items()} for g, tools_of in per_genome.items()},
    }
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print("| piece | " + " | ".join(tools) + " |")
    print("|---|" + "---|" * len(tools))
    for s in SIZES:
        print(f"| {s // 1000} kb | " + " | ".join(
            f"{result['f1'][t][str(s)]['start_stop']:.3f} ({result['f1'][t][str(s)]['stop']:.3f})" for t in tools) + " |")
    for g, tools_of in result["per_genome_start_stop_f1"].items():
        print(g, " | ".join(f"{s // 1000} kb meta {tools_of['genet5_meta'][str(s)]:.3f} / Prodigal -p meta "
                            f"{tools_of['prodigal_meta'][str(s)]:.3f}" for s in SIZES))
    print("with cut genes (start+stop F1):")
    for s in SIZES:
        print(f"| {s // 1000} kb | " + " | ".join(f"{result['f1_with_cut_genes'][t][str(s)]['start_stop']:.3f}" for t in tools) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
