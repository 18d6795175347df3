"""The CDS-based metrics on hand-made cases where every number can be counted by hand."""

from __future__ import annotations

import pytest

from genet5.evaluate.compare import compare_files
from genet5.evaluate.metrics import LEVELS, evaluate
from genet5.genome.models import Annotation, Gene, Segment, Transcript


def tx(tid: str, gene: str, strand: str, *coords: tuple[int, int], seqid: str = "chr1") -> Transcript:
    segs = [Segment(s, e, strand) for s, e in coords]
    segs.sort(key=lambda s: s.start, reverse=strand == "-")
    return Transcript(id=tid, gene_id=gene, seqid=seqid, strand=strand, cds=segs)


def ann(*transcripts: Transcript) -> Annotation:
    a = Annotation()
    genes: dict[str, Gene] = {}
    for t in transcripts:
        if t.gene_id not in genes:
            genes[t.gene_id] = Gene(id=t.gene_id, seqid=t.seqid, strand=t.strand)
            a.add_gene(genes[t.gene_id])
        genes[t.gene_id].transcripts.append(t)
    return a


def scores(result, level):
    c = result.total[level]
    return c.sn, c.pr, c.f1


def test_identical_annotations_score_one_everywhere():
    ref = ann(tx("t1", "g1", "+", (1, 90), (201, 290)), tx("t2", "g2", "-", (500, 799)))
    result = evaluate(ref, ref)
    for level in LEVELS:
        assert scores(result, level) == (1.0, 1.0, 1.0), level


def test_hand_case_every_level():
    # reference: g1 two exons (+), g2 one exon (-)
    ref = ann(tx("t1", "g1", "+", (1, 90), (201, 290)), tx("t2", "g2", "-", (500, 799)))
    # prediction: g1 with a wrong second exon end, g2 exact, plus a false gene on +
    pred = ann(
        tx("p1", "h1", "+", (1, 90), (201, 293)),
        tx("p2", "h2", "-", (500, 799)),
        tx("p3", "h3", "+", (1000, 1029)),
    )
    r = evaluate(ref, pred)
    # nucleotide: ref bases 90+90+300 = 480; pred 90+93+300+30 = 513; shared 480
    assert r.total["nucleotide"].found_ref == 480 and r.total["nucleotide"].n_ref == 480
    assert r.total["nucleotide"].n_pred == 513
    assert scores(r, "nucleotide")[:2] == (1.0, 480 / 513)
    # exon: ref {1-90, 201-290, 500-799}; pred {1-90, 201-293, 500-799, 1000-1029}: 2 shared
    assert scores(r, "exon")[:2] == (2 / 3, 2 / 4)
    # transcript and gene: only g2 matches
    assert scores(r, "transcript")[:2] == (1 / 2, 1 / 3)
    assert scores(r, "gene")[:2] == (1 / 2, 1 / 3)
    # stop: ref {(+,290), (-,500)}; pred {(+,293), (-,500), (+,1029)}
    assert scores(r, "stop")[:2] == (1 / 2, 1 / 3)
    assert scores(r, "start_stop")[:2] == (1 / 2, 1 / 3)
    sn, pr, f1 = scores(r, "exon")
    assert f1 == pytest.approx(2 * sn * pr / (sn + pr))


def test_strand_matters():
    ref = ann(tx("t", "g", "+", (1, 300)))
    pred = ann(tx("p", "h", "-", (1, 300)))
    r = evaluate(ref, pred)
    for level in LEVELS:
        assert r.total[level].f1 == 0.0, level


def test_multi_isoform_gene_found_by_any_isoform():
    ref = ann(tx("t1", "g", "+", (1, 90), (201, 290)), tx("t2", "g", "+", (1, 90), (401, 490)))
    pred = ann(tx("p", "h", "+", (1, 90), (401, 490)))
    r = evaluate(ref, pred)
    assert scores(r, "gene")[:2] == (1.0, 1.0)
    assert scores(r, "transcript")[:2] == (0.5, 1.0)
    # nucleotide: ref union 1-90, 201-290, 401-490 = 270; pred 180, all shared
    assert scores(r, "nucleotide")[:2] == (180 / 270, 1.0)


def test_duplicate_chains_count_once_and_non_multiple_of_3_are_dropped():
    ref = ann(tx("t1", "g", "+", (1, 90)), tx("t2", "g", "+", (1, 90)), tx("bad", "g2", "+", (200, 210)))
    pred = ann(tx("p", "h", "+", (1, 90)), tx("bad", "h2", "+", (300, 301)))
    r = evaluate(ref, pred)
    assert r.dropped_ref == 1 and r.dropped_pred == 1
    assert r.total["transcript"].n_ref == 1 and r.total["gene"].n_ref == 1
    assert scores(r, "gene") == (1.0, 1.0, 1.0)


