"""One entry point for every annotation format a user may hand in."""

from __future__ import annotations

from pathlib import Path

from genet5.genome.gff import iter_lines, read_annotation
from genet5.genome.models import Annotation
from genet5.memory import cyclic_gc_paused


def is_genbank(path: str | Path) -> bool:
    for _, line in iter_lines(path):
        if line.strip():
            return line.startswith("LOCUS")
    return False


def load_annotation(path: str | Path, strict: bool = False) -> Annotation:
    """GFF3, GTF (sniffed) or a GenBank flat file (by its LOCUS line)."""
    if is_genbank(path):
        from genet5.genome.genbank import read_genbank

        with cyclic_gc_paused():  # as read_annotation: many objects that all stay alive
            return read_genbank(path)[0]
    return read_annotation(path, strict=strict)
