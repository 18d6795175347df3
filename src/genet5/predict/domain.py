"""`--domain auto`: prokaryote or eukaryote from the genome itself, by how its long open reading
frames (100+ codons, either strand) cover it.

A prokaryote's genes are unbroken ORFs packed end to end: 85-96% of the sequence lies in a long
ORF beyond what chance gives at its base composition, and the stretches between long ORFs are
short (median 50-230 bases). Introns break a eukaryote's genes into short exons (worm, fly,
Arabidopsis, human: 40-62% beyond chance; Zymoseptoria 70%), and a compact eukaryote's genes,
though mostly unbroken (yeast 80%), lie further apart (median gap 317 bases). Measured on every
shared genome's first 2 Mb (2026-12-05, session 28; chance: the same count on random sequence
of the genome's base composition; reading TGA as a stop or not, the higher):

    prokaryotes (bacteria, archaea, phages; train and validation): excess 0.85-0.96, gap 49-228
    eukaryotes: yeast 0.81 / 317, Zymoseptoria 0.70 / 154, fly 0.40-0.57 / 490-865,
    worm 0.62 / 584, Arabidopsis 0.52-0.55 / 616-669, human chrX 0.40 / 333

So a genome is called eukaryotic when its excess is under EXCESS_BELOW or its median gap over
GAP_ABOVE, unless its long ORFs' first starts carry a Shine-Dalgarno motif (SD_RATIO_ABOVE,
below: a bacterium with much non-coding DNA). Organelle genomes read as eukaryotic by these numbers (Arabidopsis chloroplast
0.64 / 464, mitochondrion 0.42 / 542), yet their genes are a bacterium's, unbroken and without
the nucleus's splice sites: decoded as prokaryotes they get gene F1 0.58 (chloroplast, table 11)
and 0.52 (mitochondrion, table 1) against 0.24 and 0.18 as eukaryotes (bench/organelles.py,
2026-12-05, session 30).
So where every record's FASTA header names an organelle (as NCBI's do: "... chloroplast,
complete genome") the genome is decoded as a prokaryote, and the summary says why. A bacterium
with many pseudogenes could also read as eukaryotic: give --domain there. Inputs under
MIN_BASES (100 kb) are too short to tell and stay prokaryotic, as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from genet5.genome.codes import genetic_code, reverse_complement
from genet5.predict.eukaryote.density import orf_spans
from genet5.predict.prokaryote.orfs import base_codes, word_hits
from genet5.predict.prokaryote.starts import CODONS, SD_GROUPS

SAMPLE_BASES = 2_000_000  # read from the start of the genome
# Below this the call is noisy (pieces of the shared genomes, 2026-12-05: at 20 kb 2-4 of 12
# pieces of Vibrio and M. alvi read as eukaryotes, at 100 kb 1 of 8 of M. alvi, at 300 kb none;
# intron-rich eukaryotes' pieces read right from 20 kb): shorter inputs stay prokaryotic
MIN_BASES = 100_000
MIN_CODONS = 100
EXCESS_BELOW = 0.75
GAP_ABOVE = 280


# A FASTA header that names an organelle genome (NCBI: "NC_000932.1 Arabidopsis thaliana
# chloroplast, complete genome"); the kind it names, as the summary says it
ORGANELLE_WORDS = re.compile(r"\b(chloroplast|plastid|apicoplast|cyanelle|chromatophore|mitochondri(?:on|al|a)|kinetoplast)\b",
                             re.IGNORECASE)


def organelle_named(descriptions: list[str]) -> str | None:
    """The organelle every header names ("plastid" or "mitochondrion"), or None where one does
    not (a nuclear assembly with an organelle contig among its records is not one)."""
    kinds = set()
    for d in descriptions:
        m = ORGANELLE_WORDS.search(d)
        if m is None:
            return None
        word = m.group(1).lower()
        kinds.add("mitochondrion" if word.startswith(("mitochondri", "kinetoplast")) else "plastid")
    return kinds.pop() if len(kinds) == 1 else ("organelle" if kinds else None)


@dataclass
class DomainChoice:
    domain: str
    excess: float  # share of the genome in long ORFs beyond chance (table 11's, or the higher of 11 and 4 where 11's is low)
    gap: float  # median stretch between long ORFs (table 11), bases
    bases: int  # bases read
    organelle: str | None = None  # the organelle the headers name (decoded as a prokaryote)
    sd_ratio: float = float("nan")  # Shine-Dalgarno enrichment (sd_enrichment), where the ORFs said eukaryote
    sd_low: float = float("nan")  # ... and its lower bound

    def reason(self) -> str:
        if self.organelle:
            return f"the FASTA headers name a {self.organelle} genome: its genes are decoded as a prokaryote's"
        if self.bases < MIN_BASES:
            return f"{self.bases:,} bases, too short to tell"
        said = f"long ORFs cover {self.excess:.2f} beyond chance, median gap {self.gap:.0f} bp"
        if self.domain == "prokaryote" and self.sd_low == self.sd_low:  # the motif overruled the ORFs
            said += f", but their starts carry a Shine-Dalgarno motif {self.sd_ratio:.1f}x as often as inner ones"
        return said

    def describe(self) -> str:
        return f"auto: {self.reason()}"


def _coverage(records: list[tuple[str, bytes]], table: int) -> tuple[float, np.ndarray]:
    """(share of bases inside a long ORF on either strand, lengths of the uncovered stretches
    between covered ones)."""
    code = genetic_code(table)
    covered, total, gaps = 0, 0, []
    for _, seq in records:
        n = len(seq)
        if n == 0:
            continue
        edges = np.zeros(n + 1, dtype=np.int32)
        for strand, a, b in orf_spans(seq, code, MIN_CODONS):
            lo, hi = (a, b) if strand == 1 else (n - b, n - a)
            edges[lo] += 1
            edges[hi] -= 1
        inside = np.cumsum(edges[:n]) > 0
        covered += int(inside.sum())
        total += n
        # uncovered stretches [start, end), those that touch a sequence end left out
        change = np.flatnonzero(np.diff(np.concatenate([[1], inside.astype(np.int8), [1]])))
        start, end = change[::2], change[1::2]
        keep = (start > 0) & (end < n)
        gaps.append(end[keep] - start[keep])
    return covered / max(total, 1), np.concatenate(gaps) if gaps else np.zeros(0, dtype=np.int64)


def _random_like(records: list[tuple[str, bytes]], bases: int = 200_000) -> list[tuple[str, bytes]]:
    """Random sequence with the genome's base composition (seeded): what chance gives."""
    counts = np.zeros(4)
    for _, seq in records:
        s = seq.upper()
        counts += [s.count(c) for c in b"ACGT"]
    if counts.sum() == 0:
        return []
    rng = np.random.default_rng(0)
    return [("random", rng.choice(np.frombuffer(b"ACGT", dtype=np.uint8), size=bases, p=counts / counts.sum()).tobytes())]


