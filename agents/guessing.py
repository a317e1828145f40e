"""Agents for the GAMA-Bench N-player games: beauty contest, El Farol, divide the dollar.

Each is a few lines of policy over the game's typed view; parameters are validated in the
constructor with :class:`~agora.envs.ConfigError` naming the parameter. Grid rounding is
"nearest integer, halves up" (``floor(x + 0.5)``) throughout, never Python's banker's
rounding.

Example:
    >>> import numpy as np
    >>> from agora.agents import make_agent
    >>> from agora.envs import make_game
    >>> game, _ = make_game("BeautyContest-v1")
    >>> agent = make_agent({"name": "beauty_level_k", "k": 2}, game)
    >>> agent.reset(seed=0, player=0)
    >>> agent.act(game.observe(game.initial_state(np.random.default_rng(0)), 0))
    22
"""

from __future__ import annotations

import math
from typing import Any

from agora.agents.base import Agent, register_agent
from agora.envs import ConfigError, Game, Observation
from agora.envs.core import is_int, is_real
from agora.envs.games.beauty_contest import BeautyContestGame, level_k_guess
from agora.envs.games.divide_dollar import DivideDollarGame
from agora.envs.games.el_farol import GO, STAY, ElFarolGame, mixed_nash_probability

ANCHORS = ("midpoint", "last_mean")


def _fraction(name: str, value: float) -> float:
    if not (is_real(value) and 0.0 <= value <= 1.0):
        raise ConfigError(f"parameter {name}={value!r} must be a number in [0, 1]")
    return float(value)


def _half_up(x: float) -> int:
    return math.floor(x + 0.5)


# ----- beauty contest -----------------------------------------------------------------
class _BeautyAgent(Agent):
    games = (BeautyContestGame,)


@register_agent("beauty_level_k")
class BeautyLevelK(_BeautyAgent):
    """Level-k reasoner: guesses ``anchor * p**k`` on the grid (nearest, halves up).

    The level-0 guess (``anchor``) is ``max_guess / 2`` (``"midpoint"``, Nagel 1995), or
    last round's mean guess (``"last_mean"``; the midpoint in round 1), which makes
    repeated play walk down towards the equilibrium guess 0.
    """

    def __init__(self, k: int = 1, anchor: str = "midpoint") -> None:
        super().__init__()
        if not (is_int(k) and k >= 0):
            raise ConfigError(f"parameter k={k!r} must be an integer >= 0")
        if anchor not in ANCHORS:
            raise ConfigError(f"parameter anchor={anchor!r} must be one of {ANCHORS}")
        self.k = int(k)
        self.anchor = anchor

    def act(self, obs: Observation[Any]) -> int:
        v = obs.view
        level0 = None
        if self.anchor == "last_mean" and v.my_last >= 0:
            level0 = (v.my_last + sum(v.others_last)) / v.n_players
        return level_k_guess(self.k, v.p, v.max_guess, level0)


@register_agent("beauty_nash")
class BeautyNash(_BeautyAgent):
    """Plays the Nash equilibrium of the beauty contest: always guesses 0."""

    def act(self, obs: Observation[Any]) -> int:
        return 0


@register_agent("beauty_random")
class BeautyRandom(_BeautyAgent):
    """Guesses uniformly at random between ``low`` and ``high`` (fractions of max_guess).

    The whole numbers in ``[ceil(low * max_guess), floor(high * max_guess)]`` are drawn
    with equal probability (the defaults cover the whole range).
    """

    def __init__(self, low: float = 0.0, high: float = 1.0) -> None:
        super().__init__()
        self.low = _fraction("low", low)
        self.high = _fraction("high", high)
        if self.low > self.high:
            raise ConfigError(f"parameter low={low!r} must not exceed high={high!r}")

    def act(self, obs: Observation[Any]) -> int:
        m = obs.view.max_guess
        lo = math.ceil(self.low * m - 1e-9)
        hi = max(lo, math.floor(self.high * m + 1e-9))
        return int(self.rng.integers(lo, hi + 1))


# ----- El Farol -----------------------------------------------------------------------
class _ElFarolAgent(Agent):
    games = (ElFarolGame,)


@register_agent("elfarol_mixed_nash")
class ElFarolMixedNash(_ElFarolAgent):
    """Goes with the symmetric mixed-equilibrium probability of the game it plays.

    The probability is solved once from the game in :meth:`setup` (from the view's
    numbers if the agent was built without a game).
    """

    def __init__(self) -> None:
        super().__init__()
        self.go_probability: float | None = None

    def setup(self, game: Game[Any, Any, Any]) -> None:
        if isinstance(game, ElFarolGame):
            self.go_probability = game.mixed_nash_probability()

    def act(self, obs: Observation[Any]) -> int:
        if self.go_probability is None:
            v = obs.view
            self.go_probability = mixed_nash_probability(
                v.n_players, v.seats, v.good, v.bad, v.mode == "minority")
        return GO if self.rng.random() < self.go_probability else STAY


@register_agent("elfarol_threshold")
class ElFarolThreshold(_ElFarolAgent):
    """Goes iff last round's attendance was within capacity (at most ``seats``).

    In round 1 it goes with probability ``seats / n_players``. This is Arthur's (1994)
    "same as last week" predictor: forecast last attendance, go if that would be fine.
    """

    def act(self, obs: Observation[Any]) -> int:
        v = obs.view
        if not v.history:
            return GO if self.rng.random() < v.seats / v.n_players else STAY
        return GO if v.history[-1] <= v.seats else STAY


# ----- divide the dollar --------------------------------------------------------------
class _DivideAgent(Agent):
    games = (DivideDollarGame,)


@register_agent("divide_equal")
class DivideEqual(_DivideAgent):
    """Claims the equal split, rounded down to the grid: ``floor(granularity / n)``."""

    def act(self, obs: Observation[Any]) -> int:
        v = obs.view
        return v.granularity // v.n_players


@register_agent("divide_greedy")
class DivideGreedy(_DivideAgent):
    """Claims ``share`` of the total every round (nearest unit, halves up)."""

    def __init__(self, share: float = 0.5) -> None:
        super().__init__()
        self.share = _fraction("share", share)

    def act(self, obs: Observation[Any]) -> int:
        return _half_up(self.share * obs.view.granularity)
