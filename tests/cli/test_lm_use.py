"""`genet5 lm score / embed / generate` on a tiny random Genos saved to disk: the files they
write, agreement with the genet5.lm functions, and one clear line for each user error."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import invoke, run_cli
from genet5 import lm
from genet5.models.configs import get_preset
from genet5.models.genos import Genos
from genet5.models.weights import save_pretrained

BUNDLED_GENET5 = Path(__file__).resolve().parents[2] / "src" / "genet5" / "bundled" / "genet5-cpu"


def rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f, delimiter="\t"))


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A saved genos-tiny (context 256), a 2-record FASTA (one longer than the context)."""
    torch.set_num_threads(1)
    tmp = tmp_path_factory.mktemp("lmuse")
    torch.manual_seed(0)
    save_pretrained(Genos(get_preset("genos-tiny")), tmp / "model")
    rng = np.random.default_rng(0)
    seqs = {"s1": "".join(rng.choice(list("ACGT"), 700)), "s2": "".join(rng.choice(list("ACGT"), 90)) + "NNRY"}
    (tmp / "x.fa").write_text("".join(f">{k} some description\n{v}\n" for k, v in seqs.items()))
    model = lm.load_genos(tmp / "model")
    return tmp, model, seqs


def test_score_sequences_and_windows(setup, tmp_path):
    tmp, model, seqs = setup
    res = invoke("lm", "score", tmp / "model", tmp / "x.fa", "-o", tmp_path / "s.tsv", "--threads", "1", "-q")
    assert res.exit_code == 0, res.output
    got = rows(tmp_path / "s.tsv")
    assert list(got[0]) == ["seqid", "start", "end", "n_bases", "log_likelihood", "bits_per_base"]
    assert [(r["seqid"], r["start"], r["end"], r["n_bases"]) for r in got] == [("s1", "0", "700", "699"), ("s2", "0", "94", "89")]
    for r in got:
        ll = lm.score_sequence(model, seqs[r["seqid"]])
        assert float(r["log_likelihood"]) == pytest.approx(ll, abs=1e-5)
        assert float(r["bits_per_base"]) == pytest.approx(-ll / int(r["n_bases"]) / np.log(2), abs=1e-5)
    res = invoke("lm", "score", tmp / "model", tmp / "x.fa", "--window", "300", "--threads", "1", "-q")
    assert res.exit_code == 0, res.output
    win = list(csv.DictReader(res.stdout.splitlines(), delimiter="\t"))
    assert [(r["seqid"], int(r["start"]), int(r["end"])) for r in win] == [
        ("s1", 0, 300), ("s1", 300, 600), ("s1", 600, 700), ("s2", 0, 94)]  # fmt: skip
    assert sum(float(r["log_likelihood"]) for r in win[:3]) == pytest.approx(float(got[0]["log_likelihood"]), abs=1e-4)


def test_score_vcf_gives_alt_minus_ref(setup, tmp_path):
    tmp, model, seqs = setup
    s1 = seqs["s1"]
    alt = "ACGT"[("ACGT".index(s1[99]) + 1) % 4]
    (tmp_path / "v.vcf").write_text(
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\n"
        f"s1\t100\trs1\t{s1[99]}\t{alt},<DEL>\ns1\t400\t.\t{s1[399:402]}\t{s1[399]}\n"
    )
    res = invoke("lm", "score", tmp / "model", tmp / "x.fa", "--vcf", tmp_path / "v.vcf", "--flank", "50",
                 "-o", tmp_path / "e.tsv", "--threads", "1", "-q")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "skipped 1 symbolic ALT allele(s)" in res.stderr
    got = rows(tmp_path / "e.tsv")
    assert list(got[0]) == ["chrom", "pos", "id", "ref", "alt", "ll_ref", "ll_alt", "delta_ll"]
    assert [(r["chrom"], r["pos"], r["id"], r["alt"]) for r in got] == [("s1", "100", "rs1", alt), ("s1", "400", ".", s1[399])]
    ll_ref = lm.score_sequence(model, s1[49:150])
    ll_alt = lm.score_sequence(model, s1[49:99] + alt + s1[100:150])
    assert float(got[0]["ll_ref"]) == pytest.approx(ll_ref, abs=1e-4)
    assert float(got[0]["delta_ll"]) == pytest.approx(ll_alt - ll_ref, abs=1e-4)