# Shine-Dalgarno evidence: how much more often the first start codon of a long ORF has a piece
# of AGGAGG 8-15 bases upstream than the next start codons inside the same ORF do. Ribosomes of
# bacteria, archaea, phages and plastids read that motif; eukaryotic ones do not. First 2 Mb of
# every shared genome (2026-12-05, session 30; motif AGGA/GGAG/GAGG ending 5-15 bases before
# the start, ATG/GTG/TTG, ORFs of 100+ codons, the next three starts inside as the comparison):
#     eukaryotes 0.71 (worm) - 1.12 (human chrX), Zymoseptoria 1.04, yeast 0.86
#     prokaryotes 1.33 (T. kodakarensis), 1.37 (Bradyrhizobium) - 5.7 (Erwinia phages),
#     Mycoplasmas 2.7-3.6, the chloroplast 2.90, the mitochondrion 1.44
# A genome whose ratio is at least SD_RATIO_ABOVE with two standard errors to spare (its
# lower bound) is a prokaryote whatever its ORFs say: an AT-rich bacterium with a quarter of its
# genome non-coding (a decaying obligate symbiont or pathogen, ~76% coding) spreads its long ORFs
# a median 290+ bases apart (M. alvi with ~200 random bases added to each gap: 0.81 / 292) and
# read as a eukaryote before; its starts keep their motif (2.7).
SD_RATIO_ABOVE = 1.2
# ... counted over at least this many long ORFs: 100 kb pieces of eukaryotes (150 at most) can
# pass by chance (one of 48 Zymoseptoria, yeast, worm, fly, Arabidopsis and human pieces of 100 kb
# did; none of 300 kb or 1 Mb), a 1 Mb bacterium has ~1,500
SD_MIN_ORFS = 300
_SD_PIECES = SD_GROUPS[2]  # AGGA, GGAG, GAGG: the start model's 4-base motifs
_STARTS = CODONS  # ATG, GTG, TTG


