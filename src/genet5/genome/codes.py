"""NCBI genetic codes (translation tables), translation and start-codon sets.

The tables themselves come from Biopython's copy of the NCBI list (Bio.Data.CodonTable), so
every NCBI table id works; this module adds what a gene finder needs on top: a fast bytes
translator, stop and start sets as bytes, and reverse complement.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from Bio.Data import CodonTable

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
        ribosome does, unless first_as_met is False. A trailing partial codon is ignored."""
        aa = []
        get = self.codon_to_aa.get
        for i in range(0, len(cds) - 2, 3):
            codon = cds[i : i + 3]
            a = get(codon, "X")
            if a == "*" and to_stop:
                break
            aa.append(a)
        if first_as_met and aa and cds[:3] in self.starts:
            aa[0] = "M"
        return "".join(aa)

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
