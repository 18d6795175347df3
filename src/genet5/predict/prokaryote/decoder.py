"""Prokaryotic gene finding: candidates -> self-trained statistics + network evidence -> DP.

One genome is decoded at once (a draft's contigs share one set of statistics):

1. every ORF and start codon of every segment on both strands (orfs.py);
2. a first gene set: from the long ORFs (most long ORFs of a prokaryote are genes), or from
   the network's per-base evidence when it is asked for (`--network`; off by default: it adds
   nothing on the validation genomes, see the comment above FEATURES); below 150 kb meta mode's
   scores are added (`meta_seed_below`);
3. rounds of self-training, as Prodigal and GeneMarkS-2 do: the coding chain (coding.py) and
   the start model (starts.py) are fitted on the current gene set, every candidate is rescored
       w_coding * coding log-ratio + w_start * start log-odds + w_length * length + bias
       + w_dicodon * a second coding and start score built Prodigal's way (dicodon.py)
       (+ w_net * network log-ratio with --network, + w_start_net * a start classifier's
       term when one is given: neither is on by default)
   and the dynamic program (dp.py) picks the gene set of each sequence again, adding a score
   for each junction of consecutive genes (Prodigal's, and the genome's own gene spacing:
   spacing.py).

The weights are one small table (ProkaryoteWeights), fitted on training genomes and checked on
validation genomes (docs/benchmarks.md); nothing is tuned per genome except what the genome
teaches itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from genet5.genome.codes import GeneticCode, genetic_code
from genet5.genome.models import GenomeFormatError
from genet5.predict.decoders import Decoded, start_codon_set
from genet5.predict.orf_decoder import OrfGene
from genet5.predict.prokaryote import dp
from genet5.predict.prokaryote.coding import CodingModel, ContextCache, order_for
from genet5.predict.prokaryote.dicodon import DicodonModel, HexamerCache
from genet5.predict.prokaryote.gc_frame import first_pass_scores
from genet5.predict.prokaryote.learned_starts import base_counts, genome_freq, load_start_net, start_scores
from genet5.predict.prokaryote.orfs import Strand, frame_sums, gc_share, record_candidates
from genet5.predict.prokaryote.sd_bins import bin_masks_many
from genet5.predict.prokaryote.spacing import SpacingModel, neighbour_pairs
from genet5.predict.prokaryote.starts import StartModel, features
from genet5.predict.prokaryote.threads import default_threads, memoized, thread_map
from genet5.tokenizers.annotation import BaseClass


# What each candidate gene is scored on: a weighted sum of these (ProkaryoteWeights): evidence
# (self-trained coding chain, network, the start model's parts) and a per-gene constant.
# The length term is Prodigal's: chosen on training genomes (mean start+stop F1 0.769 -> 0.782
# at weight 1, 0.778 at 0.5, 0.787 at 2; stop F1 0.930 -> 0.937) and validation genomes (0.897
# -> 0.904 at 1, 0.902 at 2). Tried and left out (2026-12-03): Prodigal's penalty on a start for
# the coding evidence a start upstream in its ORF would add (training 0.782 -> 0.786,
# validation 0.904 -> 0.901); Prodigal's discount of short genes' start evidence (training 0.782
# -> 0.779); where a start sits in its ORF (first start; log of the starts
# upstream of it). A weight of -2 on the latter raised the training genomes' mean start+stop F1
# 0.769 -> 0.789 (M. acetivorans 0.572 -> 0.632) but cut T. kodakarensis (validation) 0.849 ->
# 0.791; -1 gave a validation mean of 0.894 against 0.897 without it. Starts are genome-specific.
# 2026-12-04 (no network; mean start+stop F1 of the 7 validation genomes / 4 large training
# genomes E. coli, Bradyrhizobium, M. gallisepticum, M. acetivorans / 11 training phages):
# before 0.917 / 0.723 / 0.818. Start codon and RBS log-odds against every candidate start of
# the genome (Prodigal's background) instead of the other starts of the chosen ORFs, with the
# matrix at 0.5: 0.925 / 0.743 / 0.821 (matrix 1.0: 0.920 / 0.726; 0.35: 0.924 / 0.743); the
# start model fitted from 20 chosen starts, not 50: 0.925 / 0.743 / 0.849 (the 44 kb phages).
# Tried and left out: the matrix against the genome background too (0.924 / 0.738), without
# its RBS columns -14..-3 (T. kodakarensis 0.870 -> 0.823), without its downstream columns
# (0.923 / 0.740), reweighted so it learns only what codon and RBS class do not say (0.923 /
# 0.745); codon and RBS weights x1.5 / x2 (0.926 / 0.736, 0.922 / 0.712: the Erwinia phages
# gain, M. gallisepticum and M. acetivorans lose up to 0.07); bias -1 / -3 (0.925 / 0.741,
# 0.920 / 0.744); Prodigal's short-gene start scaling (0.922 / 0.744), coding floor for long
# ORFs (0.924 / 0.746), upstream-coding penalty at 0.5 (0.925 / 0.746) and operon-distance
# bonus (0.924 / 0.744); a self-trained gene-length prior (worse everywhere); 6-8 rounds
# (no change).
# 2026-12-04, the learned part redesigned (issue 11: the per-base network added nothing on
# validation, mean start+stop F1 0.9236 with it, 0.9246 without; it is now off by default,
# `--network` adds it). In its place a start classifier (models/prok_starts.py, bundled
# prokaryote-starts: an MLP over bases -30..+29 of each candidate start, genome-GC-relative, and
# six numbers on its place in the ORF), trained on the train prokaryotes and phages to pick the
# annotated start among the start codons of its ORF (scripts/train_start_model.py), is the
# `start_net` term (logit minus the ORF's best), weight 0.5 up to 100 kb and falling as 1/size
# beyond (weight_vector; until start_net_floor, not run above 2 Mb). What was measured (harness:
# 7 validation genomes / 4 large training genomes / 11 training phages, start+stop F1 means;
# statistics alone 0.9246 / 0.7426 / 0.8488):
# - trained on all train genomes, constant weight 0.25 / 0.5 / 1.0: 0.9239 / 0.9204 / 0.9166 on
#   validation (M. alvi 0.907 -> 0.886, T. kodakarensis 0.870 -> 0.843 at 1.0) while the training
#   genomes gained (0.765 / 0.855 at 1.0): it learned the start conventions of the Bradyrhizobium
#   and M. acetivorans references (start+stop F1 0.63 at stop F1 0.92 for us and for Prodigal);
# - with M. acetivorans back (Bradyrhizobium still out): validation top-1 T. kodakarensis 0.722
#   against 0.780, pieces (single, 5/10/20/50 kb) 0.769/0.817/0.852/0.890 against
#   0.814/0.857/0.866/0.895;
# - without those two (the bundled one): 0.9248 / 0.9233 at 0.25 / 0.5; bases only, no place
#   features: 0.9223-0.9235; a 100-base window (-40..+59): 0.9248 at 0.25; size-scaled as
#   bundled: 0.9242 / 0.7424 / 0.8559. On whole validation genomes it is neutral; where a genome
#   is too small to learn its starts it does the work: pieces of the validation genomes decoded
#   alone (single mode, 5/10/20/50 kb) 0.762/0.819/0.839/0.888 -> 0.814/0.857/0.866/0.895;
# - offline, ranking the starts of annotated genes' ORFs after self-training, an MLP stacking the
#   self-trained start parts with place and window (or a residual on the linear score) stayed
#   within +-0.01 top-1 of the statistics on every validation genome; a learned gene-vs-noncoding
#   scorer of ORFs (statistics per base, length, the per-base network's mean log-ratio) ranked
#   them no better than the linear score (AUC 0.996-0.999 either way); the bundled classifier
#   fine-tuned per genome on its own chosen starts (3 epochs), added at 0.5-1.0: top-1 T.
#   kodakarensis 0.876 -> 0.887, LT960552 0.950 -> 0.955, Vibrio 0.928 -> 0.929, MT939486 0.967
#   -> 0.963-0.967, M. alvi 0.937 -> 0.929-0.931: mixed, not pursued.
# The Erwinia phages' gap is not closed by any of these: their reference is Prodigal's output;
# on MT939486 we miss 19 of its genes (96-369 bp, Prodigal calls them on start score 3-13 with
# coding score near 0; ours: coding log-ratio per base ~0, the per-base network's mostly
# negative) and choose 15 starts other than Prodigal's.
FEATURES = ("coding", "net", "codon", "rbs", "matrix", "length", "bias", "start_net", "dicodon", "dicodon_start")


@dataclass
class ProkaryoteWeights:
    """Weights of FEATURES, chosen on training genomes (see the comment of each)."""

    coding: float = 0.5  # per-base Markov log-ratio summed over the CDS
    net: float = 0.003  # per-base network log-ratio summed over the CDS (over-confident per base)
    codon: float = 1.0  # start model: start codon log-odds
    rbs: float = 1.0  # start model: Shine-Dalgarno class log-odds
    matrix: float = 0.5  # start model: -20..+14 matrix log-odds (32 columns summed: over-confident)
    length: float = 1.0  # log-odds that an ORF this long is no chance run of sense codons (Prodigal's)
    bias: float = -2.0  # per gene
    net_only_start_weight: float = 0.02  # first pass (network, fixed start prior): evidence scale
    start_net: float = 0.5  # learned start classifier: logit minus its ORF's best (scaled by size, weight_vector)
    dicodon: float = 0.3  # Prodigal-method coding score (dicodon.py), times its share (dicodon_weights)
    dicodon_start: float = 0.3  # Prodigal-method start score (dicodon.py), likewise

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, f) for f in FEATURES])


@dataclass
class ProkaryoteSettings:
    min_len: int = 90
    closed: bool = False  # complete genes only: none runs off a sequence end or into a gap (Prodigal's -c)
    same_overlap: int = 60
    convergent_overlap: int = 200
    divergent_overlap: int = 0
    # at most this many rounds; they stop early once the genes are those of the round before
    # (a fixed point: the same genes fit the same models), or fewer than stable_fraction of them
    # changed. On the validation and training genomes the gene set stops changing after 2-4
    # rounds (docs/benchmarks.md, "Self-training until stable"); negative: every round runs
    rounds: int = 4
    stable_fraction: float = 0.001
    # coding bases per parameter the self-trained chain's order needs (coding.order_for): at 160
    # a 350 kb phage (~330 kb of genes) gets order 3, M. alvi and T. kodakarensis order 4, Vibrio
    # and E. coli order 5; at 40 (before 2026-12-04) order 4 / 5 / 5
    coding_per_parameter: int = 160
    use_net: bool = True
    use_self_training: bool = True
    use_start_model: bool = True
    use_dp: bool = True  # False: greedy selection (ablation only)
    threads: int = 1  # strands scored at once (the genes do not depend on it)
    # The start matrix (starts.py: -20..+14, 32 columns) is the self-trained part with the most
    # parameters; each round it is fitted on half of the chosen genes' ORFs and asked how much
    # it raises the log-probability of the chosen start in the other half, over codon and RBS
    # alone (_matrix_gain, nats per start). Its weight is weights.matrix times that gain over
    # matrix_gain_full, at most 1 (0: the check off). Held-out gains (2026-12-05, final genes):
    # Vibrio 0.53, E. coli 0.56, M. acetivorans 0.62, M. alvi 0.70, Bradyrhizobium 0.77,
    # M. gallisepticum 0.91, T. kodakarensis 0.98; the Erwinia phages 0.22-0.25 (their starts
    # are less predictable from the bases around them, so the matrix mostly fits noise there).
    # Harness, validation / large training / training phages mean start+stop F1: off 0.9363 /
    # 0.7490 / 0.8536; at 0.35: 0.9399 / 0.7489 / 0.8529; 0.5: 0.9425 / 0.7488 / 0.8529 (Vibrio
    # +0.0003, M. alvi and T. kod. unchanged, LT960552 +0.0008, MT939486/7/8 +0.012-0.016);
    # 0.7: 0.9422 / 0.7491 / 0.8495; 1.0: 0.9415 / 0.7470 / 0.8506. Letting a high gain raise the
    # weight above full (up to 1.5x) did not help: 0.9422 / 0.7470 / 0.8538
    # The check from the second round on only (the first round's genes are the long-ORF guess):
    # 0.9405 / 0.7490 / 0.8529, one round fewer on Vibrio; the first round's low weight is what
    # moves the phages (MT93948x 0.970-0.974 against 0.975-0.978): kept in every round.
    matrix_gain_full: float = 0.5
    # the learned start classifier (models/prok_starts.py, scripts/train_start_model.py), a
    # bundled name or a directory, added as the start_net term; None: statistics alone
    start_net_model: str | None = "prokaryote-starts"
    # its weight is weights.start_net for inputs up to this many bases and falls as 1/size
    # beyond: a large genome teaches itself its starts (thousands of genes), a small one cannot,
    # and there a prior learned across species is worth most (docs/benchmarks.md)
    start_net_full_below: int = 100_000
    # ... but never below this: a genome's own start model, however many genes taught it, does
    # not see everything the classifier learned across species. 2026-12-04 (with
    # coding_per_parameter 160), start+stop F1 of the 7 validation genomes' mean / E. coli /
    # M. gallisepticum / M. acetivorans: floor 0 (the weight falling to 0.025 at 2 Mb and the
    # classifier not run above) 0.9258 / 0.9019 / 0.8162 / 0.6302, 0.05: 0.9265 / 0.9027 /
    # 0.8162 / 0.6324, 0.1: 0.9272 / 0.9045 / 0.8200 / 0.6351, 0.15: 0.9260 / 0.9046 / 0.8214 /
    # 0.6365; statistics alone 0.9245 / 0.9019 / 0.8162 / 0.6302
    start_net_floor: float = 0.1
    # above this many bases the classifier is not run at all (None: no limit)
    start_net_max_bases: int | None = None
    # A second self-trained score built Prodigal's way (dicodon.py: in-frame hexamer coding,
    # start weight 4.35 over codon + RBS + upstream composition, short-gene scaling), added as
    # the dicodon / dicodon_start terms (issue 11; docs/benchmarks.md "A Prodigal-method score
    # beside ours"). Its weight is times codons / (codons + dicodon_half_codons) of the genes it
    # was fitted on, its hexamer table pulled towards the background by dicodon_pseudo_codons
    # and its upstream columns towards the GC-expected mix by dicodon_pseudo_starts: a 4096-entry
    # table needs data (the 44-72 kb training phages: 0.856 -> 0.811 with neither, 0.853 with
    # all three; 20 kb pieces of the example phage 0.842 -> 0.811 / 0.837). While it is on, the
    # decoder's own start codon and RBS terms count codon_rbs_with_dicodon times at full share
    # (the dicodon start term carries them too). Validation mean start+stop F1 0.9275 -> 0.9311
    # (harness bench/prokaryote/settings_harness.py, 2026-12-04).
    use_dicodon: bool = True
    dicodon_start_weight: float = 4.35
    dicodon_pseudo_codons: float = 65536.0
    dicodon_pseudo_starts: float = 1000.0
    dicodon_half_codons: float = 30000.0
    codon_rbs_with_dicodon: float = 0.5
    # Prodigal's junction scores between consecutive genes (dp.Junctions), in the dicodon start
    # term's units (times its weight and share): a cost of dicodon_junction_share x its start
    # weight per gene, a bonus up to twice that for close same-strand neighbours, an ATGA/TAATG
    # start's negative RBS and upstream parts forgiven. Harness 2026-12-04: validation mean
    # 0.9311 -> 0.9335 (the four Erwinia phages +0.004 to +0.006, Vibrio -0.0006, T. kod.
    # -0.0015), large training 0.7469 -> 0.7478, training phages 0.8530 -> 0.8546.
    dicodon_junctions: bool = True
    # its start codon and Shine-Dalgarno bin weights (sd_bins.py) and upstream composition
    # trained Prodigal's way on sure ORFs (DicodonModel.train_starts) instead of taken from the
    # decoder's start model and genes; they count n / (n + dicodon_half_starts) against the start
    # model's, n the sure starts (training phages ~30, validation genomes 415-3126). Harness
    # 2026-12-04: validation mean 0.9335 -> 0.9363 (T. kodakarensis 0.870 -> 0.889), large
    # training 0.7478 -> 0.7490, training phages 0.8546 -> 0.8536 (0.8498 at full weight)
    dicodon_own_starts: bool = True
    dicodon_half_starts: float = 100.0
    # Fit the dicodon score once, Prodigal's way, instead of every round on the decoder's genes:
    # its hexamer table on the gene set of a first pass scored by GC frame bias (gc_frame.py),
    # counted to the last sense codon, and its start weights from that. Off: it brings the score
    # alone closer to Prodigal's calls (with dicodon_pseudo_codons=0: F1 against them on the
    # four Erwinia phages 0.988 -> 0.992) but not the default (harness validation 0.9363 ->
    # 0.9355-0.9358, training phages 0.8492-0.8514), docs/benchmarks.md
    dicodon_prodigal_training: bool = False
    dicodon_junction_share: float = 0.15
    # The genome's own gene spacing (spacing.py): each round the density of (facing, bases
    # between) of consecutive genes is fitted on the current genes, and each junction of the DP
    # adds spacing_weight x (its log density - spacing_center), on top of Prodigal's junction
    # scores (spacing_replaces_prodigal: in their place; spacing_center None: each genome's own
    # mean, which cancels what it should say, how cheap one more junction is in a tightly packed
    # genome). Harness 2026-12-05 (session 31), start+stop F1 means validation / large training /
    # training phages: off 0.9425 / 0.7488 / 0.8529; weight 1, center -6.5: 0.9430 / 0.7511 /
    # 0.8605 (15 of the 22 genomes up, LT960552 +0.008, MT939487 -0.004, MT939488 -0.002);
    # center -7: 0.9428 / 0.7506 / 0.8594; weight 0.7: 0.9428 / 0.7514 / 0.8573; 1.5: 0.9425 /
    # 0.7502 / 0.8552; own mean: 0.9418 / 0.7507 / 0.8599; in place of Prodigal's: 0.9427 /
    # 0.7514 / 0.8584; with the gene constant at -1.5 too: 0.9428 / 0.7505 / 0.8587; a 6 bp
    # kernel instead of 25: 0.9406 (starts move to fit the kernel's fine detail). The weight is
    # times pairs / (pairs + spacing_half_pairs), the neighbour pairs it was fitted on: a 5-10 kb
    # input has a handful, and a density from them is noise (single mode on 5 / 10 / 20 / 50 kb
    # pieces of the validation genomes, bench/prokaryote/meta_pieces.py's: off 0.817 / 0.851 /
    # 0.860 / 0.899; unscaled 0.795 / 0.836 / 0.857 / 0.902; half at 15: 0.820 / 0.842 / 0.860 /
    # 0.900; 30: 0.820 / 0.845 / 0.861 / 0.900; 100: 0.820 / 0.849 / 0.859 / 0.899). Harness at
    # 30: 0.9434 / 0.7511 / 0.8573 (15: 0.9429 / 0.7511 / 0.8584; 100: 0.9430 / 0.7511 / 0.8533)
    spacing_weight: float = 1.0
    spacing_replaces_prodigal: bool = False
    spacing_center: float | None = -6.5
    spacing_half_pairs: float = 30.0
    # Inputs under this many bases add meta mode's scores (meta.py: the shipped parameter set that
    # scores them best) to the long-ORF guess that starts self-training: a small genome's first
    # genes decide what it teaches itself. 2026-12-05 (session 31), single mode on
    # bench/prokaryote/meta_pieces.py's pieces of the validation genomes, start+stop F1 at 5 / 10 /
    # 20 / 50 kb: long-ORF guess 0.820 / 0.845 / 0.861 / 0.900; meta mode's genes alone as the
    # first set 0.834 / 0.870 / 0.876 / 0.907; added to the guess 0.834 / 0.865 / 0.873 / 0.910
    # (meta mode itself 0.878 / 0.881 / 0.903 / 0.889: the 50 kb switch stands). Training phages
    # (harness; 44-170 kb) 0.8573 -> 0.8610 (alone) / 0.8624 (added). Meta's genes alone failed a
    # built genome whose genes no shipped set knows (test_prokaryote.py's planted table-4 genome:
    # 0 of 80 found, self-training never left the wrong first set); added to the long-ORF guess,
    # the long ORFs still lead there. Cost: meta mode's scoring, ~0.15-0.3 s for 50-150 kb.
    meta_seed_below: int = 150_000
    # Meta mode without a dicodon term (meta_dicodon off, or a set without one) has no junction
    # scores from it; Prodigal's (dp.Junctions.prodigal) at this unit instead (0: none).
    # 2026-12-05 (session 31), meta mode, start+stop F1:
    # meta_pieces' pieces at 5 / 10 / 20 / 50 kb 0.878 / 0.881 / 0.903 / 0.889 -> 0.882 / 0.884 /
    # 0.904 / 0.892 at 0.6 (0.3: 0.878 / 0.877 / 0.903 / 0.888; 1.0: 0.885 / 0.883 / 0.904 /
    # 0.889); whole validation genomes (harness candidates): LT960552 / MT939486 / 87 / 88 +0.005
    # / +0.000 / +0.004 / +0.005, Vibrio +0.002, T. kodakarensis +0.002, M. alvi -0.003;
    # training phages 8 of 11 up
    meta_junction_unit: float = 0.6
    # Meta mode scores each set's dicodon score too (meta.ParameterSet.dicodon: made by
    # scripts/make_meta_models.py, a GC bin's hexamer table pooled from its genes, a training
    # genome's own fit with its start weights trained on sure ORFs), with the junction terms in
    # its units as single mode has them (meta_junction_unit then unused). 2026-12-05 (session 32),
    # meta mode, start+stop F1 on meta_pieces' 5 / 10 / 20 / 50 kb pieces: 0.882 / 0.884 / 0.904 /
    # 0.892 -> 0.887 / 0.903 / 0.903 / 0.901 (all pieces 0.8936 -> 0.9009, stop F1 0.976 -> 0.982;
    # the bins' hexamer tables alone, no genome start weights: 0.8953; the sets' coding chain
    # left out: 0.9002), then 0.894 / 0.900 / 0.903 / 0.903 without the start classifier
    # (META_START_NET_WEIGHT); whole validation genomes 0.918 -> 0.927 on average (T.
    # kodakarensis 0.819 -> 0.857). Single mode under meta_seed_below starts from these scores
    # too: pieces 0.834 / 0.865 / 0.873 / 0.910 -> 0.834 / 0.867 / 0.881 / 0.909, training phages
    # 0.8624 -> 0.8629. docs/benchmarks.md
    meta_dicodon: bool = True
    # Meta mode decodes in full only the sets whose coding chain explains the sequence's ORFs
    # best (meta.screened: the summed positive chain score of each ORF's best start; 0: every
    # set). The winner was among the chain's top 10 of 43 on every one of ~700 sequences tried
    # (2-20 kb, bacteria, archaea, phages, code 4). docs/benchmarks.md
    meta_screen_sets: int = 12
    # Atypical genes (GeneMarkS-2's idea: genes taken from other genomes, whose composition the
    # genome's own chain does not fit, are scored by models of other GC): a candidate's coding
    # term is the better of the genome's chain and, less this penalty, of the shipped GC-bin
    # chains (meta.py's sets) at the genome's GC + atypical_offsets the one nearest the
    # candidate's own GC. None: off. 2026-12-05 (session 33), harness, start+stop F1: validation
    # mean 0.9430 -> 0.9442 (Vibrio 0.9168 -> 0.9192, T. kodakarensis 0.8888 -> 0.8899, M. alvi
    # 0.9098 -> 0.9106, MT939487 / 88 +0.001 / +0.002, the other phages level); large training
    # 0.7511 -> 0.7532 (Bradyrhizobium 0.6302 -> 0.6360, E. coli 0.9128 -> 0.9155); training
    # phages 0.8636 level. Penalty 2 / 5 / 10: validation 0.9439 / 0.9437 / 0.9433 at +-0.1;
    # offsets +-0.15 / +-0.1 / +-0.06 / four bins: 0.9442 / 0.9439 / 0.9442 / 0.9440. docs/benchmarks.md
    atypical_penalty: float | None = 2.0
    atypical_offsets: tuple[float, ...] = (-0.06, 0.06)
    weights: ProkaryoteWeights = field(default_factory=ProkaryoteWeights)


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
    cod = memoized(memo, chain_key(coding, d.cand), lambda: frame_sums(coding.track(d.cand.seq, cache), d.cand.a, d.cand.e))
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


def _bases(records: list[list[_StrandData]]) -> int:
    """Bases of the records' segments (each segment's '+' strand once)."""
    return sum(d.cand.length for rec in records for d in rec if d.cand.strand == "+")


def add_atypical(records: list[list[_StrandData]], settings: ProkaryoteSettings, cache: ContextCache | None = None) -> float | None:
    """Give every candidate its atypical chain score (atypical_coding; the shipped GC-bin chains
    of the records' code nearest the genome's GC + each of atypical_offsets) and return the
    penalty to charge it, or None when off."""
    if settings.atypical_penalty is None:
        return None
    from genet5.predict.prokaryote.atypical import atypical_coding, atypical_chains

    code = next((d.code for rec in records for d in rec), 11)
    genome_gc = gc_share(b"".join(d.cand.seq for rec in records for d in rec if d.cand.strand == "+"))
    chains, gcs = atypical_chains(code, genome_gc, settings.atypical_offsets)
    if not chains:
        return None
    strands = (d for rec in records for d in rec)
    for d, alt in zip(strands, _each_strand(records, lambda d: atypical_coding(d.cand, chains, gcs, cache), settings.threads)):
        d.atypical = alt
    return settings.atypical_penalty


def weight_vector(settings: ProkaryoteSettings, records: list[list[_StrandData]], meta: bool = False) -> np.ndarray:
    """FEATURES' weights for these records (one genome, or one sequence in meta mode)."""
    w = settings.weights.vector()
    bases = _bases(records)
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
                   track: np.ndarray | None = None) -> list[_StrandData]:
    """Candidates of one record with everything that does not change between rounds; the
    network track (L, classes) may be dropped afterwards."""
    ratio = _net_ratio(track) if track is not None else None
    gc = gc_share(seq)

    def strand_data(cand: Strand) -> _StrandData:
        net = None
        if ratio is not None:
            w = ratio[cand.offset : cand.offset + cand.length]
            if cand.strand == "-":
                w = w[::-1]
            net = frame_sums(np.ascontiguousarray(w), cand.a, cand.e)
        codon, rbs, mat = features(cand.seq, cand.a, cand.edge)
        length = length_log_odds((cand.e - cand.a + 1) / 3.0, gc, code.id)
        return _StrandData(cand, net, codon, rbs, mat, length, code=code.id)

    return thread_map(strand_data, record_candidates(seqid, seq, code, start_codons, settings.min_len, settings.closed), settings.threads,
                      bases=2 * len(seq))


