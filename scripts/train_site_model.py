#!/usr/bin/env python3
"""Train the bundled gene-site classifier (genet5.models.sites: splice donors, acceptors, starts) on the `train`
eukaryotes of shared/genomes/splits.tsv and report it on the `validation` ones.

    python scripts/train_site_model.py OUT_DIR [--epochs 4] [--threads 2]
    python scripts/train_site_model.py OUT_DIR --add-stop gene-sites   # a stop readout on a trained model

Examples, per genome: every intron between two CDS segments of a coding transcript gives a
positive donor (GT or GC) and a positive acceptor (AG); every other GT/GC and AG on the same
strand within a coding gene's span (1 kb of flank on each side) is a negative; likewise the
first ATG of every complete coding transcript is a positive start and every other ATG there a
negative, subsampled to at
most NEG_PER_POS negatives per positive. At most MAX_POS positives per site type per genome, so
the large human and Arabidopsis chromosomes do not drown yeast and fly. Splits by species,
never by window: validation genomes are only scored (average precision, beside the generic
splice matrices of predict/splice_pwm.json read over the same windows).

--add-stop MODEL: keep MODEL's trunk and its donor, acceptor and start readouts as they are and
train only a fourth readout, for stop codons: positives the stop codon of every complete coding
transcript, negatives every other TAA/TAG/TGA on the same strand within a gene's span (stops
read into introns or in other frames among them), drawn as for the other types.

Writes OUT_DIR/config.json + model.safetensors (genet5.models.weights.save_pretrained) and
OUT_DIR/training.json (data counts, per-epoch loss, validation average precision).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from genet5.data.splits import read_splits
from genet5.genome.fasta import read_fasta
from genet5.genome.gff import read_annotation
from genet5.models.sites import SITE_TYPES, STOP, SiteConfig, SiteNet
from genet5.models.weights import save_pretrained
from genet5.predict.eukaryote.site_examples import SiteTranscript, fit_sites, sample_windows, site_candidates

REPO = Path(__file__).resolve().parents[1]
GENOMES = Path(os.environ.get("GENET5_SHARED", REPO.parent / "shared")) / "genomes"
EUKARYOTE_PREFIXES = ("fungi/", "invertebrates/", "plants/", "vertebrates/")
# validation sequences that overlap training ones (splits.tsv notes)
DROP = {"invertebrates/Drosophila_melanogaster_dm6_1pct": ("chr2R",), "plants/Arabidopsis_thaliana_TAIR10_1pct": ("Chr1", "chr1", "1")}
MAX_POS = 15_000
NEG_PER_POS = 10


def split_genomes(split: str) -> list[str]:
    return [path for path, s in read_splits(GENOMES / "splits.tsv").items() if s == split and path.startswith(EUKARYOTE_PREFIXES)]


def _find(directory: Path, stem: str) -> Path:
    for p in sorted(directory.iterdir()):
        if p.name.startswith(stem):
            return p
    raise SystemExit(f"{directory}: no {stem}* file")


def genome_sites(name: str, cfg: SiteConfig, rng: np.random.Generator,
                 keep: set[str] | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{site type: (windows (n, window + 2 margin) int8 codes, labels (n,) bool)} of one genome
    (of its sequences in `keep` only, when given)."""
    directory = GENOMES / name
    ann = read_annotation(_find(directory, "annotation"))
    drop = DROP.get(name, ())
    seqs = {r.id: (r.seq if isinstance(r.seq, bytes) else r.seq.encode()).upper() for r in read_fasta(_find(directory, "genome"))
            if r.id not in drop and (keep is None or r.id in keep)}
    found: dict[str, list] = {t: [] for t in cfg.site_types}
    for seqid, genes in ann.genes.items():
        seq = seqs.get(seqid)
        if seq is None:
            continue
        txs = [SiteTranscript(tx.strand, sorted((s.start, s.end) for s in tx.cds), not tx.start_partial, not tx.end_partial)
               for gene in genes for tx in gene.transcripts if tx.is_coding and not tx.pseudo and tx.cds]
        for t, parts in site_candidates(seq, txs, cfg).items():
            found[t] += parts
    return sample_windows(found, cfg, rng, MAX_POS, NEG_PER_POS)


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    order = np.argsort(-scores, kind="stable")
    hits = labels[order].astype(np.float64)
    if hits.sum() == 0:
        return float("nan")
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / hits.sum())


