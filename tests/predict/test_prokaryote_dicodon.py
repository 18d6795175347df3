"""The Prodigal-method dicodon score (predict/prokaryote/dicodon.py) on built cases, and that the
decoder uses it by default."""

from __future__ import annotations

import numpy as np

from genet5.genome.codes import genetic_code
from genet5.predict.prokaryote.decoder import FEATURES, ProkaryoteSettings, dicodon_weights, prepare_record, self_train
from genet5.predict.prokaryote.dicodon import (CLIP_CODING, EDGE_BONUS, EDGE_CLOSING, SHORT_GENE, UPSTREAM, DicodonModel,
                                               _codon_sums, _group_running_max, hexamers)
from genet5.predict.prokaryote.orfs import Strand, base_codes
from tests.predict.test_prokaryote import STARTS, _planted_genome

CODE11 = genetic_code(11)


def test_hexamer_index_and_unreadable_positions():
    h = hexamers(base_codes(b"AAAAACNAAAAAAT"))
    assert h[0] == 1  # AAAAAC: the last base is the lowest digit
    assert (h[1:7] == -1).all()  # every hexamer over the N
    assert h[7] == 0 and h[8] == 3  # AAAAAA, AAAAAT
    assert (h[9:] == -1).all()  # runs off the end
    assert hexamers(base_codes(b"TTTTTTG"))[:2].tolist() == [4095, 4094]  # the top index, in int16


def test_codon_sums_and_group_running_max_match_loops():
    rng = np.random.default_rng(0)
    values = rng.normal(size=200)
    a = rng.integers(0, 150, size=40)
    last = a + 3 * rng.integers(-1, 15, size=40)
    want = [sum(values[j] for j in range(s, l + 1, 3)) for s, l in zip(a, last)]
    assert np.allclose(_codon_sums(values, a, last), want)
    group, pos = rng.integers(0, 6, size=50), rng.permutation(50)
    order = np.lexsort((pos, group))
    got = _group_running_max(values[:50], group, order)
    for i in range(50):
        before = [k for k in range(50) if group[k] == group[i] and pos[k] <= pos[i]]
        assert np.isclose(got[i], max(values[k] for k in before))


def _strand(seq: bytes, a: list[int], e: list[int], orf: list[int]) -> Strand:
    n = len(a)
    return Strand("s", "+", 0, len(seq), seq, np.array(a), np.array(e), np.array(orf), np.zeros(n, bool), np.zeros(n, bool))


def test_fit_scores_in_frame_hexamers_of_genes_above_the_background():
    rng = np.random.default_rng(1)
    gene = b"ATG" + b"GCTGAA" * 100 + b"TAA"
    acgt = np.frombuffer(b"ACGT", dtype=np.uint8)
    seq = rng.choice(acgt, size=300).tobytes() + gene + rng.choice(acgt, size=300).tobytes()
    a, e = np.array([300]), np.array([300 + len(gene) - 1])
    m = DicodonModel.fit([(seq, a, e)], [seq], gc=0.5, start_weight=4.35)
    idx = lambda k: int(hexamers(base_codes(k))[0])
    assert m.coding[idx(b"GCTGAA")] > 1 and m.coding[idx(b"CTGAAG")] == -CLIP_CODING  # out of frame: never in a gene
    assert np.abs(m.coding).max() <= CLIP_CODING
    assert m.codons == len(range(300, 300 + len(gene) - 5, 3))
    # a background-weighted pseudo-count pulls unseen hexamers towards 0
    smooth = DicodonModel.fit([(seq, a, e)], [seq], gc=0.5, start_weight=4.35, pseudo=65536)
    assert -CLIP_CODING < smooth.coding[idx(b"CTGAAG")] < 0


def test_interior_start_is_charged_for_the_coding_it_leaves_upstream():
    seq = b"ATG" + b"GCTGAA" * 50 + b"ATG" + b"GCTGAA" * 20 + b"TAA"
    e = len(seq) - 1
    cand = _strand(seq, [0, 303], [e, e], [0, 0])
    m = DicodonModel(np.zeros(4096), np.zeros((len(UPSTREAM), 4)), 4.35)
    m.coding[int(hexamers(base_codes(b"GCTGAA"))[0])] = 1.0
    m.coding[int(hexamers(base_codes(b"TGAAGC"))[0])] = 1.0
    lengths = np.zeros(2)
    raw = _codon_sums(np.where(hexamers(base_codes(seq)) >= 0, m.coding[hexamers(base_codes(seq))], 0.0), cand.a, cand.e - 5)
    got = m.coding_scores(cand, lengths)
    assert got[0] == raw[0]
    assert got[1] == raw[1] - (raw[0] - raw[1])  # twice the coding it leaves upstream


