"""RLlib's PPO torch module with real action masking (the ``rl`` extra).

:class:`MaskedPPOTorchModule` is the module ``agora train``'s rllib backend trains and the
``policy`` agent plays. Its observation space is the ``"rllib"`` format of
:mod:`agora.envs.obs_formats`, ``Dict({"action_mask": Box(0, 1, (n,)), "observations":
Box(...)})``: the networks (built by RLlib's PPO catalog) see only ``"observations"``, and
every forward pass (exploration, inference, training) sets the logits of the actions the
mask forbids to the dtype's most negative number, so they are drawn with probability 0 and
are never the greedy action. The value function reads ``"observations"`` too.

The module lives in a private file because ``import agora.agents`` imports every public
module of the package, and this one needs ray and torch; checkpoints name it by this path.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module import (
    DefaultPPOTorchRLModule,
)
from ray.rllib.core.columns import Columns

MASK, FEATURES = "action_mask", "observations"
"""The keys of a masked observation (the ``"rllib"`` observation format)."""


def mask_logits(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``logits`` with every entry whose ``mask`` is 0 replaced by the most negative number
    of their dtype (finite, so a row with no legal action stays a valid distribution).

    Example:
        >>> out = mask_logits(torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([[1.0, 1.0, 0.0]]))
        >>> int(out.argmax()), float(torch.softmax(out, -1)[0, 2])
        (1, 0.0)
    """
    floor = torch.finfo(logits.dtype).min
    return torch.where(mask > 0, logits, torch.full_like(logits, floor))


def batch_of_one(obs: Any) -> dict[str, Any]:
    """One observation, an array or a masked dict of arrays, as the input batch of a
    module's ``forward_inference`` (float32 tensors the batch owns).

    Example:
        >>> import numpy as np
        >>> batch = batch_of_one({"observations": np.zeros(3), "action_mask": np.ones(2)})
        >>> batch["obs"]["action_mask"].shape
        torch.Size([1, 2])
    """

    def tensor(v: Any) -> torch.Tensor:
        return torch.as_tensor(np.array(v, dtype=np.float32)[None])

    return {Columns.OBS: ({k: tensor(v) for k, v in obs.items()} if isinstance(obs, dict)
                          else tensor(obs))}


def split_observation(batch: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The mask of a batch whose observations are masked dicts, and a shallow copy of the
    batch whose observations are the features alone (the input batch is left unchanged)."""
    obs = batch[Columns.OBS]
    if not isinstance(obs, dict) or MASK not in obs or FEATURES not in obs:
        raise ValueError(f"MaskedPPOTorchModule wants observations {{{MASK!r}, "
                         f"{FEATURES!r}}}; got {type(obs).__name__} "
                         f"{sorted(obs) if isinstance(obs, dict) else ''}")
    return obs[MASK], {**batch, Columns.OBS: obs[FEATURES]}


class MaskedPPOTorchModule(DefaultPPOTorchRLModule):  # type: ignore[misc]
    """RLlib's default PPO torch module, its networks built for the features alone and its
    action logits masked in every forward pass (see the module doc)."""

    def __init__(self, *, observation_space: gym.Space | None = None,
                 **kwargs: Any) -> None:
        if not (isinstance(observation_space, gym.spaces.Dict)
                and set(observation_space.spaces) == {MASK, FEATURES}):
            raise ValueError(f"MaskedPPOTorchModule wants a Dict observation space with "
                             f"keys {MASK!r} and {FEATURES!r}; got {observation_space}")
        super().__init__(observation_space=observation_space[FEATURES], **kwargs)
        # the catalog built the networks for the features; the module (and the checkpoint,
        # which records this space) keeps the masked space it is played on
        self.observation_space = observation_space

    def _masked(self, forward: Any, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        mask, inner = split_observation(batch)
        out = forward(inner, **kwargs)
        out[Columns.ACTION_DIST_INPUTS] = mask_logits(out[Columns.ACTION_DIST_INPUTS], mask)
        return dict(out)

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self._masked(super()._forward, batch, **kwargs)

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self._masked(super()._forward_train, batch, **kwargs)

    def compute_values(self, batch: dict[str, Any], embeddings: Any = None) -> Any:
        if isinstance(batch[Columns.OBS], dict):
            batch = split_observation(batch)[1]
        return super().compute_values(batch, embeddings)
