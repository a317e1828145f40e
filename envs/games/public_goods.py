"""N-player linear public goods game, one-shot or repeated.

Each round every player splits an endowment between a private account and a common pot;
the pot is multiplied and shared equally: ``u_i = E - c_i + m * sum(c) / n``.

Players: ``n_players`` (>= 2), moving simultaneously.
Actions: the contribution ``c`` in ``0..endowment`` (always legal).
Observations: typed :class:`PublicGoodsView`; tensor: round progress, own last
contribution and the others' mean last contribution (as fractions of the endowment).
Payoffs: ``u_i`` each round.
Episode end: after ``rounds`` rounds.
Benchmark: with ``1 < m < n`` contributing nothing is strictly dominant (payoff ``E``
per round) while full contribution is the social optimum (payoff ``m E``); with ``m > n``
full contribution is dominant; with ``m = n`` every contribution is an equilibrium
(reported as a range, and ``distance_to_benchmark`` is the distance to that range).
Reference: Ledyard (1995), Public goods: a survey of experimental research.
Version history: v0, first release; v1, ``reset(seed=...)`` of every shell follows the
one seeding rule (:mod:`agora.envs.seeding`), so a record's seed replays its episode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from agora.envs.core import (
    Benchmark,
    GameInfo,
    Params,
    RepeatedGame,
    Status,
    StepResult,
    Timing,
    add_up,
    fairness,
    gains,
    is_int,
    is_real,
    last_moves,
    require,
)
from agora.envs.spec import EnvSpec

FRAMINGS = ("plain", "neutral", "community")
"""Text-face wordings: tokens and a common pot; an abstract 'account A/B' task without
social words; a neighbourhood garden project."""


@dataclass(frozen=True)
class PublicGoodsParams(Params):
    """Numbers of a public goods game.

    Attributes:
        n_players: group size.
        endowment: whole tokens each player receives per round.
        multiplier: factor applied to the pot before sharing (``m``).
        rounds: rounds played.
    """

    n_players: int = 4
    endowment: int = 20
    multiplier: float = 1.6
    rounds: int = 10
    framing: str = "plain"

    def validate(self) -> None:
        require(is_int(self.n_players) and self.n_players >= 2, "n_players",
                self.n_players, "must be an integer >= 2")
        require(is_int(self.endowment) and self.endowment >= 1, "endowment",
                self.endowment, "must be a positive integer")
        require(is_real(self.multiplier) and self.multiplier > 0, "multiplier",
                self.multiplier, "must be a positive number")
        require(is_int(self.rounds) and self.rounds >= 1, "rounds", self.rounds,
                "must be a positive integer")
        require(self.framing in FRAMINGS, "framing", self.framing, f"must be one of {FRAMINGS}")


class PublicGoodsState(NamedTuple):
    round: int
    last: tuple[int, ...]  # () before the first round
    totals: tuple[float, ...]
    contributed: int  # tokens contributed by everyone so far
    status: Status


class PublicGoodsView(NamedTuple):
    """One player's view: progress, the rules' numbers and last round's contributions."""

    round: int
    rounds: int
    endowment: int
    multiplier: float
    n_players: int
    my_last: int  # -1 before the first round
    others_last: tuple[int, ...]