def _each_strand(records: list[list[_StrandData]], fn, threads: int = 1) -> list:
    """fn(strand) for every strand of every record, in order (threads.py)."""
    strands = [d for rec in records for d in rec]
    return thread_map(fn, strands, threads, bases=sum(d.cand.length for d in strands))


def add_start_net(records: list[list[_StrandData]], model, freq: np.ndarray, threads: int = 1) -> None:
    """Score every candidate start with the learned classifier (learned_starts.py); `freq`: the
    genome's base frequencies (all records together, as the statistics are)."""
    for d, scores in zip((d for rec in records for d in rec), _each_strand(records, lambda d: start_scores(model, d.cand, freq), threads)):
        d.start_net = scores


def ensure_start_net(records: list[list[_StrandData]], settings: ProkaryoteSettings) -> None:
    """Add the settings' start classifier's term to records that lack it, unless the genome is
    larger than start_net_max_bases (no limit by default)."""
    if not settings.start_net_model or all(d.start_net is not None for rec in records for d in rec):
        return
    plus = [d.cand for rec in records for d in rec if d.cand.strand == "+"]
    if settings.start_net_max_bases is not None and sum(c.length for c in plus) > settings.start_net_max_bases:
        return
    freq = genome_freq(sum((base_counts(c.seq) for c in plus), np.zeros(4)))
    add_start_net(records, load_start_net(settings.start_net_model), freq, settings.threads)


