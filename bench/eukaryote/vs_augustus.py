#!/usr/bin/env python3
"""`genet5 predict --domain eukaryote` (the self-trained gene-structure decoder) beside AUGUSTUS,
one scorer for both, plus the ablation of each self-trained part.

For each case (default: the validation eukaryotes of shared/genomes/splits.tsv that fit a CPU
session, and yeast chromosomes I, III, VI from the training split, marked as such):

1. AUGUSTUS (Debian `augustus` + `augustus-data`, `make bench-tools`) runs through
   bench/baselines/run_baselines.py on the same sequences (its genome.fa and reference are
   the inputs of our runs too), timed;
2. the decoder (predict/eukaryote/decoder.py) runs in process in several variants, each written
   to GFF3 and scored by genet5's evaluator (`compare_files`, the code behind `genet5 eval`):
   full, no_utr_states (genes' untranslated flanks read as intergenic, with the gene prior
   tuned without them), no_self_training (the seed pass only), no_intron_learning (coding chain re-estimated,
   intron chain and splice matrices left at their seeds), no_splice_matrices (no self-trained
   site matrices; the trained site classifier still on), no_site_model (the trained splice-site
   classifier left out; matrices on), no_site_adaptation (the classifier as bundled, not
   fine-tuned on the genome's first-pass genes), with_intergenic_chain (an intergenic chain learned too: rejected),
   no_density_adaptation (the intron-rich settings even on a compact genome), no_start_context
   (no start-codon context matrix), no_stop_site (the classifier's stop readout not read at gene ends), no_scan_penalty (ATGs with
   an in-frame ATG shortly upstream not made dearer: predict/eukaryote/scanning.py), no_long_intron_rule (never the long intron-length class; by
   default it is chosen where the introns of the first round have a long tail),
   no_score_floor (weak genes kept: no minimum gene score), no_report_floor (genes reported
   from the training floor, 10, instead of 15), no_intron_floor (no shortest intron
   fitted to the genome: introns from 20 bp, the length model starting there), no_species_prior
   (no training species' chains mixed into the genome's own: predict/eukaryote/priors.py),
   no_repeat_filter (genes made of the genome's own repeats kept: predict/eukaryote/repeats.py),
   no_softmask (`--no-softmask`: soft-masked bases not counted as repeats),
   with_long_intron_class (the long class on every genome, at the usual gene prior: rejected),
   with_terminal_exon_min (terminal exons of 24+ bp only: rejected);
3. JSON goes to bench/results/eukaryote_vs_augustus.json; `--table` prints docs/benchmarks.md's
   table.

Usage:
    python bench/eukaryote/vs_augustus.py                 # all cases (about 20 min on 2 cores)
    python bench/eukaryote/vs_augustus.py celegans_1pct --reuse-augustus
    python bench/eukaryote/vs_augustus.py yeast3 --reuse-augustus --variants full,no_density_adaptation
    python bench/eukaryote/vs_augustus.py --table
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench" / "baselines"))
from run_baselines import Case, run_case  # noqa: E402

RESULTS = REPO / "bench" / "results"
OUT = RESULTS / "eukaryote_vs_augustus.json"
VARIANTS = {
    "full": {},
    "no_utr_states": {"utr_mean": 0.0, "gene_logp": -10.0},  # flanks intergenic, the prior they were tuned with
    "no_self_training": {"use_self_training": False},
    "no_intron_learning": {"learn_introns": False},
    "no_splice_matrices": {"splice_weight": 0.0},
    "no_site_model": {"site_model_weight": 0.0},  # the trained splice-site classifier left out
    "no_site_adaptation": {"site_adapt_round": 0},  # the bundled classifier, not fine-tuned on the genome
    "with_intergenic_chain": {"learn_intergenic_chain": True},
    "no_density_adaptation": {"adapt_to_density": False},  # intron-rich settings on every genome
    "no_start_context": {"learn_start_context": False},
    "no_stop_site": {"site_stop_weight": 0.0},  # gene ends without the classifier's stop evidence
    "no_scan_penalty": {"scan_penalty": 0.0},  # ATGs shadowed by an upstream in-frame ATG not made dearer
    # the long intron-length class only where the introns of pass 1 have a long tail (default)
    "no_long_intron_rule": {"intron_long_share": 0.0},
    "no_score_floor": {"min_score": 0.0, "report_min_score": 0.0},  # weak genes kept (default: above 10, reported above 15)
    "no_report_floor": {"report_min_score": 10.0},  # genes reported at the training floor (10), as before 2026-12-05
    "no_intron_floor": {"intron_min_quantile": 0.0},  # introns from 20 bp on every genome
    "no_species_prior": {"prior_weight": 0.0},  # the genome's own counts only (priors.py)
    "no_repeat_filter": {"max_repeat_share": 1.0},  # genes in repeats kept (repeats.py; soft-masked ones too)
    "no_softmask": {},  # `--no-softmask`: lower-case bases not counted as repeats (run_genet5 passes no masks)
    "with_long_intron_class": {"intron_long_classes": True},  # the long class on every genome, prior -16: rejected
    "with_terminal_exon_min": {"terminal_exon_min": 24},  # no terminal exon under 24 bp: rejected
}


@dataclass
class EukCase:
    name: str
    split: str  # of shared/genomes/splits.tsv, and what that means here
    augustus: Case


CASES = [
    EukCase("celegans_1pct", "validation; species never trained on",
            Case("celegans_1pct_augustus", "invertebrates/Caenorhabditis_elegans_WS270_1pct", "augustus", "caenorhabditis")),
    EukCase("dmel_chr4", "validation; same species as the fly training chromosome",
            Case("dmel_chr4_augustus", "invertebrates/Drosophila_melanogaster_dm6_chr4", "augustus", "fly")),
    EukCase("dmel_1pct_no_2R", "validation; same species as the fly training chromosome, 2R dropped (its first 1% overlaps "
            "dm3 chr2R); never used to choose a setting (not in the dev harness)",
            Case("dmel_1pct_no_2R_augustus", "invertebrates/Drosophila_melanogaster_dm6_1pct", "augustus", "fly",
                 sequences=["2L", "3L", "3R", "4", "X", "Y"])),
    EukCase("athal_1pct_no_chr1", "validation; same species as training, Chr1 dropped (overlaps the training chromosome)",
            Case("athal_1pct_no_chr1_augustus", "plants/Arabidopsis_thaliana_TAIR10_1pct", "augustus", "arabidopsis",
                 sequences=["Chr2", "Chr3", "Chr4", "Chr5"])),
    EukCase("zymo_chr10_11", "validation; fungus whose species and genus are in no training set (2 of 21 chromosomes, 3.3 Mb)",
            Case("zymo_chr10_11_augustus", "fungi/Zymoseptoria_tritici_IPO323", "augustus", "Sphaceloma_murrayae",
                 sequences=["chr_10", "chr_11"], note="AUGUSTUS has no Zymoseptoria set: Sphaceloma, another Dothideomycete")),
    EukCase("yeast3", "train genome (chromosomes I, III, VI): a compact fungus, shown for what it says, not validation",
            Case("yeast3_augustus", "fungi/Saccharomyces_cerevisiae_S288C", "augustus", "saccharomyces_cerevisiae_S288C",
                 sequences=["BK006935.2", "BK006937.2", "BK006940.2"])),
]


def score(ref: Path, pred: Path, genome: Path) -> dict:
    from genet5.evaluate.compare import compare_files

    r = compare_files(ref, pred, genome).result.total
    out = {}
    for level in ("nucleotide", "exon", "gene"):
        m = r[level]
        sn, pr = m.found_ref / max(1, m.n_ref), m.correct_pred / max(1, m.n_pred)
        out[level] = {"sn": round(sn, 4), "pr": round(pr, 4), "f1": round(m.f1, 4), "n_ref": m.n_ref, "n_pred": m.n_pred}
    return out


def segments_per_transcript(gff: Path) -> float:
    parents: dict[str, int] = {}
    for ln in gff.read_text().splitlines():
        c = ln.split("\t")
        if len(c) == 9 and c[2] == "CDS":
            attrs = c[8].replace('"', "").replace("; ", ";").split(";")
            p = next((x.split("=", 1)[1] if "=" in x else x.split(" ", 1)[1] for x in attrs
                      if x.startswith(("Parent=", "transcript_id "))), "")
            parents[p] = parents.get(p, 0) + 1
    return round(sum(parents.values()) / max(1, len(parents)), 2)


def run_genet5(genome: Path, ref: Path, work: Path, variants: list[str] | None = None) -> dict:
    from genet5.genome.codes import genetic_code
    from genet5.genome.fasta import read_fasta
    from genet5.genome.gff3_writer import write_gff3
    from genet5.genome.models import Annotation
    from genet5.predict.eukaryote.decoder import EukaryoteSettings, find_genes
    from genet5.predict.genes import predicted_gene

    recs = list(read_fasta(genome))
    records = [(r.id, r.seq) for r in recs]
    masks = [r.mask for r in recs]  # soft-masked runs, as `genet5 predict` passes them (--softmask, the default)
    bases = sum(len(s) for _, s in records)
    out = {}
    for name, change in VARIANTS.items():
        if variants and name not in variants:
            continue
        t0 = time.perf_counter()
        genes, models = find_genes(records, genetic_code(1), replace(EukaryoteSettings(), **change),
                                   masks=None if name == "no_softmask" else masks)
        seconds = time.perf_counter() - t0
        ann = Annotation(source=str(genome))
        for (sid, _), found in zip(records, genes):
            for i, g in enumerate(found, 1):
                ann.add_gene(predicted_gene(g, sid, i, "genet5"))
        pred = work / f"genet5_{name}.gff3"
        write_gff3(pred, ann, {sid: len(s) for sid, s in records})
        out[name] = {"scores": score(ref, pred, genome), "seconds": round(seconds, 1), "bp_per_s": round(bases / seconds),
                     "cds_per_transcript": segments_per_transcript(pred), "intron_mean_learned": round(models.intron_mean),
                     "single_orf_fraction": models.single_orf_fraction and round(models.single_orf_fraction, 3),
                     "compactness": round(models.compactness, 3)}
        print(f"  genet5 {name}: gene F1 {out[name]['scores']['gene']['f1']:.3f} exon F1 "
              f"{out[name]['scores']['exon']['f1']:.3f} {seconds:.0f} s", flush=True)
    return out


def table(doc: dict) -> str:
    rows = ["| case | split | AUGUSTUS | **genet5** | no UTR states | no self-training | no intron learning | no splice matrices | no site model | no site adaptation | no start context | no stop site | no scan penalty | with intergenic chain | no long intron rule | no score floor | no report floor | no intron floor | no species prior | no repeat filter | no softmask | with long intron class (everywhere) | with terminal exon min | no density adaptation (single-ORF fraction) | CDS/transcript ref / ours / AUGUSTUS | genet5 / AUGUSTUS bp/s |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def cell(s):
        return f"{s['gene']['f1']:.3f} ({s['exon']['f1']:.3f}; {s['nucleotide']['f1']:.3f})"

    def density(g):
        if "no_density_adaptation" not in g:
            return "-"
        fraction = g.get("full", {}).get("single_orf_fraction")
        return f"{cell(g['no_density_adaptation']['scores'])} ({'-' if fraction is None else f'{fraction:.2f}'})"

    for name, c in doc["cases"].items():
        g, a = c["genet5"], c["augustus"]
        full = g.get("full", {})

        # a run of some variants only (--variants into a new --out) has no others: '-' for those
        def opt(variant, g=g):
            return cell(g[variant]["scores"]) if variant in g else "-"

        rows.append(f"| {name} | {c['split'].split(';')[0]} | {cell(a['scores'])} | **{opt('full')}** | {opt('no_utr_states')} | "
                    f"{opt('no_self_training')} | {opt('no_intron_learning')} | "
                    f"{opt('no_splice_matrices')} | {opt('no_site_model')} | {opt('no_site_adaptation')} | {opt('no_start_context')} | {opt('no_stop_site')} | {opt('no_scan_penalty')} | {opt('with_intergenic_chain')} | "
                    f"{opt('no_long_intron_rule')} | {opt('no_score_floor')} | {opt('no_report_floor')} | {opt('no_intron_floor')} | {opt('no_species_prior')} | {opt('no_repeat_filter')} | {opt('no_softmask')} | {opt('with_long_intron_class')} | {opt('with_terminal_exon_min')} | {density(g)} | {c['ref_cds_per_transcript']} / {full.get('cds_per_transcript', '-')} / "
                    f"{a['cds_per_transcript']} | {format(full['bp_per_s'], ',') if 'bp_per_s' in full else '-'} / {a['bp_per_s']:,} |")
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cases", nargs="*", help=f"case names (default all: {', '.join(c.name for c in CASES)})")
    ap.add_argument("--reuse-augustus", action="store_true", help="score AUGUSTUS output kept from an earlier run")
    ap.add_argument("--table", action="store_true", help="print the Markdown table of the stored results")
    ap.add_argument("--variants", help=f"comma-separated genet5 variants to rerun, the rest kept (default all: {', '.join(VARIANTS)})")
    ap.add_argument("--out", type=Path, default=OUT, help="results JSON, read and updated (default %(default)s; "
                    "another file lets two runs go side by side, each on its own cases)")
    args = ap.parse_args()
    out = args.out
    if args.table:
        print(table(json.loads(out.read_text())))
        return 0
    doc = json.loads(out.read_text()) if out.is_file() else {"cases": {}}
    import torch

    torch.set_num_threads(2)
    doc.update(date=dt.date.today().isoformat(), cpu=platform.processor() or platform.machine(),
               python=platform.python_version())
    for c in CASES:
        if args.cases and c.name not in args.cases:
            continue
        print(c.name, flush=True)
        rec = run_case(c.augustus, jobs=2, score_only=args.reuse_augustus)
        work = RESULTS / "work" / c.augustus.name
        genome, ref = work / "genome.fa", next(work.glob("reference.*"))
        aug_pred = work / "prediction.gff3"
        augustus = {"scores": score(ref, aug_pred, genome), "seconds": rec["seconds"], "bp_per_s": round(rec["bp_per_s"]),
                    "processes_at_once": rec.get("parallel"), "cds_per_transcript": segments_per_transcript(aug_pred),
                    "version": rec.get("tool_version")}
        print(f"  AUGUSTUS: gene F1 {augustus['scores']['gene']['f1']:.3f} exon F1 {augustus['scores']['exon']['f1']:.3f}", flush=True)
        ours = run_genet5(genome, ref, work, args.variants.split(",") if args.variants else None)
        if args.variants:  # some variants rerun: the others stay as measured before
            ours = {**doc["cases"].get(c.name, {}).get("genet5", {}), **ours}
        doc["cases"][c.name] = {"split": c.split, "genome": c.augustus.genome_dir, "sequences": c.augustus.sequences,
                                "augustus_species": c.augustus.param, "augustus": augustus,
                                "ref_cds_per_transcript": segments_per_transcript(ref), "genet5": ours}
        out.write_text(json.dumps(doc, indent=1) + "\n")
    print(table(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
