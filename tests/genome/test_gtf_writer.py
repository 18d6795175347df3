import os

import pytest

from genet5.genome import gtf_writer
from genet5.genome.gff import read_annotation
from genet5.genome.gtf_writer import split_chain, write_gtf
from genet5.genome.models import Annotation, Gene, Segment, Transcript


def make_tx(tid, gid, seqid, strand, cds, **kw):
    return Transcript(tid, gid, seqid, strand, cds=[Segment(a, b, strand) for a, b in cds], **kw)


def annotation(*txs) -> Annotation:
    ann = Annotation()
    genes = {}
    for t in txs:
        g = genes.get(t.gene_id)
        if g is None:
            g = genes[t.gene_id] = Gene(t.gene_id, t.seqid, t.strand)
            ann.add_gene(g)
        g.transcripts.append(t)
    return ann


def rows(path):
    out = []
    for line in open(path):
        if line.startswith("#"):
            continue
        c = line.rstrip("\n").split("\t")
        assert len(c) == 9
        out.append((c[0], c[2], int(c[3]), int(c[4]), c[6], c[7], c[8]))
    return out


def feats(rs, tid, kind):
    return [(a, b, fr) for s, f, a, b, st, fr, at in rs if f == kind and f'transcript_id "{tid}";' in at]


def test_split_chain():
    segs = [Segment(500, 501, "-"), Segment(300, 312, "-")]
    rest, cut = split_chain(segs, 3, from_end=False)
    assert cut == [Segment(500, 501, "-"), Segment(312, 312, "-")] and rest == [Segment(300, 311, "-")]
    rest, cut = split_chain(segs, 3, from_end=True)
    assert cut == [Segment(300, 302, "-")] and rest == [Segment(500, 501, "-"), Segment(303, 312, "-")]
    rest, cut = split_chain([Segment(101, 113, "+"), Segment(201, 202, "+")], 3, from_end=True)
    assert cut == [Segment(113, 113, "+"), Segment(201, 202, "+")] and rest == [Segment(101, 112, "+")]


def test_plus_strand_stop_split_across_intron(tmp_path):
    t = make_tx("t1", "g1", "chr1", "+", [(101, 113), (201, 202)])
    path = tmp_path / "a.gtf"
    write_gtf(path, annotation(t))
    rs = rows(path)
    assert feats(rs, "t1", "CDS") == [(101, 112, "0")]  # the stop codon is excluded
    assert feats(rs, "t1", "stop_codon") == [(113, 113, "0"), (201, 202, "2")]
    assert feats(rs, "t1", "start_codon") == [(101, 103, "0")]
    assert feats(rs, "t1", "exon") == [(101, 113, "."), (201, 202, ".")]
    assert rs[0][1] == "gene" and rs[0][2:4] == (101, 202)
    assert all('gene_id "g1";' in r[6] for r in rs)


def test_minus_strand_start_split_and_frames(tmp_path):
    # transcription order: 501,500 | 312..300 ; CDS length 15
    t = make_tx("t2", "g2", "chr1", "-", [(500, 501), (300, 312)])
    path = tmp_path / "m.gtf"
    write_gtf(path, annotation(t))
    rs = rows(path)
    assert feats(rs, "t2", "start_codon") == [(312, 312, "1"), (500, 501, "0")]
    assert feats(rs, "t2", "stop_codon") == [(300, 302, "0")]
    # second CDS row: two bases come before it, so one base is skipped to the next codon
    assert feats(rs, "t2", "CDS") == [(303, 312, "1"), (500, 501, "0")]
    starts = [r[2] for r in rs]
    assert starts == sorted(starts)  # rows sorted by position


def test_frames_follow_phase_for_partial_cds(tmp_path):
    t = make_tx("t3", "g3", "chr1", "+", [(10, 20), (30, 40), (50, 60)], phase=2, start_partial=True, end_partial=True)
    path = tmp_path / "p.gtf"
    write_gtf(path, annotation(t))
    rs = rows(path)
    # frames: phase 2; then (2 - 11) % 3 = 0; then (2 - 22) % 3 = 1
    assert feats(rs, "t3", "CDS") == [(10, 20, "2"), (30, 40, "0"), (50, 60, "1")]
    assert feats(rs, "t3", "start_codon") == [] and feats(rs, "t3", "stop_codon") == []


def test_pseudo_transcripts_have_no_cds_rows(tmp_path):
    t = make_tx("t4", "g4", "chr1", "+", [(10, 99)], pseudo=True)
    path = tmp_path / "ps.gtf"
    write_gtf(path, annotation(t))
    rs = rows(path)
    assert {r[1] for r in rs} == {"gene", "transcript", "exon"}
    assert any('transcript_biotype "pseudogene";' in r[6] for r in rs if r[1] == "exon")


