"""GFF3 and GTF readers into the one gene model (genome/models.py).

Dialects handled (all present in ../shared/genomes):
- RefSeq GFF3: gene -> mRNA -> exon/CDS (one CDS ID shared by a transcript's segments).
- Prokaryotic GFF3: gene -> CDS with no mRNA; Prodigal's parentless CDS rows.
- WormBase GFF3: CDS segments sharing one ID, a CDS row may list several Parents.
- GenBank-derived GFF3: joins become several rows with one ID, in biological order.
- GTF (FlyBase, AUGUSTUS, Ensembl): rows grouped by transcript_id; CDS rows exclude the stop
  codon, so `stop_codon` rows are folded back into the CDS (the GFF3 convention).

Written here rather than taken from gffutils/BCBio: those build databases or Biopython
SeqFeatures per row and are 10-50x slower on a 190k-line file, and neither turns the dialects
above into one transcript model; what we need is a single streaming pass plus a parent walk.
"""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path
from urllib.parse import unquote

from genet5.genome.models import (
    Annotation,
    Gene,
    GenomeFormatError,
    Segment,
    Transcript,
    merge_adjacent,
    order_segments,
)
from genet5.memory import cyclic_gc_paused

_STRANDS = {"+", "-", ".", "?"}
_CDS_TYPES = {"CDS", "cds"}
_CODON_TYPES = {"start_codon", "stop_codon"}
_EXON_TYPES = {"exon", "five_prime_UTR", "three_prime_UTR", "5UTR", "3UTR", "UTR", "five_prime_utr", "three_prime_utr"}
_PSEUDO_BIOTYPES = {"pseudogene", "transcribed_pseudogene", "unprocessed_pseudogene", "processed_pseudogene"}


def open_text(path: str | Path) -> io.TextIOBase:
    """Open plain or gzip/bgzip text by its magic bytes; decoding errors become clear errors."""
    path = Path(path)
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if not magic:  # a 0-byte file is a failed or unfinished run, not "no genes" (a header says that)
        raise GenomeFormatError(path, None, "the file is empty (0 bytes)")
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline=None)
    return open(path, "r", encoding="utf-8", newline=None)


