"""Heuristic agents for the reference games.

Each is a few lines of policy over the game's typed view. Parameters are validated in the
constructor with :class:`~agora.envs.ConfigError` naming the parameter.
"""

from __future__ import annotations

import json
import math
from typing import Any

from agora.agents.base import Agent, Face, TextTurn, register_agent
from agora.envs import ConfigError, Observation
from agora.envs.core import is_real, uniform_legal
from agora.envs.games.bargaining import ACCEPT, REJECT, BargainingGame, spe_keep_units
from agora.envs.games.public_goods import PublicGoodsGame
from agora.envs.games.repeated_matrix import RepeatedMatrixGame


def _fraction(name: str, value: float) -> float:
    if not (is_real(value) and 0.0 <= value <= 1.0):
        raise ConfigError(f"parameter {name}={value!r} must be a number in [0, 1]")
    return float(value)


# ----- any game ---------------------------------------------------------------------
@register_agent("random")
class RandomAgent(Agent):
    """Uniformly random legal action (any game)."""

    def act(self, obs: Observation[Any]) -> int:
        return uniform_legal(self.rng, obs)


@register_agent("random_text")
class RandomTextAgent(Agent):
    """Random valid answer read off the action's JSON schema (any game, text face).

    A baseline for the text path: it sees only the prose turn and the schema, as a
    language model would, and answers with JSON.
    """

    face = Face.TEXT

    def act(self, obs: TextTurn) -> str:
        if obs.fallback is not None:
            return obs.fallback(self.rng)
        return random_answer(obs.schema, self.rng)


def random_answer(schema: Any, rng: Any) -> str:
    """A uniformly random answer that the schema allows (required fields only)."""
    answer: dict[str, Any] = {}
    for key in schema.get("required", ()):  # optional fields (messages) are left out
        prop = schema["properties"][key]
        if "enum" in prop:
            answer[key] = prop["enum"][int(rng.integers(len(prop["enum"])))]
        elif prop.get("type") == "integer":
            answer[key] = int(rng.integers(prop["minimum"], prop["maximum"] + 1))
        elif prop.get("type") == "number":
            answer[key] = float(rng.uniform(prop["minimum"], prop["maximum"]))
        else:
            answer[key] = ""
    return json.dumps(answer)


# ----- repeated 2x2 games (action 0 = cooperate) -------------------------------------
class _MatrixAgent(Agent):
    games = (RepeatedMatrixGame,)


@register_agent("always_cooperate")
class AlwaysCooperate(_MatrixAgent):
    """Always plays action 0 (cooperate)."""

    def act(self, obs: Observation[Any]) -> int:
        return 0


@register_agent("always_defect")
class AlwaysDefect(_MatrixAgent):
    """Always plays action 1 (defect)."""

    def act(self, obs: Observation[Any]) -> int:
        return 1


@register_agent("tit_for_tat")
class TitForTat(_MatrixAgent):
    """Cooperates first, then copies the other player's last action."""

    def act(self, obs: Observation[Any]) -> int:
        theirs = obs.view.their_last
        return 0 if theirs < 0 else theirs


@register_agent("generous_tit_for_tat")
class GenerousTitForTat(_MatrixAgent):
    """Tit-for-tat that forgives a defection with probability ``generosity``.

    Nowak & Sigmund (1992): forgiving about a third of defections (for R=3, S=0, T=5,
    P=1, at most min(1 - (T-R)/(R-S), (R-P)/(T-P)) = 1/3) keeps cooperation robust to noise.
    """

    def __init__(self, generosity: float = 1 / 3) -> None:
        super().__init__()
        self.generosity = _fraction("generosity", generosity)

    def act(self, obs: Observation[Any]) -> int:
        theirs = obs.view.their_last
        if theirs == 1 and self.rng.random() >= self.generosity:
            return 1
        return 0


@register_agent("grim_trigger")
class GrimTrigger(_MatrixAgent):
    """Cooperates until the other player defects once, then defects forever."""

    def reset(self, seed: int, player: int) -> None:
        super().reset(seed, player)
        self.triggered = False

    def act(self, obs: Observation[Any]) -> int:
        self.triggered = self.triggered or obs.view.their_last == 1
        return 1 if self.triggered else 0


