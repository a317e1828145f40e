"""A renewable common-pool resource harvested by N players (GovSim-style commons).

A shared stock of whole units starts at ``capacity``. Each round every player requests a
harvest at the same time. Requests are granted in full when the stock covers them;
otherwise the stock is rationed in proportion to the requests (see :func:`allocate`). The
units left regrow, ``S' = min(capacity, floor(growth * remaining))``, but if fewer than
``floor`` units are left the resource collapses: the stock is 0 and the episode ends.

Players: ``n_players`` (>= 2), moving simultaneously.
Actions: the requested harvest ``h`` in ``0..max_harvest``, always legal (requests are not
masked to the current stock; rationing handles over-requests).
Observations: typed :class:`CommonsView`; tensor: round progress, stock (fraction of
capacity), own last harvest and the others' mean last harvest (fractions of
``max_harvest``).
Payoffs: one point per unit harvested, each round.
Episode end: after ``rounds`` rounds, or at the collapse of the resource.
Parameters: ``n_players``, ``capacity``, ``growth`` (> 1), ``floor`` (collapse threshold,
``1 <= floor < capacity``), ``max_harvest``, ``rounds``, ``framing``.
Benchmark: the maximum sustainable yield, the largest total harvest per round that leaves
the stock at capacity every round: ``H* = capacity - R*`` with ``R*`` the smallest
remainder ``>= floor`` that regrows to capacity (``capacity / 2`` when doubling), capped by
``n_players * max_harvest``; the per-player share ``H* / n`` and the total over the horizon.
Against it the tragedy of the commons: everyone requests ``max_harvest`` every round (weakly
dominant in the last round), simulated exactly. ``efficiency`` compares the total
harvest with ``rounds * H*``; it can exceed 1 only by end-game over-harvesting (the
finite-horizon optimum takes the whole stock in the last round).
Reference: Gordon (1954); Hardin (1968); Ostrom (1990); Piatti et al. (2024), GovSim.
Version history: v0, first release; v1, ``reset(seed=...)`` of every shell follows the
one seeding rule (:mod:`agora.envs.seeding`), so a record's seed replays its episode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from agora.envs.core import (
    Benchmark,
    Game,
    GameInfo,
    Params,
    Status,
    StepResult,
    Timing,
    fairness,
    gains,
    is_int,
    is_real,
    last_moves,
    require,
)
from agora.envs.spec import EnvSpec

FRAMINGS = ("neutral", "fishing", "economic")
"""Text-face wordings: a pool of units; fishermen sharing a lake (GovSim); the explicit
vocabulary of common-pool resource economics."""

_EPS = 1e-9  # growth * remaining is floored after this tolerance (2.3 * 10 is 23, not 22)


def allocate(requests: tuple[int, ...], stock: int, first: int = 0) -> tuple[int, ...]:
    """Units each player receives when ``requests`` are made on ``stock`` units.

    Requests that fit are granted in full. Otherwise every player gets its proportional
    quota ``h_i * stock / sum(h)`` rounded down, and the units left over go one each to the
    largest remainders (Hamilton's method); equal remainders are served in cyclic order
    from player ``first``. The result sums to ``min(sum(requests), stock)``, nobody gets
    more than it asked for, and asking for more never gets a player less.

    Example:
        >>> allocate((30, 30, 40), 50)
        (15, 15, 20)
        >>> allocate((1, 1, 1), 2, first=1)
        (0, 1, 1)
    """
    total = sum(requests)
    if total <= stock:
        return tuple(requests)
    n = len(requests)
    got = [h * stock // total for h in requests]
    rest = [h * stock % total for h in requests]
    order = sorted(range(n), key=lambda i: (-rest[i], (i - first) % n))
    for i in order[: stock - sum(got)]:
        got[i] += 1
    return tuple(got)


def regrow(remaining: int, growth: float, capacity: int) -> int:
    """Stock at the start of the next round: ``min(capacity, floor(growth * remaining))``."""
    return min(capacity, math.floor(growth * remaining + _EPS))


def sustainable_remainder(capacity: int, growth: float, floor: int) -> int:
    """The smallest remainder ``R >= floor`` that regrows to ``capacity`` in one round."""
    r = max(floor, math.ceil(capacity / growth - _EPS))
    while r > floor and regrow(r - 1, growth, capacity) >= capacity:
        r -= 1
    while regrow(r, growth, capacity) < capacity:
        r += 1
    return r


def sustainable_yield(capacity: int, growth: float, floor: int) -> int:
    """The largest total harvest per round that keeps the stock at ``capacity``."""
    return capacity - sustainable_remainder(capacity, growth, floor)


@dataclass(frozen=True)
class CommonsParams(Params):
    """Numbers of a commons game.

    Attributes:
        n_players: group size.
        capacity: the stock's starting size and upper limit (whole units).
        growth: factor by which the remaining stock regrows each round (> 1).
        floor: a remainder below this collapses the resource.
        max_harvest: the largest request a player may make in a round.
        rounds: rounds played unless the resource collapses first.
        framing: wording of the text face, one of :data:`FRAMINGS`.
    """

    n_players: int = 5
    capacity: int = 100
    growth: float = 2.0
    floor: int = 5
    max_harvest: int = 20
    rounds: int = 12
    framing: str = "neutral"

    def validate(self) -> None:
        require(is_int(self.n_players) and self.n_players >= 2, "n_players",
                self.n_players, "must be an integer >= 2")
        require(is_int(self.capacity) and self.capacity >= 2, "capacity", self.capacity,
                "must be an integer >= 2")
        require(is_real(self.growth) and self.growth > 1, "growth", self.growth,
                "must be a number > 1 (the resource must regrow)")
        require(is_int(self.floor) and 1 <= self.floor < self.capacity, "floor", self.floor,
                "must be an integer with 1 <= floor < capacity")
        require(is_int(self.max_harvest) and self.max_harvest >= 1, "max_harvest",
                self.max_harvest, "must be a positive integer")
        require(is_int(self.rounds) and self.rounds >= 1, "rounds", self.rounds,
                "must be a positive integer")
        require(self.framing in FRAMINGS, "framing", self.framing, f"must be one of {FRAMINGS}")
        require(sustainable_yield(self.capacity, self.growth, self.floor) >= 1, "growth",
                self.growth, f"leaves no sustainable harvest with capacity={self.capacity} "
                f"and floor={self.floor}")


class CommonsState(NamedTuple):
    round: int  # rounds played
    stock: int  # units at the start of the next round (0 after a collapse)
    last: tuple[int, ...]  # units each player harvested last round; () before round 1
    totals: tuple[int, ...]  # units each player harvested so far
    collapsed: bool
    status: Status


class CommonsView(NamedTuple):
    """One player's view: progress, the stock now, the rules' numbers, last harvests."""

    round: int
    rounds: int
    stock: int
    capacity: int
    growth: float
    floor: int
    max_harvest: int
    n_players: int
    my_last: int  # -1 before the first round
    others_last: tuple[int, ...]
    my_total: int


class CommonsGame(Game[CommonsParams, CommonsState, CommonsView]):
    """Pure rules of the renewable commons. See the module docstring."""

    info = GameInfo(
        name="Commons",
        timing=Timing.SIMULTANEOUS,
        description="N-player renewable common-pool resource with regrowth and collapse.",
        family="social dilemmas",
        reference="Hardin 1968; Ostrom 1990; Piatti et al. 2024 (GovSim)",
    )
    params_type = CommonsParams
    always_legal = True
    observation_shape = (4,)

    def __init__(self, params: CommonsParams | dict | None = None) -> None:
        super().__init__(params)
        p = self.params
        self._remainder = sustainable_remainder(p.capacity, p.growth, p.floor)
        self._sustainable = min(p.capacity - self._remainder, p.n_players * p.max_harvest)

    @property
    def num_players(self) -> int:  # type: ignore[override]
        return self.params.n_players

    @property
    def num_actions(self) -> int:  # type: ignore[override]
        return self.params.max_harvest + 1

    @property
    def sustainable_total(self) -> int:
        """Largest total harvest per round that keeps the stock at capacity (``H*``)."""
        return self._sustainable

    @property
    def sustainable_remainder(self) -> int:
        """Units to leave after harvesting so that the stock regrows to capacity (``R*``)."""
        return self._remainder

    def initial_state(self, rng: np.random.Generator) -> CommonsState:
        n = self.params.n_players
        return CommonsState(0, self.params.capacity, (), (0,) * n, False, Status.RUNNING)

    def step(self, state: CommonsState, actions: tuple[int, ...],
             rng: np.random.Generator) -> StepResult:
        p = self.params
        requests = tuple(int(h) for h in actions)
        got = allocate(requests, state.stock, state.round % p.n_players)
        remaining = state.stock - sum(got)
        played = state.round + 1
        collapsed = remaining < p.floor
        stock = 0 if collapsed else regrow(remaining, p.growth, p.capacity)
        over = collapsed or played >= p.rounds
        totals = tuple(t + g for t, g in zip(state.totals, got, strict=True))
        new = CommonsState(played, stock, got, totals, collapsed,
                           Status.TERMINATED if over else Status.RUNNING)
        return StepResult(new, tuple(float(g) for g in got))

    def stage_payoffs(self, actions: tuple[int, ...]) -> tuple[float, ...]:
        """Payoffs of the first round (stock at capacity) for a joint request."""
        return tuple(float(g) for g in allocate(tuple(actions), self.params.capacity))

    def view(self, state: CommonsState, player: int) -> CommonsView:
        p = self.params
        mine, others = last_moves(state.last, player)
        return CommonsView(state.round, p.rounds, state.stock, p.capacity, p.growth, p.floor,
                           p.max_harvest, p.n_players, mine, others, state.totals[player])

    def encode(self, state: CommonsState, player: int) -> np.ndarray:
        p = self.params
        mine = others = 0.0
        if state.last:
            mine = state.last[player] / p.max_harvest
            others = (sum(state.last) - state.last[player]) / ((p.n_players - 1) * p.max_harvest)
        return np.array([state.round / p.rounds, state.stock / p.capacity, mine, others],
                        dtype=np.float32)

    def returns(self, state: CommonsState) -> tuple[float, ...]:
        return tuple(float(t) for t in state.totals)

    def metrics(self, state: CommonsState) -> dict[str, float]:
        """Harvests and outcomes. ``survival``: rounds the resource survived / ``rounds``
        (a collapse round does not count); ``efficiency``: total harvest / (``rounds *
        H*``); ``fairness``: 1 - Gini of the harvests; ``distance_to_benchmark``: mean
        absolute gap between a player's harvest and its sustainable share over the
        horizon, relative to that share."""
        p = self.params
        total = sum(state.totals)
        optimum = p.rounds * self._sustainable
        fair_share = optimum / p.n_players
        distance = sum(abs(t - fair_share) for t in state.totals) / (p.n_players * fair_share)
        survived = state.round - int(state.collapsed)
        return {
            **gains(self.returns(state)),
            "rounds": float(state.round),
            "total_harvest": float(total),
            "survival": survived / p.rounds,
            "collapsed": float(state.collapsed),
            "final_stock": float(state.stock),
            "efficiency": total / optimum,
            "fairness": fairness(state.totals),
            "distance_to_benchmark": distance,
        }

    def greedy_outcome(self) -> CommonsState:
        """The end state when every player requests ``max_harvest`` every round.

        Greedy requests within ``H*`` never deplete the stock (closed form). Larger ones
        shrink it by at least ``n * max_harvest - H*`` units a round (no remainder regrows
        by more than ``H*``), so the loop ends within ``capacity`` rounds.
        """
        p = self.params
        greedy = (p.max_harvest,) * p.n_players
        if sum(greedy) <= self._sustainable:
            totals = tuple(p.rounds * h for h in greedy)
            return CommonsState(p.rounds, p.capacity, greedy, totals, False, Status.TERMINATED)
        rng = np.random.default_rng(0)  # unused: the commons has no chance moves
        state = self.initial_state(rng)
        while state.status is Status.RUNNING:
            state = self.step(state, greedy, rng).state
        return state

    def benchmark(self) -> Benchmark:
        p = self.params
        h = self._sustainable
        greedy = self.greedy_outcome()
        greedy_total = sum(greedy.totals)
        return Benchmark(
            "maximum sustainable yield (social optimum) vs. tragedy of the commons",
            {
                "sustainable_total_per_round": float(h),
                "sustainable_share_per_round": h / p.n_players,
                "sustainable_remainder": float(self._remainder),
                "sustainable_total_over_horizon": float(h * p.rounds),
                "sustainable_payoff_per_player": h * p.rounds / p.n_players,
                "greedy_total_harvest": float(greedy_total),
                "greedy_payoff_per_player": greedy_total / p.n_players,
                "greedy_rounds_survived": float(greedy.round - int(greedy.collapsed)),
                "greedy_collapsed": float(greedy.collapsed),
            },
            "Harvesting H* per round keeps the stock at capacity for ever; everyone "
            "requesting max_harvest is the tragedy outcome (weakly dominant in the last "
            "round).",
        )


SPECS = (
    EnvSpec("Commons-v1", CommonsGame, "agora.envs.games.commons_text:CommonsText",
            summary="N-player renewable commons (GovSim): regrowth to a cap, collapse below "
                    "a floor",
            default_opponent="commons_reciprocal"),
)
