"""GeneT5 model: shapes, losses, gradients, overfitting, decoding, weights, presets."""

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from genet5.models.configs import get_preset
from genet5.models.genet5 import (
    GeneT5,
    GeneT5Config,
    config_with_genos_encoder,
    count_parameters,
    init_encoder_from_genos,
)
from genet5.models.genet5_decoding import GeneConstraint, decode_greedy, predict_genes
from genet5.tokenizers.annotation import (
    IGNORE,
    NUM_BASE_CLASSES,
    decode_genes,
    encode_genes,
    shift_right,
)
from genet5.tokenizers.nucleotide import NucleotideTokenizer

sys.path.insert(0, str(Path(__file__).parent))
from test_genet5_decoding import check_gene, make_window  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny ops on a shared CPU: extra OpenMP threads only spin (measured 20x slower)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _tiny(**kw) -> GeneT5Config:
    return replace(get_preset("genet5-tiny"), **kw)


def _batch(windows):
    """Padded training batch from [(dna, genes)]: encoder ids/mask, decoder in/targets, labels."""
    tok = NucleotideTokenizer()
    ids, valid = tok.encode_batch([d for d, _ in windows])
    seqs = [encode_genes(g, len(d)) for d, g in windows]
    T = max(len(t) for t, _ in seqs)
    tgt_t = np.full((len(windows), T), IGNORE)
    tgt_p = np.full((len(windows), T), IGNORE)
    in_t = np.zeros((len(windows), T), dtype=np.int64)
    in_p = np.full((len(windows), T), IGNORE)
    for b, (t, p) in enumerate(seqs):
        it, ip = shift_right(t, p)
        tgt_t[b, : len(t)], tgt_p[b, : len(p)], in_t[b, : len(t)], in_p[b, : len(t)] = t, p, it, ip
    labels = np.zeros(ids.shape, dtype=np.int64)  # per-base labels: CDS frame from structures
    for b, (_, genes) in enumerate(windows):
        for g in genes:
            k = 0
            segs = g.segments if g.strand == "+" else [(b_, a_) for a_, b_ in reversed(g.segments)]
            for a, e in segs:
                step = 1 if g.strand == "+" else -1
                for pos in range(a, e + step, step):
                    labels[b, pos] = 1 + k % 3
                    k += 1
    t = lambda x: torch.as_tensor(x)  # noqa: E731
    return dict(
        enc_input_ids_BS=t(ids), enc_padding_mask_BS=t(~valid), dec_input_types_BT=t(in_t),
        dec_input_pointers_BT=t(in_p), target_types_BT=t(tgt_t), target_pointers_BT=t(tgt_p),
        base_labels_BL=t(labels),
    )


def _windows():
    w0 = make_window(0)
    dna1, genes1 = make_window(1)
    return [w0, (dna1[:120], [g for g in genes1 if g.segments[-1][1] < 120])]


def test_forward_shapes_and_separate_losses():
    torch.manual_seed(0)
    model = GeneT5(_tiny())
    batch = _batch(_windows())
    out = model(**batch)
    B, L = batch["enc_input_ids_BS"].shape
    T = batch["dec_input_types_BT"].shape[1]
    assert out.token_logits_BTV.shape == (B, T, model.config.dec_vocab_size)
    assert out.pointer_logits_BTL.shape == (B, T, L)
    assert out.base_logits_BLC.shape == (B, L, NUM_BASE_CLASSES)
    for name in ("token_loss", "pointer_loss", "aux_loss"):
        assert torch.isfinite(getattr(out, name)) and getattr(out, name) > 0
    cfg = model.config
    want = cfg.token_loss_weight * out.token_loss + cfg.pointer_loss_weight * out.pointer_loss + cfg.aux_loss_weight * out.aux_loss
    torch.testing.assert_close(out.loss, want)
    # padding bases of the shorter window are never pointer targets
    pad = batch["enc_padding_mask_BS"][1]
    assert pad.any() and (out.pointer_logits_BTL[1][:, pad] < -1e30).all()


