"""The GFF3 writer: phases on both strands, escaping, a lossless round trip, gt's approval."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from genet5.genome.gff import read_annotation
from genet5.genome.gff3_writer import cds_phases, escape_attr, write_gff3
from genet5.genome.models import Annotation, Gene, Segment, Transcript


def make(strand: str, coords, phase: int = 0) -> Transcript:
    segs = sorted((Segment(s, e, strand) for s, e in coords), key=lambda s: s.start, reverse=strand == "-")
    return Transcript(id="t1", gene_id="g1", seqid="chr1", strand=strand, cds=segs, phase=phase)


def test_phases_plus_and_minus_strand():
    # 100 bases, then 50, then 60: 100 % 3 = 1 leftover -> next phase 2; 150 % 3 = 0 -> 0
    assert cds_phases(make("+", [(1, 100), (201, 250), (301, 360)])) == [0, 2, 0]
    # minus strand: transcription starts at the right-most segment
    t = make("-", [(1, 60), (201, 250), (301, 400)])
    assert [s.start for s in t.cds] == [301, 201, 1]
    assert cds_phases(t) == [0, 2, 0]
    # a 5'-partial CDS starting in phase 1: 100 - 1 = 99 -> next phase 0
    assert cds_phases(make("+", [(1, 100), (201, 300)], phase=1)) == [1, 0]


def test_escaping():
    assert escape_attr("a;b=c,d&e%f\tg") == "a%3Bb%3Dc%2Cd%26e%25f%09g"


def _annotation() -> Annotation:
    ann = Annotation(sequence_lengths={"chr1": 2000})
    g1 = Gene(id="g1", seqid="chr1", strand="-", attributes={"Name": "x;y"})
    t = make("-", [(101, 160), (301, 400)])
    t.exons = [Segment(51, 160, "-"), Segment(301, 450, "-")]
    g1.transcripts.append(t)
    g2 = Gene(id="g2", seqid="chr1", strand="+")
    g2.transcripts.append(Transcript(id="g2", gene_id="g2", seqid="chr1", strand="+", cds=[Segment(1001, 1090, "+")]))
    ann.add_gene(g2)
    ann.add_gene(g1)
    return ann


def test_round_trip_keeps_chains_sorted_and_unique_ids(tmp_path):
    out = tmp_path / "out.gff3"
    write_gff3(out, _annotation())
    text = out.read_text()
    assert text.startswith("##gff-version 3\n##sequence-region chr1 1 2000\n")
    assert "Name=x%3By" in text
    starts = [int(line.split("\t")[3]) for line in text.splitlines() if "\tgene\t" in line]
    assert starts == sorted(starts)
    back = read_annotation(out)
    chains = sorted(t.chain() for t in back.iter_transcripts())
    assert chains == sorted(t.chain() for t in _annotation().iter_transcripts())
    cds_ids = {line.split("ID=")[1].split(";")[0] for line in text.splitlines() if "\tCDS\t" in line and "Parent=g1" not in line}
    assert len(cds_ids) == 2  # one shared ID per transcript's CDS
    gene_and_tx_ids = [line.split("ID=")[1].split(";")[0] for line in text.splitlines() if "\tgene\t" in line or "\tmRNA\t" in line]
    assert len(gene_and_tx_ids) == len(set(gene_and_tx_ids)) == 4


def test_failed_write_leaves_no_file(tmp_path):
    ann = _annotation()
    ann.genes["chr1"][0].transcripts[0].cds = None  # breaks half-way through writing
    out = tmp_path / "out.gff3"
    with pytest.raises(TypeError):
        write_gff3(out, ann)
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.skipif(shutil.which("gt") is None, reason="genometools (gt) not installed; `make test` installs it")
def test_gt_gff3validator_accepts_output(tmp_path):
    out = tmp_path / "out.gff3"
    write_gff3(out, _annotation())
    proc = subprocess.run(["gt", "gff3validator", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_predicted_genes_carry_score_and_start_type_as_prodigal_writes_them(tmp_path):
    """A decoder's gene (predict/genes.py): its score in column 6 of the mRNA and CDS rows and
    Prodigal's start_type on the CDS (the codon, or Edge where the 5' end runs off the
    sequence); a gene without a score (a reference) keeps "."."""
    from genet5.predict.genes import predicted_gene
    from genet5.predict.orf_decoder import OrfGene

    ann = Annotation()
    ann.add_gene(predicted_gene(OrfGene("+", 10, 99, 12.34, False, False, "GTG"), "s", 1, "p"))
    ann.add_gene(predicted_gene(OrfGene("-", 200, 290, 3.0, True, False, ""), "s", 2, "p"))
    ann.add_gene(Gene(id="r", seqid="s", strand="+", transcripts=[
        Transcript(id="r.t1", gene_id="r", seqid="s", strand="+", cds=[Segment(400, 489, "+")])]))
    out = tmp_path / "p.gff3"
    write_gff3(out, ann, {"s": 1000})
    rows = [ln.split("\t") for ln in out.read_text().splitlines() if not ln.startswith("#")]
    cds = {r[3]: r for r in rows if r[2] == "CDS"}
    assert cds["10"][5] == "12.3" and cds["10"][8].endswith("start_type=GTG")
    assert cds["200"][5] == "3.0" and "start_type=Edge" in cds["200"][8] and "partial=true" in cds["200"][8]
    assert cds["400"][5] == "." and "start_type" not in cds["400"][8]
    assert [r[5] for r in rows if r[2] == "mRNA"] == ["12.3", "3.0", "."]


# Sequence names a FASTA may hold: each must come back as it went out (GFF3 spec: column 1 and
# ##sequence-region escape everything outside [a-zA-Z0-9.:^*$@!+_?-|]).
ODD_NAMES = ["ctg%1", "#c2", "a;b=c", "x y", "p&q,r", ">z", "tab\there", "k\u00e4se/1"]


def _named(names) -> Annotation:
    ann = Annotation(sequence_lengths={n: 500 for n in names})
    for i, name in enumerate(names):
        tx = Transcript(id=f"t{i}", gene_id=f"g{i}", seqid=name, strand="+", cds=[Segment(1, 90, "+")])
        ann.add_gene(Gene(id=f"g{i}", seqid=name, strand="+", transcripts=[tx]))
    return ann


def test_odd_sequence_names_round_trip(tmp_path):
    out = tmp_path / "n.gff3"
    write_gff3(out, _named(ODD_NAMES))
    text = out.read_text()
    rows = [ln for ln in text.splitlines() if not ln.startswith("#")]
    assert len(rows) == 4 * len(ODD_NAMES)  # gene, mRNA, exon, CDS: none read as a comment
    assert {r.split("\t")[0] for r in rows} >= {"ctg%251", "%23c2", "a%3Bb%3Dc", "x%20y", "%3Ez", "k%C3%A4se%2F1"}
    back = read_annotation(out)
    assert sorted(back.genes) == sorted(ODD_NAMES) and back.sequence_lengths == {n: 500 for n in ODD_NAMES}
    if shutil.which("gt"):
        proc = subprocess.run(["gt", "gff3validator", str(out)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def test_predicted_odd_names_survive_stats_eval_and_convert(tmp_path):
    """predict -> stats / eval / convert on a FASTA whose names need escaping (stats said
    "sequence 'ctg%251' is not in the genome FASTA", eval of GFF3 against GTF scored 0)."""
    import gzip
    from pathlib import Path

    import genet5
    from conftest import invoke

    example = Path(genet5.__file__).parent / "examples" / "erwinia_phage_MT939486" / "genome.fa.gz"
    with gzip.open(example, "rt") as f:
        seq = "".join(ln.strip() for ln in f if not ln.startswith(">"))
    names = ["ctg%1", "#c2", "a;b=c"]
    fa = tmp_path / "odd.fa"
    fa.write_text("".join(f">{n}\n{seq[i * 12000:(i + 1) * 12000]}\n" for i, n in enumerate(names)))
    gff3, gtf = tmp_path / "p.gff3", tmp_path / "p.gtf"
    res = invoke("predict", fa, "-o", gff3, "--gtf", gtf, "-q")
    assert res.exit_code == 0, res.output
    pred = read_annotation(gff3)
    assert sorted(pred.genes) == sorted(names) and read_annotation(gtf).genes.keys() == pred.genes.keys()
    for ann_file in (gff3, gtf):
        res = invoke("stats", fa, ann_file)
        assert res.exit_code == 0 and "not in the genome" not in res.output, res.output
    res = invoke("eval", gff3, gtf, "--json", tmp_path / "e.json")
    assert res.exit_code == 0, res.output
    import json

    gene = json.loads((tmp_path / "e.json").read_text())["gene"]
    assert gene["f1"] == 1.0 and gene["n_ref"] == gene["n_pred"] > 10  # 0 before
    res = invoke("convert", gtf, "-g", fa, "-o", tmp_path / "c.gff3")
    assert res.exit_code == 0, res.output
    assert sorted(read_annotation(tmp_path / "c.gff3").genes) == sorted(names)


@pytest.mark.parametrize("strand", ["+", "-"])
def test_an_mrna_given_by_its_cds_rows_alone_keeps_its_extent_through_convert(tmp_path, strand):
    # mRNA 100..900 with CDS rows only (no exon rows, no gene row): `convert` wrote it as its CDS
    # span 200..800 and the UTRs its row declares were lost; now its outer exons reach its ends
    from conftest import invoke

    src = tmp_path / "in.gff3"
    src.write_text(f"##gff-version 3\nchr1\t.\tmRNA\t100\t900\t.\t{strand}\t.\tID=t1\n"
                   f"chr1\t.\tCDS\t200\t300\t.\t{strand}\t0\tParent=t1\nchr1\t.\tCDS\t400\t800\t.\t{strand}\t0\tParent=t1\n")
    tx = next(read_annotation(src).iter_transcripts())
    assert (tx.start, tx.end) == (100, 900) and tx.cds_length == 502
    assert sorted((s.start, s.end) for s in tx.exons) == [(100, 300), (400, 900)]
    spans = []
    for n, path in enumerate([src, tmp_path / "out1.gff3"], 1):
        out = tmp_path / f"out{n}.gff3"
        res = invoke("convert", path, "-o", out)
        assert res.exit_code == 0, res.output
        rows = [ln.split("\t") for ln in out.read_text().splitlines() if not ln.startswith("#")]
        spans.append([(r[2], r[3], r[4]) for r in rows if r[2] != "CDS"])
        assert [(r[3], r[4]) for r in rows if r[2] == "CDS"] == [("200", "300"), ("400", "800")]
    assert spans[0] == spans[1] == [("gene", "100", "900"), ("mRNA", "100", "900"),
                                    ("exon", "100", "300"), ("exon", "400", "900")]
    # a row that does not reach past its CDS changes nothing: no exons are made up
    src.write_text("##gff-version 3\nchr1\t.\tmRNA\t200\t800\t.\t+\t.\tID=t1\n"
                   "chr1\t.\tCDS\t200\t300\t.\t+\t0\tParent=t1\nchr1\t.\tCDS\t400\t800\t.\t+\t0\tParent=t1\n")
    assert next(read_annotation(src).iter_transcripts()).exons == []
