"""Gene structures from per-base class probabilities, for intron-less genomes (prokaryotes,
phages, plastids; most of yeast): the `--decoder orf` path.

Every candidate is a real open reading frame of the sequence's genetic code: a start codon,
in-frame codons without a stop, and a stop codon; the sequence decides where a gene may start
and end, the network only decides which of the candidates are genes. That is the grounding
DESIGN.md asks for, in its simplest form.

Score of a candidate CDS [a, e] (0-based, oriented so that transcription runs left to right):
    sum over bases i in [a, e] of  log P(CDS codon position (i - a) mod 3 | i) - log P(intergenic | i)
computed for all candidates at once from three cumulative sums (one per frame alignment), plus
a small start-codon prior. Per ORF the best-scoring start is kept; then candidates are taken
greedily by score, skipping any that overlap an accepted gene by more than `max_overlap` bases
on either strand (bacterial genes overlap by a few codons, rarely more).

Per-base classes are those of tokenizers/annotation.BaseClass: intergenic, CDS codon position
0/1/2 counted in the direction of transcription, intron, UTR. Because the positions are counted
along transcription, reversing a forward-strand track gives the minus strand's view.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from genet5.genome.codes import GeneticCode, reverse_complement

INTERGENIC, CDS0 = 0, 1  # BaseClass.INTERGENIC, BaseClass.CDS_FRAME0 (+1, +2 follow)

# Log-prior bonus by start codon (Prodigal-like preference; small next to per-base evidence).
START_BONUS = {b"ATG": 0.0, b"GTG": -1.0, b"TTG": -1.5}
OTHER_START_BONUS = -2.5


@dataclass
class OrfGene:
    strand: str
    start: int  # 1-based genomic, leftmost CDS base (stop codon included on the minus strand)
    end: int  # 1-based genomic, rightmost CDS base
    score: float
    start_partial: bool = False  # runs off the sequence at its 5' end
    end_partial: bool = False  # runs off the sequence at its 3' end
    start_codon: str = ""


@dataclass
class _Candidate:
    a: int  # oriented 0-based first CDS base
    e: int  # oriented 0-based last CDS base (last base of the stop codon when complete)
    score: float
    open5: bool
    open3: bool
    codon: bytes


def _codon_hits(seq: bytes, codons: frozenset[bytes] | set[bytes]) -> np.ndarray:
    """Boolean array: a codon of `codons` starts at position i."""
    n = len(seq)
    hit = np.zeros(max(n - 2, 0), dtype=bool)
    arr = np.frombuffer(seq, dtype=np.uint8)
    for codon in codons:
        c = np.frombuffer(codon, dtype=np.uint8)
        if n >= 3:
            hit |= (arr[:-2] == c[0]) & (arr[1:-1] == c[1]) & (arr[2:] == c[2])
    return hit


def _frame_cumsums(logp_LC: np.ndarray) -> list[np.ndarray]:
    """C_g[i] = sum_{j < i} w_{(j - g) mod 3}[j] for g = 0, 1, 2, where
    w_r = log P(CDS codon position r) - log P(intergenic)."""
    n = logp_LC.shape[0]
    w = logp_LC[:, CDS0 : CDS0 + 3] - logp_LC[:, INTERGENIC : INTERGENIC + 1]  # (L, 3)
    idx = np.arange(n)
    out = []
    for g in range(3):
        v = w[idx, (idx - g) % 3]
        out.append(np.concatenate([[0.0], np.cumsum(v, dtype=np.float64)]))
    return out


def _oriented_candidates(seq: bytes, logp_LC: np.ndarray, code: GeneticCode, min_len: int) -> list[_Candidate]:
    n = len(seq)
    stops = _codon_hits(seq, code.stops)
    starts = _codon_hits(seq, code.starts)
    csum = _frame_cumsums(logp_LC)
    out: list[_Candidate] = []
    for f in range(3):
        stop_pos = np.flatnonzero(stops[f::3]) * 3 + f  # in-frame stop codon starts
        start_pos = np.flatnonzero(starts[f::3]) * 3 + f
        c = csum[f % 3]
        # ORFs: (previous stop end, this stop). A virtual stop before the sequence start and
        # after its end gives the partial ORFs at the edges.
        bounds = np.concatenate([[f - 3], stop_pos, [n + ((f - n) % 3)]])
        for k in range(1, len(bounds)):
            left, stop = int(bounds[k - 1]) + 3, int(bounds[k])  # ORF body [left, stop)
            open3 = k == len(bounds) - 1
            # include the stop codon when present; else end on the last whole codon
            e = stop + 2 if not open3 else f + 3 * ((n - f) // 3) - 1
            if e - left + 1 < min_len:
                continue
            lo = bisect.bisect_left(start_pos, left)
            hi = bisect.bisect_left(start_pos, stop)
            cand_a = start_pos[lo:hi]
            open5 = k == 1 and left < 3  # the ORF reaches the sequence start
            if open5:
                cand_a = np.concatenate([[left], cand_a]) if (cand_a.size == 0 or cand_a[0] != left) else cand_a
            cand_a = cand_a[e - cand_a + 1 >= min_len]
            if cand_a.size == 0:
                continue
            scores = c[e + 1] - c[cand_a]  # c is aligned for frame f, and a ≡ f (mod 3)
            bonus = np.array(
                [0.0 if (open5 and a == left and seq[a : a + 3] not in code.starts) else START_BONUS.get(seq[a : a + 3], OTHER_START_BONUS) for a in cand_a]
            )
            total = scores + bonus
            best = int(np.argmax(total))
            a = int(cand_a[best])
            is_edge = open5 and a == left and seq[a : a + 3] not in code.starts
            out.append(_Candidate(a, e, float(total[best]), is_edge, open3, seq[a : a + 3]))
    return out


def decode_orfs(
    seq: bytes,
    logp_LC: np.ndarray,
    code: GeneticCode,
    *,
    logp_rc_LC: np.ndarray | None = None,
    min_len: int = 90,
    min_score: float = 0.0,
    max_overlap: int = 60,
) -> list[OrfGene]:
    """Genes of one sequence. `logp_LC` holds per-base log-probabilities (L, n_classes) for the
    forward sequence; minus-strand evidence is the same track reversed unless `logp_rc_LC`
    (a prediction made on the reverse complement, in its own coordinates) is given."""
    n = len(seq)
    if logp_LC.shape[0] != n:
        raise ValueError(f"probability track has {logp_LC.shape[0]} rows for a {n}-base sequence")
    rc = reverse_complement(seq)
    minus_track = logp_rc_LC if logp_rc_LC is not None else logp_LC[::-1]
    genes: list[OrfGene] = []
    for strand, s, track in (("+", seq, logp_LC), ("-", rc, np.ascontiguousarray(minus_track))):
        for cand in _oriented_candidates(s, track, code, min_len):
            if cand.score <= min_score:
                continue
            if strand == "+":
                lo, hi = cand.a + 1, cand.e + 1
            else:
                lo, hi = n - cand.e, n - cand.a
            genes.append(OrfGene(strand, lo, hi, cand.score, cand.open5, cand.open3, cand.codon.decode()))
    return _select(genes, max_overlap)


def _select(genes: list[OrfGene], max_overlap: int) -> list[OrfGene]:
    """Greedy by score: accept a gene unless it overlaps an accepted one by more than
    `max_overlap` bases. Accepted intervals are kept sorted for a bisect overlap check."""
    genes = sorted(genes, key=lambda g: -g.score)
    starts: list[int] = []
    ends: list[int] = []
    kept: list[OrfGene] = []
    longest = 0
    for g in genes:
        i = bisect.bisect_left(starts, g.start - longest)
        ok = True
        while i < len(starts) and starts[i] <= g.end:
            overlap = min(ends[i], g.end) - max(starts[i], g.start) + 1
            if overlap > max_overlap:
                ok = False
                break
            i += 1
        if not ok:
            continue
        j = bisect.bisect_left(starts, g.start)
        starts.insert(j, g.start)
        ends.insert(j, g.end)
        longest = max(longest, g.end - g.start + 1)
        kept.append(g)
    return sorted(kept, key=lambda g: (g.start, g.end))
