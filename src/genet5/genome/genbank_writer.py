"""An annotation with its sequences as a GenBank flat file (`genet5 predict --genbank`): what
Artemis, antiSMASH and other tools made for GenBank input read, and what Prodigal's `-f gbk`
and Prokka users expect beside GFF3.

Written with Biopython's SeqIO (the same library reads it back, genome/genbank.py): per
sequence one record with its bases, and per coding transcript a gene and a CDS feature:
/locus_tag the gene's ID; the CDS's parts in transcription order (join() for several); a cut
end as '<' / '>' (on '-', '>' is the 5' end); /codon_start from the phase; /transl_table;
/translation; /inference naming the tool; the score and Prodigal's start attributes in /note.
"""

from __future__ import annotations

import os
import warnings
from typing import IO

from .extract import SequenceSource, protein_sequence
from .models import Annotation, Transcript
from .validate import code_for

# GenBank's LOCUS line holds a name of at most 16 characters; longer sequence IDs (RefSeq
# WGS contigs run to 17) go in full on the ACCESSION / VERSION lines, which readers take as
# the record's ID
_LOCUS_NAME = 16


def _location(tx: Transcript):
    from Bio.SeqFeature import AfterPosition, BeforePosition, CompoundLocation, SimpleLocation

    strand = -1 if tx.strand == "-" else 1
    parts = [[seg.start - 1, seg.end] for seg in tx.cds]  # transcription order, 0-based half-open
    first, last = parts[0], parts[-1]
    if tx.start_partial:  # the 5' end: the first part's left end on '+', its right end on '-'
        if strand == 1:
            first[0] = BeforePosition(first[0])
        else:
            first[1] = AfterPosition(first[1])
    if tx.end_partial:
        if strand == 1:
            last[1] = AfterPosition(last[1])
        else:
            last[0] = BeforePosition(last[0])
    locs = [SimpleLocation(a, b, strand=strand) for a, b in parts]
    return locs[0] if len(locs) == 1 else CompoundLocation(locs)


def _note(tx: Transcript) -> str:
    keys = ("score", "start_codon", "rbs_motif", "rbs_spacer")
    return ";".join(f"{k}={tx.attributes[k]}" for k in keys if tx.attributes.get(k))


def write_genbank_handle(fh: IO[str], annotation: Annotation, genome: SequenceSource, default_code: int = 11,
                         tool: str = "genet5", order: list[str] | None = None, predicted: bool = True) -> int:
    """Write every sequence of `genome` (in `order`, else the annotation's) with its coding
    transcripts; returns the number of CDS features. predicted: the genes are `tool`'s own
    predictions (/inference says so); False for an annotation only converted (genet5 convert)."""
    from Bio import BiopythonWarning, SeqIO
    from Bio.Seq import Seq
    from Bio.SeqFeature import SeqFeature, SimpleLocation
    from Bio.SeqRecord import SeqRecord

    seqids = order or list(dict.fromkeys(list(annotation.sequence_lengths) + list(annotation.genes)))
    by_seq: dict[str, list[Transcript]] = {}
    for tx in annotation.iter_transcripts():
        if tx.is_coding and not tx.pseudo:
            by_seq.setdefault(tx.seqid, []).append(tx)
    n = 0
    for seqid in seqids:
        bases = genome.fetch(seqid, 1, genome.lengths[seqid])
        rec = SeqRecord(Seq(bases.decode()), id=seqid, name=seqid[:_LOCUS_NAME],
                        description=f"{seqid}, {'annotated' if predicted else 'converted'} by {tool}")
        rec.annotations.update(molecule_type="DNA", data_file_division="BCT",
                               topology="circular" if seqid in annotation.circular else "linear")
        for tx in sorted(by_seq.get(seqid, []), key=lambda t: (t.start, t.end)):
            loc = _location(tx)
            code = code_for(tx, annotation, default_code)
            gene_loc = SimpleLocation(loc.start, loc.end, strand=loc.strand)
            rec.features.append(SeqFeature(gene_loc, type="gene", qualifiers={"locus_tag": [tx.gene_id]}))
            qualifiers = {"locus_tag": [tx.gene_id], "codon_start": [str(tx.phase + 1)], "transl_table": [str(getattr(code, "id", code))]}
            if predicted:
                qualifiers["inference"] = [f"ab initio prediction:{tool}"]
            qualifiers["translation"] = [protein_sequence(tx, genome, code)]
            note = _note(tx)
            if note:
                qualifiers["note"] = [note]
            rec.features.append(SeqFeature(loc, type="CDS", qualifiers=qualifiers))
            n += 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BiopythonWarning)  # a long ID: the LOCUS name is cut, the ID kept
            SeqIO.write(rec, fh, "genbank")
    return n


def write_genbank(path: str | os.PathLike, annotation: Annotation, genome: SequenceSource, default_code: int = 11,
                  tool: str = "genet5", order: list[str] | None = None) -> int:
    """write_genbank_handle to `path`, atomically (a failure leaves no partial file)."""
    from genet5.atomic import atomic_write

    with atomic_write(path) as fh:
        return write_genbank_handle(fh, annotation, genome, default_code, tool, order)
