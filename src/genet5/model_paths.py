"""Where models live: the package's bundled models and the model-directory layout. No torch
here, so that commands and decoders that only need a path (or read weights with numpy, as the
prokaryote start classifier does) start without importing it; outside genet5.models, whose package
imports torch."""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
# Models shipped inside the package (docs/model_card.md), loadable by name.
BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
BUNDLED_GENE_MODEL = "genet5-cpu"  # genet5 predict's default


def resolve_model_path(path: str | os.PathLike) -> Path:
    """A model directory, or the name of a model bundled with the package (`genet5-cpu`,
    `genos-tiny-prok`) when no such directory exists here."""
    p = Path(path)
    if not p.exists() and p.name == str(path) and (BUNDLED_DIR / p.name / CONFIG_NAME).is_file():
        return BUNDLED_DIR / p.name
    return p
