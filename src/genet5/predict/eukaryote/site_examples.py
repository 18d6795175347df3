"""Training examples for the gene-site classifier (models/sites.py) and the loop that fits it:
shared by scripts/train_site_model.py (reference annotations of the `train` genomes) and by the
per-genome adaptation in the eukaryote decoder (the genome's own first-pass genes).

Examples of one sequence: every intron (of at least MIN_INTRON bases) between two CDS segments
gives a positive donor (GT or GC) and a positive acceptor (AG); the start codon of every complete
transcript a positive start (ATG), and, for a model with a stop readout, its stop codon a positive
stop; every other GT/GC, AG, ATG (and TAA/TAG/TGA) on the same strand within a transcript's span
(FLANK bases on each side) is a negative: stops read into the introns among them. Positions are oriented: on the minus
strand they index the reverse complement.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch

from genet5.genome.codes import reverse_complement
from genet5.models.sites import STOP, SiteConfig, SiteNet
from genet5.predict.eukaryote.sites import READ_BF16, _read_bf16, stop_codon_positions, trunk_features
from genet5.predict.prokaryote.orfs import base_codes

FLANK = 1000
MIN_INTRON = 30
FROZEN_MAX_POS = 1800  # positives per site type for the readouts-only fine-tune (memory; see adapted_site_model)


@dataclass
class SiteTranscript:
    strand: str
    segs: list[tuple[int, int]]  # 1-based closed CDS segments, forward order
    complete_start: bool  # the start codon is in the sequence (not a partial gene)
    complete_end: bool = True  # the CDS's last three bases are its stop codon (not a 3' partial gene)


def site_candidates(seq: bytes, transcripts: list[SiteTranscript], cfg: SiteConfig) -> dict[str, list]:
    """{site type: [(oriented codes, candidate positions, is-positive), one per strand]}."""
    n = len(seq)
    reach = cfg.half + cfg.margin
    types = cfg.site_types
    true = {(s, t): set() for s in "+-" for t in types}
    spans: dict[str, list] = {"+": [], "-": []}
    for tx in transcripts:
        segs, strand = tx.segs, tx.strand
        spans[strand].append((segs[0][0] - 1 - FLANK, segs[-1][1] + FLANK))
        if tx.complete_start:  # the start codon's first base, oriented
            true[(strand, "start")].add(segs[0][0] - 1 if strand == "+" else n - segs[-1][1])
        if tx.complete_end and STOP in types:  # the stop codon's first base, oriented
            true[(strand, STOP)].add(segs[-1][1] - 3 if strand == "+" else n - 2 - segs[0][0])
        for (_, left_end), (right_start, _) in zip(segs, segs[1:]):
            i0, i1 = left_end, right_start - 1  # intron = seq[i0:i1], forward 0-based
            if i1 - i0 < MIN_INTRON:
                continue
            if strand == "+":
                true[("+", "donor")].add(i0)
                true[("+", "acceptor")].add(i1)
            else:  # oriented (reverse-complement) coordinates: p -> n - 1 - p
                true[("-", "donor")].add(n - i1)
                true[("-", "acceptor")].add(n - i0)
    found: dict[str, list] = {t: [] for t in types}
    for strand in "+-":
        if not spans[strand]:
            continue
        c = base_codes(seq if strand == "+" else reverse_complement(seq))
        cover = np.zeros(n + 1, dtype=np.int32)
        for a, b in spans[strand]:
            a, b = (a, b) if strand == "+" else (n - b, n - a)
            cover[min(max(a, 0), n)] += 1
            cover[min(max(b, 0), n)] -= 1
        inside = np.cumsum(cover[:n]) > 0
        don = np.flatnonzero((c[:-1] == 2) & ((c[1:] == 3) | (c[1:] == 1)))  # GT or GC at i, i+1
        acc = np.flatnonzero((c[:-1] == 0) & (c[1:] == 2)) + 2  # AG at i-2, i-1
        atg = np.flatnonzero((c[:-2] == 0) & (c[1:-1] == 3) & (c[2:] == 2))
        cands = [("donor", don), ("acceptor", acc), ("start", atg)]
        if STOP in types:
            cands.append((STOP, stop_codon_positions(c)))
        for site_type, cand in cands:
            cand = cand[(cand >= reach) & (cand < n - reach)]
            cand = cand[inside[cand]]
            pos = np.isin(cand, np.fromiter(true[(strand, site_type)], dtype=np.int64))
            found[site_type].append((c, cand, pos))
    return found


def sample_sites(found: dict[str, list], rng: np.random.Generator, max_pos: int,
                 neg_per_pos: int) -> dict[str, list[tuple[int, np.ndarray, np.ndarray]]]:
    """{site type: [(index of the part in found[type], sampled candidate positions, labels)]}:
    at most `max_pos` positives per type and `neg_per_pos` negatives per positive, drawn at random."""
    out = {}
    for site_type, parts in found.items():
        n_pos = sum(int(p.sum()) for _, _, p in parts)
        n_neg = sum(int((~p).sum()) for _, _, p in parts)
        keep_pos = min(1.0, max_pos / max(n_pos, 1))
        keep_neg = min(1.0, neg_per_pos * min(n_pos, max_pos) / max(n_neg, 1))
        picks = []
        for k, (_, cand, pos) in enumerate(parts):
            keep = np.where(pos, rng.random(len(cand)) < keep_pos, rng.random(len(cand)) < keep_neg)
            if keep.any():
                picks.append((k, cand[keep], pos[keep]))
        out[site_type] = picks
    return out


def sample_windows(found: dict[str, list], cfg: SiteConfig, rng: np.random.Generator, max_pos: int,
                   neg_per_pos: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{site type: (windows (n, window + 2 margin) codes, labels (n,) bool)} of sample_sites' draw."""
    reach = cfg.half + cfg.margin
    out = {}
    for site_type, picks in sample_sites(found, rng, max_pos, neg_per_pos).items():
        parts = found[site_type]
        windows = [parts[k][0][sel[:, None] + np.arange(-reach, reach)[None, :]] for k, sel, _ in picks]
        labels = [lab for *_, lab in picks]
        out[site_type] = (np.concatenate(windows) if windows else np.zeros((0, 2 * reach), np.int8),
                          np.concatenate(labels) if labels else np.zeros(0, bool))
    return out


