"""Repeated 2x2 matrix games (the prisoner's dilemma by default).

Two players choose simultaneously between action 0 and action 1 each round and are paid
from the bimatrix. The game lasts a fixed number of rounds, or, with a continuation
probability ``delta > 0``, after each round it goes on with probability ``delta`` (then
``rounds`` is only a cap, and hitting it truncates the episode).

Players: 2 (``player_0`` picks the row, ``player_1`` the column).
Actions: ``0`` and ``1`` (for the prisoner's dilemma: cooperate, defect); always legal.
Observations: typed :class:`MatrixView`; tensor: one-hot of both players' last actions.
Payoffs: the bimatrix entry each round, as that round's reward.
Episode end: after ``rounds`` rounds, or by chance with continuation ``delta``.
Benchmark: every Nash equilibrium of the stage game, pure and mixed (for the PD, mutual
defection, which is also the unique subgame-perfect outcome of the finitely repeated game;
with tied payoffs the ends of each segment of equilibria), and for a PD the grim-trigger
threshold on ``delta``: the larger of the players' ``(T-R)/(T-P)``.
``distance_to_benchmark`` is measured to the nearest stage equilibrium's payoffs.
Reference: Axelrod (1984), *The Evolution of Cooperation*; Fudenberg & Tirole (1991) ch. 5.
Version history: v0, first release; v1, ``reset(seed=...)`` of every shell follows the
one seeding rule (:mod:`agora.envs.seeding`), so a record's seed replays its episode.
"""

from __future__ import annotations

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
    require,
)
from agora.envs.games.stage_nash import (
    equilibrium_boxes,
    grim_trigger_threshold,
    listed_values,
    mixed_nash,
    payoff_distance,
    payoff_images,
    pure_nash,
)
from agora.envs.spec import EnvSpec

__all__ = [  # the stage-game theory helpers live in stage_nash and are re-exported here
    "FRAMINGS", "PD_PAYOFFS", "PRESETS", "SPECS", "MatrixParams", "MatrixState", "MatrixView",
    "RepeatedMatrixGame", "grim_trigger_threshold", "matrix_benchmark", "mixed_nash",
    "pure_nash",
]

_RUNNING, _TERMINATED, _TRUNCATED = Status.RUNNING, Status.TERMINATED, Status.TRUNCATED

PD_PAYOFFS = (((3.0, 3.0), (0.0, 5.0)), ((5.0, 0.0), (1.0, 1.0)))
"""R=3, S=0, T=5, P=1 (Axelrod's tournament values); ``payoffs[a0][a1] = (u0, u1)``."""

PRESETS: dict[str, tuple[tuple[tuple[tuple[float, float], ...], ...], tuple[str, str]]] = {
    "prisoners_dilemma": (PD_PAYOFFS, ("cooperate", "defect")),
    "stag_hunt": ((((4.0, 4.0), (0.0, 3.0)), ((3.0, 0.0), (3.0, 3.0))), ("stag", "hare")),
    "chicken": ((((3.0, 3.0), (1.0, 4.0)), ((4.0, 1.0), (0.0, 0.0))), ("swerve", "straight")),
    "battle_of_sexes": ((((3.0, 2.0), (0.0, 0.0)), ((0.0, 0.0), (2.0, 3.0))),
                        ("opera", "football")),
    "matching_pennies": ((((1.0, -1.0), (-1.0, 1.0)), ((-1.0, 1.0), (1.0, -1.0))),
                         ("heads", "tails")),
}
"""Named 2x2 games: payoffs and action labels (action 0 is the cooperative/first option)."""

FRAMINGS = ("plain", "neutral", "business")
"""Text-face wordings: the game's own labels, letters A/B without loaded words, or a story
of two firms choosing between a high price (action 0) and a low price (action 1)."""