def _decode(records: list[list[_StrandData]], scores: list[list[np.ndarray]], settings: ProkaryoteSettings,
            junction_weight: float = 0.0, spacing: SpacingModel | None = None,
            junction_unit: float = 0.0) -> list[list[np.ndarray]]:
    """Per record, per strand: indices of the chosen candidates. junction_weight: the weight of
    the dicodon start term; above 0 the DP adds Prodigal's junction scores in its units.
    junction_unit: without the dicodon term (meta mode), Prodigal's junction scores at this unit."""
    chosen = []
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
            junctions = dp.Junctions.prodigal(-unit, unit, rescue, reach=max(settings.convergent_overlap, settings.same_overlap))
            if spacing is not None and settings.spacing_weight > 0:
                weight = settings.spacing_weight * spacing.pairs / (spacing.pairs + settings.spacing_half_pairs)
                junctions = spacing.junctions(weight, rescue, None if settings.spacing_replaces_prodigal else junctions,
                                              settings.spacing_center)
            kw["junctions"] = junctions
        # segments of one record never share bases, so one DP over the record is exact
        pick = (dp.select if settings.use_dp else dp.greedy)(lo, hi, pl, s, same=settings.same_overlap, convergent=settings.convergent_overlap,
                         divergent=settings.divergent_overlap, **kw)
        bounds = np.cumsum([0] + [len(d.cand.a) for d in rec])
        chosen.append([pick[(pick >= bounds[i]) & (pick < bounds[i + 1])] - bounds[i] for i in range(len(rec))])
    return chosen


