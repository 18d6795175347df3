"""GenBank flat files (.gb/.gbk/.gbff, plain or gzip) into the gene model, with sequences.

Parsing is Biopython's SeqIO; this module turns its features into Gene -> Transcript:
- every CDS feature is one transcript (pseudo when it carries /pseudo or /pseudogene),
  grouped under a gene by /locus_tag, else /gene, else a generated id;
- a matching mRNA (same gene, containing the CDS) gives the exons;
- join() parts come from Biopython in biological order (it reverses complement(join(...))),
  so a chain that is already in transcription order is kept as is; an origin-spanning chain
  on a circular sequence or a mixed-strand (trans-spliced) chain keeps its order, flagged;
  anything else goes through order_segments;
- '<' / '>' become start_partial / end_partial by strand (on '-', '>' is the 5' end);
- /codon_start 2 or 3 becomes phase 1 or 2; /transl_table sets the genetic code.
"""

from __future__ import annotations

import gzip
import io
import os
from collections import Counter
from typing import Iterator

from Bio import SeqIO
from Bio.SeqFeature import AfterPosition, BeforePosition, SeqFeature

from .extract import introns
from .fasta import _FETCH
from .flatfile import LineCounter, flatfile_error
from .gff import parse_transl_table
from .models import Annotation, Gene, GenomeFormatError, Segment, Transcript, order_segments


def _open_text(path: str) -> io.TextIOBase:
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, "r", encoding="utf-8", errors="replace")


def _strand(s: int | None) -> str:
    return "-" if s == -1 else "+"


def _feature_segments(feature: SeqFeature) -> list[tuple[Segment, object, object]]:
    """(segment, start position, end position) per part, in Biopython's (biological) order."""
    out = []
    for part in feature.location.parts:
        seg = Segment(int(part.start) + 1, int(part.end), _strand(part.strand))
        out.append((seg, part.start, part.end))
    return out


def _in_transcription_order(segs: list[Segment]) -> bool:
    for a, b in zip(segs, segs[1:]):
        if a.strand != b.strand:
            return False
        if (a.strand == "+" and b.start < a.start) or (a.strand == "-" and b.start > a.start):
            return False
    return True


def _chain_order(segs: list[Segment], circular: bool) -> tuple[list[Segment], bool]:
    if len(segs) <= 1 or _in_transcription_order(segs):
        return list(segs), False
    if len({s.strand for s in segs}) > 1:
        return list(segs), True  # trans-spliced: the file's order is the biology
    if circular:
        # One break in the monotone run = the chain crosses the origin: keep it, flagged.
        # (order_segments would sort a two-part wrap, since any two starts look monotone.)
        plus = segs[0].strand == "+"
        breaks = sum(1 for a, b in zip(segs, segs[1:]) if (b.start < a.start) == plus)
        if breaks == 1:
            return list(segs), True
    return order_segments(segs)


def _partial_flags(parts: list[tuple[Segment, object, object]], chain: list[Segment]) -> tuple[bool, bool]:
    """start_partial / end_partial from '<' and '>' at the chain's 5' and 3' ends."""
    pos = {seg: (s, e) for seg, s, e in parts}
    first, last = chain[0], chain[-1]
    fs, fe = pos[first]
    ls, le = pos[last]
    if first.strand == "+":
        start_partial = isinstance(fs, BeforePosition)
    else:
        start_partial = isinstance(fe, AfterPosition)
    if last.strand == "+":
        end_partial = isinstance(le, AfterPosition)
    else:
        end_partial = isinstance(ls, BeforePosition)
    return start_partial, end_partial


def _q(feature: SeqFeature, key: str) -> str | None:
    vals = feature.qualifiers.get(key)
    return vals[0] if vals else None


def _is_pseudo(feature: SeqFeature) -> bool:
    return "pseudo" in feature.qualifiers or "pseudogene" in feature.qualifiers


def _gene_key(feature: SeqFeature) -> str | None:
    return _q(feature, "locus_tag") or _q(feature, "gene")


def _fits(exons: list[Segment], cds: list[Segment]) -> bool:
    """The mRNA can carry this CDS: every CDS segment lies inside an exon and every CDS intron
    is an mRNA intron (so of two isoforms with the same span the right one is chosen)."""
    inside = all(any(e.strand == c.strand and e.start <= c.start and c.end <= e.end for e in exons) for c in cds)
    return inside and set(introns(cds)) <= set(introns(exons))


def _iter_records(path: str) -> Iterator:
    with _open_text(path) as fh:
        lines = LineCounter(fh)
        try:
            yield from SeqIO.parse(lines, "genbank")
        except (ValueError, AssertionError) as exc:  # Biopython's parser errors carry no line
            raise flatfile_error(path, "GenBank", lines, exc) from None
        except (EOFError, gzip.BadGzipFile, OSError) as exc:
            raise GenomeFormatError(path, None, f"truncated or corrupt gzip: {exc}") from None


