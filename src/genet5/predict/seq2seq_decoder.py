"""`genet5 predict --decoder seq2seq`: GeneT5's own encoder-decoder writes the genes (issue 14).

A trained seq2seq checkpoint per domain (bundled: `genet5-seq2seq` for prokaryotes,
`genet5-seq2seq-eukaryote` for eukaryotes, their cards in their bundled/ directories; another
one with `--model DIR`) reads each sequence in overlapping windows and writes gene tokens whose
coordinates are pointers to bases, decoded greedily under a constraint. Prokaryotes
(predict/seq2seq.py, `SingleExonConstraint`): single-exon genes with a start codon of the run's
set, the first in-frame stop of the genetic code, at least --min-gene-length bases. Eukaryotes
(predict/seq2seq_eukaryote.py): GT-AG multi-exon genes stitched across windows. Records are cut
at assembly gaps (runs of N) first, so no gene spans a gap and genes running into a gap or a
sequence end are partial. It does not use the per-base track, nor learn anything from the
genome itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from genet5.genome.fasta import FastaRecord
from genet5.predict.decoders import Decoded, start_codon_set
from genet5.predict.prokaryote.orfs import segments
from genet5.predict.seq2seq import Seq2SeqGene, decode_sequence
from genet5.predict.seq2seq_eukaryote import decode_eukaryote_sequence

BUNDLED_SEQ2SEQ_MODELS = {"prokaryote": "genet5-seq2seq", "eukaryote": "genet5-seq2seq-eukaryote"}
BUNDLED_SEQ2SEQ_MODEL = BUNDLED_SEQ2SEQ_MODELS["prokaryote"]
WINDOW, STRIDE = 2048, 1024  # the prokaryote training windows' length; each base seen by two windows


def load_seq2seq(path: str | Path | None):
    """The seq2seq GeneT5 at ``path`` (a directory or a bundled name; None: the bundled one).
    Raises ValueError with one line when it is not a seq2seq checkpoint."""
    from genet5.models.genet5 import GeneT5
    from genet5.models.weights import WeightLoadError, load_model, resolve_model_path

    where = resolve_model_path(path or BUNDLED_SEQ2SEQ_MODEL)
    if not (where / "config.json").is_file():
        raise ValueError(f"{where}: no seq2seq GeneT5 checkpoint there (config.json missing)")
    try:
        return load_model(where, GeneT5, device="cpu")
    except WeightLoadError as err:
        raise ValueError(f"{where}: not a seq2seq GeneT5 checkpoint ({err}); --decoder seq2seq needs one "
                         f"such as the bundled {' or '.join(BUNDLED_SEQ2SEQ_MODELS.values())}") from None


class Seq2SeqDecoder:
    uses_track = False

    def __init__(self, cfg, source: str = ""):
        self.cfg, self.source = cfg, source
        self.records: list[bytes] = []

    def add(self, rec: FastaRecord, track=None) -> None:
        self.records.append(rec.seq)

    def finish(self, on_bases: Callable[[float], None] | None = None) -> Decoded:
        cfg = self.cfg
        eukaryote = cfg.domain == "eukaryote"
        model = load_seq2seq(cfg.seq2seq_model or BUNDLED_SEQ2SEQ_MODELS[cfg.domain])
        starts = tuple(sorted(c.decode() for c in start_codon_set(cfg)))
        out = []
        for seq in self.records:
            genes: list = []
            done = 0
            for lo, hi in segments(seq):  # between assembly gaps
                if hi - lo >= cfg.min_gene_length:
                    if eukaryote:
                        found = decode_eukaryote_sequence(model, seq[lo:hi], code=cfg.genetic_code, start_codons=starts,
                                                          min_gene=cfg.min_gene_length, on_bases=on_bases)  # fmt: skip
                    else:
                        found = decode_sequence(model, seq[lo:hi], code=cfg.genetic_code, window=WINDOW, stride=STRIDE,
                                                start_codons=starts, min_gene=cfg.min_gene_length, on_bases=on_bases)  # fmt: skip
                    genes += [_shift(g, lo) for g in found]
                elif on_bases is not None:
                    on_bases(hi - lo)
                done += hi - lo
            if on_bases is not None:
                on_bases(len(seq) - done)  # the gaps
            out.append(sorted(genes, key=lambda g: (g.start, g.end, g.strand)))
        return Decoded(genes=out)


def _shift(g, offset: int):
    """A gene of a gap-free piece on its record (prokaryote Seq2SeqGene or eukaryote ViterbiGene)."""
    from dataclasses import replace

    if isinstance(g, Seq2SeqGene):
        return replace(g, start=g.start + offset, end=g.end + offset)
    return replace(g, cds=[(a + offset, b + offset) for a, b in g.cds])
