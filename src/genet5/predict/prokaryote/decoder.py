"""Prokaryotic gene finding: candidates -> self-trained statistics + a learned start term -> DP.

One genome is decoded at once (a draft's contigs share one set of statistics):

1. every ORF and start codon of every segment on both strands (orfs.py);
2. a first gene set: from the long ORFs (most long ORFs of a prokaryote are genes), or from
   the network's per-base evidence when it is asked for (`--network`; off by default: it adds
   nothing on the validation genomes, see the comment above FEATURES); below 150 kb meta mode's
   scores are added (`meta_seed_below`);
3. rounds of self-training, as Prodigal and GeneMarkS-2 do: the coding chain (coding.py) and
   the start model (starts.py) are fitted on the current gene set (fits.py), every candidate is rescored
       w_coding * coding log-ratio + w_start * start log-odds + w_length * length + bias
       + w_dicodon * a second coding and start score built Prodigal's way (dicodon.py)
       + w_start_net * the bundled start classifier's term (learned_starts.py; its weight
       falls with genome size, none in meta mode)
       (+ w_net * network log-ratio with --network: off by default)
   and the dynamic program (dp.py) picks the gene set of each sequence again, adding a score
   for each junction of consecutive genes (Prodigal's, and the genome's own gene spacing:
   spacing.py).

The weights are one small table (ProkaryoteWeights, settings.py, with every other setting and
what was measured when it was chosen), fitted on training genomes and checked on validation
genomes (docs/benchmarks.md); nothing is tuned per genome except what the genome teaches itself.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np

from genet5.genome.codes import GeneticCode
from genet5.predict.orf_decoder import OrfGene
from genet5.predict.prokaryote import dp
from genet5.predict.prokaryote.coding import CodingModel, ContextCache
from genet5.predict.prokaryote.dicodon import DicodonModel, HexamerCache
from genet5.predict.prokaryote.fits import ensure_sd_masks, fit_coding, fit_dicodon, fit_spacing, fit_starts, matrix_gain, start_examples
from genet5.predict.prokaryote.gc_frame import first_pass_scores
from genet5.predict.prokaryote.learned_starts import base_counts, genome_freq, load_start_net, start_scores
from genet5.predict.prokaryote.orfs import Strand, frame_sums, gc_share, record_candidates
from genet5.predict.prokaryote.packs import StrandPacks
from genet5.predict.prokaryote.settings import FEATURES, ProkaryoteSettings
from genet5.predict.prokaryote.spacing import SpacingModel
from genet5.predict.prokaryote.starts import StartModel, features, motif_before
from genet5.predict.prokaryote.threads import default_threads, memoized, thread_map
from genet5.tokenizers.annotation import BaseClass


@dataclass
class _StrandData:
    cand: Strand
    net: np.ndarray | None  # summed network log-ratio per candidate
    codon: np.ndarray
    rbs: np.ndarray
    mat: np.ndarray
    length: np.ndarray  # length_log_odds of each candidate
    features: np.ndarray | None = None  # (candidates, len(FEATURES)) after a self-training round
    start_net: np.ndarray | None = None  # learned start classifier's term (add_start_net)
    rescue: np.ndarray | None = None  # dicodon start score an operon-coupled start gets back (dp.Junctions)
    atypical: np.ndarray | None = None  # chain score under the shipped GC-bin chain nearest its GC (add_atypical)
    sd_masks: tuple[np.ndarray, np.ndarray] | None = None  # Prodigal's motif bins (sd_bins.bin_masks), when used
    code: int = 11  # the genetic code its candidates were read under


def chain_key(coding: CodingModel, cand: Strand) -> tuple:
    """The memo key of a chain's coding scores of one strand's candidates (candidate_features;
    meta.screened fills it for many chains at once)."""
    return ("chain", id(coding), id(cand))


def candidate_features(d: _StrandData, coding: CodingModel, start_model: StartModel, use_net: bool,
                       cache: ContextCache | None = None, dicodon: DicodonModel | None = None,
                       hex_cache: HexamerCache | None = None, memo: dict | None = None,
                       atypical: float | None = None) -> np.ndarray:
    """(candidates, len(FEATURES)) for one strand under the current self-trained models; memo:
    threads.memoized's (a round's dicodon coding scores, from start training to scoring; the
    parts meta mode's parameter sets share)."""
    parts = memoized(memo, ("starts", id(start_model), id(d.cand)), lambda: start_model.parts(d.codon, d.rbs, d.mat))
    cod = memoized(memo, chain_key(coding, d.cand), lambda: coding.frame_sums(d.cand.seq, d.cand.a, d.cand.e, cache))
    if atypical is not None and d.atypical is not None:
        cod = np.maximum(cod, d.atypical - atypical)
    net = d.net if (use_net and d.net is not None) else np.zeros(len(cod))
    snet = d.start_net if d.start_net is not None else np.zeros(len(cod))
    zero = np.zeros(len(cod))
    if dicodon is not None:
        codon_lo, rbs_lo = dicodon.start_log_odds(d.codon, d.sd_masks, parts["codon"], parts["rbs"], memo)
        dcod, dstart, d.rescue = dicodon.scores(d.cand, d.length, codon_lo, rbs_lo, hex_cache, memo)
    else:
        dcod, dstart, d.rescue = zero, zero, None
    return np.stack([cod, net, parts["codon"], parts["rbs"], parts["matrix"], d.length, np.ones(len(cod)), snet, dcod, dstart], axis=1)




