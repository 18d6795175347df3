"""Decoded genes (either decoder's) as the package's gene model, ready for the writers."""

from __future__ import annotations

from genet5.genome.models import Gene, Segment, Transcript


def predicted_gene(g, seqid: str, index: int, prefix: str) -> Gene:
    """One gene with one transcript from a decoder's gene: an OrfGene (start/end, one CDS
    segment) or a ViterbiGene (`cds`, segments in transcription order). IDs are
    PREFIX_SEQID_INDEX and PREFIX_SEQID_INDEX.t1."""
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
    rbs = getattr(g, "rbs", None)  # the prokaryote decoder's: the Shine-Dalgarno motif before the start
    if rbs is not None and g.start_codon:
        motif, spacer = rbs
        tx.attributes.update({"rbs_motif": motif or "None", "rbs_spacer": f"{spacer}bp" if motif else "None"})
    return Gene(id=gid, seqid=seqid, strand=g.strand, transcripts=[tx])
