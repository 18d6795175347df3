"""`genet5 info`: describe a model preset or a saved model directory without loading weights."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from genet5.cli.app import app, fail

# fields shown in the table when a config has them (others stay in --json)
_SHOWN = [
    ("model_type", "model type"),
    ("n_layers", "layers"),
    ("dim", "hidden"),
    ("n_heads", "attention heads"),
    ("n_kv_heads", "KV heads (GQA groups)"),
    ("head_dim", "head dim"),
    ("n_experts", "experts"),
    ("top_k", "experts per token"),
    ("expert_hidden", "expert FFN hidden"),
    ("vocab_size", "vocabulary"),
    ("rope_base", "RoPE base"),
    ("window", "attention window"),
    ("max_seq_len", "context (train)"),
]


def _human(n: int) -> str:
    for unit, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g}{unit}"
    return str(n)


def describe(name_or_dir: str) -> dict[str, Any]:
    """Config and parameter counts of a preset name or a save_pretrained directory, built on
    the meta device (no weight memory)."""
    from genet5.models.configs import ModelConfigError, config_to_dict, get_preset, list_presets
    from genet5.models.params import count_params_for_config
    from genet5.models.weights import CONFIG_NAME, load_model_config, resolve_model_path

    path = resolve_model_path(name_or_dir)  # a bundled model's name (genet5-cpu, genos-tiny-prok) is that model
    if (path / CONFIG_NAME).is_file():
        config, source = load_model_config(path), str(path) if path == Path(name_or_dir) else "bundled model"
    elif path.exists():
        fail(f"{path}: no {CONFIG_NAME} here (not a saved model directory)")
    else:
        try:
            config, source = get_preset(name_or_dir), "preset"
        except ModelConfigError:
            fail(
                f"{name_or_dir}: neither a model directory, a bundled model nor a preset "
                f"(presets: {', '.join(list_presets())})"
            )
    counts = count_params_for_config(config)
    return {
        "name": name_or_dir,
        "source": source,
        "config": config_to_dict(config),
        **counts.as_dict(),
    }


@app.command("info")
def info(
    name_or_dir: str = typer.Argument(..., help="saved model dir, bundled model name (genet5-cpu, genos-tiny-prok: the model itself, "
                                      "not the preset of the same name) or preset name (e.g. genos-1.2b)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """Show a model's shape and total / active parameter counts (no weights are loaded)."""
    d = describe(name_or_dir)
    if as_json:
        print(json.dumps(d, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    cfg = d["config"]
    table = Table(title=f"{d['name']} ({d['source']})", show_header=False)
    for key, label in _SHOWN:
        if key in cfg and cfg[key] is not None:
            value = cfg[key]
            table.add_row(label, f"{value:g}" if isinstance(value, float) else str(value))
    shown = {key for key, _ in _SHOWN}
    for key, value in cfg.items():  # other families (e.g. GeneT5's enc_* / dec_* fields)
        if key in shown or value is None or key == "extra":
            continue
        if isinstance(value, dict):  # a nested sub-config: one line
            value = ", ".join(f"{k}={v}" for k, v in value.items() if not isinstance(v, dict))
        table.add_row(key, f"{value:g}" if isinstance(value, float) else str(value))
    table.add_row("total params", f"{d['total_params']:,} ({_human(d['total_params'])})")
    table.add_row("active params / token", f"{d['active_params']:,} ({_human(d['active_params'])})")
    table.add_row("embedding params", f"{d['embedding_params']:,}")
    Console().print(table)
