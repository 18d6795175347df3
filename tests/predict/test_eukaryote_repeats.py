"""Repeats found in the genome itself (predict/eukaryote/repeats.py) and the decoder dropping
genes made of them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from genet5.genome.codes import reverse_complement
from genet5.predict.eukaryote import repeats
from genet5.predict.eukaryote.decoder import EukaryoteSettings, find_genes
from genet5.predict.eukaryote.repeats import K, RepeatCover, RepeatTable, canonical_kmers
from tests.predict.test_eukaryote import CODE, synthetic_genome


def _random(rng, n: int) -> bytes:
    return bytes(rng.choice(np.frombuffer(b"ACGT", dtype=np.uint8), size=n))


def test_a_kmer_and_its_reverse_complement_are_one_canonical_kmer():
    rng = np.random.default_rng(0)
    s = _random(rng, 40)
    fwd, valid = canonical_kmers(s)
    rev, _ = canonical_kmers(reverse_complement(s))
    assert valid.all() and len(fwd) == 40 - K + 1
    assert np.array_equal(fwd, rev[::-1])
    _, valid_n = canonical_kmers(s[:20] + b"N" + s[21:])
    assert not valid_n[20 - K + 1 : 21].any() and valid_n[: 20 - K + 1].all() and valid_n[21:].all()


def test_copies_on_either_strand_or_in_lower_case_are_found_and_single_copies_are_not():
    rng = np.random.default_rng(1)
    element, pair = _random(rng, 600), _random(rng, 500)
    parts = [_random(rng, 1000), element, _random(rng, 2000), reverse_complement(element), _random(rng, 800),
             element.lower(), _random(rng, 700), pair, _random(rng, 900), pair, _random(rng, 600)]
    seq = b"".join(parts)
    runs = RepeatTable([("a", seq)], min_copies=3).runs(seq)
    starts = np.cumsum([0] + [len(p) for p in parts])
    expected = [(int(starts[i]), int(starts[i + 1])) for i in (1, 3, 5)]  # the pair has two copies only
    # a chance k-mer match at an element's edge may widen a run by a base or two
    assert len(runs) == 3 and all(abs(a - x) <= 2 and abs(b - y) <= 2 for (a, b), (x, y) in zip(runs, expected))
    assert RepeatTable([("a", seq)], min_copies=2).runs(seq)[-2:][0][0] >= starts[7] - 2  # the pair at 2 copies


def test_runs_read_in_blocks_equal_runs_read_at_once():
    rng = np.random.default_rng(2)
    element = _random(rng, 300)
    seq = b"".join(_random(rng, int(rng.integers(200, 3000))) + element for _ in range(12))
    table = RepeatTable([("a", seq)])
    assert table.runs(seq, block=1000) == table.runs(seq) and len(table.runs(seq)) >= 12


def test_repeated_windows_are_those_of_a_plain_table_lookup():
    """The prefix filter before the sorted table's look-up finds exactly the windows whose
    k-mer is repeated, also where a single-copy k-mer shares a repeated one's prefix."""
    rng = np.random.default_rng(3)
    element = _random(rng, 200)
    near = bytearray(element)
    for i in range(K - 1, len(near), K):  # each k-mer's last base changed: same prefixes, other k-mers
        near[i] = b"ACGT"[(b"ACGT".index(near[i]) + 1) % 4]
    seq = b"".join([_random(rng, 500), element, _random(rng, 400), element, _random(rng, 300), element,
                    _random(rng, 600), bytes(near), _random(rng, 500)])
    table = RepeatTable([("a", seq)])
    h, valid = canonical_kmers(seq)
    hit = valid & np.isin(h, table.repeated)
    covered = np.zeros(len(seq), dtype=bool)
    for i in np.flatnonzero(hit):
        covered[i : i + K] = True
    from_runs = np.zeros(len(seq), dtype=bool)
    for a, b in table.runs(seq):
        from_runs[a:b] = True
    assert table.prefixes[h[np.flatnonzero(~hit)] >> np.uint32(2 * K - repeats._PREFIX_BITS)].any()
    assert np.array_equal(from_runs, covered) and covered.sum() >= 3 * 200


