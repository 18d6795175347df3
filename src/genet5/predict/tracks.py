"""Per-base probability tracks from the per-base head, and their bedGraph output.

The head gives log-probabilities over the classes of tokenizers/annotation.BaseClass. For a
genome browser (or a plot) two summaries matter: P(coding) = P(any CDS codon position) and
P(intron). They are strand-agnostic, as the classes are.

bedGraph (UCSC): one `track type=bedGraph ...` line, then `seqid<TAB>start<TAB>end<TAB>value`
rows, 0-based half-open. Values are rounded and runs of equal rounded values become one row,
so a whole genome stays small; everything is vectorized (genomes are millions of bases).
"""

from __future__ import annotations

import contextlib
from itertools import repeat
from pathlib import Path
from typing import IO, Callable, Iterator

import numpy as np

from genet5.atomic import atomic_write
from genet5.tokenizers.annotation import BaseClass

_CDS = [BaseClass.CDS_FRAME0, BaseClass.CDS_FRAME1, BaseClass.CDS_FRAME2]

# name -> (description, function of the (L, C) log-probabilities giving an (L,) probability)
TRACKS: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "coding": ("GeneT5 P(CDS, any codon position)", lambda logp: np.exp(logp[:, _CDS]).sum(axis=1)),
    "intron": ("GeneT5 P(intron)", lambda logp: np.exp(logp[:, BaseClass.INTRON])),
}


def track(logp: np.ndarray, name: str) -> np.ndarray:
    """(L,) float64 probabilities in [0, 1] of the named track."""
    values = TRACKS[name][1](np.asarray(logp, dtype=np.float64))
    return np.clip(values, 0.0, 1.0)  # a softmax sum can overshoot 1 by an ulp


def frame_probs(logp: np.ndarray) -> np.ndarray:
    """(L, 3) P(CDS codon position 0/1/2), counted along transcription."""
    return np.exp(np.asarray(logp, dtype=np.float64)[:, _CDS])


def track_header(name: str, description: str) -> str:
    # Fixed 0..1 view: probabilities of different regions stay comparable by eye.
    return (
        f'track type=bedGraph name="{name}" description="{description}" '
        "visibility=full autoScale=off viewLimits=0:1 maxHeightPixels=64:32:16\n"
    )


def bedgraph_rows(seqid: str, values: np.ndarray, decimals: int = 2, offset: int = 0) -> str:
    """bedGraph rows for one sequence: one row per run of equal rounded values.

    `values[i]` is the value of base `offset + i` (0-based); rows are 0-based half-open.
    """
    n = len(values)
    if n == 0:
        return ""
    scale = 10**decimals
    q = np.rint(np.asarray(values, dtype=np.float64) * scale).astype(np.int64)
    cuts = np.flatnonzero(q[1:] != q[:-1]) + 1
    starts = np.concatenate(([0], cuts)) + offset
    ends = np.concatenate((cuts, [n])) + offset
    # Format each distinct value once; str.format per row is the only per-run Python work.
    levels, inverse = np.unique(q[starts - offset], return_inverse=True)
    texts = [f"{v / scale:.{decimals}f}" for v in levels.tolist()]
    shown = [texts[i] for i in inverse.tolist()]
    return "".join(map("{}\t{}\t{}\t{}\n".format, repeat(seqid), starts.tolist(), ends.tolist(), shown))


class BedGraphWriter:
    """Writes PREFIX.<track>.bedgraph for every track, fed one sequence at a time.

    Use as a context manager: the files appear (atomically) only when the block ends without
    an error; `add` is the `on_track(seqid, logp)` callback of the prediction pipeline.
    """

    def __init__(self, prefix: str | Path, names: list[str] | None = None, decimals: int = 2):
        self.prefix = str(prefix)
        self.names = list(names or TRACKS)
        self.decimals = decimals
        self.paths = {name: Path(f"{self.prefix}.{name}.bedgraph") for name in self.names}
        self._stack = contextlib.ExitStack()
        self._handles: dict[str, IO[str]] = {}

    def __enter__(self) -> "BedGraphWriter":
        try:
            for name, path in self.paths.items():
                fh = self._stack.enter_context(atomic_write(path))
                fh.write(track_header(name, TRACKS[name][0]))
                self._handles[name] = fh
        except BaseException:
            self._stack.close()
            raise
        return self

    def add(self, seqid: str, logp: np.ndarray) -> None:
        for name, fh in self._handles.items():
            fh.write(bedgraph_rows(seqid, track(logp, name), self.decimals))

    def __exit__(self, *exc) -> bool:
        return self._stack.__exit__(*exc)


def iter_bedgraph(path: str | Path) -> Iterator[tuple[str, int, int, float]]:
    """(seqid, start, end, value) rows of a bedGraph file (header lines skipped)."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith(("track", "browser", "#")) or not line.strip():
                continue
            seqid, start, end, value = line.rstrip("\n").split("\t")
            yield seqid, int(start), int(end), float(value)
