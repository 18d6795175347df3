"""Output files: written whole or not at all, wherever the name points.

A regular file (or a name not used yet) is written to a temporary file beside it and renamed
into place on success: a command that fails half-way (bad input found late, Ctrl-C) leaves no
partial output and does not clobber a previous good file. A symlink is followed, so the file it
points to is replaced and the link stays. A name that is not a regular file (a FIFO, /dev/null,
/dev/stdout, a shell's `>(gzip > x.gz)` as /dev/fd/N) cannot be renamed over: it is written
directly. Errors while writing (a full disk, a closed pipe) are an `OutputError` naming the
path the user gave, never the temporary file.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import stat
import sys
import tempfile
from pathlib import Path

from genet5.errors import UserError

STDOUT = "-"  # as an output name of the command line: standard output


class OutputError(UserError, OSError):
    """An output that could not be written, named as the user gave it (one line)."""


def _failed(shown, err: OSError) -> OutputError:
    out = OutputError(f"{shown}: {err.strerror or err}")
    out.errno = err.errno
    return out


def resolve_output(path: str | os.PathLike) -> tuple[Path, bool]:
    """(where to write `path`, whether to write there in place). A name that exists and is not a
    regular file or directory (a FIFO, a device, /dev/fd/N) is written in place, as named: /dev/fd/N
    links to a pipe that has no path of its own. Otherwise a symlink is followed (also a dangling
    one), so the atomic rename replaces the file it points to, not the link."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        return path, True
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    return path, False


@contextlib.contextmanager
def _relabel(shown, *own: Path):
    """OS errors of the write itself (none names a file, or one names ours) as OutputError
    naming `shown`; an input's error inside the block keeps its own name."""
    try:
        yield
    except UserError:
        raise
    except OSError as err:
        if err.filename is None or str(err.filename) in {str(p) for p in own}:
            raise _failed(shown, err) from None
        raise


@contextlib.contextmanager
def _stream(path, mode: str, encoding: str | None, gzip_name: str | None = None):
    """A handle writing `path` (a name or an open file descriptor): binary or text by `mode`,
    gzip-compressed when `gzip_name` (the name its header records) is given."""
    with contextlib.ExitStack() as stack:
        fh = stack.enter_context(open(path, "wb"))
        if gzip_name is not None:
            fh = stack.enter_context(gzip.GzipFile(filename=gzip_name, mode="wb", fileobj=fh))
        if "b" not in mode:
            fh = io.TextIOWrapper(fh, encoding=encoding or "utf-8")
            stack.callback(fh.detach)  # the layers below close themselves, in order
            stack.callback(fh.flush)
        yield fh


def _is_gzip_name(path) -> bool:
    return str(path).lower().endswith(".gz")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8", compress: bool = False):
    """A handle on output `path`, written whole or not at all (see the module's note);
    `compress`: gzip what is written."""
    target, in_place = resolve_output(path)
    gzip_name = Path(path).name if compress else None
    if in_place:
        with _relabel(path, target), _stream(target, mode, encoding, gzip_name) as fh:
            yield fh
        return
    tmp = None
    try:
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        except OSError as err:  # it names a temporary file the user never heard of
            raise _failed(path, err) from None
        # mkstemp creates 0600; give the file the mode a plain open() would have.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with _relabel(path, target, Path(tmp)):
            with _stream(fd, mode, encoding, gzip_name) as fh:
                yield fh
            os.replace(tmp, target)
    except BaseException:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise


class OutputSet:
    """Several output files that appear together or not at all: each writer writes to the
    temporary path `take()` hands out (or through `open()`); on a clean exit every file is
    renamed into place, on any exception (an error, Ctrl-C, SIGTERM) every temporary is removed
    and no output is left. Names that are not regular files are written in place (module note)."""

    def __init__(self) -> None:
        self.pending: list[tuple[Path, Path, str]] = []  # (temporary, target, the name given)

    def take(self, final: str | os.PathLike) -> Path:
        target, in_place = resolve_output(final)
        if in_place:
            return target
        tmp = target.parent / f".{target.name}.{os.getpid()}.part"
        self.pending.append((tmp, target, str(final)))
        return tmp

    @contextlib.contextmanager
    def open(self, final: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8"):
        """A handle on output `final`: "-" is standard output, a name ending in .gz is written
        gzip-compressed; text or binary by `mode`."""
        if str(final) == STDOUT:
            out = sys.stdout.buffer if "b" in mode else sys.stdout
            with _relabel("standard output"):
                yield out
                out.flush()
            return
        path = self.take(final)
        gzip_name = Path(final).name if _is_gzip_name(final) else None
        with _relabel(final, path), _stream(path, mode, encoding, gzip_name) as fh:
            yield fh

    def __enter__(self) -> "OutputSet":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                for tmp, final, shown in self.pending:
                    with _relabel(shown, tmp, final):
                        os.replace(tmp, final)
                return
            if isinstance(exc, OSError) and not isinstance(exc, UserError):  # a writer's own open() or write
                for tmp, _, shown in self.pending:
                    if str(exc.filename) == str(tmp):
                        raise _failed(shown, exc) from None
        finally:
            for tmp, _, _ in self.pending:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
