"""GTF read into the one gene model (GENCODE / Ensembl / AUGUSTUS dialects): transcripts from
their CDS, exon and start / stop codon rows by transcript_id, keyed by sequence too (a file
concatenated from one run per chromosome reuses IDs); gene rows give a gene's extent. Rows are
parsed and checked with gff.py's helpers, so both dialects say the same about the same fault.
"""

from __future__ import annotations

import re
from pathlib import Path

from .gff import (_CDS_TYPES, _CODON_TYPES, _EXON_TYPES, _check_strand, _decoded, _is_pseudo, _make_transcript,
                  _parse_columns, _parse_coords, _Row, iter_lines)
from .models import Annotation, Gene, GenomeFormatError

# `key "value";` or `key value;`: in quotes \" and \\ stand for " and \, and ';' is no separator;
# a closing quote must be followed by a separator, or it was a raw '"' inside the value
_GTF_ATTR = re.compile(r'\s*([^\s;"]+)\s+(?:"([^"\\]*(?:\\.[^"\\]*)*)"(?=[\s;]|$)|([^;\s"]+))\s*;?')
_GTF_ESCAPED = re.compile(r'\\.')  # any backslash pair, as the quoted value above reads it
# \" \\ \t \n \r, as our writer escapes them (a tab or newline would break the row); other
# backslashes are kept as written
_GTF_UNESCAPE = re.compile(r'\\(["\\tnr])')
_UNESCAPED = {'"': '"', "\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def _gtf_attributes(text: str, path: str | Path = "", lineno: int | None = None) -> dict[str, str]:
    r"""`key "value";` pairs, the first of a repeated key kept. A ';' inside quotes is part of the
    value and a '"' in a value is written \" (the usual convention, our writer's); an unclosed
    quote or a raw '"' inside a value is a GenomeFormatError, not a value cut short."""
    attrs: dict[str, str] = {}
    n_quoted = 0
    for m in _GTF_ATTR.finditer(text):
        key, quoted, bare = m.groups()
        if quoted is not None:
            n_quoted += 1
            if "\\" in quoted:
                quoted = _GTF_UNESCAPE.sub(lambda m: _UNESCAPED[m.group(1)], quoted)
        attrs.setdefault(key, quoted if quoted is not None else bare)
    # every '"' must open or close a value read above: one left over means a value was cut short
    quotes = text.count('"') if "\\" not in text else _GTF_ESCAPED.sub("", text).count('"')
    if quotes != 2 * n_quoted:
        raise GenomeFormatError(path, lineno, f"unbalanced quotes in the attributes {text!r} "
                                '(a \'"\' inside a value must be written \\")')
    return attrs


def read_gtf(path: str | Path) -> Annotation:
    ann = Annotation(source=str(path))
    tx_rows: dict[str, dict[str, list[_Row]]] = {}
    tx_gene: dict[str, str] = {}
    gene_span: dict[tuple[str, str], tuple[int, int]] = {}
    for lineno, line in iter_lines(path):
        if not line or line[0] == "#":
            continue
        cols = _parse_columns(path, lineno, line)
        start, end = _parse_coords(path, lineno, cols)
        # GTF has no escaping rule: our writer percent-encodes what would break a row (a leading
        # '#', tab, newline, '%'), as GFF3 does, so column 1 is decoded as in GFF3
        seqid = _decoded(cols[0])
        ftype = cols[2]
        kind = "cds" if ftype in _CDS_TYPES else "codon" if ftype in _CODON_TYPES else "exon" if ftype in _EXON_TYPES else None
        if kind is None:
            if ftype == "gene":  # its extent, as the GFF3 reader keeps a gene row's
                gid = _gtf_attributes(cols[8], path, lineno).get("gene_id")
                if gid:
                    lo, hi = gene_span.get((seqid, gid), (start, end))
                    gene_span[(seqid, gid)] = (min(lo, start), max(hi, end))
            continue  # transcript/intron rows: structure comes from the pieces
        attrs = _gtf_attributes(cols[8], path, lineno)
        tid = attrs.get("transcript_id")
        if tid is None:
            raise GenomeFormatError(path, lineno, f"{ftype} row without a transcript_id attribute")
        for key in ("transcript_id", "gene_id"):
            if key in attrs and not attrs[key].strip():  # "" would merge unrelated rows into one
                raise GenomeFormatError(path, lineno, f"{ftype} row with an empty {key}")
        row = _Row(seqid, ftype, start, end, cols[6], cols[7], cols[8], lineno, attrs)
        if kind != "exon":
            _check_strand(path, row)
        # Keyed by sequence too: a file concatenated from one run per chromosome reuses IDs.
        tx_rows.setdefault((seqid, tid), {}).setdefault(kind, []).append(row)
        tx_gene.setdefault((seqid, tid), attrs.get("gene_id", tid))
    genes: dict[tuple[str, str], Gene] = {}
    for (seqid, tid), parts in tx_rows.items():
        crows, erows, codons = parts.get("cds", []), parts.get("exon", []), parts.get("codon", [])
        lead = (crows or erows or codons)[0]
        gid = tx_gene[(seqid, tid)]
        gene = genes.get((seqid, gid))
        if gene is None:
            gene = Gene(id=gid, seqid=lead.seqid, strand=lead.strand, pseudo=_is_pseudo("", lead.attrs))
            for k in ("gene_name", "gene_symbol"):
                if k in lead.attrs:
                    gene.attributes["Name"] = lead.attrs[k]
            if (seqid, gid) in gene_span:
                gene.start_, gene.end_ = gene_span[(seqid, gid)]
            genes[(seqid, gid)] = gene
        if not crows and not erows:
            crows = [r for r in codons]  # a transcript given only by its codons: rare, keep
            codons = []
        tx = _make_transcript(tid, gene, crows, erows, codons, None)
        tx.attributes["line"] = str(lead.line)
        if tx.genetic_code is not None:
            ann.genetic_codes.setdefault(tx.seqid, tx.genetic_code)
        gene.transcripts.append(tx)
    for gene in genes.values():
        if gene.start_ is not None:  # a gene row never narrows its transcripts
            gene.start_ = min(gene.start_, min(t.start for t in gene.transcripts))
            gene.end_ = max(gene.end_, max(t.end for t in gene.transcripts))
        ann.add_gene(gene)
    ann.sort()
    return ann
