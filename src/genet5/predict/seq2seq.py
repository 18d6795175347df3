"""The seq2seq GeneT5 decoder on whole sequences, prokaryotes first (issue 14; not yet a
`genet5 predict --decoder` line).

Each sequence is cut into overlapping windows (bake's geometry); each window is encoded once
and decoded greedily under `GeneConstraint` with no splice sites (donors and acceptors empty),
so every gene a window emits is one segment with a start codon of the given set, the first
in-frame stop after it, no internal stop, and a length that is a multiple of 3 (or it runs off
a window edge). Genes are then put back on the sequence:

- a gene is known by its **start**: in a prokaryote the stop is the first in-frame stop after
  it, so a gene whose start lies in a window is completed from the sequence itself when the
  window cut it (its stop beyond the edge); a gene whose start lies outside the window (cut at
  its 5' end) is left to the window that holds its start;
- windows overlap, so one stop may be claimed by several windows with different starts: the
  start chosen is the one decoded by the window in which it lies farthest from an edge (the same
  rule as the per-base track's "farthest from an edge"); genes that run off the sequence end
  without a stop are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from genet5.data.bake import window_starts
from genet5.genome.codes import genetic_code, reverse_complement
from genet5.models.genet5_decoding import GeneConstraint, predict_genes
from genet5.tokenizers.nucleotide import NucleotideTokenizer

PROKARYOTE_STARTS = ("ATG", "GTG", "TTG")
_TOKENIZER = NucleotideTokenizer()


@dataclass(frozen=True)
class Seq2SeqGene:
    """One predicted gene, 1-based closed CDS (stop codon included), like the other decoders'."""

    strand: str
    start: int
    end: int
    start_codon: str
    start_partial: bool = False
    end_partial: bool = False
    score: float = 0.0  # distance (bases) of the start from the nearest edge of its window


def _first_stop(seq: bytes, frame_from: int, strand: str, stops: frozenset[bytes]) -> int | None:
    """0-based index of the first base of the first in-frame stop codon reading away from the
    start codon at ``frame_from`` (its first base on +, its last base on -), or None."""
    if strand == "+":
        for q in range(frame_from + 3, len(seq) - 2, 3):
            if seq[q : q + 3] in stops:
                return q
        return None
    rc_stops = {reverse_complement(s) for s in stops}
    for q in range(frame_from - 5, -1, -3):  # q: leftmost base of a codon read on -
        if seq[q : q + 3] in rc_stops:
            return q
    return None


def decode_sequence(
    model,
    seq: str | bytes,
    *,
    code: int = 11,
    window: int = 2048,
    stride: int = 1024,
    batch: int = 8,
    start_codons: Sequence[str] = PROKARYOTE_STARTS,
    max_steps: int = 256,
) -> list[Seq2SeqGene]:
    """Genes of one sequence (prokaryote: single-exon), sorted by position."""
    seq_b = (seq.encode() if isinstance(seq, str) else bytes(seq)).upper()
    gc = genetic_code(code)
    spans = window_starts(len(seq_b), window, window - stride)
    best: dict[tuple[str, int], Seq2SeqGene] = {}  # (strand, stop end) -> gene
    for i in range(0, len(spans), batch):
        chunk = spans[i : i + batch]
        n_max = max(e - s + 1 for s, e in chunk)
        ids = torch.zeros((len(chunk), n_max), dtype=torch.long)
        pad = torch.ones((len(chunk), n_max), dtype=torch.bool)
        dna = []
        for j, (s, e) in enumerate(chunk):
            part = seq_b[s - 1 : e]
            ids[j, : len(part)] = torch.from_numpy(_TOKENIZER.encode(part, dtype=np.int64))
            pad[j, : len(part)] = False
            dna.append(part)
        constraint = GeneConstraint(dna, genetic_code_id=code, start_codons=start_codons, donors=(), acceptors=())
        with torch.no_grad():
            decoded = predict_genes(model, ids, pad, constraint=constraint, max_steps=max_steps)
        for (s, e), genes in zip(chunk, decoded):
            n = e - s + 1
            for g in genes:
                if len(g.segments) != 1:
                    continue
                a, b = g.segments[0]
                if g.strand == "+":
                    if g.cut_left:
                        continue  # its start lies in another window
                    start0, edge = s - 1 + a, min(a, n - 1 - a)
                    stop0 = s - 1 + b - 2 if not g.cut_right else _first_stop(seq_b, start0, "+", gc.stops)
                    if stop0 is None:
                        continue
                    gene = Seq2SeqGene("+", start0 + 1, stop0 + 3, seq_b[start0 : start0 + 3].decode(), score=edge)
                    key = ("+", gene.end)
                else:
                    if g.cut_right:
                        continue
                    start0, edge = s - 1 + b, min(b, n - 1 - b)  # the last base of the start codon
                    stop0 = s - 1 + a if not g.cut_left else _first_stop(seq_b, start0, "-", gc.stops)
                    if stop0 is None:
                        continue
                    codon = reverse_complement(seq_b[start0 - 2 : start0 + 1]).decode()
                    gene = Seq2SeqGene("-", stop0 + 1, start0 + 1, codon, score=edge)
                    key = ("-", gene.start)
                if key not in best or gene.score > best[key].score:
                    best[key] = gene
    return sorted(best.values(), key=lambda g: (g.start, g.end, g.strand))


__all__ = ["PROKARYOTE_STARTS", "Seq2SeqGene", "decode_sequence"]