def _bootstrap_scores(d: _StrandData, settings: ProkaryoteSettings) -> np.ndarray:
    w = settings.weights
    prior = StartModel.prior().score(d.codon, d.rbs, d.mat)
    if settings.use_net and d.net is not None:
        return w.net_only_start_weight * d.net + prior
    # no network: long ORFs, longest start, are the first guess
    length = (d.cand.e - d.cand.a + 1).astype(np.float64)
    return np.where(length >= 300, (length - 300) / 100.0, -1.0) + prior


def _fit_coding(records, chosen, cache: ContextCache | None = None, per_parameter: int = 40, threads: int = 1) -> CodingModel:
    genes, background = [], []
    for rec, ch in zip(records, chosen):
        for d, idx in zip(rec, ch):
            background.append(d.cand.seq)
            idx = idx[~d.cand.edge[idx]]
            genes.append((d.cand.seq, d.cand.a[idx], d.cand.e[idx]))
    if cache is not None and threads > 1:  # the context tables of the order the fit will choose, at once
        cache.fill(background, order_for(sum(int((e - a + 1).sum()) for _, a, e in genes), per_parameter), threads)
    return CodingModel.fit(genes, background, cache=cache, per_parameter=per_parameter)


def dicodon_weights(wvec: np.ndarray, dicodon: DicodonModel, settings: ProkaryoteSettings) -> np.ndarray:
    """FEATURES' weights with the dicodon terms scaled by how much the genome taught it, and the
    start codon and RBS terms shared with it (ProkaryoteSettings.use_dicodon)."""
    w = wvec.copy()
    share = dicodon.codons / (dicodon.codons + settings.dicodon_half_codons)
    w[[FEATURES.index("dicodon"), FEATURES.index("dicodon_start")]] *= share
    w[[FEATURES.index("codon"), FEATURES.index("rbs")]] *= 1.0 - (1.0 - settings.codon_rbs_with_dicodon) * share
    return w


