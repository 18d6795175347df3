import dataclasses
import json
import struct

import pytest
import torch

from genet5.models import WeightLoadError, from_pretrained, get_preset, load_model_config, save_pretrained
from genet5.models.genos import Genos

torch.set_num_threads(1)


def tiny(**overrides):
    torch.manual_seed(0)
    return Genos(dataclasses.replace(get_preset("genos-tiny"), **overrides))


def test_round_trip_bit_exact(tmp_path):
    m = tiny()
    save_pretrained(m, tmp_path / "ckpt")
    cfg = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    assert cfg["model_type"] == "genos" and cfg["dim"] == 64
    raw = (tmp_path / "ckpt" / "model.safetensors").read_bytes()
    (header_len,) = struct.unpack("<Q", raw[:8])  # safetensors: u64 header length + JSON header
    assert raw[8:9] == b"{" and header_len < len(raw)
    for loaded in (
        from_pretrained(tmp_path / "ckpt"),
        from_pretrained(Genos, tmp_path / "ckpt"),
        from_pretrained("genos-tiny", tmp_path / "ckpt"),
    ):
        assert loaded.config == m.config
        sd, sd2 = m.state_dict(), loaded.state_dict()
        assert sd.keys() == sd2.keys()
        for k in sd:
            assert torch.equal(sd[k], sd2[k]), k
        assert all(
            p.requires_grad and isinstance(p, torch.nn.Parameter) for p in loaded.parameters()
        )
    x = torch.randint(5, 10, (1, 8))
    assert torch.equal(m(x), from_pretrained(tmp_path / "ckpt")(x))


def test_tied_embeddings_stored_once_and_retied(tmp_path):
    m = tiny(tie_embeddings=True)
    save_pretrained(m, tmp_path)
    from safetensors import safe_open

    with safe_open(str(tmp_path / "model.safetensors"), "pt") as fh:
        names = set(fh.keys())
    assert ("output.weight" in names) != ("tok_embeddings.weight" in names)
    loaded = from_pretrained(tmp_path)
    assert loaded.output.weight is loaded.tok_embeddings.weight
    assert torch.equal(loaded.output.weight, m.output.weight)


def test_load_as_bf16(tmp_path):
    save_pretrained(tiny(), tmp_path)
    assert from_pretrained(tmp_path, dtype=torch.bfloat16).output.weight.dtype == torch.bfloat16


def test_mismatch_is_one_clear_error(tmp_path):
    save_pretrained(tiny(), tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    cfg.update(n_experts=3, n_layers=3)  # fewer experts (shapes) and one layer more (missing)
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(WeightLoadError) as err:
        from_pretrained(tmp_path)
    msg = str(err.value)
    assert "model.safetensors" in msg and "missing" in msg and "wrong shape" in msg
    assert "layers.0.ffn.w1 [4, 128, 64] (model expects [3, 128, 64])" in msg
    assert "layers.2." in msg and "\n" not in msg


def test_bad_config_and_wrong_class(tmp_path):
    save_pretrained(tiny(), tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**cfg, "model_type": "llama"}))
    with pytest.raises(WeightLoadError, match="unknown model_type 'llama'"):
        load_model_config(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({**cfg, "bogus": 1}))
    with pytest.raises(WeightLoadError, match="unknown field.*bogus"):
        from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(WeightLoadError, match="not a"):
        from_pretrained(torch.nn.Linear, tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"\x00garbage")
    with pytest.raises(WeightLoadError, match="cannot read"):
        from_pretrained(tmp_path)


def test_model_with_non_persistent_buffer_loads(tmp_path):
    """A registered model with a computed (non-persistent) buffer still loads: the meta-device
    fast path falls back to building the model for real."""
    from genet5.models.configs import register_model

    class WithBuffer(Genos):
        def __init__(self, config):
            super().__init__(config)
            self.register_buffer("scale", torch.full((3,), 2.0), persistent=False)

    register_model("genos", WithBuffer)
    try:
        save_pretrained(WithBuffer(get_preset("genos-tiny")), tmp_path)
        loaded = from_pretrained(tmp_path)
        assert torch.equal(loaded.scale, torch.full((3,), 2.0))
    finally:
        register_model("genos", Genos)


def test_load_model_is_the_one_loader(tmp_path):
    """load_model: a directory or a bundled name, checked against the kind wanted, in eval mode;
    every problem one WeightLoadError naming the path."""
    import genet5
    from genet5.lm import load_genos
    from genet5.models.genet5 import GeneT5, GeneT5PerBase
    from genet5.models.genos import Genos
    from genet5.models.weights import load_model

    bundled = load_model("genet5-cpu", GeneT5PerBase)
    assert type(bundled) is GeneT5PerBase and not bundled.training
    assert type(genet5.load_model("genos-tiny-prok")) is Genos
    with pytest.raises(WeightLoadError, match="not a Genos language model \\(model_type 'genet5_per_base'\\)"):
        load_genos("genet5-cpu")
    with pytest.raises(WeightLoadError, match="not a GeneT5 gene model \\(model_type 'genos'\\)"):
        load_model("genos-tiny-prok", GeneT5PerBase)
    with pytest.raises(WeightLoadError, match="no such model directory"):
        load_model(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(WeightLoadError, match="not a model directory \\(no config.json\\)"):
        load_model(tmp_path / "empty")
    torch.manual_seed(0)
    save_pretrained(GeneT5(get_preset("genet5-tiny")), tmp_path / "full")
    assert type(load_model(tmp_path / "full", GeneT5PerBase)) is GeneT5PerBase  # its encoder and head
    (tmp_path / "full" / "model.safetensors").unlink()
    with pytest.raises(WeightLoadError, match="no weights file \\(model.safetensors\\)"):
        load_model(tmp_path / "full")
