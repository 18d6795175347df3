"""Meta mode (predict/prokaryote/meta.py): which shipped parameter sets compete for a sequence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from genet5.genome.codes import genetic_code
from genet5.predict.decoders import COMMON_PROKARYOTIC_STARTS
from genet5.predict.prokaryote.decoder import ProkaryoteSettings, prepare_record
from genet5.predict.prokaryote.meta import competing, find_genes_meta, load_sets, record_gc


def _record(code: int, gc: float = 0.4, n: int = 6000):
    rng = np.random.default_rng(1)
    p = [(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2]
    seq = bytes(rng.choice(np.frombuffer(b"ACGT", dtype=np.uint8), size=n, p=p))
    table = genetic_code(code)
    settings = ProkaryoteSettings(use_net=False, start_net_model=None)
    return [prepare_record("r", seq, table, table.starts & COMMON_PROKARYOTIC_STARTS, settings)], settings


def test_bundled_sets_cover_codes_11_and_4():
    sets = load_sets()
    assert {s.code for s in sets} == {4, 11}
    assert len({s.coding.k for s in sets}) == 1  # one chain order: gene-set scores compare alike
    gcs = [s.gc for s in sets if s.code == 11]
    assert min(gcs) < 0.36 and max(gcs) > 0.66


def test_only_sets_of_the_sequence_code_compete():
    sets = load_sets()
    by_code = {c: {s.name for s in sets if s.code == c} for c in (4, 11)}
    # each sequence's GC lies where only the other code has sets (code-4 sets: GC <= 0.34;
    # code-11 sets: >= 0.34), so without the code filter the GC window would pick the wrong code
    for code, gc in ((4, 0.5), (11, 0.27)):
        records, settings = _record(code, gc=gc)
        _, names = find_genes_meta(records, settings, sets, code=code)
        assert names[0] in by_code[code], (code, names)


def test_a_code_without_sets_borrows_those_of_a_code_with_its_stops():
    """Code 25 (TGA glycine) has no sets; code 4's (TGA tryptophan) genes read the same codons in
    frame, so they compete; a code whose stops no set's code shares gets them all."""
    from genet5.predict.prokaryote.meta import sets_for_code

    sets = load_sets()
    assert {s.code for s in sets_for_code(sets, 25)} == {4}
    assert {s.code for s in sets_for_code(sets, 11)} == {11}
    assert sets_for_code(sets, 2) == sets  # vertebrate mitochondria: AGA / AGG stop too
    records, settings = _record(25, gc=0.3)
    _, names = find_genes_meta(records, settings, sets, code=25)
    assert names[0] in {s.name for s in sets if s.code == 4}


def test_gc_window_keeps_near_sets_or_the_nearest():
    sets = load_sets()
    records, _ = _record(11, gc=0.5)
    gc = record_gc(records[0])
    assert abs(gc - 0.5) < 0.03
    near = competing(sets, gc, 0.03)
    assert near and all(abs(s.gc - gc) <= 0.03 for s in near) and len(near) < len(sets)
    assert len(competing(sets, 0.05, 0.01)) == 1  # nothing that low: the nearest alone
    assert competing(sets, gc, None) == sets


def test_auto_mode_switches_at_meta_below_and_single_mode_keeps_its_minimum():
    import gzip
    from pathlib import Path

    import genet5
    from genet5.genome.fasta import FastaRecord
    from genet5.predict.pipeline import PredictConfig
    from genet5.predict.prokaryote.genome_decoder import ProkaryoteDecoder
    from genet5.predict.prokaryote.meta import META_BELOW, SINGLE_MIN

    example = Path(genet5.__file__).parent / "examples" / "erwinia_phage_MT939486" / "genome.fa.gz"
    with gzip.open(example, "rb") as f:
        seq = b"".join(ln.strip() for ln in f if not ln.startswith(b">"))
    assert SINGLE_MIN < 30_000 < META_BELOW

    def decode(n: int, mode: str) -> str:
        dec = ProkaryoteDecoder(PredictConfig(genetic_code=11, domain="prokaryote", mode=mode))
        dec.add(FastaRecord("p", "", seq[:n], [], 0), None)
        return dec.finish().mode

    assert decode(30_000, "auto") == "meta"
    assert decode(30_000, "single") == "single"  # 20-50 kb: single mode still runs when asked
    assert decode(META_BELOW, "auto") == "single"


