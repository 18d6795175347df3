"""genet5.GeneFinder (predict/finder.py) where pyrodigal's users would trip: genes cut by an edge
in pyrodigal's coordinates (whole codons), Gene.translate's argument order, TypeError for
arguments of the wrong type, no training in meta mode, and errors in the API's own words. On
the bundled example phage (no ../shared needed); the comparison with pyrodigal runs where it
is installed."""

from __future__ import annotations

import gzip
import inspect
import io
import re
from pathlib import Path

import pytest

import genet5
from genet5.genome.models import GenomeFormatError
from genet5.predict.finder import Gene

EXAMPLE = Path(genet5.__file__).parent / "examples" / "erwinia_phage_MT939486"
# 9 kb pieces whose edges cut genes on both strands at both ends, mid-codon (a 5' cut of 2 or 3
# bases on +, a 3' cut leaving 1 or 2 bases of a codon on + and on -, ...)
CUTS = (28_004, 126_018, 140_020, 154_022)
_COMP = str.maketrans("ACGT", "TGCA")


@pytest.fixture(scope="module")
def phage() -> str:
    with gzip.open(EXAMPLE / "genome.fa.gz", "rt") as f:
        return "".join(ln.strip() for ln in f if not ln.startswith(">"))


@pytest.fixture(scope="module")
def cut_pieces(phage):
    finder = genet5.GeneFinder(meta=True)
    return [(phage[a : a + 9000], finder.find_genes(phage[a : a + 9000], sequence_id=f"cut{a}")) for a in CUTS]


def test_cut_genes_are_whole_codons(cut_pieces):
    """A gene cut by an edge begins / ends on its outer whole codons (pyrodigal's and Prodigal's
    begin / end, up to 2 bases in from the edge), and sequence(), translate() and the FASTA
    writers with Prodigal's headers say the same: sequence() is begin..end, a multiple of 3, its
    codons the protein (with genet5's headers write_genes keeps a cut codon's bases, as --cds).
    write_gff writes what `genet5 predict` writes: a cut gene to the edge, the bases before its
    first whole codon in the phase column (NCBI's style)."""
    seen = set()
    for seq, genes in cut_pieces:
        rows = io.StringIO()
        genes.write_gff(rows)
        cds = sorted((int(r[3]), int(r[4]), r[6], r[7]) for r in (ln.split("\t") for ln in rows.getvalue().splitlines())
                     if len(r) > 2 and r[2] == "CDS")
        n = len(seq)

        def phase(g) -> str:  # the bases before the first whole codon, at a cut 5' end
            cut5 = g.partial_begin if g.strand == 1 else g.partial_end
            return str((g.begin - 1) if g.strand == 1 else (n - g.end)) if cut5 else "0"

        assert cds == sorted((1 if g.partial_begin else g.begin, n if g.partial_end else g.end,
                              "+" if g.strand == 1 else "-", phase(g)) for g in genes)
        nts = io.StringIO()
        genes.write_genes(nts, width=10**6, headers="prodigal")
        assert nts.getvalue().split("\n")[1::2][: len(genes)] == [g.sequence() for g in genes]
        # with genet5's headers what `predict --cds` writes: from the first whole codon to the edge
        nts = io.StringIO()
        genes.write_genes(nts, width=10**6)
        to_edge = [seq[g.begin - 1 : n if g.partial_end else g.end] if g.strand == 1
                   else seq[0 if g.partial_begin else g.begin - 1 : g.end].translate(_COMP)[::-1] for g in genes]
        assert nts.getvalue().split("\n")[1::2][: len(genes)] == to_edge
        for g in genes:
            here = seq[g.begin - 1 : g.end]
            assert g.sequence() == (here if g.strand == 1 else here.translate(_COMP)[::-1])
            assert len(g.sequence()) % 3 == 0
            assert len(g.translate()) == len(g.sequence()) // 3 - (not g.partial_3prime)
            if g.partial_begin:
                assert 1 <= g.begin <= 3
                seen.add((g.strand, "left", g.begin > 1))
            if g.partial_end:
                assert len(seq) - 2 <= g.end <= len(seq)
                seen.add((g.strand, "right", g.end < len(seq)))
    # each strand and each end has a gene cut mid-codon here (the bases of the cut codon left out)
    assert {(s, e, True) for s in (1, -1) for e in ("left", "right")} <= seen


