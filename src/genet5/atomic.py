"""Atomic file output: write to a temporary file beside the target, rename on success.

A command that fails half-way (bad input found late, Ctrl-C) leaves no partial output and does
not clobber a previous good file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8"):
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    # mkstemp creates 0600; give the file the mode a plain open() would have.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class OutputSet:
    """Several output files that appear together or not at all: each writer writes to the
    temporary path `take()` hands out; on a clean exit every file is renamed into place, on any
    exception (an error, Ctrl-C, SIGTERM) every temporary is removed and no output is left."""

    def __init__(self) -> None:
        self.pending: list[tuple[Path, Path]] = []

    def take(self, final: str | os.PathLike) -> Path:
        final = Path(final)
        tmp = final.parent / f".{final.name}.{os.getpid()}.part"
        self.pending.append((tmp, final))
        return tmp

    def __enter__(self) -> "OutputSet":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            for tmp, final in self.pending:
                os.replace(tmp, final)
            return
        for tmp, _ in self.pending:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