def sd_enrichment(records: list[tuple[str, bytes]]) -> tuple[float, float, int]:
    """(ratio, its lower bound at two standard errors, long ORFs counted): the share of long
    ORFs' first start codons with a Shine-Dalgarno piece 8-15 bases upstream over the share of
    the next three starts inside the same ORFs."""
    first = n_first = inner = n_inner = 0
    for _, seq in records:
        for strand_seq in (seq, reverse_complement(seq)):
            ids = base_codes(strand_seq)
            sd = np.concatenate([[0], np.cumsum(word_hits(ids, _SD_PIECES))])  # motifs begun before i
            starts = np.flatnonzero(word_hits(ids, _STARTS))
            for strand, lo, hi in orf_spans(strand_seq, genetic_code(11), MIN_CODONS):
                if strand != 1:
                    continue  # each strand is read forwards, once
                in_frame = starts[(starts >= lo) & (starts < hi) & ((starts - lo) % 3 == 0)]
                in_frame = in_frame[in_frame >= 15]  # room for the upstream window
                if not len(in_frame):
                    continue
                # a motif beginning 15..8 bases before the start (ending 12..5 before it)
                has = sd[in_frame[:4] - 7] - sd[in_frame[:4] - 15] > 0
                first += int(has[0])
                n_first += 1
                inner += int(has[1:].sum())
                n_inner += len(has) - 1
    if not n_first or not n_inner or not first or not inner:
        return 1.0, 0.0, n_first
    p1, p2 = first / n_first, inner / n_inner
    se = np.sqrt((1 - p1) / first + (1 - p2) / inner)
    ratio = p1 / p2
    return float(ratio), float(ratio * np.exp(-2 * se)), n_first


def choose_domain(records: list[tuple[str, bytes]], descriptions: list[str] | None = None) -> DomainChoice:
    """records: the genome's first records (read_head's sample); descriptions: their FASTA
    header lines, where an organelle's name decides."""
    bases = sum(len(s) for _, s in records)
    organelle = organelle_named(descriptions) if descriptions else None
    if organelle:
        return DomainChoice("prokaryote", float("nan"), float("nan"), bases, organelle)
    if bases < MIN_BASES:
        return DomainChoice("prokaryote", float("nan"), float("nan"), bases)
    chance = _random_like(records)
    seen, gaps = _coverage(records, 11)
    gap = float(np.median(gaps)) if gaps.size else 0.0
    best = 0.0
    for table in (11, 4):  # a table-4 genome's TGAs break its ORFs under table 11: the higher reading
        if table == 4 and best >= EXCESS_BELOW:
            break  # table 11 already reads it as coding enough: table 4 could only read it higher
        got = seen if table == 11 else _coverage(records, 4)[0]
        expected = _coverage(chance, table)[0] if chance else 0.0
        best = max(best, (got - expected) / max(1.0 - expected, 1e-9))
    eukaryote = best < EXCESS_BELOW or gap > GAP_ABOVE
    sd_ratio = sd_low = float("nan")
    if eukaryote:  # unless its starts carry a Shine-Dalgarno motif
        sd_ratio, sd_low, orfs = sd_enrichment(records)
        eukaryote = sd_low < SD_RATIO_ABOVE or orfs < SD_MIN_ORFS
    return DomainChoice("eukaryote" if eukaryote else "prokaryote", best, gap, bases, sd_ratio=sd_ratio, sd_low=sd_low)


def read_head(records, bases: int = SAMPLE_BASES) -> tuple[list, list[tuple[str, bytes]]]:
    """(the first records of a read_fasta stream, whole, up to and including the one that
    reaches `bases`; their first `bases` bases as (id, sequence)). The caller decodes the head
    and then the rest of the same stream, so the FASTA is still read once."""
    head, sample, total = [], [], 0
    for rec in records:
        head.append(rec)
        seq = rec.seq[: bases - total]
        sample.append((rec.id, seq))
        total += len(seq)
        if total >= bases:
            break
    return head, sample
