"""Bad input through the real command line: one line naming file (and line) and problem,
exit code 2, no traceback, and no output file left behind."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import run_cli

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"


def run(*args: str) -> subprocess.CompletedProcess:
    return run_cli(*args, timeout=120)


CASES = [
    # (id, command arguments, file named in the message, line or None, words in the message)
    ("truncated_gzip", ["stats", "truncated.fa.gz"], "truncated.fa.gz", None, "truncated"),
    ("eight_columns", ["eval", "eight_columns.gff3", "good.gff3"], "eight_columns.gff3", 3, "9 tab-separated columns, found 8"),
    ("cds_past_end", ["stats", "good.fa", "cds_past_end.gff3"], "cds_past_end.gff3", 3, "past the end of chr1"),
    ("missing_seqid", ["stats", "good.fa", "missing_seqid.gff3"], "missing_seqid.gff3", 3, "'chrX' is not in the genome"),
    ("non_numeric", ["eval", "non_numeric.gff3", "good.gff3"], "non_numeric.gff3", 2, "non-numeric coordinates"),
    ("parent_cycle", ["eval", "parent_cycle.gff3", "good.gff3"], "parent_cycle.gff3", 4, "Parent cycle"),
    ("unknown_parent", ["eval", "unknown_parent.gff3", "good.gff3", "--strict"], "unknown_parent.gff3", 3, "unknown Parent 'g2'"),
    ("empty_fasta", ["stats", "empty.fa"], "empty.fa", None, "empty"),
    ("garbage_fasta", ["stats", "garbage.bin"], "garbage.bin", None, ""),
    ("garbage_gff", ["eval", "garbage.bin", "good.gff3"], "garbage.bin", None, ""),
    ("missing_file", ["eval", "no_such_file.gff3", "good.gff3"], "no_such_file.gff3", None, "No such file"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_one_clear_line_and_exit_2(case, tmp_path):
    _, args, named, line, words = case
    out = tmp_path / "out.json"
    args = [str(BAD / a) if (BAD / a).exists() or a.endswith((".gff3", ".fa", ".gz", ".bin")) else a for a in args]
    proc = run(*args, "--json", str(out))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    msg = lines[0]
    assert msg.startswith("genet5: error: ") and named in msg and words in msg, msg
    if line is not None:
        assert f"{named}:{line}:" in msg, msg
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_convert_leaves_no_partial_output(tmp_path):
    out = tmp_path / "out.gff3"
    proc = run("convert", str(BAD / "eight_columns.gff3"), "-o", str(out))
    assert proc.returncode == 2 and not out.exists() and list(tmp_path.iterdir()) == []


def test_iupac_and_crlf_are_accepted_and_counted(tmp_path):
    out = tmp_path / "s.json"
    proc = run("stats", str(BAD / "iupac_crlf.fa"), "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    import json

    report = json.loads(out.read_text())["sequences"]
    assert report["iupac_bp"] == 3 and report["total_bp"] == 120 and report["masked_fraction"] == 0.5


def test_good_input_round_trip_through_the_cli(tmp_path):
    out = tmp_path / "e.json"
    proc = run("eval", str(BAD / "good.gff3"), str(BAD / "good.gff3"), "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    import json

    scores = json.loads(out.read_text())
    assert all(scores[level]["f1"] == 1.0 for level in ("nucleotide", "exon", "transcript", "gene", "stop", "start_stop"))


def test_eval_says_why_it_scores_nothing(tmp_path):
    """Zeros whose cause is the files, not the genes, get a note: a side without CDS rows, and
    sequence names the two sides do not share (chr1 against 1)."""
    good = (BAD / "good.gff3").read_text()
    renamed = tmp_path / "renamed.gff3"
    seqid = next(ln.split("\t")[0] for ln in good.splitlines() if ln and not ln.startswith("#"))
    renamed.write_text("\n".join(("x" + ln) if ln and not ln.startswith("#") else ln for ln in good.splitlines()) + "\n")
    no_cds = tmp_path / "no_cds.gff3"
    no_cds.write_text("".join(ln + "\n" for ln in good.splitlines() if "\tCDS\t" not in ln))
    said = {}
    for name, pred in (("renamed", renamed), ("no_cds", no_cds), ("good", BAD / "good.gff3")):
        proc = run("eval", str(BAD / "good.gff3"), str(pred))
        assert proc.returncode == 0, proc.stderr
        said[name] = " ".join(proc.stdout.split())
    assert f"share no sequence name (reference: {seqid}; prediction: x{seqid})" in said["renamed"]
    assert "no_cds.gff3 holds no CDS" in said["no_cds"] and "share no sequence name" not in said["no_cds"]
    assert "note:" not in said["good"]


def test_context_parallel_is_refused_for_genet5_train(tmp_path):
    # only genet5 lm pretrain splits sequences across ranks; genet5 train must not ignore the key
    proc = run("train", str(tmp_path / "no_shards"), "--out", str(tmp_path / "run"), "--set", "parallel.context_parallel=2")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "genet5: error: parallel.context_parallel is for Genos (genet5 lm pretrain); "
        "GeneT5 training splits batches, not sequences"
    ]


def test_user_errors_share_one_base_and_stay_value_errors():
    """Every error a user can fix is a genet5.errors.UserError (the CLI's one-line errors), and
    a ValueError as before; a model that cannot be loaded is not a genome format error."""
    from genet5.errors import UserError
    from genet5.genome.models import GenomeFormatError
    from genet5.models.configs import ModelConfigError
    from genet5.models.weights import WeightLoadError
    from genet5.train.config import RunConfigError

    for cls in (GenomeFormatError, WeightLoadError, ModelConfigError, RunConfigError):
        assert issubclass(cls, UserError) and issubclass(cls, ValueError)
    assert not issubclass(WeightLoadError, GenomeFormatError)
    assert str(WeightLoadError("m", "no such model directory")) == "m: no such model directory"


def test_a_bad_run_config_and_a_bad_preset_are_one_line(tmp_path):
    bad = tmp_path / "run.yaml"
    bad.write_text("optim: [1, 2]\n")
    for args, words in (
        (["--config", str(bad)], "config.optim: expected a mapping"),
        (["--set", "optim.lrr=1"], "unknown key(s) ['lrr']"),
        (["--preset", "genet5-huge"], "unknown model preset 'genet5-huge'"),
    ):
        proc = run("train", str(tmp_path / "no_bake"), "--out", str(tmp_path / "run"), *args)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("genet5: error: ") and words in lines[0], proc.stderr


def test_an_option_where_a_file_name_belongs_is_refused(tmp_path):
    # `--gtf -q` would take -q as the GTF's name; a file called "-q" is never what was meant
    proc = run_cli("predict", str(BAD / "good.fa"), "-o", str(tmp_path / "out.gff3"), "--gtf", "-q", cwd=tmp_path, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "genet5: error: --gtf: '-q' looks like an option, not a file name: give the file after --gtf"
    assert list(tmp_path.iterdir()) == []


def _edited(tmp_path, name: str, edit) -> Path:
    """good.gff3 with `edit` applied to its CDS row, as tmp_path/name."""
    rows = (BAD / "good.gff3").read_text().splitlines()
    out = tmp_path / name
    out.write_text("".join((edit(r) if "\tCDS\t" in r else r) + "\n" for r in rows))
    return out


VALUE_CASES = [
    # (id, arguments: {good}, {fa}, {t99}, {phase7}, {zero}, {out}), words in the one line
    ("code_99_convert", ["convert", "{good}", "-o", "{out}/c.gff3", "-g", "{fa}", "--proteins", "{out}/c.faa", "--genetic-code", "99"],
     "--genetic-code: 99 is not an NCBI translation table"),
    ("code_0_convert", ["convert", "{good}", "-o", "{out}/c.gff3", "--genetic-code", "0"], "--genetic-code: 0 is not"),
    ("code_99_eval", ["eval", "{good}", "{good}", "-g", "{fa}", "--genetic-code", "99"], "--genetic-code: 99 is not"),
    ("transl_table_convert", ["convert", "{t99}", "-o", "{out}/c.gff3", "-g", "{fa}", "--proteins", "{out}/c.faa"],
     "t99.gff3:3: transl_table=99 is not an NCBI translation table"),
    ("transl_table_eval_ref", ["eval", "{t99}", "{good}", "-g", "{fa}"], "t99.gff3:3: transl_table=99"),
    ("transl_table_eval_pred", ["eval", "{good}", "{t99}", "-g", "{fa}"], "t99.gff3:3: transl_table=99"),
    ("phase_7", ["convert", "{phase7}", "-o", "{out}/c.gff3"], "phase7.gff3:3: invalid phase '7'"),
    ("zero_convert", ["convert", "{zero}", "-o", "{out}/c.gff3"], "zero.gff3: the file is empty"),
    ("zero_eval_pred", ["eval", "{good}", "{zero}"], "zero.gff3: the file is empty"),
    ("zero_eval_ref", ["eval", "{zero}", "{good}"], "zero.gff3: the file is empty"),
    ("stop_as_start", ["predict", "{fa}", "-o", "{out}/p.gff3", "--start-codons", "ATG,TAA"], "TAA is a stop codon of genetic code 11"),
    ("id_prefix_space", ["predict", "{fa}", "-o", "{out}/p.gff3", "--id-prefix", "a b"], "--id-prefix 'a b'"),
    ("id_prefix_semicolon", ["predict", "{fa}", "-o", "{out}/p.gff3", "--id-prefix", "a;b"], "--id-prefix 'a;b'"),
    ("plot_width_0", ["plot", "chr1", "-f", "{fa}", "-o", "{out}/p.png", "--no-model", "-r", "{good}", "--width", "0"],
     "--width 0: give a figure width between 1 and 200 inches"),
    ("tokenizer_chunk_0", ["tokenizer", "train", "{fa}", "-o", "{out}/tok", "--chunk-size", "0"], "--chunk-size must be at least 1"),
    ("bake_lone_fasta", ["bake", "{fa}", "{out}/baked"], "good.fa: no annotation beside this genome"),
    ("train_missing_bake", ["train", "{out}/missing"], "missing: no such directory"),
]


@pytest.mark.parametrize("case", VALUE_CASES, ids=[c[0] for c in VALUE_CASES])
def test_bad_values_give_one_line_and_no_output(case, tmp_path):
    _, args, words = case
    out = tmp_path / "out"
    out.mkdir()
    files = {"good": BAD / "good.gff3", "fa": BAD / "good.fa", "out": out, "zero": tmp_path / "zero.gff3",
             "t99": _edited(tmp_path, "t99.gff3", lambda r: r + ";transl_table=99"),
             "phase7": _edited(tmp_path, "phase7.gff3", lambda r: r.replace("\t0\tID=c1", "\t7\tID=c1"))}
    files["zero"].write_bytes(b"")
    proc = run(*[a.format(**files) for a in args])
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("genet5: error: ") and words in lines[0], lines[0]
    assert list(out.iterdir()) == []


def test_a_gff_with_a_header_and_no_genes_is_still_a_prediction(tmp_path):
    nothing = tmp_path / "nothing.gff3"
    nothing.write_text("##gff-version 3\n")
    proc = run("eval", str(BAD / "good.gff3"), str(nothing))
    assert proc.returncode == 0 and "nothing.gff3 holds no CDS" in " ".join(proc.stdout.split()), proc.stderr


def test_a_cut_genbank_file_is_one_line(tmp_path):
    """Biopython's message for a cut feature holds the whole feature: one line, with where."""
    from Bio import SeqIO
    from Bio.Seq import Seq
    from Bio.SeqFeature import FeatureLocation, SeqFeature
    from Bio.SeqRecord import SeqRecord

    rec = SeqRecord(Seq((BAD / "good.fa").read_text().split("\n", 1)[1].replace("\n", "")), id="chr1", name="chr1",
                    annotations={"molecule_type": "DNA"})
    rec.features.append(SeqFeature(FeatureLocation(9, 99, 1), type="CDS", qualifiers={"gene": ["g1"], "note": ["x" * 200]}))
    full = tmp_path / "full.gbk"
    SeqIO.write(rec, full, "genbank")
    text = full.read_text()
    cut = tmp_path / "cut.gbk"
    cut.write_text(text[: text.index("/note") + 40])  # ends inside the feature's qualifiers
    for cmd in (["predict", str(cut), "-o", str(tmp_path / "p.gff3")], ["convert", str(cut), "-o", str(tmp_path / "c.gff3")]):
        proc = run(*cmd)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert "cut.gbk: truncated or malformed GenBank record near line" in lines[0], lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.gbk", "full.gbk"]


def test_bake_refuses_genes_past_a_sequence_end(tmp_path):
    """As predict, eval and stats do: one line naming the annotation's line, nothing baked."""
    raw = tmp_path / "raw" / "species"
    raw.mkdir(parents=True)
    (raw / "genome.fa").write_bytes((BAD / "good.fa").read_bytes())
    (raw / "annotation.gff3").write_bytes((BAD / "cds_past_end.gff3").read_bytes())
    proc = run("bake", tmp_path / "raw", tmp_path / "out")
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert any("annotation.gff3:3: CDS 500..720" in ln and "past the end of chr1" in ln for ln in lines), proc.stderr
    assert not list((tmp_path / "out").glob("**/*.safetensors"))
