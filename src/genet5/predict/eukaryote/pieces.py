"""Training pieces: what the self-training passes before the last decode on a large genome
(decoder.find_genes). Over 2 x the bases asked for, a genome trains on evenly spread pieces of
about EukaryoteSettings.train_piece bases instead of all of itself: train_bases, or train_share
of a larger genome, at most train_max_bases; a piece that starts in a record shorter than
itself runs on through the next records (a draft's contigs). Also the bases every pass decodes,
for progress."""

from __future__ import annotations

import numpy as np

from genet5.predict.eukaryote.repeats import RepeatCover, cut_runs
from genet5.predict.eukaryote.settings import EukaryoteSettings


def training_bases(records: list[tuple[str, bytes]], settings: EukaryoteSettings) -> int:
    """Bases the self-training passes read: train_bases, or train_share of a larger genome, at
    most train_max_bases (0: the whole genome)."""
    if settings.train_bases <= 0:
        return 0
    total = sum(len(s) for _, s in records)
    return int(min(max(settings.train_bases, settings.train_share * total), max_training_bases(settings)))


def max_training_bases(settings: EukaryoteSettings) -> float:
    return settings.train_max_bases if settings.train_max_bases > 0 else float("inf")


def training_pieces(records: list[tuple[str, bytes]], settings: EukaryoteSettings,
                    bases: int | None = None) -> list[tuple[str, int, int, int]] | None:
    """Pieces (seqid, record index, start, end; 0-based half-open) of about settings.train_piece
    bases each, about `bases` in all (training_bases by default), evenly spread over the genome
    (records laid end to end), for the self-training passes; None: the genome is small enough to
    train on whole (at most 2 x bases, or bases 0)."""
    total = sum(len(s) for _, s in records)
    bases = training_bases(records, settings) if bases is None else bases
    if bases <= 0 or total <= 2 * bases:
        return None
    size = max(settings.train_piece, settings.min_len)
    n = max(1, -(-bases // size))
    ends = np.cumsum([len(s) for _, s in records])
    out = []
    for i in range(n):
        at = max(0, (2 * i + 1) * total // (2 * n) - size // 2)  # centred in its n-th of the genome
        k = int(np.searchsorted(ends, at, side="right"))
        first = int(ends[k - 1]) if k else 0
        if len(records[k][1]) >= size:  # a piece inside one record
            b = min(len(records[k][1]), at - first + size)
            a = max(0, b - size)
            if not out or out[-1][1] != k or out[-1][3] <= a:
                out.append((records[k][0], k, a, b))
            continue
        # records shorter than a piece (a draft's contigs): this one from `at` on and the next
        # ones until the piece's bases are taken, so the pieces hold the bases asked for (one
        # piece a record made them a contig's length each: 4 Mb asked of a draft of 5-40 kb
        # contigs gave 0.56 Mb)
        a, left = at - first, size
        while left > 0 and k < len(records):
            b = min(len(records[k][1]), a + left)
            left -= b - a
            if out and out[-1][1] == k and out[-1][3] >= a:  # meets the piece before in this record: one piece
                _, _, a0, b0 = out.pop()
                a, b = min(a, a0), max(b, b0)
            if b > a:
                out.append((records[k][0], k, a, b))
            k, a = k + 1, 0
    return out


def planned_bases(records: list[tuple[str, bytes]], settings: EukaryoteSettings | None = None) -> int:
    """Bases find_genes decodes over all its passes (for progress): every record each pass, or
    the training pieces in the passes before the last."""
    settings = settings or EukaryoteSettings()
    rounds = settings.rounds if settings.use_self_training else 0
    return planned_of_pieces(records, training_pieces(records, settings) if rounds else None, rounds)


def planned_of_pieces(records, pieces, rounds: int) -> int:
    """Bases of a seed pass and `rounds` rounds: on `pieces` but the last, or every record."""
    genome = sum(len(s) for _, s in records)
    if pieces is None:
        return genome * (rounds + 1)
    return sum(b - a for *_, a, b in pieces) * rounds + genome


def training_set(records, masks, runs, repeats, pieces):
    """(sequences, soft-masked runs, repeat covers) that the passes before the last decode: the
    records themselves (pieces None) or the pieces (seqid, record index, start, end) cut from them."""
    if pieces is None:
        return records, masks, repeats
    train = [(seqid, records[k][1][a:b]) for seqid, k, a, b in pieces]
    train_masks = [cut_runs(masks[k], a, b) for _, k, a, b in pieces] if masks else masks
    train_repeats = None if repeats is None else [RepeatCover(cut_runs(runs[k], a, b)) for _, k, a, b in pieces]
    return train, train_masks, train_repeats