def test_vcf_mismatches_are_skipped_and_counted_or_stop_with_strict_ref(setup, tmp_path):
    tmp, _, seqs = setup
    s1 = seqs["s1"]
    wrong = "ACGT"[("ACGT".index(s1[9]) + 1) % 4]
    good_alt = "ACGT"[("ACGT".index(s1[99]) + 1) % 4]
    (tmp_path / "v.vcf").write_text(
        f"#CHROM\tPOS\tID\tREF\tALT\ns1\t10\t.\t{wrong}\tA\nchrZ\t5\t.\tA\tC\n"
        f"s1\t100\tok\t{s1[99]}\t{good_alt}\n"
    )
    out = tmp_path / "e.tsv"
    res = invoke("lm", "score", tmp / "model", tmp / "x.fa", "--vcf", tmp_path / "v.vcf", "-o", out, "-q", "--threads", "1")
    assert res.exit_code == 0, res.output
    assert [r["id"] for r in rows(out)] == ["ok"]  # one bad record no longer sinks the file
    warn = [ln for ln in res.stderr.splitlines() if "warning" in ln]
    assert len(warn) == 1 and "skipped 2 variant allele(s) that do not match" in warn[0]
    assert f"s1:10 REF {wrong} but the reference has {s1[9]}" in warn[0] and "CHROM 'chrZ'" in warn[0]

    out.unlink()
    res = invoke("lm", "score", tmp / "model", tmp / "x.fa", "--vcf", tmp_path / "v.vcf", "-o", out, "-q",
                 "--threads", "1", "--strict-ref")  # fmt: skip
    assert res.exit_code == 2, res.output
    assert res.stderr.strip().splitlines() == [
        f"genet5: error: {tmp_path / 'v.vcf'}:2: s1:10 REF {wrong} but the reference has {s1[9]}"]  # fmt: skip
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["v.vcf"]
    # a CHROM missing from the reference names the reference's FASTA (was "the reference reference")
    (tmp_path / "v.vcf").write_text("#CHROM\tPOS\tID\tREF\tALT\nchrZ\t5\t.\tA\tC\n")
    res = invoke("lm", "score", tmp / "model", tmp / "x.fa", "--vcf", tmp_path / "v.vcf", "-q", "--strict-ref")
    assert res.exit_code == 2 and f"CHROM 'chrZ' is not in the reference {tmp / 'x.fa'}" in res.stderr, res.output


def test_embed_npy_with_index(setup, tmp_path):
    tmp, model, seqs = setup
    out = tmp_path / "e.npy"
    res = invoke("lm", "embed", tmp / "model", tmp / "x.fa", "-o", out, "--pool", "max", "--window", "400", "--threads", "1", "-q")
    assert res.exit_code == 0, res.output
    arr = np.load(out)
    assert arr.dtype == np.float32 and arr.shape == (3, 64)
    index = rows(tmp_path / "e.index.tsv")
    assert [(r["row"], r["seqid"], r["start"], r["end"]) for r in index] == [
        ("0", "s1", "0", "400"), ("1", "s1", "400", "700"), ("2", "s2", "0", "94")]  # fmt: skip
    np.testing.assert_allclose(arr[1], lm.embed_sequence(model, seqs["s1"][400:], pool="max"), atol=1e-6)