# Meta mode leaves the start classifier out: beside each set's start model and its dicodon start
# weights (trained on a genome's sure ORFs) it adds nothing. 2026-12-05 (session 32),
# bench/prokaryote/meta_pieces.py, meta mode start+stop F1 at 5 / 10 / 20 / 50 kb: classifier at
# half weight (the setting until then) 0.887 / 0.903 / 0.903 / 0.901, left out 0.894 / 0.900 /
# 0.903 / 0.903 (dev script, all pieces: 0.9009 / 0.9024, at a quarter 0.9032); single mode
# seeded by meta mode 0.834 / 0.867 / 0.880 / 0.910 -> 0.834 / 0.867 / 0.881 / 0.909; training
# phages (harness) 0.8629 either way. (Before the sets had dicodon scores, half weight helped:
# 0.865 / 0.863 / 0.875 / 0.872 against 0.865 / 0.856 / 0.873 / 0.867 without it.)
META_START_NET_WEIGHT = 0.0


def genome_gc(records: list[list[_StrandData]]) -> float:
    """G+C share of the records' segments (each segment's '+' strand once)."""
    return gc_share(b"".join(d.cand.seq for rec in records for d in rec if d.cand.strand == "+"))


def _bases(records: list[list[_StrandData]]) -> int:
    """Bases of the records' segments (each segment's '+' strand once)."""
    return sum(d.cand.length for rec in records for d in rec if d.cand.strand == "+")


def add_atypical(records: list[list[_StrandData]], settings: ProkaryoteSettings, cache: ContextCache | None = None,
                 packs: StrandPacks | None = None) -> float | None:
    """Give every candidate its atypical chain score (atypical_coding; the shipped GC-bin chains
    of the records' code nearest the genome's GC + each of atypical_offsets) and return the
    penalty to charge it, or None when off. packs: the records' strands as packs.py groups
    them (made here when not given)."""
    if settings.atypical_penalty is None:
        return None
    from genet5.predict.prokaryote.atypical import atypical_coding, atypical_chains

    code = next((d.code for rec in records for d in rec), 11)
    chains, gcs = atypical_chains(code, genome_gc(records), settings.atypical_offsets)
    if not chains:
        return None
    strands = [d for rec in records for d in rec]
    packs = packs or StrandPacks(strands)
    for d, alt in zip(strands, packs.map_cand(lambda c: atypical_coding(c, chains, gcs, cache), settings.threads)):
        d.atypical = alt
    return settings.atypical_penalty


def weight_vector(settings: ProkaryoteSettings, records: list[list[_StrandData]], meta: bool = False,
                  bases: int | None = None) -> np.ndarray:
    """FEATURES' weights for these records (one genome, or one sequence in meta mode). bases:
    what the statistics were learned from, where not these records (a training file's genome)."""
    w = settings.weights.vector()
    bases = _bases(records) if bases is None else bases
    i = FEATURES.index("start_net")
    full = w[i]
    w[i] = max(min(full, settings.start_net_floor), full * min(1.0, settings.start_net_full_below / max(bases, 1)))
    if meta:
        w[i] = META_START_NET_WEIGHT
    return w


