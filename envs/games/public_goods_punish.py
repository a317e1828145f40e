"""Linear public goods game with a costly punishment stage every round.

Each round has two simultaneous stages. In the contribution stage every player splits an
endowment ``E`` between a private account and a pot; the pot is multiplied by ``m`` and
shared equally. In the punishment stage every player, having seen the contributions,
spends punishment points ``p_i`` in ``0..max_punish``. A player's points fall on the lowest
contributor(s) among the *other* players (ties share the points equally): each point costs
the punisher ``punish_cost`` and removes ``punish_effect`` from the target(s) in total.
With ``T_j`` the targets of player ``j``, player ``i``'s round payoff is
``u_i = E - c_i + m * sum(c) / n - punish_cost * p_i
- sum_{j : i in T_j} punish_effect * p_j / |T_j|``.

Players: ``n_players`` (>= 2), moving simultaneously in both stages.
Actions: contribution stage ``c`` in ``0..endowment``; punishment stage ``p`` in
``0..max_punish`` (the action space is ``0..max(endowment, max_punish)``, masked).
Observations: typed :class:`PunishView` (in the punishment stage it holds this round's
contributions); tensor: round progress, stage, own and the others' mean and minimum latest
contribution (fractions of ``E``), own and the others' mean latest points (fractions of
``max_punish``).
Payoffs: the contribution-stage part of ``u_i`` at the contribution step, the punishment
part (cost and damage, <= 0) at the punishment step.
Episode end: after the punishment stage of round ``rounds``.
Parameters: ``n_players``, ``endowment``, ``multiplier``, ``rounds``, ``punish_cost`` (> 0),
``punish_effect`` (> 0), ``max_punish``, ``framing``.
Benchmark: with selfish players and ``1 < m < n`` the unique subgame-perfect equilibrium is
to contribute 0 and punish 0 in every round (punishing costs and cannot pay back in the
last round, so by backward induction it is never credible), payoff ``E`` per round; the
social optimum is full contribution without punishment, ``m E`` per round.
Reference: Fehr & Gaechter (2000), AER 90(4); Fehr & Gaechter (2002), Nature 415;
Vallinder & Hughes (2024).
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
from agora.envs.games.public_goods import range_values
from agora.envs.spec import EnvSpec

FRAMINGS = ("neutral", "project", "economic")
"""Text-face wordings: points in accounts A/B and deductions; a team sharing a project
bonus that can dock the pay of its laziest member; the vocabulary of experimental
economics (public good, MPCR, costly punishment)."""


def targets(contributions: tuple[int, ...], punisher: int) -> tuple[int, ...]:
    """The players ``punisher``'s points fall on: the lowest contributor(s) among the others.

    Example:
        >>> targets((10, 4, 0, 0), 0), targets((10, 4, 0, 0), 2)
        ((2, 3), (3,))
    """
    others = [j for j in range(len(contributions)) if j != punisher]
    low = min(contributions[j] for j in others)
    return tuple(j for j in others if contributions[j] == low)


def damage(contributions: tuple[int, ...], points: tuple[int, ...],
           effect: float) -> tuple[float, ...]:
    """Payoff each player loses to the others' punishment points."""
    lost = [0.0] * len(contributions)
    for j, p in enumerate(points):
        if p:
            hit = targets(contributions, j)
            for t in hit:
                lost[t] += effect * p / len(hit)
    return tuple(lost)


@dataclass(frozen=True)
class PunishParams(Params):
    """Numbers of a public goods game with punishment.

    Attributes:
        n_players: group size.
        endowment: whole tokens each player receives per round (``E``).
        multiplier: factor applied to the pot before sharing (``m``).
        rounds: rounds played (each a contribution and a punishment stage).
        punish_cost: what one punishment point costs the punisher.
        punish_effect: what one punishment point removes from its target(s) in total.
        max_punish: most points a player may spend in one punishment stage.
        framing: wording of the text face, one of :data:`FRAMINGS`.
    """

    n_players: int = 4
    endowment: int = 20
    multiplier: float = 1.6
    rounds: int = 10
    punish_cost: float = 1.0
    punish_effect: float = 3.0
    max_punish: int = 10
    framing: str = "neutral"

    def validate(self) -> None:
        require(is_int(self.n_players) and self.n_players >= 2, "n_players",
                self.n_players, "must be an integer >= 2")
        require(is_int(self.endowment) and self.endowment >= 1, "endowment",
                self.endowment, "must be a positive integer")
        require(is_real(self.multiplier) and self.multiplier > 0, "multiplier",
                self.multiplier, "must be a positive number")
        require(is_int(self.rounds) and self.rounds >= 1, "rounds", self.rounds,
                "must be a positive integer")
        require(is_real(self.punish_cost) and self.punish_cost > 0, "punish_cost",
                self.punish_cost, "must be a positive number")
        require(is_real(self.punish_effect) and self.punish_effect > 0, "punish_effect",
                self.punish_effect, "must be a positive number")
        require(is_int(self.max_punish) and self.max_punish >= 1, "max_punish",
                self.max_punish, "must be a positive integer")
        require(self.framing in FRAMINGS, "framing", self.framing, f"must be one of {FRAMINGS}")


