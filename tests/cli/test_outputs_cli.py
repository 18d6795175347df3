"""Output names through the real command line: a symlink or a FIFO is written, not replaced;
convert and eval refuse to overwrite their inputs or give one file to two outputs, and check
every output before any work; "-" is standard output for any one output; a name ending in .gz
is compressed, its format read from the name without .gz."""

from __future__ import annotations

import gzip
import os
import subprocess
import threading
from pathlib import Path

import pytest

import genet5
from conftest import CLI, run_cli

EXAMPLE = Path(genet5.__file__).parent / "examples" / "erwinia_phage_MT939486"
BAD = Path(__file__).resolve().parents[1] / "data" / "bad"


@pytest.fixture
def phage(tmp_path) -> tuple[Path, Path]:
    """A 30 kb piece of the example phage and the reference genes on it, in their own folder."""
    src = tmp_path / "in"
    src.mkdir()
    with gzip.open(EXAMPLE / "genome.fa.gz", "rt") as f:
        seq = "".join(ln.strip() for ln in f if not ln.startswith(">"))[:30_000]
    fa = src / "phage.fa"
    fa.write_text(">MT939486.1\n" + seq + "\n")
    with gzip.open(EXAMPLE / "annotation.gff3.gz", "rt") as f:
        rows = [ln for ln in f if ln.startswith("#") and "sequence-region" not in ln
                or "\tCDS\t" in ln and int(ln.split("\t")[4]) <= 30_000]
    gff = src / "ref.gff3"
    gff.write_text("".join(rows))
    return fa, gff


def one_error(proc, *words: str) -> str:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("genet5: error: ") and all(w in lines[0] for w in words), lines[0]
    return lines[0]


def test_predict_writes_through_a_symlink_and_into_a_fifo(tmp_path, phage):
    fa, _ = phage
    out = tmp_path / "out"
    out.mkdir()
    (out / "link.gff3").symlink_to("real.gff3")
    fifo = out / "proteins.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()), daemon=True)
    reader.start()
    proc = run_cli("predict", fa, "-o", out / "link.gff3", "-a", fifo, "-q")
    reader.join(30)
    assert proc.returncode == 0, proc.stderr
    assert (out / "link.gff3").is_symlink() and (out / "real.gff3").read_text().startswith("##gff-version 3")
    assert fifo.is_fifo() and got and got[0].startswith(b">")
    assert sorted(p.name for p in out.iterdir()) == ["link.gff3", "proteins.fifo", "real.gff3"]


@pytest.mark.parametrize("args, words", [
    (["eval", "{gff}", "{gff}", "--json", "{gff}"], ["--json", "is an input of this command"]),
    (["convert", "{gff}", "-o", "{fa}", "-g", "{fa}"], ["--output", "is an input"]),
    (["convert", "{gff}", "-o", "{out}/c.gff3", "-g", "{fa}", "--cds", "{fa}"], ["--cds", "is an input"]),
    (["convert", "{gff}", "-o", "{out}/c.gff3", "-g", "{fa}", "--proteins", "{out}/c.gff3"], ["the same file as --output"]),
    (["convert", "{gff}", "-o", "{out}/c.gff3", "-g", "{fa}", "--proteins", "/nonexist/p.faa"], ["--proteins /nonexist/p.faa", "does not exist"]),
    (["convert", "{gff}", "-o", "{out}"], ["is a directory"]),
    (["eval", "{gff}", "{gff}", "--json", "/nonexist/x.json"], ["--json /nonexist/x.json", "does not exist"]),
    (["convert", "{gff}", "-o", "-", "-g", "{fa}", "--proteins", "-"], ["--proteins -", "standard output already takes --output"]),
])
def test_convert_and_eval_check_their_outputs_first(tmp_path, phage, args, words):
    fa, gff = phage
    out = tmp_path / "out"
    out.mkdir()
    before = {p: p.read_bytes() for p in (fa, gff)}
    proc = run_cli(*[a.format(gff=gff, fa=fa, out=out) for a in args])
    msg = one_error(proc, *words)
    assert ".tmp" not in msg and list(out.iterdir()) == []
    assert {p: p.read_bytes() for p in (fa, gff)} == before


def test_dash_is_standard_output_and_gz_names_are_compressed(tmp_path, phage):
    fa, gff = phage
    proc = run_cli("predict", fa, "-o", tmp_path / "p.gbk.gz", "-a", "-", "--gtf", tmp_path / "p.gtf.gz", "-q")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(">") and "MT939486.1_1" in proc.stdout.split("\n", 1)[0]
    assert gzip.open(tmp_path / "p.gbk.gz", "rt").readline().startswith("LOCUS")
    assert gzip.open(tmp_path / "p.gtf.gz", "rt").readline().startswith("##gtf-version")
    proc = run_cli("convert", gff, "-o", "-", "-g", fa, "--cds", tmp_path / "c.fna.gz")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("##gff-version 3") and "wrote" in proc.stderr  # messages kept off the data
    assert gzip.open(tmp_path / "c.fna.gz", "rt").readline().startswith(">")
    proc = run_cli("eval", gff, gff, "--json", "-")
    assert proc.returncode == 0 and proc.stdout.startswith("{"), proc.stderr
    one_error(run_cli("predict", fa, "-o", "-", "-d", "-"), "--cds -", "standard output already takes --output")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.fna.gz", "in", "p.gbk.gz", "p.gtf.gz"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux) to fill a disk")
@pytest.mark.parametrize("args", [("stats", "{fa}"), ("eval", "{gff}", "{gff}"), ("info", "genos-tiny")])
def test_a_report_to_a_full_disk_is_one_line(phage, args):
    """Reports printed to standard output (stats, eval, info) that cannot be written: one line
    and exit 2 (was a traceback from rich's console, or, for output small enough to wait in the
    buffer until exit, nothing at all and exit 0)."""
    fa, gff = phage
    with open("/dev/full", "w") as full:
        proc = subprocess.run([*CLI, *(a.format(fa=fa, gff=gff) for a in args)], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=300)
    one_error(proc, "standard output", "No space left")
