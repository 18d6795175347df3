"""Interspersed repeats found in the genome itself: the stretches covered by k-mers that occur
several times in it (both strands), as WindowMasker and Red find repeats without a library.

Why: users of ab initio gene finders mask repeats first (RepeatMasker, then AUGUSTUS
--softmasking, BRAKER, Tiberius), but many drafts arrive unmasked. Transposons carry real open
reading frames (gag, pol, transposase) that a self-trained coding chain reads as genes, and
self-training then learns from them: on the first 1% of each D. melanogaster arm (pericentric
heterochromatin, telomeric retrotransposons) 61% of our genes outside any reference gene had
over a fifth of their coding 16-mers in three or more copies, against none of the genes on
reference genes (worm: 3% of false genes, no true one). The decoder drops genes mostly made of
such k-mers (settings.max_repeat_share), in every pass, so they neither reach the output nor
teach the next round.

Written here with numpy rather than calling a masking tool: none ships as a Python wheel, and
counting canonical 16-mers of a few megabases is a sort of a few million integers.
"""

from __future__ import annotations

import numpy as np

K = 16  # 4^16 = 2^32: a k-mer fits a uint32; chance repeats are rare within REPEAT_SAMPLE_BASES
# Genomes larger than this count k-mers on evenly spread pieces of about this many bases
# (copies are counted within the sample): memory and time stay bounded on a large genome.
REPEAT_SAMPLE_BASES = 16_000_000
_SAMPLE_PIECE = 200_000
_PREFIX_BITS = 22  # a 4 MB table of the repeated k-mers' prefixes (RepeatTable.prefixes)

_CODES = np.full(256, 255, dtype=np.uint8)
for _i, _b in enumerate(b"ACGT"):
    _CODES[_b] = _CODES[_b + 32] = _i  # lower case (soft-masked) too