def test_embed_parquet(setup, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow not installed (optional: pip install 'genet5[lm]')")
    tmp, model, seqs = setup
    out = tmp_path / "e.parquet"
    res = invoke("lm", "embed", tmp / "model", tmp / "x.fa", "-o", out, "--threads", "1", "-q")
    assert res.exit_code == 0, res.output
    table = pq.read_table(out).to_pydict()
    assert table["seqid"] == ["s1", "s2"] and table["start"] == [0, 0] and table["end"] == [700, 94]
    np.testing.assert_allclose(np.array(table["embedding"][1]), lm.embed_sequence(model, seqs["s2"]), atol=1e-6)


def test_parquet_without_pyarrow_says_how_to_install(setup, tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a))
    tmp, _, _ = setup
    res = invoke("lm", "embed", tmp / "model", tmp / "x.fa", "-o", tmp_path / "e.parquet")
    assert res.exit_code == 2 and "pip install pyarrow" in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_generate_is_seeded_dna_with_named_records(setup, tmp_path):
    tmp, _, _ = setup
    (tmp_path / "p.fa").write_text(">p1\nACGTAC\n>p2\nGGGNNA\n")
    args = ["lm", "generate", tmp / "model", "--prompt-fasta", tmp_path / "p.fa", "-n", "50", "--num-samples", "2",
            "--top-k", "3", "--top-p", "0.9", "--seed", "7", "--threads", "1", "-q"]  # fmt: skip
    a = invoke(*args, "-o", tmp_path / "a.fa")
    b = invoke(*args, "-o", tmp_path / "b.fa")
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    text = (tmp_path / "a.fa").read_text()
    assert text == (tmp_path / "b.fa").read_text()
    recs = dict(zip(text.split()[::2], text.split()[1::2]))
    assert list(recs) == [">p1_sample1", ">p1_sample2", ">p2_sample1", ">p2_sample2"]
    assert all(len(s) == 50 and set(s) <= set("ACGT") for s in recs.values())
    with_prompt = invoke("lm", "generate", tmp / "model", "--prompt", "acgtac", "-n", "20", "--temperature", "0",
                         "--include-prompt", "-q")  # fmt: skip
    greedy = invoke("lm", "generate", tmp / "model", "--prompt", "ACGTAC", "-n", "20", "--top-p", "1e-6", "--seed", "1", "-q")
    assert with_prompt.exit_code == 0 and greedy.exit_code == 0, with_prompt.output + greedy.output
    assert with_prompt.stdout.splitlines()[0] == ">prompt_sample1"
    assert with_prompt.stdout.splitlines()[1] == "ACGTAC" + greedy.stdout.splitlines()[1]


@pytest.mark.parametrize(
    "case, words",
    [
        ("missing", "no such model directory"),
        ("no_config", "not a model directory (no config.json)"),
        ("genet5", "not a Genos language model (model_type 'genet5_per_base')"),
        ("empty_fasta", "empty FASTA file"),
        ("cuda", "CUDA is not available"),
        ("bad_prompt", "is not a DNA sequence"),
        ("stride", "--context-stride (300) must not exceed --context (100)"),
        ("tpu", "device 'tpu': expected auto, cpu or cuda"),
        ("no_layers", "config.json: n_layers must be >= 1, got 0"),
        ("temperature_inf", "--temperature must be a finite number >= 0, got inf"),
        ("temperature_nan", "--temperature must be a finite number >= 0, got nan"),
    ],
)
def test_user_errors_are_one_line(setup, tmp_path, case, words):
    tmp, _, _ = setup
    model, fasta = tmp / "model", tmp / "x.fa"
    cmd = ["score"]
    extra: list = ["-o", tmp_path / "out.tsv"]
    if case == "missing":
        model = tmp_path / "nope"
    elif case == "no_config":
        model = tmp_path / "empty_dir"
        model.mkdir()
    elif case == "genet5":
        model = BUNDLED_GENET5
    elif case == "empty_fasta":
        fasta = tmp_path / "empty.fa"
        fasta.write_text("")
    elif case == "cuda":
        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA")
        extra += ["--device", "cuda"]
    elif case == "stride":
        extra += ["--context", "100", "--context-stride", "300"]
    elif case == "tpu":
        extra += ["--device", "tpu"]
    elif case == "no_layers":  # parses, but the model cannot be built (a division by zero before)
        model = tmp_path / "model"
        shutil.copytree(tmp / "model", model)
        config = json.loads((model / "config.json").read_text())
        (model / "config.json").write_text(json.dumps({**config, "n_layers": 0}))
    if case == "bad_prompt":
        res = invoke("lm", "generate", model, "--prompt", "ACGT-X", "-q")
    elif case.startswith("temperature"):
        res = invoke("lm", "generate", model, "--prompt", "ACGT", "-q", "--temperature", case.split("_")[1])
    else:
        res = invoke("lm", *cmd, model, fasta, "-q", *extra)
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("genet5: error: ") and words in lines[0], res.stderr
    assert not (tmp_path / "out.tsv").exists()


