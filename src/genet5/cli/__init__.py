"""The `genet5` command-line app.

Each command group lives in its own module under genet5/cli/ and registers itself on `app`
when imported; `main()` turns every expected failure (a `genet5.errors.UserError`: bad input,
option, configuration or model; a missing file; a usage error) into one line on stderr and
exit code 2, never a traceback.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys

# numpy's OpenBLAS starts one thread per core at import, and they spin for a while (~0.13 s of
# CPU on 2 cores) and after each matrix product. `genet5 predict`'s numpy products are small and
# it runs its own threads or processes (the prokaryote decoder also limits BLAS while it runs,
# for the Python API: predict/prokaryote/threads.py), but the import's spinning comes first:
# eight phages two at a time took 2.45 s against 2.15 s with one BLAS thread (Intel Xeon, 2
# cores, 2026-12-06), the same genes. So `predict` gets one BLAS thread, set before numpy is
# imported; a value the user set wins. torch's wheels for x86 use MKL, which this leaves alone;
# the training commands keep every BLAS thread.
if sys.argv[1:2] == ["predict"]:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from genet5.cli.app import app, fail  # noqa: E402,F401  (re-exported for command modules)

# Command modules; each adds its commands to `app` on import.
_COMMAND_MODULES = [
    "genet5.cli.genome_cmds",  # stats, eval, convert
    "genet5.cli.predict_cmds",  # predict
    "genet5.cli.plot_cmds",  # plot
    "genet5.cli.train_cmds",  # train
    "genet5.cli.model_cmds",  # info
    "genet5.cli.tokenizer_cmds",  # tokenizer train, tokenizer info
    "genet5.cli.data_cmds",  # bake, lm bake
    "genet5.cli.lm_cmds",  # lm pretrain
]


# The modules a command's name needs. `genet5 predict` on a phage takes ~1 s, and importing
# every command module (each with its own dependencies: plotting, training configs) was ~0.1 s
# of it; a command named here loads only its own. Anything else (no command, --help,
# --version, a misspelt name) loads them all, so typer lists every command.
_MODULES_OF = {
    "stats": ["genet5.cli.genome_cmds"], "eval": ["genet5.cli.genome_cmds"], "convert": ["genet5.cli.genome_cmds"],
    "predict": ["genet5.cli.predict_cmds"],
    "plot": ["genet5.cli.plot_cmds"],
    "train": ["genet5.cli.train_cmds"],
    "info": ["genet5.cli.model_cmds"],
    "tokenizer": ["genet5.cli.tokenizer_cmds"],
    "bake": ["genet5.cli.data_cmds"],
    "lm": ["genet5.cli.data_cmds", "genet5.cli.lm_cmds"],
}


def _command_modules(argv: list[str]) -> list[str]:
    """The command modules to import for this command line (argv without the program)."""
    name = argv[0] if argv else ""
    return _MODULES_OF.get(name, _COMMAND_MODULES)


def _load_commands(argv: list[str] | None = None) -> None:
    for name in _command_modules(sys.argv[1:] if argv is None else argv):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:  # a real missing dependency inside the module
                raise


# Prodigal 2.6.3 flags that genet5 predict has no option for, or gives another meaning
_PRODIGAL_HINTS = {
    "-m": "-m names a model here; Prodigal's -m, N runs masked, is always on: drop it",
    "-n": "Prodigal's -n is not needed: the RBS motif is learned per genome, with or without Shine-Dalgarno",
    "-s": "Prodigal's -s (every potential start) is not written",
    "-v": "the version: genet5 --version",
}


def _usage_error(err: BaseException) -> int | None:
    """Exit code of a command-line usage error (unknown option, missing argument, bad value),
    after printing it as one line; None for anything else. Checked by shape, not class: typer
    ships its own copy of click (typer._click), so click's classes would not match it."""
    show = getattr(err, "format_message", None)
    code = getattr(err, "exit_code", None)
    if not callable(show) or not isinstance(code, int):
        return None
    ctx = getattr(err, "ctx", None)
    where = f"{ctx.command_path}: " if ctx is not None and getattr(ctx, "command_path", None) else ""
    message = show() or "missing command"  # no-args help (printed above): typer gives no text
    hint = " (see --help)" if code == 2 else ""
    for prodigal_flag, said in _PRODIGAL_HINTS.items():  # Prodigal's habits, typed into genet5 predict
        if sys.argv[1:2] == ["predict"] and message in (f"No such option: {prodigal_flag}",
                                                                f"Option '{prodigal_flag}' requires an argument."):
            hint = f" ({said}; see --help)"
    print(f"genet5: error: {where}{message}{hint}", file=sys.stderr)
    return 2 if code == 2 else code


