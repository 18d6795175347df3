"""Which start codon of an open reading frame is the translation start, learned per genome.

What marks a prokaryotic start varies between genomes, so (as in Prodigal and GeneMarkS-2)
it is learned from the genome's own genes after a first pass: the start codon itself
(ATG > GTG > TTG, in genome-specific proportions); a ribosome binding site, the Shine-Dalgarno
motif (a piece of AGGAGG) some bases upstream, binned by motif length and spacer as Prodigal
does; and the base composition around the start (a position-specific matrix from -20 to +14,
which also catches leaderless starts and non-SD motifs at a fixed distance, common in archaea).
Each part is a log-odds of the chosen starts against decoys. For the start codon and the RBS
class the decoys are all candidate starts of the genome, as in Prodigal: the score says how much
more often a real start has this codon or motif than a start codon anywhere, which both ranks the
starts of an ORF and tells a short gene with a real start from a chance ORF. The matrix is fitted
against the other start codons of the same ORFs (what tells a start from its neighbours beyond
codon and motif: an archaeal promoter-proximal motif, the composition around real starts).
"""

from __future__ import annotations

import numpy as np

from genet5.predict.prokaryote.orfs import base_codes

CODONS = (b"ATG", b"GTG", b"TTG")  # others (rare starts, the 5' edge of a partial gene) share one class
N_CODON = len(CODONS) + 1

# Shine-Dalgarno pieces by length, strongest group first; spacer bins in preference order
# (spacer = bases between the motif's last base and the start codon).
SD_GROUPS = ((b"AGGAGG",), (b"AGGAG", b"GGAGG"), (b"AGGA", b"GGAG", b"GAGG"), (b"AGG", b"GGA", b"GAG"))
SPACER_BINS = ((5, 10), (11, 15), (3, 4))
N_RBS = len(SD_GROUPS) * len(SPACER_BINS) + 1  # the last class: no motif
UP, DOWN = 20, 12  # matrix columns: bases -UP..-1 and +3..+3+DOWN-1
# Fewer chosen starts (or decoys) than this and the genome keeps the prior. 20, not 50: the
# 44 kb training phages (~55 genes, ~45 complete) then learn their starts (start+stop F1
# NC_016566 0.720 -> 0.879, NC_031081 0.762 -> 0.881, NC_013600 0.755 -> 0.807, NC_024783
# 0.825 -> 0.814; larger genomes unchanged).
MIN_STARTS = 20


