"""Weight I/O: a directory with config.json (dataclass fields + model_type) and
model.safetensors. Never pickle: safetensors holds only tensors, JSON only plain values.

    save_pretrained(model, "out/")                 # any model with a dataclass `.config`
    model = from_pretrained("out/")                 # class chosen by config.json's model_type
    model = from_pretrained(Genos, "out/")          # or checked against a class
    model = from_pretrained("genos-tiny", "out/")   # or against a preset's model type
    model = load_model("genet5-cpu", GeneT5PerBase)  # for use: a directory or a bundled name,
                                                     # checked, in eval mode (one-line errors)

Loading builds the model on the meta device and assigns the file's tensors (memory-mapped),
so a large model is never allocated twice. Names and shapes are checked first; every mismatch
is reported in one error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from genet5.atomic import atomic_write
from genet5.errors import UserError
from genet5.models.configs import (
    ModelConfigError,
    config_from_dict,
    config_to_dict,
    get_preset,
    model_class_for,
)

from genet5.model_paths import BUNDLED_DIR, BUNDLED_GENE_MODEL, CONFIG_NAME, WEIGHTS_NAME, resolve_model_path  # noqa: E402,F401  (torch-free; the names this module always had)

_MAX_LISTED = 8  # names listed per kind of mismatch before "... and N more"
_BUILD_REAL_BELOW_BYTES = 64 << 20


class WeightLoadError(UserError, ValueError):
    """A model that cannot be loaded (no such directory, not a model, a model of another kind)
    or a checkpoint that does not fit its model (names, shapes) or is unreadable: one line
    naming the path, which the CLI prints without a traceback."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path, self.problem = str(path), problem
        super().__init__(f"{path}: {problem}")

    def __reduce__(self):  # survives the trip back from a worker process
        return (type(self), (self.path, self.problem))


