"""The decoder table (predict/decoders.py): every entry builds and has the Decoder shape, the
pipeline goes through it (a decoder added as one class plus one table line is used by predict),
and the CLI's --decoder choices and help come from it."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from genet5.genome.fasta import write_fasta
from genet5.predict import decoders
from genet5.predict.decoders import DECODERS, Decoded, DecoderEntry, decoders_for, default_decoder
from genet5.predict.orf_decoder import OrfGene
from genet5.predict.pipeline import PredictConfig, predict_genome


def test_table_entries_build_with_the_decoder_shape():
    assert list(DECODERS) == ["prokaryote", "selftrained", "orf", "viterbi", "seq2seq"]
    assert default_decoder("prokaryote") == "prokaryote" and default_decoder("eukaryote") == "selftrained"
    assert decoders_for("prokaryote") == ["prokaryote", "seq2seq"]
    assert decoders_for("eukaryote") == ["selftrained", "orf", "viterbi", "seq2seq"]
    for entry in DECODERS.values():
        dec = entry.build(PredictConfig(genetic_code=11, domain=entry.domains[0], decoder=entry.name), "genome.fa")
        assert isinstance(dec.uses_track, bool)
        assert list(inspect.signature(dec.add).parameters) == ["rec", "track"]
        assert callable(dec.finish)
    assert DECODERS["selftrained"].build(PredictConfig(decoder="selftrained")).uses_track is False
    prok = DECODERS["prokaryote"]
    assert prok.build(PredictConfig(domain="prokaryote", use_network=False)).uses_track is False


class EveryStopIsAGene:
    """A toy decoder: one 'gene' from the first base to the first TAA of the forward strand, on
    records long enough to get a track."""

    uses_track = True

    def __init__(self, cfg, source=""):
        self.genes = []

    def add(self, rec, track):
        end = rec.seq.find(b"TAA")
        found = track is not None and track.shape == (len(rec.seq), 6) and end >= 0
        self.genes.append([OrfGene("+", 1, end + 3, 1.0, start_codon="ATG")] if found else [])

    def finish(self, on_bases=None):
        return Decoded(self.genes, mode="toy")


def test_a_decoder_is_one_class_plus_one_table_line(monkeypatch, tmp_path):
    monkeypatch.setitem(DECODERS, "toy", DecoderEntry("toy", ("eukaryote",), f"{__name__}:EveryStopIsAGene", "a toy"))
    from genet5.predict import pipeline

    seen = []
    monkeypatch.setattr(pipeline, "per_base_logprobs", lambda model, s, cfg, on_bases=None: np.zeros((len(s), 6), np.float32))
    write_fasta(tmp_path / "g.fa", [("a", "ATG" + "GCC" * 40 + "TAA" + "C" * 30), ("b", "ATGTAA")])
    ann, lengths, stats = predict_genome(None, tmp_path / "g.fa", PredictConfig(decoder="toy"), on_record=seen.append)
    assert [g.transcripts[0].cds[0].end for g in ann.iter_genes()] == [126]
    assert stats.mode == "toy" and stats.per_sequence == {"a": 1, "b": 0} and lengths == {"a": 156, "b": 6}
    assert [r.id for r in seen] == ["a", "b"]


def test_unknown_decoder_is_named():
    with pytest.raises(ValueError, match="unknown decoder 'nope'"):
        decoders.build_decoder(PredictConfig(decoder="nope"))


def test_cli_decoder_choices_come_from_the_table(tmp_path):
    from conftest import run_cli

    fa = tmp_path / "g.fa"
    write_fasta(fa, [("a", "ACGT" * 100)])
    r = run_cli("predict", fa, "-o", tmp_path / "x.gff3", "--decoder", "nope")
    assert r.returncode == 2 and "--decoder: 'nope' is not one of prokaryote, selftrained, orf, viterbi, seq2seq" in r.stderr
    r = run_cli("predict", fa, "-o", tmp_path / "x.gff3", "--domain", "prokaryote", "--decoder", "orf")
    assert r.returncode == 2 and "--decoder orf decodes eukaryote genomes; drop it or use --domain eukaryote" in r.stderr
    r = run_cli("predict", "--help")
    assert all(name in r.stdout for name in DECODERS)
