"""GTF2.2 writer, in the form AUGUSTUS and Ensembl tools read.

The internal model follows GFF3: a complete CDS includes its stop codon. GTF2.2 does not: the
CDS rows stop before the stop codon, which gets its own `stop_codon` row(s); the start codon is
inside the CDS and is repeated as `start_codon` row(s). Either codon may be split by an intron
and then takes two rows. Partial ends (start_partial / end_partial) get no codon rows and the
CDS is written as it is. With the genome at hand, the stop_codon row goes only over a real stop
of the transcript's code (after `validate.include_stop_codons`' rule: a CDS directly followed
by a stop takes it in); a CDS ending in anything else is written whole, with no stop row.

GTF has no attributes for partial ends or the genetic code: the GFF3 writer's names are used
(`partial "true"; start_range ".,N"; end_range "N,."; transl_table "11";` on transcript and CDS
rows), which our reader takes back as from GFF3. GTF has no escaping rule either: column 1 is
percent-encoded where a raw character would break the row (a leading '#', '%', tab, newline,
other control characters), and our reader decodes it as GFF3's. A '"' or '\\' in an attribute
value is backslash-escaped inside the quotes (\\" and \\\\), the usual convention.

Frame (column 8) is GTF's: the number of bases to skip from the 5' end of the row (on its
strand) to reach the first base of the next whole codon. Pseudogene transcripts are written as
exon rows only, tagged `transcript_biotype "pseudogene"`, so no tool counts them as coding.
"""

from __future__ import annotations

import os
from typing import IO

from ..atomic import atomic_write
from .extract import segment_sequence
from .models import Annotation, Gene, Segment, Transcript, merge_adjacent, written_transcript_id

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


def escape_seqid(seqid: str) -> str:
    """Column 1 with '%', control characters and a leading '#' percent-encoded (see above)."""
    if seqid.isprintable() and "%" not in seqid and not seqid.startswith("#"):
        return seqid
    return "".join(f"%{ord(c):02X}" if c == "%" or (c == "#" and i == 0) or ord(c) < 32 or ord(c) == 127 else c
                   for i, c in enumerate(seqid))


_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def quote_value(value: str) -> str:
    """An attribute value in quotes, its '\\', '"', tab, newline and carriage return
    backslash-escaped (the usual convention, which our reader undoes): a raw '"' (an ID from
    GFF3's ID=ab"c) would end the value early, a raw tab or newline (GFF3's %09, %0A) the row."""
    return f'"{value.translate(_ESCAPES)}"'


def _attrs(gene: Gene, tx: Transcript | None) -> str:
    out = f"gene_id {quote_value(gene.id)};"
    if tx is not None:
        out += f" transcript_id {quote_value(written_transcript_id(gene, tx))};"
    name = gene.attributes.get("Name")
    if name:
        out += f" gene_name {quote_value(name)};"
    if (tx is not None and tx.pseudo) or (tx is None and gene.pseudo):
        out += ' transcript_biotype "pseudogene";' if tx is not None else ' gene_biotype "pseudogene";'
    return out


def _coding_attrs(tx: Transcript, code: int | None) -> str:
    """Partial ends and genetic code, named as the GFF3 writer names them (start_range is the
    left end, end_range the right, whatever the strand)."""
    out = ""
    if tx.start_partial or tx.end_partial:
        left, right = (tx.start_partial, tx.end_partial) if tx.strand != "-" else (tx.end_partial, tx.start_partial)
        out += ' partial "true";'
        if left:
            out += f' start_range ".,{tx.start}";'
        if right:
            out += f' end_range "{tx.end},.";'
    table = tx.genetic_code or code
    if table:
        out += f' transl_table "{table}";'
    return out


def _split_stop(tx: Transcript, genome, table: int) -> tuple[list[Segment], list[Segment]]:
    """(CDS segments, stop codon pieces) of a complete 3' end. Without a genome the last codon
    is taken as the stop (the GFF3 convention); with it, only a real stop is."""
    cds = list(tx.cds)
    if tx.end_partial:
        return cds, []
    n = genome.lengths.get(tx.seqid) if genome is not None else None
    if n is None or tx.unusual_order or any(s.end > n for s in cds):
        return split_chain(cds, 3, from_end=True) if tx.cds_length - tx.phase >= 6 else (cds, [])
    from .codes import genetic_code
    from .validate import with_stop_codon

    # the evaluation's rule (a CDS directly followed by a stop takes it in); the annotation unchanged
    cds = with_stop_codon(tx, genome, genetic_code(table)) or cds
    coding = sum(s.length for s in cds) - (tx.phase if tx.start_partial else 0)
    if coding % 3 or coding < 6:
        return cds, []
    rest, stop = split_chain(cds, 3, from_end=True)
    codon = b"".join(segment_sequence(s, tx.seqid, genome) for s in stop)
    if not genetic_code(table).is_stop(codon):
        return cds, []
    return rest, stop


