"""The seq2seq GeneT5 decoder on whole sequences, prokaryotes first (issue 14; `genet5 predict
--decoder seq2seq` runs it through predict/seq2seq_decoder.py).

Each sequence is cut into overlapping windows (bake's geometry); each window is encoded once
and decoded greedily under `SingleExonConstraint` (GeneConstraint with no splice sites and a
shortest gene), so every gene a window emits is one segment of at least ``min_gene`` bases
with a start codon of the given set, the first in-frame stop after it, no internal stop, and a
length that is a multiple of 3 (or it runs off a window edge). Genes are then put back on the sequence:

- a gene is known by its **start**: in a prokaryote the stop is the first in-frame stop after
  it, so a gene whose start lies in a window is completed from the sequence itself when the
  window cut it (its stop beyond the edge); a gene whose start lies outside the window (cut at
  its 5' end) is left to the window that holds its start;
- windows overlap, so one stop may be claimed by several windows with different starts: the
  start chosen is the one decoded by the window in which it lies farthest from an edge (the same
  rule as the per-base track's "farthest from an edge");
- a gene that runs off an end of the sequence (no stop before it, or its start beyond it) is
  kept partial, whole codons up to that end, as Prodigal writes such genes.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from genet5.data.bake import window_starts
from genet5.genome.codes import genetic_code, reverse_complement
from genet5.models.genet5_decoding import _NONE, GeneConstraint, predict_genes
from genet5.tokenizers.annotation import ROLES, Tok
from genet5.tokenizers.nucleotide import NucleotideTokenizer

PROKARYOTE_STARTS = ("ATG", "GTG", "TTG")
# the longest overlap of two genes on opposite strands kept (Prodigal's limit for them)
OPPOSITE_OVERLAP = 200
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
    confidence: float = 0.0  # log-probability of its gene token (the model's "another gene here")


class SingleExonConstraint(GeneConstraint):
    """`GeneConstraint` without splice sites and with a shortest gene: a complete gene is at
    least ``min_gene`` bases (stop included; 90 as `genet5 predict --min-gene-length` and
    Prodigal). On + a start is offered only if its first in-frame stop is far enough (or there
    is none in the window); on - a stop only if a start codon in frame lies far enough from it
    before the next in-frame stop (or none follows), and then only such starts: so the decoder
    never reaches a dead end, and a start that would make a short gene gives way to the next
    best pointer instead of a short gene. A gene cut at the left edge must end (+: its stop; -:
    its start codon) before any other stop of its frame."""

    def __init__(self, dna, *, min_gene: int = 90, plus_only: bool = False, **kwargs):
        super().__init__(dna, donors=(), acceptors=(), **kwargs)
        self.min_gene = min_gene
        self.plus_only = plus_only  # GENE_MINUS never offered (minus genes: decode the reverse complement)

    def allowed_types(self, b):
        ok = super().allowed_types(b)
        if self.plus_only:
            ok[Tok.GENE_MINUS] = False
        return ok

    def same_gene(self, b: int, tok: int, p: int) -> np.ndarray:
        """Positions naming the same gene as a first boundary at ``p`` (decode_greedy's
        first_pointer_margin): on + the start codons of p's ORF (same frame, between the stop
        before p and the stop after it); on - the stop is the gene's, so only p."""
        L = self.lengths[b]
        out = np.zeros(L, dtype=bool)
        if Tok(int(tok)) != Tok.CDS_START:
            out[p] = True
            return out
        stop = self.signals[b].stop_at["+"][:L]
        frame = np.arange(L) % 3 == p % 3
        before = np.flatnonzero(stop[:p] & frame[:p])
        lo = before[-1] + 3 if len(before) else 0
        nxt = int(self.signals[b].next_stop["+"][p])
        out[lo : min(nxt, L)] = True
        return out & frame

    def _ptr_mask(self, b, s, tok):
        mask = super()._ptr_mask(b, s, tok)
        if not (self.check_frame and mask.any()):
            return mask
        if s.expect == "first" and tok == Tok.CDS_START and s.strand == "+":
            cand = np.flatnonzero(mask)
            q = self._inframe_stop_for(b, "+", cand, 0, 0)
            mask[cand[(q < _NONE) & (q + 3 - cand < self.min_gene)]] = False
        elif s.expect == "first" and tok == Tok.CDS_END and s.strand == "-":
            cand = np.flatnonzero(mask)
            L = self.lengths[b]
            q = self._inframe_stop_for(b, "-", cand, 0, 0)  # the next in-frame stop after it
            free = q >= _NONE  # none: the gene may run off the right edge
            lo = np.minimum(cand + self.min_gene - 1, L)  # right end of the start codon, r >= lo
            hi = np.maximum(np.minimum(np.where(free, L, q), L), lo)  # r < q: before that stop
            c3 = self.signals[b].cum3[("-", Tok.CDS_START)]
            res = (cand + 2) % 3  # whole codons: r - cand + 1 = 0 (mod 3)
            mask[cand[~free & (c3[res, hi] - c3[res, lo] == 0)]] = False
        elif s.expect == "right" and tok == Tok.CDS_START and s.strand == "-" and s.framed and s.n_segments == 0:
            mask &= np.arange(len(mask)) - s.seg_left + 1 >= self.min_gene
        elif s.expect == "after_cut" and tok == ROLES[s.strand].right_last:
            # a gene cut at the left edge has no frame of its own, but no stop of the frame it
            # reads in may lie between the edge and its end: on + its stop is the first stop of
            # its frame from the edge, on - no stop of its start codon's frame lies before it
            cand = np.flatnonzero(mask)
            nxt = self.signals[b].next_stop[s.strand]
            if s.strand == "+":
                q = cand - 2  # first base of the stop codon
                ok = (q >= 0) & (nxt[np.maximum(q, 0) % 3] == q)
            else:
                ok = nxt[(cand - 2) % 3] >= cand - 2
            mask[cand[~ok]] = False
        return mask


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


