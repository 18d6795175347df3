"""Sequences of a transcript: CDS, protein, exons, introns (the original GeneT5's post-processing).

`genome` is anything with `fetch(seqid, start, end) -> bytes` (1-based, closed, upper-case):
a fasta.Genome, or a dict-backed stand-in such as `SequenceDict` below.
"""

from __future__ import annotations

from typing import Protocol

from .codes import GeneticCode, genetic_code, reverse_complement
from .models import GenomeFormatError, Segment, Transcript


class SequenceSource(Protocol):
    def fetch(self, seqid: str, start: int, end: int) -> bytes: ...


class SequenceDict:
    """In-memory sequences with the Genome.fetch interface (e.g. from read_genbank)."""

    def __init__(self, seqs: dict[str, bytes], name: str = "<memory>"):
        self.seqs, self.name = seqs, name
        self.lengths = {k: len(v) for k, v in seqs.items()}
        self.ids = list(seqs)

    def __contains__(self, seqid: object) -> bool:
        return seqid in self.seqs

    def fetch(self, seqid: str, start: int, end: int) -> bytes:
        seq = self.seqs.get(seqid)
        if seq is None:
            raise GenomeFormatError(self.name, None, f"no sequence '{seqid}'")
        if start < 1 or end > len(seq) or start > end + 1:
            raise GenomeFormatError(self.name, None, f"range {seqid}:{start}-{end} outside the sequence (length {len(seq)})")
        return seq[start - 1 : end]


def segment_sequence(seg: Segment, seqid: str, genome: SequenceSource) -> bytes:
    """One segment's bases, read 5' to 3' on its own strand."""
    s = genome.fetch(seqid, seg.start, seg.end)
    return reverse_complement(s) if seg.strand == "-" else s


def _join(segs: list[Segment], seqid: str, genome: SequenceSource) -> bytes:
    # Each segment is reverse-complemented on its own strand, so a mixed-strand
    # (trans-spliced) chain in transcription order comes out right too.
    return b"".join(segment_sequence(s, seqid, genome) for s in segs)


def cds_sequence(transcript: Transcript, genome: SequenceSource, *, honor_phase: bool = True) -> bytes:
    """The coding sequence in transcription order; the first `phase` bases (a 5'-partial CDS
    starting mid-codon) are dropped so that the result starts on a codon boundary."""
    seq = _join(transcript.cds, transcript.seqid, genome)
    if honor_phase and transcript.phase:
        seq = seq[transcript.phase :]
    return seq


def protein_sequence(transcript: Transcript, genome: SequenceSource, code: int | GeneticCode = 1) -> str:
    """Translate the CDS with `code` (a table id or GeneticCode); the trailing stop is dropped.
    A 5'-partial CDS does not start with a start codon, so its first codon is not read as M."""
    gc = code if isinstance(code, GeneticCode) else genetic_code(code)
    protein = gc.translate(cds_sequence(transcript, genome), first_as_met=not transcript.start_partial)
    return protein[:-1] if protein.endswith("*") else protein


def exon_sequences(transcript: Transcript, genome: SequenceSource) -> list[bytes]:
    """Exon sequences in transcription order (the CDS segments when no exons are annotated)."""
    segs = transcript.exons or transcript.cds
    return [segment_sequence(s, transcript.seqid, genome) for s in segs]


def introns(segments: list[Segment]) -> list[Segment]:
    """Gaps between consecutive same-strand segments (in transcription order). Touching or
    overlapping neighbours (ribosomal frameshifts) and strand switches have no intron."""
    out = []
    for a, b in zip(segments, segments[1:]):
        if a.strand != b.strand:
            continue
        lo, hi = (a.end + 1, b.start - 1) if a.strand == "+" else (b.end + 1, a.start - 1)
        if lo <= hi:
            out.append(Segment(lo, hi, a.strand))
    return out


def intron_sequences(transcript: Transcript, genome: SequenceSource) -> list[bytes]:
    """Intron sequences in transcription order, each 5' to 3' (so a canonical one reads GT...AG)."""
    segs = transcript.exons or transcript.cds
    return [segment_sequence(s, transcript.seqid, genome) for s in introns(segs)]