def _fit_dicodon(records, chosen, settings: ProkaryoteSettings, cache: HexamerCache | None = None,
                 through_stop: bool = True, memo: dict | None = None) -> DicodonModel:
    genes, background, gc, acgt = [], [], 0, 0
    for rec, ch in zip(records, chosen):
        for d, idx in zip(rec, ch):
            background.append(d.cand.seq)
            if d.cand.strand == "+":
                counts = np.bincount(np.frombuffer(d.cand.seq, dtype=np.uint8), minlength=256)
                gc += int(counts[ord("G")] + counts[ord("C")])
                acgt += int(counts[[ord(b) for b in "ACGT"]].sum())
            idx = idx[~d.cand.edge[idx] & ~d.cand.open3[idx]]
            genes.append((d.cand.seq, d.cand.a[idx], d.cand.e[idx]))
    model = DicodonModel.fit(genes, background, gc / max(acgt, 1), settings.dicodon_start_weight,
                             settings.dicodon_pseudo_codons, settings.dicodon_pseudo_starts, cache, through_stop)
    if settings.dicodon_own_starts and settings.use_start_model:  # without it, no start is learned at all
        ensure_sd_masks(records, settings.threads)
        model.train_starts([(d.cand, d.length, d.codon, d.sd_masks) for rec in records for d in rec], gc / max(acgt, 1),
                           settings.dicodon_half_starts, cache, memo)
    return model


