"""Shared parts of the oligopoly games: params, state, view and the repeated-game shell."""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, TypeVar

import numpy as np

from agora.envs.core import (
    Benchmark,
    Params,
    RepeatedGame,
    Status,
    StepResult,
    add_up,
    fairness,
    gains,
    is_int,
    is_real,
    last_moves,
    require,
)

FRAMINGS = ("neutral", "farmers_market", "economics")
"""Text-face wordings: plain firms, a farmers' market story, textbook economics."""

MAX_GRID = 100_000  # grid points per firm (masks and learners scale with it)
_NAN = float("nan")


@dataclass(frozen=True)
class OligopolyParams(Params):
    """Numbers every oligopoly shares.

    Attributes:
        n_firms: number of firms.
        rounds: rounds played.
        cost: constant marginal cost ``c``.
        granularity: grid points per unit (action ``k`` means ``k / granularity``).
        framing: wording of the text face, one of :data:`FRAMINGS`.
    """

    n_firms: int = 2
    rounds: int = 10
    cost: float = 10.0
    granularity: int = 1
    framing: str = "neutral"

    @property
    def grid_max(self) -> int:
        """Largest quantity or price (in whole units)."""
        raise NotImplementedError

    def validate(self) -> None:
        require(is_int(self.n_firms) and self.n_firms >= 2, "n_firms", self.n_firms,
                "must be an integer >= 2")
        require(is_int(self.rounds) and self.rounds >= 1, "rounds", self.rounds,
                "must be a positive integer")
        require(is_real(self.cost) and self.cost >= 0, "cost", self.cost,
                "must be a number >= 0")
        require(is_int(self.granularity) and self.granularity >= 1, "granularity",
                self.granularity, "must be a positive integer")
        require(isinstance(self.framing, str) and self.framing in FRAMINGS, "framing",
                self.framing, f"must be one of {FRAMINGS}")

    def _check_grid(self, name: str, value: Any) -> None:
        require(is_int(value) and value >= 1, name, value, "must be a positive integer")
        require(value * self.granularity < MAX_GRID, "granularity", self.granularity,
                f"{name} * granularity must stay below {MAX_GRID}")


@dataclass(frozen=True)
class CournotParams(OligopolyParams):
    """Cournot market: inverse demand ``P = max(0, a - b Q)``; quantities in ``0..q_max``."""

    a: float = 130.0
    b: float = 1.0
    q_max: int = 120

    @property
    def grid_max(self) -> int:
        return self.q_max

    def validate(self) -> None:
        super().validate()
        require(is_real(self.a) and self.a > self.cost, "a", self.a,
                "must be a number above cost (the choke price)")
        require(is_real(self.b) and self.b > 0, "b", self.b, "must be a positive number")
        self._check_grid("q_max", self.q_max)


@dataclass(frozen=True)
class BertrandParams(OligopolyParams):
    """Homogeneous Bertrand market: demand ``D(p) = max(0, (a - p) / b)``; prices ``0..p_max``."""

    a: float = 130.0
    b: float = 1.0
    p_max: int = 130

    @property
    def grid_max(self) -> int:
        return self.p_max

    def validate(self) -> None:
        super().validate()
        require(is_real(self.a) and self.a > self.cost, "a", self.a,
                "must be a number above cost (the choke price)")
        require(is_real(self.b) and self.b > 0, "b", self.b, "must be a positive number")
        self._check_grid("p_max", self.p_max)
        require(self.p_max > self.cost, "p_max", self.p_max, "must exceed cost")