def default_strands(model) -> str:
    """How to decode a model: "plus_rc" for one trained on plus-strand genes only
    (GeneT5Config.target_strands "plus"), else "both"."""
    return "plus_rc" if getattr(getattr(model, "config", None), "target_strands", "both") == "plus" else "both"


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
    min_gene: int = 90,
    strands: str | None = None,
    first_pointer_margin: float | None = None,
    on_bases=None,
    max_opposite_overlap: int = OPPOSITE_OVERLAP,
) -> list[Seq2SeqGene]:
    """Genes of one sequence (prokaryote: single-exon, at least ``min_gene`` bases), sorted by
    position. ``strands`` (None: the model's own, `default_strands`): "both" decodes each window once, both gene tokens allowed;
    "plus_rc" decodes the sequence and its reverse complement with plus-strand genes only (the
    minus genes are the reverse complement's plus genes), so the decoder never chooses a strand;
    genes of the two passes overlapping on opposite strands by more than
    ``max_opposite_overlap`` bases are resolved by confidence (`without_strand_conflicts`).
    ``first_pointer_margin``: see `decode_greedy` (None: plain greedy). ``on_bases(n)``:
    progress, in bases of the sequence. Genes that break the output contract (`valid_gene`)
    are dropped, a guard: the constraint should never emit one."""
    strands = default_strands(model) if strands is None else strands
    if strands not in ("both", "plus_rc"):
        raise ValueError(f"strands must be 'both' or 'plus_rc', not {strands!r}")
    seq_b = (seq.encode() if isinstance(seq, str) else bytes(seq)).upper()
    kw = dict(code=code, window=window, stride=stride, batch=batch, start_codons=start_codons,
              max_steps=max_steps, min_gene=min_gene, first_pointer_margin=first_pointer_margin)  # fmt: skip
    if strands == "both":
        best = _decode_windows(model, seq_b, plus_only=False, on_bases=on_bases, **kw)
    else:
        half = None if on_bases is None else (lambda k: on_bases(k / 2))  # two passes over the sequence
        best = {k: g for k, g in _decode_windows(model, seq_b, plus_only=True, on_bases=half, **kw).items()}
        n = len(seq_b)
        for (_, end), g in _decode_windows(model, reverse_complement(seq_b), plus_only=True, on_bases=half, **kw).items():
            best[("-", n + 1 - end)] = Seq2SeqGene("-", n + 1 - g.end, n + 1 - g.start, g.start_codon,
                                                   g.start_partial, g.end_partial, score=g.score,
                                                   confidence=g.confidence)  # fmt: skip
    genes = [g for g in best.values() if valid_gene(g, seq_b, code, start_codons)]
    if strands == "plus_rc":  # the two passes never saw each other's genes
        genes = without_strand_conflicts(genes, max_opposite_overlap)
    return sorted(genes, key=lambda g: (g.start, g.end, g.strand))


