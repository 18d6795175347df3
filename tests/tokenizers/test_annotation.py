import pytest

from genet5.genome.models import Segment, Transcript
from genet5.tokenizers.annotation import (
    IGNORE,
    BaseClass,
    GeneStructure,
    Tok,
    decode_genes,
    encode_genes,
    per_base_labels,
    shift_right,
    transcripts_to_genes,
)


def test_two_exon_minus_gene_format():
    g = GeneStructure("-", [(10, 40), (100, 150)])
    types, ptrs = encode_genes([g], 200)
    assert [Tok(t).name for t in types] == ["GENE_MINUS", "CDS_END", "ACCEPTOR", "DONOR", "CDS_START", "EOS"]
    assert ptrs == [IGNORE, 10, 40, 100, 150, IGNORE]
    assert decode_genes(types, ptrs, 200) == [g]
    inp_t, inp_p = shift_right(types, ptrs)
    assert inp_t[0] == Tok.BOS and inp_t[1:] == types[:-1] and inp_p[1:] == ptrs[:-1]


@pytest.mark.parametrize(
    "genes",
    [
        [GeneStructure("+", [(5, 20), (50, 80), (120, 130)])],
        [GeneStructure("+", [(0, 30)], cut_left=True), GeneStructure("-", [(60, 90)])],
        [GeneStructure("+", [(40, 60)], cut_left=True)],  # window starts inside an intron
        [GeneStructure("-", [(100, 150), (170, 199)], cut_right=True)],  # exon open at right
        [GeneStructure("-", [(100, 150)], cut_right=True)],  # intron open at right
        [GeneStructure("+", [(0, 199)], cut_left=True, cut_right=True)],  # inside one exon
        [],
    ],
)
def test_roundtrip(genes):
    types, ptrs = encode_genes(genes, 200)
    assert types[-1] == Tok.EOS
    assert all((p == IGNORE) == (Tok(t) not in (Tok.CDS_START, Tok.CDS_END, Tok.DONOR, Tok.ACCEPTOR)) for t, p in zip(types, ptrs))
    assert decode_genes(types, ptrs, 200) == genes


def test_decode_drops_malformed():
    # DONOR before any left boundary, then a good plus gene.
    types = [Tok.GENE_PLUS, Tok.DONOR, Tok.GENE_PLUS, Tok.CDS_START, Tok.CDS_END, Tok.EOS]
    ptrs = [IGNORE, 5, IGNORE, 10, 30, IGNORE]
    assert decode_genes(types, ptrs, 100) == [GeneStructure("+", [(10, 30)])]
    # decreasing pointers are rejected
    assert decode_genes([Tok.GENE_PLUS, Tok.CDS_START, Tok.CDS_END], [IGNORE, 30, 10], 100) == []


def _tx(strand, cds, phase=0, gid="g1"):
    segs = [Segment(a, b, strand) for a, b in cds]
    return Transcript(id=gid + ".t", gene_id=gid, seqid="chr", strand=strand, cds=segs, phase=phase)


def test_transcripts_to_genes_clips_to_window():
    # Window = genomic 101..300 (1-based); CDS 51..120 and 201..260 on plus.
    tx = _tx("+", [(51, 120), (201, 260)])
    [g] = transcripts_to_genes([tx], 101, 200)
    assert g == GeneStructure("+", [(0, 19), (100, 159)], cut_left=True, cut_right=False)
    assert transcripts_to_genes([tx], 1001, 200) == []
    # minus strand, CDS in transcription order (descending); runs past the right edge
    tx2 = _tx("-", [(281, 320), (221, 250)], gid="g2")
    [g2] = transcripts_to_genes([tx2], 101, 200)
    assert g2 == GeneStructure("-", [(120, 149), (180, 199)], cut_left=False, cut_right=True)
    types, ptrs = encode_genes([g2], 200)
    assert [Tok(t).name for t in types] == ["GENE_MINUS", "CDS_END", "ACCEPTOR", "DONOR", "CUT_RIGHT", "EOS"]
    assert ptrs[1:4] == [120, 149, 180]


def test_per_base_labels_frames_on_both_strands():
    plus = _tx("+", [(11, 16), (21, 26)])
    lab = per_base_labels([plus], 1, 40)
    assert lab[10:16].tolist() == [1, 2, 3, 1, 2, 3]
    assert lab[16:20].tolist() == [BaseClass.INTRON] * 4
    assert lab[20:26].tolist() == [1, 2, 3, 1, 2, 3]
    assert lab[0] == BaseClass.INTERGENIC
    minus = _tx("-", [(21, 26), (11, 16)], gid="g2")  # transcription order: right segment first
    lab = per_base_labels([minus], 1, 40)
    assert lab[20:26].tolist() == [3, 2, 1, 3, 2, 1]  # codon position counts from the right
    assert lab[10:16].tolist() == [3, 2, 1, 3, 2, 1]
    assert (lab == BaseClass.INTRON).sum() == 4


def test_per_base_labels_utr_and_precedence():
    tx = _tx("+", [(11, 16)])
    tx.exons = [Segment(5, 16, "+"), Segment(25, 30, "+")]
    other = _tx("+", [(26, 28)], gid="g3")  # a CDS inside tx's 3' UTR exon wins over UTR
    lab = per_base_labels([tx, other], 1, 40)
    assert lab[4:10].tolist() == [BaseClass.UTR] * 6
    assert lab[10:16].tolist() == [1, 2, 3, 1, 2, 3]
    assert lab[16:24].tolist() == [BaseClass.INTRON] * 8
    assert lab[24].item() == BaseClass.UTR and lab[25:28].tolist() == [1, 2, 3]
    assert lab[28:30].tolist() == [BaseClass.UTR] * 2 and lab[30] == BaseClass.INTERGENIC


def test_genes_to_transcripts_inverts_transcripts_to_genes():
    from genet5.tokenizers.annotation import genes_to_transcripts

    txs = [_tx("+", [(111, 130), (161, 190)]), _tx("-", [(281, 300), (221, 250)], gid="g2")]
    genes = transcripts_to_genes(txs, 101, 300)
    back = genes_to_transcripts(genes, "chr", 101)
    assert [t.chain() for t in back] == [t.chain() for t in txs]
    assert not any(t.start_partial or t.end_partial for t in back)
    [cut] = genes_to_transcripts(transcripts_to_genes(txs[1:], 101, 150), "chr", 101)
    assert cut.start_partial and not cut.end_partial  # minus: the 5' end lies to the right
