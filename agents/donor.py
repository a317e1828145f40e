"""Heuristic agents for the donor game (:class:`~agora.envs.games.donor.DonorGame`).

All of them only donate (action index = grid units given); none punishes or refuses.
Amounts are ``fraction`` of the agent's own resources, rounded to the nearest grid step
and capped at what it may give now.
"""

from __future__ import annotations

import math
from typing import Any

from agora.agents.base import Agent, register_agent
from agora.envs import ConfigError, Observation
from agora.envs.core import is_real
from agora.envs.games.donor import DONATE, DonorEvent, DonorGame, DonorView


def _unit_interval(name: str, value: Any) -> float:
    if not (is_real(value) and 0.0 <= value <= 1.0):
        raise ConfigError(f"parameter {name}={value!r} must be a number in [0, 1]")
    return float(value)


def give(view: DonorView, fraction: float) -> int:
    """Grid units for giving ``fraction`` of one's resources (nearest step, capped).

    Example:
        >>> from agora.envs.games.donor import DonorView
        >>> v = DonorView(1, 12, True, 0, 6, 7.0, 10.0, (), 7, 1)
        >>> give(v, 0.5), give(v, 1.0), give(v, 0.0)
        (4, 7, 0)
    """
    units = math.floor(fraction * view.my_resources * view.granularity + 0.5)
    return max(0, min(units, view.affordable))


def cooperated(event: DonorEvent, threshold: float) -> bool:
    """Whether a traced action counts as giving: a donation of at least ``threshold``."""
    return event.kind == DONATE and event.fraction >= threshold - 1e-12


def good_standing(trace: tuple[DonorEvent, ...], threshold: float) -> bool:
    """Sugden's standing of the trace's owner (the donor of ``trace[0]``).

    An agent is in good standing unless its last action withheld help from a recipient in
    good standing; helping always earns good standing, and withholding from someone in bad
    standing keeps it. The standing of the deepest link's recipient is unknown and taken
    as good, so is that of an agent with no trace.

    Example:
        >>> from agora.envs.games.donor import DonorEvent
        >>> gave = DonorEvent(2, 1, 2, "donate", 5.0, 0.5, 10.0)
        >>> kept = DonorEvent(1, 2, 3, "donate", 0.0, 0.0, 0.0)
        >>> good_standing((kept,), 0.25), good_standing((gave, kept), 0.25)
        (False, True)
    """
    standing = True  # of the recipient of the deepest link
    for event in reversed(trace):  # the chain: each link's recipient is the next one's donor
        standing = cooperated(event, threshold) or not standing
    return standing


class _DonorAgent(Agent):
    games = (DonorGame,)


@register_agent("donor_defector")
class DonorDefector(_DonorAgent):
    """Never gives (the subgame-perfect equilibrium strategy)."""

    def act(self, obs: Observation[DonorView]) -> int:
        return 0


@register_agent("donor_cooperator")
class DonorCooperator(_DonorAgent):
    """Gives ``fraction`` of its resources to everyone (1.0: full cooperation)."""

    def __init__(self, fraction: float = 1.0) -> None:
        super().__init__()
        self.fraction = _unit_interval("fraction", fraction)

    def act(self, obs: Observation[DonorView]) -> int:
        return give(obs.view, self.fraction)


@register_agent("donor_image_scoring")
class DonorImageScoring(_DonorAgent):
    """Image scoring (Nowak & Sigmund 1998): gives ``fraction`` if the recipient's last
    action gave at least ``threshold`` of its resources (or it has no record), else 0."""

    def __init__(self, fraction: float = 0.5, threshold: float = 0.25) -> None:
        super().__init__()
        self.fraction = _unit_interval("fraction", fraction)
        self.threshold = _unit_interval("threshold", threshold)

    def act(self, obs: Observation[DonorView]) -> int:
        trace = obs.view.recipient_trace
        if trace and not cooperated(trace[0], self.threshold):
            return 0
        return give(obs.view, self.fraction)


@register_agent("donor_standing")
class DonorStanding(_DonorAgent):
    """Standing (Sugden 1986): gives ``fraction`` to recipients in good standing, judged
    along the whole trace (see :func:`good_standing`), else 0."""

    def __init__(self, fraction: float = 0.5, threshold: float = 0.25) -> None:
        super().__init__()
        self.fraction = _unit_interval("fraction", fraction)
        self.threshold = _unit_interval("threshold", threshold)

    def act(self, obs: Observation[DonorView]) -> int:
        if good_standing(obs.view.recipient_trace, self.threshold):
            return give(obs.view, self.fraction)
        return 0


@register_agent("donor_random")
class DonorRandom(_DonorAgent):
    """Gives a uniformly random affordable amount (never punishes or refuses)."""

    def act(self, obs: Observation[DonorView]) -> int:
        return int(self.rng.integers(obs.view.affordable + 1))
