"""Splice-site and start evidence from the trained classifier (models/sites.py) for the
gene-structure HMM: per-position log-likelihood ratios of donors, acceptors and starts on both strands,
aligned to the positions where the HMM's splice edges are gated (viterbi_hmm.GeneHMM "site"
terms):

    "don"   plus donor,      at the exon's last base j (intron starts at j + 1)
    "acc"   plus acceptor,   at the exon's first base t (intron ended at t - 1)
    "racc"  minus acceptor,  at j, the last base (forward) of the exon left of the intron
    "rdon"  minus donor,     at t, the first base (forward) of the exon right of the intron
    "start"  plus start,     at t, the ATG's first base
    "rstart" minus start,    at t, the middle base of the forward CAT

Positions that are not a candidate dinucleotide get 0 (the HMM's dinucleotide gates already
forbid them). Each strand is convolved once; windows are then read at the candidates only, in
chunks, so memory stays at a few channels per base of one sequence.
"""

from __future__ import annotations

import numpy as np
import torch

from genet5.genome.codes import reverse_complement
from genet5.models.sites import SiteNet
from genet5.models.weights import load_model

BUNDLED_SITE_MODEL = "gene-sites"
_LUT = np.full(256, 4, dtype=np.uint8)
for _i, _c in enumerate(b"ACGT"):
    _LUT[_c] = _LUT[_c + 32] = _i
_CHUNK = 8192  # candidate windows read at once
_TRUNK_CHUNK = 1 << 20  # bases convolved at once


def load_site_model(name_or_dir: str = BUNDLED_SITE_MODEL) -> SiteNet:
    return load_model(name_or_dir, SiteNet)


@torch.no_grad()
def oriented_site_llr(model: SiteNet, codes: np.ndarray) -> dict[str, np.ndarray]:
    """{"donor", "acceptor", "start": (L,) float32} log-likelihood ratios on one oriented
    sequence of base codes (0 where the site's bases are absent): donor at i = GT/GC at i, i+1;
    acceptor at i = AG at i-2, i-1; start at i = ATG at i .. i+2."""
    cfg = model.config
    n, half, margin = len(codes), cfg.half, cfg.margin
    reach = half + margin
    padded = np.concatenate([np.full(reach, 4, np.uint8), codes, np.full(reach, 4, np.uint8)])
    # trunk features for every base, computed in overlapping chunks: feats[:, p] describes base p
    feats = np.empty((cfg.channels, n + 2 * half), dtype=np.float32)
    for lo in range(0, n + 2 * half, _TRUNK_CHUNK):
        hi = min(lo + _TRUNK_CHUNK, n + 2 * half)
        x = torch.from_numpy(padded[lo : hi + 2 * margin][None, :].astype(np.int64))
        feats[:, lo:hi] = model.features(x)[0].numpy()
    out = {}
    g = codes[:-1] == 2
    donors = np.flatnonzero(g & ((codes[1:] == 3) | (codes[1:] == 1)))
    acceptors = np.flatnonzero((codes[:-1] == 0) & (codes[1:] == 2)) + 2
    acceptors = acceptors[acceptors < n]
    starts = np.flatnonzero((codes[:-2] == 0) & (codes[1:-1] == 3) & (codes[2:] == 2))
    # window of site i: features of bases i - half .. i + half - 1 = columns i .. i + 2 half - 1;
    # a strided view of every window (no copy), gathered at the candidates in one indexing step
    # (6x faster than indexing the columns with a 2-D index)
    windows = torch.from_numpy(feats).unfold(1, 2 * half, 1).permute(1, 0, 2)  # (n + 1, channels, window)
    for site_type, cand in (("donor", donors), ("acceptor", acceptors), ("start", starts)):
        llr = np.zeros(n, dtype=np.float32)
        for lo in range(0, len(cand), _CHUNK):
            c = torch.from_numpy(cand[lo : lo + _CHUNK])
            llr[cand[lo : lo + _CHUNK]] = (model.read(site_type, windows[c]) - model.prior_logit(site_type)).numpy()
        out[site_type] = llr
    return out


def site_scores(model: SiteNet, seq: bytes, weight: float = 1.0) -> dict[str, np.ndarray]:
    """The six HMM site arrays ("don", "acc", "racc", "rdon", "start", "rstart"; (L,) float32, forward positions)
    of one sequence, each `weight` times the classifier's log-likelihood ratio."""
    n = len(seq)
    plus = oriented_site_llr(model, _LUT[np.frombuffer(seq, dtype=np.uint8)])
    minus = oriented_site_llr(model, _LUT[np.frombuffer(reverse_complement(seq), dtype=np.uint8)])
    out = {k: np.zeros(n, dtype=np.float32) for k in ("don", "acc", "racc", "rdon", "start", "rstart")}
    out["don"][: n - 1] = plus["donor"][1:]  # exon's last base j = donor position - 1
    out["acc"][:] = plus["acceptor"]
    # minus strand, oriented index i <-> forward base n - 1 - i
    out["racc"][:] = minus["acceptor"][::-1]  # forward j = n - 1 - i (the exon's first base on minus)
    # minus donor at oriented i (the intron's first base) is forward base n - 1 - i; the gate sits
    # one base right of it, at the exon's first forward base t = n - i
    out["rdon"][1:] = minus["donor"][::-1][:-1]
    out["start"][:] = plus["start"]
    # a minus start at oriented i covers forward bases n-3-i .. n-1-i; its gate is the middle one
    out["rstart"][: n - 1] = minus["start"][::-1][1:]
    for k in out:
        out[k] *= weight
    return out