def transcript_rows(gene: Gene, tx: Transcript, code: int | None = None, genome=None, default_code: int = 1) -> list[tuple]:
    """(seqid, feature, start, end, strand, frame, attributes) rows of one transcript. `code`:
    the sequence's transl_table where the transcript has none; `genome` (with `fetch` and
    `lengths`): stop_codon rows only over real stops."""
    rows = []
    attrs = _attrs(gene, tx)
    coding = tx.is_coding and not tx.pseudo
    extra = _coding_attrs(tx, code) if tx.is_coding else ""
    cds, stop = _split_stop(tx, genome, tx.genetic_code or code or default_code) if coding else (tx.cds, [])
    # without exon rows the exons are the CDS, with the stop it may have taken in
    exons = tx.exons or merge_adjacent(list(cds) + list(stop))
    for e in exons:
        rows.append((tx.seqid, "exon", e.start, e.end, e.strand, ".", attrs))
    if coding:
        for seg, fr in zip(stop, _frames(stop, 0)):
            rows.append((tx.seqid, "stop_codon", seg.start, seg.end, seg.strand, str(fr), attrs))
        for seg, fr in zip(cds, _frames(cds, tx.phase)):
            rows.append((tx.seqid, "CDS", seg.start, seg.end, seg.strand, str(fr), attrs + extra))
        if not tx.start_partial and tx.phase == 0 and tx.cds_length >= 3:
            _, start = split_chain(list(tx.cds), 3, from_end=False)
            for seg, fr in zip(start, _frames(start, 0)):
                rows.append((tx.seqid, "start_codon", seg.start, seg.end, seg.strand, str(fr), attrs))
    if rows:
        lo = min(r[2] for r in rows)
        hi = max(r[3] for r in rows)
        rows.append((tx.seqid, "transcript", lo, hi, tx.strand, ".", attrs + extra))
    return rows


def _row_key(row: tuple) -> tuple:
    return (row[2], _ROW_RANK.get(row[1], 9), row[3])


def write_gtf_handle(fh: IO[str], annotation: Annotation, genome=None, default_code: int = 1) -> int:
    """Write the annotation as GTF2.2, genes sorted by position within each sequence (in the
    annotation's sequence order); returns the number of transcripts written. `genome`: see
    transcript_rows; `default_code`: its table where the annotation gives none."""
    n = 0
    fh.write("##gtf-version 2.2\n")
    for seqid in annotation.seqids():
        code = annotation.genetic_codes.get(seqid)
        genes = sorted(annotation.genes[seqid], key=lambda g: (g.start, g.end, g.strand, g.id))
        for gene in genes:
            txs = sorted(gene.transcripts, key=lambda t: (t.start, t.end, t.id))
            gene_rows = []
            for tx in txs:
                rows = transcript_rows(gene, tx, code, genome, default_code)
                rows.sort(key=_row_key)
                gene_rows.append(rows)
                n += 1
            if not any(gene_rows):
                continue
            # the gene's annotated extent, as the GFF3 writer gives it
            lo = min([r[2] for rows in gene_rows for r in rows] + ([gene.start_] if gene.start_ else []))
            hi = max([r[3] for rows in gene_rows for r in rows] + ([gene.end_] if gene.end_ else []))
            head = (seqid, "gene", lo, hi, gene.strand, ".", _attrs(gene, None))
            for row in [head] + [r for rows in gene_rows for r in rows]:
                s, feat, a, b, strand, frame, attrs = row
                fh.write(f"{escape_seqid(s)}\t{_SOURCE}\t{feat}\t{a}\t{b}\t.\t{strand}\t{frame}\t{attrs}\n")
    return n


def write_gtf(path: str | os.PathLike, annotation: Annotation, genome=None, default_code: int = 1) -> int:
    """write_gtf_handle to `path`, atomically (a failure leaves no partial file)."""
    with atomic_write(path, "w") as fh:
        return write_gtf_handle(fh, annotation, genome, default_code)
