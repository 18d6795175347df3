"""`genet5 predict` for prokaryotes through the installed entry point: modes, genetic code
choice, and what the GFF3 carries (usage errors: test_entry_point.py)."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import pytest

import genet5
from conftest import CLI, run_cli, shared_file

EXAMPLE = Path(genet5.__file__).parent / "examples" / "erwinia_phage_MT939486"
def piece(tmp_path: Path, n: int, name="piece.fa") -> Path:
    with gzip.open(EXAMPLE / "genome.fa.gz", "rt") as f:
        seq = "".join(ln.strip() for ln in f if not ln.startswith(">"))
    out = tmp_path / name
    out.write_text(">piece\n" + seq[:n] + "\n")
    return out


def test_only_n_and_single_mode_on_a_short_genome_fail_cleanly(tmp_path):
    n_only = tmp_path / "n.fa"
    n_only.write_text(">n\n" + "N" * 500 + "\n")
    p = run_cli("predict", n_only, "-o", tmp_path / "n.gff3", "-q")
    assert p.returncode == 2 and "only N" in p.stderr and not (tmp_path / "n.gff3").exists()
    protein = tmp_path / "prot.fa"
    protein.write_text(">p1\nMKVLAAGIVGLLLAQEEPFTRWSTY\n")
    p = run_cli("predict", protein, "-o", tmp_path / "p.gff3", "-q")
    assert p.returncode == 2 and "protein FASTA" in p.stderr and not (tmp_path / "p.gff3").exists()
    short = piece(tmp_path, 500)
    p = run_cli("predict", short, "-o", tmp_path / "s.gff3", "--mode", "single", "-q")
    assert p.returncode == 2 and "use --meta" in p.stderr and not (tmp_path / "s.gff3").exists()
    p = run_cli("predict", short, "-o", tmp_path / "s.gff3", "--meta", "--mode", "single", "-q")
    assert p.returncode == 2 and "contradict" in p.stderr and not (tmp_path / "s.gff3").exists()
    p = run_cli("predict", short, "-o", tmp_path / "s.gff3", "--meta")  # Prodigal's -p meta, by its issue's name
    assert p.returncode == 0, p.stderr
    assert "meta mode" in " ".join(p.stderr.split())


@pytest.mark.slow
def test_meta_mode_on_a_short_piece_writes_valid_annotated_gff3(tmp_path):
    fa = piece(tmp_path, 15_000)
    out = tmp_path / "p.gff3"
    p = run_cli("predict", fa, "-o", out, "--threads", "2")
    assert p.returncode == 0, p.stderr
    assert "meta mode" in " ".join(p.stderr.split())
    text = out.read_text()
    assert text.startswith("##gff-version 3\n# genet5 ")
    cds = [ln for ln in text.splitlines() if "\tCDS\t" in ln]
    assert len(cds) >= 15 and all("transl_table=11" in ln for ln in cds)
    # genes cut by the piece's ends are partial on the CDS row
    assert any("partial=true" in ln for ln in cds)
    # Prodigal's rbs_motif / rbs_spacer on every gene with a start codon (a phage: most have one)
    started = [ln for ln in cds if "start_type=Edge" not in ln]
    assert all("rbs_motif=" in ln and "rbs_spacer=" in ln for ln in started)
    assert sum("rbs_motif=None" not in ln for ln in started) > len(started) / 2


@pytest.mark.slow
@pytest.mark.parametrize("genome, table", [("prokaryotes/Mycoplasmoides_alvi_ATCC29626", 4),
                                           ("prokaryotes/Escherichia_coli_K12_MG1655", 11),
                                           # TGA is its commonest stop: the rule before 2026-12-05 chose 4
                                           ("archaea/Thermococcus_kodakarensis_KOD1", 11)])
def test_auto_genetic_code(genome, table, tmp_path):
    fa = shared_file(f"{genome}/genome.fa.gz")
    out = tmp_path / "p.gff3"
    p = run_cli("predict", fa, "-o", out, "-g", "auto", "--no-network")
    assert p.returncode == 0, p.stderr
    assert f"genetic code {table} chosen" in " ".join(p.stderr.split())  # rich wraps long lines
    assert f"transl_table={table}" in out.read_text()


def _recoded(genome: Path, annotation: Path, out: Path, rich: str) -> float:
    """E. coli recoded towards `rich` ("GC" or "AT"), its richest synonymous codons, all
    intergenic bases moved: bench/prokaryote/synthetic_gc.py's recode (the benchmark's genomes)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "prokaryote"))
    from synthetic_gc import recode

    return recode(genome, annotation, out, rich)


