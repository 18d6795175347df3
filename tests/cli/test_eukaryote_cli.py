"""`genet5 predict` for eukaryotes through the installed entry point: `-g 1` chooses the
eukaryote domain and its default decoder (selftrained), which writes multi-exon gene models
that pass `gt gff3validator` and translate without internal stops."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "predict"))
from test_eukaryote import synthetic_genome  # noqa: E402

from conftest import CLI  # noqa: E402


def test_predict_eukaryote_writes_multi_exon_genes(tmp_path):
    seq, planted = synthetic_genome()
    fasta = tmp_path / "syn.fa"
    fasta.write_bytes(b">syn\n" + seq + b"\n")
    gff, faa = tmp_path / "out.gff3", tmp_path / "out.faa"
    r = subprocess.run([*CLI, "predict", fasta, "-o", gff, "--proteins", faa, "-g", "1", "-q"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    text = gff.read_text()
    assert "domain eukaryote, mode intron-rich (single-ORF fraction " in text and ", decoder selftrained" in text
    cds_per_parent: dict[str, int] = {}
    for ln in text.splitlines():
        c = ln.split("\t")
        if len(c) == 9 and c[2] == "CDS":
            assert "transl_table=1" in c[8]
            parent = next(x for x in c[8].split(";") if x.startswith("Parent="))
            cds_per_parent[parent] = cds_per_parent.get(parent, 0) + 1
    assert len(cds_per_parent) >= len(planted) // 2
    assert sum(n >= 3 for n in cds_per_parent.values()) >= len(planted) // 2
    proteins = [ln for ln in faa.read_text().splitlines() if not ln.startswith(">")]
    assert proteins and not any("*" in p.rstrip("*") for p in proteins)
    if shutil.which("gt"):
        v = subprocess.run(["gt", "gff3validator", str(gff)], capture_output=True, text=True)
        assert v.returncode == 0, v.stderr


def test_domain_eukaryote_without_a_table_uses_the_standard_code(tmp_path):
    """`--domain eukaryote` alone must not translate with the prokaryote default (table 11: its
    extra starts TTG/CTG/... would add decoys): the table becomes 1."""
    seq, _ = synthetic_genome(genes=4)
    fasta = tmp_path / "syn.fa"
    fasta.write_bytes(b">syn\n" + seq + b"\n")
    gff = tmp_path / "out.gff3"
    r = subprocess.run([*CLI, "predict", fasta, "-o", gff, "--domain", "eukaryote", "-q"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    tables = {x for ln in gff.read_text().splitlines() if ln.count("\t") == 8 and "\tCDS\t" in ln
              for x in ln.split("\t")[8].split(";") if x.startswith("transl_table=")}
    assert tables == {"transl_table=1"}


def test_species_prior_is_chosen_named_or_refused(tmp_path):
    """`--species`: auto records the training species it chose in the header, a name is used as
    given, an unknown name is one clear line, a non-zero exit and no output file."""
    seq, _ = synthetic_genome(genes=4)
    fasta = tmp_path / "syn.fa"
    fasta.write_bytes(b">syn\n" + seq + b"\n")
    for species, want in (("auto", "; species prior "), ("fly", "; species prior fly,"), ("none", None)):
        gff = tmp_path / f"{species}.gff3"
        r = subprocess.run([*CLI, "predict", fasta, "-o", gff, "-g", "1", "--species", species, "-q"],
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        header = gff.read_text().splitlines()[1]
        assert (want in header) if want else ("species prior" not in header), header
    bad = tmp_path / "bad.gff3"
    r = subprocess.run([*CLI, "predict", fasta, "-o", bad, "-g", "1", "--species", "mouse"], capture_output=True, text=True)
    assert r.returncode != 0 and not bad.exists()
    assert r.stderr.strip().splitlines()[-1] == "genet5: error: --species: 'mouse' is not one of auto, none, yeast, fly, arabidopsis, human"
    r = subprocess.run([*CLI, "predict", fasta, "-o", bad, "-g", "11", "--species", "fly"], capture_output=True, text=True)
    assert r.returncode != 0 and not bad.exists()
    assert "--species chooses the training species of the eukaryote decoder (selftrained); --decoder prokaryote has none" in r.stderr


def test_domain_auto_reads_a_eukaryote_from_the_genome(tmp_path):
    """No --domain and no -g: the genome's broken long ORFs make it a eukaryote (predict/domain.py);
    the header and the summary line say why."""
    seq, _ = synthetic_genome(genes=60)
    fasta = tmp_path / "syn.fa"
    fasta.write_bytes(b">syn\n" + seq + b"\n")
    gff = tmp_path / "out.gff3"
    r = subprocess.run([*CLI, "predict", fasta, "-o", gff], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "domain eukaryote (auto: long ORFs cover " in gff.read_text()
    assert "domain eukaryote chosen from the genome (long ORFs cover" in r.stdout + r.stderr
    assert "transl_table=1" in gff.read_text()


def test_g_auto_leaves_the_domain_to_the_genome(tmp_path):
    """-g auto (table 11 or 4, a prokaryote's choice) on a genome that reads as a eukaryote: the
    domain is still read from the genome (it was taken as prokaryote: single-exon genes, gene F1
    0.003 on the worm against 0.400), decoded with table 1, and a note says so even with -q; with
    --domain eukaryote given, -g auto is the contradiction it was."""
    seq, _ = synthetic_genome(genes=60)
    fasta = tmp_path / "syn.fa"
    fasta.write_bytes(b">syn\n" + seq + b"\n")
    gff = tmp_path / "out.gff3"
    r = subprocess.run([*CLI, "predict", fasta, "-o", gff, "-g", "auto", "-q"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "domain eukaryote (auto: long ORFs cover " in gff.read_text() and "transl_table=1" in gff.read_text()
    assert r.stderr.startswith("note: -g auto chooses between the prokaryotic tables 11 and 4, but the genome reads as a eukaryote")
    r = subprocess.run([*CLI, "predict", fasta, "-o", tmp_path / "x.gff3", "-g", "auto", "--domain", "eukaryote"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "-g 1" in r.stderr and not (tmp_path / "x.gff3").exists()
