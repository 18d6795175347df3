"""What each self-training round fits on the current genes (decoder.self_train): the coding
chain, the Prodigal-style dicodon score with its own start weights, the gene spacing, the start
model, and how much the start matrix helps on held-out ORFs. Counts run per pack where a
StrandPacks is given (packs.py: the same counts, fewer calls).
"""

from __future__ import annotations

import numpy as np

from genet5.predict.prokaryote.coding import CodingModel, ContextCache, order_for
from genet5.predict.prokaryote.dicodon import DicodonModel, HexamerCache
from genet5.predict.prokaryote.packs import StrandPacks
from genet5.predict.prokaryote.sd_bins import bin_masks_many
from genet5.predict.prokaryote.settings import ProkaryoteSettings
from genet5.predict.prokaryote.spacing import SpacingModel, neighbour_pairs
from genet5.predict.prokaryote.starts import StartModel


def fit_coding(records, chosen, cache: ContextCache | None = None, per_parameter: int = 40, threads: int = 1,
                packs: StrandPacks | None = None) -> CodingModel:
    """The coding chain of the chosen complete genes against every strand; packs: counted per
    pack (the same counts: no context reaches across a pack's N)."""
    if packs is not None:
        genes = packs.genes([idx for ch in chosen for idx in ch], lambda c, idx: ~c.edge[idx])
        background = packs.background()
    else:
        genes = [(d.cand.seq, d.cand.a[idx[~d.cand.edge[idx]]], d.cand.e[idx[~d.cand.edge[idx]]])
                 for rec, ch in zip(records, chosen) for d, idx in zip(rec, ch)]
        background = [g[0] for g in genes]
    if cache is not None and threads > 1:  # the context tables of the order the fit will choose, at once
        cache.fill(background, order_for(sum(int((e - a + 1).sum()) for _, a, e in genes), per_parameter), threads)
    return CodingModel.fit(genes, background, cache=cache, per_parameter=per_parameter)


def fit_dicodon(records, chosen, settings: ProkaryoteSettings, cache: HexamerCache | None = None,
                 through_stop: bool = True, memo: dict | None = None, packs: StrandPacks | None = None) -> DicodonModel:
    genes, background, gc, acgt = [], [], 0, 0
    for rec, ch in zip(records, chosen):
        for d, idx in zip(rec, ch):
            if d.cand.strand == "+":
                counts = np.bincount(np.frombuffer(d.cand.seq, dtype=np.uint8), minlength=256)
                gc += int(counts[ord("G")] + counts[ord("C")])
                acgt += int(counts[[ord(b) for b in "ACGT"]].sum())
            if packs is None:
                background.append(d.cand.seq)
                idx = idx[~d.cand.edge[idx] & ~d.cand.open3[idx]]
                genes.append((d.cand.seq, d.cand.a[idx], d.cand.e[idx]))
    if packs is not None:  # counted per pack: the same counts (no hexamer or upstream base crosses a pack's N)
        genes = packs.genes([idx for ch in chosen for idx in ch], lambda c, idx: ~c.edge[idx] & ~c.open3[idx])
        background = packs.background()
    model = DicodonModel.fit(genes, background, gc / max(acgt, 1), settings.dicodon_start_weight,
                             settings.dicodon_pseudo_codons, settings.dicodon_pseudo_starts, cache, through_stop)
    if settings.dicodon_own_starts and settings.use_start_model:  # without it, no start is learned at all
        ensure_sd_masks(records, settings.threads)
        strands = packs.views() if packs else [d for rec in records for d in rec]
        model.train_starts([(d.cand, d.length, d.codon, d.sd_masks) for d in strands], gc / max(acgt, 1),
                           settings.dicodon_half_starts, cache, memo, settings.threads)
    return model


def ensure_sd_masks(records: list, threads: int = 1) -> None:
    """Prodigal's Shine-Dalgarno motif bins (sd_bins.py) of every candidate start, where missing."""
    todo = [d for rec in records for d in rec if d.sd_masks is None]
    for d, masks in zip(todo, bin_masks_many([(d.cand.seq, d.cand.a) for d in todo], threads)):
        d.sd_masks = masks


