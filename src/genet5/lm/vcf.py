"""Variant effects under a Genos model, and the minimal VCF reader they need.

Effect of ALT at a site: delta_ll = ll(alt window) - ll(ref window), natural log. The ref window
is the reference from `flank` bases before POS to `flank` bases after the REF allele (cut at
the sequence ends); the alt window is the same with REF replaced by ALT. Each window is scored
as a sequence of its own (genet5.lm.scoring: every A/C/G/T after the window's first base).

For an SNV the two windows have the same length and the same bases scored, and the bases before
the variant score the same in both (the model is causal), so delta_ll is the change in the
likelihood of the variant base and of the `flank` bases after it. For an indel the windows
differ in length: delta_ll compares their *total* log-likelihoods, so a deletion loses the terms
of the deleted bases and an insertion gains terms for the inserted ones (length itself moves the
score; compare indels with indels of the same length, or normalise yourself).

VCF: plain or gzip/bgzip text; lines starting with '#' are headers; the first five columns
(CHROM POS ID REF ALT) are read, tab-separated (or whitespace when a line has no tab). A
multi-allelic ALT gives one row per allele. Symbolic alleles (<DEL>, breakends with [ or ],
the spanning deletion *, the missing allele .) are skipped and counted.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Mapping

from genet5.genome.models import GenomeFormatError
from genet5.lm.engine import DEFAULT_BATCH_TOKENS, DEFAULT_CHUNK
from genet5.lm.scoring import total_log_likelihoods

_DNA = re.compile(r"[ACGTNacgtn]+")
DEFAULT_FLANK = 512


@dataclass(frozen=True)
class Variant:
    chrom: str
    pos: int  # 1-based, as in VCF
    id: str
    ref: str
    alt: str
    line: int | None = None  # line in the VCF, for error messages
    source: str | None = field(default=None, compare=False)  # the VCF file (read_vcf), for error messages


@dataclass
class VariantEffect:
    variant: Variant
    ll_ref: float
    ll_alt: float

    @property
    def delta_ll(self) -> float:
        return self.ll_alt - self.ll_ref


def _open_text(path: str | os.PathLike):
    try:
        with open(path, "rb") as fh:
            magic = fh.read(2)
    except FileNotFoundError:
        raise GenomeFormatError(path, None, "no such file") from None
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, "rt", encoding="utf-8", errors="replace")


def read_vcf(path: str | os.PathLike, skipped: Counter | None = None, name: str | None = None) -> Iterator[Variant]:
    """Variants of a VCF, one per ALT allele; skipped alleles are counted in `skipped` by kind
    ('symbolic', 'missing'). Bad lines raise GenomeFormatError naming the file and line; each
    Variant records the file (`source`), so later messages about it name the file too. `name`:
    the file to name there instead of `path` (a copy of a pipe the user named)."""
    skipped = Counter() if skipped is None else skipped
    source = name or os.fspath(path)
    lineno = 0
    try:
        with _open_text(path) as fh:
            for lineno, line in enumerate(fh, 1):
                line = line.rstrip("\r\n")
                if not line.strip() or line.startswith("#"):
                    continue
                if "\x00" in line:
                    raise GenomeFormatError(source, lineno, "not a VCF file (binary data)")
                cols = line.split("\t") if "\t" in line else line.split()
                if len(cols) < 5:
                    raise GenomeFormatError(
                        source, lineno, f"expected at least 5 tab-separated columns (CHROM POS ID REF ALT), found {len(cols)}"
                    )
                chrom, pos_s, vid, ref, alts = (c.strip() for c in cols[:5])
                try:
                    pos = int(pos_s)
                except ValueError:
                    pos = 0
                if pos < 1:
                    raise GenomeFormatError(source, lineno, f"POS {pos_s!r} is not a positive integer")
                if not _DNA.fullmatch(ref):
                    raise GenomeFormatError(source, lineno, f"REF {ref!r} is not a DNA sequence (A C G T N)")
                for alt in alts.split(","):
                    if alt in (".", ""):
                        skipped["missing"] += 1
                    elif alt == "*" or alt.startswith("<") or "[" in alt or "]" in alt:
                        skipped["symbolic"] += 1
                    elif not _DNA.fullmatch(alt):
                        raise GenomeFormatError(source, lineno, f"ALT {alt!r} is neither a DNA sequence nor a symbolic allele")
                    else:
                        yield Variant(chrom, pos, vid, ref.upper(), alt.upper(), lineno, source)
    except EOFError:
        raise GenomeFormatError(source, lineno or None, "truncated gzip file") from None
    except (gzip.BadGzipFile, zlib.error) as err:
        raise GenomeFormatError(source, lineno or None, f"corrupt gzip data ({err})") from None


class _Reference:
    """Genome (genet5.genome.fasta.Genome) or {chrom: sequence} behind one fetch."""

    def __init__(self, ref, name: str):
        self.ref, self.name = ref, name
        if isinstance(ref, Mapping):
            self.lengths = {k: len(v) for k, v in ref.items()}
        else:
            self.lengths = ref.lengths

    def fetch(self, chrom: str, start0: int, end0: int) -> bytes:
        if isinstance(self.ref, Mapping):
            s = self.ref[chrom][start0:end0]
            return (s.encode() if isinstance(s, str) else bytes(s)).upper()
        return self.ref.fetch(chrom, start0 + 1, end0) if end0 > start0 else b""


def _reference_name(reference) -> str:
    """How messages name the reference: its FASTA file (a Genome), else "reference" ({chrom: seq})."""
    path = getattr(reference, "path", None)
    return str(path) if path else "reference"


def variant_windows(reference, variant: Variant, flank: int = DEFAULT_FLANK, vcf_path: str | None = None) -> tuple[bytes, bytes]:
    """(ref window, alt window) bytes for one variant; checks CHROM and REF against the reference.
    Errors name `vcf_path`, else the file the variant was read from (read_vcf), else "VCF"."""
    ref = reference if isinstance(reference, _Reference) else _Reference(reference, _reference_name(reference))
    v = variant
    vcf_path = vcf_path or v.source or "VCF"
    length = ref.lengths.get(v.chrom)
    if length is None:
        raise GenomeFormatError(vcf_path, v.line, f"CHROM '{v.chrom}' is not in the reference {ref.name}")
    p = v.pos - 1
    if p + len(v.ref) > length:
        raise GenomeFormatError(vcf_path, v.line, f"{v.chrom}:{v.pos} REF {v.ref} runs past the end of {v.chrom} (length {length})")
    left, right = max(0, p - flank), min(length, p + len(v.ref) + flank)
    win = ref.fetch(v.chrom, left, right)
    have = win[p - left : p - left + len(v.ref)]
    want = v.ref.encode()
    if have != want and not all(a == b or 78 in (a, b) for a, b in zip(have, want)):  # 78 = N
        raise GenomeFormatError(vcf_path, v.line, f"{v.chrom}:{v.pos} REF {v.ref} but the reference has {have.decode()}")
    alt = win[: p - left] + v.alt.encode() + win[p - left + len(v.ref) :]
    return win, alt


def variant_effects(
    model,
    reference,
    variants: Iterable[Variant] | str | os.PathLike,
    *,
    flank: int = DEFAULT_FLANK,
    context: int | None = None,
    context_stride: int | None = None,
    chunk: int = DEFAULT_CHUNK,
    batch_tokens: int = DEFAULT_BATCH_TOKENS,
    autocast: bool | None = None,
    vcf_path: str | None = None,
    on_mismatch: Callable[[Variant, GenomeFormatError], None] | None = None,
) -> Iterator[VariantEffect]:
    """VariantEffect per variant, in order. reference: a genet5 Genome or {chrom: sequence};
    variants: e.g. read_vcf(path), or the VCF's path itself (read with read_vcf). Ref and alt
    windows go through the model in batches; the ref window of a multi-allelic site is scored
    once. A variant that does not fit the reference (CHROM absent, REF different, past the end)
    raises GenomeFormatError, or, with `on_mismatch`, is handed to it and skipped (as `bcftools
    norm --check-ref s` does). Messages name `vcf_path`, by default the file the variants were
    read from ("VCF" for Variants made by hand), and the line."""
    if isinstance(variants, (str, os.PathLike)):
        variants = read_vcf(variants)
    ref = _Reference(reference, _reference_name(reference))
    if flank < 0:
        raise ValueError(f"flank must be >= 0, got {flank}")
    site_of: dict[int, tuple] = {}

    def items():
        last_site, site_i = None, -1
        for i, v in enumerate(variants):
            site = (v.chrom, v.pos, v.ref, v.line)
            try:
                ref_win, alt_win = variant_windows(ref, v, flank, vcf_path)
            except GenomeFormatError as err:
                if on_mismatch is None:
                    raise
                on_mismatch(v, err)
                continue
            if site != last_site:
                site_i += 1
                last_site = site
                yield ("ref", site_i), ref_win
            site_of[i] = (v, site_i)
            yield ("alt", i), alt_win

    ref_ll: dict[int, float] = {}
    for key, ll, _ in total_log_likelihoods(model, items(), context=context, context_stride=context_stride,
                                            chunk=chunk, batch_tokens=batch_tokens, autocast=autocast):  # fmt: skip
        kind, i = key
        if kind == "ref":
            ref_ll.clear()  # earlier sites are done: windows come back in order
            ref_ll[i] = ll
        else:
            v, site_i = site_of.pop(i)
            yield VariantEffect(v, ref_ll[site_i], ll)

