"""Trained policies as agents: ``{name: policy, checkpoint: PATH}`` in any config.

A Stable-Baselines3 checkpoint (the ``.zip`` that ``model.save`` writes) plays the tensor
face greedily (``deterministic=True``: it draws nothing outside the agent's seed), in the
observation format it was trained on (read off its observation space; see
:mod:`agora.envs.obs_formats`). MaskablePPO checkpoints get the legal-action mask. The
checkpoint is hashed (SHA-256) when the agent is built; ``sha256=`` pins the expected
hash, and ``agora run`` records every checkpoint's hash in the run manifest. Loaded models
are cached per process (by path, hash and algorithm), as a run builds one agent per
episode.

``algorithm: rllib`` plays an RLlib checkpoint (the directory ``agora train``'s rllib
backend writes, ``seed_S/checkpoint``): the RL module of the seat the agent sits in
(``player_i``; a shared policy's one module otherwise; ``module=`` names one), greedily on
the observation format it was trained on (read off the module's observation space:
``rllib``, the masked dict of :class:`~agora.agents._rllib_masking.MaskedPPOTorchModule`,
or ``flat``), illegal actions masked. A directory's hash covers every file of its modules.
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
              "DQN": "stable_baselines3", "MaskablePPO": "sb3_contrib", "rllib": "ray.rllib"}
"""The algorithms a checkpoint may come from (SB3's, and RLlib's modules), with packages."""
RLLIB_MODULES = ("learner_group", "learner", "rl_module")
"""Where an RLlib algorithm checkpoint keeps its RL modules, one folder each."""


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


def path_sha256(path: str | Path) -> str:
    """:func:`file_sha256` of a file; of a directory, the SHA-256 of every file's relative
    path and digest, in order (an RLlib checkpoint)."""
    p = Path(path)
    if p.is_file():
        return file_sha256(p)
    digest = hashlib.sha256()
    for f in sorted(x for x in p.rglob("*") if x.is_file()):
        digest.update(f"{f.relative_to(p).as_posix()}:{file_sha256(f)}\n".encode())
    return digest.hexdigest()


@functools.lru_cache(maxsize=16)
def _rllib_module(path: str, sha256: str, module: str) -> Any:
    from ray.rllib.core.rl_module.rl_module import RLModule

    return RLModule.from_checkpoint(str(Path(path, *RLLIB_MODULES, module)))


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
    """A trained policy loaded from a checkpoint (tensor face): Stable-Baselines3's, or an
    RLlib module (``algorithm="rllib"``, see the module doc)."""

    face = Face.TENSOR

    def __init__(self, checkpoint: str, algorithm: str = "PPO",
                 sha256: str | None = None, module: str | None = None) -> None:
        super().__init__()
        if algorithm not in ALGORITHMS:
            raise ConfigError(f"parameter algorithm={algorithm!r}; use one of "
                              f"{sorted(ALGORITHMS)}")
        path = Path(checkpoint)
        rllib = algorithm == "rllib"
        if not (path.joinpath(*RLLIB_MODULES).is_dir() if rllib else path.is_file()):
            raise ConfigError(f"parameter checkpoint={checkpoint!r} is not " + (
                "an RLlib checkpoint directory (no learner_group/learner/rl_module)" if rllib
                else "a file"))
        if module is not None and not rllib:
            raise ConfigError(f"parameter module={module!r} is for algorithm='rllib'")
        self.sha256 = path_sha256(path)
        if sha256 is not None and sha256 != self.sha256:
            raise ConfigError(f"parameter sha256={sha256!r}: checkpoint {checkpoint!r} has "
                              f"sha256 {self.sha256}")
        self.checkpoint, self.algorithm = str(path.resolve()), algorithm
        self.module_name = module
        self.model: Any = None  # the SB3 model, or the seat's RLlib module (set at reset)
        if rllib:
            self.modules = sorted(d.name for d in path.joinpath(*RLLIB_MODULES).iterdir()
                                  if d.is_dir())
            if module is not None and module not in self.modules:
                raise ConfigError(f"parameter module={module!r}: the checkpoint has modules "
                                  f"{self.modules}")
            self.format, self._masked = "flat", False  # set at reset; _rllib_act masks
        else:
            self.model = _load(self.checkpoint, self.sha256, algorithm)
            self.format = _format_of(self.model.observation_space)
            self._masked = algorithm == "MaskablePPO"

    def reset(self, seed: int, player: int) -> None:
        super().reset(seed, player)
        if self.algorithm == "rllib":
            name = self.module_name or next(
                (m for m in (f"player_{player}",) if m in self.modules),
                self.modules[0] if len(self.modules) == 1 else None)
            if name is None:
                raise ConfigError(f"checkpoint {self.checkpoint!r} has no module for "
                                  f"player_{player} (modules {self.modules}); give module=")
            self.model = _rllib_module(self.checkpoint, self.sha256, name)
            self.format = _format_of(self.model.observation_space)

    def setup(self, game: Game[Any, Any, Any]) -> None:
        """Refuse a game whose action count or observation size differs from training."""
        if self.algorithm == "rllib":
            return  # the module is the seat's, known at reset; forward() checks the size
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
        if self.algorithm == "rllib":
            return self._rllib_act(x, np.asarray(obs["action_mask"]).astype(bool))
        if self._masked:
            action, _ = self.model.predict(x, deterministic=True,
                                           action_masks=obs["action_mask"].astype(bool))
        else:
            action, _ = self.model.predict(x, deterministic=True)
        return int(action)

    def _rllib_act(self, x: Any, mask: np.ndarray) -> int:
        """The greedy legal action of the module's action distribution inputs (logits; a
        masked module has masked them already, the mask here is for the flat format)."""
        import torch

        from agora.agents._rllib_masking import batch_of_one

        with torch.no_grad():
            out = self.model.forward_inference(batch_of_one(x))
        logits = out["action_dist_inputs"][0].numpy().astype(np.float64)
        if logits.shape != mask.shape:
            raise ConfigError(f"checkpoint {self.checkpoint!r} gives {logits.shape[0]} "
                              f"action logits; this game has {mask.shape[0]} actions")
        return int(np.argmax(np.where(mask, logits, -np.inf)))


def checkpoint_hashes(specs: Any) -> dict[str, str]:
    """``{checkpoint path: sha256}`` of every ``policy`` agent among ``specs`` (for the
    run manifest)."""
    return {str(Path(s.params["checkpoint"]).resolve()): path_sha256(s.params["checkpoint"])
            for s in specs if s.name == "policy" and "checkpoint" in s.params}
