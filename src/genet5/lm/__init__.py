"""Using a trained Genos model: scoring, embeddings, variant effects, sampling.

    import genet5
    from genet5 import lm

    model = genet5.load_model("runs/genos/model")        # any saved model; lm.load_genos checks
    lm.score_sequence(model, "ACGTTGCA...")              # log-likelihood (natural log)
    lm.embed_sequence(model, "ACGTTGCA...", pool="mean") # float32 (dim,)
    for e in lm.variant_effects(model, Genome("ref.fa"), lm.read_vcf("v.vcf.gz")):
        print(e.variant.chrom, e.variant.pos, e.delta_ll)
    lm.sample_sequences(model, "ATG", 100, num_samples=4, top_p=0.9, seed=1)

Long sequences are processed in bounded memory: see genet5.lm.engine for the windows and the
chunked prefill. The `genet5 lm score / embed / generate` commands are built on these.
"""

from genet5.lm.embedding import POOLS, embed_records, embed_sequence
from genet5.lm.engine import Span, WindowRunner, encode, plan_spans
from genet5.lm.model import ModelLoadError, load_genos, model_context, resolve_device
from genet5.lm.sampling import DNA_IDS, sample_sequences
from genet5.lm.scoring import (
    WindowScore,
    log_likelihoods,
    report_windows,
    score_records,
    score_sequence,
    total_log_likelihoods,
)
from genet5.lm.vcf import Variant, VariantEffect, read_vcf, variant_effects, variant_windows

__all__ = [
    "DNA_IDS", "POOLS", "ModelLoadError", "Span", "Variant", "VariantEffect", "WindowRunner",
    "WindowScore", "embed_records", "embed_sequence", "encode", "load_genos", "log_likelihoods",
    "model_context", "plan_spans", "read_vcf", "report_windows", "resolve_device",
    "sample_sequences", "score_records", "score_sequence", "total_log_likelihoods",
    "variant_effects", "variant_windows",
]  # fmt: skip
