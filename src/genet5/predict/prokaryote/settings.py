"""What the prokaryote decoder (decoder.py) scores and how: FEATURES, their weights
(ProkaryoteWeights) and every other setting (ProkaryoteSettings), each with what was measured
when it was chosen (training genomes first, then the validation genomes of splits.tsv;
docs/benchmarks.md has the tables). Kept apart from the decoder's code so that the code reads
as a procedure and the settings as a record of choices."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

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
# Tried 2026-12-06 (session 36), not kept: a 5'-end term, the first 45 bases after each
# candidate start under an order-2 chain of the chosen genes' first codons against one of their
# bodies (genes begin AT-richer, with other codons: the translation ramp), refitted each round.
# Harness means validation / large training / training phages, start+stop F1: without 0.9442 /
# 0.7532 / 0.8636; weight 0.5: 0.9423 / 0.7545 / 0.8635; 1.0: 0.9400 / 0.7528 / 0.8629; order
# 0 over 30 bases at 0.5: 0.9413 / 0.7541 / 0.8647 (Vibrio, T. kodakarensis and the Erwinia
# phages lose; fitted on the current starts, it leans where they already lean).
# Tried 2026-12-06 (session 38), not kept: a protein-level CNN over each ORF's translation,
# trained on the train genomes (held-out AUC 0.94-0.98), as a per-gene term (mean logit) at 0.25 /
# 0.5 / 1.0: validation 0.9443 / 0.9437 / 0.9436, large training - / 0.7504 / 0.7464 (0.7532
# without); summed per residue or relative to the ORF's best start, far worse (benchmarks.md).
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
    # Tried 2026-12-06 (session 36), not kept: an interpolated chain (Glimmer's idea) at one order
    # for every genome, each context's estimate pulled towards the shorter context's by S
    # pseudo-observations; harness validation / large training / training phages mean start+stop
    # F1: this rule 0.9442 / 0.7532 / 0.8636; order 5, S 20: 0.9423 / 0.7530 / 0.8666; order 6:
    # 0.9392 / 0.7522 / 0.8656; order 4: 0.9431 / 0.7528 / 0.8649; order 5, S 200: 0.9419 /
    # 0.7527 / 0.8652 (the Erwinia phages, order 3 here, lose 0.002-0.006 with any longer chain)
    coding_per_parameter: int = 160
    use_net: bool = True
    use_self_training: bool = True
    use_start_model: bool = True
    use_dp: bool = True  # False: greedy selection (ablation only)
    threads: int = 1  # strands scored at once (the genes do not depend on it)
    # The start matrix (starts.py: -20..+14, 32 columns) is the self-trained part with the most
    # parameters; each round it is fitted on half of the chosen genes' ORFs and asked how much
    # it raises the log-probability of the chosen start in the other half, over codon and RBS
    # alone (fits.matrix_gain, nats per start). Its weight is weights.matrix times that gain over
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
    # 0.6365; statistics alone 0.9245 / 0.9019 / 0.8162 / 0.6302. Rechecked with today's decoder
    # (2026-12-06, session 36, harness means validation / large training): 0.05: 0.9442 / 0.7527,
    # 0.1: 0.9442 / 0.7532, 0.2: 0.9435 / 0.7537
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
    # GC-rich genomes start self-training from Prodigal's GC frame plot (gc_frame.first_pass_scores
    # / 100 less bootstrap_gc_frame, plus the start prior) instead of the long-ORF guess: where
    # G+C is high, stops are rare off frame and between genes, long ORFs run through genes in
    # the wrong frames, and the long-ORF guess can teach itself a wrong fixed point. Found with
    # a synthetic probe (bench/prokaryote/synthetic_gc.py, 2026-12-06, session 36): E. coli
    # recoded to GC-rich synonymous codons and G/C intergenic bases, G+C 0.58 / 0.673 / 0.683
    # (third positions ~all G/C in the last): stop F1 0.971 / 0.980 / **0.472** with the long-ORF
    # guess, 0.971 / 0.980 / **0.981** with this from G+C 0.60 (Prodigal 0.954 / 0.948 / 0.953;
    # offset 2 / 3 / 5 on a like genome, dev run: 0.978 / 0.978 / 0.979). Used for every genome
    # it changes the harness's validation mean 0.9442 -> 0.9437 and the training phages 0.8636
    # -> 0.8587 (the long-ORF guess suits them); from 0.60 only Bradyrhizobium (64%) among the
    # shared genomes uses it (0.6360 -> 0.6359, one gene).
    # None: never
    bootstrap_gc_frame: float | None = 3.0
    bootstrap_gc_frame_from: float = 0.60  # ... in genomes of at least this G+C share
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