def test_load_model_one_line():
    import genet5

    with pytest.raises(ValueError, match="no such model directory"):
        genet5.load_model("/no/such/model")
    m = genet5.load_model(BUNDLED_GENET5)
    assert not m.training and type(m).__name__ != "Genos"


def test_vcf_bad_line_late_in_the_file_leaves_stdout_empty(setup, tmp_path):
    tmp, _, seqs = setup
    s1 = seqs["s1"]
    alt = "ACGT"[("ACGT".index(s1[99]) + 1) % 4]
    (tmp_path / "v.vcf").write_text(f"#CHROM\tPOS\tID\tREF\tALT\ns1\t100\tok\t{s1[99]}\t{alt}\ns1\tx\t.\tA\tC\n")
    res = invoke("lm", "score", tmp / "model", tmp / "x.fa", "--vcf", tmp_path / "v.vcf", "-q", "--threads", "1")
    assert res.exit_code == 2 and res.stdout == ""  # not the header and one row, then an error
    assert "v.vcf:3: POS 'x' is not a positive integer" in res.stderr


def test_outputs_are_never_inputs_and_dash_is_stdout(setup, tmp_path):
    """`lm score x.fa -o x.fa` (and --vcf v.vcf -o v.vcf, generate --prompt-fasta p.fa -o p.fa)
    replaced the input with the output and exited 0: refused, the input untouched. `-o -` is
    standard output (was a file named '-'). A FASTA that fails on its first record prints no
    header on standard output before the error (the table is whole or absent)."""
    tmp, _, seqs = setup
    fa = tmp_path / "x.fa"
    shutil.copy(tmp / "x.fa", fa)
    before = fa.read_text()
    (tmp_path / "v.vcf").write_text("#CHROM\tPOS\tID\tREF\tALT\n")
    (tmp_path / "p.fa").write_text(">p\nACGTACGT\n")
    for args in (("score", tmp / "model", fa, "-o", fa), ("score", tmp / "model", fa, "--vcf", tmp_path / "v.vcf", "-o", tmp_path / "v.vcf"),
                 ("generate", tmp / "model", "--prompt-fasta", tmp_path / "p.fa", "-n", "5", "-o", tmp_path / "p.fa")):
        res = invoke("lm", *args, "-q", "--threads", "1")
        assert res.exit_code == 2 and "is an input of this command" in res.stderr, res.output
    assert fa.read_text() == before and (tmp_path / "p.fa").read_text() == ">p\nACGTACGT\n"
    assert (tmp_path / "v.vcf").read_text() == "#CHROM\tPOS\tID\tREF\tALT\n"
    res = invoke("lm", "score", tmp / "model", fa, "-o", "-", "-q", "--threads", "1")
    assert res.exit_code == 0 and res.stdout.startswith("seqid\tstart") and res.stdout.count("\n") == 3, res.output
    res = invoke("lm", "generate", tmp / "model", "--prompt", "ACGT", "-n", "5", "--seed", "1", "-o", "-", "-q")
    assert res.exit_code == 0 and res.stdout.startswith(">prompt_sample1\n"), res.output
    assert not (tmp_path / "-").exists() and not Path("-").exists()
    (tmp_path / "empty.fa").write_text("")
    res = invoke("lm", "score", tmp / "model", tmp_path / "empty.fa", "-q", "--threads", "1")
    assert res.exit_code == 2 and res.stdout == "" and "empty FASTA" in res.stderr


