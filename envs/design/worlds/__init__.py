"""The declared models, one module each; every module lists its classes in ``MODELS``.

Example:
    >>> from agora.envs.design.worlds import model_class, model_keys
    >>> all(model_class(k).key == k for k in model_keys())
    True
"""

from __future__ import annotations

import importlib
import pkgutil

from agora.envs.design.model import Model
from agora.envs.errors import UnknownIdError

_MODELS: dict[str, type[Model]] = {}


def _discover() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for cls in getattr(module, "MODELS", ()):
            _MODELS[cls.key] = cls


def model_keys() -> list[str]:
    """The keys of every declared model, sorted."""
    if not _MODELS:
        _discover()
    return sorted(_MODELS)


def model_class(key: str) -> type[Model]:
    """The model class of ``key``, or :class:`UnknownIdError` listing the keys."""
    if not _MODELS:
        _discover()
    try:
        return _MODELS[key]
    except KeyError:
        raise UnknownIdError(f"unknown model {key!r}; declared: {', '.join(sorted(_MODELS))}"
                             ) from None
