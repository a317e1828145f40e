"""Rubinstein alternating-offers bargaining over a pie.

Player 0 proposes in odd rounds, player 1 in even rounds. A proposal is the number of
pie units (out of ``granularity``) the proposer keeps; the responder accepts or rejects.
On acceptance in round ``r`` each player receives its share of ``pie`` discounted by its
own factor ``discounts[i] ** (r - 1)``. If nobody has agreed after ``horizon`` rounds both
get nothing.

Players: 2, alternating proposer and responder.
Actions: when proposing, ``k`` in ``0..granularity`` (units kept); when responding,
``0`` reject / ``1`` accept (masked).
Observations: typed :class:`BargainView`; tensor: round progress, role, the offer on the
table and both discount factors.
Payoffs: discounted shares on agreement, paid at the accepting step; 0 otherwise.
Episode end: agreement, or rejection in round ``horizon``.
Benchmark: the subgame-perfect equilibrium by backward induction: immediate agreement
with the first proposer keeping ``x_1`` where ``x_H = 1`` and
``x_t = 1 - d_responder * x_{t+1}``; as ``horizon`` grows this tends to Rubinstein's
``(1 - d_1) / (1 - d_0 d_1)``. On the grid a responder can be exactly indifferent
(``d * units`` whole), so there may be several SPEs: ``spe_keep_units`` is the one where
indifferent responders accept, ``spe_keep_units_min/max`` span the round-1 agreements of
every pure SPE and ``spe_unique`` / ``spe_delay_possible`` say whether the outcome is
unique and whether some SPE agrees late or never (:mod:`.bargaining_spe`).
Metrics: ``gain_i``, ``agreed``, ``agreement_round``, ``share_0``, ``efficiency``,
``fairness``; ``distance_to_benchmark`` is ``|r_0 / pie - s|`` for the nearest pure SPE
outcome's discounted share ``s`` of player 0.
Reference: Rubinstein (1982), Econometrica 50(1); Osborne & Rubinstein (1990) ch. 3.
Version history: v0, first release; v1, ``reset(seed=...)`` of every shell follows the
one seeding rule (:mod:`agora.envs.seeding`), so a record's seed replays its episode.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from agora.envs.core import (
    Benchmark,
    Game,
    GameInfo,
    Params,
    Status,
    StepResult,
    Timing,
    gains,
    is_int,
    is_real,
    require,
)
from agora.envs.games.bargaining_spe import SpeOutcomes, spe_outcomes, spe_range_values
from agora.envs.spec import EnvSpec

ACCEPT, REJECT = 1, 0

FRAMINGS = ("discount", "inflation", "story")
"""Text-face wordings: plain discount factors; GLEE's inflation wording (money loses
(1-d)*100% of its value per round); a story of two partners splitting a bonus."""


@dataclass(frozen=True)
class BargainParams(Params):
    """Numbers of a bargaining game.

    Attributes:
        pie: money to divide.
        granularity: number of indivisible units the pie is cut into.
        discounts: per-player discount factor per round, in (0, 1].
        horizon: the last round; rejection there ends the game with no deal.
    """

    pie: float = 1.0
    granularity: int = 100
    discounts: tuple[float, float] = (0.9, 0.9)
    horizon: int = 10
    framing: str = "discount"

    def validate(self) -> None:
        require(is_real(self.pie) and self.pie > 0, "pie", self.pie, "must be a positive number")
        require(is_int(self.granularity) and self.granularity >= 1, "granularity",
                self.granularity, "must be a positive integer")
        d = self.discounts
        require(isinstance(d, tuple) and len(d) == 2 and all(is_real(x) and 0 < x <= 1 for x in d),
                "discounts", d, "must be two factors in (0, 1]")
        require(is_int(self.horizon) and self.horizon >= 1, "horizon", self.horizon,
                "must be a positive integer")
        require(self.framing in FRAMINGS, "framing", self.framing, f"must be one of {FRAMINGS}")


class BargainState(NamedTuple):
    round: int  # 1-based
    offer: int  # units the proposer keeps, -1 while nothing is on the table
    agreed_round: int  # 0 without agreement
    units_0: int  # units player 0 gets under the agreement
    status: Status


class BargainView(NamedTuple):
    """One player's view: round, role, the offer to it (units, -1 if none) and the terms."""

    round: int
    horizon: int
    proposing: bool
    offer_to_me: int
    my_discount: float
    their_discount: float
    granularity: int
    pie: float


