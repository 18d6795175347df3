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