@dataclass(frozen=True)
class MatrixParams(Params):
    """Numbers of a repeated 2x2 game.

    Attributes:
        payoffs: ``payoffs[a0][a1] == (u0, u1)``.
        rounds: rounds played (a cap when ``delta > 0``).
        delta: continuation probability after each round; 0 means exactly ``rounds``.
        labels: names of actions 0 and 1, used by the text face.
    """

    payoffs: tuple[tuple[tuple[float, float], ...], ...] = PD_PAYOFFS
    rounds: int = 10
    delta: float = 0.0
    labels: tuple[str, str] = ("cooperate", "defect")
    framing: str = "plain"

    def validate(self) -> None:
        try:
            cells = np.asarray(self.payoffs, dtype=object)
            ok = cells.shape == (2, 2, 2) and all(is_real(x) for x in cells.flat)
        except ValueError:  # ragged nesting
            ok = False
        require(ok, "payoffs", self.payoffs, "must be 2x2 pairs of numbers (u0, u1)")
        require(is_int(self.rounds) and self.rounds >= 1, "rounds", self.rounds,
                "must be a positive integer")
        require(is_real(self.delta) and 0.0 <= self.delta < 1.0, "delta", self.delta,
                "must be a number in [0, 1)")
        labels = self.labels
        require(isinstance(labels, tuple) and len(labels) == 2
                and all(isinstance(x, str) and x.strip() for x in labels)
                and labels[0].strip().lower() != labels[1].strip().lower(),
                "labels", labels, "must be two distinct non-empty names")
        require(self.framing in FRAMINGS, "framing", self.framing, f"must be one of {FRAMINGS}")


class MatrixState(NamedTuple):
    round: int
    last: tuple[int, int]
    totals: tuple[float, float]
    zeros: tuple[int, int]  # times each player chose action 0
    mutual_zero: int
    status: Status


class MatrixView(NamedTuple):
    """What one player sees: rounds played, last actions (-1 before round 1), scores."""

    round: int
    rounds: int
    my_last: int
    their_last: int
    my_score: float
    their_score: float

    @property
    def others_last(self) -> tuple[int, ...]:
        """The other player's last action as a tuple (the N-player convention)."""
        return (self.their_last,)


def _one_hot_table() -> tuple[tuple[np.ndarray, ...], ...]:
    table = []
    for mine in (-1, 0, 1):
        row = []
        for theirs in (-1, 0, 1):
            v = np.zeros(6, dtype=np.float32)
            v[mine + 1] = 1.0
            v[3 + theirs + 1] = 1.0
            v.flags.writeable = False
            row.append(v)
        table.append(tuple(row))
    return tuple(table)


_ENCODED = _one_hot_table()


class RepeatedMatrixGame(Game[MatrixParams, MatrixState, MatrixView]):
    """Pure rules of a repeated 2x2 game. See the module docstring."""

    info = GameInfo(
        name="RepeatedMatrix",
        timing=Timing.SIMULTANEOUS,
        description="Repeated 2x2 bimatrix game (prisoner's dilemma by default).",
        family="repeated games",
        reference="Axelrod 1984; Fudenberg & Tirole 1991",
    )
    params_type = MatrixParams
    always_legal = True

    def __init__(self, params: MatrixParams | dict | None = None) -> None:
        super().__init__(params)
        p = self.params
        self._pay = tuple(tuple(tuple(float(x) for x in cell) for cell in row) for row in p.payoffs)
        self._delta = float(p.delta)
        self._rounds = p.rounds
        self._equilibria = equilibrium_boxes(self._pay)
        self._images = payoff_images(self._pay, self._equilibria)
        self._best_cell = max(u0 + u1 for row in self._pay for (u0, u1) in row)

    num_players = 2
    num_actions = 2
    observation_shape = (6,)

    def initial_state(self, rng: np.random.Generator) -> MatrixState:
        return MatrixState(0, (-1, -1), (0.0, 0.0), (0, 0), 0, Status.RUNNING)

    def step(self, state: MatrixState, actions: tuple[int, ...], rng: np.random.Generator
             ) -> StepResult:
        a0, a1 = actions
        u0, u1 = self._pay[a0][a1]
        played = state.round + 1
        status = _RUNNING
        if self._delta > 0.0:
            if rng.random() >= self._delta:
                status = _TERMINATED
            elif played >= self._rounds:
                status = _TRUNCATED
        elif played >= self._rounds:
            status = _TERMINATED
        z0, z1 = state.zeros
        t0, t1 = state.totals
        new = MatrixState(
            played, (a0, a1), (t0 + u0, t1 + u1), (z0 + (a0 == 0), z1 + (a1 == 0)),
            state.mutual_zero + (a0 == 0 and a1 == 0), status,
        )
        return StepResult(new, (u0, u1))

    def view(self, state: MatrixState, player: int) -> MatrixView:
        other = 1 - player
        return MatrixView(state.round, self.params.rounds, state.last[player], state.last[other],
                          state.totals[player], state.totals[other])

    def encode(self, state: MatrixState, player: int) -> np.ndarray:
        return _ENCODED[state.last[player] + 1][state.last[1 - player] + 1]

    def returns(self, state: MatrixState) -> tuple[float, ...]:
        return state.totals

    def metrics(self, state: MatrixState) -> dict[str, float]:
        n = max(state.round, 1)
        best_cell = self._best_cell
        mean = (state.totals[0] / n, state.totals[1] / n)
        return {
            **gains(state.totals),
            "rounds": float(state.round),
            "action0_rate_0": state.zeros[0] / n,
            "action0_rate_1": state.zeros[1] / n,
            "mutual_action0_rate": state.mutual_zero / n,
            "efficiency": sum(state.totals) / (n * best_cell) if best_cell > 0 else float("nan"),
            "fairness": fairness(state.totals),
            # mean gap between each player's payoff per round and its payoff in the
            # nearest stage Nash equilibrium
            "distance_to_benchmark": payoff_distance(self._pay, self._equilibria, mean,
                                                     self._images) / 2,
        }

    def benchmark(self) -> Benchmark:
        return matrix_benchmark(self._pay)

    def stage_payoffs(self, actions: tuple[int, ...]) -> tuple[float, ...]:
        """Both players' payoffs of one round for the joint action."""
        return self._pay[actions[0]][actions[1]]


