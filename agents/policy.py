"""Trained policies as agents: ``{name: policy, checkpoint: PATH}`` in any config.

A Stable-Baselines3 checkpoint (the ``.zip`` that ``model.save`` writes) plays the tensor
face greedily (``deterministic=True``: it draws nothing outside the agent's seed), in the
observation format it was trained on (read off its observation space; see
:mod:`agora.envs.obs_formats`). MaskablePPO checkpoints get the legal-action mask. The
checkpoint is hashed (SHA-256) when the agent is built; ``sha256=`` pins the expected
hash, and ``agora run`` records every checkpoint's hash in the run manifest. Loaded models
are cached per process (by path, hash and algorithm), as a run builds one agent per
episode.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
from pathlib import Path
from typing import Any

import numpy as np

from agora.agents.base import Agent, Face, register_agent
from agora.envs import ConfigError, Game
from agora.envs.obs_formats import format_observation

ALGORITHMS = {"PPO": "stable_baselines3", "A2C": "stable_baselines3",
              "DQN": "stable_baselines3", "MaskablePPO": "sb3_contrib"}
"""The SB3 algorithms a checkpoint may come from, and the package of each."""


def file_sha256(path: str | Path) -> str:
    """The SHA-256 hex digest of a file (what the run manifest records).

    Example:
        >>> import tempfile, os
        >>> with tempfile.NamedTemporaryFile(delete=False) as f:
        ...     _ = f.write(b"abc")
        >>> file_sha256(f.name)[:16]
        'ba7816bf8f01cfea'
        >>> os.unlink(f.name)
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=16)
def _load(path: str, sha256: str, algorithm: str) -> Any:
    """The model of a checkpoint (``sha256`` keys the cache: a rewritten file reloads)."""
    module = importlib.import_module(ALGORITHMS[algorithm])
    return getattr(module, algorithm).load(path, device="cpu")


def _format_of(space: Any) -> str:
    """The observation format a model was trained on, from its observation space."""
    keys = set(getattr(space, "spaces", {}) or {})
    if keys == {"observation", "action_mask"}:
        return "dict"
    if keys == {"observations", "action_mask"}:
        return "rllib"
    if not keys and len(getattr(space, "shape", ()) or ()) == 1:
        return "flat"
    raise ConfigError(f"the checkpoint's observation space {space} is none of agora's "
                      "formats (dict, flat, rllib)")


@register_agent("policy")
class PolicyAgent(Agent):
    """A trained Stable-Baselines3 policy loaded from a checkpoint (tensor face)."""

    face = Face.TENSOR

    def __init__(self, checkpoint: str, algorithm: str = "PPO",
                 sha256: str | None = None) -> None:
        super().__init__()
        if algorithm not in ALGORITHMS:
            raise ConfigError(f"parameter algorithm={algorithm!r}; use one of "
                              f"{sorted(ALGORITHMS)}")
        path = Path(checkpoint)
        if not path.is_file():
            raise ConfigError(f"parameter checkpoint={checkpoint!r} is not a file")
        self.sha256 = file_sha256(path)
        if sha256 is not None and sha256 != self.sha256:
            raise ConfigError(f"parameter sha256={sha256!r}: checkpoint {checkpoint!r} has "
                              f"sha256 {self.sha256}")
        self.checkpoint, self.algorithm = str(path.resolve()), algorithm
        self.model = _load(self.checkpoint, self.sha256, algorithm)
        self.format = _format_of(self.model.observation_space)
        self._masked = algorithm == "MaskablePPO"

    def setup(self, game: Game[Any, Any, Any]) -> None:
        """Refuse a game whose action count or observation size differs from training."""
        n_actions = getattr(self.model.action_space, "n", None)
        features = int(np.prod(game.observation_shape))
        size = features + game.num_actions if self.format == "flat" else None
        shape = self.model.observation_space
        got = (shape.shape[0] if self.format == "flat"
               else int(np.prod(shape[next(k for k in shape.spaces if k != "action_mask")]
                                .shape)))
        if n_actions != game.num_actions or got != (size or features):
            raise ConfigError(f"checkpoint {self.checkpoint!r} was trained with {n_actions} "
                              f"actions and {got} observation entries; {game.info.name} "
                              f"here has {game.num_actions} and {size or features}")

    def act(self, obs: dict[str, np.ndarray]) -> int:
        x = format_observation({k: np.asarray(v) for k, v in obs.items()}, self.format)
        if self._masked:
            action, _ = self.model.predict(x, deterministic=True,
                                           action_masks=obs["action_mask"].astype(bool))
        else:
            action, _ = self.model.predict(x, deterministic=True)
        return int(action)


def checkpoint_hashes(specs: Any) -> dict[str, str]:
    """``{checkpoint path: sha256}`` of every ``policy`` agent among ``specs`` (for the
    run manifest)."""
    return {str(Path(s.params["checkpoint"]).resolve()): file_sha256(s.params["checkpoint"])
            for s in specs if s.name == "policy" and "checkpoint" in s.params}
