"""Protein and CDS FASTA for an annotation: one record per coding, non-pseudo transcript.

Header: `>TRANSCRIPT_ID gene=GENE_ID SEQID:START-END(STRAND)`, where START-END spans the CDS.
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


def _header(tx: Transcript) -> str:
    lo = min(s.start for s in tx.cds)
    hi = max(s.end for s in tx.cds)
    return f"{tx.id} gene={tx.gene_id} {tx.seqid}:{lo}-{hi}({tx.strand})"


def write_proteins(path: str | os.PathLike, annotation: Annotation, genome: SequenceSource, default_code: int = 1) -> int:
    """Write translated proteins; returns the number of records."""
    records = [
        (_header(tx), protein_sequence(tx, genome, code_for(tx, annotation, default_code)))
        for tx in _coding(annotation)
    ]
    write_fasta(path, records)
    return len(records)


def write_cds(path: str | os.PathLike, annotation: Annotation, genome: SequenceSource) -> int:
    """Write coding sequences (phase honored, stop codon kept as annotated); returns the count."""
    records = [(_header(tx), cds_sequence(tx, genome)) for tx in _coding(annotation)]
    write_fasta(path, records)
    return len(records)