def canonical_kmers(seq: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(canonical k-mer of each window as uint32, whether the window is all A/C/G/T), for the
    len(seq) - K + 1 windows of seq. Canonical: the smaller of the k-mer and its reverse
    complement, so a copy on either strand counts as the same k-mer."""
    codes = _CODES[np.frombuffer(seq, dtype=np.uint8)]
    n = len(codes) - K + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=bool)
    fwd = np.zeros(n, dtype=np.uint32)
    rev = np.zeros(n, dtype=np.uint32)
    valid = np.ones(n, dtype=bool)
    for j in range(K):
        c = codes[j : j + n]
        valid &= c != 255
        c32 = (c & 3).astype(np.uint32)
        fwd = (fwd << np.uint32(2)) | c32
        rev |= (np.uint32(3) - c32) << np.uint32(2 * j)
    return np.minimum(fwd, rev), valid


class RepeatTable:
    """The canonical k-mers seen at least `min_copies` times in a genome (or its sample)."""

    def __init__(self, records: list[tuple[str, bytes]], min_copies: int = 3):
        total = sum(len(s) for _, s in records)
        parts = [s for _, s in records] if total <= REPEAT_SAMPLE_BASES else list(_sample(records, total))
        kmers = []
        for s in parts:
            h, valid = canonical_kmers(s)
            kmers.append(h[valid])
        allk = np.concatenate(kmers) if kmers else np.zeros(0, dtype=np.uint32)
        values, counts = np.unique(allk, return_counts=True)
        self.repeated = values[counts >= min_copies]
        # which k-mer prefixes (the top _PREFIX_BITS bits) any repeated k-mer has: a window whose
        # prefix none has is no repeat, and only the others are looked up in the sorted table
        # (a 4 Mb block: 0.44 -> 0.07 s, Zymoseptoria's 0.23 M repeated k-mers; the same runs)
        self.prefixes = np.zeros(1 << _PREFIX_BITS, dtype=bool)
        self.prefixes[self.repeated >> np.uint32(2 * K - _PREFIX_BITS)] = True

    def runs(self, seq: bytes, block: int = 4_000_000) -> list[tuple[int, int]]:
        """0-based half-open runs of seq covered by repeated k-mers, read in blocks (a few
        bytes per base of one block at a time; runs merged across block edges), so a 100 Mb
        chromosome needs neither its k-mers nor its hits at once."""
        out: list[tuple[int, int]] = []
        if not len(self.repeated):
            return out
        for lo in range(0, max(1, len(seq) - K + 1), block):
            h, valid = canonical_kmers(seq[lo : lo + block + K - 1])
            maybe = np.flatnonzero(valid & self.prefixes[h >> np.uint32(2 * K - _PREFIX_BITS)])
            i = np.searchsorted(self.repeated, h[maybe]).clip(0, len(self.repeated) - 1)
            hits = maybe[self.repeated[i] == h[maybe]] + lo
            if not len(hits):
                continue
            breaks = np.flatnonzero(np.diff(hits) > K)  # the next window starts after this one's last base
            firsts = np.concatenate(([hits[0]], hits[breaks + 1]))
            lasts = np.concatenate((hits[breaks], [hits[-1]])) + K
            for a, b in zip(firsts.tolist(), lasts.tolist()):
                if out and a <= out[-1][1]:  # touches the last run (of the block before)
                    out[-1] = (out[-1][0], max(out[-1][1], b))
                else:
                    out.append((a, b))
        return out


def _sample(records, total: int):
    """Evenly spread pieces of about REPEAT_SAMPLE_BASES in all."""
    n = REPEAT_SAMPLE_BASES // _SAMPLE_PIECE
    ends = np.cumsum([len(s) for _, s in records])
    for i in range(n):
        at = (2 * i + 1) * total // (2 * n)
        k = int(np.searchsorted(ends, at, side="right"))
        a = at - (int(ends[k - 1]) if k else 0)
        yield records[k][1][max(0, a - _SAMPLE_PIECE // 2) : a + _SAMPLE_PIECE // 2]


class RepeatCover:
    """Masked bases per record, for the share of a gene's coding bases that lie in repeats."""

    def __init__(self, runs: list[tuple[int, int]]):
        self.starts = np.array([a for a, _ in runs], dtype=np.int64)
        self.ends = np.array([b for _, b in runs], dtype=np.int64)
        self.before = np.concatenate(([0], np.cumsum(self.ends - self.starts)))  # masked bases before run i

    def masked_before(self, x: int) -> int:
        """Masked bases among 0-based positions < x."""
        i = int(np.searchsorted(self.ends, x, side="right"))  # runs wholly before x
        inside = max(0, x - int(self.starts[i])) if i < len(self.starts) else 0
        return int(self.before[i]) + inside

    def share(self, cds: list[tuple[int, int]]) -> float:
        """Share of the bases of 1-based closed segments `cds` that are masked."""
        total = sum(b - a + 1 for a, b in cds)
        if not total or not len(self.starts):
            return 0.0
        return sum(self.masked_before(b) - self.masked_before(a - 1) for a, b in cds) / total


def cut_runs(runs: list[tuple[int, int]], a: int, b: int) -> list[tuple[int, int]]:
    """The parts of 0-based half-open `runs` inside [a, b), in that piece's coordinates."""
    return [(max(x, a) - a, min(y, b) - a) for x, y in runs if y > a and x < b]


def union_runs(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The union of two lists of 0-based half-open runs, as sorted disjoint runs."""
    out: list[tuple[int, int]] = []
    for x, y in sorted(list(a) + list(b)):
        if out and x <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], y))
        else:
            out.append((x, y))
    return out


# A genome with at least this share of its A/C/G/T bases in lower case is not soft-masked, only
# written in lower case (some exports, `tr A-Z a-z`): read as unmasked, or every base would
# count as a repeat and no gene would be kept. Soft-masked genomes sit far below (Zymoseptoria
# 15%, large plant genomes 60-85%).
LOWER_CASE_SHARE = 0.95


def lower_case_share(records: list[tuple[str, bytes]], masks: list[list[tuple[int, int]]] | None) -> float | None:
    """The share of the A/C/G/T bases inside the lower-case runs `masks` (read_fasta's, one list
    per record), where it is LOWER_CASE_SHARE or more: a genome written in lower case, not
    soft-masked; None otherwise (or without masks)."""
    if not masks or not any(masks):
        return None
    acgt = sum(len(seq) - seq.count(b"N") for _, seq in records)
    lower = sum(b - a - seq.count(b"N", a, b) for (_, seq), runs in zip(records, masks) for a, b in runs)
    return lower / acgt if acgt and lower >= LOWER_CASE_SHARE * acgt else None
