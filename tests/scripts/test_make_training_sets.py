"""scripts/make_training_sets.py follows a splits.tsv: the rows it writes carry the file's split,
`genet5 bake --splits` / `genet5 lm bake --splits` on them hold out exactly the `validation`
genomes, and a genome the file does not list stops it."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import pytest

from conftest import shared_genomes_dir
from genet5.data.bake import BakeConfig, bake, plan
from genet5.data.lm_data import lm_bake
from genet5.data.splits import read_manifest, read_splits

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_training_sets.py"
HEADER = "path\tspecies\ttaxon\tgenetic_code\tannotation\n"


def _script():
    spec = importlib.util.spec_from_file_location("make_training_sets", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _genome(folder: Path, seqs: dict[str, str]) -> None:
    folder.mkdir(parents=True)
    with gzip.open(folder / "genome.fa.gz", "wt") as fh:
        fh.writelines(f">{k}\n{v}\n" for k, v in seqs.items())
    with gzip.open(folder / "annotation.gff3.gz", "wt") as fh:
        fh.write("##gff-version 3\n")
        for k in seqs:  # one gene per sequence: ATG ... TAA
            fh.write(f"{k}\tt\tgene\t1\t9\t.\t+\t.\tID={k}g\n{k}\tt\tmRNA\t1\t9\t.\t+\t.\tID={k}t;Parent={k}g\n"
                     f"{k}\tt\tCDS\t1\t9\t.\t+\t0\tID={k}c;Parent={k}t\n")  # fmt: skip


@pytest.fixture
def shared(tmp_path) -> Path:
    root = tmp_path / "genomes"
    body = "ATGAAATAA" + "ACGTTGCA" * 40
    rows = [("prokaryotes/Alpha_one", "Alpha one", "train"), ("prokaryotes/Beta_two", "Beta two", "validation"),
            ("phages/gamma_phage_X", "Gamma phage X", "train"), ("plastids/Delta_chloroplast", "Delta three chloroplast", "train"),
            ("fungi/Saccharomyces_cerevisiae_S288C", "Saccharomyces cerevisiae S288C", "train"),
            ("fungi/Zeta_four", "Zeta four", "validation")]  # fmt: skip
    for path, _, _ in rows:
        seqs = {f"{path.rsplit('/', 1)[-1]}_1": body}
        if "Saccharomyces" in path:  # yeast: chromosomes I, III, VI and one other
            seqs = {"BK006935.2": body, "BK006936.2": body, "BK006937.2": body, "BK006940.2": body}
        _genome(root / path, seqs)
    (root / "manifest.tsv").write_text(HEADER + "".join(f"{p}\t{s}\t{p.split('/')[0]}\t11\tannotation.gff3.gz\n" for p, s, _ in rows))
    (root / "splits.tsv").write_text("path\tsplit\tnote\n" + "".join(f"{p}\t{sp}\t\n" for p, _, sp in rows))
    return root


def test_sets_carry_the_split_and_bakes_hold_out_its_validation_genomes(shared, tmp_path):
    work = tmp_path / "sets"
    side = _script().build(shared, work)
    truth = read_splits(shared / "splits.tsv")
    assert read_splits(work / "splits.tsv") == side
    assert side == {p: truth[p] for p in side}  # every row as the shared file has it
    assert set(side) == {p for p in truth if not p.startswith("fungi/Zeta")}  # a validation fungus is not in these sets
    mix = read_manifest(work / "mix" / "manifest.tsv")
    assert sorted(e.path for e in mix) == sorted(side)
    index = bake(work / "mix" / "manifest.tsv", tmp_path / "bake", BakeConfig(window=64, overlap=8, splits=work / "splits.tsv"),
                 show_progress=False)  # fmt: skip
    assert index["holdout_groups"] == ["Beta two"]
    assert {s["key"]: s["split"] for s in index["species"]}["prokaryotes__Beta_two"] == "valid"
    assert index["totals"]["valid"]["species"] == 1 and index["totals"]["train"]["species"] == 4
    lm = lm_bake([work / "prok" / "manifest.tsv"], tmp_path / "lm", splits=work / "splits.tsv")
    assert {e["key"]: e["split"] for e in lm["entries"]} == {
        "prokaryotes__Alpha_one": "train", "prokaryotes__Beta_two": "valid",
        "phages__gamma_phage_X": "train", "plastids__Delta_chloroplast": "train"}  # fmt: skip


def test_bundled_sets_leave_yeast_chromosomes_out_and_unlisted_genomes_stop_it(shared, tmp_path):
    work = tmp_path / "sets"
    side = _script().build(shared, work, bundled=True)
    assert side["fungi/yeast_train"] == "train" and "fungi/Saccharomyces_cerevisiae_S288C" not in side
    with gzip.open(work / "mix" / "fungi" / "yeast_train" / "genome.fa.gz", "rt") as fh:
        assert [ln[1:].strip() for ln in fh if ln.startswith(">")] == ["BK006936.2"]
    assert (work / "yeast_test" / "genome.fa").read_text().count(">") == 3
    _, held = plan(work / "mix" / "manifest.tsv", BakeConfig(window=64, overlap=8, splits=work / "splits.tsv"))
    assert held == {"Beta two"}
    (shared / "splits.tsv").write_text("path\tsplit\nprokaryotes/Alpha_one\ttrain\n")
    with pytest.raises(SystemExit, match="Beta_two"):
        _script().build(shared, tmp_path / "sets2")


@pytest.mark.skipif(shared_genomes_dir() is None, reason="../shared/genomes not present: real-data test skipped")
def test_real_sets_follow_the_shared_split(tmp_path):
    root = shared_genomes_dir()
    side = _script().build(root, tmp_path / "sets")
    truth = read_splits(root / "splits.tsv")
    assert side == {p: truth[p] for p in side}
    assert "fungi/Saccharomyces_cerevisiae_S288C" in side  # the whole yeast genome: `train` there
    validation = {p for p, s in side.items() if s == "validation"}
    assert validation == {p for p, s in truth.items() if s == "validation" and p.split("/")[0] in ("prokaryotes", "phages", "plastids")}
    _, held = plan(tmp_path / "sets" / "mix" / "manifest.tsv", BakeConfig(window=2048, overlap=256, splits=tmp_path / "sets" / "splits.tsv"))
    assert held == {"Vibrio cholerae", "Mycoplasmoides alvi", "Erwinia phage"}