def save_pretrained(
    model: nn.Module, directory: str | os.PathLike, *, dtype: torch.dtype | None = None
) -> Path:
    """Write config.json and model.safetensors into directory (created if needed).

    Each file is written to a temporary name and renamed, so an interrupted save never leaves
    a half-written checkpoint under the final names. Tied parameters are stored once.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = getattr(model, "config", None)
    if config is None:
        raise TypeError(f"{type(model).__name__} has no .config dataclass to save")
    state: dict[str, torch.Tensor] = {}
    seen: set[int] = set()
    for name, p in model.named_parameters(remove_duplicate=True):  # tied weights once
        seen.add(id(p))
        state[name] = p
    for name, b in model.named_buffers():
        if name.rsplit(".", 1)[-1] in _non_persistent(model, name):
            continue
        state[name] = b
    tensors = {
        k: (v.detach().to(dtype) if dtype is not None else v.detach()).contiguous().cpu()
        for k, v in state.items()
    }
    tmp = directory / f".{WEIGHTS_NAME}.tmp"
    try:
        save_file(tensors, str(tmp), metadata={"format": "pt", "model_type": config.model_type})
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # safetensors creates 0600; a model is meant to be shared
        os.replace(tmp, directory / WEIGHTS_NAME)
    finally:
        tmp.unlink(missing_ok=True)
    with atomic_write(directory / CONFIG_NAME) as fh:
        json.dump(config_to_dict(config), fh, indent=2, sort_keys=False)
        fh.write("\n")
    return directory


def _non_persistent(model: nn.Module, buffer_name: str) -> set[str]:
    owner = model.get_submodule(buffer_name.rsplit(".", 1)[0]) if "." in buffer_name else model
    return set(getattr(owner, "_non_persistent_buffers_set", ()))


def load_model_config(directory: str | os.PathLike) -> Any:
    """The model config of a saved model directory (its config.json), as its dataclass."""
    path = Path(directory) / CONFIG_NAME
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise WeightLoadError(path, f"not valid JSON ({err.msg} at line {err.lineno})") from None
    if not isinstance(data, dict):
        raise WeightLoadError(path, "expected a JSON object")
    if "model_type" not in data and {"train", "optim"} <= data.keys():  # a RunConfig: genet5 train / lm pretrain
        raise WeightLoadError(directory, _training_run(Path(directory)))
    try:
        return config_from_dict(data)
    except (ModelConfigError, TypeError) as err:
        raise WeightLoadError(path, str(err)) from None


def _training_run(directory: Path) -> str:
    """What to say of a training run's directory, or one of its checkpoints, given as a model:
    where its model is (genet5 train and lm pretrain save it as RUN/model when they finish)."""
    checkpoint = (directory / "meta.json").is_file() or directory.name.startswith("step-")
    run = directory.parent if checkpoint else directory
    what = f"a checkpoint of the training run {run}" if checkpoint else "a training run"
    model = run / "model"
    if (model / CONFIG_NAME).is_file():
        return f"{what}, not a model; its model is {model}"
    return f"{what}, not a model; it has no final model yet (training writes it to {model} when it finishes)"


def _listing(kind: str, names: list[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    more = f" ... and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else ""
    return f"{len(names)} {kind}: {shown}{more}"


def from_pretrained(
    cls_or_name: type | str | os.PathLike,
    directory: str | os.PathLike | None = None,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | None = None,
) -> nn.Module:
    """Load a model saved by save_pretrained.

    cls_or_name: a model class, a preset name (both checked against the file's model_type), or
    the directory itself when `directory` is omitted. A class may also be loaded from a bigger
    model that contains it, when its `config_from(config)` says how (GeneT5PerBase from a
    GeneT5 checkpoint: the encoder and per-base head, the decoder's tensors left unread).
    """
    if directory is None:
        directory, expected_cls = cls_or_name, None
    elif isinstance(cls_or_name, str):
        expected_cls = model_class_for(get_preset(cls_or_name))
    else:
        expected_cls = cls_or_name
    directory = Path(directory)
    config = load_model_config(directory)
    model_cls = model_class_for(config)
    part = False  # loading part of a bigger model: its other tensors stay in the file
    if expected_cls is not None and model_cls is not expected_cls:
        own = getattr(expected_cls, "config_from", lambda _: None)(config)
        if own is None:
            raise WeightLoadError(
                directory,
                f"holds a {model_cls.__name__} (model_type {config.model_type!r}), "
                f"not a {expected_cls.__name__}",
            )
        config, model_cls, part = own, expected_cls, True
    weights_file = directory / WEIGHTS_NAME
    # Large models are built on the meta device so that no memory is spent on weights about to
    # be replaced; small ones (the bundled CPU models) are built for real, because initialising
    # parameters on meta imports torch._dynamo, seconds of start-up for every CLI call.
    small = weights_file.is_file() and weights_file.stat().st_size < _BUILD_REAL_BELOW_BYTES
    with torch.device(device if small else "meta"):
        model = model_cls(config)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    # names reachable through a tied parameter may be absent from the file
    aliases: dict[str, set[str]] = {}
    by_id: dict[int, list[str]] = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        by_id.setdefault(id(p), []).append(name)
    for names in by_id.values():
        for n in names:
            aliases[n] = set(names)

    path = directory / WEIGHTS_NAME
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    try:
        fh = safe_open(str(path), framework="pt", device=str(device))
    except Exception as err:  # safetensors raises its own error types on corrupt files
        raise WeightLoadError(path, f"cannot read safetensors file ({err})") from None
    with fh:
        found = {k: tuple(fh.get_slice(k).get_shape()) for k in fh.keys() if not part or k in expected}
        missing = sorted(
            k for k in expected if k not in found and not (aliases.get(k, set()) & found.keys())
        )
        unexpected = sorted(k for k in found if k not in expected)
        wrong = sorted(
            f"{k} {list(found[k])} (model expects {list(expected[k])})"
            for k in found
            if k in expected and found[k] != expected[k]
        )
        if missing or unexpected or wrong:
            parts = [
                _listing(kind, names)
                for kind, names in (
                    ("missing", missing),
                    ("unexpected", unexpected),
                    ("wrong shape", wrong),
                )
                if names
            ]
            raise WeightLoadError(
                path, f"does not fit {model_cls.__name__}({config.model_type}): " + "; ".join(parts)
            )
        state = {}
        for k in found:
            t = fh.get_tensor(k)
            state[k] = t.to(dtype) if dtype is not None and t.is_floating_point() else t
    for k in expected:  # fill tied names from their stored alias
        if k not in state:
            state[k] = state[next(iter(aliases[k] & found.keys()))]
    model.load_state_dict(state, strict=True, assign=True)
    if hasattr(model, "tie_weights"):
        model.tie_weights()  # assign=True replaced the shared Parameter objects
    if any(b.is_meta for b in model.buffers()):
        # non-persistent buffers are not in the file: build for real and copy instead
        with torch.device(device):
            real = model_cls(config)
        real.load_state_dict(model.state_dict(), strict=True)
        model = real.to(dtype) if dtype is not None else real
    return model


def load_model(
    path: str | os.PathLike,
    kind: type | None = None,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | None = None,
) -> nn.Module:
    """A saved model ready for use, in eval mode: the one loader behind genet5.load_model,
    `genet5 predict` / `plot` / `lm` and `--init`. `path`: a directory written by
    save_pretrained (or `genet5 train` / `lm pretrain`), or a bundled model's name. `kind`: the
    class wanted (None: whatever the directory holds); a class that is part of a bigger model
    loads from it (GeneT5PerBase from a full GeneT5). Every problem is one WeightLoadError naming
    the path; a class may say what it is for the messages (`kind.description`)."""
    path = resolve_model_path(path)
    if not path.is_dir():
        raise WeightLoadError(path, "no such model directory" if not path.exists()
                              else "not a directory (a model is a directory written by save_pretrained)")
    if not (path / CONFIG_NAME).is_file():
        raise WeightLoadError(path, "not a model directory (no config.json); give a directory written by save_pretrained, "
                                    "genet5 train or genet5 lm pretrain")
    if kind is not None:
        config = load_model_config(path)  # WeightLoadError on bad JSON / unknown model_type
        if model_class_for(config) is not kind and getattr(kind, "config_from", lambda _: None)(config) is None:
            what = getattr(kind, "description", kind.__name__)
            raise WeightLoadError(path, f"not a {what} (model_type {config.model_type!r})")
    try:
        model = from_pretrained(kind, path, device=device, dtype=dtype) if kind else from_pretrained(path, device=device, dtype=dtype)
    except FileNotFoundError as err:
        raise WeightLoadError(path, f"no weights file ({Path(err.filename).name})") from None
    return model.eval()