def test_sorted_by_sequence_then_position(tmp_path):
    a = make_tx("a", "ga", "chr2", "+", [(500, 700)])
    b = make_tx("b", "gb", "chr1", "+", [(900, 1100)])
    c = make_tx("c", "gc", "chr1", "-", [(100, 300)])
    d = make_tx("d", "gd", "chr2", "+", [(10, 99)])
    path = tmp_path / "s.gtf"
    assert write_gtf(path, annotation(a, b, c, d)) == 4
    genes = [(r[0], r[2]) for r in rows(path) if r[1] == "gene"]
    assert genes == [("chr2", 10), ("chr2", 500), ("chr1", 100), ("chr1", 900)]


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "out.gtf"
    path.write_text("old\n")

    def boom(*a, **k):
        raise RuntimeError("crash")

    monkeypatch.setattr(gtf_writer, "transcript_rows", boom)
    with pytest.raises(RuntimeError):
        write_gtf(path, annotation(make_tx("a", "ga", "chr1", "+", [(1, 9)])))
    assert path.read_text() == "old\n" and os.listdir(tmp_path) == ["out.gtf"]


# --- round trip through the project's GTF reader ---------------------------------------------------


def _round_trip(tmp_path, *txs):
    ann = annotation(*txs)
    path = tmp_path / "rt.gtf"
    write_gtf(path, ann)
    back = read_annotation(path)
    key = lambda t: (t.seqid, t.id, t.gene_id, t.chain(), t.phase)  # noqa: E731
    want = sorted(key(t) for t in ann.iter_transcripts() if t.is_coding and not t.pseudo)
    got = sorted(key(t) for t in back.iter_transcripts() if t.is_coding and not t.pseudo)
    assert got == want


def test_round_trip_common_cases(tmp_path):
    _round_trip(
        tmp_path,
        make_tx("p1", "g1", "chr1", "+", [(101, 113), (201, 202)]),  # stop split by an intron
        make_tx("p2", "g2", "chr1", "+", [(1001, 1100), (1201, 1300), (1401, 1501)]),
        make_tx("m1", "g3", "chr1", "-", [(500, 501), (300, 312)]),  # start split on '-'
        make_tx("m2", "g4", "chr2", "-", [(2000, 2099)]),
        make_tx("m3", "g4", "chr2", "-", [(2000, 2099), (1800, 1900)], phase=1, start_partial=True, end_partial=True),
    )


# Three cases the GTF reader once got wrong (stop pieces, phase, frameshifts).


def test_round_trip_minus_strand_stop_split_by_intron(tmp_path):
    # Stop codon = 1 base at the low end of one exon + 2 bases of the last (as rna-NM_001331725.1
    # in A. thaliana chr1): the reader must put the stop pieces back in transcription order.
    _round_trip(tmp_path, make_tx("m4", "g5", "chr1", "-", [(400, 450), (300, 343), (201, 202)]))


def test_round_trip_single_exon_with_phase(tmp_path):
    # A 5'-partial single-segment CDS with a stop: folding the stop row into the CDS must not
    # lose the phase written on the CDS row.
    _round_trip(tmp_path, make_tx("m5", "g6", "chr1", "-", [(100, 275)], phase=2, start_partial=True))


def test_round_trip_frameshift_overlap(tmp_path):
    # E. coli b0470 (dnaX-like ribosomal frameshift): two CDS parts sharing base 493375.
    _round_trip(tmp_path, make_tx("fs", "g7", "chr1", "+", [(492092, 493375), (493375, 493386)]))


def test_round_trip_real_annotation(shared_genomes):
    path = shared_genomes / "invertebrates/Drosophila_melanogaster_dm6_chr4/annotation.gff3.gz"
    if not path.exists():
        pytest.skip(f"{path} not present")
    ann = read_annotation(path)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "chr4.gtf")
        write_gtf(out, ann)
        back = read_annotation(out)
    want = {(t.seqid, t.id, t.chain()) for t in ann.iter_transcripts() if t.is_coding and not t.pseudo}
    got = {(t.seqid, t.id, t.chain()) for t in back.iter_transcripts() if t.is_coding and not t.pseudo}
    assert len(want) > 200 and got == want


# --- what GTF had no words for: odd sequence names, partial ends, the genetic code ----------------