def proposer(round_: int) -> int:
    """Player who proposes in a (1-based) round."""
    return (round_ - 1) % 2


def spe_keep_units(discounts: tuple[float, float], horizon: int, granularity: int,
                   round_: int = 1) -> int:
    """Units the proposer keeps from ``round_`` on in the SPE where indifferent responders accept.

    Backward induction: the last proposer keeps everything; earlier, the responder is
    offered the fewest units worth at least what it gets by proposing next round. When a
    responder is exactly indifferent other SPEs exist too: see
    :func:`agora.envs.games.bargaining_spe.spe_outcomes` for all of them.
    """
    keep = granularity
    for r in range(horizon - 1, round_ - 1, -1):
        responder = 1 - proposer(r)
        need = math.ceil(discounts[responder] * keep - 1e-9)
        keep = granularity - need
    return keep


def spe_share(discounts: tuple[float, float], horizon: int) -> float:
    """Share the first proposer keeps in the SPE of the continuous finite-horizon game."""
    keep = 1.0
    for r in range(horizon - 1, 0, -1):
        keep = 1.0 - discounts[1 - proposer(r)] * keep
    return keep


def rubinstein_share(discounts: tuple[float, float]) -> float:
    """Infinite-horizon SPE share of the first proposer, ``(1 - d1) / (1 - d0 d1)``."""
    d0, d1 = discounts
    return 1.0 if d0 * d1 == 1 else (1 - d1) / (1 - d0 * d1)


class AlternatingOffers:
    """Turn logic of two-player alternating-offer games (Rubinstein, GLEE's bargaining).

    States carry ``round`` (1-based), ``offer`` (-1 while nothing is on the table) and
    ``status``; player 0 proposes in odd rounds. A proposer may play any action, a
    responder only ``REJECT`` (0) or ``ACCEPT`` (1). Mix in before :class:`Game`.
    """

    num_actions: int
    _all_legal: np.ndarray
    _none_legal: np.ndarray

    @functools.cached_property
    def _respond_mask(self) -> np.ndarray:
        respond = np.zeros(self.num_actions, dtype=bool)
        respond[[REJECT, ACCEPT]] = True
        respond.flags.writeable = False
        return respond

    def to_move(self, state: Any) -> tuple[int, ...]:
        if state.status is not Status.RUNNING:
            return ()
        p = proposer(state.round)
        return (p,) if state.offer < 0 else (1 - p,)

    def legal_mask(self, state: Any, player: int) -> np.ndarray:
        if player not in self.to_move(state):
            return self._none_legal
        return self._all_legal if state.offer < 0 else self._respond_mask