@pytest.mark.slow
def test_an_at_rich_table_11_genome_keeps_table_11(tmp_path):
    """Without -g a genome whose genes read on past TGA is decoded again under table 4. An
    AT-rich bacterium (TAA its commonest stop, TGA rare) must not read so: E. coli recoded to
    ~32% G+C (its TGA stops kept) keeps table 11, and its domain."""
    fa = tmp_path / "at_rich.fa"
    gc = _recoded(shared_file("prokaryotes/Escherichia_coli_K12_MG1655/genome.fa.gz"),
                  shared_file("prokaryotes/Escherichia_coli_K12_MG1655/annotation.gff3.gz"), fa, "AT")
    assert gc < 0.36
    out = tmp_path / "p.gff3"
    p = run_cli("predict", fa, "-o", out)
    assert p.returncode == 0, p.stderr
    said = " ".join(p.stderr.split())
    assert "genetic code 4" not in said and "domain prokaryote chosen" in said
    text = out.read_text()
    assert "transl_table=11" in text and "transl_table=4" not in text


@pytest.mark.slow
def test_a_gc_rich_genome_is_found_from_its_gc_frame(tmp_path):
    """E. coli recoded GC-rich (G+C ~0.68, third codon positions ~all G/C, G/C between genes):
    stops are rare off frame, long ORFs run through genes in the wrong frames, and self-training
    started from the long-ORF guess found half the genes (stop F1 0.54). Started from the GC
    frame plot, as Prodigal starts (settings.bootstrap_gc_frame), it finds them (0.98; Prodigal
    0.96)."""
    from genet5.evaluate.compare import compare_files

    ref = shared_file("prokaryotes/Escherichia_coli_K12_MG1655/annotation.gff3.gz")
    fa = tmp_path / "gc_rich.fa"
    assert _recoded(shared_file("prokaryotes/Escherichia_coli_K12_MG1655/genome.fa.gz"), ref, fa, "GC") > 0.66
    out = tmp_path / "p.gff3"
    p = run_cli("predict", fa, "-o", out, "-q")
    assert p.returncode == 0, p.stderr
    scores = compare_files(ref, out, fa).result.total
    assert scores["stop"].f1 > 0.95, scores["stop"].f1


@pytest.mark.slow
def test_mycoplasma_without_a_table_gets_table_4(tmp_path):
    """No -g at all: the table-11 decoding shows TGA read as tryptophan, so the genes are
    decoded again under table 4 (docs/benchmarks.md, "-g auto")."""
    fa = shared_file("prokaryotes/Mycoplasmoides_alvi_ATCC29626/genome.fa.gz")
    out = tmp_path / "p.gff3"
    p = run_cli("predict", fa, "-o", out, "-q")  # -q silences the summary, not this
    assert p.returncode == 0, p.stderr
    said = " ".join(p.stderr.split())
    assert said.startswith("note: genetic code 4 chosen from the genome") and "pass -g 11 to keep table 11" in said
    assert len(p.stderr.strip().splitlines()) == 1
    text = out.read_text()
    assert "genetic code 4" in text.splitlines()[1] and "transl_table=11" not in text