def test_cut_genes_as_pyrodigal_reports_them(cut_pieces):
    """Where pyrodigal (meta mode) finds the same cut gene, it reports the same begin, end and
    sequence."""
    pyrodigal = pytest.importorskip("pyrodigal")
    finder = pyrodigal.GeneFinder(meta=True)
    compared = 0
    for seq, genes in cut_pieces:
        theirs = {(h.begin, h.end, h.strand): h for h in finder.find_genes(seq.encode())}
        for g in genes:
            if not (g.partial_begin or g.partial_end):
                continue
            # the same gene: the same stop-side end, strand and cut ends
            same = [h for h in theirs.values() if h.strand == g.strand and h.partial_begin == g.partial_begin
                    and h.partial_end == g.partial_end and (h.end == g.end if g.strand == 1 else h.begin == g.begin)]
            if same:
                compared += 1
                assert (same[0].begin, same[0].end) == (g.begin, g.end)
                assert same[0].sequence() == g.sequence() and same[0].translate(include_stop=False) == g.translate()
    assert compared >= 4


def test_translate_takes_pyrodigals_arguments(phage):
    """translate(translation_table, unknown_residue, include_stop, strict) as pyrodigal's: a
    table read positionally is a table, not include_stop."""
    genes = genet5.GeneFinder(meta=True).find_genes(phage[:12_000])
    tga = next(g for g in genes if g.sequence().endswith("TGA") and not g.partial_3prime)
    own = tga.translate()
    assert "*" not in own and tga.translate(include_stop=True) == own + "*"
    assert tga.translate(4) == tga.translate(translation_table=4) == own + "W"  # TGA is W under table 4
    assert tga.translate(11, "X", True) == own + "*" and tga.translate(None) == own
    with pytest.raises(ValueError, match="translation table"):
        tga.translate(99)
    with pytest.raises(TypeError):
        tga.translate(True)
    # an unknown base: X, or unknown_residue; strict=False reads GGN as G
    gene = next(g for g in genes if g.begin == 10_000 and g.strand == 1)
    pos = gene.begin - 1 + 3 * 10 + 2
    masked = phage[:pos] + "N" + phage[pos + 1 : 12_000]
    cut = next(g for g in genet5.GeneFinder(meta=True).find_genes(masked) if g.begin == gene.begin)
    assert cut.translate()[10] == "X" and cut.translate(unknown_residue="?")[10] == "?"
    assert cut.translate(strict=False) == gene.translate()


@pytest.mark.parametrize("sequence", [None, 12345, 3.5, object()])
def test_wrong_sequence_types_are_type_errors(phage, sequence):
    with pytest.raises(TypeError, match="str, bytes, bytearray"):
        genet5.GeneFinder(meta=True).find_genes(sequence)


def test_several_sequences_to_find_genes_or_one_to_find_genes_many(phage):
    with pytest.raises(TypeError, match="find_genes_many"):
        genet5.GeneFinder(meta=True).find_genes([phage[:9000]])
    with pytest.raises(TypeError, match="find_genes"):
        genet5.GeneFinder(meta=True).find_genes_many(phage[:9000])
    with pytest.raises(TypeError, match="str, bytes"):
        genet5.GeneFinder(meta=True).find_genes_many([phage[:9000], None])
    assert len(genet5.GeneFinder(meta=True).find_genes(bytearray(phage[:9000].encode()))) > 5


@pytest.mark.parametrize("kwargs, error, said", [
    ({"min_gene_length": "90"}, TypeError, "min_gene_length.*int"),
    ({"min_gene_length": 90.0}, TypeError, "min_gene_length.*int"),
    ({"genetic_code": True}, TypeError, "genetic_code.*int"),
    ({"genetic_code": 11.7}, TypeError, "genetic_code.*int"),
    ({"threads": "2"}, TypeError, "threads.*int"),
    ({"start_codons": ["TAA"]}, ValueError, "TAA is a stop codon"),
    ({"start_codons": ["ATG", "TGA"], "genetic_code": 11}, ValueError, "TGA is a stop codon under translation table 11"),
    ({"start_codons": [1, 2]}, TypeError, "start_codons"),
    ({"training": "/nonexistent/missing.trn"}, FileNotFoundError, "training file: No such file.*missing.trn"),
    ({"closed": "no"}, TypeError, "closed: 'no' is not True or False"),
    ({"meta": "yes"}, TypeError, "meta: 'yes' is not True or False"),
    ({"meta": True, "mode": "single"}, ValueError, "both modes"),
])
def test_bad_arguments_say_what_is_wrong(kwargs, error, said):
    with pytest.raises(error, match=said):
        genet5.GeneFinder(**kwargs)


