"""`genet5 stats` CDS validation of partial genes: a 5'-partial CDS is read from its phase and a
3'-partial CDS is partial, not stopless, on both strands."""

from __future__ import annotations

from genet5.genome.codes import reverse_complement
from genet5.genome.stats import genome_stats


def _rc(s: str) -> str:
    return reverse_complement(s.encode()).decode()


def test_partial_genes_on_both_strands_are_valid(tmp_path):
    # Transcription-order sequences. A read one base off its phase ends mid-codon: "no stop".
    plus_5p = "C" + "AAACCCGGG" + "TAA"  # 1..13 +, phase 1, cut at the sequence start
    minus_5p = "G" + "AAACCCGGG" + "TGA"  # 19..31 -, phase 1, its 5' end cut by an N gap
    minus_3p = "ATG" + "AAACCC" + "GG"  # 37..47 -, its 3' end cut by the same gap
    broken = "ATGAAACCCGGG"  # 53..64 +, complete, no stop: must still fail
    plus_3p = "ATGAAACCCG"  # 70..79 +, runs off the sequence end
    seq = plus_5p + "TTTTT" + _rc(minus_5p) + "NNNNN" + _rc(minus_3p) + "TTTTT" + broken + "AAAAA" + plus_3p
    assert len(seq) == 79
    fasta = tmp_path / "g.fa"
    fasta.write_text(f">c\n{seq}\n")
    gff = tmp_path / "a.gff3"
    gff.write_text(
        "##gff-version 3\n"
        "c\tx\tCDS\t1\t13\t.\t+\t1\tID=a;partial=true;start_range=.,1\n"
        "c\tx\tCDS\t19\t31\t.\t-\t1\tID=b;partial=true;end_range=31,.\n"
        "c\tx\tCDS\t37\t47\t.\t-\t0\tID=d;partial=true;start_range=.,37\n"
        "c\tx\tCDS\t53\t64\t.\t+\t0\tID=e\n"
        "c\tx\tCDS\t70\t79\t.\t+\t0\tID=f;partial=true;end_range=79,.\n"
    )
    v = genome_stats(fasta, gff)["annotation"]["validation"]
    assert (v["checked"], v["valid"], v["partial"]) == (5, 4, 4)
    assert v["failures"] == {"length_not_multiple_of_3": 0, "no_start_codon": 0, "no_stop_codon": 1,
                             "internal_stop": 0, "past_sequence_end": 0}
    assert v["examples"] == {"no_stop_codon": ["e"]}
