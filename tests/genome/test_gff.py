"""GFF3 and GTF dialects into one gene model, and the errors bad annotation lines give."""

from __future__ import annotations

import gzip

import re

import pytest

from genet5.genome.gff import read_annotation, sniff_format
from genet5.genome.models import GenomeFormatError, Segment

HEADER = "##gff-version 3\n##sequence-region chr1 1 5000\n"


def write(tmp_path, text: str, name: str = "a.gff3", gz: bool = False):
    path = tmp_path / (name + (".gz" if gz else ""))
    data = text.encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def gff(*lines: tuple) -> str:
    return HEADER + "".join("\t".join(str(c) for c in line) + "\n" for line in lines)


def only_tx(ann):
    txs = list(ann.iter_transcripts())
    assert len(txs) == 1
    return txs[0]


def test_refseq_gene_mrna_exon_cds_minus_strand(tmp_path):
    text = gff(
        ("chr1", "RefSeq", "gene", 100, 900, ".", "-", ".", "ID=gene-A;Name=abc"),
        ("chr1", "RefSeq", "mRNA", 100, 900, ".", "-", ".", "ID=rna-A;Parent=gene-A"),
        ("chr1", "RefSeq", "exon", 100, 300, ".", "-", ".", "ID=exon-1;Parent=rna-A"),
        ("chr1", "RefSeq", "exon", 500, 900, ".", "-", ".", "ID=exon-2;Parent=rna-A"),
        ("chr1", "RefSeq", "CDS", 150, 300, ".", "-", "2", "ID=cds-A;Parent=rna-A"),
        ("chr1", "RefSeq", "CDS", 500, 800, ".", "-", "0", "ID=cds-A;Parent=rna-A"),
    )
    ann = read_annotation(write(tmp_path, text))
    tx = only_tx(ann)
    assert tx.id == "rna-A" and tx.gene_id == "gene-A" and tx.strand == "-"
    # transcription order on the minus strand: the right-most segment first
    assert tx.cds == [Segment(500, 800, "-"), Segment(150, 300, "-")]
    assert tx.cds_5prime() == 800 and tx.cds_3prime() == 150
    assert tx.exons[0] == Segment(500, 900, "-")
    assert ann.sequence_lengths == {"chr1": 5000}
    gene = next(ann.iter_genes())
    assert gene.attributes["Name"] == "abc" and (gene.start, gene.end) == (100, 900)


def test_prokaryotic_gene_cds_and_parentless_cds(tmp_path):
    text = gff(
        ("chr1", "GenBank", "gene", 10, 99, ".", "+", ".", "ID=gene-1"),
        ("chr1", "GenBank", "CDS", 10, 99, ".", "+", "0", "ID=cds-1;Parent=gene-1;transl_table=11"),
        ("chr1", "Prodigal", "CDS", 200, 400, ".", "-", "0", "ID=1_2;partial=00"),
    )
    ann = read_annotation(write(tmp_path, text))
    txs = {t.id: t for t in ann.iter_transcripts()}
    assert set(txs) == {"cds-1", "1_2"}
    assert txs["cds-1"].gene_id == "gene-1" and txs["cds-1"].genetic_code == 11
    assert ann.genetic_codes["chr1"] == 11
    assert txs["1_2"].strand == "-" and ann.n_genes == 2


def test_wormbase_shared_cds_id_and_several_parents(tmp_path):
    text = gff(
        ("chr1", "WormBase", "gene", 100, 900, ".", "+", ".", "ID=Gene:g1"),
        ("chr1", "WormBase", "mRNA", 100, 900, ".", "+", ".", "ID=Transcript:t1;Parent=Gene:g1"),
        ("chr1", "WormBase", "mRNA", 100, 900, ".", "+", ".", "ID=Transcript:t2;Parent=Gene:g1"),
        ("chr1", "WormBase", "CDS", 100, 200, ".", "+", "0", "ID=CDS:c1;Parent=Transcript:t1,Transcript:t2"),
        ("chr1", "WormBase", "CDS", 300, 400, ".", "+", "2", "ID=CDS:c1;Parent=Transcript:t1,Transcript:t2"),
    )
    ann = read_annotation(write(tmp_path, text))
    txs = list(ann.iter_transcripts())
    assert [t.id for t in txs] == ["Transcript:t1", "Transcript:t2"]
    assert txs[0].chain() == txs[1].chain() == (("+", 100, 200), ("+", 300, 400))
    assert ann.n_genes == 1