def test_score_to_stdout_is_whole_or_absent_and_reads_stdin_once(setup, tmp_path):
    """Standard output gets the table whole or not at all: a FASTA whose bad record comes after
    good ones prints no header and no rows before the error line. The FASTA was read once before
    the header to check it, which standard input cannot be: `cat x.fa | lm score MODEL -` printed
    the header, then 'genet5: error: peek of closed file' (exit 2)."""
    tmp, _, _ = setup
    (tmp_path / "late.fa").write_text((tmp / "x.fa").read_text() + ">bad\nACGT!!\n")
    for extra in ((), ("-o", "-")):
        res = invoke("lm", "score", tmp / "model", tmp_path / "late.fa", *extra, "-q", "--threads", "1")
        assert res.exit_code == 2 and res.stdout == "", res.output
        assert res.stderr.strip().splitlines() == [f"genet5: error: {tmp_path / 'late.fa'}:6: invalid character '!' in sequence of 'bad' (expected A C G T N or IUPAC letters)"]  # fmt: skip
    whole = invoke("lm", "score", tmp / "model", tmp / "x.fa", "-q", "--threads", "1")
    res = run_cli("lm", "score", tmp / "model", "-", "-q", "--threads", "1", input=(tmp / "x.fa").read_text())
    assert res.returncode == 0 and res.stderr == "", res.stderr
    assert whole.exit_code == 0 and res.stdout == whole.stdout and whole.stdout.count("\n") == 3


def test_embed_refuses_stdout_and_its_inputs(setup, tmp_path, monkeypatch):
    """`lm embed -o -` is refused in one line (binary .npy + index, or Parquet: not for stdout);
    `-.npy` is an ordinary file name. An output, or the index written beside it, that is the
    FASTA is refused and the FASTA kept."""
    tmp, _, _ = setup
    monkeypatch.chdir(tmp_path)
    res = invoke("lm", "embed", tmp / "model", tmp / "x.fa", "-o", "-", "-q", "--threads", "1")
    assert res.exit_code == 2 and res.stdout == "", res.output
    assert res.stderr.strip().splitlines() == [
        "genet5: error: --output -: embeddings (OUT.npy + OUT.index.tsv, or OUT.parquet) cannot go to standard output; give a file name"]  # fmt: skip
    assert list(tmp_path.iterdir()) == []
    res = invoke("lm", "embed", tmp / "model", tmp / "x.fa", "-o", "-.npy", "-q", "--threads", "1")
    assert res.exit_code == 0 and np.load(tmp_path / "-.npy").shape == (2, 64), res.output
    text = (tmp / "x.fa").read_text()
    for fa, out, opt in (("e.npy", "e.npy", "--output"), ("e.index.tsv", "e.npy", "the index")):
        (tmp_path / fa).write_text(text)
        res = invoke("lm", "embed", tmp / "model", tmp_path / fa, "-o", tmp_path / out, "-q", "--threads", "1")
        assert res.exit_code == 2 and f"{opt} {tmp_path / fa}: is an input of this command" in res.stderr, res.output
        assert (tmp_path / fa).read_text() == text
        (tmp_path / fa).unlink()


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs named pipes (POSIX)")
@pytest.mark.parametrize("compressed", [False, True])
def test_score_vcf_from_a_pipe_equals_the_file(setup, tmp_path, compressed):
    """`lm score MODEL G.fa --vcf <(zcat v.vcf.gz)`: the VCF is read twice (checked whole, then
    scored), which a pipe allows once; it was refused as 'no such file'."""
    import gzip
    import os
    import threading

    tmp, _, seqs = setup
    s1 = seqs["s1"]
    alt = "ACGT"[("ACGT".index(s1[99]) + 1) % 4]
    text = f"#CHROM\tPOS\tID\tREF\tALT\ns1\t100\trs1\t{s1[99]}\t{alt}\ns1\t400\t.\t{s1[399:402]}\t{s1[399]}\n"
    data = gzip.compress(text.encode()) if compressed else text.encode()
    (tmp_path / "v.vcf").write_bytes(data)
    args = ("lm", "score", tmp / "model", tmp / "x.fa", "--flank", "50", "--threads", "1", "-q", "--vcf")
    from_file = invoke(*args, tmp_path / "v.vcf")
    assert from_file.exit_code == 0, from_file.output
    fifo = tmp_path / "v.pipe"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "wb") as fh:
            fh.write(data)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    from_pipe = invoke(*args, fifo)
    writer.join(timeout=10)
    assert from_pipe.exit_code == 0, from_pipe.output
    assert from_pipe.stdout == from_file.stdout and len(from_pipe.stdout.splitlines()) == 3