@torch.no_grad()
def sampled_features(model: SiteNet, found: dict[str, list], picks: dict[str, list],
                     block: int = 1 << 18) -> dict[str, torch.Tensor]:
    """{site type: (n, channels, window) trunk features of sample_sites' windows}, in its order
    (bfloat16 where the scoring reads bfloat16, sites.READ_BF16: half the memory, and fit_sites
    then trains in bfloat16 too).
    Each strand is convolved once, a block at a time, and the windows read out of its features:
    candidates are a few bases apart, so their windows overlap and convolving each window
    on its own costs 2-3x more (Arabidopsis: 25,332 windows of 188 bases against 1.8 M bases)."""
    cfg = model.config
    half, reach = cfg.half, cfg.half + cfg.margin
    wanted: dict[int, list] = {}  # per strand (by its codes array): (site type, slot, positions)
    strands: dict[int, np.ndarray] = {}
    out, filled = {}, {}
    for site_type, site_picks in picks.items():
        total = sum(len(sel) for _, sel, _ in site_picks)
        out[site_type] = torch.empty((total, cfg.channels, 2 * half), dtype=torch.bfloat16 if READ_BF16 else torch.float32)
        filled[site_type] = 0
        for k, sel, _ in site_picks:
            c = found[site_type][k][0]
            strands[id(c)] = c
            wanted.setdefault(id(c), []).append((site_type, filled[site_type], sel))
            filled[site_type] += len(sel)
    for key, c in strands.items():
        n = len(c)
        padded = np.concatenate([np.full(reach, 4, np.int8), c.astype(np.int8), np.full(reach, 4, np.int8)])
        for b0 in range(0, n, block):
            b1 = min(b0 + block, n)
            hits = [(t, slot, sel, (sel >= b0) & (sel < b1)) for t, slot, sel in wanted[key]]
            if not any(inside.any() for *_, inside in hits):
                continue
            # columns of bases b0 - half .. b1 + half - 1; the window of site i starts at column i - b0
            feats = trunk_features(model, padded[b0 : b1 + 2 * reach], out[hits[0][0]].dtype)
            windows = feats.unfold(1, 2 * half, 1).permute(1, 0, 2)
            for t, slot, sel, inside in hits:
                rows = np.flatnonzero(inside)
                if rows.size:
                    out[t][torch.from_numpy(slot + rows)] = windows.index_select(0, torch.from_numpy(sel[rows] - b0))
    return out