def length_log_odds(codons: np.ndarray, gc: float, table: int) -> np.ndarray:
    """Prodigal's length factor: log-odds that a run of `codons` sense codons is not chance,
    given how often a random codon of this GC is a stop, relative to an 80-codon ORF; linear past
    1000 codons."""
    at = 1.0 - gc
    p_stop = at * at * gc / (8.0 if table == 4 else 4.0) + at ** 3 / 8.0
    log_no = np.log1p(-p_stop)

    def f(n):
        return np.log(-np.expm1(n * log_no)) - n * log_no

    n = np.minimum(codons, 1000.0)
    out = f(n) - f(80.0)
    long = codons > 1000
    out[long] = (f(1000.0) - f(80.0)) * (codons[long] - 80.0) / 920.0
    return out


def _net_ratio(track: np.ndarray) -> np.ndarray:
    t = track.astype(np.float32)
    cds, ig = BaseClass.CDS_FRAME0, BaseClass.INTERGENIC  # codon positions 1, 2 follow CDS_FRAME0
    return t[:, cds : cds + 3] - t[:, ig : ig + 1]


def prepare_record(seqid: str, seq: bytes, code: GeneticCode, start_codons, settings: ProkaryoteSettings,
                   track: np.ndarray | None = None, start_features: bool = True) -> list[_StrandData]:
    """Candidates of one record with everything that does not change between rounds; the
    network track (L, classes) may be dropped afterwards. start_features=False: the start
    codon, RBS and matrix features are left to fill_start_features (a draft's records at once)."""
    ratio = _net_ratio(track) if track is not None else None
    gc = gc_share(seq)

    def strand_data(cand: Strand) -> _StrandData:
        net = None
        if ratio is not None:
            w = ratio[cand.offset : cand.offset + cand.length]
            if cand.strand == "-":
                w = w[::-1]
            net = frame_sums(np.ascontiguousarray(w), cand.a, cand.e)
        codon, rbs, mat = features(cand.seq, cand.a, cand.edge) if start_features else (None, None, None)
        length = length_log_odds((cand.e - cand.a + 1) / 3.0, gc, code.id)
        return _StrandData(cand, net, codon, rbs, mat, length, code=code.id)

    return thread_map(strand_data, record_candidates(seqid, seq, code, start_codons, settings.min_len, settings.closed), settings.threads,
                      bases=2 * len(seq))


def fill_start_features(records: list[list[_StrandData]], threads: int = 1) -> None:
    """The start features (starts.features) of strands prepared without them, scored in packs
    (packs.py: the features read at most 26 bases upstream and 15 down, all N in a pack's gaps)."""
    todo = [d for rec in records for d in rec if d.codon is None]
    if not todo:
        return
    packs = StrandPacks(todo)
    for d, (codon, rbs, mat) in zip(todo, packs.map_cand(lambda c: features(c.seq, c.a, c.edge), threads)):
        d.codon, d.rbs, d.mat = codon, rbs, mat


def _each_strand(records: list[list[_StrandData]], fn, threads: int = 1) -> list:
    """fn(strand) for every strand of every record, in order (threads.py)."""
    strands = [d for rec in records for d in rec]
    return thread_map(fn, strands, threads, bases=sum(d.cand.length for d in strands))


def add_start_net(records: list[list[_StrandData]], model, freq: np.ndarray, threads: int = 1,
                  packs: StrandPacks | None = None) -> None:
    """Score every candidate start with the learned classifier (learned_starts.py); `freq`: the
    genome's base frequencies (all records together, as the statistics are); packs: the records'
    strands as packs.py groups them (made here when not given)."""
    strands = [d for rec in records for d in rec]
    packs = packs or StrandPacks(strands)
    for d, scores in zip(strands, packs.map_cand(lambda c: start_scores(model, c, freq), threads)):
        d.start_net = scores