def ensure_sd_masks(records: list[list[_StrandData]], threads: int = 1) -> None:
    """Prodigal's Shine-Dalgarno motif bins (sd_bins.py) of every candidate start, where missing."""
    todo = [d for rec in records for d in rec if d.sd_masks is None]
    for d, masks in zip(todo, bin_masks_many([(d.cand.seq, d.cand.a) for d in todo], threads)):
        d.sd_masks = masks


def _fit_spacing(records, chosen, settings: ProkaryoteSettings) -> SpacingModel | None:
    """The genome's gene spacing (spacing.py) from the current genes, all records together."""
    facing, gap = [], []
    for rec, ch in zip(records, chosen):
        if not rec:
            continue
        lo, hi, plus = [], [], []
        for d, idx in zip(rec, ch):
            a, b = d.cand.genomic_all()
            lo.append(a[idx]); hi.append(b[idx]); plus.append(np.full(len(idx), d.cand.strand == "+"))
        f, g = neighbour_pairs(np.concatenate(lo), np.concatenate(hi), np.concatenate(plus))
        facing.append(f); gap.append(g)
    if not facing:
        return None
    return SpacingModel.fit(np.concatenate(facing), np.concatenate(gap), max(settings.convergent_overlap, settings.same_overlap))


def _start_examples(records, chosen):
    """(examples, background) for StartModel.fit: per strand, the start codons of the chosen
    genes' ORFs (codon, RBS, matrix window, chosen or not, ORF index); background: the codon and
    RBS classes of every candidate start."""
    examples, bg_codon, bg_rbs = [], [], []
    for rec, ch in zip(records, chosen):
        for d, idx in zip(rec, ch):
            real = ~d.cand.edge
            bg_codon.append(d.codon[real])
            bg_rbs.append(d.rbs[real])
            idx = idx[~d.cand.edge[idx]]
            if idx.size == 0:
                continue
            in_orf = np.isin(d.cand.orf, d.cand.orf[idx]) & real
            is_chosen = np.zeros(len(d.cand.a), dtype=bool)
            is_chosen[idx] = True
            examples.append((d.codon[in_orf], d.rbs[in_orf], d.mat[in_orf], is_chosen[in_orf], d.cand.orf[in_orf]))
    return examples, (np.concatenate(bg_codon), np.concatenate(bg_rbs)) if bg_codon else None