def test_valid_numbers_still_taken():
    np = pytest.importorskip("numpy")
    genet5.GeneFinder(genetic_code=np.int64(4), min_gene_length=np.int32(120), start_codons=["TGA", "ATG"])


def test_a_meta_finder_does_not_train(phage):
    """As pyrodigal: a meta-mode finder decodes with the shipped sets only; training it is an error
    (it used to train and then decode with what it learned while .mode said meta)."""
    for finder in (genet5.GeneFinder(meta=True), genet5.GeneFinder(mode="meta")):
        with pytest.raises(RuntimeError, match="meta"):
            finder.train(phage)
        assert finder.training is None and finder.mode == "meta"


def test_errors_name_the_api_not_the_command(phage):
    with pytest.raises(GenomeFormatError, match=re.escape("GeneFinder(meta=True)")) as err:
        genet5.GeneFinder(mode="single").find_genes(phage[:15_000])
    assert "--" not in str(err.value) and "too little" in str(err.value)


def test_writers_check_the_sequence_id(phage):
    genes = genet5.GeneFinder(meta=True).find_genes(phage[:9000])
    for write in (genes.write_gff, genes.write_genes, genes.write_translations):
        with pytest.raises(GenomeFormatError, match="one word"):
            write(io.StringIO(), sequence_id="a b")
    out = io.StringIO()
    genes.write_gff(out, sequence_id="contig_1")
    assert "\ncontig_1\t" in out.getvalue()


def test_rbs_spacer_documented_as_returned(phage):
    """rbs_spacer is the exact count of bases ("4bp"), not Prodigal's ranges: the doc says so."""
    spacers = {g.rbs_spacer for g in genet5.GeneFinder(meta=True).find_genes(phage[:30_000])} - {None}
    assert spacers and all(re.fullmatch(r"\d+bp", s) for s in spacers)
    doc = next(ln for ln in inspect.getsource(Gene).splitlines() if ln.strip().startswith("rbs_spacer:"))
    assert '"4bp"' in doc and "not Prodigal" in doc


def test_writers_and_inputs_as_a_pyrodigal_user_tries_them(phage, tmp_path):
    """A QA pass's findings: a slice of Genes keeps its writers (and writes only its genes); a
    width below 1 or not an int is refused (a negative one wrote headers without sequences); a
    training file into a missing folder names that path; a non-ASCII letter is shown as typed;
    bytes in a numpy array are a sequence, as any buffer."""
    np = pytest.importorskip("numpy")
    genes = genet5.GeneFinder(meta=True).find_genes(phage[:9000], sequence_id="c1")
    part = genes[1:3]
    out = io.StringIO()
    part.write_gff(out)
    assert len(part) == 2 and out.getvalue().count("\tCDS\t") == 2
    for width, error in ((-5, ValueError), (0, ValueError), ("60", TypeError)):
        with pytest.raises(error, match="width"):
            genes.write_translations(io.StringIO(), width=width)
    finder = genet5.GeneFinder().train(phage)
    with pytest.raises(FileNotFoundError, match="no such folder") as err:
        finder.save_training(tmp_path / "nodir" / "x.trn")
    assert err.value.filename == str(tmp_path / "nodir" / "x.trn") and not (tmp_path / "nodir").exists()
    with pytest.raises(GenomeFormatError, match="invalid character 'é' at position 5"):
        genet5.GeneFinder(meta=True).find_genes("ACGTé" + "ACGT" * 50)
    as_array = np.frombuffer(phage[:9000].encode(), dtype=np.uint8)
    assert genet5.GeneFinder(meta=True).find_genes(as_array) == genet5.GeneFinder(meta=True).find_genes(phage[:9000])
