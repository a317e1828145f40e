"""Divide the dollar (N-player Nash demand game), repeated.

Each round every player claims, at the same time, ``k`` units in ``0..granularity`` of
``total`` money (one unit is worth ``total / granularity``). If the claims add up to at
most ``granularity`` units, everyone is paid its claim; otherwise everyone gets 0.

Players: ``n_players`` (>= 2), moving simultaneously.
Actions: the claim ``k`` in ``0..granularity`` units (always legal).
Observations: typed :class:`DivideView`; tensor: round progress, a started flag, own last
claim, the others' summed last claim (fractions of the total) and whether last round was
overclaimed.
Payoffs: ``k * total / granularity`` each round if the claims fit, else 0.
Episode end: after ``rounds`` rounds.
Parameters: ``n_players``, ``rounds``, ``total``, ``granularity``, ``framing``.
Benchmark: every exact division (claims summing to ``granularity``) is a Nash equilibrium
and pays out the whole ``total`` (the social optimum); the equal split ``total / n`` is the
symmetric one (on the grid when ``n`` divides ``granularity``). Profiles so overclaimed that
no single player can bring the sum down to ``granularity`` are also (weak) equilibria,
paying 0.
Metrics: ``efficiency`` is money paid / money available; ``fairness`` is ``1 - Gini`` of
the players' total payments (:func:`agora.envs.core.fairness`); ``overclaim_rate`` is the
share of rounds whose claims exceeded the total; ``distance_to_benchmark`` is the mean
``|sum of claims - granularity| / granularity``.
Reference: Nash (1953), Econometrica 21(1); Huang et al. (2024), GAMA-Bench.
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

FRAMINGS = ("neutral", "story", "gameshow")
"""Text-face wordings: claims in units; heirs sharing an inheritance; a GAMA-Bench-like
game show dividing a pot of gold."""


@dataclass(frozen=True)
class DivideParams(Params):
    """Numbers of a divide-the-dollar game.

    Attributes:
        n_players: group size.
        rounds: rounds played.
        total: money to divide each round.
        granularity: number of units the total is cut into.
        framing: wording of the text face, one of :data:`FRAMINGS`.
    """

    n_players: int = 10
    rounds: int = 20
    total: float = 1.0
    granularity: int = 100
    framing: str = "gameshow"

    def validate(self) -> None:
        require(is_int(self.n_players) and self.n_players >= 2, "n_players",
                self.n_players, "must be an integer >= 2")
        require(is_int(self.rounds) and self.rounds >= 1, "rounds", self.rounds,
                "must be a positive integer")
        require(is_real(self.total) and self.total > 0, "total", self.total,
                "must be a positive number")
        require(is_int(self.granularity) and self.granularity >= 1, "granularity",
                self.granularity, "must be a positive integer")
        require(self.framing in FRAMINGS, "framing", self.framing, f"must be one of {FRAMINGS}")


class DivideState(NamedTuple):
    round: int
    last: tuple[int, ...]  # () before the first round
    totals: tuple[float, ...]
    paid: float  # money paid out so far
    overclaims: int  # rounds whose claims exceeded the total
    gap: int  # sum over rounds of |sum of claims - granularity| (units)
    status: Status


class DivideView(NamedTuple):
    """One player's view: progress, the rules' numbers and last round's claims."""

    round: int
    rounds: int
    n_players: int
    granularity: int
    total: float
    my_last: int  # -1 before the first round
    others_last: tuple[int, ...]
    my_score: float


class DivideDollarGame(RepeatedGame[DivideParams, DivideState, DivideView]):
    """Pure rules of repeated divide-the-dollar. See the module docstring."""

    info = GameInfo(
        name="DivideDollar",
        timing=Timing.SIMULTANEOUS,
        description="N-player divide the dollar: claims are paid only if they fit the total.",
        family="GAMA-Bench",
        reference="Nash 1953; Huang et al. 2024 (GAMA-Bench)",
    )
    params_type = DivideParams
    always_legal = True
    observation_shape = (5,)

    def __init__(self, params: DivideParams | dict | None = None) -> None:
        super().__init__(params)
        p = self.params
        self._unit = p.total / p.granularity

    @property
    def num_players(self) -> int:  # type: ignore[override]
        return self.params.n_players

    @property
    def num_actions(self) -> int:  # type: ignore[override]
        return self.params.granularity + 1

    def initial_state(self, rng: np.random.Generator) -> DivideState:
        return DivideState(0, (), (0.0,) * self.params.n_players, 0.0, 0, 0, Status.RUNNING)

    def stage_payoffs(self, actions: tuple[int, ...]) -> tuple[float, ...]:
        """Every player's payment of one round for the joint claim."""
        if sum(actions) > self.params.granularity:
            return (0.0,) * len(actions)
        return tuple(k * self._unit for k in actions)

    def step(self, state: DivideState, actions: tuple[int, ...],
             rng: np.random.Generator) -> StepResult:
        p = self.params
        pay = self.stage_payoffs(actions)
        claimed = sum(actions)
        played, status = self.next_round(state)
        totals = add_up(state.totals, pay)
        new = DivideState(played, tuple(actions), totals, state.paid + sum(pay),
                          state.overclaims + (claimed > p.granularity),
                          state.gap + abs(claimed - p.granularity), status)
        return StepResult(new, pay)

    def view(self, state: DivideState, player: int) -> DivideView:
        p = self.params
        mine, others = last_moves(state.last, player)
        return DivideView(state.round, p.rounds, p.n_players, p.granularity, p.total, mine,
                          others, state.totals[player])

    def encode(self, state: DivideState, player: int) -> np.ndarray:
        p = self.params
        if not state.last:
            return np.zeros(5, dtype=np.float32)
        g = p.granularity
        mine = state.last[player]
        others = sum(state.last) - mine
        return np.array([state.round / p.rounds, 1.0, mine / g,
                         others / ((p.n_players - 1) * g), float(mine + others > g)],
                        dtype=np.float32)


    def metrics(self, state: DivideState) -> dict[str, float]:
        p = self.params
        r = state.round
        nan = float("nan")
        return {
            **gains(state.totals),
            "rounds": float(r),
            "efficiency": state.paid / (r * p.total) if r else nan,
            "fairness": fairness(state.totals),
            "overclaim_rate": state.overclaims / r if r else nan,
            "distance_to_benchmark": state.gap / (r * p.granularity) if r else nan,
        }

    def is_nash(self, claims: tuple[int, ...]) -> bool:
        """Whether no player gains by changing its own claim to any other on the grid."""
        g = self.params.granularity
        total = sum(claims)
        for k in claims:
            others = total - k
            now = k if total <= g else 0
            best = max(g - others, 0)  # claim exactly what the others leave
            if best > now:
                return False
        return True

    def benchmark(self) -> Benchmark:
        p = self.params
        n, g = p.n_players, p.granularity
        return Benchmark(
            "Nash equilibrium (exact divisions)",
            {
                "equal_claim_units": g / n,
                "equal_share": p.total / n,
                "equal_split_on_grid": float(g % n == 0),
                "nash_welfare": p.total,
                "social_optimum_welfare": p.total,
            },
            "Every division whose claims add up exactly to the total is an equilibrium and "
            "efficient; the equal split is the symmetric one (on the grid when n divides "
            "granularity). Hopelessly overclaimed profiles are weak equilibria paying 0.",
        )


SPECS = (
    EnvSpec("DivideDollar-v1", DivideDollarGame,
            "agora.envs.games.divide_dollar_text:DivideDollarText",
            summary="Divide the dollar: N claims paid only if they add up to at most the total",
            default_opponent="divide_equal"),
)