def test_paired_sets_share_a_bin_chain_and_a_genome_start_model(tmp_path):
    from genet5.predict.prokaryote.meta import save_sets

    sets = load_sets()
    by_name = {s.name: s for s in sets}
    paired = [s for s in sets if s.name.endswith("+Escherichia_coli_starts")]
    assert paired
    ecoli = by_name["Escherichia_coli_K12_MG1655"]
    for s in paired:
        assert s.coding is by_name[s.name.split("+")[0]].coding and s.starts is ecoli.starts
    save_sets(tmp_path, sets, {})  # stored once, read back equal
    again = load_sets(tmp_path)
    assert [s.name for s in again] == [s.name for s in sets]
    for s in paired:  # the bin's hexamer table, E. coli's start weights and upstream composition
        assert s.dicodon.coding is by_name[s.name.split("+")[0]].dicodon.coding
        assert s.dicodon.type_wt is ecoli.dicodon.type_wt and s.dicodon.upstream is ecoli.dicodon.upstream
    for a, b in zip(again, sets):
        np.testing.assert_array_equal(a.coding.ratio, b.coding.ratio)
        np.testing.assert_array_equal(a.starts.mat, b.starts.mat)
        np.testing.assert_array_equal(a.dicodon.coding, b.dicodon.coding)
        np.testing.assert_array_equal(a.dicodon.upstream, b.dicodon.upstream)
        assert (a.dicodon.type_wt is None) == (b.dicodon.type_wt is None) and a.dicodon.codons == b.dicodon.codons
        if a.dicodon.type_wt is not None:
            np.testing.assert_array_equal(a.dicodon.rbs_wt, b.dicodon.rbs_wt)
            assert a.dicodon.start_share == b.dicodon.start_share


def test_sets_carry_a_prodigal_method_score_that_meta_mode_uses():
    """Every shipped set has its dicodon score (scripts/make_meta_models.py); meta mode adds it
    to each candidate (the dicodon features) unless meta_dicodon is off, and then the DP's
    junction terms come in its units."""
    import dataclasses

    from genet5.predict.prokaryote.decoder import FEATURES
    from genet5.predict.prokaryote.meta import best_sets

    sets = load_sets()
    assert all(s.dicodon is not None and s.dicodon.coding.shape == (4096,) for s in sets)
    genomes = [s for s in sets if not s.name.startswith(("gc", "x"))]
    assert genomes and all(s.dicodon.type_wt is not None and s.dicodon.start_share > 0.5 for s in genomes)
    records, settings = _record(11, gc=0.5, n=8000)
    used = {}
    for on in (True, False):
        best_sets(records, dataclasses.replace(settings, meta_dicodon=on), sets[:4], code=11)
        feats = np.concatenate([d.features for d in records[0]])
        used[on] = np.abs(feats[:, [FEATURES.index("dicodon"), FEATURES.index("dicodon_start")]]).sum()
    assert used[True] > 0 and used[False] == 0


def test_meta_mode_scores_junctions_between_genes():
    """Meta mode's DP adds Prodigal's junction terms at meta_junction_unit: at a very high unit
    the operon bonus for close same-strand neighbours dominates, and random sequence comes out
    as chains of tightly packed ORFs; without junction terms it gives almost no genes."""
    import dataclasses

    records, settings = _record(11, gc=0.5, n=20000)
    settings = dataclasses.replace(settings, meta_dicodon=False)  # with it, the junctions are in its units
    sets = [s for s in load_sets() if s.code == 11][:3]
    found = {}
    for unit in (0.0, 8.0):
        genes, _ = find_genes_meta(records, dataclasses.replace(settings, meta_junction_unit=unit), sets, code=11)
        found[unit] = sorted(genes[0], key=lambda g: g.end)
    assert len(found[0.0]) < 10 < len(found[8.0])
    pairs = list(zip(found[8.0], found[8.0][1:]))
    close = [a.strand == b.strand and b.start - a.end - 1 <= 60 for a, b in pairs]
    assert sum(close) > 0.5 * len(pairs)


