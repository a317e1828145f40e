"""Keynesian beauty contest: guess ``p`` times the average, repeated.

Each round every player guesses, at the same time, a whole number in ``0..max_guess``.
The target is ``p`` times the mean guess. With ``payoff="winner"`` the player(s) closest
to the target share ``prize`` equally (distances within ``1e-9`` of the smallest count as
ties); with ``payoff="distance"`` every player is paid by a quadratic loss,
``prize * (1 - ((g - target) / max_guess) ** 2)``, which lies in ``[0, prize]``.

Players: ``n_players`` (>= 2), moving simultaneously.
Actions: the guess ``g`` in ``0..max_guess`` (always legal).
Observations: typed :class:`BeautyView`; tensor: round progress, a started flag, own last
guess, the others' mean last guess and the last target (guesses and target as fractions of
``max_guess``).
Payoffs: the prize share (``winner``) or the quadratic-loss payment (``distance``), each
round.
Episode end: after ``rounds`` rounds.
Parameters: ``n_players``, ``rounds``, ``p`` in (0, 1), ``max_guess``, ``prize``,
``payoff``, ``framing``.
Benchmark: for ``p < 1`` iterated elimination of dominated guesses leaves everyone
guessing 0, the unique Nash equilibrium of the continuous game (payoff ``prize / n`` with
``winner``, ``prize`` with ``distance``). On the integer grid a few small common guesses
can also be equilibria (with ``p = 2/3`` and 10 players, everyone guessing 1 is one); the
benchmark lists how many symmetric grid equilibria there are and the largest. Level-k
reasoning from a level-0 guess of ``max_guess / 2`` guesses ``max_guess / 2 * p**k``.
Reference: Keynes (1936) ch. 12; Moulin (1986); Nagel (1995), AER 85(5); Ho, Camerer &
Weigelt (1998), AER 88(4); Huang et al. (2024), GAMA-Bench.
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
"""Text-face wordings: bare numbers and a target formula; a newspaper contest (Keynes);
a GAMA-Bench-like game show with numbered rules."""

PAYOFFS = ("winner", "distance")
"""Payment rules: the closest guess(es) share the prize, or everyone pays a quadratic loss."""

TIE = 1e-9
"""Distances this close to the smallest one tie (guards float rounding of ``p * mean``)."""


@dataclass(frozen=True)
class BeautyParams(Params):
    """Numbers of a beauty contest.

    Attributes:
        n_players: group size.
        rounds: rounds played.
        p: the target is ``p`` times the mean guess, ``0 < p < 1``.
        max_guess: guesses are whole numbers in ``0..max_guess``.
        prize: money per round (split among winners, or the most a player can earn).
        payoff: ``"winner"`` or ``"distance"`` (see the module docstring).
        framing: wording of the text face, one of :data:`FRAMINGS`.
    """

    n_players: int = 10
    rounds: int = 20
    p: float = 2 / 3
    max_guess: int = 100
    prize: float = 1.0
    payoff: str = "winner"
    framing: str = "gameshow"

    def validate(self) -> None:
        require(is_int(self.n_players) and self.n_players >= 2, "n_players",
                self.n_players, "must be an integer >= 2")
        require(is_int(self.rounds) and self.rounds >= 1, "rounds", self.rounds,
                "must be a positive integer")
        require(is_real(self.p) and 0 < self.p < 1, "p", self.p, "must be a number in (0, 1)")
        require(is_int(self.max_guess) and self.max_guess >= 1, "max_guess", self.max_guess,
                "must be a positive integer")
        require(is_real(self.prize) and self.prize > 0, "prize", self.prize,
                "must be a positive number")
        require(self.payoff in PAYOFFS, "payoff", self.payoff, f"must be one of {PAYOFFS}")
        require(self.framing in FRAMINGS, "framing", self.framing, f"must be one of {FRAMINGS}")


class BeautyState(NamedTuple):
    round: int
    last: tuple[int, ...]  # () before the first round
    last_payoffs: tuple[float, ...]  # () before the first round
    last_target: float  # -1.0 before the first round
    totals: tuple[float, ...]
    guess_sum: int  # every guess of every round, added up
    target_sum: float  # targets added up over rounds
    winner_sum: int  # number of closest players, added up over rounds
    status: Status


class BeautyView(NamedTuple):
    """One player's view: progress, the rules' numbers and last round's outcome."""

    round: int
    rounds: int
    n_players: int
    max_guess: int
    p: float
    prize: float
    payoff: str
    my_last: int  # -1 before the first round
    others_last: tuple[int, ...]
    last_target: float  # -1.0 before the first round
    my_last_payoff: float  # 0.0 before the first round
    my_score: float


