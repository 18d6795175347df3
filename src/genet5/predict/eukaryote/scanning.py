"""Start codons read the way ribosomes scan: an ATG with another ATG shortly upstream in the same
frame (no stop codon between them) is rarely where a eukaryotic coding sequence starts, since
a ribosome scanning from the cap would have begun at the upstream one and made the longer
protein. In the references of the validation eukaryotes and yeast, 0.5-7.7% of annotated ATG
starts have an in-frame ATG within 60 bases upstream with no stop between (fly chr4 0.5%,
yeast 1.0%, Arabidopsis 3.6%, dm6 1% 4.3%, worm 4.9%, Zymoseptoria 7.7%), where an ATG inside a
coding sequence has one about half the time. The decoder adds `weight` (a negative log-odds) to
the start gates of such ATGs (EukaryoteSettings.scan_penalty), looking 45 bases upstream, or
400 in compact genomes (short 5' UTRs: yeast's annotated starts are the first ATG of their open
reading frame in 97.7% of genes, at any distance; compact_scan_reach).

Positions follow predict/eukaryote/sites.py: "start" at the ATG's first base, "rstart" at the
middle base of a minus-strand start's forward CAT.
"""

from __future__ import annotations

import numpy as np

from genet5.genome.codes import reverse_complement
from genet5.predict.prokaryote.orfs import base_codes


def shadowed_starts(codes: np.ndarray, reach: int) -> np.ndarray:
    """Positions i (oriented, 0-based first base) of ATGs with another ATG in frame at most
    `reach` bases upstream and no TAA/TAG/TGA in frame between the two."""
    n = len(codes)
    if n < 6:
        return np.zeros(0, dtype=np.int64)
    a, b, c = codes[:-2], codes[1:-1], codes[2:]
    atg = (a == 0) & (b == 3) & (c == 2)
    stop = (a == 3) & (((b == 0) & ((c == 0) | (c == 2))) | ((b == 2) & (c == 0)))
    out = []
    for frame in range(3):
        at, st = atg[frame::3], stop[frame::3]
        k = np.arange(at.size)
        # per codon k: the index of the last ATG / stop codon before it (-1: none)
        last_atg = np.maximum.accumulate(np.where(at, k, -1))
        last_stop = np.maximum.accumulate(np.where(st, k, -1))
        prev_atg = np.concatenate([[-1], last_atg[:-1]])
        prev_stop = np.concatenate([[-1], last_stop[:-1]])
        hit = at & (prev_atg >= 0) & (prev_atg > prev_stop) & ((k - prev_atg) * 3 <= reach)
        out.append(np.flatnonzero(hit) * 3 + frame)
    return np.sort(np.concatenate(out))


def scan_penalties(seq: bytes, reach: int, weight: float) -> dict[str, np.ndarray]:
    """{"start": (n,), "rstart": (n,)} float32: `weight` at the start gates of shadowed ATGs on
    each strand (forward positions), 0 elsewhere."""
    n = len(seq)
    out = {"start": np.zeros(n, dtype=np.float32), "rstart": np.zeros(n, dtype=np.float32)}
    out["start"][shadowed_starts(base_codes(seq), reach)] = weight
    minus = shadowed_starts(base_codes(reverse_complement(seq)), reach)
    out["rstart"][n - 2 - minus] = weight  # oriented i -> the middle base of the forward CAT
    return out
