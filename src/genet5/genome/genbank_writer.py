"""An annotation with its sequences as a GenBank flat file (`genet5 predict --genbank`): what
Artemis, antiSMASH and other tools made for GenBank input read, and what Prodigal's `-f gbk`
and Prokka users expect beside GFF3.

Written with Biopython's SeqIO (the same library reads it back, genome/genbank.py): per
sequence one record with its bases; per gene one gene feature over the gene's whole extent
(UTRs included where annotated) and per coding transcript a CDS feature, for eukaryotes an mRNA
feature (its exons) before it, as NCBI's eukaryote records are laid out: /locus_tag the gene's
ID; parts in transcription order (join() for several); a cut end as '<' / '>' (on '-', '>' is
the 5' end); /codon_start from the phase; /transl_table; /translation; /inference naming the
tool; the score and Prodigal's start attributes in /note. LOCUS's division: BCT for a
prokaryote, UNK (unknown) for a eukaryote, whose division (PLN, INV, ...) genet5 cannot know.
"""

from __future__ import annotations

import os
import warnings
from typing import IO

from .extract import SequenceSource, protein_sequence
from .models import Annotation, Gene, Transcript
from .validate import code_for

# GenBank's LOCUS line holds a name of at most 16 characters; longer sequence IDs (RefSeq
# WGS contigs run to 17) go in full on the ACCESSION / VERSION lines, which readers take as
# the record's ID
_LOCUS_NAME = 16


def _location(tx: Transcript, segments=None):
    """The CDS's location (or `segments`', an mRNA's exons), the cut ends marked."""
    from Bio.SeqFeature import AfterPosition, BeforePosition, CompoundLocation, SimpleLocation

    strand = -1 if tx.strand == "-" else 1
    parts = [[seg.start - 1, seg.end] for seg in (segments or tx.cds)]  # transcription order, 0-based half-open
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


def _gene_location(gene: Gene, coding: list[Transcript]):
    """The gene's extent (as annotated, else its transcripts'), '<' / '>' where a cut transcript
    reaches that end."""
    from Bio.SeqFeature import AfterPosition, BeforePosition, SimpleLocation

    strands = {t.strand for t in coding}
    strand = None if len(strands) > 1 else (-1 if strands.pop() == "-" else 1)  # trans-spliced: both
    start, end = min(gene.start, *(t.start for t in coding)) - 1, max(gene.end, *(t.end for t in coding))

    def cut_left(t: Transcript) -> bool:
        return t.start_partial if t.strand != "-" else t.end_partial

    def cut_right(t: Transcript) -> bool:
        return t.end_partial if t.strand != "-" else t.start_partial

    left = BeforePosition(start) if any(cut_left(t) and t.start - 1 == start for t in coding) else start
    right = AfterPosition(end) if any(cut_right(t) and t.end == end for t in coding) else end
    return SimpleLocation(left, right, strand=strand)


def write_genbank_handle(fh: IO[str], annotation: Annotation, genome: SequenceSource, default_code: int = 11,
                         tool: str = "genet5", order: list[str] | None = None, predicted: bool = True,
                         eukaryote: bool | None = None) -> int:
    """Write every sequence of `genome` (in `order`, else the annotation's) with its coding
    genes; returns the number of CDS features. predicted: the genes are `tool`'s own
    predictions (/inference says so); False for an annotation only converted (genet5 convert).
    eukaryote: mRNA features and division UNK; None: read from the transcripts' tables
    (transl_table), else default_code (another table than 11, 4, 25: a eukaryote)."""
    from Bio import BiopythonWarning, SeqIO
    from Bio.Seq import Seq
    from Bio.SeqFeature import SeqFeature
    from Bio.SeqRecord import SeqRecord

    if eukaryote is None:  # the annotation's own tables (transl_table) where it gives them
        codes = {t.genetic_code for t in annotation.iter_transcripts() if t.genetic_code} or {default_code}
        eukaryote = not codes <= {11, 4, 25}
    seqids = order or list(dict.fromkeys(list(annotation.sequence_lengths) + list(annotation.genes)))
    n = 0
    for seqid in seqids:
        bases = genome.fetch(seqid, 1, genome.lengths[seqid])
        rec = SeqRecord(Seq(bases.decode()), id=seqid, name=seqid[:_LOCUS_NAME],
                        description=f"{seqid}, {'annotated' if predicted else 'converted'} by {tool}")
        rec.annotations.update(molecule_type="DNA", data_file_division="UNK" if eukaryote else "BCT",
                               topology="circular" if seqid in annotation.circular else "linear")
        genes = [(g, [t for t in g.transcripts if t.is_coding and not t.pseudo]) for g in annotation.genes.get(seqid, [])]
        for gene, coding in sorted((x for x in genes if x[1]), key=lambda x: (min(t.start for t in x[1]), x[0].start)):
            rec.features.append(SeqFeature(_gene_location(gene, coding), type="gene", qualifiers={"locus_tag": [gene.id]}))
            for tx in coding:
                n += _add_transcript(rec, tx, annotation, genome, default_code, tool, predicted, eukaryote)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BiopythonWarning)  # a long ID: the LOCUS name is cut, the ID kept
            SeqIO.write(rec, fh, "genbank")
    return n


def _add_transcript(rec, tx: Transcript, annotation: Annotation, genome: SequenceSource, default_code: int, tool: str,
                    predicted: bool, eukaryote: bool) -> int:
    """The transcript's mRNA (eukaryotes) and CDS features; returns 1 (CDS features added)."""
    from Bio.SeqFeature import SeqFeature

    loc = _location(tx)
    code = code_for(tx, annotation, default_code)
    if eukaryote:
        rec.features.append(SeqFeature(_location(tx, tx.exons or tx.cds), type="mRNA",
                                       qualifiers={"locus_tag": [tx.gene_id], "note": [f"transcript {tx.id}"]}))
    qualifiers = {"locus_tag": [tx.gene_id], "codon_start": [str(tx.phase + 1)], "transl_table": [str(getattr(code, "id", code))]}
    if predicted:
        qualifiers["inference"] = [f"ab initio prediction:{tool}"]
    qualifiers["translation"] = [protein_sequence(tx, genome, code)]
    note = _note(tx)
    if note:
        qualifiers["note"] = [note]
    rec.features.append(SeqFeature(loc, type="CDS", qualifiers=qualifiers))
    return 1


def write_genbank(path: str | os.PathLike, annotation: Annotation, genome: SequenceSource, default_code: int = 11,
                  tool: str = "genet5", order: list[str] | None = None) -> int:
    """write_genbank_handle to `path`, atomically (a failure leaves no partial file)."""
    from genet5.atomic import atomic_write

    with atomic_write(path) as fh:
        return write_genbank_handle(fh, annotation, genome, default_code, tool, order)
