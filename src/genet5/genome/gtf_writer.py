"""GTF2.2 writer, in the form AUGUSTUS and Ensembl tools read.

The internal model follows GFF3: a complete CDS includes its stop codon. GTF2.2 does not: the
CDS rows stop before the stop codon, which gets its own `stop_codon` row(s); the start codon is
inside the CDS and is repeated as `start_codon` row(s). Either codon may be split by an intron
and then takes two rows. Partial ends (start_partial / end_partial) get no codon rows and the
CDS is written as it is.

Frame (column 8) is GTF's: the number of bases to skip from the 5' end of the row (on its
strand) to reach the first base of the next whole codon. Pseudogene transcripts are written as
exon rows only, tagged `transcript_biotype "pseudogene"`, so no tool counts them as coding.
"""

from __future__ import annotations

import os
from typing import IO

from ..atomic import atomic_write
from .models import Annotation, Gene, Segment, Transcript, merge_adjacent

_SOURCE = "genet5"
_ROW_RANK = {"gene": 0, "transcript": 1, "exon": 2, "CDS": 3, "start_codon": 4, "stop_codon": 5}


def split_chain(segs: list[Segment], n: int, from_end: bool) -> tuple[list[Segment], list[Segment]]:
    """Cut the first (or last) n bases, in transcription order, off a chain of segments.

    Returns (rest, cut), both in transcription order; `cut` may span several segments when a
    codon is split by an intron."""
    order = list(reversed(segs)) if from_end else list(segs)
    rest, cut = [], []
    need = n
    for i, seg in enumerate(order):
        if need == 0:
            rest.extend(order[i:])
            break
        take = min(need, seg.length)
        need -= take
        # Bases of `seg` in transcription order run start->end on '+', end->start on '-'.
        five_to_three = seg.strand == "+"
        taking_low = five_to_three != from_end  # which coordinate end the cut bases sit at
        if taking_low:
            piece = Segment(seg.start, seg.start + take - 1, seg.strand)
            left = Segment(seg.start + take, seg.end, seg.strand) if take < seg.length else None
        else:
            piece = Segment(seg.end - take + 1, seg.end, seg.strand)
            left = Segment(seg.start, seg.end - take, seg.strand) if take < seg.length else None
        cut.append(piece)
        if left is not None:
            rest.append(left)
            rest.extend(order[i + 1 :])
            break
    if from_end:
        rest.reverse()
        cut.reverse()
    return rest, cut


def _frames(segs: list[Segment], phase: int) -> list[int]:
    """GTF frame of each segment of a chain whose first base has `phase`."""
    frames, before = [], 0
    for seg in segs:
        frames.append((phase - before) % 3)
        before += seg.length
    return frames


def _attrs(gene: Gene, tx: Transcript | None) -> str:
    out = f'gene_id "{gene.id}";'
    if tx is not None:
        out += f' transcript_id "{tx.id}";'
    name = gene.attributes.get("Name")
    if name:
        out += f' gene_name "{name}";'
    if (tx is not None and tx.pseudo) or (tx is None and gene.pseudo):
        out += ' transcript_biotype "pseudogene";' if tx is not None else ' gene_biotype "pseudogene";'
    return out


def transcript_rows(gene: Gene, tx: Transcript) -> list[tuple]:
    """(seqid, feature, start, end, strand, frame, attributes) rows of one transcript."""
    rows = []
    attrs = _attrs(gene, tx)
    coding = tx.is_coding and not tx.pseudo
    exons = tx.exons or merge_adjacent(tx.cds)
    for e in exons:
        rows.append((tx.seqid, "exon", e.start, e.end, e.strand, ".", attrs))
    if coding:
        cds = list(tx.cds)
        if not tx.end_partial and tx.cds_length - tx.phase >= 6:
            cds, stop = split_chain(cds, 3, from_end=True)
            for seg, fr in zip(stop, _frames(stop, 0)):
                rows.append((tx.seqid, "stop_codon", seg.start, seg.end, seg.strand, str(fr), attrs))
        for seg, fr in zip(cds, _frames(cds, tx.phase)):
            rows.append((tx.seqid, "CDS", seg.start, seg.end, seg.strand, str(fr), attrs))
        if not tx.start_partial and tx.phase == 0 and tx.cds_length >= 3:
            _, start = split_chain(list(tx.cds), 3, from_end=False)
            for seg, fr in zip(start, _frames(start, 0)):
                rows.append((tx.seqid, "start_codon", seg.start, seg.end, seg.strand, str(fr), attrs))
    if rows:
        lo = min(r[2] for r in rows)
        hi = max(r[3] for r in rows)
        rows.append((tx.seqid, "transcript", lo, hi, tx.strand, ".", attrs))
    return rows


def _row_key(row: tuple) -> tuple:
    return (row[2], _ROW_RANK.get(row[1], 9), row[3])


def write_gtf_handle(fh: IO[str], annotation: Annotation) -> int:
    """Write the annotation as GTF2.2, genes sorted by position within each sequence (in the
    annotation's sequence order); returns the number of transcripts written."""
    n = 0
    fh.write("##gtf-version 2.2\n")
    for seqid in annotation.seqids():
        genes = sorted(annotation.genes[seqid], key=lambda g: (g.start, g.end, g.strand, g.id))
        for gene in genes:
            txs = sorted(gene.transcripts, key=lambda t: (t.start, t.end, t.id))
            gene_rows = []
            for tx in txs:
                rows = transcript_rows(gene, tx)
                rows.sort(key=_row_key)
                gene_rows.append(rows)
                n += 1
            if not any(gene_rows):
                continue
            lo = min(r[2] for rows in gene_rows for r in rows)
            hi = max(r[3] for rows in gene_rows for r in rows)
            head = (seqid, "gene", lo, hi, gene.strand, ".", _attrs(gene, None))
            for row in [head] + [r for rows in gene_rows for r in rows]:
                s, feat, a, b, strand, frame, attrs = row
                fh.write(f"{s}\t{_SOURCE}\t{feat}\t{a}\t{b}\t.\t{strand}\t{frame}\t{attrs}\n")
    return n


def write_gtf(path: str | os.PathLike, annotation: Annotation) -> int:
    """write_gtf_handle to `path`, atomically (a failure leaves no partial file)."""
    with atomic_write(path, "w") as fh:
        return write_gtf_handle(fh, annotation)
