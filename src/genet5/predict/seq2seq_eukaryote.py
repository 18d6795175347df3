"""The seq2seq GeneT5 decoder on whole eukaryote sequences: multi-exon genes from overlapping
windows (issue 14; `genet5 predict --domain eukaryote --decoder seq2seq`).

Each window is encoded once and decoded greedily under `PlusGeneConstraint` (GeneConstraint
with GT-AG splice sites, the nuclear start codon, frame, no stop across a junction) writing
plus-strand genes only; the reverse complement is decoded the same way for the minus strand,
so the decoder never chooses a strand (the model is trained on plus-strand targets,
GeneT5Config.target_strands "plus").

A eukaryote gene is often longer than a window, so, unlike a prokaryote gene, it cannot be
completed from the sequence once its start is known: its exons must be stitched across windows.
Windows overlap by half, and each base belongs to the window whose centre is nearest it (the
edges of a window see the least context, as in the per-base track). The genes of a strand are
read as one stream of boundary events (start, donor, acceptor, stop), each taken from the window
that owns its base; where two neighbouring windows meet, they must agree on whether the
meeting base lies in an exon, or a gene crossing it is dropped: one gene is never made of two
windows' different genes (an intron and "no gene" agree: a window lying wholly inside a long
intron writes no gene). A gene's events must come in
the order of a gene (start, then donor-acceptor pairs, then stop); the spliced CDS is then
checked on the sequence (whole codons, a start and a stop codon, no stop inside) and a gene
that fails is dropped. Genes running off a sequence end are kept partial (whole codons up to
the end), as the other decoders write them.

Every gene a window wrote whole is a candidate too, even where another window owns its bases
(the model misses genes, and a window that misses one in its own part need not lose it: on
the five validation eukaryotes, exon F1 0.071 with these against 0.041 without, gene F1 0.018
either way; bench/eukaryote/seq2seq_vs_selftrained.py --ablation). Of
candidates sharing CDS bases (either strand), the one written whole by more windows wins, then
the more confident one (its gene token's log-probability).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from genet5.genome.codes import genetic_code, reverse_complement
from genet5.models.genet5_decoding import GeneConstraint, predict_genes
from genet5.predict.seq2seq import keep_without_clashes, window_batches
from genet5.predict.viterbi_decoder import ViterbiGene, _trim
from genet5.tokenizers.annotation import GeneStructure, Tok

WINDOW, STRIDE = 4096, 2048  # the eukaryote model's training windows; each base seen by two
MIN_INTRON = 30  # as the default eukaryote decoder's floor: shorter "introns" are frameshift fixes
MAX_SHARED_CDS = 0  # CDS bases two genes may share (nuclear genes: none; either strand)

OUT, EXON, INTRON = 0, 1, 2  # what a window says lies at a base


class PlusGeneConstraint(GeneConstraint):
    """`GeneConstraint` (splice sites, frame, start codons) with plus-strand genes only: the
    minus genes are the reverse complement's plus genes."""

    def allowed_types(self, b):
        ok = super().allowed_types(b)
        ok[Tok.GENE_MINUS] = False
        return ok


@dataclass
class _Event:
    pos: int  # 0-based base of the sequence (the oriented one)
    kind: str  # start | donor | acceptor | stop
    score: float  # the gene token's log-probability in the window that wrote it


@dataclass
class _Open:
    """A gene being read from the event stream."""

    cds: list[list[int]] = field(default_factory=list)  # [left, right] 0-based, open right = -1
    partial5: bool = False
    score: float = 0.0


