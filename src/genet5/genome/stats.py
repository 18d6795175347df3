"""`genet5 stats`: one streaming pass over the FASTA (one record in memory at a time), with the
annotation's CDS validated against each record as it goes by."""

from __future__ import annotations

from pathlib import Path

from genet5.genome.fasta import RecordSequence, read_fasta
from genet5.genome.readers import load_annotation
from genet5.genome.models import GenomeFormatError, first_line_of
from genet5.genome.validate import FAILURE_KINDS, ValidationReport, check_sequences, validate_annotation


def genome_stats(
    genome_path: str | Path, annotation_path: str | Path | None = None, genetic_code: int | None = None, strict: bool = False
) -> dict:
    ann = load_annotation(annotation_path, strict=strict) if annotation_path is not None else None
    count = total = gc = acgt = n_bp = iupac = masked = 0
    longest, shortest = 0, None
    total_report = ValidationReport()
    seen: set[str] = set()
    for rec in read_fasta(genome_path):
        seen.add(rec.id)
        seq = rec.seq
        count += 1
        total += len(seq)
        longest = max(longest, len(seq))
        shortest = len(seq) if shortest is None else min(shortest, len(seq))
        g, c = seq.count(b"G"), seq.count(b"C")
        gc += g + c
        nn = seq.count(b"N")
        n_bp += nn
        acgt += len(seq) - nn
        iupac += rec.n_iupac
        masked += sum(b - a for a, b in rec.mask)
        if ann is not None and rec.id in ann.genes:
            part = ann.subset([rec.id])
            src = RecordSequence(rec)
            check_sequences(part, src)
            _merge(total_report, validate_annotation(part, src, override_code=genetic_code))
    out: dict = {
        "genome": str(genome_path),
        "sequences": {
            "count": count,
            "total_bp": total,
            "longest_bp": longest,
            "shortest_bp": shortest or 0,
            "gc_fraction": gc / acgt if acgt else 0.0,
            "n_bp": n_bp,
            "iupac_bp": iupac,
            "masked_fraction": masked / total if total else 0.0,
        },
    }
    if ann is not None:
        missing = [s for s in ann.genes if s not in seen]
        if missing:
            raise GenomeFormatError(ann.source, first_line_of(ann, missing[0]), f"sequence {missing[0]!r} is not in the genome FASTA {genome_path}")
        genes = list(ann.iter_genes())
        txs = list(ann.iter_transcripts())
        out["annotation"] = {
            "file": str(annotation_path),
            "genes": len(genes),
            "coding_genes": sum(1 for g in genes if g.coding_transcripts),
            "transcripts": len(txs),
            "coding_transcripts": sum(1 for t in txs if t.is_coding),
            "genetic_codes": sorted({genetic_code} if genetic_code else set(ann.genetic_codes.values())),
            "validation": total_report.as_dict(),
        }
    return out


def _merge(total: ValidationReport, part: ValidationReport) -> None:
    for name in ("coding_transcripts", "checked", "valid", "pseudo_skipped", "partial", "unusual_order"):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    total.failures.update(part.failures)
    for kind in FAILURE_KINDS:
        ex = total.examples.setdefault(kind, []) if part.examples.get(kind) else None
        if ex is not None:
            ex.extend(part.examples[kind][: 5 - len(ex)])
