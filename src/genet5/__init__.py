"""genet5: deep-learning gene prediction (GeneT5) and genomic language models (Genos)."""

__version__ = "0.1.0"


def load_model(path, device="cpu", dtype=None):
    """A model saved by `save_pretrained` / `genet5 lm pretrain` / `genet5 train` (config.json +
    model.safetensors), in eval mode: `model = genet5.load_model("runs/genos/model")`; or a
    bundled model by name: `genet5.load_model("genos-tiny-prok")`.

    torch is imported on the first call, so `import genet5` stays fast."""

    import torch

    from genet5.models.weights import load_model as _load

    return _load(path, device=torch.device(device), dtype=dtype)


def __getattr__(name):
    """`genet5.GeneFinder` (predict/finder.py) and `genet5.GenomeFormatError` (what bad input
    raises), imported on first use so that `import genet5` stays light."""
    if name == "GeneFinder":
        from genet5.predict.finder import GeneFinder

        return GeneFinder
    if name == "GenomeFormatError":
        from genet5.genome.models import GenomeFormatError

        return GenomeFormatError
    raise AttributeError(f"module 'genet5' has no attribute {name!r}")
