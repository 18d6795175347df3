#!/usr/bin/env python3
"""Build the meta-mode parameter sets (bundled/prokaryote-meta) from the prokaryotic `train`
genomes of shared/genomes/splits.tsv. Each genome first self-trains exactly as `genet5 predict
--domain prokaryote` does by default (statistics + the bundled start classifier, no per-base
network); the genes it chooses are then pooled across genomes and cut by GC:

- one set per GC bin (centres every 0.02, genes within +-0.03, at least MIN_BIN_GENES of them),
  for code 11 from the code-11 genomes and for code 4 from the code-4 ones, so that a sequence of
  any GC the training genomes cover finds a set fitted at its GC, not the nearest of a few
  genomes (GeneMark's heuristic models are built the same way: statistics as a function of GC);
- one set per genome with at least GENOME_SET_GENES genes (its own start conventions: an
  archaeon's starts are not a GC bin's average);
- each code-11 bin's coding chain with the start model of the genomes in CROSS_STARTS.

Each set also carries a Prodigal-method score (predict/prokaryote/dicodon.py): a bin's hexamer
table from its pooled genes against their genomes' hexamers (pooled_dicodon), a genome's the one
single mode fits on its genes, with start weights trained on its sure ORFs; a bin paired with a
genome's start model takes that genome's start weights too.

Every set's coding chain has the same order (ORDER), so the gene-set scores that choose a set per
sequence compare alike. Deterministic: rerunning it reproduces the bundled files
(tests/scripts/test_make_meta_models.py rebuilds the code-4 sets and compares).

    python scripts/make_meta_models.py            # writes src/genet5/bundled/prokaryote-meta
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
GENOMES = Path(os.environ.get("GENET5_SHARED", REPO.parent / "shared")) / "genomes"
PROKARYOTIC = ("prokaryotes/", "archaea/", "phages/", "plastids/")
MIN_BIN_GENES = 300  # fewer pooled genes than this and a GC bin makes no set
GENOME_SET_GENES = 500  # a genome with this many chosen genes also gets a set of its own (not the phages: 50-100)
ORDER = 4  # coding chain order of every set (validation pieces and genomes, docs/benchmarks.md)
BIN_STEP, BIN_HALF = 0.02, 0.03
# Codes other than 11 (here code 4: one training species, GC 0.30-0.34) also get sets below their
# lowest bin down to this GC, extrapolated along the code-11 bins' GC trend (SLOPE_BELOW):
# validation M. alvi (code 4, GC 0.25) pieces 5/10 kb 0.851 -> 0.890 (docs/benchmarks.md). The
# same for code 11 below 0.34 cost the phages (whole-genome mean 0.909 -> 0.905): not done.
EXTRAPOLATE_TO, SLOPE_BELOW = 0.24, 0.50
# Each code-11 bin's coding chain is also paired with these genomes' own start models: a bin's
# pooled start model blurs E. coli's Shine-Dalgarno starts with an archaeon's and
# Bradyrhizobium's, and an enterobacterial phage at GC 0.33 needs both its GC's coding and sharp
# SD starts (validation Erwinia phages, docs/benchmarks.md). Bradyrhizobium's start model was
# tried too and wins sequences it should not (T. kodakarensis pieces 0.758 -> 0.643).
CROSS_STARTS = ("Escherichia_coli",)


def train_genomes() -> list[tuple[str, int]]:
    """(manifest path, genetic code) of the prokaryotic `train` genomes of splits.tsv, in its order."""
    from genet5.data.splits import read_manifest, read_splits

    codes = {e.path.strip("/"): e.genetic_code for e in read_manifest(GENOMES / "manifest.tsv")}
    names = [p for p, s in read_splits(GENOMES / "splits.tsv").items() if s == "train" and p.startswith(PROKARYOTIC)]
    missing = [p for p in names if codes.get(p) is None]
    if missing:
        raise SystemExit(f"not in manifest.tsv or no genetic code there: {', '.join(missing)}")
    return [(p, codes[p]) for p in names]


def genome_pool(name: str, code_number: int, records=None) -> dict:
    """What one training genome lends to the GC-binned sets: each gene its self-training chose
    (complete, with a start codon) as (GC, CDS bases, its ORF's start candidates' features and
    which one was chosen), and every candidate start's (GC of its span, codon class, RBS class),
    the decoys of the start codon and RBS log-odds."""
    from dataclasses import replace

    from genet5.genome.codes import genetic_code
    from genet5.genome.fasta import read_fasta
    from genet5.predict.decoders import start_codon_set
    from genet5.predict.pipeline import PredictConfig
    from genet5.predict.prokaryote.decoder import prepare_record, self_train, settings_for
    from genet5.predict.prokaryote.fits import fit_dicodon
    from genet5.predict.prokaryote.dicodon import UPSTREAM, background_counts

    records = list(read_fasta(GENOMES / name / "genome.fa.gz")) if records is None else records
    cfg = PredictConfig(genetic_code=code_number, domain="prokaryote")
    # the shipped sets were pooled from genes chosen without the dicodon score (added later to
    # single mode: docs/benchmarks.md) and without atypical chains (which are these sets' own
    # GC-bin chains: the sets cannot depend on themselves); pinned so that this script still
    # reproduces them
    settings = replace(settings_for(cfg), use_dicodon=False, atypical_penalty=None)
    code = genetic_code(code_number)
    prepared = [prepare_record(r.id, r.seq, code, start_codon_set(cfg), settings) for r in records]
    st = self_train(prepared, settings)
    genes, bg, hexamer_bg = [], [], np.zeros(4096)
    pad = int(UPSTREAM.max())
    for rec, ch in zip(prepared, st.chosen):
        for d, idx in zip(rec, ch):
            c = d.cand
            hexamer_bg += background_counts([c.seq])
            gc_cum = np.concatenate([[0], np.cumsum(np.frombuffer(c.seq.upper(), dtype=np.uint8) == ord("G"))
                                     + np.cumsum(np.frombuffer(c.seq.upper(), dtype=np.uint8) == ord("C"))])
            span_gc = (gc_cum[c.e + 1] - gc_cum[c.a]) / np.maximum(c.e - c.a + 1, 1)
            real = ~c.edge
            bg.append(np.stack([span_gc[real], d.codon[real], d.rbs[real]], axis=1))
            for k in idx[~c.edge[idx] & ~c.open3[idx]]:
                in_orf = (c.orf == c.orf[k]) & real
                genes.append((float(span_gc[k]), c.seq[c.a[k]: c.e[k] + 1], d.codon[in_orf], d.rbs[in_orf],
                              d.mat[in_orf], np.flatnonzero(in_orf) == k, c.seq[max(c.a[k] - pad, 0): c.a[k]].rjust(pad, b"N")))
    seq = b"".join(r.seq for r in records).upper()
    acgt = sum(seq.count(b) for b in (b"A", b"C", b"G", b"T"))
    # the genome's own Prodigal-method score as single mode fits it on these genes (its start
    # weights trained on the genome's sure ORFs: what a GC bin's pooled counts cannot give)
    own = fit_dicodon(prepared, st.chosen, replace(settings, use_dicodon=True))
    return {"name": name, "code": code_number, "genes": genes, "background": np.concatenate(bg),
            "hexamers": hexamer_bg, "gc": (seq.count(b"G") + seq.count(b"C")) / max(acgt, 1), "dicodon": own}


def binned_set(pools: list[dict], center: float, half: float, order: int):
    """The ParameterSet of every pooled gene whose GC lies within `half` of `center`: an order-`order`
    coding chain (against those genes on both strands as background) and a start model; None with
    fewer than MIN_BIN_GENES genes."""
    from genet5.genome.codes import reverse_complement
    from genet5.predict.prokaryote.coding import CodingModel
    from genet5.predict.prokaryote.meta import ParameterSet
    from genet5.predict.prokaryote.starts import StartModel

    genes = [g for p in pools for g in p["genes"] if abs(g[0] - center) <= half]
    if len(genes) < MIN_BIN_GENES:
        return None
    sep = b"N" * (order + 1)  # contexts never reach across genes
    lengths = np.array([len(g[1]) for g in genes])
    a = np.concatenate([[0], np.cumsum(lengths + len(sep))[:-1]])
    joined = sep.join(g[1] for g in genes)
    coding = CodingModel.fit([(joined, a, a + lengths - 1)], [joined, reverse_complement(joined)], k=order)
    bg = np.concatenate([p["background"] for p in pools])
    bg = bg[np.abs(bg[:, 0] - center) <= half]
    starts = StartModel.fit([g[2:6] for g in genes], background=(bg[:, 1].astype(np.int64), bg[:, 2].astype(np.int64)))
    gc = round(float(np.mean([g[0] for g in genes])), 4)  # as sets.json keeps it: rebuilt sets compare exactly
    codes = sorted({p["code"] for p in pools})
    return ParameterSet(f"gc{center:.2f}_code{'+'.join(map(str, codes))}", gc, coding, starts or StartModel.prior(),
                        dicodon=pooled_dicodon(genes, pools, center, half))


def pooled_dicodon(genes: list, pools: list[dict], center: float, half: float):
    """The Prodigal-method score (dicodon.py) of pooled genes: their in-frame hexamers against
    the hexamers of their genomes' two strands, each genome weighted by its share of the genes
    (Prodigal's per-genome table, pooled), and the bases upstream of their starts against the
    genomes' GC likewise; fitted with the single mode's pseudo-counts."""
    from genet5.predict.prokaryote.decoder import ProkaryoteSettings
    from genet5.predict.prokaryote.dicodon import DicodonModel, gene_counts

    settings = ProkaryoteSettings()
    pad = len(genes[0][6])
    joined = b"N".join(g[6] + g[1] for g in genes)  # hexamers with an N are not counted
    lengths = np.array([pad + len(g[1]) + 1 for g in genes])
    a = np.concatenate([[0], np.cumsum(lengths)[:-1]]) + pad
    cnt, ups = gene_counts([(joined, a, a + np.array([len(g[1]) for g in genes]) - 1)])
    share = np.array([sum(abs(g[0] - center) <= half for g in p["genes"]) for p in pools], dtype=np.float64)
    share /= share.sum()
    bg = sum(w * p["hexamers"] / p["hexamers"].sum() for w, p in zip(share, pools))
    gc = float(sum(w * p["gc"] for w, p in zip(share, pools)))
    return DicodonModel.from_counts(cnt, bg * cnt.sum(), ups, gc, settings.dicodon_start_weight,
                                    settings.dicodon_pseudo_codons, settings.dicodon_pseudo_starts)


def crossed(coding_from, starts_from):
    """A Prodigal-method score with one model's hexamer table and another's start weights and
    upstream composition (a GC bin's coding with a genome's starts, as CROSS_STARTS pairs them)."""
    from genet5.predict.prokaryote.dicodon import DicodonModel

    out = DicodonModel(coding_from.coding, starts_from.upstream, coding_from.start_weight, coding_from.codons)
    out.type_wt, out.rbs_wt, out.start_share = starts_from.type_wt, starts_from.rbs_wt, starts_from.start_share
    return out


def gc_slope(bins: list) -> np.ndarray:
    """Least-squares slope on GC of every coding log-ratio entry across these sets."""
    x = np.array([b.gc for b in bins])
    y = np.stack([b.coding.ratio.ravel() for b in bins]).astype(np.float64)
    xc = x - x.mean()
    return ((xc[:, None] * (y - y.mean(axis=0))).sum(axis=0) / (xc ** 2).sum()).reshape(bins[0].coding.ratio.shape)


def extrapolated(lowest, slope: np.ndarray, gc: float):
    """The set `lowest` moved to `gc` along `slope` (its start model kept): GeneMark's heuristic
    idea, statistics as a function of GC, where no training genome is that AT-rich."""
    from dataclasses import replace

    from genet5.predict.prokaryote.coding import CodingModel

    ratio = (lowest.coding.ratio + slope * (gc - lowest.gc)).astype(np.float32)
    return replace(lowest, name=f"x{gc:.2f}_code{lowest.code}", gc=gc, coding=CodingModel(lowest.coding.k, ratio))


def make_sets(pools: list[dict], code11_bins: list | None = None) -> list:
    """Every parameter set of these genome pools: GC bins per genetic code (codes other than 11
    extended down to EXTRAPOLATE_TO along the code-11 bins' trend: those of these pools, or
    `code11_bins` when given), then whole genomes."""
    """Every parameter set of these genome pools: GC bins per genetic code, then whole genomes."""
    from dataclasses import replace

    sets = []
    for code in sorted({p["code"] for p in pools}, key=lambda c: (c != 11, c)):
        same = [p for p in pools if p["code"] == code]
        gcs = [g[0] for p in same for g in p["genes"]]
        lo, hi = np.floor(min(gcs) / BIN_STEP) * BIN_STEP, np.ceil(max(gcs) / BIN_STEP) * BIN_STEP
        for center in np.round(np.arange(lo, hi + 1e-9, BIN_STEP), 2):
            s = binned_set(same, float(center), BIN_HALF, ORDER)
            if s is not None:
                sets.append(replace(s, code=code))
        ref = [b for b in (code11_bins if code11_bins is not None else sets) if b.code == 11 and b.gc < SLOPE_BELOW]
        mine = [b for b in sets if b.code == code]
        if code != 11 and mine and len(ref) >= 2:
            lowest, slope = min(mine, key=lambda b: b.gc), gc_slope(ref)
            for gc in np.round(np.arange(EXTRAPOLATE_TO, lowest.gc - BIN_STEP / 2, BIN_STEP), 2):
                sets.append(extrapolated(lowest, slope, float(gc)))
    for p in pools:
        if len(p["genes"]) >= GENOME_SET_GENES:
            s = binned_set([p], 0.5, 1.0, ORDER)
            sets.append(replace(s, name=p["name"].split("/")[-1], code=p["code"], dicodon=p["dicodon"]))
    bins11 = [b for b in sets if b.code == 11 and b.name.startswith("gc")]
    for g in [g for g in sets if g.name.startswith(CROSS_STARTS) and g.code == 11]:
        short = "_".join(g.name.split("_")[:2])
        sets += [replace(b, name=f"{b.name}+{short}_starts", starts=g.starts, dicodon=crossed(b.dicodon, g.dicodon))
                 for b in bins11]
    return sets


def main() -> int:
    import torch

    from genet5.genome.fasta import read_fasta
    from genet5.predict.prokaryote.meta import BUNDLED, save_sets

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-o", "--out", type=Path, default=BUNDLED)
    ap.add_argument("--min-bp", type=int, default=40_000, help="skip genomes smaller than this (too little to learn)")
    args = ap.parse_args()
    torch.set_num_threads(1)  # the start classifier: one thread, the same numbers on any machine
    pools, species_seen = [], set()
    for name, code_number in train_genomes():
        species = name if "phage" in name else " ".join(name.split("/")[-1].split("_")[:2])
        if species in species_seen:
            continue  # strains of one species would only repeat one set
        records = list(read_fasta(GENOMES / name / "genome.fa.gz"))
        if sum(len(r.seq) for r in records) < args.min_bp:
            continue
        species_seen.add(species)
        pools.append(genome_pool(name, code_number, records))
        print(f"{name}: code {code_number}, {len(pools[-1]['genes'])} genes", flush=True)
    sets = make_sets(pools)
    for s in sets:
        print(f"{s.name}: code {s.code}, GC {s.gc:.3f}", flush=True)
    save_sets(args.out, sets, {"made_by": "scripts/make_meta_models.py", "date": dt.date.today().isoformat(),
                               "split": "train genomes of shared/genomes/splits.tsv",
                               "genomes": [p["name"] for p in pools],
                               "bins": f"GC every {BIN_STEP} +-{BIN_HALF}, >= {MIN_BIN_GENES} genes; genome sets >= {GENOME_SET_GENES} genes",
                               "order": ORDER,
                               "dicodon": "per set: a bin's hexamer table pooled from its genes; a genome's single-mode "
                                          "fit, start weights trained on its sure ORFs",
                               "decoder": "default prokaryote settings (settings_for), no per-base network"})
    print(f"wrote {len(sets)} sets to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
