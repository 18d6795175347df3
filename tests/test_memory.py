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


def test_cyclic_gc_paused_inside_and_restored_after_even_on_error():
    import gc

    from genet5.memory import cyclic_gc_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with cyclic_gc_paused():
            assert not gc.isenabled()
            raise RuntimeError("a bad line")
    assert gc.isenabled()
    gc.disable()  # a caller that keeps it off has it off after too
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_reading_an_annotation_pauses_the_collector_and_leaves_it_on(tmp_path, monkeypatch):
    import gc

    from genet5.genome import gff
    from genet5.genome.models import GenomeFormatError

    seen = []
    real = gff.read_gff3
    monkeypatch.setattr(gff, "read_gff3", lambda *a, **k: seen.append(gc.isenabled()) or real(*a, **k))
    good = tmp_path / "a.gff3"
    good.write_text("##gff-version 3\nchr\t.\tgene\t1\t9\t.\t+\t.\tID=g\nchr\t.\tmRNA\t1\t9\t.\t+\t.\tID=t;Parent=g\n"
                    "chr\t.\tCDS\t1\t9\t.\t+\t0\tParent=t\n")
    bad = tmp_path / "b.gff3"
    bad.write_text("##gff-version 3\nchr\t.\tgene\t1\t9\t.\t+\n")  # 7 columns
    assert len(gff.read_annotation(good).genes["chr"]) == 1
    with pytest.raises(GenomeFormatError):
        gff.read_annotation(bad)
    assert seen == [False, False] and gc.isenabled()
