"""The observation formats of a game's Gymnasium view, one for each RL library's taste.

* ``"dict"`` (the default): ``{"observation": float32 features, "action_mask": int8 0/1}``,
  PettingZoo's keys (SB3's ``MultiInputPolicy``).
* ``"flat"``: one float32 ``Box``, the features **followed by the action mask** as 0/1
  (SB3's ``MlpPolicy``, DQN). The mask is appended so that a policy can see which actions
  are legal; MaskablePPO still takes it from ``env.action_masks()``.
* ``"rllib"``: ``{"observations": features, "action_mask": float32 0/1}``, the keys RLlib's
  action-masking module reads (float, as it takes the mask's logarithm).

Example:
    >>> import numpy as np
    >>> obs = {"observation": np.array([0.5], np.float32),
    ...        "action_mask": np.array([1, 0], np.int8)}
    >>> format_observation(obs, "flat").tolist()
    [0.5, 1.0, 0.0]
    >>> sorted(format_observation(obs, "rllib"))
    ['action_mask', 'observations']
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from agora.envs.errors import ConfigError

OBSERVATION_FORMATS = ("dict", "flat", "rllib")


def check_format(observation_format: Any) -> str:
    """The format, or a :class:`ConfigError` naming the known ones."""
    if observation_format not in OBSERVATION_FORMATS:
        raise ConfigError(f"observation_format={observation_format!r}; use one of "
                          f"{list(OBSERVATION_FORMATS)}")
    return str(observation_format)


def format_space(space: spaces.Dict, observation_format: str) -> spaces.Space[Any]:
    """The observation space of a format, from the ``"dict"`` format's space."""
    features, mask = space["observation"], space["action_mask"]
    assert isinstance(features, spaces.Box) and isinstance(mask, spaces.Box)
    if observation_format == "dict":
        return space
    if observation_format == "rllib":
        return spaces.Dict({"observations": features,
                            "action_mask": spaces.Box(0.0, 1.0, mask.shape, np.float32)})
    low = np.concatenate([features.low.ravel(), np.zeros(mask.shape, np.float32)])
    high = np.concatenate([features.high.ravel(), np.ones(mask.shape, np.float32)])
    return spaces.Box(low, high, low.shape, np.float32)


def format_observation(obs: dict[str, np.ndarray], observation_format: str) -> Any:
    """A ``"dict"`` observation (arrays the caller owns) in another format."""
    if observation_format == "dict":
        return obs
    if observation_format == "rllib":
        return {"observations": obs["observation"],
                "action_mask": obs["action_mask"].astype(np.float32)}
    return np.concatenate([obs["observation"].ravel(),
                           obs["action_mask"].astype(np.float32)])
