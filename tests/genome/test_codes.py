"""NCBI genetic codes: the tables the shared genomes use (1, 4, 11) and translation."""

from __future__ import annotations

import pytest

from genet5.genome.codes import genetic_code, known_codes, reverse_complement


def test_standard_code_stops_and_translation():
    code = genetic_code(1)
    assert code.stops == {b"TAA", b"TAG", b"TGA"}
    assert code.translate(b"ATGGCTTGGTAA") == "MAW*"
    assert code.translate(b"ATGNNNTAA") == "MX*"
    assert code.translate(b"ATGAAATAA", to_stop=True) == "MK"


def test_mycoplasma_code_4_reads_tga_as_tryptophan():
    code = genetic_code(4)
    assert b"TGA" not in code.stops and code.translate(b"ATGTGATAA") == "MW*"


def test_bacterial_code_11_alternative_starts_read_as_met():
    code = genetic_code(11)
    assert {b"ATG", b"GTG", b"TTG"} <= code.starts
    assert code.translate(b"GTGGTGTAA") == "MV*"
    assert code.translate(b"GTGGTGTAA", first_as_met=False) == "VV*"


def test_unknown_code_is_a_clear_error():
    assert 11 in known_codes() and 4 in known_codes()
    with pytest.raises(ValueError, match="unknown genetic code 99"):
        genetic_code(99)


def test_reverse_complement_keeps_iupac_and_case():
    assert reverse_complement(b"ACGTRY") == b"RYACGT"
    assert reverse_complement(b"acgt") == b"acgt"
    assert reverse_complement(b"AACG") == b"CGTT"
    assert reverse_complement(b"ACGTN") == b"NACGT"


def _translate_codon_by_codon(code, cds: bytes, to_stop: bool, first_as_met: bool) -> str:
    """The definition, one codon at a time (translate does all codons at once)."""
    aa = []
    for i in range(0, len(cds) - 2, 3):
        a = code.codon_to_aa.get(cds[i : i + 3], "X")
        if a == "*" and to_stop:
            break
        aa.append(a)
    if first_as_met and aa and cds[:3] in code.starts:
        aa[0] = "M"
    return "".join(aa)


@pytest.mark.parametrize("table", [1, 4, 11, 25, 15])
def test_translation_matches_its_codon_by_codon_definition(table):
    """Random CDS with N, IUPAC and lower-case letters (read as X), partial last codons,
    alternative starts, stops inside, with and without to_stop / first_as_met."""
    import random

    code, rng = genetic_code(table), random.Random(table)
    for _ in range(2000):
        cds = bytes(rng.choice(b"ACGTACGTACGTNacgRY") for _ in range(rng.randrange(0, 40)))
        for to_stop in (False, True):
            for first_as_met in (False, True):
                assert code.translate(cds, to_stop=to_stop, first_as_met=first_as_met) == \
                    _translate_codon_by_codon(code, cds, to_stop, first_as_met), (cds, to_stop, first_as_met)
