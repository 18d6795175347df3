"""The prokaryotic gene finder's parts on built cases: the overlap DP, the RBS features, the
coding chain, and whole decoding of a planted genome (candidates at gaps and edges:
test_prokaryote_orfs.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from genet5.genome.codes import genetic_code, reverse_complement
from genet5.predict.prokaryote import dp
from genet5.predict.prokaryote.coding import CodingModel
from genet5.predict.prokaryote.decoder import ProkaryoteSettings, find_genes, prepare_record
from genet5.predict.prokaryote.orfs import frame_sums, record_candidates
from genet5.predict.prokaryote.starts import N_RBS, SPACER_BINS, StartModel, features

CODE11 = genetic_code(11)
STARTS = frozenset({b"ATG", b"GTG", b"TTG"})


def test_dp_bounded_overlaps_beat_greedy():
    # greedy would take the 10-point gene and lose both neighbours (9 + 9)
    lo = np.array([1, 201, 500])
    hi = np.array([300, 620, 800])
    plus = np.array([True, True, True])
    score = np.array([9.0, 10.0, 9.0])
    assert dp.select(lo, hi, plus, score, same=60).tolist() == [0, 2]
    # a 21-base same-strand overlap is allowed at same=60, not at same=10
    lo2, hi2 = np.array([1, 280]), np.array([300, 600])
    assert dp.select(lo2, hi2, plus[:2], np.array([5.0, 5.0]), same=60).tolist() == [0, 1]
    assert dp.select(lo2, hi2, plus[:2], np.array([5.0, 6.0]), same=10).tolist() == [1]
    # opposite strands: 3' ends (+ then -) may overlap up to `convergent`, 5' ends not at all
    conv = dp.select(lo2, hi2, np.array([True, False]), np.array([5.0, 5.0]), convergent=100, divergent=0)
    div = dp.select(lo2, hi2, np.array([False, True]), np.array([5.0, 6.0]), convergent=100, divergent=0)
    assert conv.tolist() == [0, 1] and div.tolist() == [1]
    # nothing with a non-positive score is chosen, and a gene inside another never is
    assert dp.select(np.array([1, 50]), np.array([900, 200]), np.array([True, False]),
                     np.array([10.0, 3.0]), convergent=200).tolist() == [0]
    assert dp.select(lo, hi, plus, -score).size == 0


def test_rbs_class_of_planted_motif():
    # AGGAGG ending 7 bases before ATG: the strongest class (6-mer, spacer 5-10)
    seq = b"CCCCCCCCCCCCCCCCAGGAGGCCCCCCCATGGCT"
    a = np.array([seq.index(b"ATG")])
    codon, rbs, _ = features(seq, a)
    assert codon.tolist() == [0] and rbs.tolist() == [0]
    weak = b"CCCCCCCCCCCCCCCCCCCGAGCCCCCCCATGGCT"  # GAG: a 3-mer, spacer 7
    assert features(weak, a)[1].tolist() == [3 * len(SPACER_BINS)]
    none = b"CCCCCCCCCCCCCCCCCCCCCCCCCCCCCATGGCT"
    assert features(none, a)[1].tolist() == [N_RBS - 1]


def test_start_matrix_columns_counted_at_once_as_one_by_one():
    from genet5.predict.prokaryote.starts import _column_log_odds, _log_odds

    rng = np.random.default_rng(2)
    pos, neg = rng.integers(0, 5, (300, 32)).astype(np.int8), rng.integers(0, 4, (900, 32)).astype(np.int8)
    want = np.stack([_log_odds(pos[:, j], neg[:, j], 5, 2.0) for j in range(32)])
    np.testing.assert_array_equal(_column_log_odds(pos, neg, 2.0), want)


def test_start_model_learns_planted_rbs():
    rng = np.random.default_rng(0)
    examples = []
    for i in range(300):
        up = rng.choice(list(b"ACGT"), size=40).astype(np.uint8).tobytes()
        true = bytearray(up + b"ATG" + b"GCT" * 20)
        true[25:31] = b"AGGAGG"  # spacer 9 before the start at 40
        decoy = bytes(true) + b"ATG"
        seq = bytes(decoy)
        a = np.array([40, len(seq) - 3])
        c, r, m = features(seq, a)
        examples.append((c, r, m, np.array([True, False])))
    model = StartModel.fit(examples)
    assert model is not None
    assert model.rbs[0] > 1.0 and model.rbs[-1] < 0


def test_start_codon_odds_are_against_the_genome_background():
    # chosen starts: 90% ATG, 10% GTG; their ORFs' other starts all ATG; the genome's candidate
    # starts (the background) 40% ATG, 40% GTG, 20% TTG
    rng = np.random.default_rng(2)
    n = 200
    codon = np.concatenate([np.where(rng.random(n) < 0.9, 0, 1), np.zeros(n, dtype=np.int64)])
    rbs = np.full(2 * n, N_RBS - 1)
    mat = rng.integers(0, 4, size=(2 * n, 32))
    chosen = np.arange(2 * n) < n
    background = (rng.choice([0, 1, 2], p=[0.4, 0.4, 0.2], size=5000), np.full(5000, N_RBS - 1))
    against_genome = StartModel.fit([(codon, rbs, mat, chosen)], background=background)
    against_orf = StartModel.fit([(codon, rbs, mat, chosen)])
    # against the genome ATG is enriched (~log 0.9/0.4) and GTG depleted; against ORF decoys
    # that are all ATG, ATG would look like a decoy codon
    assert against_genome.codon[0] > 0.5 and against_genome.codon[1] < -1.0
    assert against_orf.codon[0] < 0 < against_orf.codon[1]


def test_coding_chain_prefers_the_true_frame():
    rng = np.random.default_rng(1)
    codons = ["GCT", "AAA", "CTG", "GGC", "ACC", "CAG", "GAA"]
    genes = ["ATG" + "".join(rng.choice(codons, size=200)) + "TAA" for _ in range(20)]
    seq = "".join(g + "".join(rng.choice(list("ACGT"), size=60)) for g in genes).encode()
    a = np.array([i * (606 + 60) for i in range(20)])
    e = a + 605
    model = CodingModel.fit([(seq, a, e)], [seq, reverse_complement(seq)], k=2)
    w = model.track(seq)
    idx = np.arange(a[0], e[0] + 1)
    true = w[idx, (idx - a[0]) % 3].sum()
    shifted = w[idx, (idx - a[0] + 1) % 3].sum()
    assert true > 0 > shifted


def _planted_genome(seed: int, n_genes: int = 60, code=CODE11) -> tuple[bytes, list[tuple[str, int, int]]]:
    """Random-codon genes with an RBS on both strands, separated by stop-rich spacers."""
    rng = np.random.default_rng(seed)
    sense = [c for c in (a + b + d for a in "ACGT" for b in "ACGT" for d in "ACGT")
             if c.encode() not in code.stops and c != "ATG"]
    weights = rng.dirichlet(np.ones(len(sense)) * 0.5)
    parts, genes, pos = [], [], 0
    for i in range(n_genes):
        spacer = "TAAGTAGCTGA" + "".join(rng.choice(list("ACT"), size=30)) + "AGGAGGTAAACC"
        body = "ATG" + "".join(rng.choice(sense, p=weights, size=int(rng.integers(100, 300)))) + "TAA"
        strand = "+" if i % 3 else "-"
        unit = spacer + body
        if strand == "-":
            unit = reverse_complement(unit.encode()).decode()
            lo = pos + 1
        else:
            lo = pos + len(spacer) + 1
        genes.append((strand, lo, lo + len(body) - 1))
        parts.append(unit)
        pos += len(unit)
    parts.append("TAAGTAGCTGA" * 4)
    return "".join(parts).encode(), genes


def test_self_trained_statistics_find_planted_genes_exactly():
    seq, genes = _planted_genome(3)
    rec = prepare_record("s", seq, CODE11, STARTS, ProkaryoteSettings())
    found = find_genes([rec], ProkaryoteSettings(use_net=False))[0]
    got = {(g.strand, g.start, g.end) for g in found}
    hit = len(got & set(genes))
    assert hit >= 0.95 * len(genes) and len(got) <= len(genes) + 3


def test_self_training_stops_once_the_genes_stop_changing(monkeypatch):
    """Rounds end at a fixed point (the same genes fit the same models, so more rounds could
    change nothing), and the genes are those the full number of rounds gives."""
    import genet5.predict.prokaryote.decoder as decoder

    seq, _ = _planted_genome(3)
    decodes = []
    real = decoder._decode

    def counting(*args, **kw):
        decodes.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(decoder, "_decode", counting)
    calls = {}
    for name, fraction in (("until stable", 0.0), ("every round", -1.0)):
        decodes.clear()
        s = ProkaryoteSettings(use_net=False, rounds=8, stable_fraction=fraction, meta_seed_below=0)
        genes = find_genes([prepare_record("s", seq, CODE11, STARTS, s)], s)[0]
        calls[name] = (len(decodes), {(g.strand, g.start, g.end) for g in genes})
    assert calls["every round"][0] == 1 + 8  # the first guess, then one decode per round
    assert calls["until stable"][0] < calls["every round"][0]
    assert calls["until stable"][1] == calls["every round"][1]


def test_the_table_question_is_asked_before_the_first_round_and_after_it(monkeypatch):
    """stop_after_first (the default path's table-4 check, genome_decoder.ProkaryoteDecoder.finish) is
    asked on the first gene set with the chain the first round fits on it, then after that round:
    True the first time ends the training before any round is spent; False leaves the genes as
    without the question (the first round reuses that chain)."""
    import genet5.predict.prokaryote.decoder as decoder
    from genet5.predict.prokaryote.decoder import self_train

    seq, _ = _planted_genome(3)
    s = ProkaryoteSettings(use_net=False, meta_seed_below=0)
    decodes = []
    real = decoder._decode
    monkeypatch.setattr(decoder, "_decode", lambda *a, **k: decodes.append(1) or real(*a, **k))
    asked = []

    def ask(answer):
        def check(chosen, coding):
            asked.append(coding)
            return answer
        return check

    plain = self_train([prepare_record("s", seq, CODE11, STARTS, s)], s)
    rounds = len(decodes) - 1
    decodes.clear()
    kept = self_train([prepare_record("s", seq, CODE11, STARTS, s)], s, ask(False))
    assert len(asked) == 2 and asked[0] is not None and asked[1] is asked[0]  # the first round used that chain
    assert len(decodes) - 1 == rounds and [x.tolist() for r in kept.chosen for x in r] == [x.tolist() for r in plain.chosen for x in r]
    asked.clear()
    decodes.clear()
    stopped = self_train([prepare_record("s", seq, CODE11, STARTS, s)], s, ask(True))
    assert len(asked) == 1 and len(decodes) == 1 and stopped.coding is asked[0]  # the first gene set only


def test_small_inputs_start_self_training_from_meta_modes_scores_too(monkeypatch):
    """Under meta_seed_below bases the first gene set adds the best shipped parameter set's
    scores to the long-ORF guess; above it (or with the threshold at 0) meta mode is not run."""
    import genet5.predict.prokaryote.meta as meta

    seq, genes = _planted_genome(3)
    calls = []
    real = meta.best_sets

    def counting(records, settings, *args, **kw):
        calls.append(kw.get("code"))
        return real(records, settings, *args, **kw)

    monkeypatch.setattr(meta, "best_sets", counting)
    found = {}
    for below in (10**6, 0):
        calls.clear()
        s = ProkaryoteSettings(use_net=False, meta_seed_below=below)
        found[below] = {(g.strand, g.start, g.end) for g in find_genes([prepare_record("s", seq, CODE11, STARTS, s)], s)[0]}
        assert calls == ([11] if below else [])
    # the planted genes are found either way (no shipped set knows them: the long ORFs lead)
    for got in found.values():
        assert len(got & set(genes)) >= 0.9 * len(genes)


def _tga_stop_genome(seed: int, n_genes: int = 80) -> bytes:
    """Table-11 genes that all end in TGA, each followed by random intergenic sequence (TAA and
    TAG come at chance rate in it) and the next gene one base out of the stopped frame."""
    rng = np.random.default_rng(seed)
    sense = [c for c in (a + b + d for a in "ACGT" for b in "ACGT" for d in "ACGT")
             if c.encode() not in CODE11.stops and c != "ATG"]
    weights = rng.dirichlet(np.ones(len(sense)) * 0.5)
    parts = []
    for _ in range(n_genes):
        parts.append("ATG" + "".join(rng.choice(sense, p=weights, size=int(rng.integers(100, 300)))) + "TGA")
        parts.append("".join(rng.choice(list("ACGT"), size=3 * int(rng.integers(30, 50)) + 1)) + "AGGAGGAAAACC")
    return "".join(parts).encode()


def test_auto_code_sees_coding_read_on_past_tga_only_in_table_4_genomes():
    """-g auto: planted genes that use TGA for tryptophan (table 4) are cut at each TGA when
    read under table 11 and the frame codes on past it; table-11 genes' TGA stops do not."""
    from genet5.predict.prokaryote.code_choice import choose_code

    code4 = genetic_code(4)
    for seed in (1, 2):
        seq4, _ = _planted_genome(seed, n_genes=80, code=code4)
        seq11 = _tga_stop_genome(seed)
        got4, got11 = choose_code([("s", seq4)]), choose_code([("s", seq11)])
        assert got4.table == 4 and got4.readthroughs >= 8 and got4.coding >= 0.8 * got4.readthroughs, got4
        assert got11.table == 11 and got11.readthroughs >= 20 and got11.coding <= 0.3 * got11.readthroughs, got11
    # too little sequence to judge: the default table, and the summary says why
    short = choose_code([("s", seq4[:1500])])
    assert short.table == 11, short
    assert "table 11, the default" in short.describe() or "too few to choose table 4" in short.describe()


@pytest.mark.parametrize("mode", ["single", "meta"])
def test_a_draft_of_many_tiny_contigs_decodes(tmp_path, mode):
    """Contigs of 20 bases to 3 kb cut from a planted genome (strands whose only candidates are
    5'-partial, contigs shorter than a gene, one of N only, soft-masked bases), decoded as one
    genome with the table left to the genome: every contig gets an answer, no error."""
    from genet5.predict.pipeline import PredictConfig, predict_genome

    seq = (_planted_genome(7, n_genes=120)[0] + _planted_genome(8, n_genes=60, code=genetic_code(4))[0]).decode()
    rng = np.random.default_rng(0)
    pieces, pos = [], 0
    while pos < len(seq):
        n = int(rng.choice([20, 60, 95, 150, 400, 1200, 3000]))
        pieces.append(seq[pos : pos + n])
        pos += n
    pieces[3] = "N" * 500
    pieces[5] = pieces[5].lower()
    fa = tmp_path / "draft.fa"
    fa.write_text("".join(f">c{i}\n{p}\n" for i, p in enumerate(pieces)))
    cfg = PredictConfig(domain="prokaryote", genetic_code=11, mode=mode, code_from_genome=True)
    ann, lengths, stats = predict_genome(None, fa, cfg)
    assert stats.sequences == len(pieces) and len(lengths) == len(pieces)
    assert stats.genes > 50 and all(t.cds for t in ann.iter_transcripts())


def test_readthrough_count_where_no_taa_or_tag_follows():
    """A TGA-ended gene on a short contig with no TAA or TAG after it in any frame (a draft's
    small contig): its stretch runs to the end of the contig (this raised an IndexError)."""
    from genet5.predict.prokaryote.code_choice import count_readthroughs

    seq = b"ATG" + b"GCT" * 100 + b"TGA" + b"GCC" * 30
    rec = prepare_record("s", seq, CODE11, STARTS, ProkaryoteSettings(start_net_model=None))
    plus = next(i for i, d in enumerate(rec) if d.cand.strand == "+")
    gene = np.flatnonzero(rec[plus].cand.a == 0)
    chosen = [[gene if i == plus else np.zeros(0, dtype=np.int64) for i in range(len(rec))]]
    flat = CodingModel(1, np.zeros((3, 4, 4), dtype=np.float32))  # scores every stretch 0: not coding
    assert count_readthroughs([rec], chosen, flat) == (1, 0)


def test_table_4_genome_without_a_table_given_is_decoded_again_under_table_4(tmp_path):
    """No -g: the table-11 decoding's own genes show TGA read as tryptophan, so the pipeline
    decodes again under table 4 and says so; with the table given (code_from_genome False)
    table 11 stays, and a table-11 genome is left alone."""
    from genet5.predict.pipeline import PredictConfig, predict_genome

    seq4, genes4 = _planted_genome(1, n_genes=80, code=genetic_code(4))
    fa = tmp_path / "g.fa"
    fa.write_text(">g\n" + seq4.decode() + "\n")
    cfg = PredictConfig(domain="prokaryote", genetic_code=11, mode="single", code_from_genome=True)
    ann, _, stats = predict_genome(None, fa, cfg)
    assert stats.genetic_code == 4 and stats.code_choice.table == 4 and ann.genetic_codes == {"g": 4}
    found = {(t.strand, t.cds[0].start, t.cds[0].end) for t in ann.iter_transcripts()}
    assert len(found & set(genes4)) >= 0.9 * len(genes4)
    _, _, kept = predict_genome(None, fa, dataclasses.replace(cfg, code_from_genome=False))
    assert kept.genetic_code == 11 and kept.code_choice is None
    fa.write_text(">g\n" + _tga_stop_genome(1).decode() + "\n")
    _, _, stats11 = predict_genome(None, fa, cfg)
    assert stats11.genetic_code == 11 and stats11.code_choice is None


def test_genes_do_not_depend_on_the_number_of_threads():
    seq, _ = _planted_genome(5)
    seq = seq + b"NNNNN" + _planted_genome(6, n_genes=30)[0]  # two segments: four strands
    found = {}
    for threads in (1, 3):
        s = ProkaryoteSettings(use_net=False, threads=threads)
        genes = find_genes([prepare_record("s", seq, CODE11, STARTS, s)], s)[0]
        found[threads] = [(g.strand, g.start, g.end, round(g.score, 9)) for g in genes]
    assert found[1] == found[3] and len(found[1]) >= 80


def test_dp_beats_greedy_on_a_chain():
    lo, hi = np.array([1, 201, 500]), np.array([300, 620, 800])
    plus, score = np.array([True] * 3), np.array([9.0, 10.0, 9.0])
    assert dp.greedy(lo, hi, plus, score).tolist() == [1]
    assert dp.select(lo, hi, plus, score).tolist() == [0, 2]


def test_partial_flags_and_code_survive_a_round_trip(tmp_path):
    from genet5.genome.gff import read_gff3
    from genet5.genome.gff3_writer import write_gff3
    from genet5.genome.models import Annotation
    from genet5.predict.genes import predicted_gene
    from genet5.predict.orf_decoder import OrfGene

    ann = Annotation(source="t")
    ann.genetic_codes["c1"] = 4
    genes = [OrfGene("+", 1, 300, 5.0, True, False, ""), OrfGene("-", 400, 699, 5.0, True, False, ""),
             OrfGene("+", 800, 1000, 5.0, False, True, "ATG")]
    for i, g in enumerate(genes, 1):
        ann.add_gene(predicted_gene(g, "c1", i, "t"))
    path = tmp_path / "p.gff3"
    write_gff3(path, ann, {"c1": 1000})
    text = path.read_text()
    cds_rows = [ln for ln in text.splitlines() if "\tCDS\t" in ln]
    assert all("transl_table=4" in ln for ln in cds_rows)
    assert "start_range=.,1" in cds_rows[0] and "prodigal_partial=10" in cds_rows[0]
    assert "end_range=699,." in cds_rows[1] and "prodigal_partial=01" in cds_rows[1]
    assert "end_range=1000,." in cds_rows[2] and "prodigal_partial=01" in cds_rows[2]
    back = read_gff3(path)
    got = {t.cds[0].start: (t.start_partial, t.end_partial) for t in back.iter_transcripts()}
    assert got == {1: (True, False), 400: (True, False), 800: (False, True)}
    assert back.genetic_codes["c1"] == 4


def test_codes_4_and_25_use_their_common_starts_only():
    from genet5.predict.decoders import start_codon_set
    from genet5.predict.pipeline import PredictConfig

    for code in (11, 4, 25):
        assert start_codon_set(PredictConfig(genetic_code=code, domain="prokaryote")) == {b"ATG", b"GTG", b"TTG"}
    assert b"ATT" in start_codon_set(PredictConfig(genetic_code=11, domain="prokaryote", start_codons=("ATG", "ATT")))
    # code 4 reads TGA as Trp: a gene through TGA is one ORF under code 4, two pieces under 11
    seq, _ = _planted_genome(5, n_genes=3)
    body = b"ATG" + b"GCT" * 30 + b"TGA" + b"GCT" * 30 + b"TAA"
    s = b"CCC" + body + b"CCC"
    for code, expect in ((4, True), (11, False)):
        strands = record_candidates("s", s, genetic_code(code), STARTS, 90)
        plus = next(x for x in strands if x.strand == "+")
        lo, hi = plus.genomic_all()
        assert bool(np.any((lo == 4) & (hi == 3 + len(body)))) is expect


def test_length_log_odds_grows_with_length_and_falls_with_gc():
    from genet5.predict.prokaryote.decoder import length_log_odds

    codons = np.array([30.0, 80.0, 200.0, 1000.0, 2000.0])
    at_rich = length_log_odds(codons, 0.30, 11)
    gc_rich = length_log_odds(codons, 0.70, 11)
    assert np.all(np.diff(at_rich) > 0) and abs(at_rich[1]) < 1e-9
    # stops are rarer in GC-rich sequence, so a long ORF there is weaker evidence of a gene
    assert gc_rich[3] < at_rich[3]
    # table 4 reads TGA: stops rarer again, long ORFs weaker evidence
    assert length_log_odds(codons, 0.30, 4)[3] < at_rich[3]


def _junctions(n: int, rescue=None) -> dp.Junctions:
    unit = 0.15 * 4.35  # Prodigal's: 0.15 x its start weight
    return dp.Junctions.prodigal(-unit, unit, np.zeros(n) if rescue is None else np.asarray(rescue, dtype=float))


def test_dp_junctions_cost_each_gene_and_reward_close_same_strand_neighbours():
    plus = np.array([True, True])
    # far apart: the second gene (0.4) does not pay its junction (-0.65)
    far_lo, far_hi = np.array([1, 801]), np.array([300, 1100])
    score = np.array([5.0, 0.4])
    assert dp.select(far_lo, far_hi, plus, score).tolist() == [0, 1]
    assert dp.select(far_lo, far_hi, plus, score, junctions=_junctions(2)).tolist() == [0]
    # 20 bp downstream on the same strand: an operon, (2 - 23/60) x 0.65 is added
    near_lo, near_hi = np.array([1, 321]), np.array([300, 620])
    assert dp.select(near_lo, near_hi, plus, score, junctions=_junctions(2)).tolist() == [0, 1]
    # on opposite strands the same distance is no operon
    assert dp.select(near_lo, near_hi, np.array([True, False]), score, junctions=_junctions(2)).tolist() == [0]


def test_dp_junctions_forgive_a_start_riding_on_the_upstream_stop():
    # ATGA: the second gene's start begins 3 bases before the first gene's last base
    lo, hi, plus = np.array([1, 297]), np.array([300, 600]), np.array([True, True])
    score = np.array([5.0, -2.0])
    assert dp.select(lo, hi, plus, score, junctions=_junctions(2)).tolist() == [0]
    assert dp.select(lo, hi, plus, score, junctions=_junctions(2, [0.0, 2.0])).tolist() == [0, 1]
    # 6 bases further the start no longer rides on the stop: no rescue
    assert dp.select(lo + np.array([0, 6]), hi + np.array([0, 6]), plus, score,
                     junctions=_junctions(2, [0.0, 2.0])).tolist() == [0]


def test_dp_junctions_drop_a_gene_whose_own_score_and_junction_are_negative():
    # gene 0 (-1) is chosen only to carry gene 1's operon rescue; afterwards it is dropped, as
    # Prodigal's eliminate_bad_genes does, and gene 1 keeps its place
    lo, hi, plus = np.array([1, 297]), np.array([300, 600]), np.array([True, True])
    got = dp.select(lo, hi, plus, np.array([-1.0, -3.0]), junctions=_junctions(2, [0.0, 5.0]))
    assert got.tolist() == [1]


def test_dp_junctions_inlined_match_the_pair_rule():
    # for every kind of neighbour (strand, distance, ATGA / TAATG), select takes the second gene
    # exactly when its score beats minus Junctions.pair (its junction after the first gene)
    j = _junctions(2, [1.5, 2.5])
    for plus2 in (True, False):
        for lo2 in (283, 284, 297, 300, 301, 310, 358, 359, 420, 478, 479, 600):
            lo, hi, plus = np.array([1, lo2]), np.array([300, lo2 + 299]), np.array([True, plus2])
            pair = j.pair(1, 300, True, 0, lo2, plus2, 1)
            for margin, want in ((0.01, [0, 1]), (-0.01, [0])):
                got = dp.select(lo, hi, plus, np.array([5.0, margin - pair]), convergent=200, junctions=j)
                assert got.tolist() == want, (lo2, plus2, margin, pair)


def test_atypical_genes_are_scored_by_the_shipped_chain_nearest_their_gc():
    """GeneMarkS-2's atypical models: each candidate also gets its score under the shipped GC-bin
    chain (of those at the genome's GC +- atypical_offsets) nearest its own GC, and its coding
    term is the better of that less the penalty and the genome's own chain."""
    from genet5.predict.prokaryote.coding import ContextCache
    from genet5.predict.prokaryote.atypical import atypical_coding
    from genet5.predict.prokaryote.decoder import FEATURES, add_atypical, candidate_features
    from genet5.predict.prokaryote.meta import load_sets

    rng = np.random.default_rng(4)
    at_rich = bytes(rng.choice(np.frombuffer(b"AATTGC", dtype=np.uint8), size=3000))
    gc_rich = bytes(rng.choice(np.frombuffer(b"GGCCAT", dtype=np.uint8), size=3000))
    seq = at_rich + gc_rich
    settings = ProkaryoteSettings(use_net=False, start_net_model=None)
    rec = prepare_record("s", seq, CODE11, STARTS, settings)
    bins = {s.gc: s.coding for s in load_sets() if s.name.startswith("gc") and s.code == 11}
    low, high = min(bins), max(bins)
    chains, gcs = [bins[low], bins[high]], np.array([low, high])
    cache = ContextCache()
    for d in rec:
        got = atypical_coding(d.cand, chains, gcs, cache)
        own = np.array([(d.cand.seq[a:e + 1].count(b"G") + d.cand.seq[a:e + 1].count(b"C")) / (e - a + 1)
                        for a, e in zip(d.cand.a.tolist(), d.cand.e.tolist())])
        for j, chain in enumerate(chains):
            sel = (own > (low + high) / 2) == bool(j)
            assert sel.any()
            np.testing.assert_allclose(got[sel], frame_sums(chain.track(d.cand.seq), d.cand.a[sel], d.cand.e[sel]))

    assert add_atypical([rec], dataclasses.replace(settings, atypical_penalty=None)) is None
    assert all(d.atypical is None for d in rec)
    assert add_atypical([rec], settings, cache) == settings.atypical_penalty
    coding = CodingModel(4, np.zeros_like(bins[low].ratio))  # a genome chain that scores nothing
    for d in rec:
        assert d.atypical is not None and len(d.atypical) == len(d.cand.a)
        f = candidate_features(d, coding, StartModel.prior(), False, cache, atypical=settings.atypical_penalty)
        np.testing.assert_allclose(f[:, FEATURES.index("coding")], np.maximum(0.0, d.atypical - settings.atypical_penalty))


def test_contexts_index_the_k_bases_before_each_base():
    """coding.contexts: the k bases before i as a base-4 number (the nearest base the lowest
    digit), ok where those and base i are clean; in the smallest integer type that holds a
    (context, base) index, checked against a plain loop."""
    from genet5.predict.prokaryote.coding import contexts
    from genet5.predict.prokaryote.orfs import base_codes

    rng = np.random.default_rng(5)
    seq = bytes(rng.choice(list(b"ACGTN"), size=400, p=[0.24, 0.24, 0.24, 0.24, 0.04]))
    codes = base_codes(seq)
    for k in (1, 3, 5, 7):
        ctx, ok = contexts(codes, k)
        assert ctx.dtype == (np.int16 if k <= 6 else np.int32)
        for i in range(len(codes)):
            window = codes[max(i - k, 0) : i]
            clean = i >= k and (window < 4).all() and codes[i] < 4
            assert ok[i] == clean
            if clean:
                assert ctx[i] == sum(int(b) * 4 ** j for j, b in enumerate(window[::-1]))


def test_motif_before_names_the_piece_of_the_starts_rbs_class():
    """starts.motif_before (the GFF3's rbs_motif / rbs_spacer) reads the motif the RBS class was
    given for: none exactly where the class is 'no motif', else a piece of the class's group at a
    spacer of its bin; a planted AGGAGG 8 bases before a start is read as such."""
    from genet5.predict.prokaryote.starts import SD_GROUPS, motif_before

    s = b"TTTTTTTTTTTTTTTT" + b"AGGAGG" + b"TTTTTTTT" + b"ATGAAA" * 5
    assert motif_before(s, 30) == ("AGGAGG", 8)
    rng = np.random.default_rng(11)
    seq = bytes(rng.choice(list(b"ACGT"), size=20000, p=[0.3, 0.2, 0.3, 0.2]))
    a = np.arange(40, 19000, 3)
    _, rbs, _ = features(seq, a)
    for k, cls in zip(a.tolist(), rbs.tolist()):
        found = motif_before(seq, k)
        assert motif_before(seq, k, cls) == found  # told the class, it searches only there
        if cls == N_RBS - 1:
            assert found is None
        else:
            group, spacer_bin = divmod(cls, len(SPACER_BINS))
            motif, spacer = found
            lo, hi = SPACER_BINS[spacer_bin]
            assert motif.encode() in SD_GROUPS[group] and lo <= spacer <= hi


def test_a_cut_gene_reaches_the_edge_that_cut_it_as_ncbi_writes_it():
    from genet5.genome.models import Segment, Transcript
    from genet5.predict.genes import gap_edges, reach_edges

    seq = b"AC" + b"A" * 98 + b"NNNN" + b"C" * 100 + b"NN" + b"G" * 50  # a 4-N gap; 2 N are no gap
    edges = gap_edges(seq)
    assert edges == [0, 101, 104, len(seq) + 1]

    def cut(strand, lo, hi, start_partial, end_partial):
        tx = Transcript(id="t", gene_id="g", seqid="s", strand=strand, cds=[Segment(lo, hi, strand)],
                        start_partial=start_partial, end_partial=end_partial)
        reach_edges(tx, edges)
        return tx.cds[0].start, tx.cds[0].end, tx.phase

    assert cut("+", 3, 98, True, False) == (1, 98, 2)  # 5' cut by the sequence start: phase = bases added
    assert cut("+", 3, 98, False, True) == (3, 100, 0)  # 3' cut by the gap: to its first N, phase kept
    assert cut("-", 106, 150, True, False) == (106, 150, 0)  # the right end is no edge: unchanged
    assert cut("-", 106, 201, False, True) == (105, 201, 0)  # 3' end (left on '-') reaches the gap
    assert cut("-", 50, 98, True, False) == (50, 100, 2)  # 5' end (right on '-') cut by the gap
    assert cut("+", 30, 60, True, False) == (30, 60, 0)  # 29 bases from an edge: not a cut there, kept
    assert cut("+", 3, 98, False, False) == (3, 98, 0)  # complete genes never move


def test_genes_cut_by_a_gap_end_on_its_edges(tmp_path):
    from genet5.predict.pipeline import PredictConfig, predict_genome

    seq, genes = _planted_genome(3)
    first = next(lo for strand, lo, hi in genes[20:] if strand == "+")
    mid = first + 151  # the gap goes in after the 2nd base of a codon of this '+' gene
    genome = seq[:mid] + b"N" * 50 + seq[mid:]
    fa = tmp_path / "g.fa"
    fa.write_bytes(b">g\n" + genome + b"\n")
    ann, _, _ = predict_genome(None, fa, PredictConfig(genetic_code=11, domain="prokaryote", use_network=False, mode="single"))
    cut = [t for t in ann.iter_transcripts() if t.start_partial or t.end_partial]
    gap_lo, gap_hi = mid + 1, mid + 50
    ends = {(t.strand, t.start_partial, t.end_partial): (t.cds[0].start, t.cds[0].end, t.phase) for t in cut}
    assert ends[("+", False, True)][1] == gap_lo - 1  # the gene's 3' half ends on the base before the gap
    lo, _, phase = ends[("+", True, False)]  # its 5'-cut rest starts on the base after it
    assert lo == gap_hi + 1 and phase == (first - (mid + 1)) % 3 == 1
