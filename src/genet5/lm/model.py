"""Loading a Genos model for inference, and choosing the device.

Errors a user can cause (no such directory, not a model, a model of another kind) raise
`ModelLoadError` (the models' WeightLoadError, so the CLI prints it as one line naming the path).
"""

from __future__ import annotations

import os

import torch

from genet5.models.weights import BUNDLED_DIR, WeightLoadError, resolve_model_path  # noqa: F401  (lm's names)

BUNDLED_GENOS = "genos-tiny-prok"  # trained on the shared prokaryotes; docs/training.md
ModelLoadError = WeightLoadError  # the name genet5.lm has exported


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """'auto' (CUDA when present, else CPU), 'cpu', 'cuda' or 'cuda:N'; asking for CUDA on a
    machine without it raises ValueError."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):  # torch's own message lists every backend it knows
        raise ValueError(f"device {device!r}: expected auto, cpu or cuda") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available (use --device cpu)")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device {device!r}: expected auto, cpu or cuda")
    return dev


def load_genos(path: str | os.PathLike, device: str | torch.device = "cpu", dtype: torch.dtype | None = None):
    """A saved Genos model (directory with config.json + model.safetensors, or a bundled
    model's name), in eval mode."""
    from genet5.models.configs import ModelConfigError
    from genet5.models.genos import Genos
    from genet5.models.weights import load_model, resolve_model_path

    try:
        return load_model(path, Genos, device=torch.device(device), dtype=dtype)
    except ModelConfigError as err:  # config.json parses but the model cannot be built (n_layers 0)
        raise WeightLoadError(resolve_model_path(path) / "config.json", str(err)) from None


def model_context(model) -> int:
    """The context the model was trained at (config.max_seq_len), the default scoring window."""
    return int(getattr(model.config, "max_seq_len", 0) or 8192)
