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


@pytest.mark.parametrize("k", [3, 5, 7])  # order 7: contexts kept as int32, a second signature
def test_compiled_chain_sums_are_the_numpy_paths_numbers(k, monkeypatch):
    """CodingModel.frame_sums through sums_compiled.py (numba loaded) and through the (L, 3)
    track and orfs.frame_sums: the same numbers bit for bit, N and IUPAC letters, spans at the
    sequence's ends and spans of part codons (which take the numpy path) included."""
    from genet5.predict.prokaryote import dp_kernel
    from genet5.predict.prokaryote.coding import CodingModel, ContextCache
    from genet5.predict.prokaryote.orfs import frame_sums

    rng = np.random.default_rng(k)
    chain = CodingModel(k, rng.normal(size=(3, 4**k, 4)).astype(np.float32))
    seq = bytearray(rng.choice(np.frombuffer(b"ACGT", dtype=np.uint8), size=30_001))
    seq[900:912] = b"N" * 12
    seq[4000] = ord("R")
    seq = bytes(seq)
    a = np.concatenate([rng.integers(0, 29_000, 3000), [0, 1, 2, 29_998, 29_995]])
    e = np.concatenate([a[:-5] + rng.integers(1, 300, 3000) * 3 - 1, [2, 30_000, 29_999, 30_000, 29_999]])
    e[:40] += 1  # part codons
    assert dp_kernel.kernel() is not None and dp_kernel.coding_kernels() is not None
    cache = ContextCache()
    compiled = chain.frame_sums(seq, a, e, cache)
    monkeypatch.setattr(dp_kernel, "coding_kernels", lambda: None)
    assert np.array_equal(compiled, chain.frame_sums(seq, a, e, cache))
    assert np.array_equal(compiled, frame_sums(chain.track(seq, cache), a, e))


_SUMS_RUN = """
import numpy as np
from genet5.predict.prokaryote import dp_kernel
from genet5.predict.prokaryote.coding import CodingModel
dp_kernel.kernel()
CodingModel(3, np.zeros((3, 64, 4), dtype=np.float32)).frame_sums(b"ACGTACGTAC" * 30, np.array([0]), np.array([89]))
k = dp_kernel.coding_kernels()[0]
print(len(k.stats.cache_hits), len(k.stats.cache_misses))
"""


def test_a_new_process_loads_the_compiled_chain_sums_from_the_cache(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", _SUMS_RUN], env=env, capture_output=True, text=True, check=True).stdout.split()
            for _ in range(2)]
    assert runs[0] == ["0", "1"], runs
    assert runs[1] == ["1", "0"], runs


@pytest.mark.parametrize("k", [2, 5, 7])
def test_compiled_fit_counts_are_the_numpy_paths(k, monkeypatch):
    """CodingModel.fit through sums_compiled.gene_counts (numba loaded) and through numpy: the
    same chain, with genes that overlap (a base inside two genes counts once, at the later gene's
    codon position), genes at the sequence's ends, N and IUPAC letters."""
    from genet5.predict.prokaryote import dp_kernel
    from genet5.predict.prokaryote.coding import CodingModel, ContextCache

    rng = np.random.default_rng(k)
    seq = bytearray(rng.choice(np.frombuffer(b"ACGT", dtype=np.uint8), size=40_000))
    seq[700:709] = b"N" * 9
    seq[5001] = ord("Y")
    seq = bytes(seq)
    a = np.concatenate([[0], rng.integers(0, 38_000, 300), [39_700]])
    e = np.concatenate([[599], a[1:-1] + rng.integers(30, 600, 300) * 3 - 1, [39_999]])
    e[5] = a[5] + 2  # a one-codon gene
    a[7], e[7] = a[6] + 1, a[6] + 301  # overlapping its neighbour in another frame
    assert dp_kernel.kernel() is not None and dp_kernel.coding_kernels() is not None
    genes = [(seq, a, e), (seq, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))]
    compiled = CodingModel.fit(genes, [seq], k=k, cache=ContextCache())
    monkeypatch.setattr(dp_kernel, "coding_kernels", lambda: None)
    numpy_path = CodingModel.fit(genes, [seq], k=k, cache=ContextCache())
    assert np.array_equal(compiled.ratio, numpy_path.ratio)