def test_a_gene_predicted_twice_is_one_right_and_one_redundant():
    ref = ann(tx("t1", "g1", "+", (1, 90)), tx("t2", "g2", "+", (301, 390)))
    pred = ann(tx("p1", "h1", "+", (1, 90)), tx("p2", "h2", "+", (1, 90)), tx("p3", "h3", "+", (301, 390)))
    r = evaluate(ref, pred)
    assert (r.total["gene"].correct_pred, r.total["gene"].n_pred, r.total["gene"].found_ref) == (2, 3, 2)
    # two isoforms of one reference gene predicted as two genes: one of them is redundant too
    ref = ann(tx("a", "g", "+", (1, 90)), tx("b", "g", "+", (1, 60), (100, 129)))
    pred = ann(tx("p1", "h1", "+", (1, 90)), tx("p2", "h2", "+", (1, 60), (100, 129)))
    assert evaluate(ref, pred).total["gene"].correct_pred == 1


def test_pseudogenes_are_skipped():
    t = tx("t", "g", "+", (1, 90))
    t.pseudo = True
    r = evaluate(ann(t), ann(tx("p", "h", "+", (1, 90))))
    assert r.total["gene"].n_ref == 0 and r.total["gene"].n_pred == 1


def test_per_sequence_and_micro_total():
    ref = ann(tx("a", "g1", "+", (1, 90), seqid="c1"), tx("b", "g2", "+", (1, 90), seqid="c2"))
    pred = ann(tx("p", "h1", "+", (1, 90), seqid="c1"))
    r = evaluate(ref, pred)
    assert r.per_sequence["c1"]["gene"].f1 == 1.0 and r.per_sequence["c2"]["gene"].f1 == 0.0
    assert scores(r, "gene")[:2] == (0.5, 1.0)


# A genome where the stop codon is the question: one gene on each strand.
#   + gene: ATG AAA TAA at 11..19;  - gene: reverse complement of ATG CCC TGA at 41..49
PLUS = "ATGAAATAA"
MINUS_RC = "TCAGGGCAT"  # revcomp of ATGCCCTGA
SEQ = "C" * 10 + PLUS + "C" * 21 + MINUS_RC + "C" * 11


def test_gtf_without_stop_rows_matches_gff3_with_stop_given_the_genome(tmp_path):
    fasta = tmp_path / "g.fa"
    fasta.write_text(f">chr1\n{SEQ}\n")
    gff3 = tmp_path / "ref.gff3"
    gff3.write_text(
        "##gff-version 3\n"
        "chr1\tx\tCDS\t11\t19\t.\t+\t0\tID=c1\n"
        "chr1\tx\tCDS\t41\t49\t.\t-\t0\tID=c2\n"
    )
    gtf = tmp_path / "pred.gtf"  # CDS rows exclude the stop codon, as GTF does
    gtf.write_text(
        'chr1\tx\tCDS\t11\t16\t.\t+\t0\tgene_id "g1"; transcript_id "t1";\n'
        'chr1\tx\tCDS\t44\t49\t.\t-\t0\tgene_id "g2"; transcript_id "t2";\n'
    )
    with_genome = compare_files(gff3, gtf, fasta).result
    assert with_genome.stops_added_pred == 2 and with_genome.stops_added_ref == 0
    for level in LEVELS:
        assert with_genome.total[level].f1 == 1.0, level
    without = compare_files(gff3, gtf).result
    assert without.total["exon"].f1 == 0.0
    # without the genome the mismatch is seen: both predicted 3' ends lie a codon from the reference's
    assert without.stops_codon_apart == 2 and with_genome.stops_codon_apart == 0


def test_eval_says_when_the_stop_codon_conventions_differ(tmp_path):
    """`genet5 eval` without --genome notes predicted CDS ends a codon from the reference's (a GTF
    without stop rows against a GFF3 with them); with the files alike, or the genome, no note."""
    from conftest import run_cli

    ref, pred = tmp_path / "ref.gff3", tmp_path / "pred.gtf"
    ref.write_text("##gff-version 3\n" + "".join(f"chr1\tx\tCDS\t{100 * i + 1}\t{100 * i + 30}\t.\t+\t0\tID=c{i}\n"
                                                  for i in range(5)))
    pred.write_text("".join(f'chr1\tx\tCDS\t{100 * i + 1}\t{100 * i + 27}\t.\t+\t0\tgene_id "g{i}"; transcript_id "t{i}";\n'
                            for i in range(5)))
    said = run_cli("eval", ref, pred)
    assert said.returncode == 0 and "note: 5 of 5 predicted CDS end a codon away" in said.stdout + said.stderr
    same = run_cli("eval", ref, ref)
    assert same.returncode == 0 and "a codon away" not in same.stdout + same.stderr


