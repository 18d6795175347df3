"""The seq2seq decoder on whole sequences: window genes stitched back into one gene each, and
only valid genes from any weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genet5.genome.codes import genetic_code, reverse_complement
from genet5.genome.models import Segment, Transcript
from genet5.models.configs import get_preset
from genet5.models.genet5 import GeneT5
from genet5.predict import seq2seq
from genet5.predict.seq2seq import SingleExonConstraint, _first_stop, decode_sequence
from genet5.tokenizers.annotation import IGNORE, Tok, decode_genes, transcripts_to_genes

from conftest import constraint_walk

STOPS = {"TAA", "TAG", "TGA"}
# 1-based CDS with stop: a short + gene, a 3 kb + gene (longer than the window), a - gene
# across a window edge, a 2.4 kb - gene, a + gene ending 19 bases before the sequence end
GENES = [("+", 101, 700, "ATG"), ("+", 1201, 4200, "GTG"), ("-", 4901, 5500, "ATG"), ("-", 6001, 8400, "TTG"),
         ("+", 9301, 9981, "ATG")]  # fmt: skip
N = 10_000


def _orf(rng, n_bases: int, start: str) -> str:
    codons = []
    while len(codons) < n_bases // 3 - 2:
        c = "".join(rng.choice(list("ACGT"), 3))
        if c not in STOPS:
            codons.append(c)
    return start + "".join(codons) + "TAG"


@pytest.fixture(scope="module")
def planted() -> str:
    rng = np.random.default_rng(3)
    seq = list("".join(rng.choice(list("ACGT"), N)))
    for strand, a, b, start in GENES:
        orf = _orf(rng, b - a + 1, start)
        seq[a - 1 : b] = orf if strand == "+" else reverse_complement(orf.encode()).decode()
    return "".join(seq)


def test_first_stop_reads_in_frame_on_both_strands(planted):
    stops = genetic_code(11).stops
    s = planted.encode()
    assert _first_stop(s, 1200, "+", stops) == 4200 - 3  # from the GTG at 1201: TAG at 4198..4200
    assert _first_stop(s, 8399, "-", stops) == 6001 - 1  # from the start codon ending at 8400
    assert _first_stop(b"ATGAAACCC", 0, "+", stops) is None


def test_windows_cut_genes_are_stitched_into_one_gene_each(planted, monkeypatch):
    """With a decoder that emits exactly the reference genes clipped to each window (as a
    perfect model would, cut ends included), the genes put back on the sequence are exactly the
    reference: a gene cut by window edges comes out once, whole, never as two halves."""
    txs = [Transcript(f"t{i}", f"g{i}", "chr", st, cds=[Segment(a, b, st)]) for i, (st, a, b, _) in enumerate(GENES)]
    calls = []

    def oracle(model, ids, pad, *, constraint, max_steps):
        lengths = (~pad).sum(1).tolist()
        out = []
        for j, n in enumerate(lengths):
            dna = constraint.dna[j]
            win_start = planted.encode().find(dna) + 1  # windows are unique in random DNA
            out.append(transcripts_to_genes(txs, win_start, n))
            calls.append((win_start, n))
        return out

    monkeypatch.setattr(seq2seq, "predict_genes", oracle)
    genes = decode_sequence(None, planted, code=11, window=1024, stride=512, batch=4)
    assert [(g.strand, g.start, g.end, g.start_codon) for g in genes] == GENES
    assert len(calls) == 19 and calls[-1] == (N - 1024 + 1, 1024)  # last window aligned to the end


@pytest.mark.parametrize("lo, hi, expected", [
    # + gene 101-700 cut by the sequence start (5' partial from its first whole codon at 2), the
    # + gene 9301-9981 without a stop before the end (3' partial, whole codons to 9198)
    (300, 9500, [("+", 2, 400, True, False), ("+", 901, 3900, False, False), ("-", 4601, 5200, False, False),
                 ("-", 5701, 8100, False, False), ("+", 9001, 9198, False, True)]),
    # - gene 4901-5500 whose start codon lies past the end (5' partial on -, whole codons to 5200)
    (0, 5200, [("+", 101, 700, False, False), ("+", 1201, 4200, False, False), ("-", 4901, 5200, True, False)]),
    # the same - gene whose stop lies before the start (3' partial on -, from base 3)
    (5000, N, [("-", 3, 500, False, True), ("-", 1001, 3400, False, False), ("+", 4301, 4981, False, False)]),
])
def test_genes_running_off_the_sequence_ends_are_partial(planted, monkeypatch, lo, hi, expected):
    """Genes cut by the sequence's own ends are written partial (whole codons up to the end,
    as Prodigal does), not dropped; windows inside the sequence still complete their genes."""
    piece = planted[lo:hi]
    txs = [Transcript(f"t{i}", f"g{i}", "chr", st, cds=[Segment(a - lo, b - lo, st)]) for i, (st, a, b, _) in enumerate(GENES)]

    def oracle(model, ids, pad, *, constraint, max_steps):
        return [transcripts_to_genes(txs, piece.encode().find(constraint.dna[j]) + 1, n)
                for j, n in enumerate((~pad).sum(1).tolist())]  # fmt: skip

    monkeypatch.setattr(seq2seq, "predict_genes", oracle)
    genes = decode_sequence(None, piece, code=11, window=1024, stride=512, batch=4)
    assert [(g.strand, g.start, g.end, g.start_partial, g.end_partial) for g in genes] == expected
    assert all(seq2seq.valid_gene(g, piece.encode(), 11, ("ATG", "GTG", "TTG")) for g in genes)


def test_plus_genes_of_both_strands_give_the_minus_genes_back(planted, monkeypatch):
    """strands="plus_rc": the sequence and its reverse complement are decoded for plus genes
    only; the reverse complement's plus genes come back as the sequence's minus genes."""
    rc = reverse_complement(planted.encode()).decode()
    plus = [Transcript(f"t{i}", f"g{i}", "chr", "+", cds=[Segment(a, b, "+")]) for i, (st, a, b, _) in enumerate(GENES) if st == "+"]
    minus_on_rc = [Transcript(f"r{i}", f"r{i}", "chr", "+", cds=[Segment(N + 1 - b, N + 1 - a, "+")])
                   for i, (st, a, b, _) in enumerate(GENES) if st == "-"]  # fmt: skip
    seen = []

    def oracle(model, ids, pad, *, constraint, max_steps):
        assert constraint.plus_only
        out = []
        for j, n in enumerate((~pad).sum(1).tolist()):
            dna = constraint.dna[j].decode()
            on_rc = planted.find(dna) < 0
            txs, src = (minus_on_rc, rc) if on_rc else (plus, planted)
            out.append(transcripts_to_genes(txs, src.find(dna) + 1, n))
            seen.append(on_rc)
        return out

    monkeypatch.setattr(seq2seq, "predict_genes", oracle)
    genes = decode_sequence(None, planted, code=11, window=1024, stride=512, batch=4, strands="plus_rc")
    assert [(g.strand, g.start, g.end, g.start_codon) for g in genes] == GENES
    assert seen.count(True) == seen.count(False) == 19
    with pytest.raises(ValueError, match="strands"):
        decode_sequence(None, planted, strands="minus")


def test_untrained_model_gives_only_valid_single_exon_genes(planted):
    torch.manual_seed(0)
    model = GeneT5(get_preset("genet5-tiny"))
    step = model.decode_step

    def no_eos(*args, **kwargs):  # push the untrained decoder to write genes, not EOS
        tok_BTV, ptr_BTL = step(*args, **kwargs)
        tok_BTV[..., 2] -= 100.0
        return tok_BTV, ptr_BTL

    model.decode_step = no_eos
    genes = decode_sequence(model, planted[:3000], code=11, window=1024, stride=512, max_steps=40)
    assert genes, "the untrained decoder wrote nothing to check"
    code = genetic_code(11)
    for g in genes:
        cds = planted[g.start - 1 : g.end]
        if g.strand == "-":
            cds = reverse_complement(cds.encode()).decode()
        assert len(cds) % 3 == 0 and cds[:3] in ("ATG", "GTG", "TTG") and cds[:3] == g.start_codon
        codons = [cds[i : i + 3].encode() for i in range(0, len(cds), 3)]
        assert codons[-1] in code.stops and not any(c in code.stops for c in codons[:-1])
        assert len(cds) >= 90


def _cds(dna: str, g) -> str:
    (a, b), = g.segments
    return dna[a : b + 1] if g.strand == "+" else reverse_complement(dna[a : b + 1].encode()).decode()


def test_single_exon_constraint_walks_never_dead_end_and_keep_the_shortest_gene(planted):
    """Random walks over what SingleExonConstraint allows (structure favoured over EOS), on
    windows of random DNA with planted genes: a token and a pointer are always on offer, and
    every complete gene is single-exon, at least min_gene bases, start ... first stop."""
    code = genetic_code(11)
    rng = np.random.default_rng(0)
    n_genes = 0
    for trial in range(80):
        lo = int(rng.integers(0, N - 600))
        dna = planted[lo : lo + 600]
        c = SingleExonConstraint([dna], genetic_code_id=11, start_codons=("ATG", "GTG", "TTG"), min_gene=150)
        c.begin(1, [len(dna)])
        def no_splice_tokens(allowed):
            assert not np.isin(allowed, [Tok.DONOR, Tok.ACCEPTOR]).any()

        types, ptrs = constraint_walk(c, rng, 40, lambda a: np.where(a == Tok.EOS, 0.02, 1.0), f"trial {trial}",
                                      check=no_splice_tokens)
        for g in decode_genes(types, ptrs, len(dna)):
            if g.cut_left or g.cut_right:
                continue
            cds = _cds(dna, g)
            codons = [cds[i : i + 3].encode() for i in range(0, len(cds), 3)]
            assert len(cds) % 3 == 0 and len(cds) >= 150 and cds[:3] in ("ATG", "GTG", "TTG")
            assert codons[-1] in code.stops and not any(x in code.stops for x in codons[:-1])
            n_genes += 1
    assert n_genes >= 10, n_genes  # 22 with these seeds


def test_a_gene_cut_at_the_left_edge_ends_at_the_first_stop_of_its_frame():
    """After CUT_LEFT the frame is unknown, yet a stop of the gene's own frame cannot lie
    between the edge and its end: on + only the first stop of each frame is offered, on - only
    start codons with no stop of their frame before them."""
    #      0         1         2         3
    #      0123456789012345678901234567890123
    dna = "CCTAACCCTGACCCCTAGCCTAACCCATGCCCCC"  # + stops TAA@2, TGA@8, TAG@15, TAA@20 (frames 2,2,0,2)
    c = SingleExonConstraint([dna], genetic_code_id=11, start_codons=("ATG",), min_gene=6)
    c.begin(1, [len(dna)])
    c.advance(0, Tok.GENE_PLUS, IGNORE)
    c.advance(0, Tok.CUT_LEFT, IGNORE)
    assert np.flatnonzero(c.allowed_pointers(0, Tok.CDS_END)).tolist() == [4, 17]  # TAA@2 and TAG@15 end there
    # minus genes: TTA@2 is a stop read on - (frame 2); CAT@8..10 is a start codon read on - in
    # frame 2 (blocked: that stop lies between it and the edge), CAT@12..14 one in frame 0
    dna = "GGTTAGGGCATGCATGG"
    c = SingleExonConstraint([dna], genetic_code_id=11, start_codons=("ATG",), min_gene=6)
    c.begin(1, [len(dna)])
    c.advance(0, Tok.GENE_MINUS, IGNORE)
    c.advance(0, Tok.CUT_LEFT, IGNORE)
    assert np.flatnonzero(c.allowed_pointers(0, Tok.CDS_START)).tolist() == [14]
    assert c.allowed_types(0)[Tok.CUT_RIGHT]  # never a dead end: the gene may cross the window


def test_first_pointer_margin_takes_the_leftmost_near_best_gene_start():
    """decode_greedy(first_pointer_margin): the pointer right after a gene token is the leftmost
    position within the margin (nats) of the best; other pointers stay argmax."""
    from genet5.models.genet5_decoding import decode_greedy

    torch.manual_seed(0)
    model = GeneT5(get_preset("genet5-tiny"))
    script = [Tok.GENE_PLUS, Tok.CDS_START, Tok.CDS_END, Tok.EOS]
    steps = iter(range(100))

    def step_fn(enc, types_BT, pointers_BT=None, kv_caches=None):  # the uncached path: whole prefix
        i = next(steps)
        B, T = types_BT.shape
        tok = torch.full((B, T, model.config.dec_vocab_size), -50.0)
        tok[..., script[min(i, 3)]] = 0.0
        ptr = torch.zeros((B, T, enc.base_BLD.shape[1]))
        # best 5.0 at 10 and 30 (argmax takes the first), 4.0 at 3 (1 nat below), 0.5 at 1
        ptr[..., 10], ptr[..., 30], ptr[..., 3], ptr[..., 1] = 5.0, 5.0 if i == 1 else 6.0, 4.0, 0.5
        return tok, ptr

    model.decode_step = step_fn
    ids = torch.randint(5, 9, (1, 40))
    (types, ptrs), = decode_greedy(model, ids, max_steps=6, use_cache=False, first_pointer_margin=1.5)
    assert types == [Tok.GENE_PLUS, Tok.CDS_START, Tok.CDS_END, Tok.EOS]
    assert ptrs[1] == 3 and ptrs[2] == 30  # start: leftmost within 1.5 nats; end: plain argmax
    steps = iter(range(100))
    (types, ptrs), = decode_greedy(model, ids, max_steps=6, use_cache=False)
    assert ptrs[1] == 10  # without a margin: the first best


def test_same_gene_is_the_start_codons_of_one_orf():
    #      0         1         2         3         4
    #      012345678901234567890123456789012345678901234
    dna = "ATGAAATAACCATGCCCATGAAAGTGCCCTAGCCATGCCCCCCCC"
    c = SingleExonConstraint([dna], genetic_code_id=11, start_codons=("ATG", "GTG", "TTG"), min_gene=6)
    c.begin(1, [len(dna)])
    # the ORF of the ATG at 11: after TAA@6 (same frame), up to TAG@29; its starts ATG 11, 17, GTG 23
    same = c.same_gene(0, Tok.CDS_START, 17)
    assert np.flatnonzero(same & c.signals[0].ok[("+", Tok.CDS_START)]).tolist() == [11, 17, 23]
    assert np.flatnonzero(c.same_gene(0, Tok.CDS_END, 29)).tolist() == [29]


def test_strand_conflicts_keep_the_more_confident_gene_and_allow_short_overlaps():
    from genet5.predict.seq2seq import Seq2SeqGene, without_strand_conflicts

    real = Seq2SeqGene("+", 1001, 1900, "ATG", confidence=-0.01)
    shadow = Seq2SeqGene("-", 1201, 1800, "ATG", confidence=-0.7)  # antisense, inside the real gene
    tail = Seq2SeqGene("-", 1751, 2600, "ATG", confidence=-2.0)  # 150 bases of 3' overlap: allowed
    same = Seq2SeqGene("+", 1501, 1950, "GTG", confidence=-3.0)  # same strand as real: not this rule's; 200 with tail
    kept = without_strand_conflicts([shadow, tail, real, same], 200)
    assert kept == [real, same, tail]
    assert without_strand_conflicts([real, shadow], 1000) == [real, shadow]  # limit above the overlap
    # the shadow wins where the model was surer of it
    assert without_strand_conflicts([real, Seq2SeqGene("-", 1201, 1800, "ATG", confidence=-0.001)], 200)[0].strand == "-"


def test_strand_conflicts_match_the_all_pairs_rule_on_random_gene_sets():
    """The look-up by start (kept genes starting within the longest gene's reach) gives what
    checking every kept gene gives."""
    import random

    from genet5.predict.seq2seq import Seq2SeqGene, without_strand_conflicts

    def all_pairs(genes, limit):
        kept = []
        for g in sorted(genes, key=lambda g: -g.confidence):
            if all(k.strand == g.strand or min(k.end, g.end) - max(k.start, g.start) + 1 <= limit for k in kept):
                kept.append(g)
        return sorted(kept, key=lambda g: (g.start, g.end, g.strand))

    rng = random.Random(3)
    for _ in range(100):
        genes = []
        for _ in range(rng.randint(0, 50)):
            a = rng.randint(1, 20_000)
            genes.append(Seq2SeqGene(rng.choice("+-"), a, a + rng.randint(90, 3000), "ATG", confidence=-5 * rng.random()))
        assert without_strand_conflicts(genes, 200) == all_pairs(genes, 200)
