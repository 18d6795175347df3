"""scripts/make_meta_models.py: the bundled meta parameter sets come from `train` genomes only
and are what the script makes with the current decoder (the code-4 sets rebuilt and compared)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

from conftest import shared_file
from genet5.data.splits import read_splits
from genet5.predict.prokaryote.meta import BUNDLED, load_sets

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_meta_models.py"
MYCOPLASMA = "prokaryotes/Mycoplasma_gallisepticum_NC_004829"  # the code-4 sets; ~1 s to self-train


def _script(genomes: Path):
    spec = importlib.util.spec_from_file_location("make_meta_models", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.GENOMES = genomes
    return mod


def test_bundled_sets_are_train_genomes_only():
    splits = read_splits(shared_file("splits.tsv"))
    index = json.loads((BUNDLED / "sets.json").read_text())
    assert index["genomes"] and all(splits.get(g) == "train" for g in index["genomes"]), index["genomes"]
    split_of = {path.split("/")[-1]: s for path, s in splits.items()}
    own = [e["name"] for e in index["sets"] if not e["name"].startswith(("gc", "x"))]  # not GC bins
    assert own and all(split_of.get(n) == "train" for n in own), own


def test_script_reproduces_the_code4_sets():
    genomes = shared_file(f"{MYCOPLASMA}/genome.fa.gz").parents[2]
    mod = _script(genomes)
    code11_bins = [s for s in load_sets() if s.code == 11 and s.name.startswith("gc")]
    made = mod.make_sets([mod.genome_pool(MYCOPLASMA, 4)], code11_bins)
    bundled = {s.name: s for s in load_sets() if s.code == 4}
    # GC bins 0.30-0.34, the extrapolated 0.24-0.28 and the genome's own
    assert sorted(s.name for s in made) == sorted(bundled) and any(n.startswith("x0.24") for n in bundled)
    for s in made:
        b = bundled[s.name]
        assert s.coding.k == b.coding.k == mod.ORDER and abs(s.gc - b.gc) < 1e-4
        np.testing.assert_allclose(s.coding.ratio, b.coding.ratio, rtol=0, atol=1e-5)
        for part in ("codon", "rbs", "mat"):
            np.testing.assert_allclose(getattr(s.starts, part), getattr(b.starts, part), rtol=0, atol=1e-5)
        # the Prodigal-method score: hexamer table, upstream composition and (the genome's own
        # set; the bins and the sets extrapolated from them have none) start weights
        assert s.dicodon is not None and b.dicodon is not None and s.dicodon.codons == b.dicodon.codons
        for part in ("coding", "upstream", "type_wt", "rbs_wt"):
            x, y = getattr(s.dicodon, part), getattr(b.dicodon, part)
            assert (x is None) == (y is None), (s.name, part)
            if x is not None:
                np.testing.assert_allclose(x, y, rtol=0, atol=1e-5)
        assert (s.dicodon.type_wt is not None) == (s.name == MYCOPLASMA.split("/")[-1])
