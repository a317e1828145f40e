"""Build (and share) wrapped models from plain data, so every agent of a worker that names
the same model shares one cache, one budget and one concurrency limit."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from agora.agents.llm.model import LanguageModel, LiteLLMModel
from agora.agents.llm.wrappers import Budgeted, Cached, Limited, Retrying

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


_SHARED: dict[tuple[ModelSpec, str | None], LanguageModel] = {}
_LOCK = threading.Lock()
_RUN_GATE: str | None = None


def set_run_gate(name: str | None) -> None:
    """Name of the run-wide call gate (a Ray actor) that models built from now on use."""
    global _RUN_GATE
    _RUN_GATE = name


def build_model(spec: ModelSpec) -> LanguageModel:
    """``Cached(Retrying(Limited([RunLimited](Budgeted(LiteLLMModel)))))``, one per spec
    (and run gate) per process."""
    with _LOCK:
        key = (spec, _RUN_GATE)
        model = _SHARED.get(key)
        if model is None:
            model = LiteLLMModel(spec.model, spec.api_base, spec.api_key_env, spec.structured)
            model = Budgeted(model, spec.max_calls, spec.max_tokens_budget)
            if _RUN_GATE is not None:
                from agora.agents.llm.gate import RunLimited

                model = RunLimited(model, _RUN_GATE)
            model = Limited(model, spec.max_concurrency)
            model = Retrying(model, spec.max_retries)
            if spec.cache != "off":
                model = Cached(model, spec.cache_dir or DEFAULT_CACHE, spec.cache)
            _SHARED[key] = model
        return model
