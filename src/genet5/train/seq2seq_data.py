"""Training windows for the seq2seq GeneT5 (issue 14): `train` genomes of a splits.tsv cut into
windows with grounded targets.

A target is the annotation codec's token sequence (tokenizers/annotation.py): per gene a strand
token, then boundary tokens each carrying a *pointer*, the 0-based index of a base of the
window (the A of the start codon, the last base of the stop codon, the exon side of a splice
site). No coordinate is ever a number token. Windows come from `genet5.data.bake`'s own
`sequence_samples` (both strands, the minus strand as the reverse complement with mirrored
genes), so these windows are exactly the ones `genet5 bake` writes to shards; this module only
chooses the genomes and keeps the windows in memory for a short CPU run.

Genome choice: `train_entries` reads manifest.tsv and splits.tsv with `read_manifest` /
`read_splits` and returns only rows split `train` (a validation row can never come out,
whatever `taxa` says), optionally restricted to some taxa (prokaryotes, archaea, phages,
plastids first: single-exon genes).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from genet5.data.bake import BakeConfig, _new_stats, sequence_samples
from genet5.data.splits import Entry, read_manifest, read_splits
from genet5.genome.fasta import read_fasta
from genet5.tokenizers.annotation import plus_strand_target
from genet5.tokenizers.nucleotide import NucleotideTokenizer

# taxa (manifest column) whose genes have no introns: the first curriculum of the seq2seq model
SINGLE_EXON_TAXA = ("prokaryotes", "archaea", "phages", "plastids")

_TOKENIZER = NucleotideTokenizer()


def train_entries(manifest: Path, splits: Path, taxa: Sequence[str] | None = SINGLE_EXON_TAXA) -> list[Entry]:
    """Annotated manifest entries that splits.tsv marks `train` (and whose taxon is in
    ``taxa``, if given), in manifest order. A manifest row the splits file does not list is an
    error: an unlisted genome might be a held-out one."""
    entries = read_manifest(Path(manifest))
    split = read_splits(Path(splits))
    out = []
    for e in entries:
        side = split.get(e.path.strip("/"))
        if side is None:
            raise ValueError(f"{e.path}: not listed in {splits}")
        if side != "train" or e.annotation is None:
            continue
        if taxa is not None and e.taxon not in taxa:
            continue
        out.append(e)
    return out


@dataclass
class Seq2SeqWindow:
    """One training window: DNA ids, per-base labels and the grounded target."""

    key: str  # genome entry
    seqid: str
    start: int  # 1-based closed genomic span of the window
    end: int
    strand: int  # +1: the genome as given; -1: its reverse complement
    genetic_code: int
    ids: np.ndarray  # uint8 nucleotide ids (Genos tokenizer), window order
    labels: np.ndarray  # uint8 per-base classes (annotation.BaseClass)
    types: list[int]  # target token types, ending in EOS
    ptrs: list[int]  # target pointers (window positions, IGNORE on pointer-less tokens)

    def item(self) -> dict:
        """The dict `train.genet5_task.collate_windows` takes (arrays kept uint8: it widens them)."""
        return {"input_ids": self.ids, "base_labels": self.labels,
                "target_types": self.types, "target_pointers": self.ptrs}  # fmt: skip


def entry_windows(
    entry: Entry, *, window: int = 2048, overlap: int = 256, subset: float = 1.0, seed: int = 0,
    stats: dict | None = None, target_strands: str = "both",
) -> Iterator[Seq2SeqWindow]:
    """Every kept window of one genome on both strands (bake's geometry and targets).
    ``target_strands`` "plus": each target keeps only the window's plus-strand genes (its
    reverse complement's window, also kept, carries the minus ones): GeneT5Config.target_strands."""
    if target_strands not in ("both", "plus"):
        raise ValueError(f"target_strands must be 'both' or 'plus', not {target_strands!r}")
    from genet5.genome.readers import load_annotation

    cfg = BakeConfig(window=window, overlap=overlap, subset=subset, seed=seed)
    cfg.check()
    stats = _new_stats() if stats is None else stats
    annot = load_annotation(entry.annotation)
    for rec in read_fasta(entry.genome):
        genes = annot.genes.get(rec.id, [])
        if not genes:
            continue
        code = annot.genetic_codes.get(rec.id) or entry.genetic_code or 1
        ids_all = _TOKENIZER.encode(rec.seq, dtype=np.uint8)
        for s in sequence_samples(0, rec.id, ids_all, genes, cfg, entry.key, stats):
            types, ptrs = s.types, s.ptrs
            if target_strands == "plus":
                types, ptrs = plus_strand_target(types, ptrs, len(s.ids))
            yield Seq2SeqWindow(entry.key, rec.id, s.start, s.end, s.strand, code, s.ids, s.labels, types, ptrs)


__all__ = ["SINGLE_EXON_TAXA", "Seq2SeqWindow", "entry_windows", "train_entries"]
