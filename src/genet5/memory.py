"""Handing freed memory back to the operating system.

glibc's allocator keeps the pages of freed arrays for reuse, and after a pass that made and freed
many arrays of a few MB (the site classifier's blocks over a chromosome) they stay in the
process as holes that later large arrays (which get fresh pages by mmap) do not fill: the
process's peak counts them twice. `malloc_trim` returns those free pages. No other allocator
(macOS, musl) is touched."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
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
