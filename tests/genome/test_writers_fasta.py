"""Protein and CDS FASTA with Prodigal's headers: at a cut end START/END are the outer bases of
the whole codons written (as Prodigal 2.6.3 writes them, checked against it on a phage cut at
both ends), and a protein whose gene has its stop codon ends in '*'."""

from __future__ import annotations

import io

from genet5.genome.codes import reverse_complement
from genet5.genome.extract import SequenceDict
from genet5.genome.models import Annotation, Gene, Segment, Transcript
from genet5.genome.writers_fasta import write_cds, write_proteins

# 1-2 CC | 3-11 GCA AAA TAA (a gene cut at its 5' end: phase 2) | 12-14 GGG | 15-22 ATG AAA CC (cut at its 3' end)
PLUS = b"CCGCAAAATAAGGGATGAAACC"
GENOME = SequenceDict({"p": PLUS, "m": reverse_complement(PLUS)})


def annotation() -> Annotation:
    ann = Annotation()
    for seqid, strand, genes in (("p", "+", [((1, 11), 2, True, False), ((15, 22), 0, False, True)]),
                                 ("m", "-", [((1, 8), 0, False, True), ((12, 22), 2, True, False)])):
        for i, ((a, b), phase, cut5, cut3) in enumerate(genes):
            t = Transcript(id=f"{seqid}{i}.t1", gene_id=f"{seqid}{i}", seqid=seqid, strand=strand,
                           cds=[Segment(a, b, strand)], phase=phase, start_partial=cut5, end_partial=cut3)
            ann.add_gene(Gene(id=t.gene_id, seqid=seqid, strand=strand, transcripts=[t]))
    return ann


def records(write, **kw) -> list[tuple[str, str]]:
    out = io.BytesIO()
    write(out, annotation(), GENOME, headers="prodigal", **kw)
    return [(r.split("\n", 1)[0], r.split("\n", 1)[1].replace("\n", "")) for r in out.getvalue().decode().split(">")[1:]]


def test_prodigal_headers_give_the_whole_codons_at_cut_ends_on_both_strands():
    heads = [h.split(" # ID=")[0] for h, _ in records(write_cds)]
    assert heads == ["p_1 # 3 # 11 # 1", "p_2 # 15 # 20 # 1", "m_1 # 3 # 8 # -1", "m_2 # 12 # 20 # -1"]
    assert [s for _, s in records(write_cds)] == ["GCAAAATAA", "ATGAAA", "ATGAAA", "GCAAAATAA"]


def test_prodigal_proteins_end_in_a_star_where_the_gene_has_its_stop():
    assert [s for _, s in records(write_proteins, default_code=11)] == ["AK*", "MK", "MK", "AK*"]


def test_default_headers_keep_the_annotated_span_and_no_star():
    out = io.BytesIO()
    write_proteins(out, annotation(), GENOME, default_code=11)
    text = out.getvalue().decode()
    assert ">p0.t1 gene=p0 p:1-11(+)\nAK\n" in text and "*" not in text
