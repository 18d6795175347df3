"""CDS validation against the genome, and the stop-codon rule evaluation relies on.

A complete CDS has a length divisible by 3, starts with a start codon of its genetic code,
ends with a stop codon, and has no stop in between. Partial ends (cut by a sequence end or
annotated partial) skip the check of that end. Known biology that breaks these rules
(selenocysteine TGA, trans-splicing, programmed frameshifts) is counted, not hidden: the
report lists failures by kind with example transcript ids so a person can look.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from genet5.genome.codes import GeneticCode, genetic_code, reverse_complement
from genet5.genome.extract import cds_sequence
from genet5.genome.models import Annotation, GenomeFormatError, Segment, Transcript

_CODON = re.compile(b"...", re.DOTALL)

FAILURE_KINDS = (
    "length_not_multiple_of_3",
    "no_start_codon",
    "no_stop_codon",
    "internal_stop",
    "past_sequence_end",
)


class SequenceSource(Protocol):
    lengths: dict[str, int]

    def fetch(self, seqid: str, start: int, end: int) -> bytes: ...


def code_for(tx: Transcript, ann: Annotation, default: int = 1, override: int | None = None) -> GeneticCode:
    """The genetic code of a transcript: an explicit override, else what the annotation says
    (transl_table on the CDS, then on any CDS of the same sequence), else `default`."""
    if override is not None:
        return genetic_code(override)
    return genetic_code(tx.genetic_code or ann.genetic_codes.get(tx.seqid) or default)


def check_sequences(ann: Annotation, genome: SequenceSource) -> None:
    """Every annotated seqid exists in the genome and every CDS lies inside its sequence;
    otherwise one GenomeFormatError naming the annotation file and line."""
    for seqid, genes in ann.genes.items():
        line = int(genes[0].transcripts[0].attributes.get("line", 0)) if genes and genes[0].transcripts else None
        if seqid not in genome.lengths:
            raise GenomeFormatError(ann.source, line, f"sequence {seqid!r} is not in the genome FASTA")
        check_inside(ann, seqid, genome.lengths[seqid])


def check_inside(ann: Annotation, seqid: str, n: int) -> None:
    """Every CDS on `seqid` lies inside its `n` bases (a circular sequence's may cross the
    origin); otherwise one GenomeFormatError naming the annotation file and line."""
    if seqid in ann.circular:
        return
    for gene in ann.genes.get(seqid, []):
        for tx in gene.transcripts:
            for seg in tx.cds:
                if seg.end > n:
                    raise GenomeFormatError(
                        ann.source,
                        int(tx.attributes.get("line", 0)) or None,
                        f"CDS {seg.start}..{seg.end} of {tx.id} lies past the end of {seqid} (length {n})",
                    )


def validate_cds(tx: Transcript, cds: bytes, code: GeneticCode) -> list[str]:
    """Failure kinds for one transcript's whole CDS sequence, phase bases included (a 5'-partial
    CDS is read from its phase here; empty list: valid)."""
    problems = []
    body = cds[tx.phase :] if tx.start_partial else cds
    if len(cds) % 3 != 0 and not (tx.start_partial or tx.end_partial):
        problems.append("length_not_multiple_of_3")
    if not tx.start_partial and not code.is_start(body[:3]):
        problems.append("no_start_codon")
    n_codons = len(body) // 3
    last = body[3 * (n_codons - 1) : 3 * n_codons] if n_codons else b""
    if not tx.end_partial and (len(body) % 3 != 0 or not code.is_stop(last)):
        problems.append("no_stop_codon")
    # Codons split in C by the regex engine: a Python loop over codons is 10x slower.
    codons = _CODON.findall(body, 0, 3 * (n_codons - 1)) if n_codons > 1 else []
    if not code.stops.isdisjoint(codons):
        problems.append("internal_stop")
    return problems


@dataclass
class ValidationReport:
    coding_transcripts: int = 0
    checked: int = 0
    valid: int = 0
    pseudo_skipped: int = 0
    partial: int = 0
    unusual_order: int = 0
    failures: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def valid_fraction(self) -> float:
        return self.valid / self.checked if self.checked else 1.0

    def as_dict(self) -> dict:
        return {
            "coding_transcripts": self.coding_transcripts,
            "checked": self.checked,
            "valid": self.valid,
            "valid_fraction": round(self.valid_fraction, 6),
            "pseudo_skipped": self.pseudo_skipped,
            "partial": self.partial,
            "unusual_order": self.unusual_order,
            "failures": {k: self.failures.get(k, 0) for k in FAILURE_KINDS},
            "examples": self.examples,
        }


def validate_annotation(
    ann: Annotation, genome: SequenceSource, default_code: int = 1, override_code: int | None = None
) -> ValidationReport:
    report = ValidationReport()
    for tx in ann.iter_transcripts():
        if not tx.is_coding:
            continue
        report.coding_transcripts += 1
        if tx.pseudo:
            report.pseudo_skipped += 1
            continue
        report.checked += 1
        report.partial += tx.start_partial or tx.end_partial
        report.unusual_order += tx.unusual_order
        n = genome.lengths.get(tx.seqid)
        if n is None or any(s.end > n for s in tx.cds):
            problems = ["past_sequence_end"]
        else:
            # validate_cds skips the phase itself: a sequence already cut at the phase would be
            # cut twice and read out of frame (a 5'-partial CDS then looked stopless and broken)
            cds = cds_sequence(tx, genome, honor_phase=False)
            problems = validate_cds(tx, cds, code_for(tx, ann, default_code, override_code))
        if problems:
            for kind in problems:
                report.failures[kind] += 1
                ex = report.examples.setdefault(kind, [])
                if len(ex) < 5:
                    ex.append(tx.id)
        else:
            report.valid += 1
    return report


def with_stop_codon(tx: Transcript, genome: SequenceSource, code: GeneticCode) -> list[Segment] | None:
    """The transcript's CDS extended by the stop codon that directly follows it, or None where
    the rule below does not apply (its CDS ends in a stop already, is no multiple of 3, is not
    followed by a stop, or runs off its sequence)."""
    if not tx.cds or tx.cds_length % 3 != 0 or tx.unusual_order:
        return None
    n = genome.lengths.get(tx.seqid)
    if n is None:
        return None
    last = tx.cds[-1]
    if last.strand == "+":
        if last.end + 3 > n:
            return None
        tail = genome.fetch(tx.seqid, last.end - 2, last.end) if last.length >= 3 else None
        after = genome.fetch(tx.seqid, last.end + 1, last.end + 3)
    else:
        if last.start - 3 < 1:
            return None
        tail = reverse_complement(genome.fetch(tx.seqid, last.start, last.start + 2)) if last.length >= 3 else None
        after = reverse_complement(genome.fetch(tx.seqid, last.start - 3, last.start - 1))
    if tail is None:
        tail = cds_sequence(tx, genome)[-3:]
    if code.is_stop(tail) or not code.is_stop(after):
        return None
    grown = Segment(last.start, last.end + 3, "+") if last.strand == "+" else Segment(last.start - 3, last.end, "-")
    return [*tx.cds[:-1], grown]


def include_stop_codons(ann: Annotation, genome: SequenceSource, default_code: int = 1, override_code: int | None = None) -> int:
    """Make stop codons consistently included (docs/architecture.md, "Ground rules"): a CDS whose
    length is a multiple of 3, which does not end in a stop but is directly followed by one, is
    extended by 3 bases (with_stop_codon).
    GTF without stop_codon rows excludes the stop; GFF3 includes it. Returns how many CDS grew."""
    grown = 0
    for tx in ann.iter_transcripts():
        cds = with_stop_codon(tx, genome, code_for(tx, ann, default_code, override_code)) if tx.cds else None
        if cds is not None:
            tx.cds = cds
            grown += 1
    return grown
