import json

import torch
from conftest import invoke
from genet5.models import get_preset, save_pretrained
from genet5.models.genos import Genos


def test_info_preset_json_counts():
    res = invoke("info", "genos-1.2b", "--json")
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["config"]["n_layers"] == 12 and d["config"]["dim"] == 1024
    assert abs(d["total_params"] / 1.2e9 - 1) < 0.05
    assert abs(d["active_params"] / 0.33e9 - 1) < 0.05


def test_info_table_and_saved_dir(tmp_path):
    torch.manual_seed(0)
    save_pretrained(Genos(get_preset("genos-tiny")), tmp_path)
    res = invoke("info", str(tmp_path))
    assert res.exit_code == 0, res.output
    assert "238,400" in res.output and "experts" in res.output


def test_info_unknown_name_fails_cleanly():
    res = invoke("info", "no-such-model")
    assert res.exit_code == 2


def test_info_names_a_bundled_model_before_a_preset():
    """A bundled model's name is that model, as predict and lm read it: genet5-cpu's 511,392
    parameters, not the 1,146,240 of the preset of the same name; genos-tiny-prok has no preset
    (it was refused)."""
    from genet5.models.weights import CONFIG_NAME, resolve_model_path

    for name in ("genet5-cpu", "genos-tiny-prok"):
        res = invoke("info", name, "--json")
        assert res.exit_code == 0, res.output
        d = json.loads(res.output)
        assert d["source"] == "bundled model"
        saved = json.loads((resolve_model_path(name) / CONFIG_NAME).read_text())
        assert d["config"]["model_type"] == saved["model_type"] and d["config"].get("enc_dim") == saved.get("enc_dim")
    assert json.loads(invoke("info", "genet5-cpu", "--json").output)["total_params"] == 511_392
