import gzip
import os

import pytest

from genet5.genome.codes import reverse_complement
from genet5.genome.extract import (
    SequenceDict,
    cds_sequence,
    exon_sequences,
    intron_sequences,
    introns,
    protein_sequence,
)
from genet5.genome.fasta import Genome, write_fasta
from genet5.genome.models import GenomeFormatError, Segment, Transcript

# A spliced gene on '+': TT | ATGAAAC (3..9) | GTAAGTTTTTAG (10..21) | CCGGGTAA (22..29) | TT
EXON1, INTRON, EXON2 = "ATGAAAC", "GTAAGTTTTTAG", "CCGGGTAA"
PLUS = ("TT" + EXON1 + INTRON + EXON2 + "TT").encode()
MINUS = reverse_complement(PLUS)  # the same gene on '-': exon1 at 23..29, exon2 at 3..10
GENOME = SequenceDict({"p": PLUS, "m": MINUS, "x": b"AGTGAAACCCTAG", "c4": b"ATGTGATAA"})


def tx(seqid, strand, cds, **kw):
    return Transcript(id="t1", gene_id="g1", seqid=seqid, strand=strand, cds=[Segment(a, b, strand) for a, b in cds], **kw)


def test_plus_strand_spliced():
    t = tx("p", "+", [(3, 9), (22, 29)])
    assert cds_sequence(t, GENOME) == b"ATGAAACCCGGGTAA"
    assert protein_sequence(t, GENOME, 1) == "MKPG"  # trailing stop dropped
    assert intron_sequences(t, GENOME) == [INTRON.encode()]
    assert exon_sequences(t, GENOME) == [EXON1.encode(), EXON2.encode()]


def test_minus_strand_spliced_in_transcription_order():
    t = tx("m", "-", [(23, 29), (3, 10)])
    assert cds_sequence(t, GENOME) == b"ATGAAACCCGGGTAA"
    assert protein_sequence(t, GENOME, 11) == "MKPG"
    assert intron_sequences(t, GENOME) == [INTRON.encode()]  # reads GT...AG 5' to 3'
    assert exon_sequences(t, GENOME) == [EXON1.encode(), EXON2.encode()]


def test_exons_with_utrs_used_for_exon_and_intron_sequences():
    t = tx("p", "+", [(3, 9), (22, 29)])
    t.exons = [Segment(1, 9, "+"), Segment(22, 31, "+")]
    assert exon_sequences(t, GENOME) == [b"TT" + EXON1.encode(), EXON2.encode() + b"TT"]
    assert intron_sequences(t, GENOME) == [INTRON.encode()]


def test_phase_drops_leading_bases_and_partial_start_not_met():
    # 5'-partial CDS starting mid-codon: phase 1 drops 'A'; GTG is an alternative start in
    # table 11 but must not become M because this is not a real start.
    t = tx("x", "+", [(1, 13)], phase=1, start_partial=True)
    assert cds_sequence(t, GENOME) == b"GTGAAACCCTAG"
    assert cds_sequence(t, GENOME, honor_phase=False) == b"AGTGAAACCCTAG"
    assert protein_sequence(t, GENOME, 11) == "VKP"
    full = tx("x", "+", [(2, 13)])
    assert protein_sequence(full, GENOME, 11) == "MKP"  # a real GTG start reads as M


def test_genetic_code_4_reads_tga_as_trp():
    t = tx("c4", "+", [(1, 9)])
    assert protein_sequence(t, GENOME, 4) == "MW"
    assert protein_sequence(t, GENOME, 1) == "M*"  # internal stop kept, only the last dropped


def test_introns_skip_frameshift_overlaps_and_strand_switches():
    segs = [Segment(10, 20, "+"), Segment(20, 30, "+"), Segment(40, 50, "+"), Segment(5, 8, "-")]
    assert introns(segs) == [Segment(31, 39, "+")]
    assert introns([Segment(40, 50, "-"), Segment(10, 20, "-")]) == [Segment(21, 39, "-")]


def test_mixed_strand_chain_each_part_on_its_strand():
    seqs = SequenceDict({"s": PLUS})
    t = Transcript("t", "g", "s", "+", cds=[Segment(3, 9, "+"), Segment(22, 29, "-")])
    assert cds_sequence(t, seqs) == EXON1.encode() + reverse_complement(EXON2.encode())


