"""GenBank and EMBL flat files read as genomes (Prodigal reads these too): the sequences only,
through Biopython's parser, checked and normalised as FASTA records are (genome/fasta.py, whose
read_fasta hands a flat file here); genbank.py reads their features with the same error helpers.
"""

from __future__ import annotations

import gzip
import io
import warnings
import zlib
from typing import Iterator

from .fasta import _INVALID_RE, FastaRecord, _finish, shown_character
from .models import GenomeFormatError


def flatfile_format(fh) -> str | None:
    """'genbank' or 'embl' where the stream holds such a flat file (its first line), else None."""
    try:
        head = fh.peek(64)[:64].lstrip() if hasattr(fh, "peek") else b""
    except (EOFError, OSError, zlib.error):  # a broken gzip: the reader below says where
        return None
    if head.startswith(b"LOCUS"):
        return "genbank"
    if head.startswith(b"ID "):
        return "embl"
    return None


class LineCounter:
    """A text stream that counts the lines read from it (Biopython's flat-file parsers read
    with readline), so a parse error can say where the parser gave up."""

    def __init__(self, fh):
        self.fh, self.line = fh, 0

    def read(self, size: int = -1) -> str:
        return self.fh.read(size)

    def readline(self, *args) -> str:
        text = self.fh.readline(*args)
        self.line += bool(text)
        return text


def flatfile_error(path, name: str, lines: LineCounter, exc: BaseException) -> GenomeFormatError:
    """One line for a flat file Biopython could not parse: its message can hold a whole feature
    (a cut file); the first line, with the location where that line only names the feature."""
    said = [t.strip() for t in str(exc).strip().splitlines() if t.strip()] or [type(exc).__name__]
    first = f"{said[0]} {said[1]}" if said[0].endswith(":") and len(said) > 1 else said[0]
    return GenomeFormatError(path, None, f"truncated or malformed {name} record near line {lines.line:,}: {first}")


def read_flatfile(fh, path: str, fmt: str) -> Iterator[FastaRecord]:
    """The records of a GenBank or EMBL flat file (Prodigal reads these too), through Biopython's
    parser, checked and normalised as FASTA records are; its features are not read."""
    from Bio import SeqIO
    from Bio.Seq import UndefinedSequenceError

    name = {"genbank": "GenBank", "embl": "EMBL"}[fmt]
    seen: set[str] = set()
    text = LineCounter(io.TextIOWrapper(fh, encoding="latin-1", newline=None))
    records = SeqIO.parse(text, fmt)
    while True:
        try:
            with warnings.catch_warnings(record=True) as caught:  # the parser's complaints: checked below
                warnings.simplefilter("always")
                rec = next(records)
                seq = bytes(rec.seq)
        except StopIteration:
            break
        except UndefinedSequenceError:
            raise GenomeFormatError(path, None, f"{name} record '{rec.id}' holds no sequence (no ORIGIN / SQ "
                                    "section: a CONTIG or WGS master record?); give the sequence itself") from None
        except (ValueError, AssertionError) as exc:
            raise flatfile_error(path, name, text, exc) from None
        except EOFError:
            raise GenomeFormatError(path, None, "truncated gzip file (ends before the end-of-stream marker)") from None
        except (gzip.BadGzipFile, zlib.error) as exc:
            raise GenomeFormatError(path, None, f"corrupt gzip data ({exc})") from None
        for w in caught:  # a cut file reads as a shorter sequence with a warning: refuse it
            text_w = str(w.message)
            if "Premature end of file" in text_w or "Expected sequence length" in text_w:
                raise GenomeFormatError(path, None, f"{name} record '{rec.id}' is cut short ({text_w.splitlines()[0]})")
        bad = _INVALID_RE.search(seq)
        if bad:
            raise GenomeFormatError(path, None, f"invalid character {shown_character(seq, bad.start())} in the sequence of "
                                    f"{name} record '{rec.id}'")
        if rec.id in seen:
            raise GenomeFormatError(path, None, f"duplicate sequence id '{rec.id}'")
        seen.add(rec.id)
        description = rec.description if rec.description not in ("", ".", "<unknown description>") else ""
        yield _finish(path, f">{rec.id} {description}".encode(), 0, [seq])
    if not seen:
        raise GenomeFormatError(path, None, f"empty {name} file (no records)")
