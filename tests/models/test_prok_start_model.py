"""The prokaryote start classifier (models/prok_starts.py), its inputs and its decoder term
(predict/prokaryote/learned_starts.py), and the listwise loss of scripts/train_start_model.py.
No trained model is bundled (it did not beat the self-trained start model on the validation
genomes, docs/benchmarks.md), so these run on an untrained or a briefly trained model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from genet5.genome.codes import genetic_code
from genet5.models.prok_starts import StartNet, StartNetConfig
from genet5.models.weights import load_model, save_pretrained
from genet5.predict.prokaryote.decoder import ProkaryoteSettings, add_start_net, find_genes, prepare_record
from genet5.predict.prokaryote.learned_starts import genome_freq, orf_relative, place_features, start_scores, windows
from genet5.predict.prokaryote.orfs import oriented_candidates

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train_start_model.py"


def _script():
    spec = importlib.util.spec_from_file_location("train_start_model", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _strand(seq: bytes):
    return oriented_candidates("s", "+", 0, seq, genetic_code(11), {b"ATG", b"GTG", b"TTG"}, 90)


def test_place_features_and_windows_of_a_built_orf():
    # one ORF in frame 0: stop TAA at 0, starts ATG at 30, GTG at 60, ATG at 150, stop at 300
    body = bytearray(b"C" * 303)
    body[0:3] = b"TAA"
    body[30:33], body[60:63], body[150:153] = b"ATG", b"GTG", b"ATG"
    body[300:303] = b"TAA"
    c = _strand(bytes(body))
    sel = np.flatnonzero((c.e == 302) & ~c.edge)
    assert list(c.a[sel]) == [30, 60, 150]
    p = place_features(c)[sel]
    np.testing.assert_allclose(np.expm1(p[:, 0]), [0, 1, 2], atol=1e-5)  # starts upstream
    np.testing.assert_allclose(np.expm1(p[:, 1] * 5), [0, 10, 30], atol=1e-4)  # codons to previous start
    np.testing.assert_allclose(np.expm1(p[:, 2] * 5), [10, 30, 0], atol=1e-4)  # codons to next start
    np.testing.assert_allclose(p[:, 5], [1, 0, 0])  # the ORF's first start
    w = windows(c, 30, 30)[sel]
    assert w.shape == (3, 60)
    assert list(w[0, 30:33]) == [0, 3, 2]  # ATG at offset `up`
    assert (w[0, :30] == 1).sum() == 27 and (w[0, :3] == np.array([3, 0, 0])).all()  # TAA then Cs


def test_orf_relative_puts_each_orfs_best_start_at_zero():
    score = np.array([1.0, 3.0, 2.0, -1.0, 5.0])
    orf = np.array([0, 0, 0, 1, 1])
    edge = np.array([False, False, False, True, False])
    np.testing.assert_allclose(orf_relative(score, orf, edge), [-2.0, 0.0, -1.0, 0.0, 0.0])


def test_genome_freq_is_strand_symmetric():
    f = genome_freq(np.array([10.0, 20.0, 30.0, 40.0]))
    np.testing.assert_allclose(f, [0.25, 0.25, 0.25, 0.25])
    f = genome_freq(np.array([30.0, 20.0, 20.0, 30.0]))
    np.testing.assert_allclose(f, [0.3, 0.2, 0.2, 0.3])


def test_group_log_softmax_is_a_softmax_per_orf():
    mod = _script()
    logit = torch.tensor([0.0, 1.0, 2.0, 5.0, 5.0])
    group = torch.tensor([0, 0, 0, 1, 1])
    lp = mod.group_log_softmax(logit, group, 2)
    np.testing.assert_allclose(lp[:3].exp().sum().item(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(lp[3:].exp().numpy(), [0.5, 0.5], rtol=1e-6)
    assert mod.top1(np.array([0.0, 1.0, 2.0, 5.0, 4.0]), np.array([0, 0, 0, 1, 1]), np.array([False, False, True, False, True])) == 0.5


def test_start_model_learns_a_planted_motif_and_the_decoder_uses_it(tmp_path):
    """Trained for a few steps to prefer starts 8 bases after AGGAGG, the classifier ranks them
    first; saved and loaded by path, it becomes the decoder's start_net term (0 at the best
    start of each ORF, below 0 elsewhere)."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    cfg = StartNetConfig(hidden=16)
    model = StartNet(cfg)
    freq = np.full(4, 0.25, dtype=np.float32)
    n = 256
    win = rng.integers(0, 4, size=(n, cfg.window)).astype(np.int8)
    win[:, cfg.up : cfg.up + 3] = [0, 3, 2]
    label = np.arange(n) % 4 == 0  # groups of 4 candidates, the first one real
    win[label, cfg.up - 14 : cfg.up - 8] = [0, 2, 2, 0, 2, 2]
    place = np.zeros((n, cfg.n_place), dtype=np.float32)
    group = torch.from_numpy(np.arange(n) // 4)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    mod = _script()
    for _ in range(60):
        logit = model(torch.from_numpy(win), torch.from_numpy(np.tile(freq, (n, 1))), torch.from_numpy(place))
        loss = -mod.group_log_softmax(logit, group, n // 4)[torch.from_numpy(label)].mean()
        opt.zero_grad(); loss.backward(); opt.step()
    model.eval()
    with torch.no_grad():
        score = model(torch.from_numpy(win), torch.from_numpy(np.tile(freq, (n, 1))), torch.from_numpy(place)).numpy()
    assert mod.top1(score, group.numpy(), label) > 0.95
    save_pretrained(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m", StartNet)
    seq = bytes(rng.choice(list(b"ACGT"), size=3000).astype(np.uint8))
    rec = prepare_record("s", seq, genetic_code(11), {b"ATG", b"GTG", b"TTG"}, ProkaryoteSettings())
    add_start_net([rec], loaded, freq)
    for d in rec:
        assert d.start_net is not None and len(d.start_net) == len(d.cand.a)
        assert (d.start_net <= 1e-9).all() and (d.start_net[d.cand.edge] == 0).all()
        np.testing.assert_allclose(d.start_net, start_scores(loaded, d.cand, freq))
    find_genes([rec], ProkaryoteSettings(use_net=False))  # the term flows through the decoder


@pytest.mark.parametrize("up, down", [(30, 30), (31, 30), (20, 12)])  # windows of 60, 61, 32: read 3 at a time, padded
def test_the_numpy_scorer_gives_the_torch_models_logits(up, down):
    """The decoder scores starts with numpy (learned_starts.StartScorer), the model trains in
    torch: same weights, same logits (float32 sums in another order: within 1e-5)."""
    from genet5.predict.prokaryote.learned_starts import StartScorer

    torch.manual_seed(3)
    net = StartNet(StartNetConfig(up=up, down=down))
    rng = np.random.default_rng(3)
    wins = rng.integers(0, 5, (300, net.config.window)).astype(np.int8)
    freq = np.array([0.3, 0.2, 0.2, 0.3], dtype=np.float32)
    place = rng.random((300, 6)).astype(np.float32)
    with torch.no_grad():
        want = net(torch.from_numpy(wins), torch.from_numpy(freq).expand(300, 4), torch.from_numpy(place)).numpy()
    got = StartScorer.from_module(net).logits(wins, freq, place)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_the_prokaryote_decoder_runs_without_importing_torch():
    """`genet5 predict --domain prokaryote` (no --network) must not pay torch's import (~1 s of
    a phage's 1-2 s run): the pipeline, the decoder and the bundled start classifier."""
    import subprocess
    import sys

    import genet5

    example = Path(genet5.__file__).parent / "examples" / "erwinia_phage_MT939486" / "genome.fa.gz"
    code = ("import sys\n"
            "from genet5.predict.pipeline import PredictConfig, predict_genome\n"
            f"ann, lengths, stats = predict_genome(None, {str(example)!r}, PredictConfig(domain='prokaryote', genetic_code=11))\n"
            "assert stats.genes > 400, stats.genes\n"
            "print('torch' in sys.modules)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"
