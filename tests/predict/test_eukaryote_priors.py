"""Species priors of the eukaryote decoder (predict/eukaryote/priors.py): Dirichlet mixing into
the chains, choosing a species by its coding chain, the bundled file."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from genet5.genome.codes import genetic_code

from genet5.genome.codes import reverse_complement
from genet5.predict.eukaryote.content import ContentModel, background_counts, fit_coding, periodic_counts
from genet5.predict.eukaryote.priors import (
    BUNDLED, SpeciesPrior, build_prior, candidate_priors, choose_prior, coding_loglik, load_priors, save_priors,
)


def _genes(codons: list[bytes], n: int, length: int, seed: int) -> list[bytes]:
    """n in-frame ORF-like sequences drawn from a codon usage (a list to sample from)."""
    rng = np.random.default_rng(seed)
    return [b"ATG" + b"".join(codons[i] for i in rng.integers(0, len(codons), length)) + b"TAA" for _ in range(n)]


CODE1 = genetic_code(1)
GC_RICH = [b"GCC", b"GGC", b"CGC", b"GCG", b"CTG", b"ACC", b"GAC", b"CAG"]
AT_RICH = [b"AAA", b"TTA", b"ATT", b"AAT", b"GAA", b"TTT", b"ATA", b"AGA"]


def _prior(name: str, codons: list[bytes], seed: int) -> SpeciesPrior:
    cds = _genes(codons, 40, 200, seed)
    return build_prior(name, cds, introns=cds, utr5=cds, utr3=cds)


def _probabilities(ratio: np.ndarray, background: list[bytes], k: int) -> np.ndarray:
    """P(base | context) of a chain from its log-ratio table and the background it was fitted against."""
    bg = background_counts(background, k) + 0.5
    return np.exp(ratio + np.log(bg / bg.sum(axis=1, keepdims=True)))


def test_the_prior_fills_what_the_genome_has_not_seen_and_yields_where_it_has():
    prior = _prior("gc", GC_RICH, 0)
    genome = _genes(AT_RICH, 30, 300, 1)
    both = genome + [reverse_complement(s) for s in genome]
    mixed = _probabilities(fit_coding(genome, both, prior.order, prior.coding, 50.0).ratio, both, prior.order)
    counts = periodic_counts(genome, prior.order)
    seen = counts.sum(axis=2) >= 500  # (codon position, context) the genome's genes teach well
    unseen = counts.sum(axis=2) == 0
    assert seen.any() and unseen.any()
    empirical = (counts + 0.5) / (counts + 0.5).sum(axis=2, keepdims=True)
    assert np.abs(mixed[seen] - empirical[seen]).max() < 0.05  # the genome's own usage wins where it has data
    expected = (prior.coding * 50.0 + 0.5) / (prior.coding * 50.0 + 0.5).sum(axis=2, keepdims=True)
    assert np.allclose(mixed[unseen], expected[unseen], atol=1e-4)  # the prior's where it has none
    assert np.abs(mixed[unseen] - 0.25).max() > 0.3  # and that is not a flat guess


def test_content_chain_mixes_the_prior_the_same_way():
    seqs = [b"ACGT" * 200]
    background = seqs + [b"AT" * 400]
    bg = background_counts(background, 3)
    flat = np.full((64, 4), 0.25, dtype=np.float32)
    own = _probabilities(ContentModel.fit(seqs, bg, 3).ratio, background, 3)
    mixed = _probabilities(ContentModel.fit(seqs, bg, 3, prior=flat, prior_weight=1000.0).ratio, background, 3)
    # each context of the data is always followed by one base; a strong flat prior pulls it back toward 1/4
    assert own.max() > 0.95 and mixed.max() < 0.5


def test_the_species_whose_codon_usage_made_the_orfs_is_chosen():
    priors = [_prior("gc", GC_RICH, 0), _prior("at", AT_RICH, 1)]
    orfs = _genes(AT_RICH, 10, 150, 7)
    assert coding_loglik(priors[1], orfs) > coding_loglik(priors[0], orfs)
    assert choose_prior(priors, orfs).name == "at"
    assert choose_prior(priors, orfs, "gc").name == "gc"  # a named prior wins over the fit
    assert choose_prior(priors, []) is None
    with pytest.raises(ValueError, match="no species prior 'mouse'"):
        choose_prior(priors, orfs, "mouse")


def test_an_intron_rich_genome_gets_no_compact_species_prior():
    compact, rich = _prior("at_compact", AT_RICH, 1), _prior("gc_rich", GC_RICH, 0)
    compact.single_orf_fraction, rich.single_orf_fraction = 0.65, 0.11
    orfs = _genes(AT_RICH, 10, 150, 7)  # codon usage of the compact species
    assert choose_prior([compact, rich], orfs).name == "at_compact"
    assert choose_prior([compact, rich], orfs, density=0.05, compact_from=0.4).name == "gc_rich"
    assert choose_prior([compact, rich], orfs, density=0.6, compact_from=0.4).name == "at_compact"
    assert choose_prior([rich], orfs, density=0.6, compact_from=0.4).name == "gc_rich"  # none on its side: all compete


def test_candidate_priors_are_those_within_the_margin_best_first():
    priors = [_prior("gc", GC_RICH, 0), _prior("at", AT_RICH, 1), _prior("mixed", GC_RICH + AT_RICH, 2)]
    orfs = _genes(AT_RICH, 10, 150, 7)
    ll = {p.name: coding_loglik(p, orfs) for p in priors}
    assert ll["at"] > ll["mixed"] > ll["gc"]
    assert [p.name for p in candidate_priors(priors, orfs)] == ["at"]
    margin = (ll["at"] - ll["mixed"] + ll["at"] - ll["gc"]) / 2  # takes "mixed", not "gc"
    assert [p.name for p in candidate_priors(priors, orfs, margin=margin)] == ["at", "mixed"]
    assert [p.name for p in candidate_priors(priors, orfs, margin=1e9)] == ["at", "mixed", "gc"]


def test_a_small_genome_keeps_the_prior_whose_seed_pass_explains_it_best(monkeypatch):
    """Every candidate decodes the seed pass; the summed gene score decides, whatever the order
    of the candidates (here the worse one comes first)."""
    import sys
    from pathlib import Path

    import genet5.predict.eukaryote.decoder as dec
    import genet5.predict.eukaryote.priors as pri

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_eukaryote import PREFERRED, synthetic_genome

    seq, _ = synthetic_genome(seed=3, genes=25)
    match, other = _prior("match", PREFERRED, 0), _prior("other", AT_RICH, 1)
    monkeypatch.setattr(pri, "load_priors", lambda *a: [other, match])
    # both within any margin, the worse one first; margin 0 (inputs above the size): the best alone
    monkeypatch.setattr(pri, "candidate_priors",
                        lambda priors, orfs, density=None, compact_from=1.0, margin=0.0: [other, match] if margin else [match])
    scores = []
    real = dec._best_seed_pass

    def spy(candidates, *args):
        models, genes = real(candidates, *args)
        scores.append(models.prior.name)
        return models, genes

    monkeypatch.setattr(dec, "_best_seed_pass", spy)
    settings = dec.EukaryoteSettings(rounds=1, seed_min_codons=200, site_model_weight=0.0)
    _, models = dec.find_genes([("syn", seq)], CODE1, settings)
    assert scores == ["match"] and models.prior.name == "match"
    scores.clear()
    dec.find_genes([("syn", seq)], CODE1, replace(settings, prior_decode_max_bases=len(seq) - 1))
    assert scores == []  # above the size: the coding likelihood alone


def test_priors_round_trip_through_safetensors(tmp_path):
    priors = [_prior("gc", GC_RICH, 0), _prior("at", AT_RICH, 1)]
    priors[0].settings = {"intron_logp": -12.0}
    save_priors(priors, tmp_path)
    back = load_priors(tmp_path)
    assert [p.name for p in back] == ["gc", "at"]
    for a, b in zip(priors, back):
        for part in ("coding", "intron", "utr5", "utr3"):
            assert np.array_equal(getattr(a, part), getattr(b, part))
        assert (a.genes, a.coding_bases, a.order, a.single_orf_fraction) == (b.genes, b.coding_bases, b.order, b.single_orf_fraction)
        assert a.settings == b.settings


def test_bundled_priors_are_the_training_species_and_are_distributions():
    priors = load_priors(BUNDLED)
    assert {p.name for p in priors} == {"yeast", "fly", "arabidopsis", "human"}  # train genomes only (splits.tsv)
    for p in priors:
        assert p.order == 4 and p.coding.shape == (3, 256, 4) and p.intron.shape == (64, 4)
        for part in ("coding", "intron", "utr5", "utr3"):
            assert np.allclose(getattr(p, part).sum(axis=-1), 1.0, atol=1e-4)
        assert p.genes > 300
    density = {p.name: p.single_orf_fraction for p in priors}
    assert density["yeast"] > 0.5 and max(density["fly"], density["arabidopsis"], density["human"]) < 0.2


def test_the_chosen_species_settings_apply_from_the_first_round(monkeypatch):
    """A prior's decoder settings (the bundled human one: dearer introns) replace the genome's
    from round 1 on; the seed pass decodes with the settings as given."""
    import sys
    from pathlib import Path

    import genet5.predict.eukaryote.decoder as dec

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_eukaryote import synthetic_genome

    assert {p.name: p.settings for p in load_priors(BUNDLED)}["human"] == {"intron_logp": -12.0, "report_min_score": 30.0}
    seq, _ = synthetic_genome(seed=3, genes=25)
    seen = []
    real = dec.decode
    monkeypatch.setattr(dec, "decode", lambda records, code, models, settings, *a, **k: seen.append(settings.intron_logp) or real(records, code, models, settings, *a, **k))
    settings = dec.EukaryoteSettings(rounds=2, seed_min_codons=200, site_model_weight=0.0, prior_name="human")
    _, models = dec.find_genes([("syn", seq)], CODE1, settings)
    assert models.prior.name == "human" and seen == [settings.intron_logp, -12.0, -12.0]
    seen.clear()
    dec.find_genes([("syn", seq)], CODE1, replace(settings, prior_name="arabidopsis"))
    assert seen == [settings.intron_logp] * 3  # no settings of its own