_MAIN_PID = None


def _on_sigterm(signum, frame):  # a pipeline's kill: leave like Ctrl-C, with the shell's code
    import os
    import signal

    if os.getpid() != _MAIN_PID:  # a forked worker (multiprocessing pools end theirs this way)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        return
    raise _Terminated()


class _Terminated(BaseException):
    pass


def _exit_now(code: int) -> None:
    """End a finished command without the interpreter's teardown: freeing every module and
    object of a process that imported torch took 0.6-1.0 s after a 7 s `genet5 predict` (AMD
    EPYC, 2 cores, 2026-12-04), time the user waits for nothing. The exit handlers still run
    (multiprocessing pools, logging, temporary directories) and the output streams are flushed;
    every output file is closed by then (written whole, then renamed into place). Under a
    profiler or tracer (python -m cProfile, a debugger) the interpreter exits as usual, so that
    they write what they collected."""
    import atexit
    import os

    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a closed pipe (`genet5 ... | head`)
            pass
        except OSError as err:  # what was left in the buffer did not reach a full disk (`> /dev/full`)
            if stream is sys.stdout and code == 0:
                _say_unwritten(err)
                code = 2
    os._exit(code)


# write errors that say the output did not get out (with no file name: standard output; a reader
# that left a pipe, `genet5 stats G | head -1`, is click's: it exits 1 quietly)
_WRITE_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EPIPE}


def _say_unwritten(err: OSError) -> None:
    """One line on stderr for output that could not be written (a full disk, an I/O error)."""
    try:
        print(f"genet5: error: {err.filename or 'standard output'}: {err.strerror or err}", file=sys.stderr, flush=True)
    except OSError:
        pass


def _without_prodigal_m(args: list[str]) -> list[str]:
    """`predict`'s arguments less Prodigal's -m (runs of N masked: always so here) where it stands
    without a value, as a Prodigal command line has it (`-c -m -g 11`, a last `-m`): genet5's own -m
    names a model and would take the next option as that name."""
    out = []
    for i, a in enumerate(args):
        if a == "-m" and (i + 1 == len(args) or args[i + 1].startswith("-")):
            continue
        out.append(a)
    return out


def main() -> None:
    import signal

    from genet5.errors import UserError

    global _MAIN_PID
    import os

    _MAIN_PID = os.getpid()
    signal.signal(signal.SIGTERM, _on_sigterm)
    _load_commands()
    if sys.argv[1:2] == ["predict"]:
        sys.argv[2:] = _without_prodigal_m(sys.argv[2:])
    try:
        rv = app(standalone_mode=False)
        if isinstance(rv, int) and rv:  # typer returns the code of an abort instead of raising
            fail("interrupted" if rv == 130 else f"stopped (exit code {rv})", code=rv)
        _exit_now(0)
    except UserError as err:  # bad input, options, configuration or model: one line
        fail(str(err))
    except (FileNotFoundError, IsADirectoryError, PermissionError) as err:
        fail(f"{err.filename}: {err.strerror}")
    except OSError as err:  # a report printed to a full disk (`genet5 eval ... > /dev/full`), say
        if err.filename is None and err.errno not in _WRITE_ERRNOS:
            raise
        _say_unwritten(err)
        _exit_now(2)
    except KeyboardInterrupt:
        fail("interrupted", code=130)
    except _Terminated:
        fail("terminated", code=143)
    except SystemExit:
        raise
    except Exception as err:
        if type(err).__name__ == "Abort":  # click's Abort: Ctrl-C at a prompt
            fail("interrupted", code=130)
        code = _usage_error(err)
        if code is None:
            raise
        sys.exit(code)
