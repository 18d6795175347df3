"""`-g auto`: genetic code 11 or 4 from the genome itself (Prodigal cannot tell them apart).

Mycoplasmas, Spiroplasmas and their relatives read TGA as tryptophan (table 4). Decoded under
table 4, their genes carry in-frame TGA codons (tryptophan is ~1% of codons: a typical gene
has a few); a table-11 genome decoded under table 4 has genes that only rarely do (where a
TGA stop was read through into the next gene or into junk). So the genome is decoded once
under table 4 with its own statistics (no network, one round: seconds) and the share of genes
with an internal TGA decides.
"""

from __future__ import annotations

from genet5.genome.codes import genetic_code
from genet5.predict.prokaryote.decoder import ProkaryoteSettings, find_genes, prepare_record
from genet5.predict.prokaryote.orfs import base_codes

# Share of table-4 genes with an in-frame TGA above which the genome is called table 4.
# Measured on the shared genomes (2026-12-03): M. gallisepticum and M. alvi (table 4) >= 0.7;
# E. coli, Vibrio, T. kodakarensis, Erwinia phages (table 11) <= 0.25.
TGA_SHARE = 0.5


def tga_share(records: list[tuple[str, bytes]], min_len: int = 90) -> float:
    code4 = genetic_code(4)
    starts = frozenset({b"ATG", b"GTG", b"TTG"})
    settings = ProkaryoteSettings(min_len=min_len, use_net=False, rounds=1, use_start_model=False)
    prepared = [prepare_record(sid, seq, code4, starts, settings) for sid, seq in records]
    found = find_genes(prepared, settings)
    with_tga = total = 0
    tga = base_codes(b"TGA")
    for (sid, seq), genes in zip(records, found):
        for g in genes:
            if g.start_partial or g.end_partial:
                continue
            cds = seq[g.start - 1 : g.end].upper()
            if g.strand == "-":
                from genet5.genome.codes import reverse_complement

                cds = reverse_complement(cds)
            c = base_codes(cds[:-3])
            codons = c[: len(c) // 3 * 3].reshape(-1, 3)
            total += 1
            with_tga += bool(((codons == tga[None, :]).all(axis=1)).any())
    return with_tga / total if total else 0.0


def choose_code(records: list[tuple[str, bytes]]) -> tuple[int, float]:
    """(table, share of table-4 genes with an internal TGA)."""
    share = tga_share(records)
    return (4 if share >= TGA_SHARE else 11), share