def pwm_scores(site_type: str, windows: np.ndarray, cfg: SiteConfig) -> np.ndarray:
    """The generic splice matrices (predict/splice_pwm.json, counted on training genomes) read
    over the same windows: the baseline the classifier must beat."""
    doc = json.loads((REPO / "src/genet5/predict/splice_pwm.json").read_text())
    bg = np.asarray(doc["background"])
    centre = cfg.half + cfg.margin
    if site_type in ("start", STOP):
        return np.zeros(len(windows))  # no generic start or stop matrix: the baseline is chance
    if site_type == "donor":
        freq, first = np.asarray(doc["donor"]["freq"]), centre - int(doc["donor"]["exon_bases"])
    else:
        freq, first = np.asarray(doc["acceptor"]["freq"]), centre - int(doc["acceptor"]["intron_bases"])
    table = np.zeros((len(freq), 5))
    table[:, :4] = np.log(freq / bg[None, :])
    cols = windows[:, first : first + len(freq)]
    return table[np.arange(len(freq))[None, :], cols].sum(axis=1)


def collect(names: list[str], cfg: SiteConfig, rng) -> tuple[dict, dict]:
    types = cfg.site_types
    data = {t: ([], []) for t in types}
    counts = {}
    for name in names:
        t0 = time.time()
        sites = genome_sites(name, cfg, rng)
        counts[name] = {t: [int(sites[t][1].sum()), int((~sites[t][1]).sum())] for t in types}
        for t in types:
            data[t][0].append(sites[t][0])
            data[t][1].append(sites[t][1])
        print(f"  {name}: {counts[name]} ({time.time() - t0:.0f} s)", file=sys.stderr)
    return {t: (np.concatenate(w), np.concatenate(y)) for t, (w, y) in data.items()}, counts


@torch.no_grad()
def logits(model: SiteNet, site_type: str, windows: np.ndarray, batch: int = 4096) -> np.ndarray:
    model.eval()
    out = [model(site_type, torch.from_numpy(windows[i : i + batch])).numpy() for i in range(0, len(windows), batch)]
    return np.concatenate(out) if out else np.zeros(0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--channels", type=int, default=SiteConfig.channels, help="trunk width (default %(default)s)")
    ap.add_argument("--layers", type=int, default=SiteConfig.layers, help="trunk convolutions (default %(default)s)")
    ap.add_argument("--add-stop", metavar="MODEL", help="train only a stop readout on MODEL (a name or directory)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    base = None
    if args.add_stop:
        from dataclasses import replace

        from genet5.predict.eukaryote.sites import load_site_model

        base = load_site_model(args.add_stop)
        cfg = replace(base.config, stop_readout=True)
    else:
        cfg = SiteConfig(channels=args.channels, layers=args.layers)
    trained_types = (STOP,) if base is not None else SITE_TYPES
    train_names, val_names = split_genomes("train"), split_genomes("validation")
    print("train genomes:", file=sys.stderr)
    train, train_counts = collect(train_names, cfg, rng)
    print("validation genomes:", file=sys.stderr)
    val_by_genome = {}
    for name in val_names:
        val_by_genome[name], _ = collect([name], cfg, rng)
    for t in trained_types:
        y = train[t][1]
        setattr(cfg, f"prior_logit_{t}", float(np.log(y.sum() / (~y).sum())))
    model = SiteNet(cfg)
    if base is not None:  # the trained model's tensors; only the new readout learns
        got = model.load_state_dict(base.state_dict(), strict=False)
        assert not got.unexpected_keys and all(k.startswith(f"readout.{STOP}.") for k in got.missing_keys), got
        for name, p in model.named_parameters():
            p.requires_grad_(name.startswith(f"readout.{STOP}."))
    history = []
    clock = [time.time()]

    def report(epoch: int, loss: float) -> None:
        ap_val = {name: {t: average_precision(logits(model, t, d[t][0]), d[t][1]) for t in cfg.site_types} for name, d in val_by_genome.items()}
        history.append({"epoch": epoch + 1, "train_loss": loss, "seconds": round(time.time() - clock[0], 1), "validation_ap": ap_val})
        print(json.dumps(history[-1]), file=sys.stderr)
        clock[0] = time.time()

    fit_sites(model, {t: train[t] for t in trained_types}, args.epochs, 2e-3, rng, on_epoch=report)
    baseline = {name: {t: average_precision(pwm_scores(t, d[t][0], cfg), d[t][1]) for t in cfg.site_types} for name, d in val_by_genome.items()}
    save_pretrained(model, args.out)
    report = {"train_genomes": train_counts, "validation_genomes": val_names, "epochs": history,
              "validation_ap_generic_pwm": baseline, "parameters": sum(p.numel() for p in model.parameters()),
              "command": " ".join(["python", "scripts/train_site_model.py"] + sys.argv[1:])}
    (args.out / "training.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({"pwm_baseline_ap": baseline}, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
