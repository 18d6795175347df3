"""Genos pretraining data: token shards with document boundaries, the sampler, the schedule."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from genet5.data.bake import reverse_complement_ids
from genet5.data.lm_data import DEFAULT_STAGES, ContextSchedule, LMCorpus, LMWindowSampler, Stage, lm_bake
from genet5.tokenizers.nucleotide import NucleotideTokenizer

TOK = NucleotideTokenizer()


def _fasta(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f">{name}\n{seq}\n" for name, seq in records))
    return path


@pytest.fixture
def corpus_dir(tmp_path):
    rng = np.random.default_rng(0)
    rnd = lambda n: "".join(rng.choice(list("ACGT"), n))  # noqa: E731
    seqs = {
        "Alpha_one": [("c1", rnd(3000)), ("c2", rnd(500)), ("tiny", "ACG")],
        "Alpha_two": [("c1", rnd(2000))],
        "Beta_three": [("x", rnd(4000)), ("allN", "N" * 1500)],
    }
    files = [_fasta(tmp_path / f"{k}.fa", v) for k, v in seqs.items()]
    return tmp_path, files, seqs


def test_lm_bake_keeps_documents_whole(corpus_dir):
    tmp, files, seqs = corpus_dir
    index = lm_bake(files, tmp / "out", shard_bases=3500, min_length=10, holdout=["Beta three"])
    assert index["documents_skipped_short"] == 1  # "tiny"
    train, valid = LMCorpus(tmp / "out", "train"), LMCorpus(tmp / "out", "valid")
    assert len(train.shard_info) >= 2  # shards roll over, between documents only
    assert train.names == ["Alpha_one/c1", "Alpha_one/c2", "Alpha_two/c1"]
    assert valid.names == ["Beta_three/x", "Beta_three/allN"]
    want = {f"{f.stem}/{n}": s for f, (_, recs) in zip(files, seqs.items()) for n, s in recs}
    for corpus in (train, valid):
        for d, name in enumerate(corpus.names):
            assert np.array_equal(corpus.document(d), TOK.encode(want[name], dtype=np.uint8))
        assert corpus.verify() == []
    assert train.total_bases == 5500 and index["splits"]["valid"]["bases"] == 5500


def test_lm_bake_names_genomes_by_folder_and_refuses_one_file_twice(tmp_path):
    a = _fasta(tmp_path / "Alpha_one" / "genome.fa", [("c1", "ACGT" * 50)])
    b = _fasta(tmp_path / "Beta_two" / "genome.fa", [("c1", "GGCA" * 50)])
    c1 = _fasta(tmp_path / "x" / "reads.fa", [("r", "ACGA" * 50)])
    c2 = _fasta(tmp_path / "y" / "reads.fa", [("r", "TTGA" * 50)])
    index = lm_bake([a, b, c1, c2], tmp_path / "out")
    keys = [e["key"] for e in index["entries"]]
    assert keys[:2] == ["Alpha_one", "Beta_two"]  # the folder, not "genome"
    assert len(set(keys)) == 4 and keys[2] != keys[3]  # same file name, different folders
    assert LMCorpus(tmp_path / "out", "train").names[0] == "Alpha_one/c1"
    with pytest.raises(ValueError, match="listed twice"):
        lm_bake([a, tmp_path / "Alpha_one" / ".." / "Alpha_one" / "genome.fa"], tmp_path / "out2")


def test_sampler_windows_are_deterministic_substrings(corpus_dir):
    tmp, files, _ = corpus_dir
    lm_bake(files, tmp / "out")
    corpus = LMCorpus(tmp / "out", "train")
    docs = [TOK.decode(corpus.document(d)) for d in range(len(corpus))]
    s = LMWindowSampler(corpus, seed=3, max_n=0.1)
    a, b = s.sample(5, 0, 1000), s.sample(5, 0, 1000)
    assert np.array_equal(a["input_ids"], b["input_ids"]) and a["input_ids"].shape == (1000,)
    assert not np.array_equal(a["input_ids"], s.sample(5, 1, 1000)["input_ids"])
    assert not np.array_equal(a["input_ids"], LMWindowSampler(corpus, seed=4).sample(5, 0, 1000)["input_ids"])
    # long context: packed from several documents; each piece lies inside one document
    for slot in range(5):
        x = s.sample(0, slot, 6000)
        ids, doc = x["input_ids"], x["doc_ids"]
        assert ids.shape == doc.shape == (6000,) and doc[0] == 0 and (np.diff(doc) >= 0).all()
        assert doc[-1] >= 1  # 6000 > the longest document (4000)
        for piece in np.unique(doc):
            text = TOK.decode(ids[doc == piece])
            assert any(text in d for d in docs)
            assert text.count("N") <= 0.1 * len(text)  # N-heavy draws were redrawn
    rc = LMWindowSampler(corpus, seed=3, rc_prob=1.0).sample(5, 0, 1000)
    assert np.array_equal(reverse_complement_ids(rc["input_ids"].astype(np.uint8)), a["input_ids"])


def test_sampler_batch_follows_schedule_and_ranks(corpus_dir):
    tmp, files, _ = corpus_dir
    lm_bake(files, tmp / "out")
    sched = ContextSchedule((Stage(64, steps=2), Stage(256, steps=2)))
    s = LMWindowSampler(LMCorpus(tmp / "out", "train"), seed=0, schedule=sched)
    assert s.batch(0, 3)["input_ids"].shape == (3, 64)
    assert s.batch(3, 3)["input_ids"].shape == (3, 256)
    assert s.batch(99, 2)["doc_ids"].shape == (2, 256)  # past the end: last stage
    r0, r1 = s.batch(1, 2, rank=0)["input_ids"], s.batch(1, 2, rank=1)["input_ids"]
    assert not np.array_equal(r0, r1)
    assert np.array_equal(r1[0], s.sample(1, 2, 64)["input_ids"])  # rank 1 owns slots 2, 3


def test_context_schedule_default_and_parse():
    sched = ContextSchedule(total_steps=1000)
    assert sched.stages == DEFAULT_STAGES
    assert [sched.context_at(t) for t in (0, 699, 700, 799, 800, 899, 900, 999, 10_000)] == [
        8192, 8192, 32768, 32768, 131072, 131072, 1 << 20, 1 << 20, 1 << 20]  # fmt: skip
    assert sched.boundaries == (700, 800, 900, 1000)
    assert sched.batch_size_at(0, 1 << 20) == 128 and sched.batch_size_at(950, 1 << 20) == 1
    p = ContextSchedule.parse("8K:100,32K:50,1M:10")
    assert [p.context_at(t) for t in (0, 99, 100, 149, 150, 1000)] == [8192, 8192, 32768, 32768, 1 << 20, 1 << 20]
    odd = ContextSchedule.parse("1000:0.33,2000:0.33,3000:0.34", total_steps=10)
    assert odd.boundaries[-1] == 10
    with pytest.raises(ValueError, match="sum to 1"):
        ContextSchedule.parse("8K:0.5,32K:0.4", total_steps=10)
    with pytest.raises(ValueError, match="total_steps"):
        ContextSchedule()
    with pytest.raises(ValueError, match="bad schedule stage"):
        ContextSchedule.parse("8K-100")
    assert ContextSchedule((Stage(10, steps=0), Stage(20, steps=5))).context_at(0) == 20  # empty stage skipped


def test_lm_bake_cli(corpus_dir):
    tmp, files, _ = corpus_dir
    r = subprocess.run([sys.executable, "-m", "genet5", "lm", "bake", *map(str, files), str(tmp / "o"), "--holdout", "Alpha one"],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "valid: 3 documents" in r.stdout
    r = subprocess.run([sys.executable, "-m", "genet5", "lm", "bake", str(tmp / "missing.fa"), str(tmp / "o2")],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 2 and "missing.fa" in r.stderr and "Traceback" not in r.stderr


def test_a_failed_lm_bake_leaves_the_previous_bake_or_nothing(corpus_dir):
    """Shards are written beside OUT_DIR and moved in when the bake is complete: a bake that fails
    half-way (a bad FASTA after good ones) leaves the previous bake byte for byte (before, its
    shards were rewritten under the old index.json), and no OUT_DIR when there was none."""
    tmp, files, _ = corpus_dir
    out = tmp / "o"
    lm_bake(files, out, holdout=["Alpha one"])
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = _fasta(tmp / "Zeta_bad.fa", [("z", "ACGT")])
    bad.write_text(">z\nAC@GT\n")
    with pytest.raises(ValueError, match="Zeta_bad.fa:2"):
        lm_bake([files[2], files[1], bad], out)  # another split layout, then the bad file
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    with pytest.raises(ValueError, match="Zeta_bad.fa:2"):
        lm_bake([files[0], bad], tmp / "new" / "o2")
    assert not (tmp / "new").exists()
    assert sorted(p.name for p in tmp.iterdir()) == sorted(["o", *(f.name for f in files), bad.name])  # no leftovers
    # a good bake replaces the old one whole: no shard of the old valid/ split survives
    lm_bake([files[1]], out)
    assert not (out / "valid").exists() and LMCorpus(out, "train").names == ["Alpha_two/c1"]
    assert sorted(p.name for p in tmp.iterdir()) == sorted(["o", *(f.name for f in files), bad.name])


def test_lm_bake_refuses_an_empty_train_split(corpus_dir):
    tmp, files, _ = corpus_dir
    with pytest.raises(ValueError, match="every input is held out"):
        lm_bake(files, tmp / "o", holdout=["Alpha one", "Alpha two", "Beta three"])
    with pytest.raises(ValueError, match="all 6 sequences of the training inputs are shorter than --min-length 5000"):
        lm_bake(files, tmp / "o", min_length=5000)
    assert not (tmp / "o").exists()
    r = subprocess.run([sys.executable, "-m", "genet5", "lm", "bake", str(files[0]), str(tmp / "o"), "--min-length", "9999"],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 2 and r.stderr.startswith("genet5: error: the train split would be empty"), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp / "o").exists()


def test_lm_bake_holds_out_the_validation_genomes_of_a_splits_file(tmp_path):
    """--splits: the held-out genomes come from the same file the gene models use."""
    for name in ("Alpha_one_a", "Alpha_one_b", "Beta_three", "Gamma_four"):
        _fasta(tmp_path / "raw" / name / "genome.fa", [("c1", "ACGT" * 60)])
    dirs = [tmp_path / "raw" / n for n in ("Alpha_one_a", "Alpha_one_b", "Beta_three")]
    splits = tmp_path / "splits.tsv"
    splits.write_text("path\tsplit\tnote\nkind/Alpha_one_a\ttrain\t\nkind/Alpha_one_b\ttrain\t\n"
                      "kind/Beta_three\tvalidation\tnot in train\n")  # fmt: skip
    index = lm_bake(dirs, tmp_path / "out", splits=splits)
    assert index["holdout_groups"] == ["Beta three"]
    assert LMCorpus(tmp_path / "out", "valid").names == ["Beta_three/c1"]
    # a genome the file does not list, and a species group on both sides, are errors
    with pytest.raises(ValueError, match="not listed"):
        lm_bake([*dirs, tmp_path / "raw" / "Gamma_four"], tmp_path / "out2", splits=splits)
    splits.write_text("path\tsplit\nAlpha_one_a\ttrain\nAlpha_one_b\tvalidation\nBeta_three\ttrain\n")
    with pytest.raises(ValueError, match="Alpha one in both train and validation"):
        lm_bake(dirs, tmp_path / "out3", splits=splits)
    index = lm_bake(dirs, tmp_path / "out4", splits=splits, group_by="genome")
    assert index["holdout_groups"] == ["Alpha_one_b"]
