"""`genet5 predict --decoder seq2seq` through the installed entry point: the bundled seq2seq
checkpoint works out of the box, with the same output guarantees as the other decoders."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import genet5
from conftest import run_cli
from genet5.genome.codes import genetic_code, reverse_complement

EXAMPLE = Path(genet5.__file__).parent / "examples" / "phage_NC_016566"  # a `train` genome of splits.tsv


def _cds_rows(text: str) -> list[list[str]]:
    return [ln.split("\t") for ln in text.splitlines() if "\tCDS\t" in ln]


def test_seq2seq_on_the_bundled_example_writes_valid_translating_gff3(tmp_path):
    fa = tmp_path / "phage.fa"
    with gzip.open(EXAMPLE / "genome.fa.gz", "rb") as f:
        fa.write_bytes(f.read())
    seq = "".join(ln.strip() for ln in fa.read_text().splitlines() if not ln.startswith(">")).upper()
    out = tmp_path / "p.gff3"
    p = run_cli("predict", fa, "-o", out, "--decoder", "seq2seq", "-q")
    assert p.returncode == 0, p.stderr
    text = out.read_text()
    # the decoder serves both domains, so the genome chose (too short to tell: prokaryote)
    assert "model genet5-seq2seq; domain prokaryote (auto: " in text and ", decoder seq2seq, genetic code 11" in text
    rows = _cds_rows(text)
    assert len(rows) >= 40 and all("transl_table=11" in r[8] for r in rows)
    code = genetic_code(11)
    for r in rows:  # whole codons, no internal stop, a stop at the end unless 3' partial
        cds = seq[int(r[3]) - 1 : int(r[4])].encode()
        cds = (reverse_complement(cds) if r[6] == "-" else cds)[int(r[7]) :]  # from the first whole codon
        partial = "prodigal_partial=" in r[8]
        if partial:  # a cut gene runs to the edge (NCBI's way): its last codon may be incomplete
            cds = cds[: len(cds) - len(cds) % 3]
        codons = [cds[i : i + 3] for i in range(0, len(cds), 3)]
        assert len(cds) % 3 == 0 and not any(c in code.stops for c in codons[:-1]), r
        assert partial or codons[-1] in code.stops, r
    # the first reference gene's start lies 56 bases in: the model calls it cut by the sequence
    # start, so it comes out 5' partial, flagged as such
    assert any("partial=true" in r[8] and r[3] in ("1", "2", "3") for r in rows)
    if shutil.which("gt"):
        v = subprocess.run(["gt", "gff3validator", str(out)], capture_output=True, text=True)
        assert v.returncode == 0, v.stderr
    from genet5.evaluate.compare import compare_files

    res = compare_files(EXAMPLE / "annotation.gff3.gz", out, fa, default_code=11).result.as_dict()
    assert res["start_stop"]["f1"] >= 0.7, res  # 0.768 with the bundled checkpoint (plus targets; run e 0.684; a train genome)


def test_seq2seq_model_option_takes_a_checkpoint_and_refuses_others(tmp_path):
    fa = tmp_path / "x.fa"
    fa.write_text(">x\n" + "ATGAAACCCGGGTTTTAA" * 20 + "\n")
    out = tmp_path / "x.gff3"
    for model, says in (("genet5-cpu", "not a seq2seq GeneT5 checkpoint"), (tmp_path / "none", "no seq2seq GeneT5 checkpoint")):
        p = run_cli("predict", fa, "-o", out, "--decoder", "seq2seq", "--model", model, "-q")
        assert p.returncode == 2 and says in " ".join(p.stderr.split()), p.stderr
        assert "Traceback" not in p.stderr and not out.exists()
    bundled = Path(genet5.__file__).parent / "bundled" / "genet5-seq2seq"
    p = run_cli("predict", fa, "-o", out, "--decoder", "seq2seq", "--model", bundled, "-g", "4", "-q")
    assert p.returncode == 0, p.stderr
    assert "genetic code 4" in out.read_text()


def test_seq2seq_for_eukaryotes_writes_valid_multi_exon_gff3(tmp_path):
    """`--domain eukaryote --decoder seq2seq`: the bundled eukaryote checkpoint, GT-AG genes
    stitched across windows; every gene translates from ATG to a stop with no stop inside and
    the file passes gt gff3validator (the model's accuracy is docs/benchmarks.md's business)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "predict"))
    from test_eukaryote import synthetic_genome

    seq, _ = synthetic_genome(genes=12)
    fa, out, faa = tmp_path / "syn.fa", tmp_path / "syn.gff3", tmp_path / "syn.faa"
    fa.write_bytes(b">syn\n" + seq + b"\n")
    p = run_cli("predict", fa, "-o", out, "--proteins", faa, "--domain", "eukaryote", "--decoder", "seq2seq", "-q")
    assert p.returncode == 0, p.stderr
    text = out.read_text()
    assert "model genet5-seq2seq-eukaryote; domain eukaryote, decoder seq2seq, genetic code 1" in text
    rows = _cds_rows(text)
    assert rows and all("transl_table=1" in r[8] for r in rows)
    proteins = ["".join(rec.split("\n")[1:]) for rec in faa.read_text().split(">")[1:]]  # wrapped lines joined
    assert proteins and all(p.startswith("M") and "*" not in p.rstrip("*") for p in proteins)
    if shutil.which("gt"):
        v = subprocess.run(["gt", "gff3validator", str(out)], capture_output=True, text=True)
        assert v.returncode == 0, v.stderr


def test_seq2seq_reads_the_genetic_code_from_the_genome(tmp_path):
    """Without -g, a Mycoplasma decoded by seq2seq is read under table 4, as the default decoder
    reads it (seq2seq does not re-decode on TGA read-through itself: -g auto's choice up front);
    it was decoded under table 11, every TGA a stop."""
    from conftest import shared_file

    src = shared_file("prokaryotes/Mycoplasma_gallisepticum_NC_004829/genome.fa.gz")
    with gzip.open(src, "rt") as f:
        seq = "".join(ln.strip() for ln in f if not ln.startswith(">"))[:60_000]
    (tmp_path / "mg.fa").write_text(">mg\n" + seq + "\n")
    p = run_cli("predict", tmp_path / "mg.fa", "-o", tmp_path / "p.gff3", "--domain", "prokaryote", "--decoder", "seq2seq", "-q")
    assert p.returncode == 0, p.stderr
    text = (tmp_path / "p.gff3").read_text()
    assert "genetic code 4" in text.splitlines()[1] and "genetic code 4 chosen from the genome" in " ".join(p.stderr.split())
    assert all("transl_table=4" in r[8] for r in _cds_rows(text)) and _cds_rows(text)
