"""dp.select's recursion compiled (numba), for sequences with many candidates; and once numba is
loaded for it, the coding chains' candidate sums and fit counts too (coding_kernels,
sums_compiled.py: the same numbers, 4x the numpy path on a 2 Mb strand).

The Python loop of dp.select costs ~3 us a candidate: 0.13 s a round on a 2 Mb archaeon, 0.1 s
a round for each of Vibrio's large records, a quarter of a 2-thread run's time there (the rest
of a round runs on both threads; the DP of one record on one). This kernel runs the same
recursion over the same float64 values in the same order with the same comparisons, so it
picks the same chain (tests/predict/test_prokaryote_dp.py compares the two on random inputs).

numba is optional (as for the eukaryote decoder's kernels, predict/viterbi_kernels.py): where it
is missing or fails, or GENET5_NUMBA=0 is set, `kernel()` is None and dp.select runs its Python
loop. It is imported only when a DP is large enough to pay for it (dp.COMPILED_FROM): a phage's
whole run is shorter than numba's import. The compiled functions live in dp_compiled.py, whose
cache=True keeps their machine code on disk beside it, so the compile is paid once per install.
"""

from __future__ import annotations

import functools
import os


@functools.lru_cache(maxsize=1)
def kernel():
    """The compiled recursion, or None where numba is unavailable or switched off."""
    if os.environ.get("GENET5_NUMBA", "1") == "0":
        return None
    try:
        from genet5.predict.prokaryote.dp_compiled import recursion

        return recursion
    except Exception:  # numba missing or broken: the Python loop does the same work
        return None


@functools.lru_cache(maxsize=1)
def _coding_kernels():
    try:
        from genet5.predict.prokaryote.sums_compiled import chain_sums, gene_counts

        return chain_sums, gene_counts
    except Exception:  # as kernel(): the numpy paths do the same work
        return None


def coding_kernels():
    """(chain_sums, gene_counts) of sums_compiled.py (CodingModel.frame_sums and fit) once numba
    is loaded for the DP (kernel() asked for and found), else None: a run too small for the
    compiled DP never imports numba for them either."""
    if not loaded() or kernel() is None:
        return None
    return _coding_kernels()


def loaded() -> bool:
    """kernel() was asked for already (numba imported, or found missing): asking again is free."""
    return kernel.cache_info().currsize > 0