def test_organelle_headers_choose_the_prokaryote_decoder(tmp_path):
    """A plastid is decoded as a prokaryote (table 11); a mitochondrion needs its lineage's table
    (one clear line, no output), and with -g 1 (plants) is decoded as a prokaryote too, not as
    the nuclear eukaryote -g 1 means otherwise."""
    seq = piece(tmp_path, 60_000).read_text().split("\n", 1)[1]
    plastid = tmp_path / "cp.fa"
    plastid.write_text(">NC_1 Some plant chloroplast, complete genome\n" + seq)
    p = run_cli("predict", plastid, "-o", tmp_path / "cp.gff3")
    said = " ".join(p.stderr.split())
    assert p.returncode == 0 and "name a plastid genome" in said and "transl_table=11" in (tmp_path / "cp.gff3").read_text()
    mito = tmp_path / "mt.fa"
    mito.write_text(">NC_2 Some plant mitochondrion, complete genome\n" + seq)
    p = run_cli("predict", mito, "-o", tmp_path / "mt.gff3")
    assert p.returncode == 2 and "give it with -g" in p.stderr and not (tmp_path / "mt.gff3").exists()
    assert len(p.stderr.strip().splitlines()) == 1
    p = run_cli("predict", mito, "-o", tmp_path / "mt.gff3", "-g", "1")
    assert p.returncode == 0, p.stderr
    header = (tmp_path / "mt.gff3").read_text().splitlines()[1]
    assert "domain prokaryote (auto: the FASTA headers name a mitochondrion genome" in header and "genetic code 1" in header


def test_genome_from_standard_input(tmp_path):
    """`-` reads the genome from a pipe (as Prodigal does), gzip or plain: the genes of the
    file itself; a bad stream is one line naming standard input, and no output is left."""
    from_file = run_cli("predict", EXAMPLE / "genome.fa.gz", "-o", tmp_path / "file.gff3", "-q")
    assert from_file.returncode == 0, from_file.stderr
    packed = (EXAMPLE / "genome.fa.gz").read_bytes()
    for name, data in (("gz", packed), ("plain", gzip.decompress(packed))):
        p = subprocess.run([*CLI, "predict", "-", "-o", str(tmp_path / f"{name}.gff3"), "-q"], input=data, capture_output=True, timeout=300)
        assert p.returncode == 0, p.stderr
        genes = [ln for ln in (tmp_path / f"{name}.gff3").read_text().splitlines() if not ln.startswith("#")]
        assert genes == [ln for ln in (tmp_path / "file.gff3").read_text().splitlines() if not ln.startswith("#")]
    p = subprocess.run([*CLI, "predict", "-", "-o", str(tmp_path / "bad.gff3"), "-q"], input=packed[:2000], capture_output=True, timeout=60)
    err = p.stderr.decode()
    assert p.returncode == 2 and len(err.strip().splitlines()) == 1 and "standard input" in err and "truncated gzip" in err
    assert not (tmp_path / "bad.gff3").exists()


