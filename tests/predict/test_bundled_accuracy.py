"""The bundled gene model on the bundled example phage (a validation species), end to end
through the CLI: a guard on the model file, the pipeline and the prokaryotic decoder together.

Measured 2026-12-03 (bundled genet5-cpu, --domain prokaryote by default): stop F1 0.979, exact
start+stop F1 0.942 (2026-12-01, the ORF decoder: 0.945 / 0.897). The bars leave a margin for
CPU/BLAS rounding."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import genet5

EXAMPLE = Path(genet5.__file__).parent / "examples" / "erwinia_phage_MT939486"


@pytest.mark.slow
def test_bundled_model_on_the_example_phage(tmp_path):
    gff, report = tmp_path / "pred.gff3", tmp_path / "eval.json"
    cli = [sys.executable, "-m", "genet5"]
    subprocess.run([*cli, "predict", str(EXAMPLE / "genome.fa.gz"), "-o", str(gff), "--threads", "2", "-q"],
                   check=True, timeout=600)  # fmt: skip
    subprocess.run([*cli, "eval", str(EXAMPLE / "annotation.gff3.gz"), str(gff), "--genome", str(EXAMPLE / "genome.fa.gz"),
                    "--json", str(report)], check=True, capture_output=True, timeout=300)  # fmt: skip
    scores = json.loads(report.read_text())
    assert scores["stop"]["f1"] >= 0.97, scores["stop"]
    assert scores["start_stop"]["f1"] >= 0.93, scores["start_stop"]
    assert 500 <= scores["gene"]["n_pred"] <= 560