def _record_sequence(record) -> bytes | None:
    try:
        raw = bytes(record.seq)
    except Exception:  # UndefinedSequenceError: a CONTIG-only record has no bases
        return None
    return raw.translate(_FETCH)


def read_genbank(path: str | os.PathLike) -> tuple[Annotation, dict[str, bytes]]:
    """Read a GenBank flat file: the annotation and the sequences (upper-case ACGTN bytes)."""
    path = os.fspath(path)
    ann = Annotation(source=path)
    seqs: dict[str, bytes] = {}
    n_records = 0
    for record in _iter_records(path):
        n_records += 1
        seqid = record.id if record.id and record.id != "<unknown id>" else record.name
        if seqid in ann.sequence_lengths:
            raise GenomeFormatError(path, None, f"duplicate record '{seqid}'")
        ann.sequence_lengths[seqid] = len(record)
        circular = record.annotations.get("topology") == "circular"
        if circular:
            ann.circular.add(seqid)
        seq = _record_sequence(record)
        if seq is not None and len(seq):
            seqs[seqid] = seq
        _add_record_genes(ann, seqid, record, circular)
    if n_records == 0:
        raise GenomeFormatError(path, None, "no GenBank records (expected LOCUS ... //)")
    ann.sort()
    return ann, seqs


def _add_record_genes(ann: Annotation, seqid: str, record, circular: bool) -> None:
    gene_feats: dict[str, SeqFeature] = {}
    mrnas: dict[str, list[list[Segment]]] = {}
    cds_feats: list[SeqFeature] = []
    for f in record.features:
        if f.location is None:
            continue
        if f.type == "gene":
            key = _gene_key(f)
            if key and key not in gene_feats:
                gene_feats[key] = f
        elif f.type == "mRNA":
            key = _gene_key(f)
            if key:
                segs = [s for s, _, _ in _feature_segments(f)]
                mrnas.setdefault(key, []).append(_chain_order(segs, circular)[0])
        elif f.type == "CDS":
            cds_feats.append(f)

    genes: dict[str, Gene] = {}
    used_mrna: set[tuple[str, int]] = set()
    tx_ids: set[str] = set()
    codes: Counter[int] = Counter()
    for n, f in enumerate(cds_feats, 1):
        parts = _feature_segments(f)
        chain, unusual = _chain_order([s for s, _, _ in parts], circular)
        key = _gene_key(f) or f"{seqid}_cds{n}"
        gene = genes.get(key)
        if gene is None:
            gf = gene_feats.get(key)
            gene = Gene(id=key, seqid=seqid, strand=chain[0].strand)
            if gf is not None:
                gene.pseudo = _is_pseudo(gf)
                if len(gf.location.parts) == 1:
                    gene.start_, gene.end_ = int(gf.location.start) + 1, int(gf.location.end)
                if _q(gf, "gene"):
                    gene.attributes["Name"] = _q(gf, "gene")
            genes[key] = gene
        tid = _q(f, "protein_id") or f"{key}.t{len(gene.transcripts) + 1}"
        while tid in tx_ids:  # a protein_id may repeat (e.g. one protein, two loci)
            tid = f"{tid}_{n}"
        tx_ids.add(tid)
        start_partial, end_partial = _partial_flags(parts, chain)
        tx = Transcript(
            id=tid,
            gene_id=key,
            seqid=seqid,
            strand=chain[0].strand,
            cds=chain,
            phase=max(0, int(_q(f, "codon_start") or 1) - 1),
            start_partial=start_partial,
            end_partial=end_partial,
            pseudo=_is_pseudo(f) or gene.pseudo,
            unusual_order=unusual,
        )
        table = _q(f, "transl_table")
        if table:
            tx.genetic_code = parse_transl_table(ann.source, None, table)
            codes[tx.genetic_code] += 1
        for k in ("product", "gene", "locus_tag", "protein_id", "note"):
            v = _q(f, k)
            if v:
                tx.attributes[k] = v
        # The first unused mRNA of this gene that fits the CDS gives the exons (GenBank lists
        # each mRNA just before its CDS, so file order breaks ties between isoforms).
        for i, exons in enumerate(mrnas.get(key, [])):
            if (key, i) not in used_mrna and _fits(exons, chain):
                tx.exons = exons
                used_mrna.add((key, i))
                break
        gene.transcripts.append(tx)
    for gene in genes.values():
        ann.add_gene(gene)
    if codes:
        ann.genetic_codes[seqid] = codes.most_common(1)[0][0]