def test_partial_ranges_follow_the_strand(tmp_path):
    text = gff(
        ("chr1", "x", "gene", 1, 300, ".", "-", ".", "ID=g"),
        ("chr1", "x", "CDS", 1, 300, ".", "-", "0", "ID=c;Parent=g;partial=true;start_range=.,1"),
    )
    tx = only_tx(read_annotation(write(tmp_path, text)))
    # start_range is the left end: on the minus strand that is the 3' end
    assert tx.end_partial and not tx.start_partial


def test_gtf_stop_codon_rows_are_folded_into_cds_and_utrs_make_exons(tmp_path):
    attrs = 'gene_id "G1"; transcript_id "T1";'
    lines = [
        ("chr1", "FlyBase", "5UTR", 50, 99, ".", "+", ".", attrs),
        ("chr1", "FlyBase", "CDS", 100, 199, ".", "+", "0", attrs),
        ("chr1", "FlyBase", "CDS", 300, 397, ".", "+", "2", attrs),
        ("chr1", "FlyBase", "stop_codon", 398, 400, ".", "+", "0", attrs),
        ("chr1", "FlyBase", "3UTR", 401, 450, ".", "+", ".", attrs),
        ("chr1", "AUGUSTUS", "gene", 50, 450, ".", "+", ".", "G1"),
    ]
    path = write(tmp_path, "".join("\t".join(map(str, r)) + "\n" for r in lines), name="a.gtf")
    assert sniff_format(path) == "gtf"
    tx = only_tx(read_annotation(path))
    assert tx.id == "T1" and tx.gene_id == "G1"
    assert tx.cds == [Segment(100, 199, "+"), Segment(300, 400, "+")]
    assert tx.exons == [Segment(50, 199, "+"), Segment(300, 450, "+")]


def test_gtf_quoted_values_keep_their_semicolons_and_escaped_quotes(tmp_path):
    # '\"' ended a value at the backslash: transcript 'T\' and gene_name 'a\' before
    attrs = r'gene_id "G;1"; note "x; y"; transcript_id "T\"1"; gene_name "a\"b\\c";'
    path = write(tmp_path, f"chr1\tx\tCDS\t1\t30\t.\t+\t0\t{attrs}\n", name="q.gtf")
    gene = next(read_annotation(path).iter_genes())
    assert (gene.id, gene.transcripts[0].id, gene.attributes["Name"]) == ("G;1", 'T"1', 'a"b\\c')


@pytest.mark.parametrize("attrs", ['gene_id "g"; transcript_id "t1;', 'gene_id "g"; transcript_id "t"1";',
                                   'gene_id "a"b"c"; transcript_id "t";'])
def test_unbalanced_gtf_quotes_are_one_clear_error(tmp_path, attrs):
    # read before as whatever the quotes happened to cut out ('"t1', 't', 'a')
    path = write(tmp_path, f'chr1\tx\tgene\t1\t30\t.\t+\t.\tgene_id "g";\nchr1\tx\tCDS\t1\t30\t.\t+\t0\t{attrs}\n',
                 name="u.gtf")
    with pytest.raises(GenomeFormatError, match=r"u.gtf:2: unbalanced quotes in the attributes") as err:
        read_annotation(path)
    assert "\n" not in str(err.value) and str(err.value).endswith("""(a '"' inside a value must be written \\")""")


def test_gtf_stop_codon_split_by_an_intron_on_minus_strand(tmp_path):
    attrs = 'gene_id "G"; transcript_id "T";'
    lines = [
        ("chr1", "x", "CDS", 500, 600, ".", "-", "0", attrs),
        ("chr1", "x", "CDS", 302, 400, ".", "-", "1", attrs),
        ("chr1", "x", "stop_codon", 300, 301, ".", "-", "0", attrs),
        ("chr1", "x", "stop_codon", 200, 200, ".", "-", "1", attrs),
    ]
    path = write(tmp_path, "".join("\t".join(map(str, r)) + "\n" for r in lines), name="b.gtf")
    tx = only_tx(read_annotation(path))
    assert tx.cds == [Segment(500, 600, "-"), Segment(300, 400, "-"), Segment(200, 200, "-")]


def test_gzip_and_crlf(tmp_path):
    text = gff(("chr1", "x", "CDS", 1, 30, ".", "+", "0", "ID=c")).replace("\n", "\r\n")
    tx = only_tx(read_annotation(write(tmp_path, text, gz=True)))
    assert tx.cds == [Segment(1, 30, "+")]


