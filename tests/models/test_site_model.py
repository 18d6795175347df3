"""The bundled splice-site classifier and the per-position arrays the eukaryote HMM reads."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genet5.genome.codes import reverse_complement
from genet5.models.sites import SiteConfig, SiteNet
from genet5.predict.eukaryote.sites import load_site_model, oriented_site_llr, site_scores
from genet5.predict.prokaryote.orfs import base_codes


def random_dna(n: int, seed: int) -> bytes:
    return bytes(np.random.default_rng(seed).choice(list(b"ACGT"), size=n).astype(np.uint8))


@pytest.mark.parametrize("bf16, tol", [(False, 1e-4), (True, 2e-2)])
def test_whole_sequence_scores_equal_the_window_at_a_time_model(monkeypatch, bf16, tol):
    import genet5.predict.eukaryote.sites as sites

    monkeypatch.setattr(sites, "READ_BF16", bf16)  # the readout's first layer in bfloat16 or float32
    torch.manual_seed(0)
    model = SiteNet(SiteConfig(prior_logit_donor=-1.5, prior_logit_acceptor=-2.0, prior_logit_start=-3.0)).eval()
    seq = random_dna(1500, 1)
    codes = base_codes(seq)
    llr = oriented_site_llr(model, codes)
    reach = model.config.half + model.config.margin
    padded = np.concatenate([np.full(reach, 4, np.int8), codes, np.full(reach, 4, np.int8)])
    donors = [i for i in range(len(seq) - 1) if seq[i : i + 2] in (b"GT", b"GC")]
    acceptors = [i for i in range(2, len(seq)) if seq[i - 2 : i] == b"AG"]
    starts = [i for i in range(len(seq) - 2) if seq[i : i + 3] == b"ATG"]
    assert donors and acceptors and starts
    for site_type, sites, prior in (("donor", donors, -1.5), ("acceptor", acceptors, -2.0), ("start", starts, -3.0)):
        windows = torch.from_numpy(np.stack([padded[i : i + 2 * reach] for i in sites]).astype(np.int64))
        with torch.no_grad():
            expect = model(site_type, windows).numpy() - prior
        np.testing.assert_allclose(llr[site_type][sites], expect, rtol=tol, atol=tol)
        others = np.setdiff1d(np.arange(len(seq)), sites)
        assert not llr[site_type][others].any()  # no dinucleotide, no score


def test_minus_strand_gates_mirror_the_plus_strand_of_the_reverse_complement():
    torch.manual_seed(1)
    model = SiteNet(SiteConfig()).eval()
    seq = random_dna(900, 2)
    n = len(seq)
    fwd, rev = site_scores(model, seq), site_scores(model, reverse_complement(seq))
    j = np.arange(n)
    # a plus donor of the reverse complement, gated at its exon's last base j, is a minus donor
    # of the sequence, gated at the first forward base of the exon right of its intron: n-1-j
    np.testing.assert_allclose(rev["don"][j], fwd["rdon"][n - 1 - j], atol=1e-5)
    np.testing.assert_allclose(rev["acc"][j], fwd["racc"][n - 1 - j], atol=1e-5)
    # a start of the reverse complement at t covers forward bases n-3-t .. n-1-t: gated at the middle
    np.testing.assert_allclose(rev["start"][j[:-1]], fwd["rstart"][n - 2 - j[:-1]], atol=1e-5)
    assert np.count_nonzero(fwd["start"]) > 5 and np.count_nonzero(fwd["rstart"]) > 5
    assert np.count_nonzero(fwd["don"]) > 20 and np.count_nonzero(fwd["rdon"]) > 20


def test_bundled_model_prefers_a_real_donor_and_acceptor_to_decoys():
    model = load_site_model()
    rng = np.random.default_rng(3)
    exon = lambda n: bytes(rng.choice(list(b"ACGT"), size=n).astype(np.uint8))  # noqa: E731
    intron_body = bytes(rng.choice(list(b"AT"), size=150).astype(np.uint8))
    # exon | GTAAGT ... intron ... TTTTTTTTCCTTTCAG | exon: consensus donor and acceptor
    seq = exon(200) + b"CAGGTAAGT" + intron_body + b"TTTTTTTTCCTTTCAG" + exon(200)
    codes = base_codes(seq)
    llr = oriented_site_llr(model, codes)
    donor, acceptor = 203, 203 + 6 + len(intron_body) + 16 - 3 + 3
    assert seq[donor : donor + 2] == b"GT" and seq[acceptor - 2 : acceptor] == b"AG"
    decoy_donors = [i for i in range(len(seq) - 1) if seq[i : i + 2] == b"GT" and i != donor]
    decoy_acceptors = [i for i in range(2, len(seq)) if seq[i - 2 : i] == b"AG" and i != acceptor]
    assert llr["donor"][donor] > 2.0 and llr["donor"][donor] > max(llr["donor"][decoy_donors])
    assert llr["acceptor"][acceptor] > 2.0 and llr["acceptor"][acceptor] > np.percentile(llr["acceptor"][decoy_acceptors], 95)


def test_bundled_model_records_what_it_was_trained_on():
    import json

    from genet5.models.weights import BUNDLED_DIR

    report = json.loads((BUNDLED_DIR / "gene-sites" / "training.json").read_text())
    splits = {"fungi/Saccharomyces_cerevisiae_S288C", "invertebrates/Drosophila_melanogaster_dm3_chr2R",
              "plants/Arabidopsis_thaliana_TAIR10_chr1", "vertebrates/Homo_sapiens_GRCh37_chrX"}
    assert set(report["train_genomes"]) == splits
    assert not set(report["validation_genomes"]) & splits


def test_blocks_of_the_sequence_give_the_same_scores_as_one_block(monkeypatch):
    import genet5.predict.eukaryote.sites as sites

    torch.manual_seed(2)
    model = SiteNet(SiteConfig()).eval()
    codes = base_codes(random_dna(2000, 4))
    whole = oriented_site_llr(model, codes)
    monkeypatch.setattr(sites, "_BLOCK", 257)
    monkeypatch.setattr(sites, "_CHUNK", 7)
    blocked = oriented_site_llr(model, codes)
    for t in whole:
        assert np.count_nonzero(whole[t]) > 10
        np.testing.assert_allclose(blocked[t], whole[t], atol=1e-5)


def test_site_scores_are_the_same_whatever_torch_threads_are_set_and_the_setting_is_kept():
    """The classifier runs on one thread (sites.one_thread): its float sums, and so the scores,
    do not depend on the machine's core count, and the caller's thread setting comes back."""
    from genet5.predict.eukaryote.sites import SparseSites

    model = load_site_model()
    seq = bytes(np.random.default_rng(4).choice(np.frombuffer(b"ACGT", dtype=np.uint8), size=20_000))
    before = torch.get_num_threads()
    try:
        runs = []
        for threads in (2, 1):
            torch.set_num_threads(threads)
            s = SparseSites(model, seq, 1.0, 1.0)
            assert torch.get_num_threads() == threads
            runs.append(s.dense())
    finally:
        torch.set_num_threads(before)
    for key in runs[0]:
        np.testing.assert_array_equal(runs[0][key], runs[1][key])


def test_trunk_reads_a_contiguous_one_hot_and_trains_as_before():
    # a strided (transposed) one-hot sends the first convolution's weight gradient down oneDNN's
    # slow path; made contiguous it is faster with the same gradients
    torch.manual_seed(2)
    model = SiteNet(SiteConfig())
    seen = []
    model.trunk[0].register_forward_pre_hook(lambda _, args: seen.append(args[0].is_contiguous()))
    codes = torch.from_numpy(np.random.default_rng(4).integers(0, 5, (8, 184)))
    model("donor", codes).sum().backward()
    assert seen == [True]
    strided = torch.nn.functional.one_hot(codes, 5).to(torch.float32).transpose(1, 2)
    grad = torch.autograd.grad(model.read("donor", model.trunk(strided)).sum(), model.trunk[0].weight)[0]
    torch.testing.assert_close(model.trunk[0].weight.grad, grad)


def test_bfloat16_readout_moves_the_bundled_scores_by_hundredths():
    """READ_BF16 (where the CPU has bfloat16 arithmetic): the bundled classifier's log-ratios,
    which span tens of units, stay within a few hundredths of float32's."""
    import genet5.predict.eukaryote.sites as sites

    model = load_site_model()
    codes = base_codes(random_dna(20_000, 5))
    runs = {}
    for bf16 in (False, True):
        sites.READ_BF16, before = bf16, sites.READ_BF16
        try:
            runs[bf16] = oriented_site_llr(model, codes)
        finally:
            sites.READ_BF16 = before
    for t in runs[False]:
        scored = runs[False][t] != 0
        assert np.array_equal(scored, runs[True][t] != 0) and scored.sum() > 100
        diff = np.abs(runs[True][t] - runs[False][t])[scored]
        assert diff.max() < 0.1 and diff.mean() < 0.02
        assert np.ptp(runs[False][t][scored]) > 10