def test_parts_shared_between_sets_are_scored_once_and_alike():
    """best_sets memoizes what sets share (a bin's chain and hexamer table with its E. coli
    pairing, E. coli's start model and weights): every set's scores equal those scored alone."""
    from genet5.predict.prokaryote.coding import ContextCache
    from genet5.predict.prokaryote.decoder import dicodon_weights, score_records, weight_vector
    from genet5.predict.prokaryote.fits import ensure_sd_masks
    from genet5.predict.prokaryote.dicodon import HexamerCache
    from genet5.predict.prokaryote.meta import best_sets
    from genet5.predict.prokaryote.threads import memoized

    calls = []
    assert memoized(None, ("k",), lambda: calls.append(1) or 1) == 1 and calls == [1]
    memo: dict = {}
    assert [memoized(memo, ("k",), lambda: calls.append(1) or 2) for _ in range(3)] == [2, 2, 2] and calls == [1, 1]
    by_name = {s.name: s for s in load_sets()}
    trio = [by_name["gc0.50_code11"], by_name["gc0.50_code11+Escherichia_coli_starts"], by_name["Escherichia_coli_K12_MG1655"]]
    records, settings = _record(11, gc=0.5, n=12000)
    ensure_sd_masks(records)
    for s in trio:  # each set alone: its scores without a memo
        name, _, scores, _ = best_sets(records, settings, [s], code=11)[0]
        w = dicodon_weights(weight_vector(settings, records, meta=True), s.dicodon, settings)
        alone = score_records(records, s.coding, s.starts, settings, w, ContextCache(), s.dicodon, HexamerCache())[0]
        for a, b in zip(scores, alone):
            np.testing.assert_array_equal(a, b)
    memo = {}
    for s in trio:  # all three through one memo: the shared parts are computed once
        w = dicodon_weights(weight_vector(settings, records, meta=True), s.dicodon, settings)
        shared = score_records(records, s.coding, s.starts, settings, w, ContextCache(), s.dicodon, HexamerCache(), memo)[0]
        alone = score_records(records, s.coding, s.starts, settings, w, ContextCache(), s.dicodon, HexamerCache())[0]
        for a, b in zip(shared, alone):
            np.testing.assert_array_equal(a, b)
    kinds = sorted(k[0] for k in memo)
    # two chains, two hexamer tables, two start models, two upstream tables, one set of SD weights
    # (the bin has none), per strand
    assert kinds.count("chain") == 4 and kinds.count("hexamers") == 4 and kinds.count("starts") == 4


def test_hexamer_scores_read_for_all_screened_sets_at_once_change_nothing(monkeypatch):
    """best_sets fills the memo with every screened set's hexamer scores in one gather
    (meta._hexamer_scores); without that step each set computes its own: the same set wins,
    with the same genes and scores."""
    from genet5.predict.prokaryote import meta
    from genet5.predict.prokaryote.fits import ensure_sd_masks

    records, settings = _record(11, gc=0.45, n=15000)
    ensure_sd_masks(records)
    together = meta.best_sets(records, settings, code=11)
    monkeypatch.setattr(meta, "_hexamer_scores", lambda *args: None)
    alone = meta.best_sets(records, settings, code=11)
    for (name, chosen, scores, total), (name2, chosen2, scores2, total2) in zip(together, alone):
        assert name == name2 and total == total2
        for a, b in zip(chosen, chosen2):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(scores, scores2):
            np.testing.assert_array_equal(a, b)


def test_chain_stack_reads_every_chain_as_its_own_track_does():
    from genet5.predict.prokaryote.coding import ChainStack, ContextCache
    from genet5.predict.prokaryote.orfs import frame_sums

    chains = list({id(s.coding): s.coding for s in load_sets()}.values())[:7]
    rng = np.random.default_rng(3)
    seq = bytearray(rng.choice(np.frombuffer(b"ACGT", dtype=np.uint8), size=3000))
    seq[1000:1003] = b"NNN"  # bases without a full context read 0
    a, e = np.array([0, 1, 2, 500, 990, 2990]), np.array([299, 2000, 2999, 502, 1100, 2999])
    cache = ContextCache()
    got = ChainStack(chains).frame_sums(bytes(seq), a, e, cache)
    for chain, row in zip(chains, got):
        np.testing.assert_array_equal(row, frame_sums(chain.track(bytes(seq), cache), a, e))


