"""The eukaryote decoder's settings (each with how it was chosen) and the per-genome models it
re-estimates each round (predict/eukaryote/decoder.py, refit.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from genet5.predict.eukaryote.content import ContentModel
from genet5.predict.eukaryote.priors import SpeciesPrior
from genet5.predict.prokaryote.coding import CodingModel
from genet5.predict.viterbi_decoder import SPLICE_PWM_FILE


@dataclass
class EukaryoteSettings:
    # Self-training rounds after the seed pass. With the species priors (2026-12-04, session 24;
    # dev harness, validation gene F1, mean of worm / fly chr4 / Arabidopsis / Zymoseptoria over
    # three site fine-tune samples): 4 rounds 0.394, 3 rounds 0.397 (Arabidopsis seed 0 0.577 ->
    # 0.585), 2 rounds 0.390 (one sample); pieces 0.359 / 0.357; yeast I/III/VI 0.811 / 0.809;
    # 3 saves one pass over the genome.
    rounds: int = 3
    seed_min_codons: int = 250  # ORFs at least this long seed the coding chain
    coding_order: int = 4
    content_order: int = 3  # intron and intergenic chains
    # log-prior of a gene: -10 without UTR states; with them each gene also collects its flanks'
    # UTR log-ratio, so the prior is dearer (validation mean gene F1, utr_mean 200: -13 0.333,
    # -16 0.345, -19 0.334)
    gene_logp: float = -16.0
    intron_logp: float = -8.0
    intron_min: int = 20
    intron_mean: float = 100.0  # round 0; re-estimated after
    # intron length: a short and a long geometric class (viterbi_hmm.GeneHMM); round 0 starts
    # from this long class, later rounds fit both to the introns found (fit_intron_lengths)
    intron_long_classes: bool = False
    intron_long_weight: float = 0.1
    intron_long_mean: float = 1000.0
    fit_intron_long: bool = True  # False: the long class stays as set above
    intron_long_max_weight: float = 0.3
    intron_split: float = 250.0  # introns longer than intron_min + this count as the long class
    # The long class where the genome has long introns: when at least this share of the introns
    # found by pass intron_long_round is longer than intron_min + intron_split, the later rounds
    # decode with the long class and the gene prior intron_long_gene_logp (a cheap long intron
    # makes joining two genes cheap: the dearer -16 prior joins more); 0: never. Compact
    # genomes (density adaptation) keep theirs. Share after pass 1 (dev harness, 2026-12-04):
    # worm 0.50, fly chr4 0.42, Arabidopsis 0.12, Zymoseptoria 0.04. Worm gene F1 over three
    # site fine-tune samples 0.347 / 0.335 / 0.349 (without 0.302 / 0.326 / 0.319), fly
    # 0.192 / 0.182 / 0.181 (0.180 / 0.171 / 0.180); forced on at -12 everywhere: Zymoseptoria
    # 0.353, Arabidopsis 0.524 (joins through false long introns); at -14 / -16: worm
    # 0.316 / 0.269, Arabidopsis 0.457 / 0.494; prior -10 instead of -12: worm 0.351, fly 0.184.
    intron_long_share: float = 0.25
    intron_long_round: int = 1
    intron_long_gene_logp: float = -12.0
    # The shortest intron, fitted per genome: from the pass after intron_long_round on,
    # intron_min rises to intron_min_scale times this quantile of the introns found (never
    # falls; 0: off), and the intron length model starts there: a genome whose introns start
    # at 40-70 bp gets no 20-35 bp false ones and a short-intron class as narrow as its peak.
    # Fitted floor after pass 1 (dev harness, 2026-12-04): worm 39, fly chr4 47, Arabidopsis
    # 63, Zymoseptoria 42. Validation gene F1 over three site fine-tune samples (mean of the
    # four; worm / fly / Arabidopsis / Zymoseptoria): off 0.372 (0.343 / 0.213 / 0.550 / 0.382),
    # 0.05 x 0.9 0.390 (0.325 / 0.255 / 0.580 / 0.399), 0.05 x 0.8 0.387; the floor alone with
    # the length model still starting at 20: 0.377 (worm 0.324), so most of the gain is the
    # narrower length model, and worm loses either way.
    intron_min_quantile: float = 0.05
    intron_min_scale: float = 0.9
    terminal_exon_min: int = 0  # shortest terminal exon (stop codon included) after an intron; 0: none
    gc_ag_logp: float = -4.6  # GC-AG introns (~1% of real ones) allowed at this log-prior
    # Soft-masked (lower-case) bases, when find_genes is given them (`--softmask`, the default),
    # count as repeats for the gene filter (max_repeat_share). Besides, each masked base can cost
    # a coding state this much (log units), as AUGUSTUS's --softmasking makes exons in repeats
    # unlikely; left at 0: on the two soft-masked validation genomes (dev harness, 2026-12-04) 0.1
    # gave fly chr4 gene F1 0.109 -> 0.114 but exon F1 0.468 -> 0.416, Zymoseptoria 0.348 ->
    # 0.349; 0.5 lost on both (fly 0.033). As repeats (session 26, three fine-tune samples): fly
    # chr4 0.282 -> 0.296, Zymoseptoria 0.394 -> 0.393; D. melanogaster dm3 chr2R (a train
    # genome, 43% soft-masked; a check) 0.464 -> 0.467.
    softmask_penalty: float = 0.0
    splice_weight: float = 1.0  # scale of the splice-site log-odds
    # the trained splice-site classifier (models/sites.py, bundled "gene-sites"): its
    # log-likelihood ratio, times this, is added at every splice edge; 0: not used
    site_model_weight: float = 1.0
    site_start_weight: float = 1.0  # the classifier's start evidence, relative to its splice evidence
    site_stop_weight: float = 1.0  # its stop evidence at gene ends (a model with a stop readout)
    # Added to the start gate of an ATG with another in-frame ATG at most scan_reach bases
    # upstream and no stop between (a scanning ribosome would have started there: scanning.py).
    # Validation mean gene F1, three site fine-tune samples (dev harness, 2026-12-05): off 0.4109;
    # -1 / 60 bases 0.4111, -2 / 60 0.4117, -2 / 30 0.4120, -3 / 30 0.4140, -3 / 45 0.4154
    # (Arabidopsis 0.582 -> 0.592, Zymoseptoria 0.397 -> 0.405, fly chr4 0.339 -> 0.347, worm
    # 0.395 -> 0.398, dm6 1% 0.341 -> 0.335); yeast (train) 0.785 -> 0.810. Read with the site
    # classifier's start evidence (none without it: site_model_weight 0).
    scan_penalty: float = -3.0
    scan_reach: int = 45
    # Per-genome adaptation of the classifier: after this self-training round, a copy is
    # fine-tuned on the genome's own genes (site_examples.adapted_site_model) and the sites
    # rescored; 0: the bundled classifier throughout. Chosen on the validation genomes (dev
    # harness, 2026-12-04, mean gene / exon F1 of worm, fly chr4, Arabidopsis, Zymoseptoria):
    # none 0.315 / 0.630; round 1, lr 5e-4, 2 epochs 0.314 / 0.638; round 1, 2e-3, 3 epochs
    # 0.327 / 0.640; round 1, 4e-3, 4 epochs 0.316 / 0.641; round 2, 2e-3, 3 epochs 0.318 / 0.641.
    # Since 2026-12-04 (session 25) only the readouts learn, over the trunk's features of each
    # window computed once (site_examples.fit_sites, train_trunk False): 3.0 -> ~0.5 s on
    # Arabidopsis. Mean validation gene F1 over three fine-tune samples: whole model, 3 epochs,
    # 2e-3 0.3966; readouts only, 3 epochs 0.3957, 6 epochs at 4e-3 0.4011, 10 at 4e-3 0.3994,
    # 6 at 8e-3 0.3951; no adaptation 0.3934 (one sample).
    site_adapt_round: int = 1
    site_adapt_epochs: int = 6
    site_adapt_lr: float = 4e-3
    site_adapt_trunk: bool = False  # True: the whole classifier learns (the trunk too)
    # Seed ORFs compressing below this share of their length (zlib) are repeats, not genes
    # (decoder.seed_orfs). Validation (dev harness, 2026-12-04, session 25): D. melanogaster dm6 1%
    # without 2R (arm ends: 389 of 520 seed ORFs are tandem repeats) gene F1 0.082 (exon 0.011)
    # -> 0.219 (0.519) over three fine-tune samples (0.25: 0.196, 0.30: 0.181 on one); the four
    # other validation genomes 0.4006 -> 0.3968 (worm and fly chr4 -0.008; 0.25: 0.3959).
    seed_min_complexity: float = 0.15
    # Genes with more than this share of their coding bases in repeats found in the genome itself
    # (repeats.py: 16-mers in repeat_min_copies or more copies, either strand) are dropped in
    # every pass, so transposon ORFs neither reach the output nor teach the next round; 1: off.
    # Validation gene F1 (dev harness, 2026-12-04, session 26; dm6 1% one fine-tune sample, the
    # four others the mean of three): off: dm6 1% 0.217, worm / fly chr4 / Arabidopsis /
    # Zymoseptoria 0.356 / 0.242 / 0.589 / 0.400 (mean 0.3968); 0.2: dm6 1% 0.320, 0.364 / 0.282 /
    # 0.572 / 0.394 (0.4030); 0.1: 0.326, 0.4038; 0.3: 0.307, 0.4020; 0.05: dm6 1% 0.323. At 0.1
    # two Arabidopsis paralogs (14-16% of their 16-mers shared) are lost; 0.2 keeps gene families.
    # Copies: 2 0.317, 4 0.277 on dm6 1%. Dropping them from the output only (training on them):
    # dm6 1% 0.280, the four 0.4066 (Arabidopsis 0.600); the human check region (chrX 47-49 Mb, a
    # train genome) 0.009 against 0.026 dropped in every pass (0.013 off). Seed ORFs in repeats
    # left out of the seed chain too: dm6 1% 0.274 (219 seeds -> 83).
    max_repeat_share: float = 0.2
    repeat_min_copies: int = 3
    splice_prior_weight: float = 50.0  # pseudo-introns of the training matrices mixed into the counts
    # A start-codon context matrix (12 bases before the codon, 3 after) learned from each
    # round's genes, beside the site classifier's start evidence. Validation gene F1 without it
    # (bench 2026-12-04, with the score floor): mean 0.361 against 0.380 (worm -0.025, fly -0.019,
    # Arabidopsis -0.009, Zymoseptoria -0.023). Before the floor it was flat on the mean (0.365
    # without, 0.362 with); redesigns measured then (dev harness): 100 background pseudo-starts
    # instead of 20 0.360, dropped with the classifier's start evidence doubled 0.349.
    learn_start_context: bool = True
    start_prior_weight: float = 20.0  # pseudo-starts of background composition mixed into its counts
    min_len: int = 90
    # Genes whose evidence (the sum over their bases of the path's log-ratio to intergenic) is at
    # most this are dropped, in every self-training pass, so weak false genes neither reach the
    # output nor teach the next round. Validation mean gene F1 (dev harness, 2026-12-04, with the
    # long intron rule): 0 0.362, 5 0.369, 10 0.380, 15 0.369, 20 0.364; at 10 over two more site
    # fine-tune samples 0.368 / 0.368 (0: 0.358 / 0.360). Compact genomes move to
    # compact_min_score (yeast, a train genome, lost sensitivity at 10: 0.780 -> 0.705).
    min_score: float = 10.0
    # Genes of the last pass are reported only above this (the passes before keep min_score's
    # floor: raising that one starves self-training, see docs/benchmarks.md, 2026-12-05).
    # Validation mean gene F1, three site fine-tune samples (dev harness, 2026-12-05): 10 (as
    # min_score) 0.4052, 15 0.4107; with min_score itself at 15 0.4061. Compact genomes move to
    # compact_min_score, as min_score does.
    report_min_score: float = 15.0
    max_region: int = 50_000
    # Genomes over 2 x train_bases self-train on pieces of it: the seed pass and the rounds
    # before the last decode train_piece-base pieces spread evenly over the genome, about
    # train_bases in all, and only the last round decodes (and the adapted site classifier
    # scores) every base; 0: every round decodes the whole genome. Unless the seed pass finds
    # train_min_genes complete genes in the pieces: then the whole genome trains (gene-poor
    # genomes). Dev harness, 2026-12-04: Zymoseptoria chr_10+11 (3.3 Mb; 447 genes in 1.6 Mb of
    # pieces) gene / exon F1 0.376 / 0.514 whole, 0.377 / 0.518 on 1.5 Mb, 0.362 / 0.503 on
    # 1 Mb, 0.359 / 0.496 on 0.4 Mb; on 0.4 Mb of the 1 Mb genomes worm 0.333 -> 0.285, Arabidopsis
    # 0.492 -> 0.425 (about 100 genes each: under train_min_genes, so they train whole). With
    # the UTR states' dearer gene prior the Zymoseptoria seed pass finds 357 genes in its pieces
    # (was 447); on the pieces 0.379 / 0.516, whole 0.380 / 0.515 at 1.4x the CPU: floor 300.
    # More bases (2026-12-06, session 44, AMD EPYC 2 cores, gene / exon F1, wall clock): on the
    # whole Zymoseptoria genome (39.7 Mb, validation) 1.5 Mb 0.373 / 0.507 87 s, 3 Mb 0.378 /
    # 0.514 82 s, 6 Mb 0.382 / 0.517 90 s, 10 Mb 0.383 / 0.519 101 s, whole 0.384 / 0.521 234 s;
    # but at 6 Mb its chr 10+11 (3.3 Mb, the bench case) train whole and lose, 0.398 -> 0.390,
    # and every genome of 3-12 Mb takes up to 2.8x the decoding: kept at 1.5 Mb.
    train_bases: int = 1_500_000
    # Larger genomes train on this share of themselves when that is more than train_bases (over
    # 15 Mb at 0.1), and never on more than train_max_bases (pieces that grow for
    # train_min_genes stop there too; 0: no cap). Whole Zymoseptoria genome (39.7 Mb,
    # validation; 2026-12-06, session 45, AMD EPYC 2 cores; gene / exon F1, wall clock): share 0
    # (1.5 Mb) 0.373 / 0.507 79 s, 0.1 (4.0 Mb) 0.383 / 0.517 88 s, 0.15 0.382 / 0.517 103 s,
    # 0.25 (9.9 Mb) 0.383 / 0.519 110 s; the 10 Mb cap: its whole genome 0.384 (session 44,
    # above) adds 0.001 at 2.3x the time of 10 Mb. Every validation input under 15 Mb is as before.
    train_share: float = 0.1
    train_max_bases: int = 10_000_000
    train_piece: int = 200_000
    train_min_genes: int = 300
    # Pieces that hold too few genes grow to (bases of the pieces) x train_grow_margin x
    # train_min_genes / (complete genes the seed pass found in them), and the seed pass decodes
    # the new ones; the whole genome trains only where that is over half of it. A fly or
    # Arabidopsis chromosome (140-230 genes a Mb) used to fall back to the whole chromosome in
    # every pass. The margin covers the seed pass finding fewer genes than the rounds do.
    train_grow_margin: float = 1.25
    # processes decoding a round's Viterbi batches (viterbi_decoder.decode_jobs); 0: the CPUs
    # that other jobs leave idle when find_genes starts, at most viterbi_decoder.MAX_WORKERS
    # (viterbi_decoder.worker_count). The genes do not depend on it.
    workers: int = 0
    use_self_training: bool = True  # False: the seed pass alone (ablation)
    learn_introns: bool = True  # intron/intergenic chains and site matrices re-estimated (ablation)
    learn_intron_chain: bool = True
    # An intergenic chain learned from what lies between the genes found feeds back: missed genes
    # and joins make it cheaper to miss and join more. Validation gene F1 (worm, fly chr4,
    # Arabidopsis, Zymoseptoria) 0.152 with it, 0.227 without (Zymoseptoria 0.013 -> 0.305).
    learn_intergenic_chain: bool = False
    # Untranslated flanks as states of their own (viterbi_hmm, utr_mean): chains of the 5' and
    # 3' flanks (utr_flank bases beyond each gene found, oriented with it) give them their
    # statistics; 0: none (flanks are intergenic). Without them an AT-rich 3' UTR reads better
    # as an intron plus a tiny terminal exon than as intergenic sequence (Arabidopsis: 16 genes
    # with the true stop spliced out). Validation mean gene F1 (exon F1), gene_logp -16, dev
    # harness 2026-12-04: utr_mean 100 0.333 (0.653), 200 0.345 (0.659), 400 0.350 (0.658),
    # 800 0.348 (0.657); utr_flank 400 (mean 200) 0.334 (0.650); none 0.327 (0.640) at
    # gene_logp -10. Another seed of the site fine-tune: 400 0.355, none 0.316.
    utr_mean: float = 400.0
    utr_flank: int = 200
    # Species priors (priors.py): the chains of the training species whose coding chain best
    # explains the genome's long ORFs, mixed into every fit as prior_weight pseudo-observations
    # per context (coding; prior_content_scale x that for the intron and UTR chains); 0: the
    # genome's own counts only, and no refit from fewer than 20 genes. Chosen on the validation
    # genomes (dev harness, 2026-12-04; gene F1 of 0.14-0.27 Mb pieces, each decoded alone, pooled
    # per genome, mean of worm / Arabidopsis / fly chr4 / Zymoseptoria): none 0.302, weight 20
    # 0.343, 50 0.348, 100 0.342; 50 with the coding prior only (scale 0) 0.340; the seed pass
    # also reading the prior's intron and UTR chains: worm 0.221 against 0.307; one table
    # averaged over the species instead of choosing one 0.319 (weight 20). Whole genomes, three
    # site fine-tune samples: 0.390 -> 0.398 (worm 0.332 -> 0.364).
    prior_weight: float = 50.0
    prior_content_scale: float = 1.0
    # Only species on the genome's side of compact_from (single-ORF fraction) compete: yeast's
    # chains (327 introns) won on worm and fly chr4 pieces by codon likelihood. Pieces mean 0.343
    # -> 0.359 (worm 0.290 -> 0.311, fly 0.244 -> 0.276, Zymoseptoria 0.278 -> 0.289);
    # whole genomes (three samples) 0.398 -> 0.394 (fly chr4 0.255 -> 0.237).
    prior_by_density: bool = True
    prior_name: str = ""  # this species' prior instead of the best-fitting one (e.g. "arabidopsis")
    # Inputs up to prior_decode_max_bases (where the prior outweighs the genome's own counts):
    # the species whose coding chain gives the long ORFs a likelihood per base within
    # prior_decode_margin nats of the best each decode the seed pass, and the one whose genes
    # explain the sequence best (the highest summed gene score: the path's log-ratio to an
    # all-intergenic path, the same background for all) is kept; 0: the coding likelihood alone.
    # Validation pieces of 0.14-0.25 Mb (dev harness, 2026-12-04, session 25; 26 pieces of the
    # four genomes, each prior forced, pooled gene F1, mean of the four): coding likelihood
    # alone 0.356, margin 0.02 0.356, 0.03 / 0.04 / 0.06 0.3635 (one worm piece: fly -> arabidopsis,
    # 0.204 -> 0.393), the best prior per piece (oracle) 0.378; whole genomes choose the same
    # species either way (and would decode two more seed passes: worm, fly and Zymoseptoria have
    # two rivals within 0.04).
    prior_decode_margin: float = 0.04
    prior_decode_max_bases: int = 500_000
    # Compact, intron-poor genomes (density.py): with the intron-rich settings the HMM joins
    # neighbouring yeast genes through false introns (gene F1 0.163 on yeast chr I/III/VI). The
    # share of the genome inside exactly one 300+ codon ORF decides: at or below compact_from the
    # settings above hold, from compact_full on the compact ones, linearly between. Validation
    # genomes sit at 0.03-0.35 (worm, Arabidopsis, fly, Zymoseptoria, all best at the settings
    # above); the compact values come from yeast, a *train* genome (0.59; no compact eukaryote is
    # among the validation genomes): gene F1 0.163 -> 0.761 there (0.200 -> 0.751 with the start context).
    adapt_to_density: bool = True
    compact_from: float = 0.40
    compact_full: float = 0.55
    compact_intron_logp: float = -20.0
    compact_gene_logp: float = -6.0
    compact_min_score: float = 0.0
    # Compact genomes' 5' UTRs are short and their annotated starts the first ATG of the open
    # reading frame (yeast reference: 2.3% with an in-frame ATG upstream before a stop, at any
    # distance): the scan penalty reaches further. Yeast (train): 45 bases 0.810, 100 0.824,
    # 200 0.828, 400 0.832, unlimited 0.833 (AUGUSTUS 0.825).
    compact_scan_reach: int = 400


@dataclass
class GenomeModels:
    coding: CodingModel
    intron: ContentModel | None = None
    intergenic: ContentModel | None = None
    splice: dict = field(default_factory=lambda: json.loads(SPLICE_PWM_FILE.read_text()))
    intron_mean: float = 100.0
    intron_long: tuple[float, float] | None = None  # (weight, mean) of the long class; None: the settings' start values
    utr5: ContentModel | None = None  # chains of genes' untranslated flanks, oriented with the gene
    utr3: ContentModel | None = None
    single_orf_fraction: float | None = None  # density.py; None: not measured
    compactness: float = 0.0  # 0 intron-rich settings .. 1 compact settings
    lower_case_share: float | None = None  # where the genome was all but written in lower case: read as unmasked (repeats.py)
    prior: SpeciesPrior | None = None  # priors.py: the training species' tables mixed into the chains