def _window(codes: np.ndarray, a: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """(k, hi - lo) base codes at offsets lo..hi-1 from each a; 4 off the sequence."""
    offs = a[:, None] + np.arange(lo, hi)[None, :]
    inside = (offs >= 0) & (offs < len(codes))
    return np.where(inside, codes[np.clip(offs, 0, max(len(codes) - 1, 0))], 4)


# each SD motif as the base-5 number features() compares the window's pieces with
_MOTIF_WORD = {m: int(sum(int(c) * 5 ** (len(m) - 1 - i) for i, c in enumerate(base_codes(m))))
               for group in SD_GROUPS for m in group}


def features(s: bytes, a: np.ndarray, edge: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(codon class, RBS class, matrix window (k, UP + DOWN)) of the starts `a` in oriented `s`."""
    codes = base_codes(s)
    a = np.asarray(a, dtype=np.int64)
    first = _window(codes, a, 0, 3)
    codon = np.full(len(a), len(CODONS), dtype=np.int64)
    for i, c in enumerate(CODONS):
        cc = base_codes(c)
        codon[(first == cc[None, :]).all(axis=1)] = i
    if edge is not None:
        codon[edge] = len(CODONS)
    up = _window(codes, a, -UP - 6, 0).astype(np.int16)  # motif search window; column j is offset j - UP - 6
    # every piece of the window of each motif length as one base-5 number (N is 4: matches no
    # motif base), so a motif at a column is one comparison instead of one per base
    words: dict[int, np.ndarray] = {}
    for length in {len(m) for group in SD_GROUPS for m in group}:
        n = up.shape[1] - length + 1
        w = up[:, :n].copy()
        for i in range(1, length):
            w *= 5
            w += up[:, i : i + n]
        words[length] = w
    rbs = np.full(len(a), N_RBS - 1, dtype=np.int64)
    for gi, group in enumerate(SD_GROUPS):
        for bi, (s_lo, s_hi) in enumerate(SPACER_BINS):
            cat = gi * len(SPACER_BINS) + bi
            hit = np.zeros(len(a), dtype=bool)
            for motif in group:
                code = _MOTIF_WORD[motif]
                for sp in range(s_lo, s_hi + 1):
                    end = UP + 6 - sp  # exclusive column of the motif's end
                    beg = end - len(motif)
                    if beg < 0:
                        continue
                    hit |= words[len(motif)][:, beg] == code
            rbs = np.where(hit & (rbs > cat), cat, rbs)
    mat = np.concatenate([_window(codes, a, -UP, 0), _window(codes, a, 3, 3 + DOWN)], axis=1)
    if edge is not None:
        rbs[edge] = N_RBS - 1
        mat[edge] = 4
    return codon, rbs, mat


def motif_before(s: bytes, a: int, rbs: int | None = None) -> tuple[str, int] | None:
    """(motif, spacer) of the Shine-Dalgarno piece the RBS class of the start at `a` (oriented
    `s`) was read from: the strongest group, then the spacer bins in order (as features()); None
    without one. For the GFF3's rbs_motif / rbs_spacer, as Prodigal writes them. `rbs`: the
    start's class where known (features()), so only its group and spacer bin are searched."""
    if rbs is not None:
        if rbs == N_RBS - 1:
            return None
        group_i, bin_i = divmod(int(rbs), len(SPACER_BINS))
        groups, bins = SD_GROUPS[group_i : group_i + 1], SPACER_BINS[bin_i : bin_i + 1]
    else:
        groups, bins = SD_GROUPS, SPACER_BINS
    up = s[max(a - UP - 6, 0) : a].upper()
    for group in groups:
        for s_lo, s_hi in bins:
            for spacer in range(s_lo, s_hi + 1):
                for motif in group:
                    end = len(up) - spacer
                    if end - len(motif) >= 0 and up[end - len(motif) : end] == motif:
                        return motif.decode(), spacer
    return None


def _log_odds(pos: np.ndarray, neg: np.ndarray, k: int, pseudo: float) -> np.ndarray:
    p = np.bincount(pos, minlength=k) + pseudo
    q = np.bincount(neg, minlength=k) + pseudo
    return np.log(p / p.sum()) - np.log(q / q.sum())


def _column_log_odds(pos: np.ndarray, neg: np.ndarray, pseudo: float) -> np.ndarray:
    """(columns, 5): _log_odds of each column of (starts, columns) base classes 0..4, all
    columns through one bincount each (a loop of 32 bincounts was 5 ms a fit on 2 Mb)."""
    cols = pos.shape[1]
    at = (np.arange(cols) * 5)[None, :]
    p = np.bincount((pos + at).ravel(), minlength=cols * 5).reshape(cols, 5) + pseudo
    q = np.bincount((neg + at).ravel(), minlength=cols * 5).reshape(cols, 5) + pseudo
    return np.log(p / p.sum(axis=1, keepdims=True)) - np.log(q / q.sum(axis=1, keepdims=True))


class StartModel:
    def __init__(self, codon: np.ndarray, rbs: np.ndarray, mat: np.ndarray):
        self.codon, self.rbs, self.mat = codon, rbs, mat

    @classmethod
    def prior(cls) -> "StartModel":
        """Before any genome is seen: ATG > GTG > TTG, as Prodigal starts."""
        codon = np.array([0.0, -1.0, -1.5, -2.5])
        return cls(codon, np.zeros(N_RBS), np.zeros((UP + DOWN, 5)))

    @classmethod
    def fit(cls, examples: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
            pseudo: float = 2.0, background: tuple[np.ndarray, np.ndarray] | None = None) -> "StartModel | None":
        """examples: (codon, rbs, mat, chosen) feature arrays of candidate starts, `chosen` True
        for the start of a predicted gene and False for the other starts of its ORF.
        background: (codon, rbs) classes of every candidate start of the genome, the decoys of
        the codon and RBS log-odds (without it, the other starts of the chosen ORFs are)."""
        if not examples:
            return None
        codon, rbs, mat, chosen = (np.concatenate(x) for x in zip(*examples))
        if chosen.sum() < MIN_STARTS or (~chosen).sum() < MIN_STARTS:
            return None
        bg_codon, bg_rbs = background if background is not None else (codon[~chosen], rbs[~chosen])
        c = _log_odds(codon[chosen], bg_codon, N_CODON, pseudo)
        c[-1] = min(c[-1], c[:-1].min())  # rare starts never preferred by counting noise
        r = _log_odds(rbs[chosen], bg_rbs, N_RBS, pseudo)
        m = _column_log_odds(mat[chosen], mat[~chosen], pseudo)
        m[:, 4] = 0.0
        return cls(c, r, m)

    def score(self, codon: np.ndarray, rbs: np.ndarray, mat: np.ndarray) -> np.ndarray:
        cols = np.arange(mat.shape[1])[None, :]
        return self.codon[codon] + self.rbs[rbs] + self.mat[cols, mat].sum(axis=1)

    def parts(self, codon, rbs, mat) -> dict[str, np.ndarray]:
        cols = np.arange(mat.shape[1])[None, :]
        return {"codon": self.codon[codon], "rbs": self.rbs[rbs], "matrix": self.mat[cols, mat].sum(axis=1)}