class AdamW:
    """torch.optim.AdamW (defaults, weight_decay as given) as it updates CPU tensors (its
    single-tensor path: amsgrad, foreach and fused off), the same weights bit for bit, without
    torch.optim: the first optimizer a process makes imports torch._dynamo (1.2-1.5 s on 2 busy
    cores, 2026-12-04), a cost the per-genome fine-tune paid on every run. Parameters without a
    gradient (a site type's readout in another type's batch) are skipped, their step count too."""

    def __init__(self, params, lr: float, weight_decay: float = 1e-2, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params = [p for p in params if p.requires_grad]
        self.param_groups = [{"lr": lr}]  # as torch.optim's, for the rate schedule
        self.weight_decay, (self.beta1, self.beta2), self.eps = weight_decay, betas, eps
        self.state = [None] * len(self.params)  # (step, exp_avg, exp_avg_sq) once a gradient came

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        lr, b1, b2 = self.param_groups[0]["lr"], self.beta1, self.beta2
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            if self.state[i] is None:
                self.state[i] = [torch.tensor(0.0), torch.zeros_like(p, memory_format=torch.preserve_format),
                                 torch.zeros_like(p, memory_format=torch.preserve_format)]
            step_t, exp_avg, exp_avg_sq = self.state[i]
            step_t += 1  # a float32 tensor, as torch keeps it
            p.mul_(1 - lr * self.weight_decay)
            exp_avg.lerp_(p.grad, 1 - b1)
            exp_avg_sq.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            step = step_t.item()
            step_size = lr / (1 - b1**step)
            denom = (exp_avg_sq.sqrt() / (1 - b2**step) ** 0.5).add_(self.eps)
            p.addcdiv_(exp_avg, denom, value=-step_size)


def fit_sites(model: SiteNet, data: dict[str, tuple[np.ndarray, np.ndarray]], epochs: int, lr: float,
              rng: np.random.Generator, batch: int = 512, on_epoch=None,
              features: dict[str, torch.Tensor] | None = None) -> list[float]:
    """Binary cross-entropy on each site type's windows, AdamW, the rate halved after each
    epoch; `on_epoch(epoch, mean loss)` after each. Returns the per-epoch mean losses.
    `features` ({site type: (n, channels, window)}, e.g. sampled_features'): the trunk's
    features of the windows, computed once; then only the readouts learn (no gradient through
    the convolutions, most of a step's cost) and data's windows are not read (its labels are)."""
    params = model.parameters() if features is None else (p for t in data for p in model.readout[t].parameters())
    opt = AdamW(params, lr=lr, weight_decay=1e-4)
    history = []
    for epoch in range(epochs):
        model.train()
        losses = []
        for t in data:
            w, y = data[t]
            order = rng.permutation(len(y))
            for i in range(0, len(order), batch):
                b = order[i : i + batch]
                if features is None:
                    logit = model(t, torch.from_numpy(w[b]))
                elif features[t].dtype == torch.bfloat16:
                    logit = _read_mixed(model.readout[t], features[t].index_select(0, torch.from_numpy(b)))
                else:
                    logit = model.read(t, features[t].index_select(0, torch.from_numpy(b)))
                loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, torch.from_numpy(y[b]).float())
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(loss.item())
        for group in opt.param_groups:
            group["lr"] *= 0.5
        history.append(float(np.mean(losses)) if losses else float("nan"))
        if on_epoch:
            on_epoch(epoch, history[-1])
    model.eval()
    return history


def _read_mixed(readout: torch.nn.Sequential, windows: torch.Tensor) -> torch.Tensor:
    """SiteNet.read of bfloat16 features with the first layer's product in bfloat16, as the
    scoring reads them (sites._read_bf16), the float32 weights cast on each call so that their
    gradients reach them in float32: 3x faster a step than float32 where the CPU has native
    bfloat16 (sites.READ_BF16)."""
    _, first, _, last = readout  # Flatten, Linear, ReLU, Linear (models/sites.py)
    return _read_bf16((first.weight.bfloat16(), first.bias.bfloat16(), last), windows)


def adapted_site_model(model: SiteNet, records: list[tuple[str, bytes]], genes, epochs: int, lr: float,
                       max_pos: int = 5000, neg_per_pos: int = 10, seed: int = 0,
                       train_trunk: bool = True) -> SiteNet | None:
    """A copy of `model` fine-tuned on one genome's own decoded genes (per-genome adaptation, as
    the decoder's chains and matrices self-train); None when the genes give too few sites.
    The negatives are drawn at the training script's ratio, so the model's prior logit (the
    training set's class balance, subtracted to give a likelihood ratio) still holds."""
    cfg = model.config
    rng = np.random.default_rng(seed)
    found: dict[str, list] = {t: [] for t in cfg.site_types}
    for (_, seq), found_genes in zip(records, genes):
        txs = [SiteTranscript(g.strand, sorted(g.cds), not g.start_partial) for g in found_genes if not g.end_partial]
        if txs:
            for t, parts in site_candidates(seq, txs, cfg).items():
                found[t] += parts
    if train_trunk:
        data, features = sample_windows(found, cfg, rng, max_pos, neg_per_pos), None
    else:
        # the cached features take 5 kB a window in bfloat16 (10 kB in float32): at most
        # FROZEN_MAX_POS positives per type keeps them near 300 MB (600 MB) on a genome with
        # many introns; the validation genomes give 600-1,000 a type, so none is capped
        picks = sample_sites(found, rng, min(max_pos, FROZEN_MAX_POS), neg_per_pos)
        data = {t: (None, np.concatenate([lab for *_, lab in p]) if p else np.zeros(0, bool)) for t, p in picks.items()}
    if min(int(data[t][1].sum()) for t in ("donor", "acceptor")) < 100:
        return None
    if not train_trunk:
        features = sampled_features(model, found, picks)
    tuned = copy.deepcopy(model)
    with torch.enable_grad():
        fit_sites(tuned, data, epochs, lr, rng, features=features)
    return tuned
