"""The gene-density measure that tells compact, intron-poor genomes (yeasts) from intron-rich
ones: checked base by base against a plain loop over codons."""

from __future__ import annotations

import numpy as np

from genet5.genome.codes import genetic_code, reverse_complement
from genet5.predict.eukaryote.decoder import EukaryoteSettings, for_gene_density
from genet5.predict.eukaryote.density import long_orf_cover, single_orf_fraction


def _gap_bases(s: bytes) -> set[int]:
    """Positions in runs of 3+ non-ACGT bases (assembly gaps; a shorter run is read through)."""
    out, i = set(), 0
    while i < len(s):
        j = i
        while j < len(s) and s[j] not in b"ACGT":
            j += 1
        if j - i >= 3:
            out.update(range(i, j))
        i = max(j, i + 1)
    return out


def _cover_by_loop(seq: bytes, code, min_codons: int) -> np.ndarray:
    n = len(seq)
    depth = np.zeros(n, dtype=np.int8)
    for strand, s in ((1, seq), (-1, reverse_complement(seq))):
        gap = _gap_bases(s)
        for f in range(3):
            start = f
            ends = list(range(f, n - 2, 3))
            for i in ends + [None]:  # None: the frame runs off the sequence end
                stop = i is None or s[i : i + 3] in code.stops or any(k in gap for k in range(i, i + 3))
                if not stop:
                    continue
                end = (ends[-1] + 3 if ends else f) if i is None else i
                if (end - start) // 3 >= min_codons:
                    a, b = (start, end) if strand == 1 else (n - end, n - start)
                    depth[a:b] += 1
                if i is not None:
                    start = i + 3
    return depth


def test_cover_matches_a_loop_over_codons():
    rng = np.random.default_rng(5)
    for code_id in (1, 4, 11):
        code = genetic_code(code_id)
        for trial in range(12):
            letters = b"ACGTN" if trial % 3 == 0 else b"ACGTACGTACGTACGTACGTNR" if trial % 3 == 1 else b"ACGT"
            seq = bytes(rng.choice(list(letters), int(rng.integers(0, 700))).astype(np.uint8))
            for min_codons in (1, 4, 20):
                assert np.array_equal(long_orf_cover(seq, code, min_codons), _cover_by_loop(seq, code, min_codons)), (code_id, trial, min_codons)


def test_compact_genome_moves_the_settings():
    rng = np.random.default_rng(1)
    code = genetic_code(1)
    sense = sorted(c for c in code.codon_to_aa if c not in code.stops)
    gene = b"ATG" + b"".join(sense[i] for i in rng.integers(len(sense), size=999)) + b"TAA"
    spacer = lambda: b"TAA" * 30  # noqa: E731  (stops on every frame of both strands)
    compact = [("c", spacer() + gene + spacer() + gene + spacer())]
    assert single_orf_fraction(compact, code) > 0.8
    random_dna = [("r", bytes(rng.choice(list(b"ACGT"), 20_000).astype(np.uint8)))]
    assert single_orf_fraction(random_dna, code) < 0.05
    base = EukaryoteSettings()
    moved, density, t = for_gene_density(compact, code, base)
    assert t == 1.0 and moved.intron_logp == base.compact_intron_logp and moved.gene_logp == base.compact_gene_logp
    assert base.min_score > 0 and moved.min_score == base.compact_min_score  # yeast keeps its short weak genes
    assert base.report_min_score > base.min_score and moved.report_min_score == base.compact_min_score
    assert moved.scan_reach == base.compact_scan_reach > base.scan_reach  # short 5' UTRs: the first ATG of the ORF
    kept, _, t = for_gene_density(random_dna, code, base)
    assert t == 0.0 and kept == base
