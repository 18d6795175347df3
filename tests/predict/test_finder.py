"""genet5.GeneFinder (predict/finder.py), the Python API for pyrodigal's users: the same genes as
`genet5 predict`, pyrodigal's coordinates, training on one input and decoding another, and bad
input as one clear GenomeFormatError. On the bundled example phage (no ../shared needed)."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

import genet5
from conftest import run_cli
from genet5.genome.models import GenomeFormatError

EXAMPLE = Path(genet5.__file__).parent / "examples" / "erwinia_phage_MT939486"


@pytest.fixture(scope="module")
def phage() -> str:
    with gzip.open(EXAMPLE / "genome.fa.gz", "rt") as f:
        return "".join(ln.strip() for ln in f if not ln.startswith(">"))


def _cds_rows(text: str) -> list[tuple]:
    return sorted((t[0], t[3], t[4], t[6]) for t in (ln.split("\t") for ln in text.splitlines() if "\tCDS\t" in ln))


def test_find_genes_matches_the_command(phage, tmp_path):
    """Single mode on the whole phage: the genes `genet5 predict` writes, in pyrodigal's terms;
    each protein is its CDS translated; the GFF3 it writes equals the command's rows."""
    genes = genet5.GeneFinder().find_genes(phage, sequence_id="MT939486.1")
    p = run_cli("predict", EXAMPLE / "genome.fa.gz", "-o", tmp_path / "cli.gff3", "-q")
    assert p.returncode == 0, p.stderr
    cli = _cds_rows((tmp_path / "cli.gff3").read_text())
    assert sorted(("MT939486.1", str(g.begin), str(g.end), "+" if g.strand == 1 else "-") for g in genes) == cli
    buf = io.StringIO()
    genes.write_gff(buf)
    assert _cds_rows(buf.getvalue()) == cli
    assert [g.begin for g in genes] == sorted(g.begin for g in genes)
    fwd = next(g for g in genes if g.strand == 1 and not g.partial_begin and not g.partial_end)
    rev = next(g for g in genes if g.strand == -1 and not g.partial_begin and not g.partial_end)
    assert fwd.sequence() == phage[fwd.begin - 1 : fwd.end]
    comp = str.maketrans("ACGT", "TGCA")
    assert rev.sequence() == phage[rev.begin - 1 : rev.end].translate(comp)[::-1]
    for g in (fwd, rev):
        assert g.start_type == g.sequence()[:3] and g.translate().startswith("M") and "*" not in g.translate()
        assert len(g.translate()) == len(g.sequence()) // 3 - 1 and g.translation_table == 11
        assert g.translate(include_stop=True) == g.translate() + "*" and 0.2 < g.gc_cont < 0.8
    out = io.StringIO()
    genes.write_translations(out, sequence_id="contig_7")
    assert out.getvalue().count(">") == len(genes)
    assert f">genet5_contig_7_1.t1 gene=genet5_contig_7_1 contig_7:{genes[0].begin}-{genes[0].end}(+)\n" in out.getvalue()


@pytest.mark.parametrize("headers", ["genet5", "prodigal"])
def test_protein_fasta_as_the_command_writes_it(phage, tmp_path, headers):
    """write_translations writes what `genet5 predict --proteins [--fasta-headers prodigal]`
    writes, headers and proteins, also for genes cut by the ends of a piece (its headers were
    bare gene IDs, unlike the command's)."""
    piece = phage[28_004:37_004]
    (tmp_path / "p.fa").write_text(">c1\n" + piece + "\n")
    p = run_cli("predict", tmp_path / "p.fa", "-o", tmp_path / "p.gff3", "--meta", "-q", "--proteins", tmp_path / "p.faa",
                "--fasta-headers", headers)  # fmt: skip
    assert p.returncode == 0, p.stderr
    genes = genet5.GeneFinder(meta=True).find_genes(piece, sequence_id="c1")
    assert any(g.partial_begin or g.partial_end for g in genes)
    out = io.StringIO()
    genes.write_translations(out, headers=headers)
    assert out.getvalue() == (tmp_path / "p.faa").read_text()
    with pytest.raises(ValueError, match="headers"):
        genes.write_genes(io.StringIO(), headers="ncbi")


@pytest.mark.parametrize("headers", ["genet5", "prodigal"])
def test_cds_fasta_as_the_command_writes_it(phage, tmp_path, headers):
    """write_genes writes what `genet5 predict --cds [--fasta-headers prodigal]` writes, for
    genes cut by a piece's end mid-codon on either strand too: with genet5's headers to the edge,
    the cut codon's 1-2 bases included (it wrote only the whole codons), with Prodigal's whole
    codons only, as Prodigal's -d."""
    mid_codon = set()
    for a in (28_004, 140_020):
        piece = phage[a : a + 9000]
        (tmp_path / "p.fa").write_text(f">c{a}\n{piece}\n")
        p = run_cli("predict", tmp_path / "p.fa", "-o", tmp_path / "p.gff3", "--meta", "-q", "--cds", tmp_path / "p.fna",
                    "--fasta-headers", headers)  # fmt: skip
        assert p.returncode == 0, p.stderr
        genes = genet5.GeneFinder(meta=True).find_genes(piece, sequence_id=f"c{a}")
        out = io.StringIO()
        genes.write_genes(out, headers=headers)
        assert out.getvalue() == (tmp_path / "p.fna").read_text()
        mid_codon |= {g.strand for g in genes  # the whole codons stop short of the edge
                      if (g.strand == 1 and g.partial_end and g.end < len(piece)) or (g.strand == -1 and g.partial_begin and g.begin > 1)}
    assert mid_codon == {1, -1}  # a 3' end cut mid-codon on each strand