def _fit_starts(examples, background) -> StartModel | None:
    if not examples:
        return None
    return StartModel.fit([e[:4] for e in examples], background=background)


def _chosen_log_prob(x: np.ndarray, group: np.ndarray, is_chosen: np.ndarray) -> float:
    """Sum over groups of the chosen member's log-softmax of x within its group."""
    top = np.full(group.max() + 1, -np.inf)
    np.maximum.at(top, group, x)
    norm = np.log(np.bincount(group, weights=np.exp(x - top[group]))) + top
    return float((x[is_chosen] - norm[group[is_chosen]]).sum())


def _halves(examples, half: int) -> list:
    """The examples' ORFs of one parity (ORF index even or odd)."""
    out = []
    for e in examples:
        keep = e[4] % 2 == half
        if keep.any():
            out.append(tuple(x[keep] for x in e))
    return out


def _matrix_gain(examples, background, weight: float) -> float | None:
    """How much the start matrix, fitted on half of the chosen genes' ORFs (_start_examples),
    raises the log-probability of the chosen start among its ORF's starts in the other half
    (nats per start, at `weight`, over codon + RBS alone); None with too few genes."""
    total, n = 0.0, 0
    for half in (0, 1):
        train, test = _halves(examples, half), _halves(examples, 1 - half)
        model = _fit_starts(train, background)
        if model is None or not test:
            return None
        for codon, rbs, mat, is_chosen, orf in test:
            parts = model.parts(codon, rbs, mat)
            base = parts["codon"] + parts["rbs"]
            group = np.unique(orf, return_inverse=True)[1]
            total += _chosen_log_prob(base + weight * parts["matrix"], group, is_chosen) - _chosen_log_prob(base, group, is_chosen)
            n += int(is_chosen.sum())
    return total / n if n else None


@dataclass
class SelfTrained:
    """What one genome taught itself: the final models and the genes they chose."""

    coding: CodingModel | None
    starts: StartModel
    dicodon: DicodonModel | None
    chosen: list[list[np.ndarray]]
    scores: list[list[np.ndarray]]


