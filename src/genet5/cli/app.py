"""The shared typer app and the one way a command reports failure."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

app = typer.Typer(
    name="genet5",
    help="Gene prediction (GeneT5) and genomic language models (Genos).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line to stderr and exit non-zero."""
    print(f"genet5: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def _version(value: bool) -> None:
    if value:
        from genet5 import __version__

        print(f"genet5 {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """Gene prediction (GeneT5) and genomic language models (Genos)."""


def check_outputs(inputs: list, outputs: dict) -> None:
    """Fail at once, before any work, on outputs that could not be written or would clobber
    something: `outputs` maps option names to paths (None: not asked for; "-": stdout, for one
    output only). A symlink is checked where it points; a FIFO or device (/dev/null, /dev/fd/N)
    is written in place, so only its own permission counts."""
    import os
    import stat
    import tempfile
    from pathlib import Path

    from genet5.atomic import STDOUT, resolve_output

    seen: dict = {}
    in_paths = [Path(p).resolve() for p in inputs if p is not None and str(p) != "-"]
    for opt, path in outputs.items():
        if path is None:
            continue
        if str(path) == STDOUT:
            if STDOUT in seen:
                fail(f"{opt} -: standard output already takes {seen[STDOUT]}; give one of them a file name")
            seen[STDOUT] = opt
            continue
        p = Path(path)
        target, in_place = resolve_output(p)
        if in_place:
            if not os.access(target, os.W_OK):
                fail(f"{opt} {p}: not writable")
            if stat.S_ISCHR(os.stat(target).st_mode):  # /dev/null, a terminal: several outputs may share it
                continue
        else:
            parent = target.parent if str(target.parent) else Path(".")
            if not parent.is_dir():
                fail(f"{opt} {p}: directory {parent} does not exist (create it first)")
            try:  # a real probe: permissions, read-only filesystems and root all answer truthfully
                with tempfile.TemporaryFile(dir=parent):
                    pass
            except OSError as err:
                fail(f"{opt} {p}: directory {parent} is not writable ({err.strerror})")
            if target.is_dir():
                fail(f"{opt} {p}: is a directory; give a file name")
        r = target.resolve()
        if r in in_paths:
            fail(f"{opt} {p}: is an input of this command; choose another output name")
        if r in seen:
            fail(f"{opt} {p}: the same file as {seen[r]}; give each output its own name")
        seen[r] = opt


def check_genetic_code(code: int | None, option: str = "--genetic-code") -> None:
    """An NCBI table id given on the command line, checked before any work (0, 99: one line)."""
    from genet5.genome.codes import known_codes

    if code is not None and code not in known_codes():
        fail(f"{option}: {code} is not an NCBI translation table (known: {', '.join(map(str, known_codes()))})")


def stdout_is_output(*paths) -> bool:
    """Some output goes to standard output ("-"): then a command's own messages go to stderr."""
    return any(p is not None and str(p) == "-" for p in paths)
