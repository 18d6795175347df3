"""The GeneT5 annotation codec: gene structures <-> (token type, pointer) sequences.

The decoder never writes a number. Each output step is a *token type* from the small
structural vocabulary below, and the four boundary types also carry a *pointer*: an index into
the window's bases (0-based), chosen by attention over the base-resolution encoder states.

Genes are written in genomic (left-to-right) order, sorted by their leftmost CDS base, and each
gene's CDS segments are written left to right as (left boundary, right boundary) pairs. The
boundary token says what biology sits there, which depends on the strand:

    segment side         plus strand    minus strand
    left of first seg    CDS_START      CDS_END     (minus: leftmost base of the stop codon)
    left of other segs   ACCEPTOR       DONOR
    right of other segs  DONOR          ACCEPTOR
    right of last seg    CDS_END        CDS_START   (plus: last base of the stop codon)

Every pointer names a CDS base (the exon side of a splice site), stop codons included.
Example, a two-exon minus-strand gene with CDS [10,40] and [100,150] (window coordinates):

    BOS GENE_MINUS CDS_END@10 ACCEPTOR@40 DONOR@100 CDS_START@150 EOS

Genes cut by the window edge: ``CUT_LEFT`` (no pointer) replaces the missing left boundary
and is followed either by a right-side token (the window starts inside an exon) or by an inner
left token (it starts inside an intron); ``CUT_RIGHT`` likewise ends a gene running past the
right edge. A window lying wholly inside an exon is ``GENE_x CUT_LEFT CUT_RIGHT``; a gene with
no CDS base in the window is not written.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

IGNORE = -100  # "no pointer here" / "no target", as in torch cross_entropy


class Tok(enum.IntEnum):
    PAD = 0
    BOS = 1
    EOS = 2
    GENE_PLUS = 3
    GENE_MINUS = 4
    CDS_START = 5
    CDS_END = 6
    DONOR = 7
    ACCEPTOR = 8
    CUT_LEFT = 9
    CUT_RIGHT = 10


NUM_TOKEN_TYPES = len(Tok)
POINTER_TOKENS = frozenset({Tok.CDS_START, Tok.CDS_END, Tok.DONOR, Tok.ACCEPTOR})


@dataclass(frozen=True)
class StrandRoles:
    """Boundary token for each segment side, in genomic order (see module docstring)."""

    left_first: Tok
    left_inner: Tok
    right_inner: Tok
    right_last: Tok


ROLES = {
    "+": StrandRoles(Tok.CDS_START, Tok.ACCEPTOR, Tok.DONOR, Tok.CDS_END),
    "-": StrandRoles(Tok.CDS_END, Tok.DONOR, Tok.ACCEPTOR, Tok.CDS_START),
}
GENE_TOKEN = {"+": Tok.GENE_PLUS, "-": Tok.GENE_MINUS}


class BaseClass(enum.IntEnum):
    """Per-base classes of the encoder's auxiliary head (Helixer / Tiberius style).

    CDS frames are the codon position of the base in the direction of transcription (0 = first
    base of a codon), so they read the same on both strands; the strand itself is not a class.
    Where transcripts overlap, CDS wins over UTR, UTR over intron.
    """

    INTERGENIC = 0
    CDS_FRAME0 = 1
    CDS_FRAME1 = 2
    CDS_FRAME2 = 3
    INTRON = 4
    UTR = 5


NUM_BASE_CLASSES = len(BaseClass)


@dataclass
class GeneStructure:
    """One coding transcript inside a window: 0-based closed segments in genomic order."""

    strand: str
    segments: list[tuple[int, int]] = field(default_factory=list)
    cut_left: bool = False  # the first segment (or an intron) runs past the left edge
    cut_right: bool = False
    score: float = field(default=0.0, compare=False)  # decoded genes: their gene token's log-probability


# -- structures -> tokens -------------------------------------------------------------------
def encode_genes(genes: Sequence[GeneStructure], length: int) -> tuple[list[int], list[int]]:
    """Target (types, pointers) for a window of ``length`` bases, ending in EOS.

    Pointers are IGNORE on pointer-less tokens. With ``cut_left``, a first segment starting at
    base 0 is an exon open at the edge (no left token); one starting later follows an intron
    open at the edge (its left token is written). ``cut_right`` mirrors this at ``length - 1``.
    """
    types: list[int] = []
    ptrs: list[int] = []

    def put(t: Tok, p: int = IGNORE) -> None:
        types.append(int(t))
        ptrs.append(int(p))

    for g in sorted(genes, key=gene_sort_key):
        if not g.segments:
            raise ValueError("a gene structure needs at least one segment")
        roles = ROLES[g.strand]
        put(GENE_TOKEN[g.strand])
        n = len(g.segments)
        for i, (a, b) in enumerate(g.segments):
            if not 0 <= a <= b < length:
                raise ValueError(f"segment ({a}, {b}) outside window of length {length}")
            first, last = i == 0, i == n - 1
            if first and g.cut_left:
                put(Tok.CUT_LEFT)
                if a > 0:
                    put(roles.left_inner, a)
            else:
                put(roles.left_first if first else roles.left_inner, a)
            if last and g.cut_right:
                if b < length - 1:
                    put(roles.right_inner, b)
                put(Tok.CUT_RIGHT)
            else:
                put(roles.right_last if last else roles.right_inner, b)
    put(Tok.EOS)
    return types, ptrs


def gene_sort_key(g: GeneStructure) -> tuple[int, int]:
    """Genomic order: by leftmost CDS base (a cut-left gene counts as starting at 0)."""
    return (0 if g.cut_left else g.segments[0][0], g.segments[-1][1])


def shift_right(types: Sequence[int], ptrs: Sequence[int]) -> tuple[list[int], list[int]]:
    """Teacher-forcing decoder inputs: BOS then the targets minus the last one."""
    return [int(Tok.BOS)] + list(types[:-1]), [IGNORE] + list(ptrs[:-1])


# -- tokens -> structures -------------------------------------------------------------------
def decode_genes(types: Iterable[int], ptrs: Iterable[int], length: int,
                 scores: Sequence[float] | None = None) -> list[GeneStructure]:
    """Parse a decoded sequence back into genes; malformed genes are dropped, not guessed.
    ``scores`` (one per token): each gene's score is its gene token's.

    Stops at EOS. A gene is complete when its strand's last right-side token or CUT_RIGHT
    arrives; a token that does not fit the grammar discards the gene being read.
    """
    genes: list[GeneStructure] = []
    cur: GeneStructure | None = None
    open_left = 0  # left end of the segment being read
    expect = "gene"
    for k, (t, p) in enumerate(zip(types, ptrs)):
        t, p = int(t), int(p)
        if t == Tok.EOS:
            break
        if t in (Tok.GENE_PLUS, Tok.GENE_MINUS):
            cur, expect = GeneStructure("+" if t == Tok.GENE_PLUS else "-"), "first"
            cur.score = 0.0 if scores is None else float(scores[k])
            continue
        if cur is None:
            continue
        r = ROLES[cur.strand]
        if t == Tok.CUT_LEFT and expect == "first":
            cur.cut_left, open_left, expect = True, 0, "after_cut"
        elif t == Tok.CUT_RIGHT and expect in ("right", "after_cut", "left_inner"):
            if expect != "left_inner":  # inside an exon: it runs to the edge
                cur.segments.append((open_left, length - 1))
            cur.cut_right = True
            genes.append(cur)
            cur, expect = None, "gene"
        elif (t == r.left_first and expect == "first") or (
            t == r.left_inner and expect in ("left_inner", "after_cut")
        ):
            if cur.segments and p <= cur.segments[-1][1]:
                cur, expect = None, "gene"
                continue
            open_left, expect = p, "right"
        elif t in (r.right_inner, r.right_last) and expect in ("right", "after_cut") and p >= open_left:
            cur.segments.append((open_left, p))
            if t == r.right_last:
                genes.append(cur)
                cur, expect = None, "gene"
            else:
                expect = "left_inner"
        else:
            cur, expect = None, "gene"
    return [g for g in genes if g.segments]


def plus_strand_target(types: Sequence[int], ptrs: Sequence[int], length: int) -> tuple[list[int], list[int]]:
    """The target (types, pointers) with only its plus-strand genes (GeneT5Config.target_strands
    "plus": the reverse complement's window carries the minus genes as plus genes)."""
    return encode_genes([g for g in decode_genes(types, ptrs, length) if g.strand == "+"], length)


# -- gene models (genet5.genome.models) -> window targets -----------------------------------
def _clip_transcript(tx, win_start: int, length: int) -> GeneStructure | None:
    """CDS of one transcript clipped to the window [win_start, win_start+length) (1-based)."""
    segs = sorted((s.start - win_start, s.end - win_start) for s in tx.cds)
    inside = [(max(a, 0), min(b, length - 1)) for a, b in segs if b >= 0 and a < length]
    if not inside:
        return None
    return GeneStructure(
        strand=tx.strand,
        segments=inside,
        cut_left=segs[0][0] < 0,
        cut_right=segs[-1][1] >= length,
    )


def transcripts_to_genes(transcripts: Iterable, win_start: int, length: int) -> list[GeneStructure]:
    """Decoder targets for a window starting at 1-based ``win_start``, ``length`` bases long.

    One transcript per gene (the longest CDS; the decoder predicts one isoform). Skipped:
    non-coding, pseudo, unusual-order (trans-spliced / origin-crossing) transcripts, and
    annotated partial CDS whose open end lies inside the window (it has no start/stop to
    point at); their bases still get per-base labels.
    """
    best: dict[str, object] = {}
    for tx in transcripts:
        if not tx.is_coding or tx.pseudo or tx.unusual_order:
            continue
        if tx.gene_id not in best or tx.cds_length > best[tx.gene_id].cds_length:
            best[tx.gene_id] = tx
    genes = []
    for tx in best.values():
        g = _clip_transcript(tx, win_start, length)
        if g is None:
            continue
        left_partial = tx.start_partial if tx.strand == "+" else tx.end_partial
        right_partial = tx.end_partial if tx.strand == "+" else tx.start_partial
        if (left_partial and not g.cut_left) or (right_partial and not g.cut_right):
            continue
        genes.append(g)
    return sorted(genes, key=gene_sort_key)


def per_base_labels(transcripts: Iterable, win_start: int, length: int) -> np.ndarray:
    """Per-base ``BaseClass`` labels (L,) int64 for the auxiliary head; see BaseClass."""
    labels = np.full(length, int(BaseClass.INTERGENIC), dtype=np.int64)
    # precedence where transcripts overlap: intergenic < intron < UTR < CDS (any frame)
    rank = np.array([0, 3, 3, 3, 1, 2])

    def paint(a: int, b: int, value: int) -> None:  # 1-based closed genomic -> window
        lo, hi = max(a - win_start, 0), min(b - win_start, length - 1)
        if lo <= hi:
            cur = labels[lo : hi + 1]  # a view: assignment writes through
            cur[rank[cur] < rank[value]] = value

    for tx in transcripts:
        if tx.pseudo or not tx.cds:  # protein-coding only, as in evaluation
            continue
        segs = sorted((s.start, s.end) for s in (tx.exons or tx.cds))
        for (_, e1), (s2, _) in zip(segs, segs[1:]):
            paint(e1 + 1, s2 - 1, int(BaseClass.INTRON))
        for a, b in sorted((s.start, s.end) for s in tx.exons):
            paint(a, b, int(BaseClass.UTR))  # the CDS part is overwritten just below
        # CDS in transcription order: codon position = (k - phase) mod 3 for the k-th base.
        k = 0
        for s in tx.cds:
            n = s.end - s.start + 1
            pos = (np.arange(k, k + n) - tx.phase) % 3
            genomic = np.arange(s.start, s.end + 1) if s.strand == "+" else np.arange(s.end, s.start - 1, -1)
            w = genomic - win_start
            ok = (w >= 0) & (w < length)
            labels[w[ok]] = int(BaseClass.CDS_FRAME0) + pos[ok]
            k += n
    return labels


def genes_to_transcripts(
    genes: Iterable[GeneStructure], seqid: str, win_start: int, id_prefix: str = "genet5"
) -> list:
    """Window gene structures -> ``genet5.genome.models.Transcript`` (1-based, CDS in
    transcription order). Cut ends become partial flags; the phase of a 5'-cut CDS is not
    known inside one window and is left 0 for the stitcher to fix."""
    from genet5.genome.models import Segment, Transcript

    out = []
    for i, g in enumerate(genes, 1):
        segs = [Segment(a + win_start, b + win_start, g.strand) for a, b in g.segments]
        if g.strand == "-":
            segs.reverse()
        gid = f"{id_prefix}_{seqid}_{win_start}_{i}"
        five_cut, three_cut = (g.cut_left, g.cut_right) if g.strand == "+" else (g.cut_right, g.cut_left)
        out.append(
            Transcript(
                id=gid + ".t1", gene_id=gid, seqid=seqid, strand=g.strand, cds=segs,
                start_partial=five_cut, end_partial=three_cut,
            )
        )
    return out
