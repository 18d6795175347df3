"""GeneConstraint: whatever is chosen among what it allows is a valid gene structure."""

import random

import numpy as np

from genet5.genome.codes import genetic_code, reverse_complement
from genet5.models.genet5_decoding import GeneConstraint
from genet5.tokenizers.annotation import IGNORE, POINTER_TOKENS, GeneStructure, Tok, decode_genes, encode_genes

from conftest import constraint_walk

STOPS = {b"TAA", b"TAG", b"TGA"}
SENSE = [c for c in genetic_code(1).codon_to_aa if c not in STOPS and b"N" not in c]


def _cds_exons(rng, lengths):
    """CDS cut into exons of the given lengths: ATG, sense codons, a stop; no in-frame stop."""
    total = sum(lengths)
    assert total % 3 == 0
    cds = b"ATG" + b"".join(rng.choice(SENSE) for _ in range(total // 3 - 2)) + b"TAA"
    out, i = [], 0
    for n in lengths:
        out.append(cds[i : i + n])
        i += n
    return out


def _gene(rng, exon_lengths, intron_lengths):
    exons = _cds_exons(rng, exon_lengths)
    parts = [exons[0]]
    for intron_len, exon in zip(intron_lengths, exons[1:]):
        filler = bytes(rng.choice(b"ACT") for _ in range(intron_len - 4))
        parts += [b"GT" + filler + b"AG", exon]
    return b"".join(parts)


def make_window(seed=0):
    """~170 bases: a 2-exon plus gene and a 2-exon minus gene between random background.

    Returns (dna bytes, [GeneStructure, ...]) with 0-based closed window coordinates."""
    rng = random.Random(seed)
    bg = lambda n: bytes(rng.choice(b"ACGT") for _ in range(n))  # noqa: E731
    dna, genes = bg(8), []
    plus = _gene(rng, [20, 19], [30])
    a = len(dna)
    genes.append(GeneStructure("+", [(a, a + 19), (a + 50, a + 68)]))
    dna += plus + bg(8)
    minus = reverse_complement(_gene(rng, [14, 16], [25]))  # transcription order: exon 14 first
    a = len(dna)
    genes.append(GeneStructure("-", [(a, a + 15), (a + 41, a + 54)]))
    dna += minus + bg(6)
    return dna, genes


def spliced_cds(dna: bytes, g: GeneStructure) -> bytes:
    cds = b"".join(dna[a : b + 1] for a, b in g.segments)
    return cds if g.strand == "+" else reverse_complement(cds)


def check_gene(dna: bytes, g: GeneStructure, min_intron=20):
    """Independent check of everything GeneConstraint promises, from the DNA itself."""
    segs = g.segments
    assert all(a <= b for a, b in segs)
    for (_, b1), (a2, _) in zip(segs, segs[1:]):
        assert a2 - b1 - 1 >= min_intron, "intron too short"
        intron = dna[b1 + 1 : a2]
        if g.strand == "-":
            intron = reverse_complement(intron)
        assert intron[:2] == b"GT" and intron[-2:] == b"AG", f"non-canonical intron {intron[:2]}..{intron[-2:]}"
    if g.cut_left or g.cut_right:
        return
    cds = spliced_cds(dna, g)
    assert len(cds) % 3 == 0
    assert cds[:3] == b"ATG" and cds[-3:] in STOPS
    prot = genetic_code(1).translate(cds)
    assert "*" not in prot[:-1], f"in-frame stop in {prot}"


def test_fixture_genes_are_valid_and_encodable():
    dna, genes = make_window()
    for g in genes:
        check_gene(dna, g)
    types, ptrs = encode_genes(genes, len(dna))
    assert decode_genes(types, ptrs, len(dna)) == genes


def test_reference_targets_are_allowed_by_the_constraint():
    dna, genes = make_window()
    types, ptrs = encode_genes(genes, len(dna))
    c = GeneConstraint([dna])
    c.begin(1, [len(dna)])
    for t, p in zip(types, ptrs):
        assert c.allowed_types(0)[t], Tok(t).name
        if t in POINTER_TOKENS:
            assert c.allowed_pointers(0, t)[p], (Tok(t).name, p)
        c.advance(0, t, p)


def _random_walk(seed: int) -> tuple[bytes, list[int], list[int]]:
    """Sample uniformly among allowed tokens and pointers (structure favoured over EOS)."""
    dna, _ = make_window(seed % 4)
    rng = np.random.default_rng(seed)
    c = GeneConstraint([dna])
    c.begin(1, [len(dna)])
    # favour structure over EOS so walks get somewhere
    weight = lambda a: np.where(a == Tok.EOS, 0.05, np.where(np.isin(a, [Tok.CUT_LEFT, Tok.CUT_RIGHT]), 0.1, 1.0))  # noqa: E731
    types, ptrs = constraint_walk(c, rng, 60, weight, f"seed {seed}")
    return dna, types, ptrs


def test_random_walks_only_yield_valid_genes():
    """40 constrained random walks (one test: the seeds are samples of one property, not 40
    properties): every parsed gene is valid, and the walks do parse genes."""
    n_genes = 0
    for seed in range(40):
        dna, types, ptrs = _random_walk(seed)
        for g in decode_genes(types, ptrs, len(dna)):
            check_gene(dna, g)
            n_genes += 1
    assert n_genes >= 40, n_genes  # 109 with these seeds


def test_constraint_finds_genes_and_rejects_noncanonical():
    dna, genes = make_window()
    c = GeneConstraint([dna])
    c.begin(1, [len(dna)])
    c.advance(0, Tok.GENE_PLUS, IGNORE)
    starts = np.flatnonzero(c.allowed_pointers(0, Tok.CDS_START))
    assert genes[0].segments[0][0] in starts
    assert all(dna[p : p + 3] == b"ATG" for p in starts)
    c.advance(0, Tok.CDS_START, genes[0].segments[0][0])
    donors = np.flatnonzero(c.allowed_pointers(0, Tok.DONOR))
    assert genes[0].segments[0][1] in donors
    assert all(dna[p + 1 : p + 3] == b"GT" for p in donors)
    # with any donor allowed, the same step offers strictly more positions
    c2 = GeneConstraint([dna], donors=None)
    c2.begin(1, [len(dna)])
    c2.advance(0, Tok.GENE_PLUS, IGNORE)
    c2.advance(0, Tok.CDS_START, genes[0].segments[0][0])
    assert c2.allowed_pointers(0, Tok.DONOR).sum() > len(donors)


def test_grammar_only_constraint_orders_pointers():
    c = GeneConstraint(None, min_intron=5)
    c.begin(1, [50])
    c.advance(0, Tok.GENE_MINUS, IGNORE)
    assert not c.allowed_types(0)[Tok.DONOR]  # a minus gene starts at its stop (CDS_END)
    c.advance(0, Tok.CDS_END, 10)
    assert np.flatnonzero(c.allowed_pointers(0, Tok.ACCEPTOR)).min() == 10
    c.advance(0, Tok.ACCEPTOR, 20)
    assert np.flatnonzero(c.allowed_pointers(0, Tok.DONOR)).min() == 26  # 20 + 1 + min_intron
    assert c.allowed_types(0)[Tok.CUT_RIGHT]
