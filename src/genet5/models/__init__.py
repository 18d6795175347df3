"""Model families (Genos, GeneT5), their configs and presets, weight I/O, parameter counts."""

from genet5.models.configs import (
    GenosConfig,
    ModelConfigError,
    build_model,
    config_from_dict,
    config_to_dict,
    get_preset,
    list_presets,
    register_config,
    register_model,
    register_preset,
)
from genet5.models.params import ParamCounts, count_params, count_params_for_config
from genet5.models.weights import WeightLoadError, from_pretrained, load_model, load_model_config, save_pretrained

__all__ = [
    "Genos",
    "GenosConfig",
    "ModelConfigError",
    "ParamCounts",
    "WeightLoadError",
    "build_model",
    "config_from_dict",
    "config_to_dict",
    "count_params",
    "count_params_for_config",
    "from_pretrained",
    "get_preset",
    "list_presets",
    "load_model",
    "load_model_config",
    "register_config",
    "register_model",
    "register_preset",
    "save_pretrained",
]


def __getattr__(name: str):
    if name == "Genos":  # lazy: keeps `import genet5.models` free of model construction code
        from genet5.models.genos import Genos

        return Genos
    raise AttributeError(name)
