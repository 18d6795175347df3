#!/usr/bin/env python3
"""Fit the weights of the prokaryotic decoder (predict/prokaryote/weights.json) on the
`train` genomes of shared/genomes/splits.tsv, and nowhere else.

Each candidate gene is scored w . features (decoder.FEATURES: the self-trained coding
log-ratio, the network's log-ratio, the start model's three parts, where the start sits in its
ORF, a constant). For every training genome the decoder self-trains as it would on a new
genome; then, against the reference annotation:

1. which start: over the ORFs that hold a reference gene, a conditional logit (softmax over the
   ORF's candidate starts, the reference start the label) fits the weights of the features that
   vary between starts;
2. whether a gene: over all ORFs, a logistic regression of "holds a reference gene" on the best
   start's score fits a scale and the per-gene constant.

The two together are the weights (so a candidate's score is a calibrated log-odds of being a
gene with that start, and the DP keeps sets of positive log-odds). Features depend on the
genes the self-training picked, which depend on the weights: the fit is repeated
`--iterations` times from the hand-set defaults. Network tracks are cached in --cache.

    python scripts/fit_prokaryote_weights.py                 # writes the shipped weights.json
    python scripts/fit_prokaryote_weights.py --no-network    # statistics-only weights (ablation)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
GENOMES = Path(os.environ.get("GENET5_SHARED", REPO.parent / "shared")) / "genomes"
PROKARYOTIC = ("prokaryotes/", "archaea/", "phages/", "plastids/")
GENE_LEVEL = ("coding", "net")  # evidence refitted for the gene-or-not decision


def train_genomes(one_per_species: bool) -> list[str]:
    rows = [ln.split("\t") for ln in (GENOMES / "splits.tsv").read_text().splitlines()[1:] if ln.strip()]
    names = [r[0] for r in rows if r[1] == "train" and r[0].startswith(PROKARYOTIC)]
    if one_per_species:  # six strains of M. gallisepticum would outweigh every other species
        seen, out = set(), []
        for n in names:
            species = " ".join(n.split("/")[-1].split("_")[:2]) if "phage" not in n else n
            if species not in seen:
                seen.add(species)
                out.append(n)
        names = out
    return names


def code_of(genome_dir: str) -> int:
    for ln in (GENOMES / "manifest.tsv").read_text().splitlines()[1:]:
        c = ln.split("\t")
        if c[0] == genome_dir:
            return int(c[3])
    raise SystemExit(f"{genome_dir} not in manifest.tsv")


def load_genome(genome_dir: str, cache: Path, use_net: bool):
    from genet5.evaluate.compare import RecordSequence
    from genet5.genome.fasta import read_fasta
    from genet5.genome.readers import load_annotation
    from genet5.genome.validate import include_stop_codons
    from genet5.models.weights import from_pretrained
    from genet5.predict.pipeline import PredictConfig, per_base_logprobs

    code = code_of(genome_dir)
    ref = load_annotation(GENOMES / genome_dir / "annotation.gff3.gz")
    records = list(read_fasta(GENOMES / genome_dir / "genome.fa.gz"))
    tracks = {}
    if use_net:
        f = cache / (genome_dir.replace("/", "_") + ".npz")
        if f.is_file():
            tracks = dict(np.load(f))
        else:
            net = from_pretrained(REPO / "src" / "genet5" / "bundled" / "genet5-cpu").eval()
            tracks = {r.id: per_base_logprobs(net, r.seq, PredictConfig()).astype(np.float16) for r in records}
            cache.mkdir(parents=True, exist_ok=True)
            np.savez(f, **tracks)
    truth = set()
    for r in records:
        part = ref.subset([r.id])
        include_stop_codons(part, RecordSequence(r), code, code)
    for t in ref.iter_transcripts():
        if t.cds and len(t.cds) == 1 and t.cds_length % 3 == 0:
            truth.add((t.seqid, t.strand, t.cds[0].start, t.cds[0].end))
    return code, [(r.id, r.seq, tracks.get(r.id)) for r in records], truth


def collect(genome, settings):
    """Per genome: features of every candidate, its ORF group id, and labels."""
    from genet5.genome.codes import genetic_code
    from genet5.predict.pipeline import COMMON_PROKARYOTIC_STARTS
    from genet5.predict.prokaryote.decoder import find_genes, prepare_record

    code, records, truth = genome
    gc = genetic_code(code)
    prepared = [prepare_record(sid, seq, gc, gc.starts & COMMON_PROKARYOTIC_STARTS, settings, tr if settings.use_net else None)
                for sid, seq, tr in records]
    find_genes(prepared, settings)
    feats, groups, exact = [], [], []
    offset = 0
    for rec in prepared:
        for d in rec:
            if d.features is None or not len(d.cand.a):
                continue
            lo, hi = d.cand.genomic_all()
            hit = np.array([(d.cand.seqid, d.cand.strand, int(a), int(b)) in truth for a, b in zip(lo, hi)], dtype=bool)
            feats.append(d.features)
            groups.append(d.cand.orf + offset)
            exact.append(hit)
            offset += int(d.cand.orf.max()) + 1
    return np.concatenate(feats), np.concatenate(groups), np.concatenate(exact)


def fit(data, features: tuple[str, ...], l2: float = 1e-3) -> dict[str, float]:
    F = torch.tensor(np.concatenate([d[0] for d in data]), dtype=torch.float64)
    offs = np.cumsum([0] + [int(d[1].max()) + 1 for d in data[:-1]])
    G = torch.tensor(np.concatenate([d[1] + o for d, o in zip(data, offs)]), dtype=torch.long)
    Y = torch.tensor(np.concatenate([d[2] for d in data]), dtype=torch.bool)
    n_groups = int(G.max()) + 1
    bias_col = features.index("bias")
    free = [i for i in range(len(features)) if i != bias_col]
    gene_orf = torch.zeros(n_groups, dtype=torch.bool).index_put_((G[Y],), torch.tensor(True))
    in_gene = gene_orf[G]
    # normalise columns for a well-conditioned fit
    scale = F[:, free].std(dim=0).clamp_min(1e-6)
    X = F[:, free] / scale

    def group_logsumexp(s: torch.Tensor, g: torch.Tensor, n: int) -> torch.Tensor:
        m = torch.full((n,), -1e300, dtype=s.dtype).scatter_reduce(0, g, s, "amax").detach()
        return m + torch.log(torch.zeros(n, dtype=s.dtype).index_add(0, g, torch.exp(s - m[g])))

    # 1. which start: conditional logit over the starts of ORFs that hold a reference gene
    theta = torch.zeros(len(free), dtype=torch.float64, requires_grad=True)
    Xg, Gg, Yg = X[in_gene], G[in_gene], Y[in_gene]
    opt = torch.optim.LBFGS([theta], max_iter=200, line_search_fn="strong_wolfe")

    def loss1():
        opt.zero_grad()
        s = Xg @ theta
        lse = group_logsumexp(s, Gg, n_groups)
        loss = (lse[Gg[Yg]] - s[Yg]).mean() + l2 * (theta ** 2).sum()
        loss.backward()
        return loss

    opt.step(loss1)
    theta = theta.detach()
    with torch.no_grad():
        s_all = X @ theta
        best = torch.full((n_groups,), -1e300, dtype=torch.float64).scatter_reduce(0, G, s_all, "amax")
        # the best start of each ORF: its start score and its evidence columns
        is_best = s_all == best[G]
        first_best = torch.full((n_groups,), len(G), dtype=torch.long).scatter_reduce(
            0, G[is_best], torch.nonzero(is_best).squeeze(1), "amin")
        present = first_best < len(G)
        rows = first_best[present]
        evidence = [features.index(f) for f in GENE_LEVEL if f in features]
        Z = torch.cat([s_all[rows, None], X[rows][:, [free.index(i) for i in evidence]]], dim=1)
        label = gene_orf[present].double()
    # 2. whether a gene: logistic regression of the ORF's label on its best start's score plus
    # the evidence columns again (whether a gene and where it starts weigh evidence differently)
    ab = torch.zeros(Z.shape[1] + 1, dtype=torch.float64)
    ab[0] = 1.0
    ab.requires_grad_(True)
    opt2 = torch.optim.LBFGS([ab], max_iter=200, line_search_fn="strong_wolfe")

    def loss2():
        opt2.zero_grad()
        z = Z @ ab[:-1] + ab[-1]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, label) + l2 * (ab[1:-1] ** 2).sum()
        loss.backward()
        return loss

    opt2.step(loss2)
    ab = ab.detach()
    a = float(ab[0])
    w = {features[i]: a * float(theta[j] / scale[j]) for j, i in enumerate(free)}
    for k, i in enumerate(evidence):
        w[features[i]] += float(ab[1 + k] / scale[free.index(i)])
    w["bias"] = float(ab[-1])
    return w


def main() -> int:
    from genet5.predict.prokaryote.decoder import FEATURES, WEIGHTS_FILE, ProkaryoteSettings, ProkaryoteWeights

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genomes", help="comma-separated genome directories (default: prokaryotic train genomes)")
    ap.add_argument("--all-strains", action="store_true", help="keep every strain of a species")
    ap.add_argument("--iterations", type=int, default=2)
    ap.add_argument("--no-network", action="store_true")
    ap.add_argument("--cache", type=Path, default=REPO / "bench" / "results" / "work" / "tracks")
    ap.add_argument("-o", "--out", type=Path, default=WEIGHTS_FILE)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    names = args.genomes.split(",") if args.genomes else train_genomes(not args.all_strains)
    print("training genomes:", ", ".join(names), flush=True)
    genomes = [load_genome(n, args.cache, not args.no_network) for n in names]
    weights = ProkaryoteWeights()
    history = []
    for it in range(args.iterations):
        t0 = time.time()
        settings = ProkaryoteSettings(use_net=not args.no_network, weights=weights)
        data = [collect(g, settings) for g in genomes]
        w = fit(data, FEATURES)
        if args.no_network:
            w["net"] = 0.0
        weights = replace(weights, **w)
        history.append({k: round(v, 5) for k, v in w.items()})
        print(f"iteration {it + 1}: {history[-1]} ({time.time() - t0:.0f} s)", flush=True)
    out = {
        "weights": {k: round(getattr(weights, k), 6) for k in FEATURES},
        "fitted_on": names,
        "network": not args.no_network,
        "date": dt.date.today().isoformat(),
        "command": "python scripts/fit_prokaryote_weights.py " + " ".join(sys.argv[1:]),
        "history": history,
    }
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