def self_train(records: list[list[_StrandData]], settings: ProkaryoteSettings, stop_after_first=None) -> SelfTrained:
    """Rounds of fitting the coding chain and start model on the current genes and decoding
    again. After it returns, each strand's `features` hold the candidates' features under the
    last round's models. stop_after_first(chosen, coding): asked after the first round; True
    ends the training there (the caller will not use these genes). The first gene set is the
    long-ORF guess (or the network's), with meta mode's scores added for inputs under
    meta_seed_below bases."""
    ensure_start_net(records, settings)
    wvec = weight_vector(settings, records)
    scores = [[_bootstrap_scores(d, settings) for d in rec] for rec in records]
    if settings.use_self_training and _bases(records) < settings.meta_seed_below:
        scores = [[b + m for b, m in zip(rb, rm)] for rb, rm in zip(scores, _meta_scores(records, settings))]
    chosen = _decode(records, scores, settings)
    coding, start_model, dicodon = None, StartModel.prior(), None
    rounds = settings.rounds if settings.use_self_training else 0
    cache, hex_cache = ContextCache(), HexamerCache()
    if settings.use_dicodon and rounds:
        hex_cache.fill([d.cand.seq for rec in records for d in rec], settings.threads)
    fixed_dicodon = None
    if settings.use_dicodon and settings.dicodon_prodigal_training and rounds:
        # fitted once, on Prodigal's own first gene set, as Prodigal does
        fp = iter(first_pass_scores([d.cand for rec in records for d in rec]))
        first = _decode(records, [[next(fp) for _ in rec] for rec in records], settings)
        fixed_dicodon = _fit_dicodon(records, first, settings, hex_cache, through_stop=False)
    atypical = add_atypical(records, settings, cache) if rounds else None
    for _ in range(rounds):
        coding = _fit_coding(records, chosen, cache, settings.coding_per_parameter, settings.threads)
        examples, background = _start_examples(records, chosen) if settings.use_start_model else ([], None)
        start_model = _fit_starts(examples, background) or StartModel.prior()
        wround = wvec.copy()
        if settings.matrix_gain_full > 0 and settings.use_start_model:
            gain = _matrix_gain(examples, background, wvec[FEATURES.index("matrix")])
            if gain is not None:
                wround[FEATURES.index("matrix")] *= min(1.0, max(gain, 0.0) / settings.matrix_gain_full)
        memo: dict = {}  # this round's models' coding scores, from their start training to the scoring
        if settings.use_dicodon:
            dicodon = fixed_dicodon or _fit_dicodon(records, chosen, settings, hex_cache, memo=memo)
            wround = dicodon_weights(wround, dicodon, settings)
        scores = score_records(records, coding, start_model, settings, wround, cache, dicodon, hex_cache, memo, atypical)
        junction_weight = wround[FEATURES.index("dicodon_start")] if settings.dicodon_junctions else 0.0
        spacing = _fit_spacing(records, chosen, settings) if settings.spacing_weight > 0 else None
        before, chosen = chosen, _decode(records, scores, settings, junction_weight, spacing)
        if stop_after_first is not None and stop_after_first(chosen, coding):
            break
        stop_after_first = None
        if _changed(before, chosen) <= settings.stable_fraction * max(_count(chosen), 1):
            break
    return SelfTrained(coding, start_model, dicodon, chosen, scores)


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
                  memo: dict | None = None, atypical: float | None = None) -> list[list[np.ndarray]]:
    wvec = weight_vector(settings, records) if wvec is None else wvec
    feats = iter(_each_strand(records, lambda d: candidate_features(d, coding, start_model, settings.use_net, cache, dicodon,
                                                                    hex_cache, memo, atypical), settings.threads))
    scores = []
    for rec in records:
        for d in rec:
            d.features = next(feats)
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
            out.append(OrfGene(c.strand, int(lo[k]), int(hi[k]), float(sc[k]), bool(c.edge[k]), bool(c.open3[k]), codon))
    out.sort(key=lambda g: (g.start, g.end))
    return out


def settings_for(cfg) -> ProkaryoteSettings:
    """The decoder's settings for a run of `genet5 predict` (its PredictConfig)."""
    return ProkaryoteSettings(min_len=cfg.min_gene_length, use_net=cfg.use_network, use_start_model=cfg.learn_starts,
                              threads=cfg.workers or default_threads(), closed=cfg.closed)


class ProkaryoteDecoder:
    """`--domain prokaryote` (predict/decoders.py): each record is reduced to its candidate genes
    as it comes, with the network's evidence summed along each (memory: one record's track at a
    time); `finish` self-trains on the whole genome (single mode) or picks a shipped parameter
    set per sequence (meta mode: --mode meta, or auto below META_BELOW bases)."""

    def __init__(self, cfg, source: str = ""):
        self.cfg, self.source = cfg, source
        self.code, self.starts, self.settings = genetic_code(cfg.genetic_code), start_codon_set(cfg), settings_for(cfg)
        self.uses_track = cfg.use_network
        self.records: list[list[_StrandData]] = []
        self.bases = 0

    def add(self, rec, track: np.ndarray | None) -> None:
        self.bases += len(rec.seq)
        self.records.append(prepare_record(rec.id, rec.seq, self.code, self.starts, self.settings, track))

    def finish(self, on_bases=None) -> Decoded:
        from genet5.predict.prokaryote.meta import META_BELOW, SINGLE_MIN, find_genes_meta

        mode = self.cfg.mode
        if mode == "single" and self.bases < SINGLE_MIN:
            raise GenomeFormatError(self.source, None, f"{self.bases:,} bp is too little for a genome to teach itself its gene "
                                    f"statistics (single mode needs >= {SINGLE_MIN:,} bp): use --meta (--mode meta) or --mode auto")
        if mode == "meta" or (mode == "auto" and self.bases < META_BELOW):
            genes, sets = find_genes_meta(self.records, self.settings, code=self.code.id)
            decoded = Decoded(genes, "meta", sets)
        else:
            # under table 11, does the genome read TGA as tryptophan? Its genes say so after the
            # first round already (as -g auto's one-round decoding does): a table-4 genome is
            # decoded again under table 4 (pipeline.py), so its rounds under 11 stop there
            check, evidence = None, []
            if self.code.id == 11 and self.cfg.code_from_genome:
                from genet5.predict.prokaryote.code_choice import count_readthroughs, decide

                def check(chosen, coding) -> bool:
                    evidence.append(decide(*count_readthroughs(self.records, chosen, coding)))
                    return evidence[-1].table == 4

            st = self_train(self.records, self.settings, check)
            decoded = Decoded([_genes(rec, ch, sc) for rec, ch, sc in zip(self.records, st.chosen, st.scores)], "single",
                              code_choice=evidence[0] if evidence else None)
        if on_bases is not None:  # without the network, the decoding is the work
            on_bases(self.bases)
        return decoded
