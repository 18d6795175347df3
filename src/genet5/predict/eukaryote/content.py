"""Content statistics a eukaryotic genome teaches itself: Markov chains of coding sequence (by
codon position), of introns and of intergenic sequence, each as a per-base log-likelihood ratio
against one background chain of the whole genome (both strands).

Sharing the background makes the ratios comparable: the gene-structure HMM adds them along a
path, so a path's score is log P(sequence | its labels) - log P(sequence | background), and the
constant background cancels between paths. The periodic coding chain is the prokaryotic
decoder's (predict/prokaryote/coding.py); introns and intergenic sequence get a homogeneous
chain of the same construction.
"""

from __future__ import annotations

import numpy as np

from genet5.predict.prokaryote.coding import CodingModel, ContextCache, contexts
from genet5.predict.prokaryote.orfs import base_codes


class ContentModel:
    """Homogeneous order-k chain as a log-ratio table (4^k, 4) against the background."""

    def __init__(self, k: int, ratio: np.ndarray):
        self.k, self.ratio = k, ratio

    @classmethod
    def fit(cls, pieces: list[bytes], background: np.ndarray, k: int, pseudo: float = 0.5,
            prior: np.ndarray | None = None, prior_weight: float = 0.0) -> "ContentModel":
        """`pieces`: oriented training sequences; `background`: counts (4^k, 4) of the genome
        (background_counts); `prior`: (4^k, 4) P(base | context) of other genomes, mixed in as
        prior_weight pseudo-observations per context."""
        counts = background_counts(pieces, k) + pseudo
        if prior is not None and prior_weight > 0:
            counts = counts + prior_weight * prior
        p = np.log(counts / counts.sum(axis=1, keepdims=True))
        bg = np.log((background + pseudo) / (background + pseudo).sum(axis=1, keepdims=True))
        return cls(k, (p - bg).astype(np.float32))

    def track(self, s: bytes, cache: ContextCache | None = None) -> np.ndarray:
        """(L,) float32 log-ratio of each base given the k before it (0 near N); `cache`: the
        contexts of sequences several chains read."""
        if cache is not None:
            codes, ctx, ok = cache(s, self.k)
        else:
            codes = base_codes(s)
            ctx, ok = contexts(codes, self.k)
        return np.where(ok, self.ratio[ctx, np.where(ok, codes, 0)], 0.0).astype(np.float32)


def background_counts(seqs: list[bytes], k: int) -> np.ndarray:
    """(4^k, 4) order-k transition counts of `seqs` as given (pass both strands)."""
    m = 4**k
    counts = np.zeros((m, 4))
    for s in seqs:
        codes = base_codes(s)
        ctx, ok = contexts(codes, k)
        counts += np.bincount(ctx[ok] * 4 + codes[ok], minlength=m * 4).reshape(m, 4)
    return counts


def fit_coding(cds: list[bytes], background: list[bytes], k: int, prior: np.ndarray | None = None,
               prior_weight: float = 0.0) -> CodingModel:
    """Periodic chain from spliced, in-frame CDS sequences (codon position 0 at their first base);
    `prior`, `prior_weight`: as CodingModel.fit."""
    genes = [(s, np.array([0]), np.array([len(s) - 1])) for s in cds if len(s) >= 3]
    return CodingModel.fit(genes, background, k=k, prior=prior, prior_weight=prior_weight)


def periodic_counts(cds: list[bytes], k: int) -> np.ndarray:
    """(3, 4^k, 4) counts of each base by codon position and the k bases before it, over spliced
    in-frame CDS sequences (codon position 0 at their first base)."""
    m = 4**k
    out = np.zeros((3, m, 4))
    for s in cds:
        codes = base_codes(s)
        ctx, ok = contexts(codes, k)
        phase = np.arange(len(codes)) % 3
        out += np.bincount((phase[ok] * m + ctx[ok]) * 4 + codes[ok], minlength=3 * m * 4).reshape(3, m, 4)
    return out
