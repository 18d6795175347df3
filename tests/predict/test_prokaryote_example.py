"""The prokaryotic decoder on a bundled validation chromosome (Vibrio cholerae chr2, 1.14 Mb),
scored with the project's evaluator: the default decoder against itself with one part removed.
Each bound sits between the default and the ablated decoder, so a test fails if that part
stops doing its work.

The whole chromosome (measured 2026-12-04 after the coding-order and classifier-floor changes,
1 thread), exact start+stop F1 / stop F1: default 0.887 / 0.958 (0.885 / 0.958 without the
start classifier); no self-training 0.691 / 0.914; no self-trained start model 0.777 / 0.940
(Prodigal 2.6.3 on the whole genome: start+stop 0.902, stop 0.976). The learned start
classifier weighs little on a genome this large (its weight falls with size to a floor of
0.1: the genome teaches itself its starts); its work shows on short pieces, the second test. The per-base network is no longer part of the
default: on the validation genomes it added nothing (mean start+stop 0.9236 with it, 0.9246
without), so it has no bound here (docs/benchmarks.md)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import genet5
from genet5.genome.codes import genetic_code
from genet5.genome.fasta import RecordSequence, read_fasta
from genet5.genome.models import Annotation
from genet5.genome.readers import load_annotation
from genet5.genome.validate import include_stop_codons
from genet5.evaluate.metrics import evaluate
from genet5.predict.genes import predicted_gene
from genet5.predict.decoders import start_codon_set
from genet5.predict.pipeline import PredictConfig
from genet5.predict.prokaryote.decoder import find_genes, prepare_record, settings_for

EXAMPLE = Path(genet5.__file__).parent / "examples" / "vibrio_cholerae_chr2"


@pytest.mark.slow
def test_self_training_and_start_model_each_carry_weight():
    rec = next(iter(read_fasta(EXAMPLE / "genome.fa.gz")))
    ref = load_annotation(EXAMPLE / "annotation.gff3.gz")
    include_stop_codons(ref, RecordSequence(rec), 11, 11)
    cfg = PredictConfig(genetic_code=11, domain="prokaryote")
    base = settings_for(cfg)
    assert not base.use_net  # the default: no per-base network

    def score(**change) -> tuple[float, float]:
        s = replace(base, **change)
        prepared = prepare_record(rec.id, rec.seq, genetic_code(11), start_codon_set(cfg), s)
        pred = Annotation(source="test")
        for i, g in enumerate(find_genes([prepared], s)[0], 1):
            pred.add_gene(predicted_gene(g, rec.id, i, "t"))
        r = evaluate(ref, pred).total
        return r["start_stop"].f1, r["stop"].f1

    full, no_self, no_starts = score(), score(use_self_training=False), score(use_start_model=False)
    assert full[0] >= 0.88 and full[1] >= 0.955, full
    assert no_self[0] < 0.75, no_self  # self-training adds ~0.20
    assert no_starts[0] < full[0] - 0.06, no_starts  # the self-trained start model adds ~0.13


@pytest.mark.slow
def test_start_classifier_and_statistics_beat_each_alone_on_short_pieces():
    """Twenty 20 kb pieces of the chromosome, each decoded as a genome of its own (too small
    for its statistics to learn starts well): the default (self-trained statistics + the
    bundled start classifier) against the statistics alone and the classifier alone (in place
    of the self-trained start model). Measured 2026-12-04, exact start+stop F1 over reference
    genes wholly inside a piece (partial predictions not counted): default 0.842, statistics
    alone 0.746, classifier alone 0.829 (before the coding chain's order asked 160 bases per
    parameter: 0.844 / 0.778 / 0.824); with the dicodon score (on by default since 2026-12-04,
    later) 0.837 / 0.769 / 0.827; with its junctions and own start training 0.836 / 0.781 / 0.827."""
    rec = next(iter(read_fasta(EXAMPLE / "genome.fa.gz")))
    ref = load_annotation(EXAMPLE / "annotation.gff3.gz")
    include_stop_codons(ref, RecordSequence(rec), 11, 11)
    genes = [(t.strand, t.cds[0].start, t.cds[0].end) for t in ref.iter_transcripts()
             if t.cds and len(t.cds) == 1 and t.cds_length % 3 == 0]
    cfg = PredictConfig(genetic_code=11, domain="prokaryote")
    base, size = settings_for(cfg), 20_000

    def score(**change) -> float:
        s = replace(base, **change)
        tp = n_ref = n_pred = 0
        for off in range(0, 20 * size, size):
            truth = {(st, a - off, b - off) for st, a, b in genes if a > off and b <= off + size}
            prepared = prepare_record("p", rec.seq[off : off + size], genetic_code(11), start_codon_set(cfg), s)
            found = {(g.strand, g.start, g.end) for g in find_genes([prepared], s)[0] if not (g.start_partial or g.end_partial)}
            tp, n_ref, n_pred = tp + len(found & truth), n_ref + len(truth), n_pred + len(found)
        return 2 * tp / (n_ref + n_pred)

    full, stats, net = score(), score(start_net_model=None), score(use_start_model=False)
    assert base.start_net_model == "prokaryote-starts"
    assert full >= 0.83, full
    assert full - stats >= 0.04, (full, stats)  # the classifier: +0.096 here
    assert full - net >= 0.005, (full, net)  # the self-trained start model: +0.010 here