def _as_bpe(batch):
    """Fake 2-base BPE tokens: base i belongs to token i // 2 (-1 on padding bases)."""
    ids = batch["enc_input_ids_BS"]
    B, L = ids.shape
    idx = (torch.arange(L) // 2).expand(B, L).clone()
    idx[batch["enc_padding_mask_BS"]] = -1
    tok_pad = torch.ones(B, (L + 1) // 2, dtype=torch.bool)
    for b in range(B):
        tok_pad[b, : int(idx[b].max()) + 1] = False
    return dict(
        batch, enc_input_ids_BS=torch.randint(5, 64, (B, (L + 1) // 2)), enc_padding_mask_BS=tok_pad,
        base_ids_BL=ids, base_to_token_BL=idx,
    )


def test_bpe_encoder_points_at_bases():
    torch.manual_seed(0)
    model = GeneT5(_tiny(enc_tokens="bpe", enc_vocab_size=64, enc_pos="alibi", enc_window=None))
    batch = _as_bpe(_batch(_windows()))
    out = model(**batch)
    L = batch["base_ids_BL"].shape[1]
    assert out.pointer_logits_BTL.shape[-1] == L and out.base_logits_BLC.shape[1] == L
    res = decode_greedy(
        model, batch["enc_input_ids_BS"], batch["enc_padding_mask_BS"], max_steps=5,
        base_ids_BL=batch["base_ids_BL"], base_to_token_BL=batch["base_to_token_BL"],
    )
    valid = (batch["base_to_token_BL"] >= 0).sum(1)
    assert all(p < int(valid[b]) for b, (_, ptrs) in enumerate(res) for p in ptrs)


def test_gradients_reach_every_parameter():
    torch.manual_seed(0)
    for cfg in (_tiny(), _tiny(enc_tokens="bpe", enc_vocab_size=64, enc_pos="alibi", enc_window=None)):
        model = GeneT5(cfg)
        batch = _batch(_windows())
        if cfg.enc_tokens == "bpe":
            batch = _as_bpe(batch)
        model(**batch).loss.backward()
        dead = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
        assert not dead, f"{cfg.enc_tokens}: no gradient for {dead}"


def _train(model, batch, steps, lr=3e-3):
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 1.0 - i / steps)  # decay: no late spikes
    hist = []
    for _ in range(steps):
        out = model(**batch)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        sched.step()
        hist.append((out.token_loss.item(), out.pointer_loss.item(), out.aux_loss.item()))
    return hist


@pytest.fixture(scope="module")
def overfit():
    torch.manual_seed(0)
    windows = _windows()
    batch = _batch(windows)
    model = GeneT5(_tiny(enc_dim=48, dec_dim=48, pointer_dim=32))
    hist = _train(model, batch, 100, lr=5e-3)
    return model, windows, batch, hist


def test_pointer_loss_decreases(overfit):
    ptr = [h[1] for h in overfit[3]]
    assert ptr[-1] < ptr[0] / 10
    assert np.mean(ptr[-10:]) < np.mean(ptr[40:50]) < np.mean(ptr[:10])  # falls throughout


def test_tiny_model_overfits_one_batch(overfit):
    _, _, _, hist = overfit
    first, last = hist[0][0] + hist[0][1], hist[-1][0] + hist[-1][1]
    assert last < first / 20, (first, last)
    assert hist[-1][2] < hist[0][2]  # the per-base head learns too


def test_greedy_decoding_reproduces_training_genes_with_and_without_cache(overfit):
    model, windows, batch, _ = overfit
    ids, pad = batch["enc_input_ids_BS"], batch["enc_padding_mask_BS"]
    cached = decode_greedy(model, ids, pad, max_steps=20)
    uncached = decode_greedy(model, ids, pad, max_steps=20, use_cache=False)
    assert cached == uncached
    dna = [d for d, _ in windows]
    constrained = decode_greedy(model, ids, pad, max_steps=20, constraint=GeneConstraint(dna))
    for b, (d, genes) in enumerate(windows):
        assert decode_genes(*cached[b], len(d)) == genes
        assert decode_genes(*constrained[b], len(d)) == genes
    assert predict_genes(model, ids, pad, max_steps=20, constraint=GeneConstraint(dna)) == [g for _, g in windows]


def test_kv_cached_steps_match_full_decoder():
    from genet5.nn.attention import make_kv_caches

    torch.manual_seed(0)
    model = GeneT5(_tiny()).eval()
    batch = _batch(_windows())
    with torch.no_grad():
        enc = model.encode(batch["enc_input_ids_BS"], batch["enc_padding_mask_BS"])
        types, ptrs = batch["dec_input_types_BT"], batch["dec_input_pointers_BT"]
        full_tok, full_ptr = model.decode_step(enc, types, ptrs)
        caches = make_kv_caches(len(model.dec_layers))
        for t in range(types.shape[1]):
            tok, ptr = model.decode_step(enc, types[:, t : t + 1], ptrs[:, t : t + 1], caches)
            torch.testing.assert_close(tok[:, 0], full_tok[:, t], atol=1e-5, rtol=1e-4)
            torch.testing.assert_close(ptr[:, 0], full_ptr[:, t], atol=1e-5, rtol=1e-4)


def test_constrained_decoding_of_untrained_model_is_valid():
    torch.manual_seed(2)
    model = GeneT5(_tiny())
    with torch.no_grad():  # make EOS unattractive so the model emits structure
        model.token_head.weight[2].fill_(0.0)
        model.token_head.weight[2, 0] = -5.0
    windows = _windows()
    batch = _batch(windows)
    dna = [d for d, _ in windows]
    res = decode_greedy(model, batch["enc_input_ids_BS"], batch["enc_padding_mask_BS"], max_steps=40,
                        constraint=GeneConstraint(dna))
    n_genes = 0
    for (types, ptrs), d in zip(res, dna):
        genes = decode_genes(types, ptrs, len(d))
        for g in genes:
            check_gene(d, g)
        starts = [0 if g.cut_left else g.segments[0][0] for g in genes]
        assert starts == sorted(starts) and len(set(map(repr, genes))) == len(genes)  # no repeats
        n_genes += len(genes)
    assert n_genes >= 1  # the test saw real structures, not just EOS
    assert all(p < len(d) for (_, ptrs), d in zip(res, dna) for p in ptrs)


def test_save_load_roundtrip_bit_exact(tmp_path):
    from genet5.models.weights import from_pretrained, save_pretrained

    torch.manual_seed(0)
    model = GeneT5(_tiny())
    save_pretrained(model, tmp_path / "m")
    loaded = from_pretrained(tmp_path / "m")
    assert isinstance(loaded, GeneT5) and loaded.config == model.config
    sd0, sd1 = model.state_dict(), loaded.state_dict()
    assert sd0.keys() == sd1.keys()
    assert all(torch.equal(sd0[k], sd1[k]) for k in sd0)
    batch = _batch(_windows())
    model.eval(), loaded.eval()
    assert torch.equal(model(**batch).loss, loaded(**batch).loss)


def test_preset_parameter_counts(tmp_path):
    big = count_parameters(get_preset("genet5-1.55b"))
    assert abs(big["total"] - 1.55e9) / 1.55e9 < 0.05, big
    assert big["active"] < big["total"] / 3  # top-2 of 16 experts
    dnabert = count_parameters(get_preset("genet5-1.55b-dnabert2"))
    assert abs(dnabert["total"] - 1.55e9) / 1.55e9 < 0.05
    assert 100e6 < dnabert["encoder"] < 130e6  # DNABERT-2 is ~117M
    small = count_parameters(get_preset("genet5-small"))["total"]
    assert 2e6 <= small <= 6e6 and small * 4 < 30e6  # fp32 safetensors under 30 MB


def test_init_encoder_from_genos():
    from genet5.models.genos import Genos

    torch.manual_seed(0)
    genos_cfg = get_preset("genos-tiny")
    genos = Genos(genos_cfg)
    cfg = config_with_genos_encoder(genos_cfg, base=_tiny(), enc_window=None)
    model = GeneT5(cfg)
    loaded = init_encoder_from_genos(model, genos.state_dict())
    enc = model.encoder.state_dict()
    assert "embed.weight" in loaded and "norm.weight" in loaded
    assert torch.equal(enc["embed.weight"], genos.tok_embeddings.weight)
    for k, v in genos.layers.state_dict().items():
        assert torch.equal(enc["layers." + k], v)
    # a Genos with other dims is refused, not silently truncated
    with pytest.raises(ValueError):
        init_encoder_from_genos(GeneT5(_tiny()), genos.state_dict())


def test_per_base_part_of_a_genet5_checkpoint(tmp_path):
    """GeneT5PerBase is GeneT5's encoder and head: the same tensor names, the same code path
    (GeneT5.encode's base logits are the per-base model's output), and it loads from a full
    checkpoint without reading the decoder."""
    from genet5.models.genet5 import GeneT5PerBase, PerBaseConfig
    from genet5.models.weights import WeightLoadError, from_pretrained, save_pretrained

    torch.manual_seed(0)
    full = GeneT5(_tiny()).eval()
    save_pretrained(full, tmp_path / "full")
    part = from_pretrained(GeneT5PerBase, tmp_path / "full").eval()
    assert type(part) is GeneT5PerBase and type(part.config) is PerBaseConfig
    assert part.config == full.config.per_base_config() and part.config.model_type == "genet5_per_base"
    sd = full.state_dict()
    assert part.state_dict().keys() == {k for k in sd if k.startswith(("encoder.", "aux_head."))}
    assert all(torch.equal(v, sd[k]) for k, v in part.state_dict().items())
    ids = torch.as_tensor(NucleotideTokenizer().encode_batch(["ACGTTGCA" * 12])[0])
    with torch.no_grad():
        logits = part(ids)
        assert torch.equal(logits, full.encode(ids).base_logits_BLC)
        assert torch.equal(logits, full.per_base()(ids))  # the training view, shared weights
    assert full.per_base().encoder is full.encoder and part.per_base() is part

    # a per-base checkpoint holds only the encoder and head, and loads by its model_type
    save_pretrained(full.per_base(), tmp_path / "per_base")
    again = from_pretrained(tmp_path / "per_base")
    assert type(again) is GeneT5PerBase and again.state_dict().keys() == part.state_dict().keys()
    with pytest.raises(WeightLoadError, match="holds a GeneT5PerBase.*not a GeneT5"):
        from_pretrained(GeneT5, tmp_path / "per_base")


def test_bundled_model_holds_only_what_predict_uses():
    from genet5.models.genet5 import GeneT5PerBase
    from genet5.models.weights import from_pretrained

    bundled = Path(__file__).resolve().parents[2] / "src" / "genet5" / "bundled" / "genet5-cpu"
    model = from_pretrained(bundled)
    assert type(model) is GeneT5PerBase
    assert sum(p.numel() for p in model.parameters()) == 511_392  # docs/model_card.md
