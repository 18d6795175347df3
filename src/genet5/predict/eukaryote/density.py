"""How much of a genome lies in long open reading frames: the one number that tells a compact,
intron-poor genome (yeasts: most genes one exon, 60% of the sequence inside a single ORF of
300+ codons) from an intron-rich one (worm 3%, fly and Arabidopsis 13-15%, human 1%).

Only bases inside exactly one long ORF count: in GC-rich genomes (Zymoseptoria) and in repeats
long ORFs pile up on several frames at once without being genes, and counting each base once
per ORF would make those look compact. Vectorised with numpy (a Python loop over the codons of
a 12 Mb yeast genome takes ~20 s; this takes well under one).
"""

from __future__ import annotations

import numpy as np

from genet5.genome.codes import GeneticCode

_CODE = np.full(256, 4, dtype=np.int8)  # A C G T -> 0..3; anything else (N, IUPAC) -> 4
for _i, _b in enumerate(b"ACGT"):
    _CODE[_b] = _i
    _CODE[ord(chr(_b).lower())] = _i


def _stop_table(code: GeneticCode) -> np.ndarray:
    """(125,) bool over codon ids 25a+5b+c (base 5 so that N is a symbol): the stops."""
    table = np.zeros(125, dtype=bool)
    for a in range(4):
        for b in range(4):
            for c in range(4):
                table[25 * a + 5 * b + c] = bytes((b"ACGT"[a], b"ACGT"[b], b"ACGT"[c])) in code.stops
    return table


def _in_gap(seq: bytes) -> np.ndarray:
    """(len,) bool: bases in an assembly gap, as the gene finder splits records (orfs.segments)."""
    from genet5.predict.prokaryote.orfs import segments

    gap = np.ones(len(seq), dtype=bool)
    for a, b in segments(seq):
        gap[a:b] = False
    return gap


def orf_spans(seq: bytes, code: GeneticCode, min_codons: int) -> list[tuple[int, int, int]]:
    """Open reading frames (stop to stop, not through an assembly gap, one running off a
    sequence end counts) of at least `min_codons` codons, stops excluded, as (strand, start,
    end): 0-based half-open bounds on the forward sequence for strand 1, on its reverse
    complement for -1. A lone ambiguous base (IUPAC, or an N shorter than the gene finder's gap,
    prokaryote/orfs.py MIN_GAP) is read through as the gene finder reads it: a draft polished
    with ambiguity codes keeps its long ORFs (one per 400 bases once made a phage look
    eukaryotic to the domain check)."""
    from genet5.predict.prokaryote.orfs import codon_ids

    n = len(seq)
    if n < 3:
        return []
    ids = _CODE[np.frombuffer(seq, dtype=np.uint8)]
    gap = _in_gap(seq)
    comp = np.where(ids < 4, 3 - ids, 4)[::-1]  # reverse complement
    stops = _stop_table(code)
    out = []
    for strand, s, g in ((1, ids, gap), (-1, comp, gap[::-1])):
        codon = codon_ids(s)  # the codon id (25a + 5b + c) starting at each base
        blocked = g[:-2] | g[1:-1] | g[2:]  # a codon touching a gap
        unknown = (s[:-2] == 4) | (s[1:-1] == 4) | (s[2:] == 4)  # read through unless in a gap
        for f in range(3):
            at = np.arange(f, n - 2, 3)
            breaks = at[(stops[codon[at]] & ~unknown[at]) | blocked[at]]
            lefts = np.concatenate([[f], breaks + 3])  # ORF bodies between consecutive breaks
            rights = np.concatenate([breaks, [f + 3 * len(at)]])
            keep = (rights - lefts) // 3 >= min_codons
            out += [(strand, int(a), int(b)) for a, b in zip(lefts[keep], rights[keep])]
    return out


def long_orf_cover(seq: bytes, code: GeneticCode, min_codons: int = 300) -> np.ndarray:
    """(len(seq),) int8: on how many of the six frames each base lies inside an open reading
    frame of at least `min_codons` codons (orf_spans)."""
    n = len(seq)
    depth = np.zeros(n + 1, dtype=np.int32)
    for strand, a, b in orf_spans(seq, code, min_codons):
        lo, hi = (a, b) if strand == 1 else (n - b, n - a)
        depth[lo] += 1
        depth[hi] -= 1
    return np.cumsum(depth[:n]).astype(np.int8)


def single_orf_fraction(records: list[tuple[str, bytes]], code: GeneticCode, min_codons: int = 300) -> float:
    """Fraction of all bases that lie in exactly one long ORF (see the module docstring)."""
    total = sum(len(s) for _, s in records)
    if total == 0:
        return 0.0
    return float(sum(int(np.count_nonzero(long_orf_cover(s, code, min_codons) == 1)) for _, s in records) / total)