def ensure_start_net(records: list[list[_StrandData]], settings: ProkaryoteSettings, packs: StrandPacks | None = None) -> None:
    """Add the settings' start classifier's term to records that lack it, unless the genome is
    larger than start_net_max_bases (no limit by default)."""
    if not settings.start_net_model or all(d.start_net is not None for rec in records for d in rec):
        return
    plus = [d.cand for rec in records for d in rec if d.cand.strand == "+"]
    if settings.start_net_max_bases is not None and sum(c.length for c in plus) > settings.start_net_max_bases:
        return
    freq = genome_freq(sum((base_counts(c.seq) for c in plus), np.zeros(4)))
    add_start_net(records, load_start_net(settings.start_net_model), freq, settings.threads, packs)


def _decode(records: list[list[_StrandData]], scores: list[list[np.ndarray]], settings: ProkaryoteSettings,
            junction_weight: float = 0.0, spacing: SpacingModel | None = None,
            junction_unit: float = 0.0) -> list[list[np.ndarray]]:
    """Per record, per strand: indices of the chosen candidates. junction_weight: the weight of
    the dicodon start term; above 0 the DP adds Prodigal's junction scores in its units.
    junction_unit: without the dicodon term (meta mode), Prodigal's junction scores at this unit."""
    chosen = []
    if settings.use_dp and sum(len(x) for sc in scores for x in sc) >= dp.COMPILED_FROM:
        # many candidates in all, though each record of a draft may have few: the compiled
        # recursion for every record (300 contigs of Vibrio: 0.85 s of Python loops otherwise)
        from genet5.predict.prokaryote.dp_kernel import kernel

        kernel()
    shared: dict = {}  # the junction tables, the same for every record (only `rescue` is the record's)
    for rec, sc in zip(records, scores):
        if not rec:
            chosen.append([])
            continue
        los, his, plus = [], [], []
        for d in rec:
            lo, hi = d.cand.genomic_all()
            los.append(lo); his.append(hi); plus.append(np.full(len(lo), d.cand.strand == "+"))
        lo, hi, pl, s = (np.concatenate(x) for x in (los, his, plus, sc))
        kw, unit = {}, 0.0
        if junction_weight > 0 and all(d.rescue is not None for d in rec):
            unit = junction_weight * settings.dicodon_start_weight * settings.dicodon_junction_share
            rescue = junction_weight * np.concatenate([d.rescue for d in rec])
        elif junction_unit > 0:
            unit, rescue = junction_unit, np.zeros(len(lo))
        if unit > 0 and settings.use_dp:
            if unit not in shared:
                junctions = _prodigal_junctions(unit, max(settings.convergent_overlap, settings.same_overlap))
                if spacing is not None and settings.spacing_weight > 0:
                    weight = settings.spacing_weight * spacing.pairs / (spacing.pairs + settings.spacing_half_pairs)
                    junctions = spacing.junctions(weight, None, None if settings.spacing_replaces_prodigal else junctions,
                                                  settings.spacing_center)
                shared[unit] = junctions
            kw["junctions"] = dataclasses.replace(shared[unit], rescue=rescue)
        # segments of one record never share bases, so one DP over the record is exact
        pick = (dp.select if settings.use_dp else dp.greedy)(lo, hi, pl, s, same=settings.same_overlap, convergent=settings.convergent_overlap,
                         divergent=settings.divergent_overlap, **kw)
        bounds = np.cumsum([0] + [len(d.cand.a) for d in rec])
        chosen.append([pick[(pick >= bounds[i]) & (pick < bounds[i + 1])] - bounds[i] for i in range(len(rec))])
    return chosen


@functools.lru_cache(maxsize=16)
def _prodigal_junctions(unit: float, reach: int) -> dp.Junctions:
    """Prodigal's junction terms at `unit` (rescue left to each record): made once, not once per
    record (meta mode decodes each of a metagenome's contigs under ~12 parameter sets). The
    callers replace `rescue` and never write into the tables."""
    return dp.Junctions.prodigal(-unit, unit, None, reach=reach)


