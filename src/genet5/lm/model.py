"""Loading a Genos model for inference, and choosing the device.

Errors a user can cause (no such directory, not a model, a model of another kind) raise
`ModelLoadError` (a `GenomeFormatError`, so the CLI prints it as one line naming the path).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from genet5.genome.models import GenomeFormatError


BUNDLED_DIR = Path(__file__).resolve().parents[1] / "bundled"
BUNDLED_GENOS = "genos-tiny-prok"  # trained on the shared prokaryotes; docs/training.md


def resolve_model_path(path: str | os.PathLike) -> Path:
    """A model directory, or the name of a model bundled with the package (`genos-tiny-prok`)
    when no such directory exists here."""
    p = Path(path)
    if not p.exists() and p.name == str(path) and (BUNDLED_DIR / p.name / "config.json").is_file():
        return BUNDLED_DIR / p.name
    return p


class ModelLoadError(GenomeFormatError):
    def __init__(self, path: str | os.PathLike, problem: str):
        super().__init__(str(path), None, problem)


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """'auto' (CUDA when present, else CPU), 'cpu', 'cuda' or 'cuda:N'; asking for CUDA on a
    machine without it raises ValueError."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available (use --device cpu)")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device {device!r}: expected auto, cpu or cuda")
    return dev


def load_genos(path: str | os.PathLike, device: str | torch.device = "cpu", dtype: torch.dtype | None = None):
    """A saved Genos model (directory with config.json + model.safetensors), in eval mode."""
    from genet5.models.genos import Genos
    from genet5.models.weights import WeightLoadError, from_pretrained, load_config

    path = resolve_model_path(path)
    if not path.is_dir():
        raise ModelLoadError(path, "no such model directory" if not path.exists() else "not a directory (a model is a directory written by save_pretrained)")
    if not (path / "config.json").is_file():
        raise ModelLoadError(path, "not a model directory (no config.json); give a directory written by save_pretrained / genet5 lm pretrain")
    config = load_config(path)  # WeightLoadError on bad JSON / unknown model_type
    if getattr(config, "model_type", None) != "genos":
        raise ModelLoadError(path, f"not a Genos language model (model_type {config.model_type!r})")
    try:
        model = from_pretrained(Genos, path, device=torch.device(device), dtype=dtype)
    except FileNotFoundError as err:
        raise ModelLoadError(path, f"no weights file ({Path(err.filename).name})") from None
    except WeightLoadError:
        raise
    return model.eval()


def model_context(model) -> int:
    """The context the model was trained at (config.max_seq_len), the default scoring window."""
    return int(getattr(model.config, "max_seq_len", 0) or 8192)
