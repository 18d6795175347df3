"""`genet5 predict` output handling through the real entry point: bad output paths and option
values fail before any work with one line and exit 2; `-o -` writes GFF3 to stdout; an
interrupted or terminated run exits 130/143 and leaves no output file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import genet5

GENOME = Path(genet5.__file__).parent / "examples" / "erwinia_phage_MT939486" / "genome.fa.gz"
CLI = [sys.executable, "-m", "genet5", "predict"]


def one_line_error(p: subprocess.CompletedProcess, expect: str) -> None:
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("genet5: error: ") and expect in lines[0], p.stderr


@pytest.mark.parametrize("extra, expect", [
    (["-o", "missing_dir/x.gff3"], "does not exist"),
    (["-o", str(GENOME)], "is an input"),
    (["-o", "a.gff3", "--proteins", "a.gff3"], "the same file as --output"),
    (["-o", "a.gff3", "--batch-size", "0"], "--batch-size"),
    (["-o", "a.gff3", "--threads", "-1"], "--threads"),
    (["-o", "a.gff3", "--min-gene-length", "-5"], "--min-gene-length"),
    (["-o", "a.gff3", "--device", "tpu"], "--device"),
])
def test_bad_outputs_and_values_fail_before_work(extra, expect, tmp_path):
    t0 = time.perf_counter()
    p = subprocess.run([*CLI, str(GENOME), *extra, "-q"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    one_line_error(p, expect)
    assert time.perf_counter() - t0 < 60  # refused up front, not after decoding the genome
    assert not list(tmp_path.iterdir())


def test_unwritable_directory(tmp_path):
    # /proc takes no new files, for root too (CI runs as root, where chmod 555 would not stop it)
    p = subprocess.run([*CLI, str(GENOME), "-o", "/proc/x.gff3", "-q"], capture_output=True, text=True, timeout=120)
    one_line_error(p, "not writable")
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        p = subprocess.run([*CLI, str(GENOME), "-o", str(ro / "x.gff3"), "-q"], capture_output=True, text=True, timeout=120)
        one_line_error(p, "not writable")


@pytest.mark.slow
def test_stdout_and_signals(tmp_path):
    p = subprocess.run([*CLI, str(GENOME), "-o", "-", "-q", "--threads", "2"], capture_output=True, text=True,
                       cwd=tmp_path, timeout=600)
    assert p.returncode == 0 and p.stdout.startswith("##gff-version 3\n") and "\tCDS\t" in p.stdout
    assert not (tmp_path / "-").exists()
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        proc = subprocess.Popen([*CLI, str(GENOME), "-o", "x.gff3", "--proteins", "x.faa", "-q"], cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(4)  # mid-run: the network is working through the genome
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == code, err
        assert err.strip().splitlines()[-1] in ("genet5: error: interrupted", "genet5: error: terminated")
        assert not list(tmp_path.glob("x.*")) and not list(tmp_path.glob(".x.*"))
