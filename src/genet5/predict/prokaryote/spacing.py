"""How far apart a genome's consecutive genes lie, self-trained: a junction score for the DP.

Gene spacing varies between genomes as much as codon usage does: half of the same-strand
neighbours of the Erwinia phages and of T. kodakarensis are under 12 bp apart and one in ten
more than 150 bp, while in Vibrio and E. coli the median is 40-60 bp and one in four is more than
150 bp apart; convergent phage genes are 3-46 bp apart, Vibrio's 8-216. GeneMark's HMMs score
intergenic lengths with such a distribution; Prodigal scores a fixed operon bonus (dp.Junctions
.prodigal). Here the genome's own distribution of (how two neighbours face each other, bases
between them) is fitted on the current genes each round, and the junction of two consecutive
genes of a chain scores log f(facing, d) minus its mean over the genes it was fitted on: a gene
in a genome whose genes sit tight, filling a long gap between two genes, turns one unlikely
long junction into two likely short ones; where long intergenic regions are common it gains
little.

f is a kernel density on -reach..near bases (negative: overlap) and a geometric tail beyond,
pulled towards the three facings' pooled shape where one facing has few pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genet5.predict.prokaryote import dp

NEAR = 300  # bases between two genes up to which the density is tabulated; a geometric tail beyond
BANDWIDTH = 25.0  # bp, the Gaussian kernel's sd
POOL_PSEUDO = 20.0  # pairs of the pooled shape added to each facing
FLOOR = 1e-6  # per base: no spacing is impossible


@dataclass
class SpacingModel:
    log_f: np.ndarray  # (3, reach + NEAR + 1): log density of (facing, d) for d in -reach..NEAR
    reach: int
    tail: np.ndarray  # (3,) log density at d = NEAR + 1
    slope: float  # log density lost per base beyond
    pairs: int  # neighbour pairs it was fitted on
    mean: float  # mean log density over them

    @classmethod
    def fit(cls, facing: np.ndarray, gap: np.ndarray, reach: int) -> SpacingModel | None:
        """From the facing (dp.SAME / CONVERGENT / DIVERGENT) and the bases between each pair of
        consecutive genes; None without pairs."""
        facing, gap = np.asarray(facing, dtype=np.int64), np.asarray(gap, dtype=np.int64)
        keep = gap >= -reach
        facing, gap = facing[keep], gap[keep]
        n = len(gap)
        if n == 0:
            return None
        width = reach + NEAR + 1
        inside = gap <= NEAR
        counts = np.zeros((3, width))
        np.add.at(counts, (facing[inside], gap[inside] + reach), 1.0)
        half = int(4 * BANDWIDTH)
        kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / BANDWIDTH) ** 2)
        kernel /= kernel.sum()
        smooth = np.stack([np.convolve(c, kernel, mode="same") for c in counts])
        tail_counts = np.bincount(facing[~inside], minlength=3).astype(float)
        excess = gap[~inside] - NEAR - 1
        slope = 1.0 / (float(excess.mean()) + 1.0) if excess.size else 1.0 / NEAR
        # per facing: (its pairs + the pooled shape's pseudo-pairs spread evenly) / all pairs
        pooled, pooled_tail = smooth.sum(0) / n, tail_counts.sum() / n
        f = (smooth + POOL_PSEUDO / 3 * pooled) / (n + POOL_PSEUDO)
        f_tail = (tail_counts + POOL_PSEUDO / 3 * pooled_tail) / (n + POOL_PSEUDO) * slope  # density at NEAR + 1
        log_f, tail = np.log(f + FLOOR), np.log(f_tail + FLOOR)
        at = np.where(inside, log_f[facing, np.clip(gap, -reach, NEAR) + reach], tail[facing] - slope * (gap - NEAR - 1))
        return cls(log_f, reach, tail, slope, n, float(at.mean()))

    def junctions(self, weight: float, rescue: np.ndarray, base: dp.Junctions | None = None,
                  center: float | None = None) -> dp.Junctions:
        """dp.Junctions scoring weight x (log f - center; by default its mean), added to
        `base`'s (whose table must not reach further than NEAR) where given."""
        c = self.mean if center is None else center
        table, tail = weight * (self.log_f - c), weight * (self.tail - c)
        if base is not None:
            extra = np.repeat(base.tail[:, None], NEAR - base.near, axis=1)
            table = table + np.concatenate([base.table[:, base.reach - self.reach:], extra], axis=1)
            tail = tail + base.tail
        return dp.Junctions(table, self.reach, tail, weight * self.slope, rescue)


def neighbour_pairs(lo: np.ndarray, hi: np.ndarray, plus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(facing, bases between) of each pair of consecutive genes of one sequence, ordered by
    their last base as the DP chains them."""
    order = np.lexsort((lo, hi))
    lo, hi, plus = lo[order], hi[order], plus[order]
    left, right = plus[:-1], plus[1:]
    facing = np.where(left == right, dp.SAME, np.where(left, dp.CONVERGENT, dp.DIVERGENT))
    return facing, lo[1:] - hi[:-1] - 1