def test_train_on_a_genome_then_decode_pieces(phage, tmp_path):
    """train() on the whole phage, find_genes on a 15 kb piece with its parameters (mode
    training, as `predict -t`): the genes there are the whole genome's genes inside the piece,
    shifted; a gene cut by the piece's end is partial on that side; the training file it saves
    decodes the same genes through the command."""
    finder = genet5.GeneFinder().train(phage)
    whole = finder.find_genes(phage)
    # pyrodigal's train-then-decode on one genome is its single mode: the same genes here
    assert whole == genet5.GeneFinder().find_genes(phage)
    a, b = 100_000, 115_000
    piece = finder.find_genes(phage[a:b], sequence_id="piece")
    inside = {(g.begin - a, g.end - a, g.strand) for g in whole if g.begin > a and g.end <= b}
    found = {(g.begin, g.end, g.strand) for g in piece if not (g.partial_begin or g.partial_end)}
    assert len(inside & found) >= 0.9 * len(inside)
    assert piece[-1].partial_end or piece[0].partial_begin
    trn = tmp_path / "phage.trn"
    finder.save_training(trn)
    (tmp_path / "piece.fa").write_text(">piece\n" + phage[a:b] + "\n")
    p = run_cli("predict", tmp_path / "piece.fa", "-o", tmp_path / "piece.gff3", "-t", trn, "-q")
    assert p.returncode == 0, p.stderr
    # the command runs a cut gene to the piece's edge (NCBI), the API stops at its whole codons (pyrodigal)
    n = b - a
    assert all(g.begin <= 3 for g in piece if g.partial_begin) and all(g.end >= n - 2 for g in piece if g.partial_end)
    assert _cds_rows((tmp_path / "piece.gff3").read_text()) == sorted(
        ("piece", str(1 if g.partial_begin else g.begin), str(n if g.partial_end else g.end), "+" if g.strand == 1 else "-")
        for g in piece)
    again = genet5.GeneFinder(training=trn).find_genes(phage[a:b], sequence_id="piece")
    assert [(g.begin, g.end, g.strand) for g in again] == [(g.begin, g.end, g.strand) for g in piece]
    for kwargs, said in (({"meta": True}, "decode every sequence"), ({"genetic_code": 4}, "trained under table 11")):
        with pytest.raises(ValueError, match=said):
            genet5.GeneFinder(training=trn, **kwargs)
    with pytest.raises(genet5.GenomeFormatError, match="not a genet5 training file"):  # a ValueError, as documented
        genet5.GeneFinder(training=tmp_path / "piece.fa")


def test_meta_mode_and_many_sequences(phage):
    """Short sequences: meta mode by default below 50 kb, as the command; find_genes_many decodes
    several at once, by ID, each the same as alone in meta mode."""
    pieces = {"p1": phage[:12_000], "p2": phage[200_000:230_000]}
    finder = genet5.GeneFinder(meta=True)
    many = finder.find_genes_many(pieces)
    assert set(many) == {"p1", "p2"} and all(len(many[k]) >= 8 for k in many)
    alone = finder.find_genes(pieces["p2"], sequence_id="p2")
    assert [(g.begin, g.end) for g in alone] == [(g.begin, g.end) for g in many["p2"]]
    auto = genet5.GeneFinder().find_genes(pieces["p1"].lower())  # lower case is read as bases
    assert [(g.begin, g.end) for g in auto] == [(g.begin, g.end) for g in many["p1"]]


@pytest.mark.parametrize("seq, said", [
    ("MKVLAAGIVGLLLAQEEPFTRWSTY", "looks like a protein"),
    ("", "empty sequence"),
    ("N" * 5000, "only N"),
    ("ACGTX" * 100, "invalid character 'X' at position 5"),
])
def test_bad_sequences_raise_one_clear_error(seq, said):
    assert genet5.GenomeFormatError is GenomeFormatError  # the README's name for it
    with pytest.raises(GenomeFormatError, match=said):
        genet5.GeneFinder().find_genes(seq)


def test_bad_settings_and_too_little_to_train(phage):
    for kwargs, said in (({"mode": "fast"}, "mode"), ({"genetic_code": 99}, "translation table"),
                         ({"genetic_code": "x"}, "auto"), ({"start_codons": ["ATGX"]}, "codons"),
                         ({"min_gene_length": 3}, "shorter")):
        with pytest.raises(ValueError, match=said):
            genet5.GeneFinder(**kwargs)
    with pytest.raises(GenomeFormatError, match="too little to train on"):
        genet5.GeneFinder().train(phage[:5000])
    with pytest.raises(ValueError, match="train"):
        genet5.GeneFinder().save_training("never.trn")
    with pytest.raises(ValueError, match="repeat"):
        genet5.GeneFinder(meta=True).find_genes_many([phage[:9000], phage[9000:18000]], sequence_ids=["a", "a"])


def test_several_sequences_into_one_valid_gff3(phage, tmp_path):
    """Genes of several sequences written one after another (the first with the header, the
    rest rows only) make one file gt reads as valid GFF3, with every gene once."""
    import shutil
    import subprocess

    many = genet5.GeneFinder(meta=True).find_genes_many({"a": phage[:30_000], "b": phage[50_000:70_000]})
    out = tmp_path / "both.gff3"
    with open(out, "w") as fh:
        many["a"].write_gff(fh)
        many["b"].write_gff(fh, header=False)
    text = out.read_text()
    assert text.count("##gff-version") == 1 and sum("\tCDS\t" in ln for ln in text.splitlines()) == len(many["a"]) + len(many["b"])
    if shutil.which("gt") is None:
        pytest.skip("gt (genometools) not installed: the validity check is skipped")
    p = subprocess.run(["gt", "gff3validator", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
