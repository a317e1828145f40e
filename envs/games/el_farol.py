"""The El Farol bar problem (and the minority game), repeated.

Each round every player decides, at the same time, whether to go to the bar (action 1) or
stay home (action 0). The bar holds ``seats = floor(capacity * n_players)`` people.

``mode="el_farol"``: going pays ``good`` if attendance ``a <= seats`` and ``bad``
otherwise; staying home pays 0. Defaults: ``good = +1``, ``bad = -1``, stay ``0``.
``mode="minority"`` (needs an odd ``n_players``; ``capacity`` is then unused and
``seats = (n - 1) / 2``): the side with fewer players wins, so goers get ``good`` if
``a <= seats`` and ``bad`` otherwise, while those who stay home get ``good`` if
``a > seats`` and ``bad`` otherwise.

Players: ``n_players`` (>= 2), moving simultaneously.
Actions: ``0`` stay home, ``1`` go (always legal).
Observations: typed :class:`ElFarolView` (with the attendance history); tensor: round
progress, a started flag, own last action, last attendance / n, seats / n.
Payoffs: as above, each round.
Episode end: after ``rounds`` rounds.
Parameters: ``n_players``, ``rounds``, ``capacity`` in (0, 1), ``good > 0``, ``bad < 0``,
``mode``, ``framing``.
Benchmark: El Farol: the pure Nash equilibria are exactly the profiles with attendance
``seats`` (also the social optimum, welfare ``seats * good``); the symmetric mixed
equilibrium goes with the probability ``q`` that makes a player indifferent,
``good * P(X <= seats - 1) + bad * P(X >= seats) = 0`` for ``X ~ Binomial(n - 1, q)``,
and pays 0 in expectation. Minority game: pure equilibria have attendance ``seats`` or
``seats + 1``; the symmetric mixed equilibrium is ``q = 1/2``. ``q`` is solved by
bisection on the exact binomial expression (to 1e-15).
Reference: Arthur (1994), AER 84(2); Challet & Zhang (1997), Physica A 246;
Huang et al. (2024), GAMA-Bench.
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

STAY, GO = 0, 1

FRAMINGS = ("neutral", "story", "gameshow")
"""Text-face wordings: options A/B with a payoff rule; the El Farol bar (or, in the
minority game, two routes to work); a GAMA-Bench-like game show."""

MODES = ("el_farol", "minority")
"""Payment rules: the capacity bar (staying home pays 0) or the minority game."""


@dataclass(frozen=True)
class ElFarolParams(Params):
    """Numbers of an El Farol / minority game.

    Attributes:
        n_players: group size (odd in the minority game).
        rounds: rounds played.
        capacity: fraction of the group the bar holds (``seats = floor(capacity * n)``).
        good: payment for going to an uncrowded bar (for the minority side).
        bad: payment for going to a crowded bar (for the majority side).
        mode: ``"el_farol"`` or ``"minority"``.
        framing: wording of the text face, one of :data:`FRAMINGS`.
    """

    n_players: int = 10
    rounds: int = 20
    capacity: float = 0.6
    good: float = 1.0
    bad: float = -1.0
    mode: str = "el_farol"
    framing: str = "story"

    def validate(self) -> None:
        n = self.n_players
        require(is_int(n) and n >= 2, "n_players", n, "must be an integer >= 2")
        require(is_int(self.rounds) and self.rounds >= 1, "rounds", self.rounds,
                "must be a positive integer")
        require(is_real(self.capacity) and 0 < self.capacity < 1, "capacity", self.capacity,
                "must be a number in (0, 1)")
        require(is_real(self.good) and self.good > 0, "good", self.good,
                "must be a positive number")
        require(is_real(self.bad) and self.bad < 0, "bad", self.bad,
                "must be a negative number")
        require(self.mode in MODES, "mode", self.mode, f"must be one of {MODES}")
        require(self.framing in FRAMINGS, "framing", self.framing, f"must be one of {FRAMINGS}")
        if self.mode == "minority":
            require(n % 2 == 1, "n_players", n, "must be odd in the minority game")
        else:
            require(1 <= seats_for(self) <= n - 1, "capacity", self.capacity,
                    f"must seat between 1 and {n - 1} of the {n} players")


def seats_for(p: ElFarolParams) -> int:
    """Most goers who still get ``good`` (``floor(capacity * n)``; ``(n-1)/2`` if minority)."""
    if p.mode == "minority":
        return (p.n_players - 1) // 2
    return math.floor(p.capacity * p.n_players + 1e-9)


def binomial_cdf(k: int, n: int, q: float) -> float:
    """``P(X <= k)`` for ``X ~ Binomial(n, q)``, summed exactly term by term."""
    if k < 0:
        return 0.0
    return sum(math.comb(n, j) * q**j * (1 - q) ** (n - j) for j in range(min(k, n) + 1))


def go_advantage(q: float, n: int, seats: int, good: float, bad: float,
                 minority: bool) -> float:
    """Expected payoff of going minus staying when each other player goes with ``q``."""
    win_go = binomial_cdf(seats - 1, n - 1, q)  # at most seats-1 others go
    go = good * win_go + bad * (1 - win_go)
    if not minority:
        return go
    win_stay = 1 - binomial_cdf(seats, n - 1, q)  # at least seats+1 others go
    return go - (good * win_stay + bad * (1 - win_stay))


def mixed_nash_probability(n: int, seats: int, good: float, bad: float,
                           minority: bool = False) -> float:
    """The symmetric mixed-equilibrium probability of going (bisection, to 1e-15).

    The advantage of going falls strictly from positive (``q = 0``) to negative
    (``q = 1``) whenever ``1 <= seats <= n - 1``, so the root is unique.

    Example:
        >>> round(mixed_nash_probability(10, 6, 1.0, -1.0), 6)
        0.606915
        >>> round(mixed_nash_probability(9, 4, 1.0, -1.0, minority=True), 12)
        0.5
    """
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if go_advantage(mid, n, seats, good, bad, minority) > 0:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-15:
            break
    return (lo + hi) / 2


class ElFarolState(NamedTuple):
    round: int
    last: tuple[int, ...]  # () before the first round
    history: tuple[int, ...]  # attendance of every round so far
    totals: tuple[float, ...]
    good_count: int  # player-rounds paid ``good``
    status: Status


class ElFarolView(NamedTuple):
    """One player's view: progress, the rules' numbers and the attendance history."""

    round: int
    rounds: int
    n_players: int
    seats: int
    good: float
    bad: float
    mode: str
    my_last: int  # -1 before the first round
    others_last: tuple[int, ...]
    history: tuple[int, ...]
    my_score: float


class ElFarolGame(RepeatedGame[ElFarolParams, ElFarolState, ElFarolView]):
    """Pure rules of the El Farol bar / minority game. See the module docstring."""

    info = GameInfo(
        name="ElFarol",
        timing=Timing.SIMULTANEOUS,
        description="N-player El Farol bar problem (capacity) or minority game, repeated.",
        family="GAMA-Bench",
        reference="Arthur 1994; Challet & Zhang 1997; Huang et al. 2024 (GAMA-Bench)",
    )
    params_type = ElFarolParams
    always_legal = True
    num_actions = 2
    observation_shape = (5,)

    def __init__(self, params: ElFarolParams | dict | None = None) -> None:
        super().__init__(params)
        p = self.params
        self.seats = seats_for(p)
        self.minority = p.mode == "minority"
        self._go_prob: float | None = None

    @property
    def num_players(self) -> int:  # type: ignore[override]
        return self.params.n_players

    def initial_state(self, rng: np.random.Generator) -> ElFarolState:
        return ElFarolState(0, (), (), (0.0,) * self.params.n_players, 0, Status.RUNNING)

    def payoff(self, action: int, attendance: int) -> float:
        """One player's payment for ``action`` when ``attendance`` players go (self included)."""
        p = self.params
        uncrowded = attendance <= self.seats
        if action == GO:
            return p.good if uncrowded else p.bad
        if not self.minority:
            return 0.0
        return p.bad if uncrowded else p.good

    def stage_payoffs(self, actions: tuple[int, ...]) -> tuple[float, ...]:
        """Every player's payoff of one round for the joint action."""
        a = sum(actions)
        return tuple(self.payoff(x, a) for x in actions)

    def welfare(self, attendance: int) -> float:
        """Sum of payments in a round with ``attendance`` goers."""
        n = self.params.n_players
        return attendance * self.payoff(GO, attendance) + (n - attendance) * self.payoff(
            STAY, attendance)

    def step(self, state: ElFarolState, actions: tuple[int, ...],
             rng: np.random.Generator) -> StepResult:
        pay = self.stage_payoffs(actions)
        played, status = self.next_round(state)
        totals = add_up(state.totals, pay)
        good = self.params.good
        new = ElFarolState(played, tuple(actions), state.history + (sum(actions),), totals,
                           state.good_count + sum(1 for r in pay if r == good), status)
        return StepResult(new, pay)

    def view(self, state: ElFarolState, player: int) -> ElFarolView:
        p = self.params
        mine, others = last_moves(state.last, player)
        return ElFarolView(state.round, p.rounds, p.n_players, self.seats, p.good, p.bad,
                           p.mode, mine, others, state.history, state.totals[player])

    def encode(self, state: ElFarolState, player: int) -> np.ndarray:
        p = self.params
        n = p.n_players
        if not state.last:
            return np.array([0.0, 0.0, 0.0, 0.0, self.seats / n], dtype=np.float32)
        return np.array([state.round / p.rounds, 1.0, float(state.last[player]),
                         state.history[-1] / n, self.seats / n], dtype=np.float32)


    def metrics(self, state: ElFarolState) -> dict[str, float]:
        n, r, c = self.params.n_players, state.round, self.seats
        nan = float("nan")
        hist = state.history
        optimum = self.optimum_welfare()
        if self.minority:  # attendance seats or seats + 1 are both equilibria
            gaps = [min(abs(a - c), abs(a - c - 1)) for a in hist]
        else:
            gaps = [abs(a - c) for a in hist]
        return {
            **gains(state.totals),
            "rounds": float(r),
            "attendance_rate": sum(hist) / (r * n) if r else nan,
            "overcrowded_rate": sum(a > c for a in hist) / r if r else nan,
            "efficiency": sum(state.totals) / (r * optimum) if r and optimum > 0 else nan,
            "success_rate": state.good_count / (r * c) if r else nan,
            "fairness": fairness(state.totals),
            "distance_to_capacity": sum(abs(a - c) for a in hist) / (r * n) if r else nan,
            "distance_to_benchmark": sum(gaps) / (r * n) if r else nan,
        }

    def optimum_welfare(self) -> float:
        """Largest welfare of one round over all attendances."""
        return max(self.welfare(a) for a in range(self.params.n_players + 1))

    def mixed_nash_probability(self) -> float:
        """Probability of going in the symmetric mixed equilibrium (cached)."""
        if self._go_prob is None:
            p = self.params
            self._go_prob = mixed_nash_probability(p.n_players, self.seats, p.good, p.bad,
                                                   self.minority)
        return self._go_prob

    def benchmark(self) -> Benchmark:
        p = self.params
        q = self.mixed_nash_probability()
        c, n = self.seats, p.n_players
        win = binomial_cdf(c - 1, n - 1, q)
        mixed_payoff = p.good * win + p.bad * (1 - win)  # of going = of staying
        values = {
            "seats": float(c),
            "pure_nash_attendance": float(c),
            "pure_nash_welfare": self.welfare(c),
            "mixed_nash_go_probability": q,
            "mixed_nash_attendance": n * q,
            "mixed_nash_payoff": mixed_payoff,
            "social_optimum_welfare": self.optimum_welfare(),
        }
        if self.minority:
            values["pure_nash_attendance_high"] = float(c + 1)
        return Benchmark(
            "Nash equilibrium (pure and symmetric mixed)",
            values,
            "Pure equilibria put exactly `seats` players in the bar (or seats + 1 in the "
            "minority game); in the symmetric mixed equilibrium everyone goes with "
            "probability mixed_nash_go_probability and is indifferent.",
        )


SPECS = (
    EnvSpec("ElFarol-v1", ElFarolGame, "agora.envs.games.el_farol_text:ElFarolText",
            summary="El Farol bar (capacity 60%, +1/-1/0) or minority game, N players",
            default_opponent="elfarol_threshold"),
)
