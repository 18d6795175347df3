"""packs.py: a draft's short strands scored together must score each candidate as it would be
scored alone, and the genes must not change."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from genet5.genome.codes import genetic_code
from genet5.predict.prokaryote import decoder, packs
from genet5.predict.prokaryote.decoder import ProkaryoteSettings, fill_start_features, find_genes, prepare_record
from genet5.predict.prokaryote.starts import features

EXAMPLE = Path(decoder.__file__).resolve().parents[2] / "examples" / "erwinia_phage_MT939486" / "genome.fa.gz"
CODE11 = genetic_code(11)
STARTS = frozenset({b"ATG", b"GTG", b"TTG"})


def _draft(pieces: int = 60) -> list[tuple[str, bytes]]:
    """The bundled example phage cut at fixed random points into `pieces` contigs."""
    text = gzip.open(EXAMPLE, "rt").read().split("\n", 1)[1].replace("\n", "").encode()
    rng = np.random.default_rng(3)
    cuts = [0] + sorted(rng.choice(np.arange(500, len(text) - 500), pieces - 1, replace=False).tolist()) + [len(text)]
    return [(f"c{i}", text[lo:hi]) for i, (lo, hi) in enumerate(zip(cuts, cuts[1:]))]


def _genes(records, settings):
    return [[(g.strand, g.start, g.end, g.start_codon, round(g.score, 6)) for g in rec] for rec in find_genes(records, settings)]


@pytest.mark.skipif(not EXAMPLE.exists(), reason="the bundled example genome is not in this checkout")
def test_a_draft_gets_the_same_genes_with_its_strands_packed_as_alone(monkeypatch):
    settings = ProkaryoteSettings(threads=2)
    contigs = _draft()
    prepared = lambda: [prepare_record(n, s, CODE11, STARTS, settings) for n, s in contigs]  # noqa: E731
    packed = prepared()
    # the packs really join strands: a few packs for 120 strands
    assert len(packs.StrandPacks([d for rec in packed for d in rec]).packs) <= 4
    with_packs = _genes(packed, settings)
    monkeypatch.setattr(packs, "PACK_BELOW", 0)  # every strand a pack of its own: the unpacked scoring
    alone = _genes(prepared(), settings)
    assert with_packs == alone
    assert sum(map(len, alone)) > 400


def test_pack_rows_go_back_to_their_strands_in_order():
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), n)).encode() for n in (900, 2500, 1200)]
    strands = [d for i, s in enumerate(seqs) for d in prepare_record(f"s{i}", s, CODE11, STARTS, ProkaryoteSettings())]
    p = packs.StrandPacks(strands)
    assert len(p.packs) == 1 and len(p.packs[0].pieces) == len(strands)
    cand = p.packs[0].cand
    gap = b"N" * packs.SEPARATOR
    assert cand.seq == gap.join(d.cand.seq for d in strands)
    # each strand's candidates come back as its own, read from the pack
    back = p.map_cand(lambda c: np.stack([c.e - c.a, c.orf % 2], axis=1))
    for d, rows in zip(strands, back):
        assert rows.tolist() == np.stack([d.cand.e - d.cand.a, d.cand.orf % 2], axis=1).tolist()
    # ORFs stay apart across strands (and keep their parity: the start matrix check splits by it)
    starts = np.cumsum([0] + [len(d.cand.a) for d in strands])
    orfs = [set(cand.orf[lo:hi].tolist()) for lo, hi in zip(starts, starts[1:])]
    assert all(not (x & y) for i, x in enumerate(orfs) for y in orfs[i + 1 :])


def test_start_features_filled_in_packs_are_those_of_each_strand():
    contigs = _draft(40) if EXAMPLE.exists() else [("c", b"ACGTTGATGAAAGGAGGTTTATGCC" * 400)]
    settings = ProkaryoteSettings()
    records = [prepare_record(n, s, CODE11, STARTS, settings, start_features=False) for n, s in contigs]
    assert all(d.codon is None for rec in records for d in rec)
    fill_start_features(records, threads=2)
    for rec in records:
        for d in rec:
            codon, rbs, mat = features(d.cand.seq, d.cand.a, d.cand.edge)
            assert np.array_equal(d.codon, codon) and np.array_equal(d.rbs, rbs) and np.array_equal(d.mat, mat)


@pytest.mark.skipif(not EXAMPLE.exists(), reason="the bundled example genome is not in this checkout")
def test_a_long_strand_scored_in_blocks_gets_the_same_genes_as_whole(monkeypatch):
    """The example phage's 358 kb strands in blocks of 100 kb (the shipped block is 0.5 Mb: the
    same code on a genome a test can afford) against the same strands scored whole."""
    from genet5.predict.prokaryote import orfs

    text = gzip.open(EXAMPLE, "rt").read().split("\n", 1)[1].replace("\n", "").encode()
    settings = ProkaryoteSettings(threads=2)
    found = {}
    for block in (100_000, 10**12):
        monkeypatch.setattr(orfs, "BLOCK_BASES", block)
        monkeypatch.setattr(packs, "BLOCK_BASES", block)
        records = [prepare_record("phage", text, CODE11, STARTS, settings)]
        if block == 100_000:
            strands = [d for rec in records for d in rec]
            grouped = packs.StrandPacks(strands).packs
            assert len(grouped) >= 6  # both strands cut into blocks
            for d in strands:  # ordered by the block of their stop, each ORF's candidates together
                assert np.all(np.diff(d.cand.e // block) >= 0)
                change = np.flatnonzero(np.diff(d.cand.orf)) + 1
                assert len(np.unique(d.cand.orf)) == len(change) + 1
        found[block] = _genes(records, settings)
    assert found[100_000] == found[10**12]
    assert sum(map(len, found[100_000])) > 400
