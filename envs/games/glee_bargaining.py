"""GLEE bargaining: alternating offers over money M, with per-player inflation.

The bargaining family of GLEE (Shapira et al. 2024). Alice (player 0) and Bob (player 1)
divide ``money``. Alice offers in odd rounds, Bob in even rounds; an offer names Alice's
gain on a grid of ``granularity`` units (Bob gets the rest) and the other player accepts or
rejects. A deal in round ``r`` is worth ``gain_i * delta_i^(r-1)`` to player ``i`` (GLEE
tells players this as inflation: each round the money is worth ``(1 - delta) * 100%``
less). With ``complete_info`` each player knows both deltas, otherwise only its own; the
horizon ``T`` is shown only when ``show_horizon`` says so (``"auto"``: when ``T <= 20``,
as GLEE does, so ``T = 99`` plays as open-ended).

Players: 2, Alice (0) and Bob (1), alternating proposer and responder.
Actions: proposing, ``k`` in ``0..granularity`` (Alice's units, whoever proposes);
responding, ``0`` reject / ``1`` accept (masked).
Observations: typed :class:`GleeBargainView` (the other's delta is ``None`` under incomplete
information, the horizon ``None`` when hidden); tensor: round (progress only when the
horizon is shown), role, the offer to me, own delta, the other's delta and whether it is
known (both 0 when hidden), the last rejected offer.
Payoffs: money, ``units / granularity * money * delta_i^(r-1)``, paid on acceptance.
Episode end: acceptance, or rejection in round ``horizon`` (both get nothing).
Parameters: see :class:`GleeBargainParams`; ``messages`` adds an optional free-text
``"message"`` to the proposer's text answer (cheap talk, routed to the other player).
Metrics (GLEE, exact): ``p = alice_gain / M``; ``alice_share = p * delta_A^(r-1)``,
``bob_share = (1 - p) * delta_B^(r-1)`` (both 0 without agreement); ``gain_i`` = own share;
``efficiency = alice_share + bob_share``; ``fairness = 1 - 4 (p - 1/2)^2`` (NaN without
agreement, where ``p`` is undefined); ``distance_to_benchmark = |alice_share - s|`` for
the nearest pure SPE outcome's discounted share ``s`` of Alice.
Benchmark: the subgame-perfect equilibrium of the finite game by backward induction
(immediate agreement; exact in units for the grid when indifferent responders accept,
reusing :func:`agora.envs.games.bargaining.spe_keep_units`); since a responder can be
exactly indifferent on the grid, also the range of Alice's units over the round-1
agreements of every pure SPE and whether the SPE outcome is unique or may be delayed
(:mod:`agora.envs.games.bargaining_spe`, shared with ``Bargaining``); and Rubinstein's
infinite-horizon share ``(1 - delta_B) / (1 - delta_A delta_B)`` (NaN when both deltas
are 1: every split is one).
Reference: Shapira et al. (2024), GLEE; Rubinstein (1982), Econometrica 50(1).
Version history: v0, first release; v1, ``reset(seed=...)`` of every shell follows the
one seeding rule (:mod:`agora.envs.seeding`), so a record's seed replays its episode.
"""

from __future__ import annotations

import functools
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
    is_int,
    is_real,
    require,
)
from agora.envs.games.bargaining import (
    ACCEPT,
    AlternatingOffers,
    proposer,
    rubinstein_share,
    spe_keep_units,
    spe_share,
)
from agora.envs.games.bargaining_spe import SpeOutcomes, spe_outcomes, spe_range_values
from agora.envs.spec import EnvSpec

SHOW_HORIZON_MAX = 20
"""With ``show_horizon="auto"`` the horizon is shown iff ``horizon <= SHOW_HORIZON_MAX``."""

FRAMINGS = ("inflation", "discount", "shrinking")
"""Text wordings: GLEE's inflation (money loses ``(1-delta)*100%`` of its value per round);
plain discount factors ``delta^(r-1)``; the amount paid out shrinks with every delay."""


