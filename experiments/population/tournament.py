"""Axelrod-style round-robin tournaments between memory-one strategies, on the fast engine.

Every strategy meets every other and a copy of itself (axelrod's convention), ``turns``
rounds per match, the whole round robin ``repetitions`` times, each match with its own
counter-based draws (:mod:`agora.experiments.population.kernels`). A player's score in a
repetition is its total over its matches against the *others* (self-play is played but not
scored, as axelrod's ``ResultSet.scores``). Strategies are ranked by their mean score over
repetitions, with a Student-t 95% confidence interval over the repetitions.

Example:
    >>> res = Tournament(["tit_for_tat", "always_defect", "always_cooperate"], turns=10,
    ...                  repetitions=2).play()
    >>> res.scores.tolist()
    [[39.0, 64.0, 30.0], [39.0, 64.0, 30.0]]
    >>> res.ranked["strategy"].tolist()
    ['always_defect', 'tit_for_tat', 'always_cooperate']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from scipy import stats

from agora.agents import AgentSpec
from agora.agents.memory_one import MemoryOne, memory_one_of
from agora.envs import ConfigError, spec
from agora.envs.games.repeated_matrix import MatrixParams, RepeatedMatrixGame
from agora.experiments.population.kernels import play_pairs

__all__ = ["Tournament", "TournamentResult"]

Strategy: TypeAlias = MemoryOne | AgentSpec | str | Mapping[str, Any]


@dataclass(frozen=True)
class TournamentResult:
    """What a tournament produced.

    Attributes:
        names: the players' names, in the order given.
        scores: (repetitions, players) total score of each player against the others.
        payoff_matrix: (players, players) mean payoff per turn of row against column
            (the diagonal: self-play, both seats averaged).
        cooperation: (players,) share of a player's turns against the others with action 0.
        turns: the rounds each player played against the others, per repetition.
    """

    names: tuple[str, ...]
    scores: np.ndarray
    payoff_matrix: np.ndarray
    cooperation: np.ndarray
    turns: np.ndarray = field(repr=False)

    @cached_property
    def ranked(self) -> pd.DataFrame:
        """One row per player, best first: rank, strategy, mean, ci_low, ci_high (95%, t
        over repetitions), std, per_turn (mean score per turn played), cooperation."""
        reps = self.scores.shape[0]
        mean = self.scores.mean(axis=0)
        std = self.scores.std(axis=0, ddof=1) if reps > 1 else np.full(len(mean), np.nan)
        half = stats.t.ppf(0.975, reps - 1) * std / np.sqrt(reps) if reps > 1 else std
        per_turn = self.scores.sum(axis=0) / np.maximum(self.turns.sum(axis=0), 1)
        order = np.argsort(-mean, kind="stable")
        return pd.DataFrame({
            "rank": np.arange(1, len(mean) + 1), "strategy": np.array(self.names)[order],
            "mean": mean[order], "ci_low": (mean - half)[order],
            "ci_high": (mean + half)[order], "std": std[order], "per_turn": per_turn[order],
            "cooperation": self.cooperation[order],
        })


def _strategy(spec: Strategy) -> MemoryOne:
    found = memory_one_of(spec)
    if found is None:
        raise ConfigError(f"strategy {spec!r} is not a memory-one strategy (a table, a "
                          "preset name or a matrix heuristic); tournaments play those only")
    return found


def _matrix_params(env: str, params: Mapping[str, Any]) -> MatrixParams:
    """The env's validated params (without building the game: its benchmark is not needed)."""
    found = spec(env)
    if not issubclass(found.game, RepeatedMatrixGame):
        raise ConfigError(f"env={env!r} is not a repeated 2x2 game")
    try:
        out = MatrixParams(**{**found.defaults, **params})
    except TypeError as exc:
        raise ConfigError(f"params={dict(params)!r} for {env}: {exc}") from exc
    out.validate()
    return out


class Tournament:
    """A round robin among memory-one strategies (see the module docstring).

    Args:
        strategies: :class:`MemoryOne` tables, or names/specs :func:`memory_one_of` reads.
        env: a repeated 2x2 game id; its payoffs (and ``delta``, if set) are used.
        params: the game's params (``rounds`` is replaced by ``turns``).
        turns: rounds per match (the cap when the game's ``delta > 0``).
        repetitions: times the round robin is played.
        noise: probability that each intended action is flipped.
        seed: the key of every match's draws.
        backend, device: as for :func:`~agora.experiments.population.kernels.play_pairs`.

    Raises:
        ConfigError: a strategy is not memory-one, the env is not a repeated 2x2 game, or a
            number is out of range.
    """

    def __init__(self, strategies: Sequence[Strategy], *, env: str = "RepeatedPD-v1",
                 params: Mapping[str, Any] | None = None, turns: int = 200,
                 repetitions: int = 10, noise: float = 0.0, seed: int = 0,
                 backend: str = "auto", device: Any = None) -> None:
        self.strategies = tuple(_strategy(s) for s in strategies)
        if len(self.strategies) < 2:
            raise ConfigError(f"strategies={list(strategies)!r}: a tournament needs >= 2")
        if not (isinstance(repetitions, int) and repetitions >= 1):
            raise ConfigError(f"repetitions={repetitions!r} must be an integer >= 1")
        game = _matrix_params(env, {**(params or {}), "rounds": turns})
        self.payoffs = np.asarray(game.payoffs, dtype=np.float64)
        self.delta = float(game.delta)
        self.turns, self.repetitions, self.noise, self.seed = turns, repetitions, noise, seed
        self.backend, self.device = backend, device

    def play(self) -> TournamentResult:
        """Play every repetition of the round robin at once on the engine."""
        n, reps = len(self.strategies), self.repetitions
        first, second = np.triu_indices(n)  # every pair once, self-play included
        pairs = len(first)
        probs = np.array([s.probabilities() for s in self.strategies])
        res = play_pairs(probs, np.tile(first, reps), np.tile(second, reps), self.payoffs,
                         self.turns, self.seed, noise=self.noise, delta=self.delta,
                         backend=self.backend, device=self.device)
        other = np.tile(first != second, reps)
        rep = np.repeat(np.arange(reps), pairs)

        def per_player(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            """(reps, n) sums of ``a`` to seat 0's player and ``b`` to seat 1's, others only."""
            out = np.zeros(reps * n)
            np.add.at(out, (rep * n + np.tile(first, reps))[other], a[other])
            np.add.at(out, (rep * n + np.tile(second, reps))[other], b[other])
            return out.reshape(reps, n)

        scores = per_player(res.row_payoff, res.col_payoff)
        turns = per_player(res.rounds.astype(float), res.rounds.astype(float))
        coop = per_player(res.row_coop, res.col_coop).sum(axis=0)
        per_turn = np.zeros((n, n))
        rounds = res.rounds.reshape(reps, pairs)
        row_pt = (res.row_payoff.reshape(reps, pairs) / rounds).mean(axis=0)
        col_pt = (res.col_payoff.reshape(reps, pairs) / rounds).mean(axis=0)
        per_turn[first, second] = row_pt
        per_turn[second, first] = col_pt
        diag = first == second
        per_turn[first[diag], first[diag]] = (row_pt[diag] + col_pt[diag]) / 2
        return TournamentResult(tuple(s.name for s in self.strategies), scores, per_turn,
                                coop / np.maximum(turns.sum(axis=0), 1), turns)