def test_ids_reused_on_each_sequence_stay_separate_genes(tmp_path):
    # One AUGUSTUS run per chromosome, concatenated: g1/g1.t1 exists on both sequences.
    gff3 = tmp_path / "pred.gff3"
    gff3.write_text(
        "##gff-version 3\n"
        "c1\tAUGUSTUS\tgene\t1\t90\t.\t+\t.\tID=g1\n"
        "c1\tAUGUSTUS\tmRNA\t1\t90\t.\t+\t.\tID=g1.t1;Parent=g1\n"
        "c1\tAUGUSTUS\tCDS\t1\t90\t.\t+\t0\tID=g1.t1.cds;Parent=g1.t1\n"
        "c2\tAUGUSTUS\tgene\t11\t100\t.\t-\t.\tID=g1\n"
        "c2\tAUGUSTUS\tmRNA\t11\t100\t.\t-\t.\tID=g1.t1;Parent=g1\n"
        "c2\tAUGUSTUS\tCDS\t11\t100\t.\t-\t0\tID=g1.t1.cds;Parent=g1.t1\n"
    )
    gtf = tmp_path / "pred.gtf"
    gtf.write_text(
        'c1\tAUGUSTUS\tCDS\t1\t90\t.\t+\t0\tgene_id "g1"; transcript_id "g1.t1";\n'
        'c2\tAUGUSTUS\tCDS\t11\t100\t.\t-\t0\tgene_id "g1"; transcript_id "g1.t1";\n'
    )
    ref = ann(tx("a", "ga", "+", (1, 90), seqid="c1"), tx("b", "gb", "-", (11, 100), seqid="c2"))
    from genet5.genome.gff import read_annotation

    for path in (gff3, gtf):
        pred = read_annotation(path)
        got = {s: [(g.id, [t.id for t in g.transcripts], g.strand) for g in gs] for s, gs in pred.genes.items()}
        assert got == {"c1": [("g1", ["g1.t1"], "+")], "c2": [("g1", ["g1.t1"], "-")]}, path
        r = evaluate(ref, pred)
        for level in LEVELS:
            assert scores(r, level) == (1.0, 1.0, 1.0), (path, level)


def test_two_genes_sharing_an_id_on_one_sequence_count_as_two():
    ref = ann(tx("a", "g1", "+", (1, 90)), tx("b", "g2", "+", (301, 390)))
    pred = Annotation()
    for t in (tx("p", "g", "+", (1, 90)), tx("q", "g", "+", (601, 690))):  # one right, one wrong
        g = Gene(id="g", seqid="chr1", strand="+")
        g.transcripts.append(t)
        pred.add_gene(g)
    assert scores(evaluate(ref, pred), "gene") == (0.5, 0.5, 0.5)


def test_parallel_load_gives_the_same_result_and_the_same_error(tmp_path, monkeypatch):
    import genet5.evaluate.compare as compare
    from genet5.genome.models import GenomeFormatError

    ref = tmp_path / "ref.gff3"
    ref.write_text("##gff-version 3\nchr1\tx\tCDS\t11\t19\t.\t+\t0\tID=c1\nchr1\tx\tCDS\t41\t49\t.\t-\t0\tID=c2\n")
    pred = tmp_path / "pred.gff3"
    pred.write_text("##gff-version 3\nchr1\tx\tCDS\t11\t19\t.\t+\t0\tID=p1\n")
    serial = compare.compare_files(ref, pred).result
    monkeypatch.setattr(compare, "_PARALLEL_LOAD_BYTES", 0)  # force the worker process
    parallel = compare.compare_files(ref, pred).result
    assert {k: (c.sn, c.pr) for k, c in parallel.total.items()} == {k: (c.sn, c.pr) for k, c in serial.total.items()}
    bad = tmp_path / "bad.gff3"
    bad.write_text("##gff-version 3\nchr1\tx\tCDS\t11\t19\t.\t+\t0\n")
    with pytest.raises(GenomeFormatError) as err:
        compare.compare_files(ref, bad)
    assert (err.value.line, "expected 9 tab-separated columns" in err.value.problem) == (2, True)


