"""Build (and share) wrapped models from plain data, so every agent of a worker that names
the same model shares one cache, one budget and one concurrency limit."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from agora.agents.llm.model import STRUCTURED, LanguageModel, LiteLLMModel
from agora.agents.llm.wrappers import Budgeted, Cached, Limited, Retrying
from agora.envs.errors import ConfigError

DEFAULT_CACHE = Path(os.environ.get("AGORA_LLM_CACHE",
                                    Path.home() / ".cache" / "agora" / "llm"))


@dataclass(frozen=True)
class ModelSpec:
    """Everything that builds one wrapped model (plain data; hashable)."""

    model: str
    api_base: str | None = None
    api_key_env: str | None = None
    structured: str = "auto"
    max_retries: int = 4
    max_concurrency: int = 8
    max_calls: int | None = None
    max_tokens_budget: int | None = None
    cache: str = "auto"
    cache_dir: str | None = None

    def __post_init__(self) -> None:
        """Every field checked when the spec is made, so a bad value fails the config and
        not the first model call of every episode.

        Raises:
            ConfigError: naming the field and its value.
        """
        _check(isinstance(self.model, str) and bool(self.model), "model", self.model,
               "a litellm model id")
        for name in ("api_base", "api_key_env", "cache_dir"):
            value = getattr(self, name)
            _check(value is None or isinstance(value, str), name, value, "a string or null")
        _check(self.structured in STRUCTURED, "structured", self.structured,
               f"one of {STRUCTURED}")
        _check(self.cache in CACHE_MODES, "cache", self.cache, f"one of {CACHE_MODES}")
        _check(_is_int(self.max_retries) and self.max_retries >= 0, "max_retries",
               self.max_retries, "an int >= 0")
        _check(_is_int(self.max_concurrency) and self.max_concurrency >= 1,
               "max_concurrency", self.max_concurrency, "an int >= 1")
        for name in ("max_calls", "max_tokens_budget"):
            value = getattr(self, name)
            _check(value is None or (_is_int(value) and value >= 1), name, value,
                   "an int >= 1 or null")


    @classmethod
    def parse(cls, value: Any) -> ModelSpec:
        """The one shape of a model in every config: a bare model id, or a mapping of
        these fields (the ``llm`` agent takes the same keys flat among its own).

        Example:
            >>> ModelSpec.parse("openai/gpt-4o-mini").max_retries
            4
            >>> ModelSpec.parse({"model": "local/gemma-3-270m", "cache": "off"}).cache
            'off'
        """
        if isinstance(value, ModelSpec):
            return value
        if isinstance(value, str):
            return cls(model=value)
        if not isinstance(value, Mapping):
            raise ConfigError(f"a model is a model id or a mapping of {list(_FIELDS)}, "
                              f"got {value!r}")
        unknown = sorted(set(value) - set(_FIELDS))
        if unknown:
            raise ConfigError(f"unknown model field(s) {unknown}; known: {list(_FIELDS)}")
        if "model" not in value:
            raise ConfigError("a model mapping needs the key 'model' (a litellm model id)")
        return cls(**value)


_FIELDS = tuple(f.name for f in fields(ModelSpec))

CACHE_MODES = ("auto", "always", "off")
"""Values of :attr:`ModelSpec.cache`."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check(ok: bool, name: str, value: Any, want: str) -> None:
    if not ok:
        raise ConfigError(f"parameter {name}={value!r} is invalid: want {want}")


_SHARED: dict[tuple[ModelSpec, str | None], LanguageModel] = {}
_LOCK = threading.Lock()
_RUN_GATE: str | None = None


def set_run_gate(name: str | None) -> None:
    """Name of the run-wide call gate (a Ray actor) that models built from now on use."""
    global _RUN_GATE
    _RUN_GATE = name


def build_model(spec: ModelSpec) -> LanguageModel:
    """``Cached(Retrying(Limited([RunLimited](Budgeted(LiteLLMModel)))))``, one per spec
    (and run gate) per process. Under a run gate a budget is the gate's
    (:class:`~agora.agents.llm.gate.RunBudgeted`): one count across every worker."""
    with _LOCK:
        key = (spec, _RUN_GATE)
        model = _SHARED.get(key)
        if model is None:
            model = LiteLLMModel(spec.model, spec.api_base, spec.api_key_env, spec.structured)
            if _RUN_GATE is None:
                model = Budgeted(model, spec.max_calls, spec.max_tokens_budget)
            else:
                from agora.agents.llm.gate import RunBudgeted, RunLimited

                if spec.max_calls is not None or spec.max_tokens_budget is not None:
                    model = RunBudgeted(model, _RUN_GATE, repr(spec), spec.max_calls,
                                        spec.max_tokens_budget)
                model = RunLimited(model, _RUN_GATE)
            model = Limited(model, spec.max_concurrency)
            model = Retrying(model, spec.max_retries)
            if spec.cache != "off":
                model = Cached(model, spec.cache_dir or DEFAULT_CACHE, spec.cache)
            _SHARED[key] = model
        return model