def test_multi_isoform_gene(tmp_path):
    text = gff(
        ("chr1", "x", "gene", 1, 900, ".", "+", ".", "ID=g"),
        ("chr1", "x", "mRNA", 1, 900, ".", "+", ".", "ID=t1;Parent=g"),
        ("chr1", "x", "mRNA", 1, 900, ".", "+", ".", "ID=t2;Parent=g"),
        ("chr1", "x", "CDS", 1, 90, ".", "+", "0", "ID=c1;Parent=t1"),
        ("chr1", "x", "CDS", 1, 60, ".", "+", "0", "ID=c2;Parent=t2"),
        ("chr1", "x", "CDS", 301, 330, ".", "+", "0", "ID=c2;Parent=t2"),
    )
    ann = read_annotation(write(tmp_path, text))
    gene = next(ann.iter_genes())
    assert [t.id for t in gene.transcripts] == ["t1", "t2"] and len(gene.transcripts[1].cds) == 2


def test_percent_encoded_attributes(tmp_path):
    text = gff(
        ("chr1", "x", "gene", 1, 30, ".", "+", ".", "ID=g%3B1;Name=a%2Cb"),
        ("chr1", "x", "CDS", 1, 30, ".", "+", "0", "ID=c;Parent=g%3B1;product=x%3Dy"),
    )
    ann = read_annotation(write(tmp_path, text))
    gene = next(ann.iter_genes())
    assert gene.id == "g;1" and gene.attributes["Name"] == "a,b"
    assert gene.transcripts[0].attributes["product"] == "x=y"


def test_an_encoded_comma_in_a_parent_id_is_part_of_the_id(tmp_path):
    """Parent lists are split on their literal commas before %2C is decoded (GFF3 spec): an ID
    holding a comma (genet5 writes a FASTA header "a;b=c,d" into its IDs so) names one parent."""
    text = gff(
        ("chr1", "x", "gene", 1, 300, ".", "+", ".", "ID=g%2C1"),
        ("chr1", "x", "mRNA", 1, 300, ".", "+", ".", "ID=t%2C1;Parent=g%2C1"),
        ("chr1", "x", "mRNA", 1, 300, ".", "+", ".", "ID=t2;Parent=g%2C1"),
        ("chr1", "x", "CDS", 1, 300, ".", "+", "0", "ID=c;Parent=t%2C1,t2"),
    )
    ann = read_annotation(write(tmp_path, text))
    assert not ann.warnings
    gene = next(ann.iter_genes())
    assert gene.id == "g,1" and sorted(t.id for t in gene.transcripts) == ["t,1", "t2"]
    assert all(t.cds for t in gene.transcripts)


@pytest.mark.parametrize(
    "line, message",
    [
        ("chr1\tx\tCDS\t1\t30\t.\t+\t0", "expected 9 tab-separated columns, found 8"),
        ("chr1\tx\tCDS\tone\t30\t.\t+\t0\tID=c", "non-numeric coordinates"),
        ("chr1\tx\tCDS\t40\t30\t.\t+\t0\tID=c", "invalid coordinates"),
        ("chr1\tx\tCDS\t1\t30\t.\t*\t0\tID=c", "invalid strand"),
        ("chr1\tx\tCDS\t4990\t5010\t.\t+\t0\tID=c", "past the end of chr1"),
    ],
)
def test_bad_lines_name_file_line_and_problem(tmp_path, line, message):
    path = write(tmp_path, HEADER + line + "\n")
    with pytest.raises(GenomeFormatError) as err:
        read_annotation(path)
    assert err.value.line == 3 and message in str(err.value) and str(path) in str(err.value)


def test_parent_cycle_is_an_error(tmp_path):
    text = gff(
        ("chr1", "x", "mRNA", 1, 30, ".", "+", ".", "ID=a;Parent=b"),
        ("chr1", "x", "mRNA", 1, 30, ".", "+", ".", "ID=b;Parent=a"),
        ("chr1", "x", "CDS", 1, 30, ".", "+", "0", "ID=c;Parent=a"),
    )
    with pytest.raises(GenomeFormatError, match="Parent cycle"):
        read_annotation(write(tmp_path, text))


def test_unknown_parent_warns_by_default_and_fails_when_strict(tmp_path):
    text = gff(("chr1", "x", "CDS", 1, 30, ".", "+", "0", "ID=c;Parent=nowhere"))
    path = write(tmp_path, text)
    ann = read_annotation(path)
    assert ann.warnings and "nowhere" in ann.warnings[0]
    assert only_tx(ann).id == "nowhere"
    with pytest.raises(GenomeFormatError, match="unknown Parent 'nowhere'") as err:
        read_annotation(path, strict=True)
    assert err.value.line == 3