def test_genes_cut_by_an_edge_are_scored_as_prodigal_scores_them():
    """An ORF running off the 5' edge: its edge candidate (a partial gene) gets EDGE_BONUS start
    weights, each start codon in it pays EDGE_CLOSING in its upstream part (a start of a long
    gene: not rescaled); a gene whose stop lies past the 3' edge pays half the bonus, and a whole
    start weight (not 0.5) where its coding is negative."""
    seq = b"GCA" * 20 + b"ATG" + b"GCA" * 150 + b"TAA" + b"ATG" + b"GCA" * 150
    n = len(seq)
    a, e = [0, 60, 516], [515, 515, n - 1]
    cand = Strand("s", "+", 0, n, seq, np.array(a), np.array(e), np.array([0, 0, 1]),
                  np.array([True, False, False]), np.array([False, False, True]))
    w = 4.35
    m = DicodonModel(np.zeros(4096), np.zeros((len(UPSTREAM), 4)), w)
    zero = np.zeros(3)
    _, start, _ = m.scores(cand, zero, codon=zero, rbs=zero)
    assert np.isclose(start[0], EDGE_BONUS * w)  # the partial gene's edge candidate
    assert np.isclose(start[1], EDGE_CLOSING * w)  # the start codon that would close it
    assert np.isclose(start[2], -0.5 * EDGE_BONUS * w)  # 3'-partial
    _, neg, _ = m.scores(cand, np.array([0.0, 0.0, -1.0]), codon=zero, rbs=zero)
    assert np.isclose(neg[2], start[2] - w)
    # the same start codon in an ORF with a stop upstream (no edge candidate) pays nothing
    closed = Strand("s", "+", 0, n, seq, np.array([60]), np.array([515]), np.array([0]), np.zeros(1, bool), np.zeros(1, bool))
    assert m.scores(closed, np.zeros(1), codon=np.zeros(1), rbs=np.zeros(1))[1][0] == 0.0


def test_start_parts_of_short_genes_scale_with_length_and_negative_coding_costs():
    body = lambda n: b"ATG" + b"GCA" * n + b"TAA"
    m = DicodonModel(np.zeros(4096), np.zeros((len(UPSTREAM), 4)), 4.35)
    for codons in (40, 200):
        seq = body(codons)
        cand = _strand(seq, [0], [len(seq) - 1], [0])
        span = len(seq) - 3
        _, start, _ = m.scores(cand, np.zeros(1), codon=np.array([1.0]), rbs=np.array([-1.0]))
        scale = span / SHORT_GENE if span < SHORT_GENE else 1.0
        inverse = SHORT_GENE / span if span < SHORT_GENE else 1.0
        assert np.isclose(start[0], 4.35 * (scale - inverse))
        cod, start_neg, _ = m.scores(cand, np.array([-1.0]), codon=np.array([1.0]), rbs=np.array([-1.0]))
        assert cod[0] == -1.0 and np.isclose(start_neg[0], start[0] - 0.5)


def test_decoder_uses_the_dicodon_score_by_default():
    seq, _ = _planted_genome(3)
    settings = ProkaryoteSettings(use_net=False)
    rec = prepare_record("s", seq, CODE11, STARTS, settings)
    st = self_train([rec], settings)
    assert st.dicodon is not None and st.dicodon.codons > 1000
    cols = [FEATURES.index("dicodon"), FEATURES.index("dicodon_start")]
    assert all(np.abs(d.features[:, cols]).sum() > 0 for d in rec)
    w = dicodon_weights(np.ones(len(FEATURES)), st.dicodon, settings)
    share = st.dicodon.codons / (st.dicodon.codons + settings.dicodon_half_codons)
    assert np.allclose(w[cols], share)
    assert np.isclose(w[FEATURES.index("codon")], 1 - (1 - settings.codon_rbs_with_dicodon) * share)
    off = ProkaryoteSettings(use_net=False, use_dicodon=False)
    assert self_train([prepare_record("s", seq, CODE11, STARTS, off)], off).dicodon is None


def test_rescue_is_the_negative_part_of_the_rbs_and_upstream_scores():
    seq = b"ATG" + b"GCA" * 100 + b"TAA"
    cand = _strand(seq, [0], [len(seq) - 1], [0])
    m = DicodonModel(np.zeros(4096), np.zeros((len(UPSTREAM), 4)), 4.35)
    _, _, weak = m.scores(cand, np.zeros(1), codon=np.array([-1.0]), rbs=np.array([-2.0]))
    _, _, strong = m.scores(cand, np.zeros(1), codon=np.array([-1.0]), rbs=np.array([2.0]))
    assert np.isclose(weak[0], 4.35 * 2.0) and strong[0] == 0.0  # the codon's part is never forgiven


