"""NCBI genetic codes (translation tables), translation and start-codon sets.

The tables themselves come from Biopython's copy of the NCBI list (Bio.Data.CodonTable), so
every NCBI table id works; this module adds what a gene finder needs on top: a fast bytes
translator, stop and start sets as bytes, and reverse complement.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
from Bio.Data import CodonTable

# A, C, G, T (upper case, as codon_to_aa's keys) -> 0..3; any other byte -> 4 (its codon reads X)
_BASE5 = np.full(256, 4, dtype=np.intp)
for _i, _b in enumerate(b"ACGT"):
    _BASE5[_b] = _i

_COMPLEMENT = bytes.maketrans(b"ACGTRYKMBVDHNSWacgtrykmbvdhnsw", b"TGCAYRMKVBHDNSWtgcayrmkvbhdnsw")


def reverse_complement(seq: bytes) -> bytes:
    return seq.translate(_COMPLEMENT)[::-1]


@dataclass(frozen=True)
class GeneticCode:
    id: int
    name: str
    codon_to_aa: dict[bytes, str]
    stops: frozenset[bytes]
    starts: frozenset[bytes]

    def translate(self, cds: bytes, *, to_stop: bool = False, first_as_met: bool = True) -> str:
        """Translate a CDS (upper-case bytes). Stops become '*'; codons with N or IUPAC
        letters become 'X'. An alternative start codon at position 0 reads as 'M', as the
        ribosome does, unless first_as_met is False. A trailing partial codon is ignored.
        All codons at once through a table of the 125 codons of A, C, G, T and "other" (a loop
        over codons in Python was 0.28 s of `predict -a` on a 4 Mb genome)."""
        n = len(cds) // 3
        codes = _BASE5[np.frombuffer(cds, dtype=np.uint8, count=3 * n)].reshape(n, 3)
        aa = self._codon_table[codes[:, 0] * 25 + codes[:, 1] * 5 + codes[:, 2]].tobytes()
        if to_stop:
            aa = aa.split(b"*", 1)[0]
        if first_as_met and aa and cds[:3] in self.starts:
            aa = b"M" + aa[1:]
        return aa.decode("ascii")

    @cached_property
    def _codon_table(self) -> np.ndarray:
        """(125,) uint8: the amino acid of each codon read in base 5 (A, C, G, T, other)."""
        table = np.full(125, ord("X"), dtype=np.uint8)
        for codon, aa in self.codon_to_aa.items():
            idx = _BASE5[np.frombuffer(codon, dtype=np.uint8)]
            if len(codon) == 3 and (idx < 4).all():
                table[idx[0] * 25 + idx[1] * 5 + idx[2]] = ord(aa)
        return table

    def is_stop(self, codon: bytes) -> bool:
        return codon in self.stops

    def is_start(self, codon: bytes) -> bool:
        return codon in self.starts


@lru_cache(maxsize=None)
def genetic_code(table_id: int) -> GeneticCode:
    """The NCBI translation table `table_id` (1 standard, 4 Mycoplasma, 11 bacterial/plastid...)."""
    try:
        table = CodonTable.unambiguous_dna_by_id[int(table_id)]
    except KeyError:
        known = ", ".join(str(k) for k in sorted(CodonTable.unambiguous_dna_by_id))
        raise ValueError(f"unknown genetic code {table_id}; NCBI tables are {known}") from None
    codon_to_aa = {c.encode(): a for c, a in table.forward_table.items()}
    stops = frozenset(c.encode() for c in table.stop_codons)
    for s in stops:
        codon_to_aa[s] = "*"
    starts = frozenset(c.encode() for c in table.start_codons)
    return GeneticCode(int(table_id), table.names[0], codon_to_aa, stops, starts)


def known_codes() -> list[int]:
    return sorted(CodonTable.unambiguous_dna_by_id)