def test_a_deeper_trunk_eats_the_margin_its_config_says():
    """`layers` (train_site_model.py --layers): dilations 1, 2, 4, ...; a window of
    window + 2 * margin bases gives exactly `window` feature columns, and whole-sequence scoring
    still equals the window-at-a-time model."""
    torch.manual_seed(1)
    model = SiteNet(SiteConfig(layers=3)).eval()
    cfg = model.config
    assert cfg.margin == (cfg.kernel - 1) // 2 * 7
    with torch.no_grad():
        feats = model.features(torch.full((2, cfg.window + 2 * cfg.margin), 1, dtype=torch.int64))
    assert feats.shape == (2, cfg.channels, cfg.window)
    seq = random_dna(900, 2)
    codes = base_codes(seq)
    llr = oriented_site_llr(model, codes)
    reach = cfg.half + cfg.margin
    padded = np.concatenate([np.full(reach, 4, np.int8), codes, np.full(reach, 4, np.int8)])
    donors = [i for i in range(len(seq) - 1) if seq[i : i + 2] in (b"GT", b"GC")]
    with torch.no_grad():
        expect = model("donor", torch.from_numpy(np.stack([padded[i : i + 2 * reach] for i in donors]).astype(np.int64))).numpy()
    np.testing.assert_allclose(llr["donor"][donors], expect, rtol=2e-2, atol=2e-2)