def test_origin_spanning_chain():
    seqs = SequenceDict({"c": b"AAACCCGGGTTTATGAA"})  # ATG AAA ... across the end: ATGAA + AC
    t = tx("c", "+", [(13, 17), (1, 4)], unusual_order=True)
    assert cds_sequence(t, seqs) == b"ATGAAAAAC"
    assert introns(t.cds) == []


def test_sequence_dict_errors():
    with pytest.raises(GenomeFormatError, match="no sequence 'zz'"):
        GENOME.fetch("zz", 1, 2)
    with pytest.raises(GenomeFormatError, match="p:30-40 outside"):
        cds_sequence(tx("p", "+", [(30, 40)]), GENOME)


def test_works_with_genome_class(tmp_path):
    path = tmp_path / "g.fa"
    write_fasta(path, [("m", MINUS.lower())], width=7)
    t = tx("m", "-", [(23, 29), (3, 10)])
    assert cds_sequence(t, Genome(path)) == b"ATGAAACCCGGGTAA"


def test_ecoli_proteins_match_genbank_translations(shared_genomes):
    """Every non-pseudo CDS of E. coli translates to its /translation, except the three
    selenoproteins (TGA read as selenocysteine 'U' where we write '*')."""
    from Bio import SeqIO

    from genet5.genome.genbank import read_genbank

    path = shared_genomes / "prokaryotes/Escherichia_coli_K12_MG1655/original.gbff.gz"
    if not path.exists():
        pytest.skip(f"{path} not present")
    ann, seqs = read_genbank(path)
    genome = SequenceDict(seqs)
    expected = {}
    with gzip.open(path, "rt") as fh:
        for rec in SeqIO.parse(fh, "genbank"):
            for f in rec.features:
                if f.type == "CDS" and "translation" in f.qualifiers:
                    expected[f.qualifiers["protein_id"][0]] = f.qualifiers["translation"][0]
    n = 0
    mismatches = []
    for t in ann.iter_transcripts():
        if t.pseudo:
            continue
        n += 1
        got, want = protein_sequence(t, genome, 11), expected[t.id]
        if got != want:
            diffs = {(a, b) for a, b in zip(got, want) if a != b}
            assert len(got) == len(want) and diffs == {("*", "U")}, t.id
            mismatches.append(t.id)
    assert n > 4000 and len(mismatches) == 3


# --- writers_fasta ---------------------------------------------------------------------------------


def test_write_proteins_and_cds(tmp_path):
    from genet5.genome.fasta import read_fasta
    from genet5.genome.models import Annotation, Gene
    from genet5.genome.writers_fasta import write_cds, write_proteins

    ann = Annotation()
    g = Gene("g1", "m", "-")
    g.transcripts.append(Transcript("t1", "g1", "m", "-", cds=[Segment(23, 29, "-"), Segment(3, 10, "-")]))
    g.transcripts.append(Transcript("t1p", "g1", "m", "-", cds=[Segment(3, 29, "-")], pseudo=True))
    g.transcripts.append(Transcript("nc", "g1", "m", "-", exons=[Segment(3, 29, "-")]))  # non-coding
    ann.add_gene(g)
    g4 = Gene("g2", "c4", "+")
    g4.transcripts.append(Transcript("own", "g2", "c4", "+", cds=[Segment(1, 9, "+")], genetic_code=1))
    g4.transcripts.append(Transcript("seq", "g2", "c4", "+", cds=[Segment(1, 9, "+")]))
    ann.add_gene(g4)
    ann.genetic_codes["c4"] = 4

    path = tmp_path / "prot.faa"
    assert write_proteins(path, ann, GENOME, default_code=11) == 3
    lines = path.read_text().splitlines()
    assert lines == [
        ">t1 gene=g1 m:3-29(-)", "MKPG",
        ">own gene=g2 c4:1-9(+)", "M*",  # the transcript's own code (1) wins
        ">seq gene=g2 c4:1-9(+)", "MW",  # else the sequence's code (4)
    ]
    path = tmp_path / "cds.fna"
    assert write_cds(path, ann, GENOME) == 3
    recs = list(read_fasta(path))
    assert recs[0].id == "t1" and recs[0].description == "gene=g1 m:3-29(-)"
    assert recs[0].seq == b"ATGAAACCCGGGTAA"
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