def window_events(genes: Sequence[GeneStructure], offset: int, length: int) -> tuple[list[_Event], list[tuple[int, int, int]]]:
    """One window's plus genes as boundary events and labelled spans, in sequence coordinates
    (``offset``: the window's first base, 0-based; ``length``: its bases). Spans are (left,
    right, EXON or INTRON), closed; a cut gene's intron open at an edge runs to that edge."""
    events: list[_Event] = []
    spans: list[tuple[int, int, int]] = []
    for g in genes:
        if g.strand != "+" or not g.segments:
            continue
        segs = [(a + offset, b + offset) for a, b in g.segments]
        for i, (a, b) in enumerate(segs):
            first, last = i == 0, i == len(segs) - 1
            if not (first and g.cut_left):
                events.append(_Event(a, "start" if first else "acceptor", g.score))
            elif g.segments[0][0] > 0:  # cut at the edge inside an intron: this is an acceptor
                events.append(_Event(a, "acceptor", g.score))
            if not (last and g.cut_right):
                events.append(_Event(b, "stop" if last else "donor", g.score))
            elif g.segments[-1][1] < length - 1:  # cut at the edge inside an intron: this is a donor
                events.append(_Event(b, "donor", g.score))
            spans.append((a, b, EXON))
            if not last:
                spans.append((b + 1, segs[i + 1][0] - 1, INTRON))
        if g.cut_left and g.segments[0][0] > 0:
            spans.append((offset, segs[0][0] - 1, INTRON))
        if g.cut_right and g.segments[-1][1] < length - 1:
            spans.append((segs[-1][1] + 1, offset + length - 1, INTRON))
    return events, spans


def _state_at(spans: list[tuple[int, int, int]], x: int) -> int:
    for a, b, kind in spans:
        if a <= x <= b:
            return kind
    return OUT