def without_strand_conflicts(genes: list[Seq2SeqGene], max_overlap: int) -> list[Seq2SeqGene]:
    """The genes kept, most confident first, when no kept gene on the other strand overlaps
    them by more than ``max_overlap`` bases: one ORF's antisense shadow, written by the pass
    over the other strand, gives way to the gene the model was surer of."""

    def clash(k: Seq2SeqGene, g: Seq2SeqGene) -> bool:
        return k.strand != g.strand and min(k.end, g.end) - max(k.start, g.start) + 1 > max_overlap

    return keep_without_clashes(genes, [g.confidence for g in genes], clash)


def keep_without_clashes(genes: list, rank: list, clash) -> list:
    """Best ``rank`` first, each gene kept unless ``clash(kept, gene)`` with a kept gene whose
    span (``start``..``end``) meets its own; sorted by position. Only kept genes starting
    within the longest kept span before it are looked at (a sorted list and bisection)."""
    kept = []
    starts: list[int] = []  # kept genes' starts, sorted, for the overlap look-up
    by_start: list = []
    longest = 0
    for i in sorted(range(len(genes)), key=lambda i: rank[i], reverse=True):
        g = genes[i]
        j = bisect.bisect_right(starts, g.end)  # kept genes starting after g cannot meet it
        hit = False
        while j > 0 and starts[j - 1] >= g.start - longest:  # only these can reach g
            j -= 1
            k = by_start[j]
            if k.end >= g.start and clash(k, g):
                hit = True
                break
        if not hit:
            j = bisect.bisect_right(starts, g.start)
            starts.insert(j, g.start)
            by_start.insert(j, g)
            longest = max(longest, g.end - g.start + 1)
            kept.append(g)
    return sorted(kept, key=lambda g: (g.start, g.end, g.strand))


def window_batches(seq_b: bytes, window: int, stride: int, batch: int):
    """The overlapping windows of ``seq_b`` (bake's geometry, the last one aligned to the end),
    ``batch`` at a time: (1-based closed spans, encoder ids, padding mask, each window's DNA)."""
    spans = window_starts(len(seq_b), window, window - stride)
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
        yield chunk, ids, pad, dna


def _decode_windows(model, seq_b: bytes, *, code, window, stride, batch, start_codons, max_steps, min_gene,
                    plus_only, first_pointer_margin=None, on_bases=None) -> dict[tuple[str, int], Seq2SeqGene]:  # fmt: skip
    """(strand, stop's outer base) -> gene, over the overlapping windows of ``seq_b``. A gene
    that runs off an end of the sequence is kept as a partial gene (whole codons up to the end),
    as Prodigal writes them; one cut by a window edge inside the sequence is completed or left
    to the window that holds its start."""
    gc = genetic_code(code)
    best: dict[tuple[str, int], Seq2SeqGene] = {}
    done = 0
    for chunk, ids, pad, dna in window_batches(seq_b, window, stride, batch):
        constraint = SingleExonConstraint(dna, genetic_code_id=code, start_codons=start_codons, min_gene=min_gene,
                                          plus_only=plus_only)  # fmt: skip
        with torch.no_grad():
            decoded = predict_genes(model, ids, pad, constraint=constraint, max_steps=max_steps,
                                    **({} if first_pointer_margin is None else {"first_pointer_margin": first_pointer_margin}))
        for (s, e), genes in zip(chunk, decoded):
            for g in genes:
                gene = _on_sequence(g, seq_b, s, e, gc.stops) if len(g.segments) == 1 else None
                if gene is None or gene.end - gene.start + 1 < min_gene:  # completed past the window: still short
                    continue
                key = (gene.strand, gene.end if gene.strand == "+" else gene.start)
                if key not in best or gene.score > best[key].score:
                    best[key] = gene
        if on_bases is not None:
            on_bases(chunk[-1][1] - done)
            done = chunk[-1][1]
    return best


