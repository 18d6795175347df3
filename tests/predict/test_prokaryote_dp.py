"""dp.select's compiled recursion (dp_kernel.py) picks the same genes as its Python loop, with
and without junction scores (Prodigal's, with operon rescues; a spacing model's table and
geometric tail), on random candidate sets dense enough to exercise every branch: far neighbours,
near ones from the table, allowed overlaps of each facing, ties."""

from __future__ import annotations

import numpy as np
import pytest

from genet5.predict.prokaryote import dp
from genet5.predict.prokaryote.dp_kernel import kernel

pytestmark = pytest.mark.skipif(kernel() is None, reason="numba unavailable (or GENET5_NUMBA=0): dp.select runs its Python loop only")


def _candidates(rng, n: int, span: int):
    lo = rng.integers(1, span, n)
    length = rng.integers(90, 3000, n) // 3 * 3
    hi = lo + length - 1
    plus = rng.random(n) < 0.6
    # operon neighbours: a same-strand gene starting on the stop of another (TAATG: 1 base
    # shared, ATGA: 4), where the rescue applies
    k = n // 5
    host = rng.integers(0, n, k)
    shared = np.where(rng.random(k) < 0.5, 1, 4)
    lo2 = hi[host] - shared + 1
    hi2 = lo2 + rng.integers(90, 1500, k) // 3 * 3 - 1
    lo, hi, plus = np.concatenate([lo, lo2]), np.concatenate([hi, hi2]), np.concatenate([plus, plus[host]])
    score = np.round(rng.normal(0.5, 3.0, len(lo)), 1)  # rounded: ties happen
    return lo, hi, plus, score


def _junction_variants(rng, n: int):
    rescue = np.where(rng.random(n) < 0.2, rng.random(n) * 2, 0.0)
    yield None
    yield dp.Junctions.prodigal(-0.65, 0.65, rescue, reach=200)
    near = 300
    table = rng.normal(0.0, 0.5, (3, 200 + near + 1))
    yield dp.Junctions(table, 200, rng.normal(-1.0, 0.3, 3), 0.004, rescue)


@pytest.mark.parametrize("seed", range(6))
def test_compiled_recursion_picks_the_python_loops_genes(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    n = 3000
    lo, hi, plus, score = _candidates(rng, n, span=400_000 if seed % 2 else 150_000)
    for junctions in _junction_variants(rng, len(lo)):
        for rules in ({}, {"same": 90, "convergent": 150, "divergent": 30}):
            monkeypatch.setattr(dp, "COMPILED_FROM", 10**9)
            python = dp.select(lo, hi, plus, score, junctions=junctions, **rules)
            monkeypatch.setattr(dp, "COMPILED_FROM", 1)
            compiled = dp.select(lo, hi, plus, score, junctions=junctions, **rules)
            assert len(python) > 50
            assert compiled.tolist() == python.tolist()


_ONE_RUN = """
import numpy as np
from genet5.predict.prokaryote import dp
from genet5.predict.prokaryote.dp_kernel import kernel
dp.COMPILED_FROM = 1
dp.select(np.array([1, 400]), np.array([300, 900]), np.array([True, False]), np.array([2.0, 3.0]))
print(len(kernel().stats.cache_hits), len(kernel().stats.cache_misses))
"""


def test_a_new_process_loads_the_compiled_recursion_from_the_cache(tmp_path):
    # the compile takes seconds: a second process must find it on disk (a closure over another
    # compiled function once made every run compile again)
    import os
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", _ONE_RUN], env=env, capture_output=True, text=True, check=True).stdout.split()
            for _ in range(2)]
    assert runs[0] == ["0", "1"], runs  # first process: compiled (one signature)
    assert runs[1] == ["1", "0"], runs  # second: loaded, nothing compiled
