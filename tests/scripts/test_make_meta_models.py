"""scripts/make_meta_models.py: the bundled meta parameter sets come from `train` genomes only
and are what the script makes with the current decoder (one small set rebuilt and compared)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

from conftest import shared_file
from genet5.data.splits import read_splits
from genet5.predict.prokaryote.meta import BUNDLED, load_sets

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_meta_models.py"
PHAGE = "phages/enterobacteria_phage_NC_000902"  # ~40 kb: self-trains in about a second


def _script(genomes: Path):
    spec = importlib.util.spec_from_file_location("make_meta_models", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.GENOMES = genomes
    return mod


def test_bundled_sets_are_train_genomes_only():
    splits = read_splits(shared_file("splits.tsv"))
    split_of = {path.split("/")[-1]: s for path, s in splits.items()}
    names = [e["name"] for e in json.loads((BUNDLED / "sets.json").read_text())["sets"]]
    assert names and all(split_of.get(n) == "train" for n in names), names


def test_script_reproduces_a_bundled_set():
    genomes = shared_file(f"{PHAGE}/genome.fa.gz").parents[2]
    made = _script(genomes).parameter_set(PHAGE, 11)
    bundled = {s.name: s for s in load_sets()}[made.name]
    assert made.coding.k == bundled.coding.k
    assert abs(made.gc - bundled.gc) < 1e-4
    np.testing.assert_allclose(made.coding.ratio, bundled.coding.ratio, rtol=0, atol=1e-6)
    for part in ("codon", "rbs", "mat"):
        np.testing.assert_allclose(getattr(made.starts, part), getattr(bundled.starts, part), rtol=0, atol=1e-6)