@dataclass(frozen=True)
class GleeBargainParams(Params):
    """Numbers of a GLEE bargaining game (defaults: GLEE's base cell, messages off).

    Attributes:
        money: the amount ``M`` to divide (GLEE: 1e2, 1e4, 1e6).
        granularity: number of equal units ``M`` is cut into (offers are whole units).
        deltas: ``(delta_A, delta_B)``, each player's discount in (0, 1].
        horizon: the last round ``T`` (GLEE: 99 or 12).
        show_horizon: ``"auto"`` (shown iff ``T <= 20``), ``True`` or ``False``.
        complete_info: each player knows both deltas (else only its own).
        messages: the proposer's text answer may carry a free-text message.
        framing: wording of the text face, one of :data:`FRAMINGS`.
    """

    money: float = 10_000.0
    granularity: int = 1000
    deltas: tuple[float, float] = (0.95, 0.95)
    horizon: int = 99
    show_horizon: str | bool = "auto"
    complete_info: bool = True
    messages: bool = False
    framing: str = "inflation"

    def validate(self) -> None:
        require(is_real(self.money) and self.money > 0, "money", self.money,
                "must be a positive number")
        require(is_int(self.granularity) and self.granularity >= 1, "granularity",
                self.granularity, "must be a positive integer")
        d = self.deltas
        require(isinstance(d, tuple) and len(d) == 2 and all(is_real(x) and 0 < x <= 1 for x in d),
                "deltas", d, "must be two discount factors in (0, 1]")
        require(is_int(self.horizon) and self.horizon >= 1, "horizon", self.horizon,
                "must be a positive integer")
        require(isinstance(self.show_horizon, bool) or self.show_horizon == "auto",
                "show_horizon", self.show_horizon, 'must be "auto", true or false')
        require(isinstance(self.complete_info, bool), "complete_info", self.complete_info,
                "must be true or false")
        require(isinstance(self.messages, bool), "messages", self.messages,
                "must be true or false")
        require(self.framing in FRAMINGS, "framing", self.framing, f"must be one of {FRAMINGS}")

    @property
    def horizon_shown(self) -> bool:
        """Whether players are told ``horizon`` (GLEE's rule under ``"auto"``)."""
        if isinstance(self.show_horizon, bool):
            return self.show_horizon
        return self.horizon <= SHOW_HORIZON_MAX


class GleeBargainState(NamedTuple):
    round: int  # 1-based
    offer: int  # Alice's units on the table, -1 while nothing is
    agreed_round: int  # 0 without agreement
    alice_units: int  # Alice's units under the agreement, -1 without one
    history: tuple[int, ...]  # Alice's units in each rejected offer, round by round
    status: Status


class GleeBargainView(NamedTuple):
    """One player's view. ``horizon`` is ``None`` when hidden; ``their_delta`` is ``None``
    under incomplete information; ``past_offers`` are Alice's units in rejected offers."""

    player: int
    round: int
    horizon: int | None
    proposing: bool
    offer_to_me: int
    my_delta: float
    their_delta: float | None
    granularity: int
    money: float
    past_offers: tuple[int, ...]
    over: bool


def glee_shares(p: float, deltas: tuple[float, float], agreed_round: int) -> tuple[float, float]:
    """GLEE's discounted shares ``(p d_A^(r-1), (1-p) d_B^(r-1))``; ``(0, 0)`` if ``r = 0``.

    Example:
        >>> glee_shares(0.6, (0.5, 0.8), 2)
        (0.3, 0.32000000000000006)
        >>> glee_shares(0.6, (0.5, 0.8), 0)
        (0.0, 0.0)
    """
    if agreed_round <= 0:
        return 0.0, 0.0
    return p * deltas[0] ** (agreed_round - 1), (1 - p) * deltas[1] ** (agreed_round - 1)


def glee_fairness(p: float) -> float:
    """GLEE's bargaining fairness ``1 - 4 (p - 1/2)^2`` (1 at an even split, 0 at 0 or 1)."""
    return 1.0 - 4.0 * (p - 0.5) ** 2