@dataclass(frozen=True)
class DiffBertrandParams(OligopolyParams):
    """Differentiated Bertrand: ``q_i = max(0, alpha - beta p_i + gamma sum_{j!=i} p_j)``.

    ``beta > gamma (n_firms - 1)`` (own price matters more than all rivals' together) makes
    the demand system come from a quadratic utility, so consumer surplus and the collusive
    price are defined and best responses contract.
    """

    alpha: float = 100.0
    beta: float = 2.0
    gamma: float = 1.0
    p_max: int = 100

    @property
    def grid_max(self) -> int:
        return self.p_max

    def validate(self) -> None:
        super().validate()
        require(is_real(self.beta) and self.beta > 0, "beta", self.beta,
                "must be a positive number")
        require(is_real(self.gamma) and 0 <= self.gamma * (self.n_firms - 1) < self.beta,
                "gamma", self.gamma, "must satisfy 0 <= gamma * (n_firms - 1) < beta")
        slope = self.beta - self.gamma * (self.n_firms - 1)
        require(is_real(self.alpha) and self.alpha > slope * self.cost, "alpha", self.alpha,
                "must exceed (beta - gamma (n_firms - 1)) * cost, so firms sell at cost")
        self._check_grid("p_max", self.p_max)
        require(self.p_max > self.cost, "p_max", self.p_max, "must exceed cost")


class StageOutcome(NamedTuple):
    """One round's result for a joint action."""

    profits: tuple[float, ...]
    quantities: tuple[float, ...]  # units each firm sells
    price: float  # market price: Cournot P, Bertrand lowest price, differentiated mean price
    consumer_surplus: float  # NaN where undefined


class OligopolyState(NamedTuple):
    round: int
    last: tuple[int, ...]  # () before the first round
    totals: tuple[float, ...]
    action_sum: int  # grid indices chosen, summed over firms and rounds
    quantity_sum: float
    price_sum: float
    surplus_sum: float  # consumer surplus over the rounds where it is defined
    surplus_undefined: int  # rounds where it is not
    status: Status


class OligopolyView(NamedTuple):
    """One firm's view: progress, last round's actions (grid indices) and its results."""

    round: int
    rounds: int
    n_firms: int
    granularity: int
    my_last: int  # -1 before the first round
    others_last: tuple[int, ...]
    price_last: float  # market price last round (0 before round 1)
    my_quantity_last: float
    my_profit_last: float
    my_total: float


PT = TypeVar("PT", bound=OligopolyParams)


