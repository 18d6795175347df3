"""Running the decoder's per-strand work on several CPU threads (`genet5 predict --threads`).

The work per strand is numpy over whole arrays (context and hexamer tables, cumulative sums,
the start classifier's matrix products), which runs without the GIL, so threads share one
genome's arrays and need no copies; the results come back in order, so the genes do not depend
on the number of threads.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, TypeVar

# Threads when --threads is not given: the CPUs this process may run on, at most this many (a
# genome has two strands per record; past four the pool mostly waits). Not the idle-CPU
# sampling of the eukaryote decoder's processes: it takes 0.1 s, a sixth of a phage's run, and
# a thread that finds its CPU busy costs little.
MAX_DEFAULT_THREADS = 4
T = TypeVar("T")
R = TypeVar("R")


def default_threads() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_DEFAULT_THREADS))


# Below this many bases of work a pool costs more than it saves (starting threads: ~1 ms each;
# meta mode scores every short contig under every parameter set: 158 contigs of a 120 kb draft
# took 17.7 s through pools against 1.4 s without)
MIN_THREADED_BASES = 200_000


def thread_map(fn: Callable[[T], R], items: Iterable[T], threads: int = 1, bases: int | None = None) -> list[R]:
    """[fn(x) for x in items], on up to `threads` threads when `bases` (the work's size; None:
    unknown, taken as large) reaches MIN_THREADED_BASES."""
    items = list(items)
    if threads <= 1 or len(items) < 2 or (bases is not None and bases < MIN_THREADED_BASES):
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=min(threads, len(items))) as pool:
        return list(pool.map(fn, items))


def memoized(memo: dict | None, key: tuple, fn: Callable[[], T]) -> T:
    """fn() once per key while `memo` lives (None: no memo). Meta mode scores one sequence under
    ~46 parameter sets that share parts (a GC bin's chain and hexamer table with its pairing
    with E. coli's starts; E. coli's start model with 20 pairings): keyed by the ids of the part
    and of the strand's candidates, each is computed once per sequence."""
    if memo is None:
        return fn()
    hit = memo.get(key)
    if hit is None:
        hit = memo[key] = fn()
    return hit


# numpy's BLAS (OpenBLAS in numpy's wheels) runs each matrix product on one thread per core and
# leaves those threads spinning for a while after it. The decoder's products are small (each
# candidate's features times the weights, the start classifier's layers) and the cores are
# wanted by the pool above: on 2 cores the spinning cost ~0.3 s of CPU in a 0.5 s phage run and
# 0.05-0.15 s of wall time in 0.5-1.7 s runs, for the same genes (docs/benchmarks.md, session
# 39). threadpoolctl (made for this: it sets the BLAS library's own thread count) limits it for
# the length of a decoding and restores the caller's setting after, so a Python caller's own
# numpy keeps its threads. Nested and concurrent decodings share one limit (counted).
_blas_lock = threading.Lock()
_blas_users = 0
_blas_limit = None  # threadpoolctl's limiter while a decoding runs
_blas_controller = None  # threadpoolctl.ThreadpoolController, made on first use (~4 ms)


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    global _blas_users, _blas_limit, _blas_controller
    with _blas_lock:
        if _blas_users == 0:
            if _blas_controller is None:
                from threadpoolctl import ThreadpoolController

                _blas_controller = ThreadpoolController()
            _blas_limit = _blas_controller.limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limit.restore_original_limits()
                _blas_limit = None