def test_repeat_share_of_coding_segments_counts_masked_bases():
    cover = RepeatCover([(10, 20), (30, 35)])  # 0-based half-open: 1-based 11..20 and 31..35
    mask = np.zeros(50, dtype=bool)
    mask[10:20] = mask[30:35] = True
    for cds in ([(1, 10)], [(11, 20)], [(5, 15), (25, 40)], [(1, 50)], [(35, 36)]):
        brute = sum(mask[a - 1 : b].sum() for a, b in cds) / sum(b - a + 1 for a, b in cds)
        assert abs(cover.share(cds) - brute) < 1e-12
    assert RepeatCover([]).share([(1, 10)]) == 0.0


def test_a_large_genome_counts_copies_on_a_sample(monkeypatch):
    monkeypatch.setattr(repeats, "REPEAT_SAMPLE_BASES", 20_000)
    monkeypatch.setattr(repeats, "_SAMPLE_PIECE", 2_000)
    rng = np.random.default_rng(3)
    element = _random(rng, 300)  # every 1.5 kb: a few copies in any 2 kb piece of the sample
    seq = b"".join(_random(rng, 1200) + element for _ in range(60))
    table = RepeatTable([("a", seq[: len(seq) // 2]), ("b", seq[len(seq) // 2 :])])
    assert len(table.runs(seq)) >= 55


def test_genes_inside_interspersed_copies_are_dropped_and_single_copy_genes_kept():
    """Four copies of a gene-like element (a transposon's ORF with its introns) among single-copy
    genes: with the repeat filter the copies are not called, the planted genes still are."""
    seq, planted = synthetic_genome(seed=4, genes=24)
    element, _ = synthetic_genome(seed=9, genes=1)
    rng = np.random.default_rng(4)
    pieces = [seq] + [_random(rng, 1500) + element for _ in range(4)]
    genome = b"".join(pieces)
    settings = EukaryoteSettings(rounds=1, seed_min_codons=200, intron_long_share=0.0)
    with_copies, _ = find_genes([("g", genome)], CODE, replace(settings, max_repeat_share=1.0))
    filtered, _ = find_genes([("g", genome)], CODE, replace(settings, max_repeat_share=0.2))
    in_copies = lambda genes: [g for g in genes if g.start > len(seq)]  # noqa: E731
    assert len(in_copies(with_copies[0])) >= 3
    assert not in_copies(filtered[0])
    whole = lambda genes: {(g.strand, tuple(sorted(g.cds))) for g in genes}  # noqa: E731
    found = len(whole(filtered[0]) & {(s, tuple(c)) for s, c in planted})
    assert found >= 0.8 * len(planted)


def test_soft_masked_genes_count_as_repeats_when_the_mask_is_given():
    """`--softmask` (the default): a gene lying in lower-case sequence is dropped like one made
    of the genome's own repeats; without the mask (`--no-softmask`) it is called."""
    seq, planted = synthetic_genome(seed=5, genes=16)
    strand, segs = planted[7]
    lo, hi = segs[0][0] - 1, segs[-1][1]  # 0-based half-open span of the gene's CDS
    settings = EukaryoteSettings(rounds=1, seed_min_codons=200, intron_long_share=0.0)
    key = (strand, tuple(segs))
    called = lambda genes: {(g.strand, tuple(sorted(g.cds))) for g in genes[0]}  # noqa: E731
    unmasked, _ = find_genes([("g", seq)], CODE, settings)
    masked, _ = find_genes([("g", seq)], CODE, settings, masks=[[(lo, hi)]])
    assert key in called(unmasked)
    assert not any(g.start <= hi and g.end > lo for g in masked[0])
    assert len(called(masked) & {(s, tuple(c)) for s, c in planted}) >= len(called(unmasked) & {(s, tuple(c)) for s, c in planted}) - 1