def test_tair_protein_alias_parent_is_not_a_second_transcript(tmp_path):
    text = gff(
        ("chr1", "TAIR10", "gene", 1, 90, ".", "+", ".", "ID=AT1"),
        ("chr1", "TAIR10", "mRNA", 1, 90, ".", "+", ".", "ID=AT1.1;Parent=AT1"),
        ("chr1", "TAIR10", "CDS", 1, 90, ".", "+", "0", "Parent=AT1.1,AT1.1-Protein;"),
    )
    ann = read_annotation(write(tmp_path, text))
    assert only_tx(ann).id == "AT1.1"


AUGUSTUS_NATIVE = [  # AUGUSTUS 3.5's default output (abridged): bare-ID gene and transcript rows, then GTF rows
    ("I_0", "AUGUSTUS", "gene", 4118, 10195, "0.2", "-", ".", "g1"),
    ("I_0", "AUGUSTUS", "transcript", 4118, 10195, "0.2", "-", ".", "g1.t1"),
    ("I_0", "AUGUSTUS", "tts", 4118, 4118, ".", "-", ".", 'transcript_id "g1.t1"; gene_id "g1";'),
    ("I_0", "AUGUSTUS", "stop_codon", 4221, 4223, ".", "-", "0", 'transcript_id "g1.t1"; gene_id "g1";'),
    ("I_0", "AUGUSTUS", "intron", 4359, 5194, "0.72", "-", ".", 'transcript_id "g1.t1"; gene_id "g1";'),
    ("I_0", "AUGUSTUS", "CDS", 4221, 4358, "1", "-", "0", 'transcript_id "g1.t1"; gene_id "g1";'),
    ("I_0", "AUGUSTUS", "CDS", 5195, 5296, "0.72", "-", "0", 'transcript_id "g1.t1"; gene_id "g1";'),
    ("I_0", "AUGUSTUS", "start_codon", 5294, 5296, ".", "-", "0", 'transcript_id "g1.t1"; gene_id "g1";'),
]


@pytest.mark.parametrize("name", ["aug.gff", "aug.gff3", "aug.txt"])
def test_augustus_native_output_is_read_as_gtf_whatever_its_name(tmp_path, name):
    """Its first rows carry bare IDs (neither dialect); the GTF rows after them decide, and the
    content wins over a .gff3 name (AUGUSTUS writes to any file it is told)."""
    path = write(tmp_path, "# This output was generated with AUGUSTUS\n" + "".join(
        "\t".join(map(str, r)) + "\n" for r in AUGUSTUS_NATIVE), name=name)
    assert sniff_format(path) == "gtf"
    tx = only_tx(read_annotation(path))
    assert (tx.id, tx.gene_id) == ("g1.t1", "g1")
    assert tx.cds == [Segment(5195, 5296, "-"), Segment(4221, 4358, "-")]


def test_a_gff3_transcript_with_only_codon_rows_is_skipped_not_a_crash(tmp_path):
    text = gff(("chr1", "src", "gene", 100, 400, ".", "+", ".", "ID=G1"),
               ("chr1", "src", "mRNA", 100, 400, ".", "+", ".", "ID=T1;Parent=G1"),
               ("chr1", "src", "CDS", 100, 400, ".", "+", "0", "ID=C1;Parent=T1"),
               ("chr1", "src", "start_codon", 700, 702, ".", "+", "0", "Parent=T2"))
    ann = read_annotation(write(tmp_path, text))
    assert [t.id for t in ann.iter_transcripts()] == ["T1"]


# --- malformed structures: one error line, never a silent guess ------------------------------


