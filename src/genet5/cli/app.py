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
    something: `outputs` maps option names to paths (None: not asked for; "-": stdout)."""
    from pathlib import Path

    seen: dict = {}
    in_paths = [Path(p).resolve() for p in inputs if p is not None]
    for opt, path in outputs.items():
        if path is None or str(path) == "-":
            continue
        p = Path(path)
        parent = p.parent if str(p.parent) else Path(".")
        if not parent.is_dir():
            fail(f"{opt} {p}: directory {parent} does not exist (create it first)")
        try:  # a real probe: permissions, read-only filesystems and root all answer truthfully
            import tempfile

            with tempfile.TemporaryFile(dir=parent):
                pass
        except OSError as err:
            fail(f"{opt} {p}: directory {parent} is not writable ({err.strerror})")
        if p.is_dir():
            fail(f"{opt} {p}: is a directory; give a file name")
        r = p.resolve()
        if r in in_paths:
            fail(f"{opt} {p}: is an input of this command; choose another output name")
        if r in seen:
            fail(f"{opt} {p}: the same file as {seen[r]}; give each output its own name")
        seen[r] = opt
