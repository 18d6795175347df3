"""`-g auto`: genetic code 11 or 4 from the genome itself (Prodigal cannot tell them apart).

Mycoplasmas, Spiroplasmas and their relatives read TGA as tryptophan (table 4). Decoded under
table 11, their genes stop at the first in-frame TGA, and the frame goes on coding past it: the
genome's own coding statistics score the bases after that TGA, in the same frame, as coding. In
a table-11 genome the bases after a real TGA stop are intergenic or another gene in another
frame, and score as non-coding. So the genome is decoded once under table 11 with its own
statistics (no network, no start model, one round: about a second for 2 Mb), and for every gene
that ends in TGA the next 60-300 bases in its frame (up to a TAA or TAG) are scored with the
genome's coding chain; the count of read-throughs that score positive decides. Without `-g`
the same count is taken on the single-mode decoder's own first gene set with the chain its
first round fits, and if that does not choose table 4, on its genes after the first round
(genome_decoder.py, ProkaryoteDecoder.finish); a table-4 genome is decoded again (pipeline.py).

An earlier rule (until 2026-12-05) decoded under table 4 and counted the genes with an
internal TGA; on GC-rich and TGA-rich table-11 genomes it chose table 4 (Bradyrhizobium 0.61,
T. kodakarensis 0.64 against a threshold of 0.5), since TGA is their commonest stop and genes
read through it freely. Measured on the first 2 Mb of every shared table-11 and table-4 genome
(docs/benchmarks.md, "-g auto"): read-throughs scoring positive in M. gallisepticum (six strains)
and M. alvi 96-97% of 720-790; in the table-11 bacteria, archaea, phages and the chloroplast
0-22% (E. coli 9% of 267, Bradyrhizobium 14% of 839, T. kodakarensis 17% of 892).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from genet5.genome.codes import genetic_code
from genet5.predict.prokaryote.decoder import ProkaryoteSettings, prepare_record, self_train
from genet5.predict.prokaryote.orfs import base_codes, codon_hits, frame_sums

# The decision weighs k positive read-throughs of n as a likelihood ratio between the two
# tables: a table-4 genome's read-throughs score positive with probability ~P_TABLE4 (whole
# genomes 0.96-0.97), a table-11 genome's with ~P_TABLE11 (whole genomes 0-0.22, 10-50 kb pieces
# up to 0.4 of a few read-throughs); table 4 needs odds of at least MIN_ODDS to 1, so a piece at
# 0.4 stays table 11 (no table 4 in 288 pieces of table-11 genomes, docs/benchmarks.md). Table 11 is the
# default: too little evidence (a short input, few TGA-ended genes) keeps it.
P_TABLE4, P_TABLE11 = 0.9, 0.3
MIN_ODDS = 1000.0
# What is read: at most this much of the genome (its first records), as the domain check does.
MAX_BASES = 2_000_000
# The stretch scored after each TGA: at least MIN_EXTENSION bases to the next TAA or TAG in the
# frame (shorter ones say too little), at most MAX_EXTENSION.
MIN_EXTENSION, MAX_EXTENSION = 60, 300


@dataclass
class CodeChoice:
    table: int
    readthroughs: int  # genes ending in TGA with a long enough stretch after it
    coding: int  # of those, how many stretches score as coding

    def describe(self) -> str:
        if not self.readthroughs:
            return "no gene ends in a TGA with a stretch after it to judge by: table 11, the default"
        said = f"{self.coding} of {self.readthroughs} TGA-ended genes read on as coding past the TGA"
        if self.table == 11 and 2 * self.coding > self.readthroughs:
            said += ", too few to choose table 4: pass -g 4 if it is a Mycoplasma"
        return said


def _first_bases(records: list[tuple[str, bytes]], limit: int) -> list[tuple[str, bytes]]:
    out, n = [], 0
    for sid, seq in records:
        if n >= limit:
            break
        out.append((sid, seq[: limit - n]))
        n += len(out[-1][1])
    return out


def readthrough_counts(records: list[tuple[str, bytes]], min_len: int = 90) -> tuple[int, int]:
    """(n, k) of a quick table-11 decoding of `records` (one round, no start model): see
    count_readthroughs."""
    settings = ProkaryoteSettings(min_len=min_len, use_net=False, rounds=1, use_start_model=False,
                                  use_dicodon=False, start_net_model=None, meta_seed_below=0)
    starts = frozenset({b"ATG", b"GTG", b"TTG"})
    prepared = [prepare_record(sid, seq, genetic_code(11), starts, settings) for sid, seq in records]
    trained = self_train(prepared, settings)
    return count_readthroughs(prepared, trained.chosen, trained.coding)


def count_readthroughs(prepared, chosen, coding) -> tuple[int, int]:
    """(n, k): genes of a table-11 decoding (prepared records, the chosen candidates of each
    strand, the coding chain it fitted) that end in TGA with a stretch of MIN_EXTENSION+ bases
    after it in frame before a TAA/TAG (or a sequence end or N), and how many of those
    stretches (their first MAX_EXTENSION bases) the coding chain scores above 0."""
    tga = base_codes(b"TGA")
    n = k = 0
    for rec, picked in zip(prepared, chosen):
        for d, idx in zip(rec, picked):
            c = d.cand
            codes = base_codes(c.seq)
            e = c.e[idx[~c.open3[idx]]]  # last base of each complete gene's stop codon
            e = e[(codes[e - 2] == tga[0]) & (codes[e - 1] == tga[1]) & (codes[e] == tga[2])]
            if not len(e):
                continue
            # where each frame's reading ends: a TAA or TAG (table 4's stops) or a codon with an N
            ends = codon_hits(codes, (b"TAA", b"TAG"))
            if len(codes) >= 3:
                ends |= (codes[:-2] == 4) | (codes[1:-1] == 4) | (codes[2:] == 4)
            after = e + 1
            stop_at = np.empty(len(after), dtype=np.int64)  # first base of the codon that ends the stretch
            for f in range(3):
                sel = after % 3 == f
                pos = np.flatnonzero(ends[f::3]) * 3 + f
                last_whole = f + 3 * ((len(codes) - f) // 3)  # end of the frame's last whole codon
                if not len(pos):  # no TAA/TAG in this frame: the stretch runs to the end
                    stop_at[sel] = last_whole
                    continue
                i = np.searchsorted(pos, after[sel])
                stop_at[sel] = np.where(i < len(pos), pos[np.minimum(i, len(pos) - 1)], last_whole)
            last = np.minimum(stop_at, after + MAX_EXTENSION) - 1
            long = last - after + 1 >= MIN_EXTENSION
            if not long.any():
                continue
            score = _stretch_scores(coding, c.seq, after[long], last[long])
            n += int(long.sum())
            k += int((score > 0).sum())
    return n, k


def _stretch_scores(coding, seq: bytes, a: np.ndarray, e: np.ndarray) -> np.ndarray:
    """frame_sums(coding.track(seq), a, e), reading only the stretches (each with the chain's
    k bases of context before it) instead of the whole strand: the same numbers, for a tenth
    of the bases (a thousand 60-300 base stretches against a 2 Mb strand)."""
    lo = np.maximum(a - coding.k, 0)
    pieces = b"".join(seq[x : y + 1] for x, y in zip(lo.tolist(), e.tolist()))
    sizes = e - lo + 1
    at = np.concatenate([[0], np.cumsum(sizes)[:-1]])  # where each piece begins in the join
    return frame_sums(coding.track(pieces), at + (a - lo), at + (e - lo))


def decide(n: int, k: int) -> CodeChoice:
    """Table 4 when k of n read-throughs coding give odds of MIN_ODDS to 1 for it, else 11."""
    log_odds = k * math.log(P_TABLE4 / P_TABLE11) + (n - k) * math.log((1 - P_TABLE4) / (1 - P_TABLE11))
    return CodeChoice(4 if log_odds >= math.log(MIN_ODDS) else 11, n, k)


def choose_code(records: list[tuple[str, bytes]]) -> CodeChoice:
    """Table 4 or 11 for these records (one genome), from its first MAX_BASES bases."""
    return decide(*readthrough_counts(_first_bases(records, MAX_BASES)))
