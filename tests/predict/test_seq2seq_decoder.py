"""The seq2seq decoder as `genet5 predict` builds it: records cut at assembly gaps, progress
counted over every base, the bundled checkpoint loaded by name."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

import genet5
from genet5.genome.fasta import FastaRecord
from genet5.predict.decoders import build_decoder
from genet5.predict.pipeline import PredictConfig
from genet5.predict.seq2seq import valid_gene

EXAMPLE = Path(genet5.__file__).parent / "examples" / "phage_NC_016566" / "genome.fa.gz"


def test_no_gene_spans_a_gap_and_progress_counts_every_base():
    with gzip.open(EXAMPLE, "rt") as f:
        seq = "".join(ln.strip() for ln in f if not ln.startswith(">")).upper()
    # a 100-base gap inside the terminase gene (628-2013 in the reference)
    rec = (seq[:1200] + "N" * 100 + seq[1300:6000]).encode()
    cfg = PredictConfig(domain="prokaryote", decoder="seq2seq", genetic_code=11)
    dec = build_decoder(cfg, "test")
    dec.add(FastaRecord("r", "", rec), None)
    dec.add(FastaRecord("short", "", b"ACGT" * 10), None)  # shorter than a gene: none, still counted
    seen = []
    genes, short = dec.finish(seen.append).genes
    assert sum(seen) == len(rec) + 40 and not short
    assert genes and all(g.end <= 1200 or g.start > 1300 for g in genes)
    assert all(valid_gene(g, rec, 11, ("ATG", "GTG", "TTG")) for g in genes)
    # the terminase gene runs into the gap: 3' partial, ending on a whole codon before it
    assert any(g.end_partial and 1197 < g.end <= 1200 for g in genes), genes


def test_unknown_checkpoint_is_one_clear_error(tmp_path):
    from genet5.predict.seq2seq_decoder import load_seq2seq

    with pytest.raises(ValueError, match="no seq2seq GeneT5 checkpoint"):
        load_seq2seq(tmp_path)