class BargainingGame(AlternatingOffers, Game[BargainParams, BargainState, BargainView]):
    """Pure rules of alternating-offers bargaining. See the module docstring."""

    info = GameInfo(
        name="Bargaining",
        timing=Timing.SEQUENTIAL,
        description="Rubinstein alternating-offers bargaining with per-player discounts.",
        family="bargaining",
        reference="Rubinstein 1982",
    )
    params_type = BargainParams
    num_players = 2
    observation_shape = (6,)

    @functools.cached_property
    def _outcomes(self) -> SpeOutcomes:
        p = self.params  # frozen
        return spe_outcomes(p.discounts, p.horizon, p.granularity)

    @property
    def num_actions(self) -> int:  # type: ignore[override]
        return self.params.granularity + 1

    def initial_state(self, rng: np.random.Generator) -> BargainState:
        return BargainState(1, -1, 0, -1, Status.RUNNING)

    def step(self, state: BargainState, actions: tuple[int, ...], rng: np.random.Generator
             ) -> StepResult:
        (action,) = actions
        if state.offer < 0:  # a proposal goes on the table
            return StepResult(state._replace(offer=action), (0.0, 0.0))
        p = proposer(state.round)
        if action == ACCEPT:
            g = self.params.granularity
            units = [0, 0]
            units[p], units[1 - p] = state.offer, g - state.offer
            rewards = self._discounted(units, state.round)
            new = BargainState(state.round, -1, state.round, units[0], Status.TERMINATED)
            return StepResult(new, rewards)
        if state.round >= self.params.horizon:
            return StepResult(state._replace(offer=-1, status=Status.TERMINATED), (0.0, 0.0))
        return StepResult(BargainState(state.round + 1, -1, 0, -1, Status.RUNNING), (0.0, 0.0))

    def _discounted(self, units: list[int], round_: int) -> tuple[float, float]:
        p = self.params
        return tuple(  # type: ignore[return-value]
            units[i] / p.granularity * p.pie * p.discounts[i] ** (round_ - 1) for i in (0, 1)
        )

    def view(self, state: BargainState, player: int) -> BargainView:
        p = self.params
        proposing = state.status is Status.RUNNING and proposer(state.round) == player
        offer = -1
        if state.offer >= 0 and not proposing:
            offer = p.granularity - state.offer
        return BargainView(state.round, p.horizon, proposing and state.offer < 0, offer,
                           p.discounts[player], p.discounts[1 - player], p.granularity, p.pie)

    def encode(self, state: BargainState, player: int) -> np.ndarray:
        v = self.view(state, player)
        responding = v.offer_to_me >= 0
        return np.array([
            min(v.round / v.horizon, 1.0), float(v.proposing), float(responding),
            v.offer_to_me / v.granularity if responding else 0.0,
            v.my_discount, v.their_discount,
        ], dtype=np.float32)

    def returns(self, state: BargainState) -> tuple[float, ...]:
        if not state.agreed_round:
            return (0.0, 0.0)
        g = self.params.granularity
        return self._discounted([state.units_0, g - state.units_0], state.agreed_round)

    def metrics(self, state: BargainState) -> dict[str, float]:
        agreed = state.agreed_round > 0
        share0 = state.units_0 / self.params.granularity if agreed else float("nan")
        r0, r1 = self.returns(state)
        pie = self.params.pie
        return {
            **gains((r0, r1)),
            "agreed": float(agreed),
            "agreement_round": float(state.agreed_round),
            "share_0": share0,
            "efficiency": (r0 + r1) / pie,
            "fairness": 1 - 4 * (share0 - 0.5) ** 2 if agreed else float("nan"),
            # |first proposer's discounted share - the nearest pure SPE outcome's|
            "distance_to_benchmark": self._outcomes.distance(r0 / pie),
        }

    def benchmark(self) -> Benchmark:
        p = self.params
        keep = spe_keep_units(p.discounts, p.horizon, p.granularity)
        return Benchmark(
            "subgame-perfect equilibrium",
            {
                "spe_share_first_proposer": spe_share(p.discounts, p.horizon),
                "spe_share_infinite_horizon": rubinstein_share(p.discounts),
                "spe_keep_units": float(keep),
                "spe_agreement_round": 1.0,
                **spe_range_values(self._outcomes, p.granularity, "spe_keep_units",
                                   "spe_keep_share"),
            },
            "spe_keep_units (agreed in round 1) is exact for the discrete game when "
            "indifferent responders accept; with ties the pure SPEs agree in round 1 on "
            "spe_keep_units_min..max (or, if spe_delay_possible, later); "
            "spe_share_first_proposer is the SPE for a continuous pie with this horizon.",
        )


SPECS = (
    EnvSpec("Bargaining-v1", BargainingGame, "agora.envs.games.bargaining_text:BargainingText",
            summary="Rubinstein alternating offers with per-player discounts",
            default_opponent="spe_bargainer"),
)
