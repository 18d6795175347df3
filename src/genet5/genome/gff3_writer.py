"""GFF3 writer: gene -> mRNA -> exon + CDS, as genome browsers and `gt gff3validator` expect.

- One ID shared by all segments of a transcript's CDS (the GFF3 spec's multi-line feature).
- Phase computed from the CDS in transcription order, so it is right on both strands.
- Reserved characters percent-encoded in columns 1 and 9 (GFF3 spec: in column 1 and
  ##sequence-region every character outside [a-zA-Z0-9.:^*$@!+_?-|]; tab, newline, %, ;, =,
  &, and , in attribute values). Our readers decode both.
- `##sequence-region` for every sequence, genes sorted by position, IDs unique in the file.
- Written atomically: a failure leaves no partial file.
"""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path
from typing import IO

from genet5.atomic import atomic_write
from genet5.genome.models import Annotation, Gene, Segment, Transcript, written_transcript_id

_ESCAPE_COL9 = {ord(c): f"%{ord(c):02X}" for c in "\t\n\r%;=&,"}
_SEQID_SAFE = frozenset(string.ascii_letters + string.digits + ".:^*$@!+_?-|")


def escape_attr(value: str) -> str:
    return value.translate(_ESCAPE_COL9)


@lru_cache(maxsize=4096)
def escape_seqid(seqid: str) -> str:
    """Column 1 as the GFF3 spec wants it: a raw '#' would start a comment, ';' '=' '%' or
    whitespace confuse readers, so everything outside the spec's set becomes %XX (UTF-8)."""
    return "".join(c if c in _SEQID_SAFE else "".join(f"%{b:02X}" for b in c.encode()) for c in seqid)


def cds_phases(tx: Transcript) -> list[int]:
    """GFF3 phase of each CDS segment (transcription order): bases to skip at the segment's
    5' end before the next codon starts."""
    phases, consumed = [], 0
    for seg in tx.cds:
        phases.append((3 - ((consumed - tx.phase) % 3)) % 3 if consumed else tx.phase)
        consumed += seg.length
    return phases


# Values that are GFF3 lists: their commas separate values and are written as they are.
_LIST_VALUED = {"start_range", "end_range"}


def _attrs(pairs: list[tuple[str, str]]) -> str:
    return ";".join(f"{k}={v if k in _LIST_VALUED else escape_attr(v)}" for k, v in pairs if v != "")


class _Ids:
    """Hands out file-unique IDs: two features may not share one (gt checks this)."""

    def __init__(self, prefix: str = ""):
        self.used: set[str] = set()
        self.prefix = prefix

    def take(self, wanted: str) -> str:
        wanted = f"{self.prefix}{wanted}"
        cand, n = wanted, 1
        while cand in self.used:
            n += 1
            cand = f"{wanted}.{n}"
        self.used.add(cand)
        return cand


def _row(seqid: str, source: str, ftype: str, start: int, end: int, strand: str, phase: str, attrs: str,
         score: str = ".") -> str:
    return f"{escape_seqid(seqid)}\t{source}\t{ftype}\t{start}\t{end}\t{score}\t{strand}\t{phase}\t{attrs}\n"


def _score(tx: Transcript) -> str:
    """Column 6 of a predicted transcript's rows: its decoder's score (predict/genes.py), as
    Prodigal and AUGUSTUS write theirs, so genes can be filtered on it; "." for others."""
    value = tx.attributes.get("score", "")
    try:
        float(value)
    except ValueError:
        return "."
    return value


def _start_type(tx: Transcript) -> list[tuple[str, str]]:
    """Prodigal's start_type on a predicted CDS: its start codon, or Edge where the gene runs off
    the sequence at its 5' end."""
    codon = tx.attributes.get("start_codon", "")
    if tx.start_partial:
        return [("start_type", "Edge")] if "start_codon" in tx.attributes else []
    pairs = [("start_type", codon)] if codon else []
    # Prodigal's rbs_motif / rbs_spacer (the Shine-Dalgarno piece before the start; None without)
    return pairs + [(k, tx.attributes[k]) for k in ("rbs_motif", "rbs_spacer") if k in tx.attributes]


def _partial_pairs(tx: Transcript) -> list[tuple[str, str]]:
    """Which ends of a CDS run off the sequence (or into a gap), on the row itself: NCBI's
    partial=true with start_range=.,N (left end open) / end_range=N,. (right end open), which
    readers (ours included) take back, and Prodigal's two-digit flag (left end, right end) as
    prodigal_partial for those who filter on it."""
    if not (tx.start_partial or tx.end_partial):
        return []
    left, right = (tx.start_partial, tx.end_partial) if tx.strand != "-" else (tx.end_partial, tx.start_partial)
    pairs = [("partial", "true")]
    if left:
        pairs.append(("start_range", f".,{tx.start}"))
    if right:
        pairs.append(("end_range", f"{tx.end},."))
    pairs.append(("prodigal_partial", f"{int(left)}{int(right)}"))
    return pairs


