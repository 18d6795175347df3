"""Re-estimating a genome's models from genes (the self-training step of decoder.py): what a
set of genes teaches (training_set), the chains, splice-site and start matrices and intron
lengths fitted from it (refit), optionally mixed with a species prior (priors.py), and reference
annotations turned into the same form (annotated_genes)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from genet5.genome.codes import reverse_complement
from genet5.predict.eukaryote.content import ContentModel, fit_coding
from genet5.predict.eukaryote.settings import EukaryoteSettings, GenomeModels
from genet5.predict.prokaryote.coding import order_for
from genet5.predict.viterbi_decoder import ViterbiGene

DONOR_EXON, DONOR_INTRON = 3, 6  # splice_pwm.json windows (transcription orientation)
ACCEPTOR_INTRON, ACCEPTOR_EXON = 20, 1
START_UP, START_DOWN = 12, 3  # start-codon context: bases before the codon, bases after it


def fit_intron_lengths(lengths: list[int], short_mean: float, long: tuple[float, float], split: float = 250.0,
                       max_weight: float = 0.3) -> tuple[float, tuple[float, float]]:
    """(short mean, (long weight, long mean)) from the intron lengths beyond intron_min: the
    short class from the median of those up to `split` (the short-intron peak is not geometric,
    and a median keeps it where the peak is), the long class from the share and mean of the
    rest. The long weight is held within 2%..max_weight: joined genes (very long false introns)
    must not make every long intron cheap in the next round."""
    x = np.asarray(lengths, dtype=np.float64)
    if x.size < 30:
        return short_mean, long
    short, rest = x[x <= split], x[x > split]
    ms = float(np.clip(np.median(short), 10.0, 500.0)) if short.size >= 10 else short_mean
    if rest.size < 5:
        return ms, long
    w = float(np.clip(rest.size / x.size, 0.02, max_weight))
    return ms, (w, float(np.clip(rest.mean(), 4.0 * ms, 20000.0)))


@dataclass
class TrainingSet:
    """What a set of genes teaches: oriented spliced CDS, introns, untranslated flanks, site
    windows, start contexts and intron lengths (complete genes only, except the flanks)."""
    cds: list[bytes] = field(default_factory=list)
    introns: list[bytes] = field(default_factory=list)
    intergenic: list[bytes] = field(default_factory=list)
    utr5: list[bytes] = field(default_factory=list)
    utr3: list[bytes] = field(default_factory=list)
    donors: list[bytes] = field(default_factory=list)
    acceptors: list[bytes] = field(default_factory=list)
    starts: list[bytes] = field(default_factory=list)
    intron_lengths: list[int] = field(default_factory=list)


def training_set(records, genes, utr_flank: int) -> TrainingSet:
    """The TrainingSet of `genes` (per record) on `records`."""
    t = TrainingSet()
    for (_, seq), found in zip(records, genes):
        _collect_flanks(seq, found, utr_flank, t.utr5, t.utr3)
        last = 0
        for g in sorted(found, key=lambda g: g.start):
            if g.start - 1 > last:
                t.intergenic.append(seq[last : g.start - 1])
            last = max(last, g.end)
            if g.start_partial or g.end_partial:
                continue
            segs = sorted(g.cds)
            if g.strand == "+":
                first = segs[0][0] - 1  # 0-based first base of the start codon
                context = seq[first - START_UP : first + 3 + START_DOWN] if first >= START_UP else b""
            else:
                codon_end = segs[-1][1]  # 0-based end (exclusive) of the minus gene's start codon
                context = (reverse_complement(seq[codon_end - 3 - START_DOWN : codon_end + START_UP])
                           if codon_end >= 3 + START_DOWN else b"")
            if len(context) == START_UP + 3 + START_DOWN:
                t.starts.append(context)
            spliced = b"".join(seq[a - 1 : b] for a, b in segs)
            t.cds.append(spliced if g.strand == "+" else reverse_complement(spliced))
            for (a1, b1), (a2, b2) in zip(segs, segs[1:]):
                intron = seq[b1 : a2 - 1]  # forward, 0-based [b1, a2-1)
                don = seq[b1 - DONOR_EXON : b1 + DONOR_INTRON]
                acc = seq[a2 - 1 - ACCEPTOR_INTRON : a2 - 1 + ACCEPTOR_EXON]
                if g.strand == "-":
                    intron = reverse_complement(intron)
                    don = reverse_complement(seq[a2 - 1 - DONOR_INTRON : a2 - 1 + DONOR_EXON])
                    acc = reverse_complement(seq[b1 - ACCEPTOR_EXON : b1 + ACCEPTOR_INTRON])
                t.introns.append(intron)
                t.intron_lengths.append(len(intron))
                if len(don) == DONOR_EXON + DONOR_INTRON:
                    t.donors.append(don)
                if len(acc) == ACCEPTOR_INTRON + ACCEPTOR_EXON:
                    t.acceptors.append(acc)
        if last < len(seq):
            t.intergenic.append(seq[last:])
    return t


def refit(records, genes, models: GenomeModels, bg: np.ndarray, both: list[bytes], settings: EukaryoteSettings) -> GenomeModels:
    """Models re-estimated from the genes of the last pass (complete genes only for coding and
    sites; the rest of the sequence, outside any gene, for the intergenic chain; up to
    settings.utr_flank bases beyond each gene for the UTR chains). With a species prior
    (models.prior, settings.prior_weight) the chains are mixed with its tables."""
    t = training_set(records, genes, settings.utr_flank)
    cds, introns, intergenic, utr5, utr3 = t.cds, t.introns, t.intergenic, t.utr5, t.utr3
    donors, acceptors, intron_lengths, starts = t.donors, t.acceptors, t.intron_lengths, t.starts
    prior, w = models.prior, settings.prior_weight if models.prior is not None else 0.0
    wc = w * settings.prior_content_scale
    if len(cds) < 20 and w == 0:
        return models  # too little to learn from: keep the last models (a prior fills in what is missing)
    if w > 0:
        coding = fit_coding(cds, both, prior.order, prior.coding, w)
    else:
        coding = fit_coding(cds, both, min(settings.coding_order, order_for(sum(map(len, cds)))))
    if not settings.learn_introns:
        return GenomeModels(coding=coding, splice=models.splice, intron_mean=models.intron_mean, intron_long=models.intron_long,
                            prior=prior)
    k = settings.content_order
    intron_model = None
    if settings.intron_long_classes:  # the chain serves the short class only (the long one reads as intergenic)
        introns = [s for s in introns if len(s) <= settings.intron_min + settings.intron_split] or introns
    if settings.learn_intron_chain and (w > 0 or sum(map(len, introns)) > 50 * 4 ** (k + 1)):
        intron_model = ContentModel.fit(introns, bg, k, prior=prior.intron if w else None, prior_weight=wc)
    ig_model = None
    if settings.learn_intergenic_chain:
        ig_model = ContentModel.fit(intergenic + [reverse_complement(s) for s in intergenic], bg, k)
    splice = _splice_counts(models.splice, donors, acceptors, settings.splice_prior_weight)
    if settings.learn_start_context and len(starts) >= 20:
        background = models.splice["background"]
        flat = [background] * (START_UP + 3 + START_DOWN)
        splice["start"] = {"upstream": START_UP, "freq": _site_freq(starts, flat, settings.start_prior_weight), "sites": len(starts)}
    # the median, not the mean: a few false long introns (two genes joined) must not make all
    # long introns cheap in the next round, and the short-intron peak of most genomes sets it
    mean = float(np.median(intron_lengths)) - settings.intron_min if intron_lengths else models.intron_mean
    mean = float(np.clip(mean, 30.0, 5000.0))
    long = models.intron_long
    if settings.intron_long_classes and settings.fit_intron_long and intron_lengths:
        beyond = [n - settings.intron_min for n in intron_lengths]
        mean, long = fit_intron_lengths(beyond, mean, long or (settings.intron_long_weight, settings.intron_long_mean),
                                        split=settings.intron_split, max_weight=settings.intron_long_max_weight)
    u5 = u3 = None
    if settings.utr_mean > 0 and (w > 0 or sum(map(len, utr3)) > 50 * 4 ** (k + 1)):
        u5 = ContentModel.fit(utr5, bg, k, prior=prior.utr5 if w else None, prior_weight=wc)
        u3 = ContentModel.fit(utr3, bg, k, prior=prior.utr3 if w else None, prior_weight=wc)
    return GenomeModels(coding, intron_model, ig_model, splice, mean, long, u5, u3, prior=prior)


def _collect_flanks(seq: bytes, found, flank: int, utr5: list[bytes], utr3: list[bytes]) -> None:
    """Up to `flank` bases beyond each gene, stopping at a neighbouring gene, oriented with it."""
    spans = sorted((g.start - 1, g.end) for g in found)  # 0-based half-open
    starts = [a for a, _ in spans]
    ends = sorted(b for _, b in spans)
    for g in found:
        a, b = g.start - 1, g.end
        i = bisect.bisect_left(ends, a + 1) - 1  # the nearest gene ending at or before a
        left = seq[max(a - flank, ends[i] if i >= 0 else 0, 0) : a]
        j = bisect.bisect_right(starts, b - 1)  # the nearest gene starting at or after b
        right = seq[b : min(b + flank, starts[j] if j < len(starts) else len(seq))]
        if g.strand == "+":
            five, three = left, right
        else:
            five, three = reverse_complement(right), reverse_complement(left)
        if len(five) > 10:
            utr5.append(five)
        if len(three) > 10:
            utr3.append(three)


def _site_freq(sites: list[bytes], prior_freq, weight: float) -> list[list[float]]:
    """Per-position base frequencies of equal-length sites, with `weight` pseudo-sites of
    `prior_freq` mixed in."""
    lut = {ord("A"): 0, ord("C"): 1, ord("G"): 2, ord("T"): 3}
    p = np.asarray(prior_freq, dtype=np.float64) * weight
    c = np.zeros_like(p)
    for s in sites:
        for i, ch in enumerate(s):
            j = lut.get(ch)
            if j is not None:
                c[i, j] += 1
    f = c + p
    return (f / f.sum(axis=1, keepdims=True)).tolist()


def _splice_counts(prior: dict, donors: list[bytes], acceptors: list[bytes], weight: float) -> dict:
    out = dict(prior)
    out["donor"] = dict(prior["donor"], freq=_site_freq(donors, prior["donor"]["freq"], weight))
    out["acceptor"] = dict(prior["acceptor"], freq=_site_freq(acceptors, prior["acceptor"]["freq"], weight))
    out["introns"] = len(donors)
    return out


def annotated_genes(ann, records: list[tuple[str, bytes]]) -> list[list[ViterbiGene]]:
    """Per record, one ViterbiGene per annotated coding gene (its longest complete coding
    transcript), the form refit() learns from: how a reference annotation becomes a model."""
    out = []
    for seqid, seq in records:
        genes = []
        for g in ann.genes.get(seqid, []):
            tx = [t for t in g.coding_transcripts if not (t.start_partial or t.end_partial or t.pseudo)]
            if g.pseudo or not tx:
                continue
            t = max(tx, key=lambda t: t.cds_length)
            segs = [(s.start, s.end) for s in t.cds]
            if max(b for _, b in segs) > len(seq):
                continue
            genes.append(ViterbiGene(t.strand, segs, 0.0))
        out.append(genes)
    return out
