"""The one internal gene model every reader produces and every writer and metric consumes.

Coordinates are 1-based and closed, as in GFF3. A transcript's CDS segments are kept in
*transcription order* (5' to 3' of the mRNA): ascending on the plus strand, descending on the
minus strand. Unusual chains (a gene across the origin of a circular sequence, a trans-spliced
gene such as chloroplast rps12) keep the order the annotation gave and are flagged, because
sorting them by coordinate would produce a protein that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from genet5.errors import UserError


class GenomeFormatError(UserError, ValueError):
    """Bad input: names the file, the line (when one applies) and the problem, in one line."""

    def __init__(self, path: str, line: int | None, problem: str):
        self.path, self.line, self.problem = str(path), line, problem
        where = f"{path}:{line}" if line else f"{path}"
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):  # survives the trip back from a worker process
        return (GenomeFormatError, (self.path, self.line, self.problem))


@dataclass(frozen=True)
class Segment:
    """One CDS (or exon) piece on one strand."""

    start: int
    end: int
    strand: str  # '+' or '-'

    @property
    def length(self) -> int:
        return self.end - self.start + 1


@dataclass
class Transcript:
    id: str
    gene_id: str
    seqid: str
    strand: str
    cds: list[Segment] = field(default_factory=list)  # transcription order
    exons: list[Segment] = field(default_factory=list)  # transcription order; may be empty
    phase: int = 0  # phase of the first CDS base (non-zero only for 5'-partial CDS)
    start_partial: bool = False  # CDS 5' end is not a real start (cut, or annotated partial)
    end_partial: bool = False  # CDS 3' end is not a real stop
    pseudo: bool = False
    unusual_order: bool = False  # trans-spliced or across the origin: file order kept
    genetic_code: int | None = None  # from transl_table when the annotation gives one
    biotype: str = "mRNA"
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def is_coding(self) -> bool:
        return bool(self.cds)

    @property
    def cds_length(self) -> int:
        return sum(s.length for s in self.cds)

    @property
    def start(self) -> int:
        segs = self.exons or self.cds
        return min(s.start for s in segs)

    @property
    def end(self) -> int:
        segs = self.exons or self.cds
        return max(s.end for s in segs)

    def chain(self) -> tuple[tuple[str, int, int], ...]:
        """The CDS chain as a hashable key: identical chains are the same coding structure."""
        return tuple((s.strand, s.start, s.end) for s in self.cds)

    def cds_5prime(self) -> int:
        """Coordinate of the first CDS base (the start codon's first base when complete)."""
        first = self.cds[0]
        return first.start if first.strand == "+" else first.end

    def cds_3prime(self) -> int:
        """Coordinate of the last CDS base (the stop codon's last base when included)."""
        last = self.cds[-1]
        return last.end if last.strand == "+" else last.start


@dataclass
class Gene:
    id: str
    seqid: str
    strand: str
    transcripts: list[Transcript] = field(default_factory=list)
    pseudo: bool = False
    biotype: str = "gene"
    attributes: dict[str, str] = field(default_factory=dict)
    start_: int | None = None  # as annotated; derived from transcripts when absent
    end_: int | None = None

    @property
    def start(self) -> int:
        if self.start_ is not None:
            return self.start_
        return min(t.start for t in self.transcripts)

    @property
    def end(self) -> int:
        if self.end_ is not None:
            return self.end_
        return max(t.end for t in self.transcripts)

    @property
    def coding_transcripts(self) -> list[Transcript]:
        return [t for t in self.transcripts if t.is_coding]


@dataclass
class Annotation:
    """All genes of one annotation file, grouped by sequence, plus what the file said of the
    sequences themselves (lengths from ##sequence-region, circularity)."""

    source: str = ""
    genes: dict[str, list[Gene]] = field(default_factory=dict)
    sequence_lengths: dict[str, int] = field(default_factory=dict)
    circular: set[str] = field(default_factory=set)
    genetic_codes: dict[str, int] = field(default_factory=dict)  # seqid -> transl_table
    warnings: list[str] = field(default_factory=list)

    def add_gene(self, gene: Gene) -> None:
        self.genes.setdefault(gene.seqid, []).append(gene)

    def seqids(self) -> list[str]:
        return list(self.genes)

    def iter_genes(self) -> Iterator[Gene]:
        for genes in self.genes.values():
            yield from genes

    def iter_transcripts(self) -> Iterator[Transcript]:
        for gene in self.iter_genes():
            yield from gene.transcripts

    def sort(self) -> None:
        for seqid, genes in self.genes.items():
            genes.sort(key=lambda g: (g.start, g.end, g.strand, g.id))

    def subset(self, seqids: list[str]) -> "Annotation":
        """A view on some sequences only (genes are shared, not copied)."""
        return Annotation(
            source=self.source,
            genes={s: self.genes[s] for s in seqids if s in self.genes},
            sequence_lengths=self.sequence_lengths,
            circular=self.circular,
            genetic_codes=self.genetic_codes,
        )

    @property
    def n_genes(self) -> int:
        return sum(len(g) for g in self.genes.values())


def first_line_of(ann: Annotation, seqid: str) -> int | None:
    """The file line of the first transcript on `seqid` (for error messages), if recorded."""
    genes = ann.genes.get(seqid) or []
    for g in genes:
        for t in g.transcripts:
            return int(t.attributes.get("line", 0)) or None
    return None


def order_segments(segments: list[Segment]) -> tuple[list[Segment], bool]:
    """Put segments, given in annotation order, into transcription order.

    Returns (segments, unusual). A same-strand chain given monotonically in either direction
    is sorted (ascending on +, descending on -). Anything else (mixed strands, an origin
    wrap such as `join(4640000..4641652,1..120)`) keeps the annotation's order, flagged.
    """
    if len(segments) <= 1:
        return list(segments), False
    strands = {s.strand for s in segments}
    starts = [s.start for s in segments]
    monotone = starts == sorted(starts) or starts == sorted(starts, reverse=True)
    if len(strands) == 1 and monotone:
        strand = segments[0].strand
        return sorted(segments, key=lambda s: s.start, reverse=(strand == "-")), False
    return list(segments), True


def written_transcript_id(gene: Gene, tx: Transcript) -> str:
    """A transcript's ID as the writers write it: one sharing its gene's ID (an mRNA read with no
    gene row) becomes GENE.t1, so GFF3 and GTF name it alike and the two IDs stay apart."""
    return tx.id if tx.id != gene.id else f"{gene.id}.t1"


def merge_adjacent(segments: list[Segment]) -> list[Segment]:
    """Merge overlapping or touching same-strand segments (given in transcription order)."""
    out: list[Segment] = []
    for seg in segments:
        if out and out[-1].strand == seg.strand:
            prev = out[-1]
            if seg.start <= prev.end + 1 and seg.end >= prev.start - 1:
                out[-1] = Segment(min(prev.start, seg.start), max(prev.end, seg.end), seg.strand)
                continue
        out.append(seg)
    return out
