"""Memory housekeeping: handing freed memory back to the operating system, and pausing Python's
cyclic garbage collector while many objects are made at once.

glibc's allocator keeps the pages of freed arrays for reuse, and after a pass that made and freed
many arrays of a few MB (the site classifier's blocks over a chromosome) they stay in the
process as holes that later large arrays (which get fresh pages by mmap) do not fill: the
process's peak counts them twice. `malloc_trim` returns those free pages. No other allocator
(macOS, musl) is touched."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from contextlib import contextmanager
from functools import lru_cache


@lru_cache(maxsize=1)
def _malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim  # glibc only
    except (OSError, AttributeError):
        return None


def release_free_memory() -> bool:
    """Returns the allocator's free pages to the OS where the C library can (glibc); True if it did."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


@contextmanager
def cyclic_gc_paused():
    """Python's cyclic garbage collector off inside (and back on after, if it was on). Each of its
    collections walks the objects made since the last, and reading an annotation makes hundreds of
    thousands that all stay alive (genes, transcripts, segments, attribute dicts): on a 190k-line
    GFF3 a third of the read went into collections that found nothing (A. thaliana chr1, 2.6 ->
    1.9 s), and unpickling a parsed annotation even more (1.05 -> 0.23 s). Garbage with cycles
    made meanwhile is collected by the next collection after it."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
