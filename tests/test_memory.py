import platform

import numpy as np
import pytest

from genet5.memory import release_free_memory


def _rss_kb() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS"))


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's; elsewhere a no-op")
def test_freed_pages_go_back_to_the_system():
    # many small arrays (under glibc's mmap threshold: they live in the heap) with a survivor
    # between each pair, so the freed ones are holes the heap cannot shrink past
    arrays = [np.ones(20_000, dtype=np.float64) for _ in range(4_000)]  # 640 MB in 160 kB pieces
    keep = arrays[1::40]
    del arrays
    before = _rss_kb()
    assert release_free_memory() is True
    assert _rss_kb() < before - 200_000  # most of the freed holes returned
    del keep