def matrix_benchmark(pay: tuple) -> Benchmark:
    """Stage-game equilibria, the social optimum and (for a PD) grim's threshold.

    ``nash_count`` equilibria are listed as ``nash_{k}_prob0_{i}`` (player i's probability
    of action 0) and ``nash_{k}_payoff_{i}``: all of them, pure ones first, when the set is
    finite; with ties (``nash_continuum == 1``) the set holds segments of equilibria and the
    list holds their ends. The older keys describe the first listed pure equilibrium
    (``nash_action_i``, ``nash_payoff_i``) or, without one, the mixed one (``nash_prob0_i``).
    """
    boxes = equilibrium_boxes(pay)
    values: dict[str, float] = {
        "social_optimum_per_round": max(u0 + u1 for row in pay for (u0, u1) in row),
        **listed_values(pay, boxes),
    }
    eq = pure_nash(pay)
    if eq:
        a0, a1 = eq[0]
        values.update(nash_action_0=a0, nash_action_1=a1,
                      nash_payoff_0=pay[a0][a1][0], nash_payoff_1=pay[a0][a1][1])
    else:  # a game without a pure equilibrium is generic: its one equilibrium is mixed
        values.update({f"nash_{key}_{i}": values[f"nash_0_{key}_{i}"]
                       for key in ("prob0", "payoff") for i in (0, 1)})
    threshold = grim_trigger_threshold(pay)
    if threshold is not None:
        values["grim_trigger_threshold"] = threshold
        note = ("Prisoner's dilemma: mutual defection is the unique SPE outcome with a fixed "
                "number of rounds; with continuation delta >= grim_trigger_threshold (the "
                "larger of the two players' (T-R)/(T-P)), grim trigger sustains cooperation.")
    else:
        note = "Equilibria of the stage game; repeated play admits more equilibria."
    many = "a continuum" if values["nash_continuum"] else f"{len(boxes)}"
    concept = ("stage-game Nash equilibrium" if len(boxes) == 1 and boxes[0].isolated
               else f"stage-game Nash equilibria ({many})")
    return Benchmark(concept, values, note)


_TEXT = "agora.envs.games.repeated_matrix_text:RepeatedMatrixText"


def _preset(env_id: str, name: str, summary: str, opponent: str) -> EnvSpec:
    payoffs, labels = PRESETS[name]
    return EnvSpec(env_id, RepeatedMatrixGame, _TEXT, {"payoffs": payoffs, "labels": labels},
                   summary=summary, default_opponent=opponent)


SPECS = (
    _preset("RepeatedPD-v1", "prisoners_dilemma",
            "Repeated prisoner's dilemma (R=3,S=0,T=5,P=1), fixed or random end", "tit_for_tat"),
    _preset("StagHunt-v1", "stag_hunt", "Repeated stag hunt (coordination with risk)",
            "tit_for_tat"),
    _preset("Chicken-v1", "chicken", "Repeated chicken / hawk-dove (anti-coordination)",
            "tit_for_tat"),
    _preset("BattleOfSexes-v1", "battle_of_sexes",
            "Repeated battle of the sexes (coordination with conflict)", "fictitious_play"),
    _preset("MatchingPennies-v1", "matching_pennies",
            "Repeated matching pennies (zero-sum, mixed equilibrium only)", "random"),
    EnvSpec("RepeatedMatrix-v1", RepeatedMatrixGame, _TEXT,
            summary="Repeated 2x2 game with a custom payoff matrix (params.payoffs, labels)",
            default_opponent="random"),
)
