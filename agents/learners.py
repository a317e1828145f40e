"""Generic learners for repeated simultaneous games: best response and fictitious play.

They play any game whose rules are simultaneous and that implements
``stage_payoffs(actions) -> payoffs`` (one round's payoffs for a joint action), reading the
N-player view fields ``my_last`` (-1 before round 1) and ``others_last`` (the other players'
last actions, in player order). :meth:`setup` refuses other games with a ConfigError.

Own payoffs are computed for *every* action in ``range(num_actions)`` against a profile of
the others (then masked to the legal ones) and cached per profile, so a game must accept
any action index in ``stage_payoffs``. Ties between best actions are broken uniformly at
random with the agent's ``rng``.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from agora.agents.base import Agent, register_agent
from agora.envs import ConfigError, Game, Observation
from agora.envs.core import Timing, is_int, uniform_legal

_CACHE_LIMIT = 200_000  # cached payoff vectors before the cache is emptied


def _positive_int(name: str, value: Any) -> int:
    if not (is_int(value) and value >= 1):
        raise ConfigError(f"parameter {name}={value!r} must be a positive integer")
    return int(value)


class _StageLearner(Agent):
    """Shared parts: the stage-game check, the opening move, cached payoffs, argmax."""

    def __init__(self, first: int | None = None) -> None:
        super().__init__()
        if first is not None and not (is_int(first) and first >= 0):
            raise ConfigError(f"parameter first={first!r} must be None or an action index >= 0")
        self.first = None if first is None else int(first)
        self._game: Any = None
        self._vectors: dict[tuple[int, ...], np.ndarray] = {}

    def setup(self, game: Game[Any, Any, Any]) -> None:
        name = type(self).__name__
        if game.info.timing is not Timing.SIMULTANEOUS:
            raise ConfigError(f"{name} needs a simultaneous game; {game.info.name} is "
                              f"{game.info.timing.value}")
        if not callable(getattr(game, "stage_payoffs", None)):
            raise ConfigError(f"{name} needs a game with stage_payoffs(actions); "
                              f"{game.info.name} has none")
        if self.first is not None and self.first >= game.num_actions:
            raise ConfigError(f"parameter first={self.first} is not an action of "
                              f"{game.info.name} (0..{game.num_actions - 1})")
        self._game = game
        self._vectors = {}

    def reset(self, seed: int, player: int) -> None:
        if player != self.player:
            self._vectors = {}  # cached payoffs are this player's
        super().reset(seed, player)

    def _ready(self) -> None:
        if self._game is None:
            raise ConfigError(f"{type(self).__name__} needs setup(game) before it can act "
                              "(build it with make_agent(spec, game))")

    def _opening(self, obs: Observation[Any]) -> int:
        if self.first is not None and obs.action_mask[self.first]:
            return self.first
        return uniform_legal(self.rng, obs)

    def _payoffs(self, others: tuple[int, ...]) -> np.ndarray:
        """This player's stage payoff of every own action against the others' profile."""
        vec = self._vectors.get(others)
        if vec is None:
            if len(self._vectors) >= _CACHE_LIMIT:
                self._vectors = {}
            p, pay = self.player, self._game.stage_payoffs
            head, tail = others[:p], others[p:]
            vec = np.array([pay((*head, a, *tail))[p] for a in range(self._game.num_actions)],
                           dtype=float)
            self._vectors[others] = vec
        return vec

    def _best(self, values: np.ndarray, obs: Observation[Any]) -> int:
        """A best legal action (uniformly random among ties)."""
        masked = np.where(obs.action_mask, values, -np.inf)
        top = masked.max()
        ties = np.flatnonzero(masked >= top - 1e-9 * max(1.0, abs(top)))
        return int(ties[0] if len(ties) == 1 else ties[self.rng.integers(len(ties))])


@register_agent("best_response")
class BestResponse(_StageLearner):
    """Best response to the others' last actions (Cournot dynamics); ``first`` opens, or random.

    Any simultaneous game with ``stage_payoffs``. Simultaneous best responses can cycle
    (e.g. Cournot with three or more firms); fictitious play is the remedy.
    """

    def act(self, obs: Observation[Any]) -> int:
        self._ready()
        v = obs.view
        if v.my_last < 0 or not v.others_last:
            return self._opening(obs)
        return self._best(self._payoffs(tuple(int(a) for a in v.others_last)), obs)


@register_agent("fictitious_play")
class FictitiousPlay(_StageLearner):
    """Best response to the empirical frequencies of each other player's past actions.

    Any simultaneous game with ``stage_payoffs``. The others are treated as independent
    mixtures. The expected payoff is exact when the product of the others' empirical
    supports has at most ``max_profiles`` profiles (always the case for two players when
    the action set is that small), and otherwise a Monte Carlo mean over ``samples``
    profiles drawn with the agent's ``rng``. ``first`` opens, or a random legal action.
    """

    def __init__(self, first: int | None = None, max_profiles: int = 4096,
                 samples: int = 256) -> None:
        super().__init__(first)
        self.max_profiles = _positive_int("max_profiles", max_profiles)
        self.samples = _positive_int("samples", samples)
        self._counts = np.zeros((0, 0))

    def reset(self, seed: int, player: int) -> None:
        super().reset(seed, player)
        self._counts = np.zeros((0, 0))  # sized at the first act, once the game is known

    def act(self, obs: Observation[Any]) -> int:
        self._ready()
        if not self._counts.size:
            self._counts = np.zeros((self._game.num_players - 1, self._game.num_actions))
        v = obs.view
        if v.my_last >= 0 and v.others_last:
            self._counts[np.arange(len(v.others_last)), list(v.others_last)] += 1
        total = self._counts[0].sum() if len(self._counts) else 0.0
        if total == 0:
            return self._opening(obs)
        return self._best(self._expected(self._counts / total), obs)

    def _expected(self, freqs: np.ndarray) -> np.ndarray:
        """Expected payoff of each own action against independent empirical mixtures."""
        supports = [np.flatnonzero(f) for f in freqs]
        if math.prod(len(s) for s in supports) <= self.max_profiles:
            if len(supports) == 1:  # two players: one matrix-vector product
                (sup,) = supports
                rows = np.stack([self._payoffs((int(b),)) for b in sup])
                return freqs[0, sup] @ rows
            out = np.zeros(freqs.shape[1])
            for combo in itertools.product(*supports):
                weight = math.prod(freqs[j, b] for j, b in enumerate(combo))
                out += weight * self._payoffs(tuple(int(b) for b in combo))
            return out
        draws = np.stack([self.rng.choice(len(f), size=self.samples, p=f) for f in freqs], 1)
        profiles, counts = np.unique(draws, axis=0, return_counts=True)
        rows = np.stack([self._payoffs(tuple(int(b) for b in prof)) for prof in profiles])
        return counts @ rows / self.samples