def test_odd_sequence_names_round_trip(tmp_path):
    # GTF has no escaping rule; writer and reader agree on percent-encoding what breaks a row
    names = ["ctg%1", "#c2", "tab\there", "new\nline", "a;b=c", "x y"]
    ann = annotation(*(make_tx(f"t{i}", f"g{i}", n, "+", [(1, 90)]) for i, n in enumerate(names)))
    path = tmp_path / "n.gtf"
    write_gtf(path, ann)
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + 6 * len(names) and all(ln.count("\t") == 8 for ln in lines[1:])
    assert {ln.split("\t")[0] for ln in lines[1:]} == {"ctg%251", "%23c2", "tab%09here", "new%0Aline", "a;b=c", "x y"}
    assert sorted(read_annotation(path).genes) == sorted(names)


def test_partial_ends_phase_and_code_survive_gff3_to_gtf_to_gff3(tmp_path):
    from genet5.genome.gff3_writer import write_gff3

    five = make_tx("five", "g1", "chr1", "+", [(1, 100), (201, 300)], phase=1, start_partial=True, genetic_code=11)
    three = make_tx("three", "g2", "chr1", "-", [(900, 1000), (500, 600)], end_partial=True, genetic_code=11)
    both = make_tx("both", "g3", "chr1", "+", [(1100, 1150)], phase=2, start_partial=True, end_partial=True, genetic_code=11)
    whole = make_tx("whole", "g4", "chr1", "+", [(1201, 1290)], genetic_code=11)
    first = tmp_path / "a.gff3"
    write_gff3(first, annotation(five, three, both, whole))
    gtf = tmp_path / "a.gtf"
    write_gtf(gtf, read_annotation(first))
    rs = rows(gtf)
    assert feats(rs, "three", "stop_codon") == [] and feats(rs, "both", "stop_codon") == []
    assert feats(rs, "three", "CDS") == [(500, 600, "1"), (900, 1000, "0")]  # a 3'-partial CDS stays whole
    assert 'partial "true"; start_range ".,500";' in [r for r in rs if r[1] == "CDS" and r[2] == 500][0][6]
    again = tmp_path / "b.gff3"
    write_gff3(again, read_annotation(gtf))
    key = lambda t: (t.id, t.chain(), t.phase, t.start_partial, t.end_partial, t.genetic_code)  # noqa: E731
    want = sorted(key(t) for t in read_annotation(first).iter_transcripts())
    back = read_annotation(again)
    assert sorted(key(t) for t in back.iter_transcripts()) == want  # partial flags and table were lost
    assert back.genetic_codes == {"chr1": 11}
    assert again.read_text().count("partial=true") == first.read_text().count("partial=true") == 8


def test_stop_codon_rows_only_over_real_stops_when_the_genome_is_given(tmp_path):
    from genet5.genome.extract import SequenceDict

    # ATG AAA ... then TAA: a CDS that leaves its stop out (worm Y74C9A.3's last CDS row did)
    seq = b"C" * 10 + b"ATG" + b"AAA" * 10 + b"AAT" + b"TAA" + b"C" * 50 + b"ATGAAAGGGTGA" + b"C" * 20
    genome = SequenceDict({"chr1": seq})
    nostop = make_tx("nostop", "g1", "chr1", "+", [(11, 46)])  # ends on AAT; TAA follows at 47..49
    withstop = make_tx("withstop", "g2", "chr1", "+", [(100, 111)])  # ends on TGA
    nothing = make_tx("nothing", "g3", "chr1", "+", [(11, 43)])  # ends on AAA, AAT follows
    cut = make_tx("cut", "g4", "chr1", "+", [(100, 111)], end_partial=True)
    ann = annotation(nostop, withstop, nothing, cut)
    path = tmp_path / "g.gtf"
    write_gtf(path, ann, genome=genome)
    rs = rows(path)
    assert feats(rs, "nostop", "stop_codon") == [(47, 49, "0")] and feats(rs, "nostop", "CDS") == [(11, 46, "0")]
    assert feats(rs, "withstop", "stop_codon") == [(109, 111, "0")] and feats(rs, "withstop", "CDS") == [(100, 108, "0")]
    assert feats(rs, "nothing", "stop_codon") == [] and feats(rs, "nothing", "CDS") == [(11, 43, "0")]
    assert feats(rs, "cut", "stop_codon") == [] and feats(rs, "cut", "CDS") == [(100, 111, "0")]
    assert nostop.cds == [Segment(11, 46, "+")]  # the annotation itself is not changed
    # without the genome the GFF3 convention stands: the last codon is the stop
    write_gtf(path, ann)
    assert feats(rows(path), "nostop", "stop_codon") == [(44, 46, "0")]