def _on_sequence(g, seq_b: bytes, s: int, e: int, stops) -> Seq2SeqGene | None:
    """One window gene (window 1-based [s, e] of the sequence) on the sequence, or None when its
    start lies in another window. Its score is its start's distance from the window's edges."""
    n, n_seq = e - s + 1, len(seq_b)
    a, b = g.segments[0]
    if g.strand == "+":
        if g.cut_left and g.cut_right:
            return None  # no frame known
        if g.cut_left:
            if s != 1:
                return None  # its start lies in another window
            # 5' partial: runs off the sequence start; the constraint made its stop the first
            # of its frame from the edge, so its first whole codon starts at (stop) mod 3
            start0, edge, partial5 = (s - 1 + b - 2) % 3, 0, True
        else:
            start0, edge, partial5 = s - 1 + a, min(a, n - 1 - a), False
        stop0 = s - 1 + b - 2 if not g.cut_right else _first_stop(seq_b, start0, "+", stops)
        end = stop0 + 3 if stop0 is not None else start0 + 3 * ((n_seq - start0) // 3)  # none: 3' partial
        codon = seq_b[start0 : start0 + 3].decode()
        return Seq2SeqGene("+", start0 + 1, end, codon, partial5, stop0 is None, score=edge, confidence=g.score)
    if g.cut_left and g.cut_right:
        return None
    if g.cut_right:
        if e != n_seq:
            return None
        stop0 = s - 1 + a  # 5' partial on -: its last whole codon ends at or before the sequence end
        start0, edge, partial5 = stop0 + 3 * ((n_seq - stop0) // 3) - 1, 0, True
    else:
        start0, edge, partial5 = s - 1 + b, min(b, n - 1 - b), False  # the last base of the start codon
        stop0 = s - 1 + a if not g.cut_left else _first_stop(seq_b, start0, "-", stops)
    left = stop0 if stop0 is not None else (start0 + 1) % 3  # none: 3' partial, whole codons to base 1
    codon = reverse_complement(seq_b[start0 - 2 : start0 + 1]).decode()
    return Seq2SeqGene("-", left + 1, start0 + 1, codon, partial5, stop0 is None, score=edge, confidence=g.score)


def valid_gene(g: Seq2SeqGene, seq_b: bytes, code: int, start_codons: Sequence[str]) -> bool:
    """The output contract, checked on the sequence: whole codons, a start codon unless 5'
    partial, a stop codon at the end unless 3' partial, no stop inside."""
    cds = seq_b[g.start - 1 : g.end]
    if g.strand == "-":
        cds = reverse_complement(cds)
    if len(cds) % 3 or len(cds) < 6:
        return False
    stops = genetic_code(code).stops
    codons = [cds[i : i + 3] for i in range(0, len(cds), 3)]
    if not g.start_partial and codons[0].decode() not in start_codons:
        return False
    body = codons if g.end_partial else codons[:-1]
    return (g.end_partial or codons[-1] in stops) and not any(c in stops for c in body)


__all__ = ["PROKARYOTE_STARTS", "Seq2SeqGene", "SingleExonConstraint", "decode_sequence", "default_strands", "valid_gene",
           "keep_without_clashes", "window_batches",
           "without_strand_conflicts"]