def test_start_training_on_sure_orfs_learns_the_planted_codon_and_motif():
    from genet5.predict.prokaryote.dicodon import best_start_per_orf, orf_groups

    seq, _ = _planted_genome(3)
    settings = ProkaryoteSettings(use_net=False, dicodon_own_starts=True)
    rec = prepare_record("s", seq, CODE11, STARTS, settings)
    st = self_train([rec], settings)
    m = st.dicodon
    assert m.sure_starts > 20 and m.type_wt[0] > 0  # ATG, every planted start
    assert m.rbs_wt[27] == m.rbs_wt.max() and m.rbs_wt[27] > 1  # AGGAGG, spacer 5-10
    assert 0 < m.start_share < 1
    # ties go to the downstream start; an ORF with no usable start gives none
    cand = _strand(b"A" * 30, [0, 3, 6, 9], [29, 29, 29, 29], [0, 0, 0, 1])
    assert best_start_per_orf(np.array([1.0, 2.0, 2.0, -np.inf]), orf_groups(cand)).tolist() == [2]


def test_fit_to_the_last_sense_codon_never_sees_the_hexamer_reading_the_stop():
    gene = b"ATG" + b"GCTGAA" * 50 + b"TAA"
    a, e = np.array([0]), np.array([len(gene) - 1])
    stop_hexamer = int(hexamers(base_codes(b"GAATAA"))[0])
    through = DicodonModel.fit([(gene, a, e)], [gene], gc=0.5, start_weight=4.35)
    before = DicodonModel.fit([(gene, a, e)], [gene], gc=0.5, start_weight=4.35, through_stop=False)
    assert through.coding[stop_hexamer] > 0 and before.coding[stop_hexamer] == -CLIP_CODING
    assert before.codons == through.codons - 1


def test_prodigal_training_fits_the_score_once_on_the_first_pass():
    seq, genes = _planted_genome(3)
    # the hexamers that read the planted '+' genes' stops (last sense codon + TAA)
    stop_hexamers = sorted({int(hexamers(base_codes(seq[hi - 6 : hi]))[0]) for st, _, hi in genes if st == "+"})
    for prodigal_way in (False, True):
        settings = ProkaryoteSettings(use_net=False, dicodon_prodigal_training=prodigal_way, dicodon_pseudo_codons=0.0)
        st = self_train([prepare_record("s", seq, CODE11, STARTS, settings)], settings)
        assert st.dicodon.codons > 1000
        never_seen = st.dicodon.coding[stop_hexamers] == -CLIP_CODING
        assert never_seen.all() if prodigal_way else not never_seen.any()


def test_upstream_counts_per_column():
    """_upstream_counts: A/C/G/T counts at each upstream column of the starts (N and bases
    before the sequence not counted), as counted column by column."""
    from genet5.predict.prokaryote.dicodon import UPSTREAM, _upstream_counts

    rng = np.random.default_rng(5)
    codes = rng.integers(0, 5, size=3000).astype(np.int8)
    a = np.sort(rng.choice(3000, size=400, replace=False))
    got = _upstream_counts(codes, a)
    for col, d in enumerate(UPSTREAM):
        at = a - d
        seen = codes[at[at >= 0]]
        assert got[col].tolist() == [float((seen == b).sum()) for b in range(4)]


def test_many_tables_at_once_give_each_tables_own_numbers():
    """coding_scores_many (meta mode: every screened set's hexamer table in one gather) and
    best_start_per_orf_rows equal one table at a time to the last bit; the 2-D helpers equal
    their 1-D selves row by row."""
    from genet5.predict.prokaryote.dicodon import best_start_per_orf, best_start_per_orf_rows, orf_groups
    from genet5.predict.prokaryote.orfs import record_candidates

    seq = _planted_genome(3, n_genes=12)[0]
    strands = record_candidates("s", seq, CODE11, STARTS, 90)
    rng = np.random.default_rng(7)
    models = [DicodonModel(np.clip(rng.normal(size=4096), -CLIP_CODING, CLIP_CODING), np.zeros((len(UPSTREAM), 4)), 4.35, 1)
              for _ in range(3)]
    for cand in strands:
        length = rng.normal(size=len(cand.a)) * 3
        rows = DicodonModel.coding_scores_many(models, cand, length)
        assert rows.shape == (3, len(cand.a))
        for m, row in zip(models, rows):
            assert np.array_equal(row, m.coding_scores(cand, length))
        groups = orf_groups(cand)
        best = best_start_per_orf_rows(rows, groups)
        for row, b in zip(rows, best):
            assert np.array_equal(b, best_start_per_orf(row, groups))
    values = rng.normal(size=(4, 300))
    a = rng.integers(0, 250, size=60)
    last = a + 3 * rng.integers(-1, 15, size=60)
    both = _codon_sums(values, a, last)
    group = rng.integers(0, 9, size=300)
    order = np.lexsort((rng.permutation(300), group))
    running = _group_running_max(values, group, order)
    for k in range(4):
        assert np.array_equal(both[k], _codon_sums(values[k], a, last))
        assert np.array_equal(running[k], _group_running_max(values[k], group, order))