def _gene_rows(gene: Gene, ids: _Ids, source: str, seqid: str, code: int | None = None) -> list[str]:
    gid = ids.take(gene.id)
    spans = [(t.start, t.end) for t in gene.transcripts]
    g_start = min([s for s, _ in spans] + ([gene.start_] if gene.start_ else []))
    g_end = max([e for _, e in spans] + ([gene.end_] if gene.end_ else []))
    gene_type = "pseudogene" if gene.pseudo else "gene"
    pairs = [("ID", gid)] + [(k, gene.attributes[k]) for k in ("Name",) if k in gene.attributes]
    rows = [_row(seqid, source, gene_type, g_start, g_end, gene.strand, ".", _attrs(pairs))]
    for tx in gene.transcripts:
        tid = ids.take(written_transcript_id(gene, tx))
        tx_type = "mRNA" if tx.is_coding else (tx.biotype if tx.biotype not in ("", "mRNA") else "transcript")
        t_pairs = [("ID", tid), ("Parent", gid)] + _partial_pairs(tx)
        for key in ("Name", "product"):
            if key in tx.attributes:
                t_pairs.append((key, tx.attributes[key]))
        rows.append(_row(seqid, source, tx_type, tx.start, tx.end, tx.strand, ".", _attrs(t_pairs), _score(tx)))
        exons: list[Segment] = tx.exons or tx.cds
        for i, ex in enumerate(sorted(exons, key=lambda s: s.start), 1):
            rows.append(_row(seqid, source, "exon", ex.start, ex.end, ex.strand, ".", _attrs([("Parent", tid)])))
        if tx.cds:
            cid = ids.take(f"{tid}.cds" if tid.startswith("cds") else f"cds-{tid}")
            phases = dict(zip(tx.cds, cds_phases(tx)))
            # Trans-spliced chains keep transcription order in the file: sorted rows would be
            # read back as an ordinary gene in coordinate order.
            cds_rows = tx.cds if tx.unusual_order else sorted(tx.cds, key=lambda s: s.start)
            table = tx.genetic_code or code
            c_pairs = [("ID", cid), ("Parent", tid)] + _partial_pairs(tx)
            if table:
                c_pairs.append(("transl_table", str(table)))
            c_pairs += _start_type(tx)
            for seg in cds_rows:
                rows.append(_row(seqid, source, "CDS", seg.start, seg.end, seg.strand, str(phases[seg]), _attrs(c_pairs),
                                 _score(tx)))
    return rows


def write_gff3_handle(
    fh: IO[str],
    annotation: Annotation,
    sequence_lengths: dict[str, int] | None = None,
    source: str = "genet5",
    id_prefix: str = "",
    comments: list[str] | None = None,
) -> None:
    lengths = dict(annotation.sequence_lengths)
    lengths.update(sequence_lengths or {})
    fh.write("##gff-version 3\n")
    for c in comments or []:
        fh.write(f"# {c}\n")
    seqids = list(dict.fromkeys(list(lengths) + list(annotation.genes)))
    for seqid in seqids:
        n = lengths.get(seqid)
        if n is None and annotation.genes.get(seqid):
            n = max(g.end for g in annotation.genes[seqid])
        if n is not None:
            fh.write(f"##sequence-region {escape_seqid(seqid)} 1 {n}\n")
    ids = _Ids(id_prefix)
    for seqid in seqids:
        genes = sorted(annotation.genes.get(seqid, []), key=lambda g: (g.start, g.end, g.id))
        for gene in genes:
            if not gene.transcripts:
                continue
            fh.writelines(_gene_rows(gene, ids, source, seqid, annotation.genetic_codes.get(seqid)))
            fh.write("###\n")


def write_gff3(
    path: str | Path,
    annotation: Annotation,
    sequence_lengths: dict[str, int] | None = None,
    source: str = "genet5",
    id_prefix: str = "",
    comments: list[str] | None = None,
) -> None:
    """Write `annotation` as GFF3 to `path` (atomically); `comments` become `# ` lines after
    the version line (what made the file)."""
    with atomic_write(path) as fh:
        write_gff3_handle(fh, annotation, sequence_lengths, source, id_prefix, comments)