def test_a_parentless_mrna_gets_the_ids_and_extent_the_gff3_writer_gives_it(tmp_path):
    from genet5.genome.gff3_writer import write_gff3

    src = tmp_path / "in.gff3"
    src.write_text("##gff-version 3\nchr1\tx\tmRNA\t100\t1000\t.\t+\t.\tID=tx1\n"
                   "chr1\tx\tCDS\t151\t300\t.\t+\t0\tParent=tx1\nchr1\tx\tCDS\t401\t600\t.\t+\t0\tParent=tx1\n")
    ann = read_annotation(src)
    write_gff3(tmp_path / "o.gff3", ann)
    write_gtf(tmp_path / "o.gtf", ann)
    g3 = [ln.split("\t") for ln in (tmp_path / "o.gff3").read_text().splitlines() if not ln.startswith("#")]
    gt = rows(tmp_path / "o.gtf")
    assert [(r[3], r[4], r[8]) for r in g3 if r[2] in ("gene", "mRNA")] == [
        ("100", "1000", "ID=tx1"), ("100", "1000", "ID=tx1.t1;Parent=tx1")]  # the mRNA was its CDS span 151..600
    assert [(r[2], r[3]) for r in gt if r[1] == "gene"] == [(100, 1000)]  # was the CDS span 151..600
    assert [(r[2], r[3]) for r in gt if r[1] in ("transcript", "exon")] == [(100, 1000), (100, 300), (401, 1000)]
    assert {r[6] for r in gt if r[1] != "gene"} == {'gene_id "tx1"; transcript_id "tx1.t1";'}  # was "tx1"
    back = read_annotation(tmp_path / "o.gtf")
    gene = next(back.iter_genes())
    assert (gene.id, gene.start, gene.end, gene.transcripts[0].id) == ("tx1", 100, 1000, "tx1.t1")


def test_ids_with_quotes_and_semicolons_survive_gff3_to_gtf_and_back(tmp_path):
    # ID=ab"c was written raw, `gene_id "ab"c";`, and read back as "ab" (transcript and name alike)
    from conftest import invoke

    src = tmp_path / "q.gff3"
    src.write_text('##gff-version 3\nchr1\tx\tgene\t1\t300\t.\t+\t.\tID=ab"c;Name=x%3By"z\\w\n'
                   'chr1\tx\tmRNA\t1\t300\t.\t+\t.\tID=t%3B"1\\;Parent=ab"c\n'
                   'chr1\tx\tCDS\t1\t300\t.\t+\t0\tParent=t%3B"1\\\n')
    ann = read_annotation(src)
    out = tmp_path / "q.gtf"
    res = invoke("convert", src, "-o", out, "--to", "gtf")
    assert res.exit_code == 0, res.output
    assert {r[6] for r in rows(out) if r[1] == "CDS"} == {'gene_id "ab\\"c"; transcript_id "t;\\"1\\\\"; gene_name "x;y\\"z\\\\w";'}
    ids = lambda a: [(g.id, g.attributes.get("Name"), [t.id for t in g.transcripts]) for g in a.iter_genes()]  # noqa: E731
    assert ids(ann) == [('ab"c', 'x;y"z\\w', ['t;"1\\'])]
    assert ids(read_annotation(out)) == ids(ann)


def test_a_tab_or_newline_in_an_id_is_escaped_not_written_raw(tmp_path):
    # GFF3's %09 / %0A decode to a tab / newline in the ID; written raw into a GTF value they broke
    # the row into more columns (or two lines)
    from conftest import invoke

    src = tmp_path / "c.gff3"
    src.write_text("##gff-version 3\nchr1\tx\tgene\t1\t300\t.\t+\t.\tID=a%09b;Name=n%0Am\n"
                   "chr1\tx\tmRNA\t1\t300\t.\t+\t.\tID=t%0D1;Parent=a%09b\nchr1\tx\tCDS\t1\t300\t.\t+\t0\tParent=t%0D1\n")
    ann = read_annotation(src)
    out = tmp_path / "c.gtf"
    res = invoke("convert", src, "-o", out, "--to", "gtf")
    assert res.exit_code == 0, res.output
    lines = [ln for ln in out.read_text().split("\n") if ln and not ln.startswith("#")]
    assert lines and all(ln.count("\t") == 8 for ln in lines)
    assert 'gene_id "a\\tb"; transcript_id "t\\r1"; gene_name "n\\nm";' in lines[-1]
    ids = lambda a: [(g.id, g.attributes.get("Name"), [t.id for t in g.transcripts]) for g in a.iter_genes()]  # noqa: E731
    assert ids(ann) == [("a\tb", "n\nm", ["t\r1"])]
    assert ids(read_annotation(out)) == ids(ann)
