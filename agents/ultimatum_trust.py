"""Agents for the ultimatum, dictator and trust games.

Ultimatum agents play either seat (roles may alternate): each has a proposer rule and a
responder rule. In the dictator game the recipient's only legal answer is accept, which
every responder rule respects. Shares and thresholds are fractions of the pie (or of the
amount held, in the trust game) and are validated with :class:`ConfigError`.
"""

from __future__ import annotations

import math
from typing import Any

from agora.agents.base import Agent, register_agent
from agora.envs import ConfigError, Observation
from agora.envs.core import is_real
from agora.envs.games.trust import TrustGame
from agora.envs.games.ultimatum import ACCEPT, REJECT, UltimatumGame


def _fraction(name: str, value: float) -> float:
    if not (is_real(value) and 0.0 <= value <= 1.0):
        raise ConfigError(f"parameter {name}={value!r} must be a number in [0, 1]")
    return float(value)


def _half_up(x: float) -> int:
    """Round half up (``round`` rounds 2.5 to 2), so shares map to units predictably."""
    return math.floor(x + 0.5 + 1e-9)


# ----- ultimatum and dictator --------------------------------------------------------
class _UltimatumAgent(Agent):
    """Dispatches to :meth:`offer` (units to give) or :meth:`accepts` (a yes/no)."""

    games = (UltimatumGame,)

    def act(self, obs: Observation[Any]) -> int:
        v = obs.view
        if v.proposing:
            return self.offer(v.granularity, v.dictator)
        if not obs.action_mask[REJECT]:  # the dictator's recipient can only accept
            return ACCEPT
        return ACCEPT if self.accepts(v.offer_to_me, v.granularity) else REJECT

    def offer(self, granularity: int, dictator: bool) -> int:
        raise NotImplementedError

    def accepts(self, offer: int, granularity: int) -> bool:
        raise NotImplementedError


@register_agent("ultimatum_spe")
class UltimatumSPE(_UltimatumAgent):
    """Subgame-perfect play: offer the smallest positive unit (0 as dictator), accept any
    positive offer."""

    def offer(self, granularity: int, dictator: bool) -> int:
        return 0 if dictator else 1

    def accepts(self, offer: int, granularity: int) -> bool:
        return offer >= 1


class _ThresholdResponder(_UltimatumAgent):
    """Accepts an offer worth at least ``threshold`` of the pie."""

    def __init__(self, threshold: float) -> None:
        super().__init__()
        self.threshold = _fraction("threshold", threshold)

    def accepts(self, offer: int, granularity: int) -> bool:
        return offer >= self.threshold * granularity - 1e-9


@register_agent("ultimatum_fair")
class UltimatumFair(_ThresholdResponder):
    """Offers half the pie; accepts offers of at least ``threshold`` of it.

    The default threshold 0.3 is a human-like responder: in laboratory ultimatum games
    offers below 20-30% of the pie are rejected often (Camerer 2003, ch. 2).
    """

    def __init__(self, threshold: float = 0.3) -> None:
        super().__init__(threshold)

    def offer(self, granularity: int, dictator: bool) -> int:
        return _half_up(granularity / 2)


@register_agent("ultimatum_threshold")
class UltimatumThreshold(_ThresholdResponder):
    """Accepts offers of at least ``threshold`` of the pie; as proposer offers exactly the
    smallest amount it would accept itself (``ceil(threshold * granularity)``)."""

    def __init__(self, threshold: float = 0.2) -> None:
        super().__init__(threshold)

    def offer(self, granularity: int, dictator: bool) -> int:
        return math.ceil(self.threshold * granularity - 1e-9)


@register_agent("dictator_fixed")
class DictatorFixed(_UltimatumAgent):
    """Gives ``share`` of the pie (rounded half up to a unit); accepts every offer.

    The default 0.3 is close to the mean gift in laboratory dictator games (about 28%,
    Engel 2011, Experimental Economics 14(4)).
    """

    def __init__(self, share: float = 0.3) -> None:
        super().__init__()
        self.share = _fraction("share", share)

    def offer(self, granularity: int, dictator: bool) -> int:
        return _half_up(self.share * granularity)

    def accepts(self, offer: int, granularity: int) -> bool:
        return True


# ----- trust -------------------------------------------------------------------------
class _TrustAgent(Agent):
    games = (TrustGame,)


@register_agent("trust_spe")
class TrustSPE(_TrustAgent):
    """Subgame-perfect play of selfish players: invest nothing, return nothing."""

    def act(self, obs: Observation[Any]) -> int:
        return 0


@register_agent("trust_reciprocator")
class TrustReciprocator(_TrustAgent):
    """Invests ``fraction`` of the endowment; as trustee returns ``fraction`` of what it
    received (``m x``), rounded half up and capped at what it may return."""

    def __init__(self, fraction: float = 0.5) -> None:
        super().__init__()
        self.fraction = _fraction("fraction", fraction)

    def act(self, obs: Observation[Any]) -> int:
        v = obs.view
        if v.investing:
            return _half_up(self.fraction * v.endowment)
        return min(v.max_return, _half_up(self.fraction * v.multiplier * v.sent))
