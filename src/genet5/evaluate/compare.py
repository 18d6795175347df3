"""End-to-end comparison of two annotation files: read, make stop codons consistent with the
genome (one streaming pass over the FASTA, one chromosome in memory at a time), score."""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from genet5.evaluate.metrics import EvalResult, evaluate
from genet5.genome.fasta import RecordSequence, read_fasta
from genet5.genome.readers import load_annotation
from genet5.genome.models import Annotation, GenomeFormatError, first_line_of
from genet5.genome.validate import check_sequences, include_stop_codons
from genet5.memory import cyclic_gc_paused


@dataclass
class Comparison:
    result: EvalResult
    reference: Annotation
    prediction: Annotation


# Below this size a worker process costs more than it saves.
_PARALLEL_LOAD_BYTES = 2 << 20


def _load_pair(ref_path, pred_path, strict: bool) -> tuple[Annotation, Annotation]:
    """Both annotations, the prediction parsed in a second process while this one reads the
    reference when both files are large (whole chromosomes: parsing is most of an eval)."""
    sizes = [Path(p).stat().st_size if Path(p).is_file() else 0 for p in (ref_path, pred_path)]
    if min(sizes) < _PARALLEL_LOAD_BYTES or (os.cpu_count() or 1) < 2 or "fork" not in mp.get_all_start_methods():
        return load_annotation(ref_path, strict=strict), load_annotation(pred_path, strict=strict)
    # the prediction comes back pickled, unpickled by the pool's thread: no collections meanwhile
    with cyclic_gc_paused(), ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("fork")) as pool:
        pending = pool.submit(load_annotation, pred_path, strict)
        ref = load_annotation(ref_path, strict=strict)
        return ref, pending.result()


def compare_files(
    ref_path: str | Path,
    pred_path: str | Path,
    genome_path: str | Path | None = None,
    genetic_code: int | None = None,
    default_code: int = 1,
    strict: bool = False,
) -> Comparison:
    ref, pred = _load_pair(ref_path, pred_path, strict)
    # A prediction without transl_table (Prodigal, ours) uses the reference's codes.
    for seqid, code in ref.genetic_codes.items():
        pred.genetic_codes.setdefault(seqid, code)
    added_ref = added_pred = 0
    if genome_path is not None:
        seen: set[str] = set()
        for record in read_fasta(genome_path):
            seen.add(record.id)
            src = RecordSequence(record)
            for ann in (ref, pred):
                part = ann.subset([record.id])
                check_sequences(part, src)
            added_ref += include_stop_codons(ref.subset([record.id]), src, default_code, genetic_code)
            added_pred += include_stop_codons(pred.subset([record.id]), src, default_code, genetic_code)
        for ann in (ref, pred):
            for seqid in ann.genes:
                if seqid not in seen:
                    raise GenomeFormatError(ann.source, first_line_of(ann, seqid), f"sequence {seqid!r} is not in the genome FASTA {genome_path}")
    result = evaluate(ref, pred)
    result.stops_added_ref, result.stops_added_pred = added_ref, added_pred
    return Comparison(result, ref, pred)