def fit_spacing(records, chosen, settings: ProkaryoteSettings) -> SpacingModel | None:
    """The genome's gene spacing (spacing.py) from the current genes, all records together."""
    facing, gap = [], []
    for rec, ch in zip(records, chosen):
        if not rec:
            continue
        lo, hi, plus = [], [], []
        for d, idx in zip(rec, ch):
            a, b = d.cand.genomic_all()
            lo.append(a[idx]); hi.append(b[idx]); plus.append(np.full(len(idx), d.cand.strand == "+"))
        f, g = neighbour_pairs(np.concatenate(lo), np.concatenate(hi), np.concatenate(plus))
        facing.append(f); gap.append(g)
    if not facing:
        return None
    return SpacingModel.fit(np.concatenate(facing), np.concatenate(gap), max(settings.convergent_overlap, settings.same_overlap))


def start_examples(records, chosen, packs: StrandPacks | None = None):
    """(examples, background) for StartModel.fit: per strand (or pack), the start codons of the
    chosen genes' ORFs (codon, RBS, matrix window, chosen or not, ORF index); background: the
    codon and RBS classes of every candidate start."""
    examples, bg_codon, bg_rbs = [], [], []
    if packs is not None:
        each = zip(packs.views(), packs.chosen([idx for ch in chosen for idx in ch]))
    else:
        each = ((d, idx) for rec, ch in zip(records, chosen) for d, idx in zip(rec, ch))
    for d, idx in each:
        real = ~d.cand.edge
        bg_codon.append(d.codon[real])
        bg_rbs.append(d.rbs[real])
        idx = idx[~d.cand.edge[idx]]
        if idx.size == 0:
            continue
        in_orf = np.isin(d.cand.orf, d.cand.orf[idx]) & real
        is_chosen = np.zeros(len(d.cand.a), dtype=bool)
        is_chosen[idx] = True
        examples.append((d.codon[in_orf], d.rbs[in_orf], d.mat[in_orf], is_chosen[in_orf], d.cand.orf[in_orf]))
    return examples, (np.concatenate(bg_codon), np.concatenate(bg_rbs)) if bg_codon else None


def fit_starts(examples, background) -> StartModel | None:
    if not examples:
        return None
    return StartModel.fit([e[:4] for e in examples], background=background)


def _chosen_log_prob(x: np.ndarray, group: np.ndarray, is_chosen: np.ndarray) -> float:
    """Sum over groups of the chosen member's log-softmax of x within its group."""
    top = np.full(group.max() + 1, -np.inf)
    np.maximum.at(top, group, x)
    norm = np.log(np.bincount(group, weights=np.exp(x - top[group]))) + top
    return float((x[is_chosen] - norm[group[is_chosen]]).sum())


def _halves(examples, half: int) -> list:
    """The examples' ORFs of one parity (ORF index even or odd)."""
    out = []
    for e in examples:
        keep = e[4] % 2 == half
        if keep.any():
            out.append(tuple(x[keep] for x in e))
    return out


def matrix_gain(examples, background, weight: float) -> float | None:
    """How much the start matrix, fitted on half of the chosen genes' ORFs (start_examples),
    raises the log-probability of the chosen start among its ORF's starts in the other half
    (nats per start, at `weight`, over codon + RBS alone); None with too few genes."""
    total, n = 0.0, 0
    for half in (0, 1):
        train, test = _halves(examples, half), _halves(examples, 1 - half)
        model = fit_starts(train, background)
        if model is None or not test:
            return None
        for codon, rbs, mat, is_chosen, orf in test:
            parts = model.parts(codon, rbs, mat)
            base = parts["codon"] + parts["rbs"]
            group = np.unique(orf, return_inverse=True)[1]
            total += _chosen_log_prob(base + weight * parts["matrix"], group, is_chosen) - _chosen_log_prob(base, group, is_chosen)
            n += int(is_chosen.sum())
    return total / n if n else None
