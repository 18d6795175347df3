"""The compiled Viterbi loops (predict/viterbi_kernels.py) give the numpy loops' path bit for bit,
ties included, on the HMM options the eukaryote decoder uses; without numba the numpy loops run."""

from __future__ import annotations

import numpy as np
import pytest

import genet5.predict.viterbi_kernels as vk
from genet5.genome.codes import genetic_code
from genet5.predict.viterbi_batch import viterbi_batch
from genet5.predict.viterbi_hmm import NEG, N_EMIT, GeneHMM, padded_base_codes

CODE = genetic_code(1)


def _batch(hmm: GeneHMM, seed: int):
    """A batch of regions of a random sequence rich in ATG / GT / AG / stops, with coarse random
    emissions (steps of 0.5, so that many candidates tie) and the gates of its bases."""
    rng = np.random.default_rng(seed)
    seq = "".join(rng.choice(["ATG", "GT", "AG", "TAA", "TGA", "GCC", "A", "C", "T", "G"], size=6000))[:9000].encode()
    lens = np.array([3100, 2500, 2500, 700, 45, 1])  # longest first, as viterbi_batch wants
    starts = np.array([0, 3200, 5800, 8300, 9000 - 46, 4])
    gpos = np.concatenate([np.arange(a, a + n) for a, n in zip(starts, lens)])
    gn, gj = hmm.gates(padded_base_codes(seq), gpos)
    em = (np.round(rng.normal(0, 1.5, size=(gpos.size, N_EMIT)) * 2) / 2).astype(np.float32)
    init = np.full((lens.size, hmm.n_states), NEG)
    init[:, hmm.ig_state] = 0.0
    init[0] = np.where(hmm.edge_ok_arr, hmm.gene_logp, NEG)  # the first region starts a sequence
    init[0, hmm.ig_state] = 0.0
    final = init.copy()
    final[:, hmm.kind_arr == 0] = 0.0
    final[1] = 0.0  # this one ends the sequence: a gene may run off
    return em, gn, gj, lens, init, final


HMMS = {
    "plain": lambda: GeneHMM(CODE, frozenset({b"ATG"}), {(b"GT", b"AG"): 0.0}, gene_logp=-10.0,
                               intron_logp=-8.0, intron_min=20, intron_mean=100.0),
    "decoder options": lambda: GeneHMM(CODE, frozenset({b"ATG"}), {(b"GT", b"AG"): 0.0, (b"GC", b"AG"): -4.0},
                                       gene_logp=-12.0, intron_logp=-6.0, intron_min=30, intron_mean=60.0, intron_long=(0.2, 800.0),
                                       terminal_exon_min=12, utr_mean=150.0),
}


@pytest.mark.skipif(vk.KERNELS is None, reason="compiled loops off here (numba not importable, or GENET5_NUMBA=0): only the numpy loops run")
@pytest.mark.parametrize("name", sorted(HMMS))
def test_compiled_loops_give_the_numpy_path_bit_for_bit(monkeypatch, name):
    hmm = HMMS[name]()
    assert vk.usable(hmm)
    genic = 0
    for seed in range(3):
        args = _batch(hmm, seed)
        compiled = viterbi_batch(hmm, *args)
        monkeypatch.setattr(vk, "KERNELS", None)
        plain = viterbi_batch(hmm, *args)
        monkeypatch.undo()
        assert compiled[0].dtype == plain[0].dtype and compiled[1].dtype == plain[1].dtype
        np.testing.assert_array_equal(compiled[0], plain[0])
        np.testing.assert_array_equal(compiled[1], plain[1])
        genic += int((hmm.kind_arr[plain[0]] != 0).sum())
    assert genic > 1000  # the paths hold genes with introns, not intergenic alone
    assert any(hmm.kind_arr[s] in (2, 4) for s in set(plain[0].tolist()))


def test_numpy_loops_run_when_numba_is_missing(monkeypatch):
    hmm = HMMS["plain"]()
    monkeypatch.setattr(vk, "KERNELS", None)
    assert not vk.usable(hmm)
    path, before = viterbi_batch(hmm, *_batch(hmm, 0))
    assert path.shape == (8846,) and before.shape == (6,)


def test_the_module_imports_without_numba(monkeypatch):
    import builtins
    import importlib

    real = builtins.__import__

    def no_numba(name, *a, **k):
        if name == "numba" or name.startswith("numba."):
            raise ImportError("no numba here")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_numba)
    try:
        assert importlib.reload(vk).KERNELS is None
    finally:
        monkeypatch.undo()
        importlib.reload(vk)



def test_padded_base_codes_read_each_base_as_a_lookup_would():
    seq = b"ACGTacgtNnRYkm-" * 3
    codes = padded_base_codes(seq)
    margin = (len(codes) - len(seq)) // 2
    expected = [{"A": 0, "C": 1, "G": 2, "T": 3}.get(chr(b).upper(), 4) for b in seq]
    assert codes.dtype == np.uint8 and margin > 0
    assert codes[margin:-margin].tolist() == expected
    assert set(codes[:margin].tolist()) == set(codes[-margin:].tolist()) == {4}
    assert padded_base_codes(b"").tolist() == [4] * (2 * margin)