class PublicGoodsGame(RepeatedGame[PublicGoodsParams, PublicGoodsState, PublicGoodsView]):
    """Pure rules of the linear public goods game. See the module docstring."""

    info = GameInfo(
        name="PublicGoods",
        timing=Timing.SIMULTANEOUS,
        description="N-player linear public goods game with endowment and multiplier.",
        family="social dilemmas",
        reference="Ledyard 1995",
    )
    params_type = PublicGoodsParams
    always_legal = True
    observation_shape = (3,)

    @property
    def num_players(self) -> int:  # type: ignore[override]
        return self.params.n_players

    @property
    def num_actions(self) -> int:  # type: ignore[override]
        return self.params.endowment + 1

    def initial_state(self, rng: np.random.Generator) -> PublicGoodsState:
        n = self.params.n_players
        return PublicGoodsState(0, (), (0.0,) * n, 0, Status.RUNNING)

    def step(self, state: PublicGoodsState, actions: tuple[int, ...],
             rng: np.random.Generator) -> StepResult:
        p = self.params
        pot = sum(actions)
        share = p.multiplier * pot / p.n_players
        rewards = tuple(p.endowment - c + share for c in actions)
        played, status = self.next_round(state)
        totals = add_up(state.totals, rewards)
        new = PublicGoodsState(played, tuple(actions), totals, state.contributed + pot, status)
        return StepResult(new, rewards)

    def view(self, state: PublicGoodsState, player: int) -> PublicGoodsView:
        p = self.params
        mine, others = last_moves(state.last, player)
        return PublicGoodsView(state.round, p.rounds, p.endowment, p.multiplier, p.n_players,
                               mine, others)

    def encode(self, state: PublicGoodsState, player: int) -> np.ndarray:
        p = self.params
        if state.last:
            mine = state.last[player] / p.endowment
            others = (sum(state.last) - state.last[player]) / ((p.n_players - 1) * p.endowment)
        else:
            mine = others = 0.0
        return np.array([state.round / p.rounds, mine, others], dtype=np.float32)


    def metrics(self, state: PublicGoodsState) -> dict[str, float]:
        p = self.params
        n_rounds = max(state.round, 1)
        optimum = n_rounds * p.n_players * p.endowment * max(1.0, p.multiplier)
        rate = state.contributed / (n_rounds * p.n_players * p.endowment)
        bench = self.benchmark().values
        low, high = (bench[f"nash_contribution_{k}"] / p.endowment for k in ("min", "max"))
        return {
            **gains(state.totals),
            "rounds": float(state.round),
            "contribution_rate": rate,
            "efficiency": sum(state.totals) / optimum,
            "fairness": fairness(state.totals),
            "distance_to_benchmark": max(low - rate, 0.0, rate - high),
        }

    def benchmark(self) -> Benchmark:
        """Equilibrium and optimal contributions, as ranges where players are indifferent.

        A token contributed returns ``m / n`` to its giver: with ``m < n`` giving nothing is
        strictly dominant, with ``m > n`` giving everything is, and with ``m = n`` every
        player is indifferent, so every profile is an equilibrium (``nash_unique = 0``,
        ``nash_contribution`` is NaN and the ``_min``/``_max`` keys give the range). Likewise
        the group gains ``m - 1`` per token, so at ``m = 1`` every contribution is optimal.
        """
        p = self.params
        e, m, n = float(p.endowment), float(p.multiplier), p.n_players
        nash = (0.0, 0.0) if m < n else (e, e) if m > n else (0.0, e)
        best = (0.0, 0.0) if m < 1 else (e, e) if m > 1 else (0.0, e)
        values = {**range_values("nash_contribution", nash),
                  **range_values("nash_payoff_per_round",
                                 (e + (m - 1) * nash[0], e + (m - 1) * nash[1])),
                  **range_values("optimum_contribution", best),
                  "optimum_payoff_per_round": e * max(1.0, m),
                  "nash_unique": float(nash[0] == nash[1]),
                  "optimum_unique": float(best[0] == best[1])}
        concept = ("dominant-strategy equilibrium" if m != n
                   else "Nash equilibrium (every contribution; each player is indifferent)")
        note = ("With 1 < m < n, free riding is dominant and full contribution is optimal; "
                "with m > n giving all is dominant; with m = n no choice changes one's payoff.")
        return Benchmark(concept, values, note)


def range_values(key: str, bounds: tuple[float, float]) -> dict[str, float]:
    """``key`` (NaN unless the range is one point), ``key_min`` and ``key_max``.

    Example:
        >>> range_values("c", (0.0, 0.0))
        {'c': 0.0, 'c_min': 0.0, 'c_max': 0.0}
    """
    low, high = sorted(bounds)
    return {key: low if low == high else float("nan"), f"{key}_min": low, f"{key}_max": high}


SPECS = (
    EnvSpec("PublicGoods-v1", PublicGoodsGame,
            "agora.envs.games.public_goods_text:PublicGoodsText",
            summary="N-player linear public goods (endowment, multiplier)",
            default_opponent="conditional_cooperator"),
)