def iter_lines(path: str | Path):
    """Yield (line_number, line without newline), turning I/O and decoding failures into
    GenomeFormatError naming the file and line."""
    lineno = 0
    try:
        with open_text(path) as fh:
            for lineno, line in enumerate(fh, 1):
                if "\x00" in line:
                    raise GenomeFormatError(path, lineno, "binary data (NUL byte): not a text annotation file")
                yield lineno, line.rstrip("\r\n")
    except EOFError:
        raise GenomeFormatError(path, lineno + 1, "truncated gzip file (compressed stream ends early)") from None
    except (gzip.BadGzipFile, OSError) as err:
        if isinstance(err, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise GenomeFormatError(path, lineno + 1, f"corrupt gzip data ({err})") from None
    except UnicodeDecodeError:
        raise GenomeFormatError(path, lineno + 1, "not UTF-8 text (binary file?)") from None


def sniff_format(path: str | Path) -> str:
    """'gff3' or 'gtf': a ##gff-version 3 line, else the first feature rows (GTF's `key "value";`
    or GFF3's key=value attributes), else the name (.gtf / .gff2), else GFF3. Content before
    name: AUGUSTUS writes GTF rows to whatever file it is told, often *.gff or *.gff3."""
    # AUGUSTUS's own output starts each gene with bare-ID gene and transcript rows ("g1", "g1.t1")
    # before GTF rows: the first rows whose attributes take either form decide
    seen = 0
    for _, line in iter_lines(path):
        if line.startswith("##gff-version 3"):
            return "gff3"
        if not line or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 9:
            break
        attrs = cols[8]
        if re.search(r'\w+ "[^"]*"', attrs):
            return "gtf"
        if "=" in attrs:
            return "gff3"
        seen += 1
        if seen >= 100:
            break
    name = str(path).lower().removesuffix(".gz")
    return "gtf" if name.endswith((".gtf", ".gff2")) else "gff3"


def read_annotation(path: str | Path, fmt: str | None = None, strict: bool = False) -> Annotation:
    """Read a GFF3 or GTF file (plain or gzip) into an Annotation."""
    fmt = fmt or sniff_format(path)
    if fmt not in ("gtf", "gff3"):
        raise ValueError(f"unknown annotation format {fmt!r}")
    with cyclic_gc_paused():  # hundreds of thousands of objects that all stay alive
        if fmt == "gtf":
            from .gtf import read_gtf  # it reads rows with this module's helpers

            return read_gtf(path)
        return read_gff3(path, strict=strict)


# ---------------------------------------------------------------------------------------------
# Row parsing shared by both dialects


class _Row:
    """One feature line. The attribute column stays a string until a caller needs it: the
    structure needs only ID and Parent, and parsing every RefSeq attribute is most of the
    cost of reading a 190k-line file."""

    __slots__ = ("seqid", "type", "start", "end", "strand", "phase", "raw", "line", "id", "parent", "_attrs")

    def __init__(self, seqid, type_, start, end, strand, phase, raw, line, attrs=None):
        self.seqid, self.type, self.start, self.end = seqid, type_, start, end
        self.strand, self.phase, self.raw, self.line = strand, phase, raw, line
        self._attrs = attrs
        self.id = self.parent = None

    @property
    def attrs(self) -> dict[str, str]:
        if self._attrs is None:
            self._attrs = _gff3_attributes(self.raw)
        return self._attrs


def _parse_columns(path, lineno: int, line: str) -> list[str]:
    cols = line.split("\t")
    if len(cols) != 9:
        raise GenomeFormatError(path, lineno, f"expected 9 tab-separated columns, found {len(cols)}")
    return cols


def _parse_coords(path, lineno: int, cols: list[str]) -> tuple[int, int]:
    try:
        start, end = int(cols[3]), int(cols[4])
    except ValueError:
        raise GenomeFormatError(
            path, lineno, f"non-numeric coordinates start={cols[3]!r} end={cols[4]!r}"
        ) from None
    if start < 1 or end < start:
        raise GenomeFormatError(path, lineno, f"invalid coordinates {start}..{end} (need 1 <= start <= end)")
    if cols[6] not in _STRANDS:
        raise GenomeFormatError(path, lineno, f"invalid strand {cols[6]!r} (expected +, -, . or ?)")
    if cols[7] not in _PHASES:  # read as 0 before: a silent frame shift of the protein
        raise GenomeFormatError(path, lineno, f"invalid phase {cols[7]!r} (expected 0, 1, 2 or .)")
    if "transl_table" in cols[8]:
        for m in _TABLE_RE.finditer(cols[8]):
            parse_transl_table(path, lineno, m.group(1))
    return start, end


_PHASES = {"0", "1", "2", "."}
_TABLE_RE = re.compile(r'\btransl_table(?:=| +"?)([^;"]*)')


def parse_transl_table(path, line: int | None, value: str) -> int:
    """A transl_table value as an NCBI table id; anything else is a GenomeFormatError naming the
    file and line (a typo must not become a traceback, or table 1, later)."""
    from genet5.genome.codes import known_codes

    text = value.strip()
    if not text.isdigit() or int(text) not in known_codes():
        raise GenomeFormatError(path, line, f"transl_table={value} is not an NCBI translation table "
                                f"(known: {', '.join(map(str, known_codes()))})")
    return int(text)


def _gff3_attributes(text: str) -> dict[str, str]:
    """Attribute column -> dict of still percent-encoded values (decode with `_decoded`).
    Decoding every value of a RefSeq file costs more than all the rest of the parse, and
    structure needs only ID, Parent and a handful of others."""
    attrs: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            attrs[key.strip()] = value
    return attrs


_ID_RE = re.compile(r"(?:^|;)\s*ID=([^;]*)")
_PARENT_RE = re.compile(r"(?:^|;)\s*Parent=([^;]*)")


_PARENT_SEP = "\x1f"  # between a row's Parents once decoded (a decoded ID may hold a comma)


def _decoded(value: str) -> str:
    return unquote(value) if "%" in value else value


def _row_is_pseudo(row: "_Row") -> bool:
    # every pseudo marker contains "pseudo": rows without it skip the attribute parse
    if "pseudo" not in row.type.lower() and "pseudo" not in row.raw.lower():
        return False
    return _is_pseudo(row.type, row.attrs)


def _is_pseudo(row_type: str, attrs: dict[str, str]) -> bool:
    if "pseudogene" in row_type.lower() or attrs.get("pseudo", "").lower() == "true":
        return True
    for key in ("gene_biotype", "biotype", "transcript_biotype", "gene_type", "transcript_type"):
        if attrs.get(key, "") in _PSEUDO_BIOTYPES:
            return True
    return False


def _partial_flags(rows: list[_Row], strand: str) -> tuple[bool, bool]:
    """(start_partial, end_partial) of a CDS from GFF3 partial/start_range/end_range.

    start_range/end_range refer to the left/right coordinate, so on the minus strand the
    left end is the 3' end. `partial=true` alone does not say which end: both are flagged."""
    left = right = False
    for r in rows:
        if "partial" not in r.raw and "_range" not in r.raw:
            continue
        if "start_range" in r.attrs:
            left = True
        if "end_range" in r.attrs:
            right = True
        if r.attrs.get("partial", "").lower() == "true" and not ("start_range" in r.attrs or "end_range" in r.attrs):
            left = right = True
    if strand == "-":
        return right, left
    return left, right


def _sequence_region(path, lineno: int, line: str, ann: Annotation) -> None:
    parts = line.split()
    if len(parts) >= 4:
        try:
            ann.sequence_lengths[_decoded(parts[1])] = int(parts[3])
        except ValueError:
            raise GenomeFormatError(path, lineno, f"bad ##sequence-region line: {line!r}") from None


# ---------------------------------------------------------------------------------------------
# GFF3


def read_gff3(path: str | Path, strict: bool = False) -> Annotation:
    """Read GFF3. `strict` turns dangling Parent references into errors."""
    ann = Annotation(source=str(path))
    rows: list[_Row] = []
    by_id: dict[str, list[int]] = {}
    for lineno, line in iter_lines(path):
        if not line:
            continue
        if line[0] == "#":
            if line.startswith("##sequence-region"):
                _sequence_region(path, lineno, line, ann)
            elif line.startswith("##FASTA"):
                break
            continue
        cols = _parse_columns(path, lineno, line)
        start, end = _parse_coords(path, lineno, cols)
        # column 1 is percent-encoded like IDs (GFF3 spec): our writer encodes '%', '#', ';' ...
        row = _Row(_decoded(cols[0]), cols[2], start, end, cols[6], cols[7], cols[8], lineno)
        m = _ID_RE.search(cols[8])
        row.id = _decoded(m.group(1)) if m else None
        m = _PARENT_RE.search(cols[8])
        # split on the commas that separate Parents before decoding: an encoded comma (%2C) is
        # part of an ID
        row.parent = _PARENT_SEP.join(_decoded(p) for p in m.group(1).split(",")) if m else None
        if row.type == "region":
            if row.attrs.get("Is_circular", "").lower() == "true":
                ann.circular.add(row.seqid)
            if row.start == 1:
                ann.sequence_lengths.setdefault(row.seqid, row.end)
        rows.append(row)
    restore = _scope_reused_ids(rows)
    for i, row in enumerate(rows):
        if row.id is not None:
            by_id.setdefault(row.id, []).append(i)
    _check_bounds(path, rows, ann.sequence_lengths, ann.circular)
    _build_gff3(path, rows, by_id, ann, strict)
    if restore:
        for gene in ann.iter_genes():
            gene.id = restore.get(gene.id, gene.id)
            for tx in gene.transcripts:
                tx.id = restore.get(tx.id, tx.id)
    return ann


def _scope_reused_ids(rows: list[_Row]) -> dict[str, str]:
    """GFF3 wants IDs unique in the file, but real files concatenated from one run per
    sequence (AUGUSTUS's g1, g1.t1 on every chromosome) reuse them. An ID seen on more than
    one seqid is resolved within its own sequence: its rows and the Parents that name it are
    rewritten to seqid + NUL + ID for the build, and the returned map restores the plain ID."""
    first_seqid: dict[str, str] = {}
    reused: set[str] = set()
    for r in rows:
        fid = r.id
        if fid is not None and first_seqid.setdefault(fid, r.seqid) != r.seqid:
            reused.add(fid)
    if not reused:
        return {}
    restore: dict[str, str] = {}
    for r in rows:
        if r.id in reused:
            scoped = f"{r.seqid}\x00{r.id}"
            restore[scoped] = r.id
            r.id = scoped
        if r.parent and any(p in reused for p in r.parent.split(_PARENT_SEP)):
            r.parent = _PARENT_SEP.join(f"{r.seqid}\x00{p}" if p in reused else p for p in r.parent.split(_PARENT_SEP))
    return restore


def _check_bounds(path, rows: list[_Row], lengths: dict[str, int], circular: set[str]) -> None:
    """Features must lie inside their declared sequence; on a circular sequence GFF3 lets a
    feature across the origin run past the end (end > length)."""
    if not lengths:
        return
    for r in rows:
        n = lengths.get(r.seqid)
        if n is not None and r.end > n and not (r.seqid in circular and r.start <= n):
            raise GenomeFormatError(path, r.line, f"{r.type} {r.start}..{r.end} lies past the end of {r.seqid} (length {n})")


def _is_gene_type(row_type: str) -> bool:
    t = row_type.lower()
    return t.endswith("gene") or t == "pseudogene"


def _parents(row: _Row) -> list[str]:
    p = row.parent
    return [x for x in p.split(_PARENT_SEP) if x] if p else []


def _build_gff3(path, rows: list[_Row], by_id: dict[str, list[int]], ann: Annotation, strict: bool) -> None:  # noqa: C901
    # Transcript key -> pieces. A key is a transcript-like feature ID, or for gene -> CDS
    # (no mRNA) the pair (gene ID, CDS ID), or for a parentless CDS its own ID.
    cds_rows: dict[object, list[_Row]] = {}
    exon_rows: dict[object, list[_Row]] = {}
    codon_rows: dict[object, list[_Row]] = {}
    tx_gene: dict[object, str] = {}
    tx_feature: dict[object, str | None] = {}
    order: list[object] = []

    roots: dict[str, str] = {}

    def root_of(fid: str, line: int) -> str:
        if fid in roots:
            return roots[fid]
        seen = set()
        cur = fid
        while True:
            if cur in seen:
                raise GenomeFormatError(path, line, f"Parent cycle through {cur!r}")
            seen.add(cur)
            parents = _parents(rows[by_id[cur][0]])
            if not parents:
                roots[fid] = cur
                return cur
            nxt = parents[0]
            if nxt not in by_id:
                # The parent's own row is missing (a cut-down file): it still names the gene.
                if strict:
                    raise GenomeFormatError(path, rows[by_id[cur][0]].line, f"unknown Parent {nxt!r} (no feature has this ID)")
                ann.warnings.append(f"line {rows[by_id[cur][0]].line}: Parent {nxt!r} has no row; used as the gene id")
                roots[fid] = nxt
                return nxt
            cur = nxt

    for row in rows:
        kind = "cds" if row.type in _CDS_TYPES else "codon" if row.type in _CODON_TYPES else "exon" if row.type in _EXON_TYPES else None
        if kind is None:
            continue
        parents = _parents(row)
        for p in parents:
            if p not in by_id:
                # Real files carry dangling Parents (TAIR's "-Protein" pseudo-parent; test
                # sets that dropped mRNA or gene rows). Strict mode rejects them; otherwise
                # the named ID stands in for the missing row, and the count is reported.
                if strict:
                    raise GenomeFormatError(path, row.line, f"unknown Parent {p!r} (no feature has this ID)")
                ann.warnings.append(f"line {row.line}: Parent {p!r} has no row of its own")
        if len(parents) > 1:
            # TAIR10 lists "AT1G01010.1-Protein" beside "AT1G01010.1": an alias of a known
            # parent, not another transcript.
            known = [p for p in parents if p in by_id]
            parents = [p for p in parents if p in by_id or not any(p.startswith(k) for k in known)]
        keys: list[object] = []
        if not parents:
            if kind == "exon":
                continue  # a lone exon is no transcript we can use
            own = row.id or f"{row.seqid}:{row.line}"
            keys.append(own)
            tx_gene.setdefault(own, own)
            tx_feature.setdefault(own, None)
        for p in parents:
            if p not in by_id:
                key = p  # a transcript whose own row is missing
                tx_feature.setdefault(key, None)
                tx_gene.setdefault(key, p)
                keys.append(key)
                continue
            prow = rows[by_id[p][0]]
            if _is_gene_type(prow.type) and not _parents(prow):
                key: object = (p, row.id)  # prokaryotic gene -> CDS
                tx_feature.setdefault(key, None)
                tx_gene.setdefault(key, p)
            else:
                key = p
                tx_feature.setdefault(key, p)
                tx_gene.setdefault(key, root_of(p, row.line))
            keys.append(key)
        if kind != "exon":  # an exon's strand decides nothing CDS-based; a CDS's decides the protein
            _check_strand(path, row)
        for key in keys:
            bucket = cds_rows if kind == "cds" else codon_rows if kind == "codon" else exon_rows
            if key not in cds_rows and key not in exon_rows and key not in codon_rows:
                order.append(key)
            bucket.setdefault(key, []).append(row)

    genes: dict[str, Gene] = {}
    for key in order:
        crows = cds_rows.get(key, [])
        erows = exon_rows.get(key, [])
        gene_id = tx_gene[key]
        feature_id = tx_feature[key]
        tx_id = feature_id if feature_id else (key[1] or key[0]) if isinstance(key, tuple) else str(key)
        if not crows and not erows:
            continue  # only start/stop codon rows: no transcript structure to read
        lead = crows[0] if crows else erows[0]
        _check_one_seqid(path, tx_id, crows + erows + codon_rows.get(key, []))
        gene = genes.get(gene_id)
        if gene is None:
            grow = rows[by_id[gene_id][0]] if gene_id in by_id else lead
            gene = Gene(
                id=gene_id,
                seqid=grow.seqid,
                strand=grow.strand if grow.strand in "+-" else lead.strand,
                pseudo=_is_pseudo(grow.type, grow.attrs),
                biotype=grow.type,
                attributes={k: _decoded(v) for k, v in grow.attrs.items() if k in ("Name", "gene", "locus_tag", "gene_biotype", "biotype")},
            )
            if gene_id in by_id:
                gene.start_ = min(rows[i].start for i in by_id[gene_id])
                gene.end_ = max(rows[i].end for i in by_id[gene_id])
            genes[gene_id] = gene
        frow = rows[by_id[feature_id][0]] if feature_id and feature_id in by_id else None
        tx = _make_transcript(tx_id, gene, crows, erows, codon_rows.get(key, []), frow)
        if frow is not None and not tx.exons and tx.cds and not tx.unusual_order:
            ext = [rows[i] for i in by_id[feature_id]]
            tx.exons = _exons_to_extent(tx.cds, min(r.start for r in ext), max(r.end for r in ext))
        if tx.seqid != gene.seqid:
            raise GenomeFormatError(path, lead.line, f"transcript {tx_id!r} is on {tx.seqid!r}, but its gene "
                                    f"{gene_id!r} is on {gene.seqid!r}")
        tx.attributes["line"] = str(lead.line)
        if tx.genetic_code is not None:
            ann.genetic_codes.setdefault(tx.seqid, tx.genetic_code)
        gene.transcripts.append(tx)
    for gene in genes.values():
        ann.add_gene(gene)
    ann.sort()


def _exons_to_extent(cds: list[Segment], lo: int, hi: int) -> list[Segment]:
    """Exons of a transcript given by CDS rows alone, whose own row spans lo..hi: the CDS pieces,
    the outer two stretched to its ends. Left without exons the transcript would span only its
    CDS, and the UTRs its row declares would be lost on writing; no UTR intron is made up.
    Returns [] when the row does not reach past the CDS (nothing to keep) or cuts into it."""
    exons = merge_adjacent(sorted(cds, key=lambda s: s.start))
    first, last = exons[0], exons[-1]
    if not (lo <= first.start and last.end <= hi) or (lo, hi) == (first.start, last.end):
        return []
    exons[0] = Segment(lo, first.end, first.strand)
    exons[-1] = Segment(exons[-1].start, hi, last.strand)
    return exons if first.strand != "-" else exons[::-1]  # transcription order


def _check_strand(path, row: _Row) -> None:
    # read as '+' before: a wrong-strand protein with no word said
    if row.strand not in ("+", "-"):
        raise GenomeFormatError(path, row.line, f"{row.type} row on strand {row.strand!r}: "
                                "CDS and start / stop codon rows need + or -")


def _check_one_seqid(path, tx_id: str, rows: list[_Row]) -> None:
    """All rows of one transcript on one sequence: the model has one seqid per transcript, and
    rows on another were silently moved onto the first."""
    first = rows[0]
    for r in rows:
        if r.seqid != first.seqid:
            raise GenomeFormatError(path, r.line, f"{r.type} row of transcript {tx_id!r} is on {r.seqid!r}, but its "
                                    f"row at line {first.line} is on {first.seqid!r} (one transcript, one sequence)")


def _segments(rows: list[_Row]) -> list[Segment]:
    seen = set()
    segs = []
    for r in rows:
        key = (r.start, r.end, r.strand)
        if key not in seen:  # a CDS row repeated under two Parents arrives once per parent
            seen.add(key)
            segs.append(Segment(r.start, r.end, r.strand if r.strand in "+-" else "+"))  # an exon's '.'; CDS rows are checked
    return segs


def _fold_stop_codon(cds: list[Segment], stop: list[Segment]) -> list[Segment]:
    """Include GTF stop_codon pieces in the CDS (the GFF3 convention). Each piece extends the
    CDS end it touches or, when an intron splits the stop, becomes a segment of its own.
    Only stop pieces are merged: overlapping CDS segments (ribosomal frameshifts) stay apart."""
    out = list(cds)
    minus = out[-1].strand == "-"
    for piece in sorted(stop, key=lambda s: s.start, reverse=minus):
        last = out[-1]
        if last.start <= piece.start and piece.end <= last.end:
            continue  # already inside the CDS
        if not minus and piece.start == last.end + 1:
            out[-1] = Segment(last.start, piece.end, last.strand)
        elif minus and piece.end == last.start - 1:
            out[-1] = Segment(piece.start, last.end, last.strand)
        else:
            out.append(piece)
    return out


def _make_transcript(tx_id, gene: Gene, crows, erows, codon_rows, frow: _Row | None) -> Transcript:
    cds, unusual = order_segments(_segments(crows))
    strand = cds[0].strand if cds else (erows[0].strand if erows else gene.strand)
    first_cds = cds[0] if cds else None  # phase belongs to the first segment as annotated
    stop_rows = [r for r in codon_rows if r.type == "stop_codon"]
    if cds and stop_rows and not unusual:
        cds = _fold_stop_codon(cds, _segments(stop_rows))
    true_exons = [r for r in erows if r.type == "exon"]
    if true_exons:
        exons, _ = order_segments(_segments(true_exons))
    elif erows and cds:
        # Only UTR rows (FlyBase GTF): exons are the UTR and CDS pieces joined.
        exons, _ = order_segments(sorted(set(_segments(erows)) | set(cds), key=lambda s: s.start))
    else:
        exons = []
    exons = merge_adjacent(exons)
    pseudo = gene.pseudo or any(_row_is_pseudo(r) for r in crows[:1])
    if frow is not None:
        pseudo = pseudo or _row_is_pseudo(frow)
    tx = Transcript(
        id=tx_id,
        gene_id=gene.id,
        seqid=(crows or erows)[0].seqid,
        strand=strand,
        cds=cds,
        exons=exons,
        pseudo=pseudo,
        unusual_order=unusual,
        biotype=frow.type if frow is not None else ("mRNA" if cds else "transcript"),
    )
    if crows:
        first = first_cds
        for r in crows:
            if (r.start, r.end) == (first.start, first.end) and r.phase in ("0", "1", "2"):
                tx.phase = int(r.phase)
                break
        tx.start_partial, tx.end_partial = _partial_flags(crows, strand)
        table = crows[0].attrs.get("transl_table")
        if table and table.isdigit():
            tx.genetic_code = int(table)
        for key in ("protein_id", "Name", "product"):
            if key in crows[0].attrs:
                tx.attributes[key] = _decoded(crows[0].attrs[key])
    return tx


# ---------------------------------------------------------------------------------------------
# GTF
