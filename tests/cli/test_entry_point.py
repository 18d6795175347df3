"""The installed entry point (`python -m genet5`, a subprocess, as a shell sees it) through each
class of user error: usage (unknown option, missing argument, bad value, no command),
`--version`, option values, output paths (missing or read-only directory, the input, two
outputs on one path), and signals (SIGINT/SIGTERM mid-run: exit 130/143, one line, no output
file left), for predict and the lm commands: every error is one line on stderr and exit 2.
Bad input files (truncated gzip, 8-column GFF, ...) are in test_bad_input.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import genet5
from conftest import CLI as CLI_ROOT

GENOME = Path(genet5.__file__).parent / "examples" / "erwinia_phage_MT939486" / "genome.fa.gz"
CLI = [*CLI_ROOT, "predict"]


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


def _default_signals() -> None:
    """In the child: SIGINT back to its default. A test run started in the background (`make test &`,
    nohup) inherits SIGINT ignored, and Python then never turns it into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_stdout_and_signals(tmp_path):
    p = subprocess.run([*CLI, str(GENOME), "-o", "-", "-q", "--threads", "2"], capture_output=True, text=True,
                       cwd=tmp_path, timeout=600)
    assert p.returncode == 0 and p.stdout.startswith("##gff-version 3\n") and "\tCDS\t" in p.stdout
    assert not (tmp_path / "-").exists()
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        # --network: the per-base network (off by default) keeps the run busy long enough to interrupt
        proc = subprocess.Popen([*CLI, str(GENOME), "-o", "x.gff3", "--proteins", "x.faa", "-q", "--network"], cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_signals)
        time.sleep(4)  # mid-run: the network is working through the genome
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == code, err
        assert err.strip().splitlines()[-1] in ("genet5: error: interrupted", "genet5: error: terminated")
        assert not list(tmp_path.glob("x.*")) and not list(tmp_path.glob(".x.*"))


@pytest.mark.parametrize("args, expect", [
    (["predict", "--bogus", "x"], "No such option: --bogus"),
    (["predict"], "no genome given"),  # nothing piped in either (-o is optional: standard output)
    ([], "genet5: missing command"),
    (["lm"], "genet5 lm: missing command"),
    (["predict", "g.fa", "-o", "x.gff3", "--batch-size", "abc"], "--batch-size"),
    (["predict", "g.fa", "-o", "x.gff3", "--genetic-code", "99"], "not an NCBI translation table"),
    (["predict", "g.fa", "-o", "x.gff3", "--mode", "fast"], "--mode"),
    (["predict", "g.fa", "-o", "x.gff3", "--domain", "plant"], "--domain"),
    (["predict", "g.fa", "-o", "x.gff3", "-g", "auto", "--domain", "eukaryote"], "-g 1"),
    # Prodigal's flags that mean nothing, or something else, here
    (["predict", "g.fa", "-o", "x.gff3", "-n"], "Prodigal's -n is not needed"),
    # (Prodigal's -m, N runs masked, stands alone and is dropped: test_prodigal_command_line)
    (["predict", "g.fa", "-o", "x.gff3", "--model", "-q"], "N runs masked, is always on"),
])
def test_usage_errors_are_one_line_and_exit_2(args, expect, tmp_path):
    p = subprocess.run([*CLI_ROOT, *args], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and expect in lines[0] and "Traceback" not in p.stderr
    assert not (tmp_path / "x.gff3").exists()


def test_version():
    p = subprocess.run([*CLI_ROOT, "--version"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stdout.strip() == f"genet5 {genet5.__version__}"


@pytest.mark.parametrize("args, expect", [
    (["lm", "score", "no_model_dir", "g.fa"], "no_model_dir"),
    (["lm", "pretrain", "not_a_bake", "--out", "run"], "not_a_bake"),
    (["lm", "bake", "missing.fa", "out"], "missing.fa"),
    (["stats", "missing.fa"], "missing.fa"),
    (["convert", "missing.gff3", "-o", "x.gtf"], "missing.gff3"),
])
def test_other_commands_fail_in_one_line(args, expect, tmp_path):
    p = subprocess.run([*CLI_ROOT, *args], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    one_line_error(p, expect)
    assert not list(tmp_path.iterdir())


def test_lm_pretrain_interrupted_exits_130_without_a_model(tmp_path):
    (tmp_path / "Tinyus_genomus.fa").write_text(">c\n" + "ACGTTGCAAGGCT" * 400 + "\n")
    p = subprocess.run([*CLI_ROOT, "lm", "bake", "Tinyus_genomus.fa", "bake"], capture_output=True, text=True,
                       cwd=tmp_path, timeout=120)  # fmt: skip
    assert p.returncode == 0, p.stderr
    proc = subprocess.Popen([*CLI_ROOT, "lm", "pretrain", "bake", "--out", "run", "--context-schedule", "1K:100000",
                             "--set", "train.max_steps=100000", "--val-windows", "0", "--threads", "1"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_signals)  # fmt: skip
    time.sleep(8)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "genet5: error: interrupted" and "Traceback" not in err
    assert not (tmp_path / "run" / "model").exists()


def test_each_command_loads_only_its_own_module():
    """`genet5 NAME` imports only NAME's command module (cli/__init__._MODULES_OF); that module
    registers NAME, and the map names every command the full app has."""
    code = (
        "import sys; from genet5.cli import _load_commands, app; _load_commands(sys.argv[1:]);"
        "names = {c.name or c.callback.__name__ for c in app.registered_commands} | {g.name for g in app.registered_groups};"
        "mods = sorted(m for m in sys.modules if m.startswith('genet5.cli.') and m.endswith('_cmds'));"
        "print(' '.join(sorted(names))); print(' '.join(mods))"
    )
    from genet5.cli import _MODULES_OF

    def loaded(*argv):
        p = subprocess.run([*CLI_ROOT[:-2], "-c", code, *argv], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        names, mods = p.stdout.splitlines()
        return set(names.split()), set(mods.split())

    every, _ = loaded()
    assert every == set(_MODULES_OF), "a command the map does not name (or a name no module has)"
    names, mods = loaded("predict", "x.fa")
    assert "predict" in names and mods == {"genet5.cli.predict_cmds"}
    names, mods = loaded("lm", "pretrain")
    assert "lm" in names and "genet5.cli.plot_cmds" not in mods
    names, _ = loaded("predcit")  # a misspelt name: everything, so typer can suggest
    assert names == every


@pytest.mark.parametrize("argv, preset, expect", [
    (["predict"], None, "1"),  # numpy's BLAS on one thread for predict (cli/__init__.py)
    (["predict"], "3", "3"),  # a value the user set wins
    (["lm", "pretrain"], None, None),  # the training commands keep every BLAS thread
])
def test_predict_runs_numpy_blas_on_one_thread(argv, preset, expect):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if preset is not None:
        env["OPENBLAS_NUM_THREADS"] = preset
    code = (f"import sys; sys.argv = ['genet5', *{argv!r}]; import genet5.cli, os; "
            "print(os.environ.get('OPENBLAS_NUM_THREADS'))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == str(expect)