class PunishState(NamedTuple):
    round: int  # rounds completed
    punishing: bool  # True between a round's contribution and punishment stages
    contributions: tuple[int, ...]  # of the latest contribution stage; () before round 1
    points: tuple[int, ...]  # of the latest punishment stage; () before the first
    lost: tuple[float, ...]  # payoff each lost to punishment in the latest punishment stage
    totals: tuple[float, ...]
    contributed: int  # tokens contributed by everyone so far
    spent: int  # punishment points spent by everyone so far
    status: Status


class PunishView(NamedTuple):
    """One player's view: progress, the stage, the rules' numbers and the latest moves.

    ``my_last``/``others_last`` are the latest contributions: this round's while
    punishing, last round's while contributing (-1 and () before round 1). The points and
    the loss are those of the latest punishment stage (-1, () and 0.0 before the first).
    """

    round: int
    rounds: int
    punishing: bool
    endowment: int
    multiplier: float
    n_players: int
    punish_cost: float
    punish_effect: float
    max_punish: int
    my_last: int
    others_last: tuple[int, ...]
    my_points_last: int
    others_points_last: tuple[int, ...]
    my_loss_last: float
    my_total: float


def _others(values: tuple, player: int) -> tuple:
    return values[:player] + values[player + 1:]


class PublicGoodsPunishGame(Game[PunishParams, PunishState, PunishView]):
    """Pure rules of the public goods game with punishment. See the module docstring."""

    info = GameInfo(
        name="PublicGoodsPunish",
        timing=Timing.SIMULTANEOUS,
        description="Linear public goods game with a costly peer-punishment stage per round.",
        family="social dilemmas",
        reference="Fehr & Gaechter 2000",
    )
    params_type = PunishParams
    observation_shape = (7,)

    def __init__(self, params: PunishParams | dict | None = None) -> None:
        super().__init__(params)
        p = self.params
        self._masks = tuple(self._range_mask(k) for k in (p.endowment, p.max_punish))
        bench = self.benchmark().values
        self._spe_pay = (bench["spe_payoff_per_round_min"], bench["spe_payoff_per_round_max"])

    def _range_mask(self, high: int) -> np.ndarray:
        mask = np.zeros(self.num_actions, dtype=bool)
        mask[: high + 1] = True
        mask.flags.writeable = False
        return mask

    @property
    def num_players(self) -> int:  # type: ignore[override]
        return self.params.n_players

    @property
    def num_actions(self) -> int:  # type: ignore[override]
        return max(self.params.endowment, self.params.max_punish) + 1

    def initial_state(self, rng: np.random.Generator) -> PunishState:
        n = self.params.n_players
        return PunishState(0, False, (), (), (0.0,) * n, (0.0,) * n, 0, 0, Status.RUNNING)

    def legal_mask(self, state: PunishState, player: int) -> np.ndarray:
        if state.status is not Status.RUNNING:
            return self._none_legal
        return self._masks[state.punishing]

    def contribution_payoffs(self, contributions: tuple[int, ...]) -> tuple[float, ...]:
        """The contribution stage's part of the round payoff, ``E - c_i + m sum(c) / n``."""
        p = self.params
        share = p.multiplier * sum(contributions) / p.n_players
        return tuple(p.endowment - c + share for c in contributions)

    def punishment_payoffs(self, contributions: tuple[int, ...],
                           points: tuple[int, ...]) -> tuple[float, ...]:
        """The punishment stage's part of the round payoff (cost plus damage, <= 0)."""
        p = self.params
        lost = damage(contributions, points, p.punish_effect)
        return tuple(-p.punish_cost * k - d for k, d in zip(points, lost, strict=True))

    def stage_payoffs(self, actions: tuple[int, ...]) -> tuple[float, ...]:
        """Round payoffs for ``n`` contributions (no punishment) or ``n`` contributions
        followed by ``n`` punishment choices."""
        n = self.params.n_players
        contributions, points = tuple(actions[:n]), tuple(actions[n:]) or (0,) * n
        return tuple(a + b for a, b in zip(self.contribution_payoffs(contributions),
                                           self.punishment_payoffs(contributions, points),
                                           strict=True))

    def step(self, state: PunishState, actions: tuple[int, ...],
             rng: np.random.Generator) -> StepResult:
        acts = tuple(int(a) for a in actions)
        if not state.punishing:
            rewards = self.contribution_payoffs(acts)
            new = state._replace(punishing=True, contributions=acts,
                                 totals=_add(state.totals, rewards),
                                 contributed=state.contributed + sum(acts))
            return StepResult(new, rewards)
        rewards = self.punishment_payoffs(state.contributions, acts)
        played = state.round + 1
        over = played >= self.params.rounds
        lost = damage(state.contributions, acts, self.params.punish_effect)
        new = state._replace(round=played, punishing=False, points=acts, lost=lost,
                             totals=_add(state.totals, rewards), spent=state.spent + sum(acts),
                             status=Status.TERMINATED if over else Status.RUNNING)
        return StepResult(new, rewards)

    def view(self, state: PunishState, player: int) -> PunishView:
        p = self.params
        c, k = state.contributions, state.points
        return PunishView(
            state.round, p.rounds, state.punishing, p.endowment, p.multiplier, p.n_players,
            p.punish_cost, p.punish_effect, p.max_punish,
            c[player] if c else -1, _others(c, player) if c else (),
            k[player] if k else -1, _others(k, player) if k else (),
            state.lost[player], state.totals[player],
        )

    def encode(self, state: PunishState, player: int) -> np.ndarray:
        p = self.params
        n, e, q = p.n_players, p.endowment, p.max_punish
        out = [state.round / p.rounds, float(state.punishing), 0.0, 0.0, 0.0, 0.0, 0.0]
        if state.contributions:
            others = _others(state.contributions, player)
            out[2:5] = [state.contributions[player] / e, sum(others) / ((n - 1) * e),
                        min(others) / e]
        if state.points:
            out[5] = state.points[player] / q
            out[6] = (sum(state.points) - state.points[player]) / ((n - 1) * q)
        return np.array(out, dtype=np.float32)

    def returns(self, state: PunishState) -> tuple[float, ...]:
        return state.totals

    def metrics(self, state: PunishState) -> dict[str, float]:
        """Outcomes. ``contribution_rate``: tokens contributed / tokens endowed;
        ``punishment_spent``: points spent by everyone (``punishment_rate`` as a fraction
        of the most possible); ``efficiency``: total payoff / the optimum's; ``fairness``:
        1 - Gini of the payoffs; ``distance_to_benchmark``: mean absolute gap between a
        player's payoff per round and the SPE payoff, in units of the endowment (at
        ``m = n``, where any contribution is an SPE, the gap to the range ``[E, m E]`` of a
        player's SPE payoffs)."""
        p = self.params
        n = p.n_players
        stages = max(state.round + int(state.punishing), 1)
        rounds = max(state.round, 1)
        low, high = self._spe_pay
        per_round = [t / stages for t in state.totals]
        return {
            **gains(state.totals),
            "rounds": float(state.round),
            "contribution_rate": state.contributed / (stages * n * p.endowment),
            "punishment_spent": float(state.spent),
            "punishment_rate": state.spent / (rounds * n * p.max_punish),
            "efficiency": sum(state.totals) / (stages * n * p.endowment * max(1.0, p.multiplier)),
            "fairness": fairness(state.totals),
            "distance_to_benchmark": sum(max(low - u, 0.0, u - high) for u in per_round)
            / (n * p.endowment),
        }

    def benchmark(self) -> Benchmark:
        """SPE and optimum; at ``m = n`` (and ``m = 1`` for the optimum) every contribution
        qualifies, so the point keys are NaN and ``_min``/``_max`` keys give the range."""
        p = self.params
        e, m, n = float(p.endowment), float(p.multiplier), p.n_players
        spe = (0.0, 0.0) if m < n else (e, e) if m > n else (0.0, e)
        best = (0.0, 0.0) if m < 1 else (e, e) if m > 1 else (0.0, e)
        spe_pay = tuple(e + (m - 1) * c for c in spe)  # symmetric profiles
        opt_pay = e * max(1.0, m)
        gain = e * (1 - m / n)  # what a lone free rider gains per round over cooperating
        return Benchmark(
            "subgame-perfect equilibrium (selfish players)",
            {
                **range_values("spe_contribution", spe),
                "spe_punishment": 0.0,
                **range_values("spe_payoff_per_round", (spe_pay[0], spe_pay[1])),
                **range_values("spe_payoff_total", (spe_pay[0] * p.rounds, spe_pay[1] * p.rounds)),
                "spe_unique": float(spe[0] == spe[1]),
                **range_values("optimum_contribution", best),
                "optimum_payoff_per_round": opt_pay,
                "optimum_payoff_total": opt_pay * p.rounds,
                "free_ride_gain_per_round": max(gain, 0.0),
                "deterrent_points_per_round": max(gain, 0.0) / p.punish_effect,
            },
            "Punishment costs the punisher and pays back nothing in the last round, so "
            "selfish players never punish and (with m < n) never contribute; at m = n "
            "contributing changes nothing for the giver, so any contribution is an SPE. "
            "deterrent_points_per_round: points the others must spend in total on a lone "
            "free rider to take away its gain.",
        )


def _add(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(x + y for x, y in zip(a, b, strict=True))


SPECS = (
    EnvSpec("PublicGoodsPunish-v1", PublicGoodsPunishGame,
            "agora.envs.games.public_goods_punish_text:PublicGoodsPunishText",
            summary="Public goods with a costly peer-punishment stage each round "
                    "(Fehr & Gaechter)",
            default_opponent="punish_cooperator"),
)