def stitch(windows: list[tuple[int, int, list[GeneStructure]]], n: int) -> list[tuple[list[tuple[int, int]], bool, bool, float]]:
    """Genes of one strand from its windows: ``windows`` = (first base 0-based, length, genes)
    in order along a sequence of ``n`` bases. Returns (0-based closed CDS segments left to right,
    5' partial, 3' partial, score) per gene, before any check on the sequence."""
    if not windows:
        return []
    # each base is owned by the window whose centre is nearest: the cut between windows k and
    # k+1 is the middle of their overlap (their centres' midpoint when the windows are equal)
    cuts = [0]
    for (s0, n0, _), (s1, _, _) in zip(windows, windows[1:]):
        cuts.append((s1 + s0 + n0) // 2)
    cuts.append(n)
    stream: list[tuple[int, int, object]] = []  # (pos, order, event or "break")
    prev_spans = None
    for k, (s, length, genes) in enumerate(windows):
        events, spans = window_events(genes, s, length)
        lo, hi = cuts[k], cuts[k + 1]
        stream += [(e.pos, 1, e) for e in events if lo <= e.pos < hi]
        if prev_spans is not None and (_state_at(prev_spans, lo) == EXON) != (_state_at(spans, lo) == EXON):
            # the two windows disagree where they meet (exon or not; an intron and "no gene" may
            # agree: a window lying wholly inside a long intron writes no gene)
            stream.append((lo, 0, "break"))
        if k == 0 and _state_at(spans, 0) != OUT:
            stream.append((0, 0, "open5"))  # a gene runs off the sequence start
        if k == len(windows) - 1 and _state_at(spans, n - 1) != OUT:
            stream.append((n - 1, 2, "open3"))
        prev_spans = spans
    stream.sort(key=lambda t: (t[0], t[1]))
    out = []
    cur: _Open | None = None
    expect = "start"
    for pos, _, ev in stream:
        if ev == "break":
            cur, expect = None, "start"
            continue
        if ev == "open5":
            cur, expect = _Open(partial5=True), "start"  # the state decides below: exon or intron
            continue
        if ev == "open3":
            if cur is not None:
                if expect == "donor":  # inside an exon: runs off the end
                    cur.cds[-1][1] = n - 1
                out.append(([tuple(c) for c in cur.cds if c[1] >= 0], cur.partial5, True, cur.score))
            cur = None
            continue
        if cur is not None and cur.partial5 and not cur.cds:  # first event after a 5' open end
            if ev.kind in ("donor", "stop"):
                cur.cds.append([0, -1])
                expect = "donor"
            elif ev.kind == "acceptor":
                expect = "acceptor"
            cur.score = ev.score
        if ev.kind == "start":
            cur, expect = _Open(cds=[[ev.pos, -1]], score=ev.score), "donor"
        elif cur is None:
            continue
        elif ev.kind in ("donor", "stop") and expect == "donor":
            cur.cds[-1][1] = ev.pos
            if ev.kind == "stop":
                out.append(([tuple(c) for c in cur.cds], cur.partial5, False, cur.score))
                cur, expect = None, "start"
            else:
                expect = "acceptor"
        elif ev.kind == "acceptor" and expect == "acceptor":
            cur.cds.append([ev.pos, -1])
            expect = "donor"
        else:  # out of a gene's order: this gene is not one
            cur, expect = None, "start"
    return [g for g in out if g[0]]


def to_gene(segs, partial5: bool, partial3: bool, score: float, seq_b: bytes, n: int, strand: str,
            code, start_codons: frozenset[bytes], min_gene: int) -> ViterbiGene | None:  # fmt: skip
    """A stitched gene (0-based segments on the oriented sequence) as a ViterbiGene on the
    given sequence (1-based, transcription order), partial ends trimmed to whole codons, or
    None when its spliced CDS is not a gene."""
    if strand == "+":
        cds = [(a + 1, b + 1) for a, b in segs]
    else:
        cds = [(n - b, n - a) for a, b in segs]  # transcription order kept: right to left on the sequence
    g = ViterbiGene(strand, cds, score, start_partial=partial5, end_partial=partial3)
    total = g.cds_length
    if partial5 and partial3:
        return None  # no frame known from either end
    if partial5:
        _trim(g, five=total % 3)
    elif partial3:
        _trim(g, three=total % 3)
    if not g.cds or g.cds_length % 3 or (g.cds_length < min_gene and not (partial5 or partial3)):
        return None
    if not _introns_ok(sorted(g.cds), seq_b, strand):
        return None
    parts = [seq_b[a - 1 : b] for a, b in sorted(g.cds)]
    spliced = b"".join(parts)
    if strand == "-":
        spliced = reverse_complement(spliced)
    codons = [spliced[i : i + 3] for i in range(0, len(spliced), 3)]
    if not partial5 and codons[0] not in start_codons:
        return None
    if not partial3 and codons[-1] not in code.stops:
        return None
    if any(c in code.stops for c in (codons if partial3 else codons[:-1])):
        return None
    g.start_codon = "" if partial5 else codons[0].decode()
    return g


def _introns_ok(segs: list[tuple[int, int]], seq_b: bytes, strand: str) -> bool:
    """GT-AG introns (CT-AC read on +, for a - gene) of at least MIN_INTRON bases between the
    1-based segments in genomic order: each window's constraint holds this, an intron stitched
    from two windows' boundaries is checked here."""
    first2, last2 = (b"GT", b"AG") if strand == "+" else (b"CT", b"AC")  # the intron's ends read on +
    for (_, b), (c, _) in zip(segs, segs[1:]):
        if c - b - 1 < MIN_INTRON or seq_b[b : b + 2] != first2 or seq_b[c - 3 : c - 1] != last2:
            return False
    return True


def _decode_strand(model, seq_b: bytes, *, code: int, window: int, stride: int, batch: int, start_codons,
                   max_steps: int, on_bases) -> list[tuple[int, int, list[GeneStructure]]]:  # fmt: skip
    out: list[tuple[int, int, list[GeneStructure]]] = []
    done = 0
    for chunk, ids, pad, dna in window_batches(seq_b, window, stride, batch):
        constraint = PlusGeneConstraint(dna, genetic_code_id=code, start_codons=start_codons, min_intron=MIN_INTRON)
        with torch.no_grad():
            decoded = predict_genes(model, ids, pad, constraint=constraint, max_steps=max_steps)
        out += [(s - 1, e - s + 1, genes) for (s, e), genes in zip(chunk, decoded)]
        if on_bases is not None:
            on_bases((chunk[-1][1] - done) / 2)  # two passes over the sequence
            done = chunk[-1][1]
    return out


def decode_eukaryote_sequence(
    model,
    seq: str | bytes,
    *,
    code: int = 1,
    window: int = WINDOW,
    stride: int = STRIDE,
    batch: int = 4,
    start_codons: Sequence[str] = ("ATG",),
    max_steps: int = 384,
    min_gene: int = 90,
    on_bases: Callable[[float], None] | None = None,
    whole_window_genes: bool = True,
) -> list[ViterbiGene]:
    """Multi-exon genes of one sequence, both strands, sorted by position (see the module
    docstring). Every gene returned is a valid gene of the sequence: whole codons, a start codon
    of ``start_codons`` unless 5' partial, a stop unless 3' partial, no stop inside, GT-AG
    introns of at least MIN_INTRON bases, at least ``min_gene`` CDS bases when complete.
    ``whole_window_genes`` False: only the genes stitched from the windows' owned parts (the
    ablation of `candidates`)."""
    seq_b = (seq.encode() if isinstance(seq, str) else bytes(seq)).upper()
    n = len(seq_b)
    gc = genetic_code(code)
    starts = frozenset(s.encode() for s in start_codons)
    kw = dict(code=code, window=window, stride=stride, batch=batch, start_codons=tuple(start_codons),
              max_steps=max_steps, on_bases=on_bases)  # fmt: skip
    genes: list[ViterbiGene] = []
    support: list[int] = []
    for strand, oriented in (("+", seq_b), ("-", reverse_complement(seq_b))):
        decoded = _decode_strand(model, oriented, **kw)
        found = (candidates(decoded, n) if whole_window_genes
                 else {(tuple(g[0]), g[1], g[2]): [g[3], 0] for g in stitch(decoded, n)})  # fmt: skip
        for (segs, p5, p3), (score, windows) in found.items():
            g = to_gene(list(segs), p5, p3, score, seq_b, n, strand, gc, starts, min_gene)
            if g is not None:
                genes.append(g)
                support.append(windows)
    return without_cds_conflicts(genes, rank=[(w, g.score) for g, w in zip(genes, support)])


def candidates(windows: list[tuple[int, int, list[GeneStructure]]], n: int) -> dict[tuple, list]:
    """(segments, 5' partial, 3' partial) -> [confidence, windows that wrote it whole] for one
    strand: the genes stitched from the windows' owned parts (`stitch`), and every gene a window
    wrote whole, even where another window owns its bases (a window that misses a gene in its
    own part need not lose it)."""
    out: dict[tuple, list] = {}
    for segs, p5, p3, score in stitch(windows, n):
        out[(tuple(segs), p5, p3)] = [score, 0]
    for s, _, genes in windows:
        for g in genes:
            if g.strand == "+" and g.segments and not (g.cut_left or g.cut_right):
                c = out.setdefault((tuple((a + s, b + s) for a, b in g.segments), False, False), [g.score, 0])
                c[0], c[1] = max(c[0], g.score), c[1] + 1
    return out


def without_cds_conflicts(genes: list[ViterbiGene], max_shared: int = MAX_SHARED_CDS,
                          rank: list | None = None) -> list[ViterbiGene]:  # fmt: skip
    """Best ranked first (``rank``, one sortable per gene, default the gene's confidence), a gene
    is kept when it shares at most ``max_shared`` CDS bases with every gene kept before it
    (either strand): the two passes never saw each other's genes, windows wrote different
    versions of one gene, and one coding region read on both strands is one gene."""
    rank = [g.score for g in genes] if rank is None else rank
    return keep_without_clashes(genes, rank, lambda k, g: _shared(g, k) > max_shared)


def _shared(g: ViterbiGene, k: ViterbiGene) -> int:
    return sum(max(0, min(b, d) - max(a, c) + 1) for a, b in g.cds for c, d in k.cds)


__all__ = ["PlusGeneConstraint", "WINDOW", "STRIDE", "candidates", "decode_eukaryote_sequence", "stitch", "to_gene",
           "window_events", "without_cds_conflicts"]