def test_the_screen_decodes_only_the_best_fitting_chains_and_keeps_the_winner():
    """meta_screen_sets: only the sets whose chains score the ORFs highest are decoded in full;
    on a piece of the example genome the winner and its genes are those of all sets decoded."""
    import genet5
    from genet5.genome.fasta import read_fasta
    from genet5.predict.prokaryote.coding import ContextCache
    from genet5.predict.prokaryote.meta import best_sets, screened

    rec = next(iter(read_fasta(Path(genet5.__file__).parent / "examples" / "erwinia_phage_MT939486" / "genome.fa.gz")))
    table = genetic_code(11)
    sets = [s for s in load_sets() if s.code == 11]
    every, few = (ProkaryoteSettings(use_net=False, meta_screen_sets=k) for k in (0, 12))
    records = [prepare_record("r", rec.seq[100_000:110_000], table, table.starts & COMMON_PROKARYOTIC_STARTS, every)]
    kept = screened(records[0], sets, 12, ContextCache(), {})
    assert len(kept) == 12 and [s for s in sets if s in kept] == kept  # the sets' own order
    assert screened(records[0], sets[:5], 12, ContextCache(), {}) == sets[:5]
    assert screened(records[0], sets, 0, ContextCache(), {}) == sets
    (name_all, chosen_all, _, _), = best_sets(records, every, sets, code=11)
    (name_few, chosen_few, _, _), = best_sets(records, few, sets, code=11)
    assert name_few == name_all and any(s.name == name_all for s in kept)
    for a, b in zip(chosen_all, chosen_few):
        np.testing.assert_array_equal(a, b)


def test_many_records_split_over_processes_give_the_genes_of_one_process(monkeypatch):
    """A metagenome's contigs are decoded in forked processes (consecutive runs of about equal
    bases); each contig is decoded alone, so the genes and chosen sets are those of one process."""
    import genet5
    from genet5.genome.fasta import read_fasta
    from genet5.predict.prokaryote import meta

    rec = next(iter(read_fasta(Path(genet5.__file__).parent / "examples" / "erwinia_phage_MT939486" / "genome.fa.gz")))
    table = genetic_code(11)
    settings = ProkaryoteSettings(use_net=False, threads=1)
    sizes = [3000, 9000, 4000, 12000, 5000, 2500, 8000]
    cuts = np.cumsum([0] + sizes)
    records = [prepare_record(f"c{i}", rec.seq[a:b], table, table.starts & COMMON_PROKARYOTIC_STARTS, settings)
               for i, (a, b) in enumerate(zip(cuts[:-1], cuts[1:]))]
    monkeypatch.setattr(meta, "MIN_PROCESS_BASES", 10_000)
    groups = meta._process_groups(records, 3)
    assert len(groups) == 3 and [i for g in groups for i in g] == list(range(len(records)))
    assert meta._process_groups(records, 1) == [range(len(records))]
    one = find_genes_meta(records, settings, code=11)
    three = find_genes_meta(records, ProkaryoteSettings(use_net=False, threads=3), code=11)
    assert three == one and sum(map(len, one[0])) > 20


def test_training_file_round_trip(tmp_path):
    """meta.save_training / load_training: one parameter set in one file with what single mode's
    last round decodes with beside it (matrix weight, gene spacing, bases learned from), read
    back exactly as saved (float64), and anything else refused in one line."""
    from dataclasses import replace

    from genet5.genome.models import GenomeFormatError
    from genet5.predict.prokaryote.meta import load_sets, load_training, save_training
    from genet5.predict.prokaryote.spacing import SpacingModel

    s = next(x for x in load_sets() if x.dicodon is not None)
    rng = np.random.default_rng(0)
    spacing = SpacingModel.fit(rng.integers(0, 3, 200), rng.integers(-30, 400, 200), 60)
    s = replace(s, matrix_factor=0.43, spacing=spacing, bases=351_234)
    save_training(tmp_path / "x.trn", s, {"genome": "test"})
    back = load_training(tmp_path / "x.trn")
    assert (back.name, back.code, back.coding.k, back.matrix_factor, back.bases) == (s.name, s.code, s.coding.k, 0.43, 351_234)
    np.testing.assert_array_equal(back.coding.ratio, s.coding.ratio)
    np.testing.assert_array_equal(back.starts.mat, s.starts.mat)
    np.testing.assert_array_equal(back.dicodon.coding, s.dicodon.coding)
    np.testing.assert_array_equal(back.spacing.log_f, spacing.log_f)
    np.testing.assert_array_equal(back.spacing.tail, spacing.tail)
    assert (back.spacing.reach, back.spacing.slope, back.spacing.pairs, back.spacing.mean) == (
        spacing.reach, spacing.slope, spacing.pairs, spacing.mean)
    (tmp_path / "junk.trn").write_bytes(b"not safetensors")
    with pytest.raises(GenomeFormatError, match="junk.trn: not a genet5 training file"):
        load_training(tmp_path / "junk.trn")
