"""Protein and CDS FASTA for an annotation: one record per coding, non-pseudo transcript.

Header: `>TRANSCRIPT_ID gene=GENE_ID SEQID:START-END(STRAND)`, where START-END spans the CDS;
or Prodigal's (`headers="prodigal"`): `>SEQID_N # START # END # 1|-1 # ID=S_N;partial=LR;
start_type=..;rbs_motif=..;rbs_spacer=..;gc_cont=..`, N the gene's number on its sequence,
which tools made for Prodigal's output read (CheckM and GTDB-Tk take the contig from SEQID_N).
Files are written atomically (temporary file, then rename).
"""

from __future__ import annotations

import os
from typing import Iterator

from .extract import SequenceSource, cds_sequence, protein_sequence
from .fasta import write_fasta
from .models import Annotation, Transcript
from .validate import code_for


def _coding(annotation: Annotation) -> Iterator[Transcript]:
    for tx in annotation.iter_transcripts():
        if tx.is_coding and not tx.pseudo:
            yield tx


def transcript_header(tx: Transcript) -> str:
    """genet5's header of a transcript's record (the API's writers use it too)."""
    lo = min(s.start for s in tx.cds)
    hi = max(s.end for s in tx.cds)
    return f"{tx.id} gene={tx.gene_id} {tx.seqid}:{lo}-{hi}({tx.strand})"


HEADER_STYLES = ("genet5", "prodigal")


def _genomic(tx: Transcript, offset: int) -> int:
    """The genome position of base `offset` (0-based) of the transcript's CDS chain."""
    for seg in tx.cds:
        if offset < seg.length:
            return seg.start + offset if seg.strand != "-" else seg.end - offset
        offset -= seg.length
    raise IndexError(offset)


def _whole_codons(dna: bytes) -> bytes:
    """A partial CDS cut to whole codons, as Prodigal writes it (the GFF3 keeps the cut ends)."""
    return dna[: len(dna) - len(dna) % 3]


def _headers(annotation: Annotation, genome: SequenceSource, style: str) -> Iterator[tuple[str, Transcript, bytes]]:
    """(header, transcript, CDS) of every coding transcript, in the annotation's order; the CDS
    starts at its phase, and with Prodigal's headers ends on a whole codon."""
    if style not in HEADER_STYLES:
        raise ValueError(f"header style {style!r}: one of {', '.join(HEADER_STYLES)}")
    seq_number: dict[str, int] = {}
    gene_number: dict[str, int] = {}
    for tx in _coding(annotation):
        dna = cds_sequence(tx, genome)
        if style == "genet5":
            yield transcript_header(tx), tx, dna
            continue
        dna = _whole_codons(dna)
        s = seq_number.setdefault(tx.seqid, len(seq_number) + 1)
        n = gene_number[tx.seqid] = gene_number.get(tx.seqid, 0) + 1
        # Prodigal's START and END are the outer bases of the whole codons written, not a cut end
        ends = (_genomic(tx, tx.phase), _genomic(tx, tx.phase + max(len(dna), 1) - 1))
        lo, hi = min(ends), max(ends)
        left, right = (tx.start_partial, tx.end_partial) if tx.strand != "-" else (tx.end_partial, tx.start_partial)
        codon = tx.attributes.get("start_codon", "")
        fields = [f"ID={s}_{n}", f"partial={int(left)}{int(right)}", f"start_type={'Edge' if tx.start_partial else codon or 'None'}"]
        fields += [f"{k}={tx.attributes[k]}" for k in ("rbs_motif", "rbs_spacer") if k in tx.attributes]
        fields.append(f"gc_cont={(dna.count(b'G') + dna.count(b'C')) / max(len(dna), 1):.3f}")
        yield f"{tx.seqid}_{n} # {lo} # {hi} # {-1 if tx.strand == '-' else 1} # {';'.join(fields)}", tx, dna


def write_proteins(path: str | os.PathLike, annotation: Annotation, genome: SequenceSource, default_code: int = 1,
                   headers: str = "genet5") -> int:
    """Write translated proteins; returns the number of records. headers: genet5 or prodigal
    (whose proteins end in '*' where the gene has its stop codon, as Prodigal's do)."""
    records = []
    for h, tx, dna in _headers(annotation, genome, headers):
        code = code_for(tx, annotation, default_code)
        protein = protein_sequence(tx, genome, code)
        if headers == "prodigal" and not tx.end_partial and code.is_stop(dna[-3:]):
            protein += "*"
        records.append((h, protein))
    write_fasta(path, records)
    return len(records)


def write_cds(path: str | os.PathLike, annotation: Annotation, genome: SequenceSource, headers: str = "genet5") -> int:
    """Write coding sequences (phase honored, stop codon kept as annotated; with Prodigal's
    headers whole codons only); returns the count."""
    records = [(h, dna) for h, _, dna in _headers(annotation, genome, headers)]
    write_fasta(path, records)
    return len(records)
