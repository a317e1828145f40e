"""The donor-game heuristics as data: three numbers per strategy.

A :class:`DonorRule` is ``(kind, fraction, threshold)``: it gives ``fraction`` of its own
resources (the agents' :func:`~agora.agents.donor.give`: nearest grid step, capped at what
it may give) when its kind says the recipient deserves it, else nothing:

* ``donor_defector``: never gives (kind ``DEFECT``);
* ``donor_cooperator(fraction)``: always (``COOPERATE``);
* ``donor_image_scoring(fraction, threshold)``: when the recipient's last action gave at
  least ``threshold`` of what it could, or it has no record (``IMAGE``);
* ``donor_standing(fraction, threshold)``: when the recipient is in good standing along
  its whole trace (``STANDING``, :func:`~agora.agents.donor.good_standing`).

:func:`~agora.envs.games.donor_vec.donations` (the rules' arithmetic lives beside the
batched rules, so that the vector env's fixed seats play them; re-exported here) decides for
every donor of a round at once, over the batched view of
:class:`~agora.envs.games.donor_vec.DonorVec`, with the agents' arithmetic to the last
rounding, so a population of these heuristics plays as array operations
(:mod:`agora.experiments.population.donor_kernel`) with the payoffs of the episode loop.

Example:
    >>> donor_rule_of({"name": "donor_standing", "threshold": 0.5}).row().tolist()
    [3.0, 0.5, 0.5]
    >>> donor_rule_of("donor_random") is None
    True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from agora.agents.base import AgentSpec, table_of
from agora.agents.donor import _unit_interval
from agora.envs import ConfigError
from agora.envs.games.donor_vec import (
    COOPERATE,
    DEFECT,
    IMAGE,
    KINDS,
    STANDING,
    donations,
)

__all__ = ["COOPERATE", "DEFECT", "IMAGE", "STANDING", "DonorRule", "donations",
           "donor_rule_of"]



@dataclass(frozen=True)
class DonorRule:
    """A donor heuristic as data (see the module docstring).

    Attributes:
        name: a label (the heuristic's name).
        kind: one of ``DEFECT``, ``COOPERATE``, ``IMAGE``, ``STANDING``.
        fraction: share of its own resources it gives.
        threshold: the traced donation fraction that counts as giving.

    Raises:
        ConfigError: an unknown kind or a number outside [0, 1], naming the key.

    Example:
        >>> DonorRule("donor_cooperator", COOPERATE, 1.0, 0.0).row().tolist()
        [1.0, 1.0, 0.0]
    """

    name: str
    kind: int
    fraction: float
    threshold: float

    def __post_init__(self) -> None:
        if self.kind not in KINDS or isinstance(self.kind, bool):
            raise ConfigError(f"parameter kind={self.kind!r} must be one of {KINDS}")
        for key in ("fraction", "threshold"):
            object.__setattr__(self, key, _unit_interval(key, getattr(self, key)))

    def row(self) -> np.ndarray:
        """``[kind, fraction, threshold]`` (float64), one row of a table."""
        return np.array([float(self.kind), self.fraction, self.threshold])


def _defector() -> DonorRule:
    return DonorRule("donor_defector", DEFECT, 0.0, 0.0)


def _cooperator(fraction: float = 1.0) -> DonorRule:
    return DonorRule("donor_cooperator", COOPERATE, fraction, 0.0)


def _image(fraction: float = 0.5, threshold: float = 0.25) -> DonorRule:
    return DonorRule("donor_image_scoring", IMAGE, fraction, threshold)


def _standing(fraction: float = 0.5, threshold: float = 0.25) -> DonorRule:
    return DonorRule("donor_standing", STANDING, fraction, threshold)


_FACTORIES: dict[str, Callable[..., DonorRule]] = {
    "donor_defector": _defector,
    "donor_cooperator": _cooperator,
    "donor_image_scoring": _image,
    "donor_standing": _standing,
}


def donor_rule_of(spec: DonorRule | AgentSpec | str | Mapping[str, Any]) -> DonorRule | None:
    """The rule of a donor-game strategy spec, or None when it has none.

    Accepted: a :class:`DonorRule`, or the spec of one of the four heuristics above (with
    their parameters and defaults). Anything else (``donor_random``, a language model, a
    learner) gives None.

    Raises:
        ConfigError: one of these names with an unknown or invalid parameter.

    Example:
        >>> donor_rule_of({"name": "donor_image_scoring", "fraction": 1.0}).row().tolist()
        [2.0, 1.0, 0.25]
    """
    if isinstance(spec, DonorRule):
        return spec
    return table_of(AgentSpec.parse(spec), _FACTORIES)
