"""Prodigal's simple coordinate output (`prodigal -f sco`, `genet5 predict -f sco`): what Prokka
and other pipelines built around Prodigal read.

Per sequence, in the input's order, two comment lines as Prodigal writes them:

    # Sequence Data: seqnum=1;seqlen=358115;seqhdr="MT939486.1 Erwinia phage ..."
    # Model Data: version=genet5.v0.1.0;run_type=Single;model="genet5 self-trained";gc_cont=34.41;transl_table=11

(gc_cont: the sequence's own G+C, where Prodigal gives the genome's in single mode and its chosen
model's in meta mode; genet5 names meta mode's chosen parameter set in `model`), then one line
per gene, left to right: `>N_LEFT_RIGHT_STRAND`, N counting from 1 within the sequence, LEFT and
RIGHT its 1-based bounds on the forward strand (the stop codon included), and no mark for a gene
cut by a sequence end or a gap (Prodigal's own SCO has none either; the GFF3 carries `partial`).
A gene of several CDS segments (a eukaryote's introns) has no SCO line: the writer refuses it.
"""

from __future__ import annotations

from typing import IO

from genet5.errors import UserError

from .models import Annotation

# Prodigal's run_type names for genet5's decoding modes (PredictStats.mode)
RUN_TYPES = {"single": "Single", "meta": "Metagenomic", "training": "Single"}


class ScoError(UserError, ValueError):
    """The annotation holds a gene SCO cannot write (several CDS segments)."""


def write_sco_handle(fh: IO[str], annotation: Annotation, lengths: dict[str, int], headers: dict[str, str] | None = None,
                     gc: dict[str, float] | None = None, code: int = 11, run_type: str = "Single",
                     models: dict[str, str] | None = None, version: str = "") -> int:
    """Write every sequence of `lengths` (in its order) with its coding transcripts; returns the
    number of gene lines. headers: each sequence's FASTA header (after '>'; default its ID);
    gc: its G+C share (0-1, left out where not given); code: the genetic code the genes were
    decoded with; models: the parameter set that decoded each sequence (meta mode)."""
    by_seq: dict[str, list[tuple[int, int, str]]] = {}
    for tx in annotation.iter_transcripts():
        if not tx.cds:
            continue
        if len(tx.cds) > 1:
            raise ScoError(f"{tx.id} has {len(tx.cds)} CDS segments: SCO (Prodigal's simple coordinate "
                           "output) holds one span per gene; write GFF3 or GTF for genes with introns")
        seg = tx.cds[0]
        by_seq.setdefault(tx.seqid, []).append((seg.start, seg.end, tx.strand))
    written = 0
    for num, (seqid, length) in enumerate(lengths.items(), 1):
        header = (headers or {}).get(seqid) or seqid
        fh.write(f'# Sequence Data: seqnum={num};seqlen={length};seqhdr="{header}"\n')
        model = (models or {}).get(seqid) or "genet5 self-trained"
        run = [f"version=genet5.v{version}", f"run_type={run_type}", f'model="{model}"']
        if gc is not None and seqid in gc:
            run.append(f"gc_cont={100.0 * gc[seqid]:.2f}")
        run.append(f"transl_table={annotation.genetic_codes.get(seqid) or code}")  # meta mode chooses it per sequence
        fh.write(f"# Model Data: {';'.join(run)}\n")
        for i, (left, right, strand) in enumerate(sorted(set(by_seq.get(seqid, ()))), 1):
            fh.write(f">{i}_{left}_{right}_{strand}\n")
            written += 1
    return written