def _bootstrap_scores(d: _StrandData, settings: ProkaryoteSettings, gc_frame: np.ndarray | None = None) -> np.ndarray:
    """The first guess's score of each candidate: the network's evidence; else the GC frame
    plot's (gc_frame: gc_frame.first_pass_scores of this strand, settings.bootstrap_gc_frame);
    else the length of long ORFs; plus the prior start model."""
    w = settings.weights
    prior = StartModel.prior().score(d.codon, d.rbs, d.mat)
    if settings.use_net and d.net is not None:
        return w.net_only_start_weight * d.net + prior
    if gc_frame is not None:
        return gc_frame / 100.0 - settings.bootstrap_gc_frame + prior
    # no network: long ORFs, longest start, are the first guess
    length = (d.cand.e - d.cand.a + 1).astype(np.float64)
    return np.where(length >= 300, (length - 300) / 100.0, -1.0) + prior


def dicodon_weights(wvec: np.ndarray, dicodon: DicodonModel, settings: ProkaryoteSettings) -> np.ndarray:
    """FEATURES' weights with the dicodon terms scaled by how much the genome taught it, and the
    start codon and RBS terms shared with it (ProkaryoteSettings.use_dicodon)."""
    w = wvec.copy()
    share = dicodon.codons / (dicodon.codons + settings.dicodon_half_codons)
    w[[FEATURES.index("dicodon"), FEATURES.index("dicodon_start")]] *= share
    w[[FEATURES.index("codon"), FEATURES.index("rbs")]] *= 1.0 - (1.0 - settings.codon_rbs_with_dicodon) * share
    return w


@dataclass
class RoundModels:
    """What one round of self-training fits on the current genes and decodes with: the last
    round's are what a training file holds (Prodigal's -t), so that decoding the same genome
    with the file gives single mode's genes (decode_round on both paths)."""

    coding: CodingModel | None
    starts: StartModel
    dicodon: DicodonModel | None = None
    matrix_factor: float = 1.0  # the start matrix's weight, times its held-out gain (matrix_gain_full)
    spacing: SpacingModel | None = None  # the gene spacing of the genes it was fitted on (spacing.py)
    bases: int | None = None  # the bases it was learned from: the start classifier's weight (weight_vector)


@dataclass
class SelfTrained:
    """What one genome taught itself: the final models and the genes they chose."""

    models: RoundModels
    chosen: list[list[np.ndarray]]
    scores: list[list[np.ndarray]]

    @property
    def coding(self) -> CodingModel | None:
        return self.models.coding

    @property
    def starts(self) -> StartModel:
        return self.models.starts

    @property
    def dicodon(self) -> DicodonModel | None:
        return self.models.dicodon


def decode_round(records, settings: ProkaryoteSettings, wvec: np.ndarray, models: RoundModels, cache: ContextCache,
                 hex_cache: HexamerCache, memo: dict, atypical: float | None,
                 packs: StrandPacks | None) -> tuple[list[list[np.ndarray]], list[list[np.ndarray]]]:
    """(scores, chosen) of one round: every candidate scored under `models` and the DP's gene
    set. wvec: weight_vector's, before the round's matrix and dicodon scaling."""
    wround = wvec.copy()
    wround[FEATURES.index("matrix")] *= models.matrix_factor
    if settings.use_dicodon and models.dicodon is not None:
        wround = dicodon_weights(wround, models.dicodon, settings)
    scores = score_records(records, models.coding, models.starts, settings, wround, cache, models.dicodon, hex_cache,
                           memo, atypical, packs)
    junction_weight = wround[FEATURES.index("dicodon_start")] if settings.dicodon_junctions else 0.0
    return scores, _decode(records, scores, settings, junction_weight, models.spacing)