@pytest.mark.parametrize("strand", ["?", "."])
@pytest.mark.parametrize("ftype", ["CDS", "stop_codon"])
def test_a_cds_row_without_a_strand_is_an_error(tmp_path, strand, ftype):
    # read as '+' before: the protein of the wrong strand, with no word said. An exon row's
    # strand decides nothing the CDS-based levels read: a '.' there (some ncRNA dialects) is kept
    text = gff(
        ("chr1", "x", "mRNA", 1, 300, ".", "-", ".", "ID=t"),
        ("chr1", "x", "exon", 1, 300, ".", ".", ".", "Parent=t"),
        ("chr1", "x", ftype, 1, 300 if ftype == "CDS" else 3, ".", strand, "0", "Parent=t"),
    )
    path = write(tmp_path, text)
    with pytest.raises(GenomeFormatError) as err:
        read_annotation(path)
    assert err.value.line == 5 and f"strand {strand!r}" in str(err.value)
    gtf = write(tmp_path, f'chr1\tx\t{ftype}\t1\t300\t.\t{strand}\t0\tgene_id "g"; transcript_id "t";\n', name="a.gtf")
    with pytest.raises(GenomeFormatError, match=rf"a.gtf:1: {ftype} row on strand"):
        read_annotation(gtf)
    ok = gff(("chr1", "x", "mRNA", 1, 300, ".", "-", ".", "ID=t"), ("chr1", "x", "exon", 1, 300, ".", strand, ".", "Parent=t"),
             ("chr1", "x", "CDS", 1, 300, ".", "-", "0", "Parent=t"))
    assert [t.cds[0].strand for t in read_annotation(write(tmp_path, ok, name="ok.gff3")).iter_transcripts()] == ["-"]


@pytest.mark.parametrize("rows, said", [
    # a CDS row of the transcript on another sequence (it was moved onto chr1 before)
    ((("chr1", "x", "mRNA", 1, 900, ".", "+", ".", "ID=t"), ("chr1", "x", "CDS", 1, 90, ".", "+", "0", "Parent=t"),
      ("chr2", "x", "CDS", 301, 330, ".", "+", "0", "Parent=t")), "a.gff3:6: CDS row of transcript 't' is on 'chr2'"),
    # the transcript on another sequence than its gene
    ((("chr1", "x", "gene", 1, 900, ".", "+", ".", "ID=g"), ("chr2", "x", "mRNA", 1, 900, ".", "+", ".", "ID=t;Parent=g"),
      ("chr2", "x", "CDS", 1, 90, ".", "+", "0", "Parent=t")), "a.gff3:6: transcript 't' is on 'chr2', but its gene 'g' is on 'chr1'"),
])
def test_a_transcript_on_two_sequences_is_an_error(tmp_path, rows, said):
    text = HEADER + "##sequence-region chr2 1 5000\n" + "".join("\t".join(map(str, r)) + "\n" for r in rows)
    with pytest.raises(GenomeFormatError, match=re.escape(said)):
        read_annotation(write(tmp_path, text))


def test_trans_splicing_and_frameshift_overlaps_stay_allowed(tmp_path):
    text = gff(
        ("chr1", "x", "CDS", 4000, 4114, ".", "-", "0", "ID=rps12;Parent=g1"),  # chloroplast rps12
        ("chr1", "x", "CDS", 1000, 1231, ".", "+", "2", "ID=rps12;Parent=g1"),
        ("chr1", "x", "gene", 1000, 4114, ".", "?", ".", "ID=g1"),
        ("chr1", "x", "CDS", 2000, 3283, ".", "+", "0", "ID=fs;Parent=g2"),  # ribosomal frameshift
        ("chr1", "x", "CDS", 3283, 3294, ".", "+", "0", "ID=fs;Parent=g2"),
        ("chr1", "x", "gene", 2000, 3294, ".", "+", ".", "ID=g2"),
    )
    txs = {t.id: t for t in read_annotation(write(tmp_path, text)).iter_transcripts()}
    assert txs["rps12"].unusual_order and [s.strand for s in txs["rps12"].cds] == ["-", "+"]
    assert txs["fs"].chain() == (("+", 2000, 3283), ("+", 3283, 3294))


@pytest.mark.parametrize("key", ["gene_id", "transcript_id"])
def test_an_empty_gtf_id_is_an_error(tmp_path, key):
    attrs = 'gene_id "g"; transcript_id "t";'.replace(f'{key} "{key[0]}"', f'{key} ""')
    path = write(tmp_path, f"chr1\tx\tCDS\t1\t30\t.\t+\t0\t{attrs}\n" * 2, name="e.gtf")
    with pytest.raises(GenomeFormatError, match=rf"e.gtf:1: CDS row with an empty {key}"):
        read_annotation(path)


def test_percent_encoded_seqids_are_decoded(tmp_path):
    # GFF3 spec: column 1 escapes what is not in [a-zA-Z0-9.:^*$@!+_?-|]; ##sequence-region too
    text = "##gff-version 3\n##sequence-region %23c%252%3Bx 1 500\n" \
        "%23c%252%3Bx\tx\tCDS\t1\t30\t.\t+\t0\tID=c\n"
    ann = read_annotation(write(tmp_path, text))
    assert list(ann.genes) == ["#c%2;x"] and ann.sequence_lengths == {"#c%2;x": 500}
