"""The prokaryote decoder's threads: numpy's BLAS kept to one thread while it decodes."""

from __future__ import annotations

import threading

import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")

from genet5.predict.prokaryote.threads import single_threaded_blas  # noqa: E402


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


@pytest.fixture
def two_blas_threads():
    """BLAS at two threads for the test (whatever OPENBLAS_NUM_THREADS said), the caller's
    setting given back after."""
    import numpy  # noqa: F401  (loads numpy's BLAS)

    if not _blas_threads():
        pytest.skip("no BLAS library that threadpoolctl can see in this numpy")
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        if set(_blas_threads()) != {2}:
            pytest.skip("this BLAS cannot be set to two threads")
        yield


def test_blas_is_single_threaded_inside_and_restored_after(two_blas_threads):
    with single_threaded_blas():
        assert set(_blas_threads()) == {1}
        with single_threaded_blas():  # nested: the inner exit must not restore early
            assert set(_blas_threads()) == {1}
        assert set(_blas_threads()) == {1}
    assert set(_blas_threads()) == {2}


def test_concurrent_decodings_share_one_limit(monkeypatch):
    """Two threads decoding at once: the limit is set once and given back only when the last
    one ends (a recording stand-in for threadpoolctl's controller: which thread's setting
    OpenBLAS reports varies between its versions)."""
    from genet5.predict.prokaryote import threads

    calls = []

    class Limit:
        def restore_original_limits(self):
            calls.append("restore")

    class Controller:
        def limit(self, limits, user_api):
            calls.append(("limit", limits, user_api))
            return Limit()

    monkeypatch.setattr(threads, "_blas_controller", Controller())
    inside, release = threading.Event(), threading.Event()

    def other():
        with single_threaded_blas():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=other)
    t.start()
    assert inside.wait(5)
    with single_threaded_blas():
        pass  # ends first: the other thread still decodes
    assert calls == [("limit", 1, "blas")]
    release.set()
    t.join()
    assert calls == [("limit", 1, "blas"), "restore"]
    with single_threaded_blas():
        pass
    assert calls[2:] == [("limit", 1, "blas"), "restore"]


def test_the_decoder_decodes_under_the_limit(two_blas_threads, monkeypatch):
    from genet5.predict.prokaryote.genome_decoder import ProkaryoteDecoder

    seen = []
    monkeypatch.setattr(ProkaryoteDecoder, "_finish", lambda self, on_bases=None: seen.append(set(_blas_threads())))
    ProkaryoteDecoder.finish(object.__new__(ProkaryoteDecoder))
    assert seen == [{1}]
    assert set(_blas_threads()) == {2}
