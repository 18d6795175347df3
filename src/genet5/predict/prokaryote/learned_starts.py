"""The learned start classifier's evidence (models/prok_starts.py) for the prokaryote decoder.

For every candidate of a Strand: the classifier's logit minus the best logit among the start
codons of the same ORF. The best start of each ORF reads 0, the others how much less likely the
classifier finds them: the term ranks the starts of an ORF and leaves the choice between a gene
and no gene to the coding statistics. 5'-partial candidates (no start codon) read 0.

The same inputs (windows, place features) feed training (scripts/train_start_model.py), so
what the model learned and what the decoder asks of it cannot drift apart.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from genet5.models.prok_starts import StartNet
from genet5.models.weights import load_model
from genet5.predict.prokaryote.orfs import Strand, base_codes

BUNDLED_START_MODEL = "prokaryote-starts"
_CHUNK = 65536  # candidates scored at once


@functools.lru_cache(maxsize=4)
def load_start_net(name_or_dir: str = BUNDLED_START_MODEL) -> StartNet:
    """The classifier (cached: a run decodes many genomes or sequences with one model)."""
    return load_model(name_or_dir, StartNet)


def base_counts(seq: bytes) -> np.ndarray:
    """(4,) counts of A, C, G, T in `seq`."""
    return np.bincount(base_codes(seq), minlength=5)[:4].astype(np.float64)


def genome_freq(counts: np.ndarray) -> np.ndarray:
    """(4,) A, C, G, T frequencies read on both strands (A = T, C = G: candidates lie on both),
    from the forward strand's counts; uniform when there are none."""
    both = counts + counts[::-1]  # the reverse strand's A count is the forward T count
    return (both / both.sum() if both.sum() else np.full(4, 0.25)).astype(np.float32)


def windows(cand: Strand, up: int, down: int) -> np.ndarray:
    """(k, up + down) int8 base codes around each candidate start (4 off the sequence)."""
    codes = base_codes(cand.seq)
    offs = cand.a[:, None] + np.arange(-up, down)[None, :]
    inside = (offs >= 0) & (offs < len(codes))
    return np.where(inside, codes[np.clip(offs, 0, max(len(codes) - 1, 0))], 4).astype(np.int8)


def place_features(cand: Strand) -> np.ndarray:
    """(k, 6) float32, where each candidate sits in its ORF: log1p of the start codons upstream
    of it, of the codons to the next start upstream and downstream and to the ORF's first start;
    log of its length in codons; whether it is the ORF's first start. Candidates of one ORF are
    contiguous and sorted by position (orfs.oriented_candidates)."""
    a, orf, edge = cand.a, cand.orf, cand.edge
    k = len(a)
    out = np.zeros((k, 6), dtype=np.float32)
    if k == 0:
        return out
    real = ~edge
    # rank of each real start within its ORF and the ORF's first real start
    idx = np.flatnonzero(real)
    o = orf[idx]
    new = np.concatenate([[True], o[1:] != o[:-1]])
    group_first = np.maximum.accumulate(np.where(new, np.arange(len(idx)), 0))
    rank = np.arange(len(idx)) - group_first
    new_last = np.concatenate([o[1:] != o[:-1], [True]])
    prev_gap = np.where(new, 0, np.diff(a[idx], prepend=a[idx][0]) // 3)
    next_gap = np.where(new_last, 0, np.diff(a[idx], append=a[idx][-1]) // 3)
    first_gap = (a[idx] - a[idx][group_first]) // 3
    length = (cand.e[idx] - a[idx] + 1) / 3.0
    out[idx, 0] = np.log1p(rank)
    out[idx, 1] = np.log1p(prev_gap) / 5.0
    out[idx, 2] = np.log1p(next_gap) / 5.0
    out[idx, 3] = np.log1p(first_gap) / 5.0
    out[idx, 4] = np.log(length) / 7.0
    out[idx, 5] = new
    return out


@torch.no_grad()
def logits(model: StartNet, wins: np.ndarray, freq: np.ndarray, place: np.ndarray) -> np.ndarray:
    model.eval()
    out = np.zeros(len(wins), dtype=np.float32)
    f = torch.from_numpy(np.asarray(freq, dtype=np.float32))
    for lo in range(0, len(wins), _CHUNK):
        w = torch.from_numpy(wins[lo : lo + _CHUNK])
        out[lo : lo + len(w)] = model(w, f.expand(len(w), 4), torch.from_numpy(place[lo : lo + _CHUNK])).numpy()
    return out


def orf_relative(score: np.ndarray, orf: np.ndarray, edge: np.ndarray) -> np.ndarray:
    """score minus the best real start's score of the same ORF; 0 at 5'-partial candidates."""
    out = np.zeros(len(score), dtype=np.float64)
    real = ~edge
    if not real.any():
        return out
    _, inv = np.unique(orf[real], return_inverse=True)
    best = np.full(inv.max() + 1, -np.inf)
    np.maximum.at(best, inv, score[real])
    out[real] = score[real] - best[inv]
    return out


def start_scores(model: StartNet, cand: Strand, freq: np.ndarray) -> np.ndarray:
    """(k,) the decoder's term: logit minus the best logit of the ORF (0 at partial starts)."""
    if len(cand.a) == 0:
        return np.zeros(0)
    cfg = model.config
    raw = logits(model, windows(cand, cfg.up, cfg.down), freq, place_features(cand))
    return orf_relative(raw, cand.orf, cand.edge)
