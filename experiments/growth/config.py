"""The config of a graph-growth run: YAML in, validated, errors naming key and value.

Example YAML::

    name: spider-silk
    seed_question: How does spider silk get its strength?
    model: local/gemma-3-270m        # or a mapping of ModelSpec fields
    iterations: 20
    strategy: frontier               # frontier | novelty | leap | bridge
    temperature: 0.0
    max_tokens: 200
    embedding: {model: openai/text-embedding-3-small, threshold: 0.9}   # optional
    min_component: 3                 # optional: saved graphs drop smaller components
    grounded: true                   # drop triples whose concepts are not in the answer
    seed: 0
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agora.agents.llm.factory import ModelSpec
from agora.experiments.config import STRICT, Model, read_yaml, validate_model

Strategy = Literal["frontier", "novelty", "leap", "bridge"]


class EmbeddingOptions(BaseModel):
    """An embedding model (any litellm id) for merging labels and scoring surprise."""

    model_config = STRICT
    model: str = Field(min_length=1)
    threshold: float = Field(default=0.9, gt=0, le=1)
    """Nodes whose label embeddings have cosine >= threshold are merged."""
    surprise_cosine: float = Field(default=0.3, ge=-1, le=1)
    """A new edge whose endpoints have cosine below this is surprising."""
    api_base: str | None = None
    api_key_env: str | None = None


class GrowthConfig(BaseModel):
    """A validated graph-growth config (see the module docstring for the YAML form)."""

    model_config = ConfigDict(**STRICT, arbitrary_types_allowed=True)
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    seed_question: str = Field(min_length=1)
    model: Model = Field(default_factory=lambda: ModelSpec("local/gemma-3-270m"))
    iterations: int = Field(ge=1)
    strategy: Strategy = "frontier"
    temperature: float = Field(default=0.0, ge=0, le=2)
    max_tokens: int = Field(default=200, ge=16)
    max_triples: int = Field(default=6, ge=1, le=50)
    timeout: float = Field(default=120.0, gt=0)
    grounded: bool = True
    """Keep only triples whose concepts occur in the answer (others are counted as
    rejected); set false for models that paraphrase well."""
    embedding: EmbeddingOptions | None = None
    min_component: int | None = Field(default=None, ge=2)
    surprise_distance: int = Field(default=4, ge=2)
    seed: int = Field(default=0, ge=0)

    @field_validator("model", mode="before")
    @classmethod
    def _model_id(cls, value: Any) -> Any:
        return {"model": value} if isinstance(value, str) else value

    def fingerprint(self) -> str:
        """Hash of what decides the graph (not the iteration count, cache or timeouts)."""
        data = self.model_dump(exclude={"iterations", "timeout", "min_component"})
        for key in ("max_retries", "max_concurrency", "cache", "cache_dir"):
            data["model"].pop(key)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def parse_growth_config(data: Mapping[str, Any]) -> GrowthConfig:
    """Validate a config mapping; errors name each bad key and value.

    Example:
        >>> parse_growth_config({"name": "g", "seed_question": "Why?", "iterations": 2,
        ...                      "strategy": "random"})
        Traceback (most recent call last):
        ...
        agora.envs.errors.ConfigError: invalid growth config: strategy: Input should be ...
    """
    return validate_model(GrowthConfig, data, "invalid growth config")


def load_growth_config(path: str | Path) -> GrowthConfig:
    """Read and validate a YAML config file."""
    return parse_growth_config(read_yaml(path))
