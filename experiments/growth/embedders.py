"""Label embeddings: the :class:`Embedder` protocol and its litellm implementation.

An embedder turns a list of labels into one row vector each. The default config has
none (labels are merged by normal form only, and surprise is scored by graph distance).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from agora.agents.llm.model import ModelError, api_key


class Embedder(Protocol):
    """Anything with ``embed(texts) -> array of shape (len(texts), dim)``."""

    def embed(self, texts: list[str]) -> np.ndarray:
        """One embedding row per text, in order."""
        ...


class LiteLLMEmbedder:
    """Embeddings from any litellm embedding model (``openai/text-embedding-3-small``,
    an OpenAI-compatible server through ``api_base``...).

    Args:
        model: litellm embedding model id.
        api_base: base URL of an OpenAI-compatible server.
        api_key_env: environment variable holding the key (the key is never stored).
        timeout: seconds per call.
    """

    def __init__(self, model: str, api_base: str | None = None,
                 api_key_env: str | None = None, timeout: float = 60.0) -> None:
        self.model = model
        self.api_base = api_base
        self.api_key_env = api_key_env
        self.timeout = timeout

    def _kwargs(self, texts: list[str]) -> dict[str, Any]:
        kw: dict[str, Any] = {"model": self.model, "input": texts, "timeout": self.timeout}
        if self.api_base:
            kw["api_base"] = self.api_base
        if self.api_key_env:
            kw["api_key"] = api_key(self.api_key_env)
        return kw

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts`` in one call; provider failures become :class:`ModelError`."""
        if not texts:
            return np.zeros((0, 0))
        import litellm

        try:
            response = litellm.embedding(**self._kwargs(texts))
        except Exception as exc:
            raise ModelError("other", f"{type(exc).__name__}: {str(exc)[:300]}", True) from exc
        rows = [d["embedding"] if isinstance(d, dict) else d.embedding for d in response.data]
        return np.asarray(rows, dtype=float)