def test_a_gene_of_disjoint_loci_counts_once_per_locus():
    """Grouping every prediction under one gene must not buy gene precision: each locus (same
    strand, CDS spans overlapping transitively) of a gene counts as a gene, on both sides."""
    ref = ann(tx("a", "g1", "+", (1, 90)), tx("b", "g2", "+", (301, 390)), tx("c", "g3", "-", (1301, 1390)))
    one_each = ann(tx("p", "h1", "+", (1, 90)), tx("q", "h2", "+", (601, 690)), tx("r", "h3", "-", (1301, 1390)))
    grouped = ann(tx("p", "h", "+", (1, 90)), tx("q", "h", "+", (601, 690)), tx("r", "h", "-", (1301, 1390)))
    assert scores(evaluate(ref, one_each), "gene")[:2] == (2 / 3, 2 / 3)
    r = evaluate(ref, grouped)
    assert scores(r, "gene")[:2] == (2 / 3, 2 / 3)  # not 1 predicted gene, right
    assert (r.genes_split_ref, r.genes_split_pred) == (0, 1)
    assert r.as_dict()["genes_split_into_loci"] == {"reference": 0, "prediction": 1}
    # the reference side too: one "gene" of two disjoint loci is two genes to find
    r = evaluate(grouped, ann(tx("p", "h1", "+", (1, 90))))
    assert (r.total["gene"].n_ref, r.total["gene"].found_ref, r.genes_split_ref) == (3, 1, 1)


def test_overlapping_isoforms_stay_one_gene():
    # a overlaps b, b overlaps c, a and c do not: one locus, transitively
    g = ann(tx("a", "g", "+", (1, 90)), tx("b", "g", "+", (61, 150)), tx("c", "g", "+", (121, 210)))
    r = evaluate(g, ann(tx("p", "h", "+", (1, 90))))
    assert (r.total["gene"].n_ref, r.genes_split_ref) == (1, 0)
    assert scores(r, "gene")[:2] == (1.0, 1.0)


def test_cds_written_as_abutting_rows_is_one_segment():
    """400-500 + 501-600 in one transcript is the exon 400-600 and the same protein, either
    strand, either side; overlapping segments (a ribosomal frameshift) stay two."""
    ref = ann(tx("t1", "g1", "+", (151, 300), (400, 600), (700, 900)), tx("t2", "g2", "-", (2000, 2299), (2500, 3000)))
    pred = ann(tx("p1", "h1", "+", (151, 300), (400, 500), (501, 600), (700, 900)),
               tx("p2", "h2", "-", (2000, 2149), (2150, 2299), (2500, 3000)))
    for a, b in ((ref, pred), (pred, ref), (pred, pred)):
        r = evaluate(a, b)
        for level in LEVELS:
            assert scores(r, level) == (1.0, 1.0, 1.0), level
    shift = ann(tx("t", "g", "+", (400, 500), (500, 600)))  # 201 + 101 bases, read -1 at 500
    whole = ann(tx("p", "h", "+", (400, 600), (700, 800)))
    r = evaluate(shift, whole)
    assert r.total["exon"].found_ref == 0 and r.total["transcript"].found_ref == 0


def test_eval_reports_genes_split_into_loci(tmp_path):
    from conftest import run_cli
    import json

    ref, pred, out = tmp_path / "ref.gff3", tmp_path / "pred.gff3", tmp_path / "e.json"
    ref.write_text("##gff-version 3\nchr1\tx\tCDS\t1\t90\t.\t+\t0\tID=c1;Parent=t1\n"
                   "chr1\tx\tCDS\t1001\t1090\t.\t-\t0\tID=c2;Parent=t2\n")
    # two mRNAs under one gene, on both strands 1 kb apart
    pred.write_text("##gff-version 3\nchr1\tx\tgene\t1\t1090\t.\t+\t.\tID=G\n"
                    "chr1\tx\tmRNA\t1\t90\t.\t+\t.\tID=m1;Parent=G\nchr1\tx\tCDS\t1\t90\t.\t+\t0\tParent=m1\n"
                    "chr1\tx\tmRNA\t1001\t1090\t.\t-\t.\tID=m2;Parent=G\nchr1\tx\tCDS\t1001\t1090\t.\t-\t0\tParent=m2\n")
    said = run_cli("eval", ref, pred, "--json", out)
    text = " ".join((said.stdout + said.stderr).split())
    assert said.returncode == 0 and "genes split into loci" in text and "reference 0, prediction 1" in text, text
    got = json.loads(out.read_text())
    assert got["genes_split_into_loci"] == {"reference": 0, "prediction": 1}
    assert (got["gene"]["n_pred"], got["gene"]["correct_pred"], got["gene"]["n_ref"]) == (2, 2, 2)