def self_train(records: list[list[_StrandData]], settings: ProkaryoteSettings, stop_after_first=None) -> SelfTrained:
    """Rounds of fitting the coding chain and start model on the current genes and decoding
    again. After it returns, each strand's `features` hold the candidates' features under the
    last round's models. stop_after_first(chosen, coding): asked on the first gene set with the
    chain the first round fits on it (before the rest of that round), and again after the
    first round; True ends the training there (the caller will not use these genes). The first gene set is the
    long-ORF guess (or the network's), with meta mode's scores added for inputs under
    meta_seed_below bases."""
    # a draft's short strands scored in packs (packs.py); a whole genome's strands alone
    packs = StrandPacks([d for rec in records for d in rec])
    ensure_start_net(records, settings, packs)
    wvec = weight_vector(settings, records)
    gc_frame = None  # GC-rich genomes: Prodigal's first pass in place of the long-ORF guess
    if settings.bootstrap_gc_frame is not None and not settings.use_net and genome_gc(records) >= settings.bootstrap_gc_frame_from:
        gc_frame = iter(first_pass_scores([d.cand for rec in records for d in rec], settings.threads))
    scores = [[_bootstrap_scores(d, settings, next(gc_frame) if gc_frame else None) for d in rec] for rec in records]
    if settings.use_self_training and _bases(records) < settings.meta_seed_below:
        scores = [[b + m for b, m in zip(rb, rm)] for rb, rm in zip(scores, _meta_scores(records, settings))]
    chosen = _decode(records, scores, settings)
    coding, start_model, dicodon = None, StartModel.prior(), None
    rounds = settings.rounds if settings.use_self_training else 0
    cache, hex_cache = ContextCache(), HexamerCache()
    first_coding = None  # the first round's chain, fitted early for stop_after_first
    if stop_after_first is not None and rounds:
        # asked once already on the first gene set and the chain the first round fits on it
        # (the same chain the round then uses): a table-4 genome read under table 11 says so
        # there, before the rest of a round is spent on it; where that says nothing, the
        # question is asked again after the first round, as before
        first_coding = fit_coding(records, chosen, cache, settings.coding_per_parameter, settings.threads, packs)
        if stop_after_first(chosen, first_coding):
            return SelfTrained(RoundModels(first_coding, start_model), chosen, scores)
    if settings.use_dicodon and rounds:
        hex_cache.fill([p.cand.seq for p in packs.packs] + packs.background(), settings.threads)
    fixed_dicodon = None
    if settings.use_dicodon and settings.dicodon_prodigal_training and rounds:
        # fitted once, on Prodigal's own first gene set, as Prodigal does
        fp = iter(first_pass_scores([d.cand for rec in records for d in rec]))
        first = _decode(records, [[next(fp) for _ in rec] for rec in records], settings)
        fixed_dicodon = fit_dicodon(records, first, settings, hex_cache, through_stop=False)
    atypical = add_atypical(records, settings, cache, packs) if rounds else None
    if rounds and settings.use_dicodon and settings.dicodon_own_starts and settings.use_start_model:
        ensure_sd_masks(records, settings.threads)  # before the rounds: they read the packs' joined masks
    models = RoundModels(coding, start_model, bases=_bases(records))
    for _ in range(rounds):
        coding = first_coding or fit_coding(records, chosen, cache, settings.coding_per_parameter, settings.threads, packs)
        first_coding = None
        examples, background = start_examples(records, chosen, packs) if settings.use_start_model else ([], None)
        start_model = fit_starts(examples, background) or StartModel.prior()
        matrix_factor = 1.0
        if settings.matrix_gain_full > 0 and settings.use_start_model:
            gain = matrix_gain(examples, background, wvec[FEATURES.index("matrix")])
            if gain is not None:
                matrix_factor = min(1.0, max(gain, 0.0) / settings.matrix_gain_full)
        memo: dict = {}  # this round's models' coding scores, from their start training to the scoring
        if settings.use_dicodon:
            dicodon = fixed_dicodon or fit_dicodon(records, chosen, settings, hex_cache, memo=memo, packs=packs)
        spacing = fit_spacing(records, chosen, settings) if settings.spacing_weight > 0 else None
        models = RoundModels(coding, start_model, dicodon, matrix_factor, spacing, _bases(records))
        before = chosen
        scores, chosen = decode_round(records, settings, wvec, models, cache, hex_cache, memo, atypical, packs)
        if stop_after_first is not None and stop_after_first(chosen, coding):
            break
        stop_after_first = None
        if _changed(before, chosen) <= settings.stable_fraction * max(_count(chosen), 1):
            break
    return SelfTrained(models, chosen, scores)


