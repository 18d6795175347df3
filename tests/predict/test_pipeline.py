"""Whole-genome prediction: window stitching, and the command's outputs on the example."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from genet5.models.configs import get_preset
from genet5.models.genet5 import GeneT5
from genet5.models.weights import save_pretrained
from genet5.predict.pipeline import PredictConfig, per_base_logprobs, window_starts

EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "genet5" / "examples" / "phage_NC_016566"


def test_window_starts_cover_and_overlap():
    assert window_starts(100, 4096, 256) == [0]
    starts = window_starts(10_000, 1000, 100)
    assert starts[0] == 0 and starts[-1] == 9000
    assert all(b - a == 800 for a, b in zip(starts[:-2], starts[1:-1]))


def test_stitched_track_equals_one_full_pass():
    """With a receptive field smaller than the context, tiling must not change any base."""
    torch.manual_seed(0)
    cfg = dataclasses.replace(get_preset("genet5-tiny"), enc_window=8, enc_layers=2)  # reach 16
    model = GeneT5(cfg).eval()
    rng = np.random.default_rng(0)
    seq = rng.choice(np.frombuffer(b"ACGT", dtype=np.uint8), size=1000).tobytes()
    tiled = per_base_logprobs(model, seq, PredictConfig(window=200, context=40, batch_size=3))
    full = per_base_logprobs(model, seq, PredictConfig(window=4096, context=40))
    np.testing.assert_allclose(tiled, full, rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("model")
    save_pretrained(GeneT5(get_preset("genet5-tiny")), d)
    return d


def test_predict_command_writes_valid_outputs(tiny_model_dir, tmp_path):
    out, faa = tmp_path / "p.gff3", tmp_path / "p.faa"
    proc = subprocess.run(
        [sys.executable, "-m", "genet5", "predict", str(EXAMPLE / "genome.fa.gz"), "-o", str(out),
         "--model", str(tiny_model_dir), "--proteins", str(faa), "--quiet"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert text.startswith("##gff-version 3\n# genet5 ")
    assert "# command: genet5 predict " in text and "##sequence-region NC_016566.1 1 44077\n" in text
    proteins = [line for line in faa.read_text().splitlines() if not line.startswith(">")]
    assert proteins and all("*" not in p for p in proteins)  # every CDS translates cleanly
    if shutil.which("gt"):
        gt = subprocess.run(["gt", "gff3validator", str(out)], capture_output=True, text=True)
        assert gt.returncode == 0, gt.stderr
    # deterministic: a second run gives the same file
    again = tmp_path / "q.gff3"
    subprocess.run([sys.executable, "-m", "genet5", "predict", str(EXAMPLE / "genome.fa.gz"), "-o", str(again),
                    "--model", str(tiny_model_dir), "--quiet"], check=True, capture_output=True, timeout=300)
    def body(s: str) -> list[str]:  # all but the comment naming the command (its paths differ)
        return [ln for ln in s.splitlines() if not ln.startswith("# command:")]

    assert body(again.read_text()) == body(text)


def test_predict_without_model_is_a_clear_error(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "genet5", "predict", str(EXAMPLE / "genome.fa.gz"), "-o", str(tmp_path / "x.gff3"),
         "--model", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2 and "not a model directory" in proc.stderr and not (tmp_path / "x.gff3").exists()


def test_predict_reads_the_fasta_once_and_writes_nothing_beside_it(tiny_model_dir, tmp_path, monkeypatch):
    """One streaming read of a plain FASTA (no index, no sizing pass, no second read for the
    protein and CDS files), and the input's folder holds only what it held."""
    import gzip

    from conftest import invoke

    from genet5.genome import fasta

    data = tmp_path / "data"
    data.mkdir()
    genome = data / "genome.fa"
    genome.write_bytes(gzip.decompress((EXAMPLE / "genome.fa.gz").read_bytes()))
    opened = []
    real_open = fasta._open_binary
    monkeypatch.setattr(fasta, "_open_binary", lambda path: opened.append(path) or real_open(path))
    monkeypatch.setattr(fasta.Genome, "__init__", lambda *a, **k: pytest.fail("predict opened a Genome (index / second read)"))
    out = tmp_path / "out"
    out.mkdir()
    res = invoke("predict", genome, "-o", out / "p.gff3", "--model", tiny_model_dir, "--proteins", out / "p.faa",
                 "--cds", out / "p.fna", "--quiet", "--threads", "1", "--mode", "meta")
    assert res.exit_code == 0, res.output
    assert opened == [str(genome)]
    assert sorted(p.name for p in data.iterdir()) == ["genome.fa"]
    proteins = [ln for ln in (out / "p.faa").read_text().splitlines() if not ln.startswith(">")]
    assert proteins and all("*" not in p for p in proteins)
    assert (out / "p.fna").read_text().count(">") == (out / "p.faa").read_text().count(">")