def test_stop_readout_scores_every_stop_codon_and_its_gates_mirror_on_the_minus_strand():
    torch.manual_seed(2)
    model = SiteNet(SiteConfig(stop_readout=True, prior_logit_stop=-2.0)).eval()
    seq = random_dna(1200, 3)
    n = len(seq)
    codes = base_codes(seq)
    llr = oriented_site_llr(model, codes)
    reach = model.config.half + model.config.margin
    padded = np.concatenate([np.full(reach, 4, np.int8), codes, np.full(reach, 4, np.int8)])
    stops = [i for i in range(n - 2) if seq[i : i + 3] in (b"TAA", b"TAG", b"TGA")]
    windows = torch.from_numpy(np.stack([padded[i : i + 2 * reach] for i in stops]).astype(np.int64))
    with torch.no_grad():
        expect = model("stop", windows).numpy() + 2.0
    np.testing.assert_allclose(llr["stop"][stops], expect, rtol=1e-2, atol=1e-2)
    assert not llr["stop"][np.setdiff1d(np.arange(n), stops)].any()
    fwd, rev = site_scores(model, seq), site_scores(model, reverse_complement(seq))
    # plus gate just past the codon (t = i + 3); a stop of the reverse complement at i covers
    # forward bases n-3-i .. n-1-i and is gated at the first of them
    assert np.array_equal(np.flatnonzero(fwd["stop"]), np.array(stops) + 3)
    j = np.arange(3, n)
    np.testing.assert_allclose(rev["stop"][j], fwd["rstop"][n - j], atol=1e-5)
    assert np.count_nonzero(fwd["rstop"]) > 20
    # a model without the readout gives no stop arrays: checkpoints before it decode as they did
    assert "stop" not in site_scores(SiteNet(SiteConfig()).eval(), seq)


def test_the_bundled_model_has_a_stop_readout_and_its_other_readouts_load_alone():
    """--add-stop kept the trunk and the three first readouts: the bundled tensors minus the
    stop readout load into a model without it, strictly."""
    bundled = load_site_model()
    assert bundled.config.stop_readout and bundled.config.prior_logit_stop < 0
    plain = SiteNet(SiteConfig(**{k: v for k, v in vars(bundled.config).items() if k not in ("stop_readout", "prior_logit_stop")}))
    plain.load_state_dict({k: v for k, v in bundled.state_dict().items() if not k.startswith("readout.stop.")})


def test_short_sequences_scored_together_get_their_own_scores():
    """sparse_sites_of joins short sequences with runs of N and cuts the scores apart: each gets
    the candidates and scores it gets scored alone (up to float sums in other kernel sizes), the
    start scan included, and a long sequence is scored alone."""
    from genet5.predict.eukaryote.sites import SparseSites, sparse_sites_of

    model = load_site_model()
    rng = np.random.default_rng(5)
    seqs = [bytes(rng.choice(np.frombuffer(b"ACGT", dtype=np.uint8), size=n)) for n in (900, 3000, 150, 5000, 40_000)]
    seqs[1] = b"ATGAAAATG" + seqs[1][9:]  # a shadowed start at a sequence's first bases
    options = dict(stop_weight=1.0, scan_penalty=-2.0, scan_reach=60)
    together = sparse_sites_of(model, seqs, 1.0, 0.5, batch_bases=40_000, **options)
    for seq, got in zip(seqs, together):
        alone = SparseSites(model, seq, 1.0, 0.5, **options)
        assert got.n == len(seq)
        for key in alone.pos:
            np.testing.assert_array_equal(got.pos[key], alone.pos[key])
            np.testing.assert_allclose(got.val[key], alone.val[key], rtol=1e-4, atol=1e-4)
