"""genet5.atomic: outputs written whole or not at all, and special targets written in place
(a symlink's target, a FIFO), with errors that name the user's path."""

from __future__ import annotations

import gzip
import os
import threading

import pytest

from genet5.atomic import OutputError, OutputSet, atomic_write


def read_fifo(path) -> tuple[threading.Thread, list[bytes]]:
    got: list[bytes] = []

    def drain():
        with open(path, "rb") as fh:
            got.append(fh.read())

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    return reader, got


def test_atomic_write_follows_a_symlink_and_keeps_it(tmp_path):
    (tmp_path / "real.txt").write_text("old\n")
    link = tmp_path / "link.txt"
    link.symlink_to("real.txt")
    with atomic_write(link) as fh:
        fh.write("new\n")
    assert link.is_symlink() and (tmp_path / "real.txt").read_text() == "new\n"
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to("made.txt")  # a link to a file not made yet
    with atomic_write(dangling) as fh:
        fh.write("x\n")
    assert dangling.is_symlink() and (tmp_path / "made.txt").read_text() == "x\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling.txt", "link.txt", "made.txt", "real.txt"]


@pytest.mark.parametrize("how", ["atomic_write", "OutputSet.take", "OutputSet.open"])
def test_a_fifo_is_written_in_place_not_replaced(tmp_path, how):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    reader, got = read_fifo(fifo)
    if how == "atomic_write":
        with atomic_write(fifo) as fh:
            fh.write("through the pipe\n")
    else:
        with OutputSet() as outputs:
            if how == "OutputSet.take":
                with open(outputs.take(fifo), "w") as fh:
                    fh.write("through the pipe\n")
            else:
                with outputs.open(fifo) as fh:
                    fh.write("through the pipe\n")
    reader.join(10)
    assert got == [b"through the pipe\n"]
    assert fifo.is_fifo() and [p.name for p in tmp_path.iterdir()] == ["out.fifo"]


def test_output_set_follows_symlinks_and_compresses_gz_names(tmp_path):
    (tmp_path / "link.gff").symlink_to("real.gff")
    with OutputSet() as outputs:
        with outputs.open(tmp_path / "link.gff") as fh:
            fh.write("gff\n")
        with outputs.open(tmp_path / "p.faa.gz", "wb") as fh:
            fh.write(b">p\nMK\n")
    assert (tmp_path / "link.gff").is_symlink() and (tmp_path / "real.gff").read_text() == "gff\n"
    assert gzip.decompress((tmp_path / "p.faa.gz").read_bytes()) == b">p\nMK\n"


def test_a_write_error_names_the_users_path_not_the_temporary(tmp_path):
    missing = tmp_path / "no_dir" / "p.faa"
    with pytest.raises(OutputError, match=r"no_dir/p\.faa: No such file or directory") as err:
        with atomic_write(missing) as fh:
            fh.write("x")
    assert ".tmp" not in str(err.value)
    fifo = tmp_path / "closed.fifo"  # a reader that leaves at once: the write fails (EPIPE)
    os.mkfifo(fifo)
    reader = threading.Thread(target=lambda: open(fifo, "rb").close(), daemon=True)
    reader.start()
    with pytest.raises(OutputError, match=r"closed\.fifo: Broken pipe"):
        with OutputSet() as outputs, outputs.open(fifo) as fh:
            reader.join(10)
            fh.write("x" * (1 << 20))
