"""The Markov baseline of bench/lm_learning_curve.py: counts, backoff and scoring."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from lm_learning_curve import MarkovChains, reverse_complement_ids  # noqa: E402

from genet5.tokenizers.nucleotide import NucleotideTokenizer  # noqa: E402
from genet5.train.genos_task import IGNORE  # noqa: E402

TOK = NucleotideTokenizer()


def _window(seq: str):
    ids = TOK.encode(seq, dtype=np.uint8).astype(np.int64)
    labels = np.full_like(ids, IGNORE)
    labels[:-1] = ids[1:]
    labels[:-1][~((ids[1:] >= 5) & (ids[1:] <= 8))] = IGNORE
    return ids, labels, np.zeros_like(ids)


def test_periodic_sequence_is_predictable_from_order_1_and_not_from_order_0():
    chains = MarkovChains(max_order=3, alpha=1e-6)
    chains.add(TOK.encode("ACGT" * 500, dtype=np.uint8))
    ids, labels, doc = _window("ACGT" * 50)
    nats0, n0 = chains.score(0, ids, labels, doc)
    nats1, n1 = chains.score(1, ids, labels, doc)
    assert n0 == n1 == 199
    assert abs(nats0 / n0 / math.log(2) - 2.0) < 1e-3  # uniform composition
    # order 1 knows the next base, from the first target on (its context is the window's first base)
    assert nats1 / math.log(2) < 1e-3
    # order 3 backs off to orders 1-2 at the window start and is just as sure
    nats3, _ = chains.score(3, ids, labels, doc)
    assert nats3 / math.log(2) < 1e-3


def test_n_breaks_the_context_and_is_never_a_target():
    chains = MarkovChains(max_order=2, alpha=1.0)
    chains.add(TOK.encode("ACGTNACGT", dtype=np.uint8))
    # 2-mers counted only from runs of valid bases: AC CG GT in each run
    assert chains.counts[1].sum() == 6
    ids, labels, doc = _window("ACNGT")
    _, n = chains.score(2, ids, labels, doc)
    assert n == 3  # C, G, T are targets; N is not


def test_reverse_complement_ids():
    ids = TOK.encode("AACGN", dtype=np.uint8)
    assert TOK.decode(reverse_complement_ids(ids)) == "NCGTT"


def test_large_k_is_near_uniform_and_window_scoring_matches_score():
    from lm_learning_curve import Window

    chains = MarkovChains(max_order=2, alpha=1.0)
    chains.add(TOK.encode("AAAAAAAAAAAAAAAAAAAC" * 200, dtype=np.uint8))  # an A-rich training genome
    ids, labels, doc = _window("CGTCGTCGGCTTGCAGCTGC")  # a held-out window without that bias
    nats1, n = chains.score(2, ids, labels, doc)
    assert nats1 / n / math.log(2) > 2.5  # add-one: far worse than uniform
    w = Window.from_arrays(0, ids, labels, doc, 2)
    assert w.n == n and abs(chains.window_nats(2, w) - nats1) < 1e-9
    big = chains.window_nats(2, w, alpha=1e9)
    assert abs(big / n / math.log(2) - 2.0) < 1e-3  # k -> infinity: the uniform guess


def test_tuning_windows_overlapping_a_reported_window_are_dropped():
    from lm_learning_curve import disjoint

    rng = np.random.default_rng(0)
    seq = "".join(rng.choice(list("ACGT"), size=400))
    win = lambda s: (_window(s)[0], _window(s)[0])  # noqa: E731  (stand-in: ids as the "window")
    reported = [win(seq[:100])]
    overlapping = win(seq[60:160])  # shares 40 bases with the reported window
    rc_overlapping = (None, reverse_complement_ids(_window(seq[50:150])[0]))
    apart = win(seq[200:300])
    kept = disjoint([overlapping, rc_overlapping, apart], reported)
    assert kept == [apart[0]]


def test_bootstrap_interval_holds_the_estimate():
    from lm_learning_curve import summary

    rng = np.random.default_rng(1)
    groups = np.repeat([0, 1], 10)
    n = np.full(20, 1000.0)
    nats = n * math.log(2) * np.where(groups == 0, 1.9, 1.98) + rng.normal(0, 5, 20)
    out = summary(["a", "b"], groups, nats, n)
    for key, want in (("a", 1.9), ("b", 1.98)):
        lo, hi = out[key]["ci95"]
        assert lo <= out[key]["bpb"] <= hi and abs(out[key]["bpb"] - want) < 0.01
    assert out["all"]["windows"] == 20


def test_window_chain_counts_only_earlier_bases_of_the_same_document():
    from lm_learning_curve import Window, prefix_counts

    ids, labels, doc = _window("AAAAC" + "AAAAC")
    doc[5:] = 1  # two documents of 5 bases
    labels[4] = IGNORE  # no target across the boundary
    w = Window.from_arrays(0, ids, labels, doc, 1)
    m0, m1 = prefix_counts(w, 0), prefix_counts(w, 1)
    # targets: A A A C (doc 0), A A A C (doc 1); order 0 counts the earlier targets of the doc
    assert m0[:, 3].tolist() == [0, 1, 2, 3, 0, 1, 2, 3]  # A is code 3 (C, G, T, A)
    assert m0[:, 0].tolist() == [0, 0, 0, 0, 0, 0, 0, 0]  # the first C is the last target of doc 0
    # order 1 at the last target (context A): A->A seen 3 times before it in its document
    assert m1[3].tolist() == [0, 0, 0, 3] and m1[7].tolist() == [0, 0, 0, 3]


def test_cache_chain_follows_the_window_and_is_the_training_chain_at_lambda_one():
    from lm_learning_curve import CacheChain, Window

    chains = MarkovChains(max_order=1, alpha=1.0)
    chains.add(TOK.encode("ACGT" * 500, dtype=np.uint8))  # training: uniform composition
    ids, labels, doc = _window("A" * 400)  # a held-out window of one base
    w = Window.from_arrays(0, ids, labels, doc, 2)
    cache = CacheChain([w], [chains.window_probs(1, w)], max_order=2)
    assert abs(cache.window_nats(0, 2, 1.0, 1.0) - chains.window_nats(1, w)) < 1e-6
    adapted = cache.window_nats(0, 2, 1.0, 0.5) / w.n / math.log(2)
    assert adapted < 1.1  # the window's own chain learns "A" (each base costs ~1 bit: lambda 0.5)
    assert chains.window_nats(1, w) / w.n / math.log(2) > 8  # the training chain never does (A->A unseen: ~9 bits)