def decode_trained(records: list[list[_StrandData]], settings: ProkaryoteSettings,
                   models: RoundModels) -> tuple[list[list[np.ndarray]], list[list[np.ndarray]]]:
    """(chosen, scores) of the records decoded with fixed models (a training file's, Prodigal's
    -t) as self_train's last round decodes: the genome the file was written from gets the genes
    single mode gave it; other sequences of the species, those models' genes. The start
    classifier weighs in as after training on models.bases bases."""
    packs = StrandPacks([d for rec in records for d in rec])
    ensure_start_net(records, settings, packs)
    wvec = weight_vector(settings, records, bases=models.bases)
    cache, hex_cache = ContextCache(), HexamerCache()
    if settings.use_dicodon and models.dicodon is not None:
        hex_cache.fill([p.cand.seq for p in packs.packs] + packs.background(), settings.threads)
        if settings.dicodon_own_starts and settings.use_start_model:
            ensure_sd_masks(records, settings.threads)
    atypical = add_atypical(records, settings, cache, packs)
    scores, chosen = decode_round(records, settings, wvec, models, cache, hex_cache, {}, atypical, packs)
    return chosen, scores


def _meta_scores(records: list[list[_StrandData]], settings: ProkaryoteSettings) -> list[list[np.ndarray]]:
    """Every candidate's score under the shipped parameter set (meta.py) that scores its record
    best, under the records' genetic code (zeros for a record without one)."""
    from genet5.predict.prokaryote.meta import best_sets

    code = next((d.code for rec in records for d in rec), 11)
    return [b[2] if b is not None else [np.zeros(len(d.cand.a)) for d in rec]
            for rec, b in zip(records, best_sets(records, settings, code=code))]


def _count(chosen: list[list[np.ndarray]]) -> int:
    return sum(len(idx) for rec in chosen for idx in rec)


def _changed(a: list[list[np.ndarray]], b: list[list[np.ndarray]]) -> int:
    """Candidates chosen in one gene set and not the other (the same records' candidates)."""
    return sum(len(np.setxor1d(x, y)) for ra, rb in zip(a, b) for x, y in zip(ra, rb))


def score_records(records, coding: CodingModel, start_model: StartModel, settings: ProkaryoteSettings,
                  wvec: np.ndarray | None = None, cache: ContextCache | None = None,
                  dicodon: DicodonModel | None = None, hex_cache: HexamerCache | None = None,
                  memo: dict | None = None, atypical: float | None = None,
                  packs: StrandPacks | None = None) -> list[list[np.ndarray]]:
    """Each candidate's score (features @ wvec), per record and strand; sets each strand's
    features and rescue. packs: the records' strands grouped as packs.py does, scored per pack."""
    wvec = weight_vector(settings, records) if wvec is None else wvec

    def feature_rows(d: _StrandData) -> tuple[np.ndarray, np.ndarray | None]:
        rows = candidate_features(d, coding, start_model, settings.use_net, cache, dicodon, hex_cache, memo, atypical)
        return rows, d.rescue

    each = iter(packs.map(feature_rows, settings.threads) if packs else _each_strand(records, feature_rows, settings.threads))
    scores = []
    for rec in records:
        for d in rec:
            d.features, d.rescue = next(each)
        scores.append([d.features @ wvec for d in rec])
    return scores


def find_genes(records: list[list[_StrandData]], settings: ProkaryoteSettings) -> list[list[OrfGene]]:
    """Genes of each prepared record, from statistics the genome teaches itself."""
    st = self_train(records, settings)
    return [_genes(rec, ch, sc) for rec, ch, sc in zip(records, st.chosen, st.scores)]


def _genes(rec: list[_StrandData], chosen: list[np.ndarray], scores: list[np.ndarray]) -> list[OrfGene]:
    out = []
    for d, idx, sc in zip(rec, chosen, scores):
        c = d.cand
        lo, hi = c.genomic_all()
        for k in idx:
            a = int(c.a[k])
            codon = "" if c.edge[k] else c.seq[a : a + 3].decode()
            rbs = None if c.edge[k] else (motif_before(c.seq, a, int(d.rbs[k])) or ("", 0))
            out.append(OrfGene(c.strand, int(lo[k]), int(hi[k]), float(sc[k]), bool(c.edge[k]), bool(c.open3[k]), codon, rbs))
    out.sort(key=lambda g: (g.start, g.end))
    return out


def settings_for(cfg) -> ProkaryoteSettings:
    """The decoder's settings for a run of `genet5 predict` (its PredictConfig)."""
    return ProkaryoteSettings(min_len=cfg.min_gene_length, use_net=cfg.use_network, use_start_model=cfg.learn_starts,
                              threads=cfg.workers or default_threads(), closed=cfg.closed)