class GleeBargainingGame(AlternatingOffers,
                         Game[GleeBargainParams, GleeBargainState, GleeBargainView]):
    """Pure rules of GLEE bargaining. See the module docstring."""

    info = GameInfo(
        name="GleeBargaining",
        timing=Timing.SEQUENTIAL,
        description="GLEE alternating offers over money with per-player inflation, "
                    "complete or incomplete information and optional messages.",
        family="bargaining",
        reference="Shapira et al. 2024 (GLEE); Rubinstein 1982",
    )
    params_type = GleeBargainParams
    num_players = 2
    observation_shape = (11,)

    def __init__(self, params: GleeBargainParams | dict | None = None) -> None:
        super().__init__(params)
        p = self.params
        self._spe_units = spe_keep_units(p.deltas, p.horizon, p.granularity)  # Alice proposes

    @functools.cached_property
    def _outcomes(self) -> SpeOutcomes:
        p = self.params  # frozen
        return spe_outcomes(p.deltas, p.horizon, p.granularity)

    @property
    def num_actions(self) -> int:  # type: ignore[override]
        return self.params.granularity + 1

    def initial_state(self, rng: np.random.Generator) -> GleeBargainState:
        return GleeBargainState(1, -1, 0, -1, (), Status.RUNNING)

    def step(self, state: GleeBargainState, actions: tuple[int, ...], rng: np.random.Generator
             ) -> StepResult:
        (action,) = actions
        if state.offer < 0:  # an offer goes on the table
            return StepResult(state._replace(offer=action), (0.0, 0.0))
        if action == ACCEPT:
            new = state._replace(offer=-1, agreed_round=state.round, alice_units=state.offer,
                                 status=Status.TERMINATED)
            return StepResult(new, self.returns(new))
        history = (*state.history, state.offer)
        if state.round >= self.params.horizon:
            return StepResult(state._replace(offer=-1, history=history,
                                             status=Status.TERMINATED), (0.0, 0.0))
        return StepResult(state._replace(round=state.round + 1, offer=-1, history=history),
                          (0.0, 0.0))

    def view(self, state: GleeBargainState, player: int) -> GleeBargainView:
        p = self.params
        proposing = (state.status is Status.RUNNING and state.offer < 0
                     and proposer(state.round) == player)
        offer = -1
        if state.offer >= 0 and proposer(state.round) != player:
            offer = state.offer if player == 0 else p.granularity - state.offer
        return GleeBargainView(
            player, state.round, p.horizon if p.horizon_shown else None, proposing, offer,
            p.deltas[player], p.deltas[1 - player] if p.complete_info else None,
            p.granularity, p.money, state.history, state.status is not Status.RUNNING)

    def encode(self, state: GleeBargainState, player: int) -> np.ndarray:
        v = self.view(state, player)
        g = v.granularity
        responding = v.offer_to_me >= 0
        last = -1.0
        if v.past_offers:
            units = v.past_offers[-1]
            last = (units if player == 0 else g - units) / g
        return np.array([
            min(v.round / v.horizon, 1.0) if v.horizon else 0.0,
            float(v.horizon is not None),
            1.0 - 1.0 / v.round,
            float(player == 0),
            float(v.proposing),
            float(responding),
            v.offer_to_me / g if responding else 0.0,
            v.my_delta,
            v.their_delta if v.their_delta is not None else 0.0,
            float(v.their_delta is not None),
            max(last, 0.0),
        ], dtype=np.float32)

    def returns(self, state: GleeBargainState) -> tuple[float, ...]:
        if not state.agreed_round:
            return (0.0, 0.0)
        p = self.params
        shares = glee_shares(state.alice_units / p.granularity, p.deltas, state.agreed_round)
        return (shares[0] * p.money, shares[1] * p.money)

    def metrics(self, state: GleeBargainState) -> dict[str, float]:
        p = self.params
        agreed = state.agreed_round > 0
        share_p = state.alice_units / p.granularity if agreed else float("nan")
        alice, bob = glee_shares(share_p, p.deltas, state.agreed_round)
        return {
            "agreed": float(agreed),
            "agreement_round": float(state.agreed_round),
            "rounds": float(state.round),
            "p": share_p,
            "alice_share": alice,
            "bob_share": bob,
            "gain_0": alice,
            "gain_1": bob,
            "efficiency": alice + bob,
            "fairness": glee_fairness(share_p) if agreed else float("nan"),
            "distance_to_benchmark": self._outcomes.distance(alice),
        }

    def benchmark(self) -> Benchmark:
        p = self.params
        units = self._spe_units
        d0, d1 = p.deltas
        return Benchmark(
            "subgame-perfect equilibrium",
            {
                "spe_alice_units": float(units),
                "spe_p": units / p.granularity,
                "spe_p_continuous": spe_share(p.deltas, p.horizon),
                "rubinstein_p": float("nan") if d0 * d1 == 1 else rubinstein_share(p.deltas),
                "spe_agreement_round": 1.0,
                "spe_efficiency": 1.0,
                "spe_fairness": glee_fairness(units / p.granularity),
                "horizon_shown": float(p.horizon_shown),
                **spe_range_values(self._outcomes, p.granularity, "spe_alice_units", "spe_p"),
            },
            "Complete information and a known horizon: Alice offers spe_alice_units in "
            "round 1 and Bob accepts (exact for the grid when indifferent responders "
            "accept); with ties the pure SPEs agree in round 1 on spe_alice_units_min..max "
            "(or, if spe_delay_possible, later); spe_p_continuous is the SPE for a "
            "divisible pie, rubinstein_p its infinite-horizon limit.",
        )


SPECS = (
    EnvSpec("GleeBargaining-v1", GleeBargainingGame,
            "agora.envs.games.glee_bargaining_text:GleeBargainingText",
            summary="GLEE alternating offers over money with inflation and hidden info",
            default_opponent="glee_spe_bargainer"),
)