class OligopolyGame(RepeatedGame[PT, OligopolyState, OligopolyView]):
    """Shared rules of the repeated oligopolies; subclasses give the stage game."""

    always_legal = True
    observation_shape = (5,)
    #: what a firm chooses: "quantity" or "price"
    choice: ClassVar[str]

    def __init__(self, params: PT | dict | None = None) -> None:
        super().__init__(params)
        self._g = float(self.params.granularity)
        self._top = self.num_actions - 1
        self._bench: Benchmark | None = None

    @property
    def num_players(self) -> int:  # type: ignore[override]
        return self.params.n_firms

    @property
    def num_actions(self) -> int:  # type: ignore[override]
        return self.params.grid_max * self.params.granularity + 1

    def value(self, action: int) -> float:
        """The quantity or price that grid index ``action`` stands for."""
        return action / self._g

    def nearest_action(self, value: float) -> int:
        """The grid index closest to ``value`` (clipped to the grid)."""
        return min(max(round(value * self._g), 0), self._top)

    @abstractmethod
    def outcome(self, actions: tuple[int, ...]) -> StageOutcome:
        """Profits, quantities, price and consumer surplus of one round."""

    def stage_payoffs(self, actions: tuple[int, ...]) -> tuple[float, ...]:
        """Every firm's profit of one round for the joint action (grid indices).

        Example:
            >>> from agora.envs.games.oligopoly import BertrandGame, CournotGame
            >>> CournotGame().stage_payoffs((40, 40))  # q* = (130 - 10) / 3: P = 50
            (1600.0, 1600.0)
            >>> BertrandGame().stage_payoffs((20, 20))  # a tie splits D(20) = 110 units
            (550.0, 550.0)
        """
        return self.outcome(actions).profits

    def initial_state(self, rng: np.random.Generator) -> OligopolyState:
        n = self.params.n_firms
        return OligopolyState(0, (), (0.0,) * n, 0, 0.0, 0.0, 0.0, 0, Status.RUNNING)

    def step(self, state: OligopolyState, actions: tuple[int, ...],
             rng: np.random.Generator) -> StepResult:
        acts = tuple(int(a) for a in actions)
        out = self.outcome(acts)
        cs = out.consumer_surplus
        defined = not math.isnan(cs)
        played = state.round + 1
        new = OligopolyState(
            played, acts, add_up(state.totals, out.profits),
            state.action_sum + sum(acts), state.quantity_sum + sum(out.quantities),
            state.price_sum + out.price, state.surplus_sum + (cs if defined else 0.0),
            state.surplus_undefined + (not defined),
            Status.TERMINATED if played >= self.params.rounds else Status.RUNNING,
        )
        return StepResult(new, out.profits)

    def view(self, state: OligopolyState, player: int) -> OligopolyView:
        p = self.params
        mine, others = last_moves(state.last, player)
        price = qty = profit = 0.0
        if state.last:
            out = self.outcome(state.last)
            price, qty, profit = out.price, out.quantities[player], out.profits[player]
        return OligopolyView(state.round, p.rounds, p.n_firms, p.granularity, mine, others,
                             price, qty, profit, state.totals[player])

    def encode(self, state: OligopolyState, player: int) -> np.ndarray:
        if not state.last:
            return np.zeros(5, dtype=np.float32)
        others = state.last[:player] + state.last[player + 1:]
        top = self._top
        return np.array([state.round / self.params.rounds, state.last[player] / top,
                         sum(others) / (len(others) * top), min(others) / top,
                         max(others) / top], dtype=np.float32)


    def metrics(self, state: OligopolyState) -> dict[str, float]:
        p = self.params
        bench = self.benchmark().values
        rounds = max(state.round, 1)
        mean_action = state.action_sum / (self._g * rounds * p.n_firms)
        profit = sum(state.totals)
        welfare = _NAN if state.surplus_undefined else state.surplus_sum + profit
        nash, collusive = bench["nash_profit"], bench["collusive_profit"]
        span = collusive - nash
        return {
            **gains(state.totals),
            "rounds": float(state.round),
            "fairness": fairness(state.totals),
            "mean_action": mean_action,
            "total_quantity": state.quantity_sum / rounds,
            "mean_price": state.price_sum / rounds,
            "consumer_surplus": (_NAN if state.surplus_undefined
                                 else state.surplus_sum / rounds),
            "efficiency": welfare / (rounds * bench["optimum_total_surplus"]),
            "collusion_index": ((profit / (rounds * p.n_firms) - nash) / span
                                if span > 0 else _NAN),
            "distance_to_benchmark": abs(mean_action - bench[f"nash_{self.choice}"]),
        }

    def benchmark(self) -> Benchmark:
        if self._bench is None:
            self._bench = self._benchmark()
        return self._bench

    @abstractmethod
    def _benchmark(self) -> Benchmark:
        """The benchmark, computed once (params are frozen)."""

    def _grid_values(self, nash: float) -> dict[str, float]:
        """Nearest grid action to a closed-form equilibrium, its error, and whether that
        symmetric profile is an equilibrium of the grid game (checked over all deviations)."""
        k = self.nearest_action(nash)
        return {"nash_action": float(k), "grid_error": abs(self.value(k) - nash),
                "grid_nash_verified": float(self.is_symmetric_grid_nash(k))}

    def is_symmetric_grid_nash(self, action: int) -> bool:
        """Whether every firm playing ``action`` leaves no firm a profitable deviation on
        the grid (firm 0 checked; the stage game is symmetric)."""
        others = (action,) * (self.params.n_firms - 1)
        here = self.stage_payoffs((action, *others))[0]
        best = max(self.stage_payoffs((d, *others))[0] for d in range(self.num_actions))
        return best <= here + 1e-9 * max(1.0, abs(here))
