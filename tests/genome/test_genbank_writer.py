"""GenBank output (genome/genbank_writer.py): what it writes reads back, through genet5's own
GenBank reader and Biopython, as the same genes with the same proteins."""

from pathlib import Path

from Bio import SeqIO

from genet5.genome.extract import SequenceDict, protein_sequence
from genet5.genome.genbank import read_genbank
from genet5.genome.genbank_writer import write_genbank
from genet5.genome.validate import code_for

DATA = Path(__file__).resolve().parents[1] / "data"


def _genes(ann):
    return sorted((t.seqid, t.strand, tuple((s.start, s.end) for s in t.cds), t.start_partial, t.end_partial, t.phase)
                  for t in ann.iter_transcripts() if t.is_coding and not t.pseudo)


def test_written_genes_read_back_the_same(tmp_path):
    # the fixture holds partial ends on both strands, codon_start 2/3, joins, a circular record
    ann, seqs = read_genbank(DATA / "genbank_small.gb")
    genome = SequenceDict(seqs)
    out = tmp_path / "out.gbk"
    n = write_genbank(out, ann, genome, default_code=11)
    back, back_seqs = read_genbank(out)
    assert n == len(_genes(ann)) > 3
    assert _genes(back) == _genes(ann)
    assert back_seqs == seqs and back.circular == ann.circular
    proteins = sorted((t.gene_id, protein_sequence(t, genome, code_for(t, ann, 11))) for t in ann.iter_transcripts()
                      if t.is_coding and not t.pseudo)  # two isoforms share a gene: pairs, not a dict
    written = sorted((f.qualifiers["locus_tag"][0], f.qualifiers["translation"][0])
                     for r in SeqIO.parse(out, "genbank") for f in r.features if f.type == "CDS")
    assert written == proteins


def test_a_converted_annotation_is_not_labelled_a_prediction(tmp_path):
    """`genet5 convert --to genbank` rewrites someone's annotation: no /inference "ab initio
    prediction" on its CDS; genet5's own predictions keep it."""
    from conftest import run_cli

    ann, seqs = read_genbank(DATA / "genbank_small.gb")
    genome = SequenceDict(seqs)
    write_genbank(tmp_path / "pred.gbk", ann, genome, tool="genet5")
    fa = tmp_path / "g.fa"
    fa.write_text("".join(f">{k}\n{v.decode()}\n" for k, v in seqs.items()))
    p = run_cli("convert", DATA / "genbank_small.gb", "-o", tmp_path / "conv.gbk", "--to", "genbank", "-g", fa)
    assert p.returncode == 0, p.stderr
    inference = {name: [f.qualifiers.get("inference") for r in SeqIO.parse(tmp_path / name, "genbank")
                        for f in r.features if f.type == "CDS"] for name in ("pred.gbk", "conv.gbk")}
    assert all(q == ["ab initio prediction:genet5"] for q in inference["pred.gbk"]) and inference["pred.gbk"]
    assert all(q is None for q in inference["conv.gbk"]) and inference["conv.gbk"]


def test_a_eukaryote_gene_is_one_gene_feature_with_an_mrna_per_isoform(tmp_path):
    """A gene with two isoforms and UTRs: one gene feature over the gene's whole extent (it was one
    per isoform, over the CDS only), an mRNA (its exons) and a CDS per isoform, LOCUS division
    UNK (BCT was a bacterium's); a prokaryote's genes: BCT and no mRNA features."""
    from genet5.genome.readers import load_annotation

    seq = ("ACGT" * 30 + "ATGAAACCC" + "GTAAGTTTTTTTTTTTTTTTTCAG" + "GGGTTTTAA" + "ACGT" * 30).encode()
    gff = tmp_path / "euk.gff3"
    gff.write_text("##gff-version 3\n" + "".join("\t".join(r) + "\n" for r in [
        ("c", "t", "gene", "101", "260", ".", "+", ".", "ID=g1"),
        ("c", "t", "mRNA", "101", "260", ".", "+", ".", "ID=t1;Parent=g1"),
        ("c", "t", "exon", "101", "129", ".", "+", ".", "Parent=t1"),
        ("c", "t", "exon", "154", "260", ".", "+", ".", "Parent=t1"),
        ("c", "t", "CDS", "121", "129", ".", "+", "0", "Parent=t1"),
        ("c", "t", "CDS", "154", "162", ".", "+", "0", "Parent=t1"),
        ("c", "t", "mRNA", "110", "250", ".", "+", ".", "ID=t2;Parent=g1"),
        ("c", "t", "exon", "110", "250", ".", "+", ".", "Parent=t2"),
        ("c", "t", "CDS", "121", "153", ".", "+", "0", "Parent=t2"),
    ]))
    ann = load_annotation(gff)
    out = tmp_path / "euk.gbk"
    assert write_genbank(out, ann, SequenceDict({"c": seq}), default_code=1) == 2
    rec = next(SeqIO.parse(out, "genbank"))
    kinds = [(f.type, int(f.location.start) + 1, int(f.location.end)) for f in rec.features]
    assert kinds == [("gene", 101, 260), ("mRNA", 101, 260), ("CDS", 121, 162), ("mRNA", 110, 250), ("CDS", 121, 153)]
    assert rec.annotations["data_file_division"] == "UNK"
    back, _ = read_genbank(out)
    assert _genes(back) == _genes(ann)
    ann_p, seqs = read_genbank(DATA / "genbank_small.gb")
    write_genbank(tmp_path / "p.gbk", ann_p, SequenceDict(seqs), default_code=11)
    recs = list(SeqIO.parse(tmp_path / "p.gbk", "genbank"))
    assert {r.annotations["data_file_division"] for r in recs} == {"BCT"}
    assert not any(f.type == "mRNA" for r in recs for f in r.features)
