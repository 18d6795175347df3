"""CDS-based gene-prediction accuracy (the rules: docs/architecture.md, "Ground rules").

Levels (each with sensitivity, precision and F1, per sequence and micro-averaged):
- nucleotide: strand-aware CDS bases (interval arithmetic: no per-base sets, so whole
  chromosomes score in milliseconds);
- exon: unique (strand, start, end) CDS segments, exact (abutting segments of one transcript
  joined first, on both sides: one exon written as two rows is still one exon);
- transcript: unique ordered CDS chains, exact;
- gene: a reference gene is found when any of its chains is predicted; a predicted gene is
  correct when any of its chains is a reference gene's that no earlier predicted gene claimed
  (a gene listed twice counts once; each side its own denominator). A gene is a locus: one
  whose transcripts fall into several loci (same seqid and strand, overlapping CDS spans)
  counts as one gene per locus, on both sides;
- stop: unique (strand, 3' end of the CDS); start_stop: unique (strand, 5' end, 3' end).

Only protein-coding, non-pseudogene transcripts count; transcripts whose CDS length is not a
multiple of 3 are dropped on both sides and the numbers dropped are reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from genet5.genome.models import Annotation, Segment, Transcript

LEVELS = ("nucleotide", "exon", "transcript", "gene", "stop", "start_stop")


@dataclass
class Counts:
    """sn = found_ref / n_ref, pr = correct_pred / n_pred."""

    found_ref: int = 0
    n_ref: int = 0
    correct_pred: int = 0
    n_pred: int = 0

    def __iadd__(self, other: "Counts") -> "Counts":
        self.found_ref += other.found_ref
        self.n_ref += other.n_ref
        self.correct_pred += other.correct_pred
        self.n_pred += other.n_pred
        return self

    @property
    def sn(self) -> float:
        return self.found_ref / self.n_ref if self.n_ref else 0.0

    @property
    def pr(self) -> float:
        return self.correct_pred / self.n_pred if self.n_pred else 0.0

    @property
    def f1(self) -> float:
        s, p = self.sn, self.pr
        return 2 * s * p / (s + p) if s + p else 0.0

    def as_dict(self) -> dict:
        return {
            "sn": round(self.sn, 6),
            "pr": round(self.pr, 6),
            "f1": round(self.f1, 6),
            "found_ref": self.found_ref,
            "n_ref": self.n_ref,
            "correct_pred": self.correct_pred,
            "n_pred": self.n_pred,
        }


@dataclass
class _Side:
    """The kept coding transcripts of one annotation on one sequence, as comparable keys."""

    intervals: dict[str, list[tuple[int, int]]] = field(default_factory=lambda: {"+": [], "-": []})
    exons: set = field(default_factory=set)
    chains: set = field(default_factory=set)
    gene_chains: dict[tuple[int, int], set] = field(default_factory=dict)  # (gene, locus) -> chains
    stops: set = field(default_factory=set)
    start_stops: set = field(default_factory=set)


def _collect(ann: Annotation, seqid: str) -> tuple[_Side, int, int]:
    """The comparable keys of `seqid`, the transcripts dropped (CDS length not a multiple of 3)
    and the genes split into several loci."""
    side, dropped, split = _Side(), 0, 0
    # Genes are told apart by position in the list, not by ID: files that reuse an ID (one
    # AUGUSTUS run per chromosome, concatenated) must not merge two genes into one.
    for gene_index, gene in enumerate(ann.genes.get(seqid, [])):
        kept = []
        for tx in gene.transcripts:
            if not tx.is_coding or tx.pseudo:
                continue
            if tx.cds_length % 3 != 0:
                dropped += 1
                continue
            segs = merge_abutting(tx.cds)
            chain = tuple((s.strand, s.start, s.end) for s in segs)
            kept.append((tx, chain))
            side.chains.add(chain)
            for seg in segs:
                side.intervals[seg.strand].append((seg.start, seg.end))
                side.exons.add((seg.strand, seg.start, seg.end))
            strand = tx.cds[0].strand
            five, three = tx.cds_5prime(), tx.cds_3prime()
            side.stops.add((strand, three))
            side.start_stops.add((strand, five, three))
        loci = _loci(kept)
        split += len(loci) > 1
        for locus_index, chains in enumerate(loci):
            side.gene_chains[(gene_index, locus_index)] = chains
    return side, dropped, split


def merge_abutting(segments: list[Segment]) -> list[Segment]:
    """One transcript's CDS segments (transcription order) with abutting neighbours joined: a
    segment written as two rows (400-500, 501-600) is one exon and the same protein. Overlapping
    neighbours (a ribosomal frameshift) and strand switches stay apart."""
    out: list[Segment] = []
    for seg in segments:
        prev = out[-1] if out else None
        if prev is not None and prev.strand == seg.strand:
            if seg.strand == "+" and seg.start == prev.end + 1:
                out[-1] = Segment(prev.start, seg.end, "+")
                continue
            if seg.strand == "-" and seg.end == prev.start - 1:
                out[-1] = Segment(seg.start, prev.end, "-")
                continue
        out.append(seg)
    return out


def _loci(kept: list[tuple[Transcript, tuple]]) -> list[set]:
    """The chains of one gene's kept transcripts grouped into loci: same seqid and strand, CDS
    spans overlapping (transitively). A gene in GFF3 is a locus: a "gene" holding several disjoint
    loci (every mRNA of a file under one Parent) counts as that many genes, on both sides, so
    grouping cannot buy gene-level precision. One transcript is never split: a trans-spliced
    chain (chloroplast rps12, mitochondrial nad1) spans all its pieces on its own strand."""
    spans = sorted(
        ((tx.seqid, tx.strand, min(s.start for s in tx.cds), max(s.end for s in tx.cds), chain) for tx, chain in kept),
        key=lambda x: (x[0], x[1], x[2]),
    )
    loci: list[set] = []
    last_key, last_end = None, 0
    for seqid, strand, start, end, chain in spans:
        if (seqid, strand) == last_key and start <= last_end:
            loci[-1].add(chain)
            last_end = max(last_end, end)
        else:
            loci.append({chain})
            last_key, last_end = (seqid, strand), end
    return loci


def _union(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _total(intervals: list[tuple[int, int]]) -> int:
    return sum(e - s + 1 for s, e in intervals)


def _overlap(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> int:
    """Bases shared by two sorted, disjoint interval lists (a two-pointer sweep)."""
    i = j = shared = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            shared += hi - lo + 1
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return shared


def _set_counts(ref: set, pred: set) -> Counts:
    both = len(ref & pred)
    return Counts(both, len(ref), both, len(pred))


def compare_sequence(ref: _Side, pred: _Side) -> dict[str, Counts]:
    nuc = Counts()
    for strand in "+-":
        r, p = _union(ref.intervals[strand]), _union(pred.intervals[strand])
        shared = _overlap(r, p)
        nuc += Counts(shared, _total(r), shared, _total(p))
    found = sum(1 for chains in ref.gene_chains.values() if chains & pred.chains)
    correct = _genes_claimed(ref, pred)
    return {
        "nucleotide": nuc,
        "exon": _set_counts(ref.exons, pred.exons),
        "transcript": _set_counts(ref.chains, pred.chains),
        "gene": Counts(found, len(ref.gene_chains), correct, len(pred.gene_chains)),
        "stop": _set_counts(ref.stops, pred.stops),
        "start_stop": _set_counts(ref.start_stops, pred.start_stops),
    }


def _genes_claimed(ref: _Side, pred: _Side) -> int:
    """Predicted genes that are correct: one of their chains is a reference gene's, and that
    reference gene is not claimed already by an earlier predicted gene (a gene listed twice is
    one right prediction and one redundant one, not two right)."""
    owners: dict[tuple, list[int]] = {}
    for gene, chains in ref.gene_chains.items():
        for chain in chains:
            owners.setdefault(chain, []).append(gene)
    claimed: set[int] = set()
    correct = 0
    for chains in pred.gene_chains.values():
        free = next((g for chain in chains for g in owners.get(chain, ()) if g not in claimed), None)
        if free is not None:
            claimed.add(free)
            correct += 1
    return correct


@dataclass
class EvalResult:
    total: dict[str, Counts]
    per_sequence: dict[str, dict[str, Counts]]
    dropped_ref: int
    dropped_pred: int
    stops_added_ref: int = 0
    stops_added_pred: int = 0
    # predicted CDS 3' ends that miss a reference one by exactly a codon (either way): one side
    # leaves its stop codons out (GTF does; --genome reconciles them)
    stops_codon_apart: int = 0
    # genes holding several disjoint loci, each counted as one gene per locus (metrics._loci)
    genes_split_ref: int = 0
    genes_split_pred: int = 0

    def as_dict(self) -> dict:
        out: dict = {level: self.total[level].as_dict() for level in LEVELS}
        out["per_sequence"] = {
            seqid: {level: c.as_dict() for level, c in levels.items()} for seqid, levels in self.per_sequence.items()
        }
        out["dropped_not_multiple_of_3"] = {"reference": self.dropped_ref, "prediction": self.dropped_pred}
        out["stop_codons_added"] = {"reference": self.stops_added_ref, "prediction": self.stops_added_pred}
        out["genes_split_into_loci"] = {"reference": self.genes_split_ref, "prediction": self.genes_split_pred}
        return out


def evaluate(ref: Annotation, pred: Annotation, seqids: list[str] | None = None) -> EvalResult:
    """Score `pred` against `ref` on `seqids` (default: every sequence either side names).
    Stop-codon inclusion should already be made consistent (genome.validate.include_stop_codons)."""
    if seqids is None:
        seqids = list(dict.fromkeys(list(ref.genes) + list(pred.genes)))
    total = {level: Counts() for level in LEVELS}
    per_seq: dict[str, dict[str, Counts]] = {}
    dropped_ref = dropped_pred = apart = split_ref = split_pred = 0
    for seqid in seqids:
        r, dr, sr = _collect(ref, seqid)
        p, dp, sp = _collect(pred, seqid)
        dropped_ref += dr
        dropped_pred += dp
        split_ref += sr
        split_pred += sp
        apart += _stops_a_codon_apart(r.stops, p.stops)
        counts = compare_sequence(r, p)
        per_seq[seqid] = counts
        for level in LEVELS:
            total[level] += counts[level]
    return EvalResult(total, per_seq, dropped_ref, dropped_pred, stops_codon_apart=apart,
                      genes_split_ref=split_ref, genes_split_pred=split_pred)


def _stops_a_codon_apart(ref_stops: set, pred_stops: set) -> int:
    """Predicted 3' ends that are no reference 3' end but lie exactly 3 bases from one."""
    n = 0
    for strand, three in pred_stops - ref_stops:
        if (strand, three + 3) in ref_stops or (strand, three - 3) in ref_stops:
            n += 1
    return n