def level_k_guess(k: int, p: float, max_guess: int, anchor: float | None = None) -> int:
    """The level-k guess ``anchor * p**k`` on the grid (nearest integer, halves up).

    ``anchor`` (the level-0 guess) defaults to ``max_guess / 2``.

    Example:
        >>> [level_k_guess(k, 2 / 3, 100) for k in range(5)]
        [50, 33, 22, 15, 10]
    """
    level0 = max_guess / 2 if anchor is None else anchor
    return min(max_guess, max(0, int(np.floor(level0 * p**k + 0.5))))


class BeautyContestGame(RepeatedGame[BeautyParams, BeautyState, BeautyView]):
    """Pure rules of the repeated beauty contest. See the module docstring."""

    info = GameInfo(
        name="BeautyContest",
        timing=Timing.SIMULTANEOUS,
        description="N-player p-beauty contest (guess p times the average), repeated.",
        family="GAMA-Bench",
        reference="Nagel 1995; Huang et al. 2024 (GAMA-Bench)",
    )
    params_type = BeautyParams
    always_legal = True
    observation_shape = (5,)

    def __init__(self, params: BeautyParams | dict | None = None) -> None:
        super().__init__(params)
        self._grid_equilibria: tuple[int, ...] | None = None

    @property
    def num_players(self) -> int:  # type: ignore[override]
        return self.params.n_players

    @property
    def num_actions(self) -> int:  # type: ignore[override]
        return self.params.max_guess + 1

    def initial_state(self, rng: np.random.Generator) -> BeautyState:
        n = self.params.n_players
        return BeautyState(0, (), (), -1.0, (0.0,) * n, 0, 0.0, 0, Status.RUNNING)

    def outcome(self, actions: tuple[int, ...]) -> tuple[tuple[float, ...], float, int]:
        """Payoffs, target and number of closest players of one round."""
        p = self.params
        target = p.p * sum(actions) / len(actions)
        dist = [abs(g - target) for g in actions]
        best = min(dist)
        closest = [d <= best + TIE for d in dist]
        k = sum(closest)
        if p.payoff == "winner":
            share = p.prize / k
            pay = tuple(share if c else 0.0 for c in closest)
        else:
            m = p.max_guess
            pay = tuple(p.prize * (1.0 - (d / m) ** 2) for d in dist)
        return pay, target, k

    def stage_payoffs(self, actions: tuple[int, ...]) -> tuple[float, ...]:
        """Every player's payoff of one round for the joint guess."""
        return self.outcome(actions)[0]

    def step(self, state: BeautyState, actions: tuple[int, ...],
             rng: np.random.Generator) -> StepResult:
        pay, target, k = self.outcome(actions)
        played, status = self.next_round(state)
        totals = add_up(state.totals, pay)
        new = BeautyState(played, tuple(actions), pay, target, totals,
                          state.guess_sum + sum(actions), state.target_sum + target,
                          state.winner_sum + k, status)
        return StepResult(new, pay)

    def view(self, state: BeautyState, player: int) -> BeautyView:
        p = self.params
        mine, others = last_moves(state.last, player)
        paid = state.last_payoffs[player] if state.last else 0.0
        return BeautyView(state.round, p.rounds, p.n_players, p.max_guess, p.p, p.prize,
                          p.payoff, mine, others, state.last_target, paid,
                          state.totals[player])

    def encode(self, state: BeautyState, player: int) -> np.ndarray:
        p = self.params
        if not state.last:
            return np.array([0.0, 0.0, 0.0, 0.0, 0.0], dtype=np.float32)
        m = p.max_guess
        mine = state.last[player]
        others = (sum(state.last) - mine) / (p.n_players - 1)
        return np.array([state.round / p.rounds, 1.0, mine / m, others / m,
                         state.last_target / m], dtype=np.float32)


    def metrics(self, state: BeautyState) -> dict[str, float]:
        p = self.params
        r = state.round
        nan = float("nan")
        mean_guess = state.guess_sum / (r * p.n_players) if r else nan
        optimum = r * self._optimum_welfare_per_round()
        return {
            **gains(state.totals),
            "rounds": float(r),
            "mean_guess": mean_guess,
            "target": state.target_sum / r if r else nan,
            "last_target": state.last_target if r else nan,
            "winners": state.winner_sum / r if r else nan,
            "efficiency": sum(state.totals) / optimum if r else nan,
            "fairness": fairness(state.totals),
            "distance_to_benchmark": mean_guess - 0.0,  # the equilibrium guess is 0
        }

    def _optimum_welfare_per_round(self) -> float:
        """Most money one round can pay everyone together (everyone guessing 0)."""
        p = self.params
        return p.prize if p.payoff == "winner" else p.n_players * p.prize

    def symmetric_grid_equilibria(self) -> tuple[int, ...]:
        """Common guesses ``c`` from which no player gains by any unilateral deviation.

        Checked exactly over every (common guess, deviation) pair of the integer grid.
        """
        if self._grid_equilibria is None:
            self._grid_equilibria = self._solve_grid_equilibria()
        return self._grid_equilibria

    def _solve_grid_equilibria(self) -> tuple[int, ...]:
        p = self.params
        n, m = p.n_players, p.max_guess
        c = np.arange(m + 1, dtype=float)[:, None]  # the others' common guess
        d = np.arange(m + 1, dtype=float)[None, :]  # one player's deviation
        target = p.p * (d + (n - 1) * c) / n
        dev, rest = np.abs(d - target), np.abs(c - target)
        if p.payoff == "winner":
            deviate = np.where(dev < rest - TIE, p.prize, np.where(dev <= rest + TIE,
                                                                   p.prize / n, 0.0))
            stay = np.full_like(c, p.prize / n)
        else:
            deviate = p.prize * (1.0 - (dev / m) ** 2)
            stay = p.prize * (1.0 - ((1.0 - p.p) * c / m) ** 2)
        profitable = (deviate > stay + 1e-12).any(axis=1)
        return tuple(int(x) for x in np.flatnonzero(~profitable))

    def benchmark(self) -> Benchmark:
        p = self.params
        grid = self.symmetric_grid_equilibria()
        half = p.max_guess / 2
        per_player = p.prize / p.n_players if p.payoff == "winner" else p.prize
        return Benchmark(
            "Nash equilibrium (iterated elimination of dominated strategies)",
            {
                "nash_guess": 0.0,
                "nash_target": 0.0,
                "nash_payoff_per_round": per_player,
                "social_optimum_welfare_per_round": self._optimum_welfare_per_round(),
                "symmetric_grid_equilibria": float(len(grid)),
                "largest_symmetric_grid_equilibrium": float(max(grid)),
                **{f"level_{k}_guess": half * p.p**k for k in range(4)},
            },
            "Everyone guessing 0 is the unique equilibrium of the continuous game; on the "
            "integer grid small common guesses can also be equilibria. Level-k guesses "
            "are given before rounding to the grid.",
        )


SPECS = (
    EnvSpec("BeautyContest-v1", BeautyContestGame,
            "agora.envs.games.beauty_contest_text:BeautyContestText",
            summary="Guess 2/3 of the average (0-100), N players, winner takes the prize",
            default_opponent="beauty_level_k"),
)
