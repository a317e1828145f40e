"""STAND-IN for the [engine] engineer's tournament (drop this commit on merge)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from agora.agents import AgentSpec
from agora.agents.memory_one import memory_one_of
from agora.envs import ConfigError, lookup
from agora.envs.seeding import episode_seed
from agora.experiments.population.kernels import play_pairs


@dataclass
class TournamentResult:
    scores: np.ndarray
    ranked: pd.DataFrame
    payoff_matrix: np.ndarray


class Tournament:
    """Round robin of memory-one strategies (each pair once per repetition, no self-play)."""

    def __init__(self, strategies: list[Any], *, env: str = "RepeatedPD-v1",
                 params: dict[str, Any] | None = None, turns: int = 200,
                 repetitions: int = 10, noise: float = 0.0, seed: int = 0) -> None:
        self.specs = [AgentSpec.parse(s) for s in strategies]
        tables = [memory_one_of(s) for s in self.specs]
        if any(t is None for t in tables):
            raise ConfigError("strategies: every strategy must be memory-one")
        self.probs = np.stack([t.probabilities() for t in tables if t is not None])
        game = lookup(env).make_game(params or {})
        self.payoffs = np.asarray(game.params.payoffs, dtype=np.float64)
        self.turns, self.repetitions, self.noise, self.seed = turns, repetitions, noise, seed

    def play(self) -> TournamentResult:
        n = len(self.specs)
        i, j = np.triu_indices(n, 1)
        scores = np.zeros((self.repetitions, n))
        matrix = np.zeros((n, n))
        for r in range(self.repetitions):
            res = play_pairs(self.probs, i, j, self.payoffs, self.turns,
                             episode_seed(self.seed, 0, r), noise=self.noise)
            np.add.at(scores[r], i, res.row_payoff)
            np.add.at(scores[r], j, res.col_payoff)
            matrix[i, j] += res.row_payoff / self.turns / self.repetitions
            matrix[j, i] += res.col_payoff / self.turns / self.repetitions
        mean = scores.mean(axis=0)
        half = 1.96 * scores.std(axis=0, ddof=1) / np.sqrt(self.repetitions) \
            if self.repetitions > 1 else np.zeros(n)
        order = np.argsort(-mean, kind="stable")
        ranked = pd.DataFrame({"rank": np.arange(1, n + 1),
                               "strategy": [self.specs[k].name for k in order],
                               "mean": mean[order], "ci_low": (mean - half)[order],
                               "ci_high": (mean + half)[order]})
        return TournamentResult(scores, ranked, matrix)