@register_agent("win_stay_lose_shift")
class WinStayLoseShift(_MatrixAgent):
    """Pavlov: repeats its action after the other cooperated, switches after a defection."""

    def act(self, obs: Observation[Any]) -> int:
        v = obs.view
        if v.my_last < 0:
            return 0
        return v.my_last if v.their_last == 0 else 1 - v.my_last


# ----- bargaining --------------------------------------------------------------------
class _BargainAgent(Agent):
    games = (BargainingGame,)


@register_agent("spe_bargainer")
class SPEBargainer(_BargainAgent):
    """Plays the subgame-perfect equilibrium of the discrete bargaining game.

    Proposes to keep exactly the SPE units for the current round; accepts an offer iff it
    is worth at least what proposing next round would be worth (discounted).
    """

    def act(self, obs: Observation[Any]) -> int:
        v = obs.view
        discounts = [0.0, 0.0]
        discounts[self.player], discounts[1 - self.player] = v.my_discount, v.their_discount
        d = (discounts[0], discounts[1])
        if v.proposing:
            return spe_keep_units(d, v.horizon, v.granularity, v.round)
        if v.round >= v.horizon:
            return ACCEPT
        next_keep = spe_keep_units(d, v.horizon, v.granularity, v.round + 1)
        need = math.ceil(v.my_discount * next_keep - 1e-9)
        return ACCEPT if v.offer_to_me >= need else REJECT


@register_agent("fixed_share")
class FixedShare(_BargainAgent):
    """Proposes to keep ``share`` of the pie; accepts offers of at least ``threshold``."""

    def __init__(self, share: float = 0.5, threshold: float = 0.5) -> None:
        super().__init__()
        self.share = _fraction("share", share)
        self.threshold = _fraction("threshold", threshold)

    def act(self, obs: Observation[Any]) -> int:
        v = obs.view
        if v.proposing:
            return round(self.share * v.granularity)
        return ACCEPT if v.offer_to_me >= self.threshold * v.granularity - 1e-9 else REJECT


# ----- public goods ------------------------------------------------------------------
class _PublicGoodsAgent(Agent):
    games = (PublicGoodsGame,)


@register_agent("fixed_contributor")
class FixedContributor(_PublicGoodsAgent):
    """Contributes ``fraction`` of the endowment every round (0 is the free rider)."""

    def __init__(self, fraction: float = 0.5) -> None:
        super().__init__()
        self.fraction = _fraction("fraction", fraction)

    def act(self, obs: Observation[Any]) -> int:
        return round(self.fraction * obs.view.endowment)


@register_agent("conditional_cooperator")
class ConditionalCooperator(_PublicGoodsAgent):
    """Contributes ``initial`` at first, then ``slope`` times the others' mean last round.

    The pattern of Fischbacher, Gaechter & Fehr (2001): most people match what they
    expect others to give.
    """

    def __init__(self, initial: float = 0.5, slope: float = 1.0) -> None:
        super().__init__()
        self.initial = _fraction("initial", initial)
        if not (is_real(slope) and slope >= 0):
            raise ConfigError(f"parameter slope={slope!r} must be a number >= 0")
        self.slope = float(slope)

    def act(self, obs: Observation[Any]) -> int:
        v = obs.view
        if v.my_last < 0:
            return round(self.initial * v.endowment)
        mean_others = sum(v.others_last) / len(v.others_last)
        return min(v.endowment, round(self.slope * mean_others))


@register_agent("threshold_contributor")
class ThresholdContributor(_PublicGoodsAgent):
    """Contributes ``above`` while the others' mean last round reached ``threshold``, else
    ``below`` (fractions of the endowment); ``initial`` in round 1.

    A step-shaped conditional cooperator: full giving as long as the group gives at least
    half (the defaults), nothing once it falls short.
    """

    def __init__(self, initial: float = 1.0, threshold: float = 0.5, above: float = 1.0,
                 below: float = 0.0) -> None:
        super().__init__()
        self.initial = _fraction("initial", initial)
        self.threshold = _fraction("threshold", threshold)
        self.above = _fraction("above", above)
        self.below = _fraction("below", below)

    def act(self, obs: Observation[Any]) -> int:
        v = obs.view
        if v.my_last < 0:
            return round(self.initial * v.endowment)
        mean_others = sum(v.others_last) / len(v.others_last)
        share = self.above if mean_others >= self.threshold * v.endowment else self.below
        return round(share * v.endowment)
