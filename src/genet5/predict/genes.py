"""Decoded genes (either decoder's) as the package's gene model, ready for the writers."""

from __future__ import annotations

import bisect
from dataclasses import replace

from genet5.genome.models import Gene, Segment, Transcript
from genet5.predict.prokaryote.orfs import segments


def gap_edges(seq: bytes) -> list[int]:
    """Sorted 1-based positions just outside the sequence's stretches of bases, split at assembly
    gaps as the decoders split records (orfs.segments): 0, len + 1, and the N on each side of a
    gap."""
    return sorted({0, len(seq) + 1} | {x for a, b in segments(seq) for x in (a, b + 1)})


def reach_edges(tx: Transcript, edges: list[int]) -> None:
    """A CDS cut by a sequence end or a gap, written to the last base before it, as NCBI
    annotates one (its draft references do: `partial=true`, the CDS from base 1, the first
    codon's offset in the phase column) rather than to the last whole codon, as the decoders
    find it (and Prodigal writes it): an exact comparison with such a reference otherwise misses
    two in three cut genes. Moves a cut end at most 2 bases, onto an edge only; the 5' end's
    added bases become tx.phase."""
    left_cut, right_cut = (tx.start_partial, tx.end_partial) if tx.strand != "-" else (tx.end_partial, tx.start_partial)
    if left_cut:
        k = min(range(len(tx.cds)), key=lambda i: tx.cds[i].start)
        edge = edges[bisect.bisect_left(edges, tx.cds[k].start) - 1]  # the nearest edge left of the CDS
        moved = tx.cds[k].start - edge - 1
        if 0 < moved <= 2:
            tx.cds[k] = replace(tx.cds[k], start=edge + 1)
            if tx.strand != "-":
                tx.phase = moved
    if right_cut:
        k = max(range(len(tx.cds)), key=lambda i: tx.cds[i].end)
        edge = edges[bisect.bisect_right(edges, tx.cds[k].end)]
        moved = edge - tx.cds[k].end - 1
        if 0 < moved <= 2:
            tx.cds[k] = replace(tx.cds[k], end=edge - 1)
            if tx.strand == "-":
                tx.phase = moved


def predicted_gene(g, seqid: str, index: int, prefix: str, edges: list[int] | None = None) -> Gene:
    """One gene with one transcript from a decoder's gene: an OrfGene (start/end, one CDS
    segment) or a ViterbiGene (`cds`, segments in transcription order). IDs are
    PREFIX_SEQID_INDEX and PREFIX_SEQID_INDEX.t1. edges (gap_edges of the sequence): a cut
    gene reaches the edge that cut it (reach_edges)."""
    gid = f"{prefix}_{seqid}_{index}"
    segments = getattr(g, "cds", None) or [(g.start, g.end)]
    tx = Transcript(
        id=f"{gid}.t1",
        gene_id=gid,
        seqid=seqid,
        strand=g.strand,
        cds=[Segment(a, b, g.strand) for a, b in segments],
        start_partial=g.start_partial,
        end_partial=g.end_partial,
        attributes={"score": f"{g.score:.1f}", "start_codon": g.start_codon},
    )
    if edges is not None and (tx.start_partial or tx.end_partial):
        reach_edges(tx, edges)
    rbs = getattr(g, "rbs", None)  # the prokaryote decoder's: the Shine-Dalgarno motif before the start
    if rbs is not None and g.start_codon:
        motif, spacer = rbs
        tx.attributes.update({"rbs_motif": motif or "None", "rbs_spacer": f"{spacer}bp" if motif else "None"})
    return Gene(id=gid, seqid=seqid, strand=g.strand, transcripts=[tx])