def test_closed_writes_complete_genes_only(tmp_path):
    """-c / --closed (Prodigal's -c): no gene runs off the sequence's ends, where by default the
    genes cut there are written partial; a eukaryote run refuses it."""
    # 60 kb beginning in the middle of the example's longest gene: that gene runs off the 5' end
    with gzip.open(EXAMPLE / "genome.fa.gz", "rt") as f:
        seq = "".join(ln.strip() for ln in f if not ln.startswith(">"))
    with gzip.open(EXAMPLE / "annotation.gff3.gz", "rt") as f:
        cds = [ln.split("\t") for ln in f if "\tCDS\t" in ln]
    lo, hi = max(((int(c[3]), int(c[4])) for c in cds if int(c[3]) > 1000), key=lambda x: x[1] - x[0])
    genome = tmp_path / "cut.fa"
    genome.write_text(">cut\n" + seq[(lo + hi) // 2 : (lo + hi) // 2 + 60_000] + "\n")
    runs = {}
    for name, extra in (("open", []), ("closed", ["-c"])):
        p = run_cli("predict", genome, "-o", tmp_path / f"{name}.gff3", "--domain", "prokaryote", "-q", *extra)
        assert p.returncode == 0, p.stderr
        runs[name] = [ln for ln in (tmp_path / f"{name}.gff3").read_text().splitlines() if "\tCDS\t" in ln]
    assert any("partial=" in ln for ln in runs["open"])
    assert runs["closed"] and not any("partial" in ln for ln in runs["closed"])
    p = run_cli("predict", genome, "-o", tmp_path / "e.gff3", "-g", "1", "--closed", "-q")
    assert p.returncode == 2 and "--closed" in p.stderr and not (tmp_path / "e.gff3").exists()


def test_training_file_written_then_used(tmp_path):
    """-t / --training (Prodigal's -t): a file that does not exist is written from the genome's
    single-mode self-training, with the outputs; one that exists decodes another input with its
    parameters (mode training in the header); misuse is one line and no output."""
    trn = tmp_path / "phage.trn"
    p = run_cli("predict", EXAMPLE / "genome.fa.gz", "-o", tmp_path / "whole.gff3", "-t", trn)
    assert p.returncode == 0, p.stderr
    assert trn.is_file() and "wrote the training file" in " ".join(p.stderr.split())
    # as Prodigal's: the genome the file was written from decodes with it to the same genes
    p = run_cli("predict", EXAMPLE / "genome.fa.gz", "-o", tmp_path / "again.gff3", "-t", trn, "-q")
    assert p.returncode == 0, p.stderr
    rows = [[ln for ln in (tmp_path / name).read_text().splitlines() if not ln.startswith("#")]
            for name in ("whole.gff3", "again.gff3")]
    assert rows[0] == rows[1] and len(rows[0]) > 1000
    short = piece(tmp_path, 15_000)
    p = run_cli("predict", short, "-o", tmp_path / "piece.gff3", "--training", trn, "-q")
    assert p.returncode == 0, p.stderr
    text = (tmp_path / "piece.gff3").read_text()
    assert "mode training" in text.splitlines()[1]
    assert sum("\tCDS\t" in ln for ln in text.splitlines()) >= 15
    for extra, expect in ((["-g", "4"], "trained under table 11"), (["--meta"], "--mode meta")):
        p = run_cli("predict", short, "-o", tmp_path / "bad.gff3", "-t", trn, "-q", *extra)
        assert p.returncode == 2 and expect in p.stderr and not (tmp_path / "bad.gff3").exists(), p.stderr
    p = run_cli("predict", short, "-o", tmp_path / "bad.gff3", "-t", short, "-q")  # not a training file
    assert p.returncode == 2 and "not a genet5 training file" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    p = run_cli("predict", short, "-o", tmp_path / "bad.gff3", "-t", tmp_path / "new.trn", "--meta", "-q")
    assert p.returncode == 2 and not (tmp_path / "new.trn").exists() and not (tmp_path / "bad.gff3").exists()


def test_without_output_genes_go_to_stdout_and_a_training_run_writes_only_its_file(tmp_path):
    """As Prodigal: no -o writes the annotation to standard output (`prodigal -i g.fna > g.gbk`),
    and -t naming a new file with no -o is a training run: the file, and nothing on stdout."""
    short = piece(tmp_path, 30_000)
    p = run_cli("predict", short, "-q", stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("##gff-version 3") and p.stdout.count("\tCDS\t") >= 20
    trn = tmp_path / "piece.trn"
    p = run_cli("predict", short, "-t", trn, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    assert trn.is_file() and p.stdout == ""
    said = " ".join(p.stderr.split())
    assert "wrote the training file" in said and "wrote GFF3" not in said
    assert sorted(x.name for x in tmp_path.iterdir()) == ["piece.fa", "piece.trn"]
    p = run_cli("predict", short, "--proteins", "-", "-q", stdin=subprocess.DEVNULL)  # two things to stdout
    assert p.returncode == 2 and p.stdout == "" and "no -o" in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_prodigal_style_fasta_headers(tmp_path):
    """--fasta-headers prodigal: >SEQID_N # START # END # 1|-1 # ID=1_N;partial=..;start_type=..;
    rbs_motif=..;rbs_spacer=..;gc_cont=.. on --proteins and --cds, the genes of the GFF3 in order,
    the same sequences as the default headers carry."""
    import re

    short = piece(tmp_path, 15_000)
    runs = {}
    for style in ("genet5", "prodigal"):
        p = run_cli("predict", short, "-o", tmp_path / f"{style}.gff3", "--proteins", tmp_path / f"{style}.faa",
                    "--cds", tmp_path / f"{style}.fna", "--fasta-headers", style, "-q")
        assert p.returncode == 0, p.stderr
        recs = (tmp_path / f"{style}.faa").read_text().split(">")[1:]
        runs[style] = [(r.split("\n", 1)[0], r.split("\n", 1)[1].replace("\n", "")) for r in recs]
    # Prodigal ends the protein of a gene with its stop codon in '*'
    assert [s.removesuffix("*") for _, s in runs["prodigal"]] == [s for _, s in runs["genet5"]]
    cds = [ln.split("\t") for ln in (tmp_path / "prodigal.gff3").read_text().splitlines() if "\tCDS\t" in ln]
    head = re.compile(r"^piece_(\d+) # (\d+) # (\d+) # (1|-1) # ID=1_(\d+);partial=([01]{2});start_type=(\w+);"
                      r"(rbs_motif=\w+;rbs_spacer=\w+;)?gc_cont=0\.\d{3}$")
    for n, ((h, protein), row) in enumerate(zip(runs["prodigal"], cds), 1):
        m = head.match(h)
        assert m, h
        has_stop = m.group(6) in ("00", "10" if m.group(4) == "1" else "01")  # the gene's 3' end is not cut
        assert protein.endswith("*") == has_stop, h
        assert int(m.group(1)) == int(m.group(5)) == n
        assert m.group(4) == ("1" if row[6] == "+" else "-1")
        if m.group(6) == "00":  # a cut end: Prodigal's START/END are the whole codons' (test_writers_fasta.py)
            assert (m.group(2), m.group(3)) == (row[3], row[4])
    assert (tmp_path / "prodigal.fna").read_text().startswith(">piece_1 # ")


def test_genbank_output_holds_the_gff3_genes_and_the_proteins(tmp_path):
    from Bio import SeqIO

    short = piece(tmp_path, 15_000)
    p = run_cli("predict", short, "-o", tmp_path / "p.gff3", "--genbank", tmp_path / "p.gbk", "--proteins",
                tmp_path / "p.faa", "-q")
    assert p.returncode == 0, p.stderr
    (rec,) = SeqIO.parse(tmp_path / "p.gbk", "genbank")
    assert len(rec.seq) == 15_000 and rec.id == "piece"
    cds = [f for f in rec.features if f.type == "CDS"]
    rows = [ln.split("\t") for ln in (tmp_path / "p.gff3").read_text().splitlines() if "\tCDS\t" in ln]
    assert [(int(f.location.start) + 1, int(f.location.end)) for f in cds] == [(int(r[3]), int(r[4])) for r in rows]
    proteins = [str(r.seq) for r in SeqIO.parse(tmp_path / "p.faa", "fasta")]
    assert [f.qualifiers["translation"][0] for f in cds] == proteins
    assert all(f.qualifiers["transl_table"] == ["11"] for f in cds)
    # `genet5 convert --to genbank` makes the same features from the GFF3 and the genome
    p = run_cli("convert", tmp_path / "p.gff3", "-o", tmp_path / "c.gbk", "--to", "genbank", "--genome", short)
    assert p.returncode == 0, p.stderr
    (conv,) = SeqIO.parse(tmp_path / "c.gbk", "genbank")
    assert [(str(f.location), f.qualifiers["translation"]) for f in conv.features if f.type == "CDS"] == \
        [(str(f.location), f.qualifiers["translation"]) for f in cds]


def test_prodigal_command_line(tmp_path):
    """Prodigal's own flags do what they do there: `-i GENOME -m -o OUT -f gbk -a PROT -d NUC -q` (or
    the genome piped in, no -i) writes the GenBank file, proteins and genes, and says nothing (-q); `-f gtf`, `-f gff` the
    other formats of -o, the same genes; without -f, the format -o's extension names; a format
    not known, and a genome given twice or not at all, are one clear line and no output (sco:
    test_sco_output_is_prodigals_with_the_gff3_genes)."""
    from Bio import SeqIO

    fa = piece(tmp_path, 60_000)
    plain = run_cli("predict", fa, "-o", tmp_path / "plain.gff3")
    assert plain.returncode == 0 and "genes on 1 sequence (" in plain.stderr
    starts = sorted(ln.split("\t")[3] for ln in (tmp_path / "plain.gff3").read_text().splitlines() if "\tCDS\t" in ln)
    p = run_cli("predict", "-i", fa, "-m", "-o", tmp_path / "g.gbk", "-f", "gbk", "-a", tmp_path / "g.faa",
                "-d", tmp_path / "g.fna", "-q", "-m")  # Prodigal's -m (N runs masked: always so), before an option or last
    assert p.returncode == 0 and p.stderr == "", p.stderr
    cds = [f for rec in SeqIO.parse(tmp_path / "g.gbk", "genbank") for f in rec.features if f.type == "CDS"]
    assert sorted(str(int(f.location.start) + 1) for f in cds) == starts
    for name in ("g.faa", "g.fna"):
        assert (tmp_path / name).read_text().count(">") == len(starts)
    p = run_cli("predict", "-i", fa, "-o", "-", "-f", "gtf", "-q")
    assert p.returncode == 0 and p.stdout.startswith("##gtf-version 2.2\n") and p.stderr == ""
    # without -f, the output's extension says what it holds; -f, when given, wins
    for name, first in (("n.gtf", "##gtf-version"), ("n.gbk", "LOCUS"), ("n.GB", "LOCUS"), ("n.gff", "##gff-version 3"),
                        ("n.txt", "##gff-version 3")):
        assert run_cli("predict", fa, "-o", tmp_path / name, "-q").returncode == 0
        assert (tmp_path / name).read_text().startswith(first), name
    assert run_cli("predict", fa, "-o", tmp_path / "x.gtf", "-f", "gff", "-q").returncode == 0
    assert (tmp_path / "x.gtf").read_text().startswith("##gff-version 3")
    assert sorted(ln.split("\t")[3] for ln in p.stdout.splitlines() if "\tstart_codon\t" in ln or "\tCDS\t" in ln)
    for args, said in ((["-i", fa, "-f", "embl"], "--format: 'embl'"), ([fa, "-i", fa], "given twice"),
                       ([], "no genome given")):
        p = run_cli("predict", *args, "-o", tmp_path / "bad.gff3", stdin=subprocess.DEVNULL)  # nothing piped in
        assert p.returncode == 2 and said in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert not (tmp_path / "bad.gff3").exists()
    # no genome named, one piped in: read from standard input, as `prodigal < genome.fna` does
    p = run_cli("predict", "-o", tmp_path / "piped.gff3", "-q", input=fa.read_text())
    assert p.returncode == 0, p.stderr
    piped = sorted(ln.split("\t")[3] for ln in (tmp_path / "piped.gff3").read_text().splitlines() if "\tCDS\t" in ln)
    assert piped == starts


def test_sco_output_is_prodigals_with_the_gff3_genes(tmp_path):
    """-f sco (Prodigal's simple coordinates, what Prokka reads): per sequence its two comment
    lines, then >N_LEFT_RIGHT_STRAND for each gene of the GFF3, N from 1 in each sequence; a .sco
    name alone chooses it; a eukaryote is refused before any work, with nothing written."""
    import re

    one = piece(tmp_path, 15_000).read_text().split("\n")[1]
    fa = tmp_path / "two.fa"
    fa.write_text(f">first some description\n{one[:8000]}\n>second\n{one[8000:]}\n")
    assert run_cli("predict", fa, "-o", tmp_path / "g.gff3", "--meta", "-q").returncode == 0
    p = run_cli("predict", "-i", fa, "-o", tmp_path / "g.sco", "--meta", "-q")  # the name says sco
    assert p.returncode == 0 and p.stderr == "", p.stderr
    lines = (tmp_path / "g.sco").read_text().splitlines()
    assert lines[0] == '# Sequence Data: seqnum=1;seqlen=8000;seqhdr="first some description"'
    assert re.fullmatch(r'# Model Data: version=genet5\.v[\w.]+;run_type=Metagenomic;model="[^"]+";gc_cont=\d+\.\d\d;'
                        r"transl_table=11", lines[1]), lines[1]
    assert '# Sequence Data: seqnum=2;seqlen=7000;seqhdr="second"' in lines
    genes = {"first": [], "second": []}
    seq = "first"
    for ln in lines[2:]:
        if ln.startswith("# Sequence Data"):
            seq = "second"
        elif not ln.startswith("#"):
            m = re.fullmatch(r">(\d+)_(\d+)_(\d+)_([+-])", ln)  # Prokka's reading of it
            assert m, ln
            genes[seq].append((int(m.group(1)), m.group(2), m.group(3), m.group(4)))
    rows = [ln.split("\t") for ln in (tmp_path / "g.gff3").read_text().splitlines() if "\tCDS\t" in ln]
    for name in genes:
        assert [g[0] for g in genes[name]] == list(range(1, len(genes[name]) + 1))
        assert [g[1:] for g in genes[name]] == sorted(((r[3], r[4], r[6]) for r in rows if r[0] == name),
                                                      key=lambda x: (int(x[0]), int(x[1]), x[2]))
    assert len(genes["first"]) >= 5 and len(genes["second"]) >= 5
    p = run_cli("predict", fa, "-o", tmp_path / "e.sco", "--domain", "eukaryote")
    assert p.returncode == 2 and "for prokaryotes" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "e.sco").exists()


def test_prokaryote_only_options_with_a_eukaryote_are_one_line(tmp_path):
    """--meta / --mode / --training are the prokaryote decoder's (Prodigal's -p and -t): with a
    eukaryote (-g 1 says so) each is one line naming the domain, and nothing is written; --meta
    was taken silently, and a --training file not yet written was said to hold a prokaryote's
    parameters. --device cuda where no network runs says it is not used."""
    short = piece(tmp_path, 15_000)
    for extra, said in ((["--meta"], "--meta is for prokaryotes"), (["-p", "single"], "--mode single is for prokaryotes"),
                        (["-t", tmp_path / "new.trn"], "--training (Prodigal's -t) reads or writes a prokaryote's")):
        p = run_cli("predict", short, "-o", tmp_path / "e.gff3", "-g", "1", "-q", *extra)
        assert p.returncode == 2 and said in p.stderr and "domain here is eukaryote" in p.stderr, p.stderr
        assert len(p.stderr.strip().splitlines()) == 1 and not (tmp_path / "e.gff3").exists()
        assert not (tmp_path / "new.trn").exists()
    p = run_cli("predict", short, "-o", tmp_path / "p.gff3", "--domain", "prokaryote", "--device", "cuda", "-q")
    assert p.returncode == 0 and "--device cuda: the prokaryote decoder runs on the CPU" in " ".join(p.stderr.split())


def test_a_model_the_decoder_does_not_use_is_said_and_a_run_model_is_named(tmp_path):
    """--model without --network (the default decoder runs without the per-base network) says it
    is not used (it was taken silently); a model saved as RUN/model is named so in the header
    ('model model' before)."""
    import shutil

    short = piece(tmp_path, 15_000)
    run_model = tmp_path / "run7" / "model"
    shutil.copytree(Path(genet5.__file__).parent / "bundled" / "genet5-cpu", run_model)
    p = run_cli("predict", short, "-o", tmp_path / "a.gff3", "--domain", "prokaryote", "--model", run_model, "-q")
    assert p.returncode == 0 and f"--model {run_model} is not used" in " ".join(p.stderr.split()), p.stderr
    p = run_cli("predict", short, "-o", tmp_path / "b.gff3", "--domain", "prokaryote", "--model", run_model, "--network", "-q")
    assert p.returncode == 0 and "is not used" not in p.stderr, p.stderr
    assert "model run7/model;" in (tmp_path / "b.gff3").read_text().splitlines()[1]
