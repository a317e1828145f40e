"""GLEE negotiation: a seller and a buyer alternate price offers, each with an outside option.

The negotiation family of GLEE (Shapira et al. 2024). Alice (player 0) sells a product worth
``seller_value * money`` to her; Bob (player 1) values it at ``buyer_value * money``. Each
knows only its own value. Alice offers a price in round 1, Bob in round 2, and so on; the
responder accepts (trade at that price), rejects (and counters next round) or leaves to
trade with an outside party at its own value. In the last round ``horizon`` an offer can
only be accepted or left (``horizon = 1`` is an ultimatum game with outside options).

Players: 2, seller Alice (0) and buyer Bob (1), alternating proposer and responder.
Actions: proposing, a price ``k`` in ``0..max_price * granularity`` (units of
``money / granularity``); responding, ``0`` reject / ``1`` accept / ``2`` leave (masked;
no reject in the last round).
Observations: typed :class:`GleeNegotiationView` (own value only); tensor: round progress,
role, the price offered and own value (as fractions of the top price), last-round flag,
the last rejected price.
Payoffs: money, on trade at price ``P``: seller ``P - F_A M``, buyer ``F_B M - P``; 0 for
both without trade (whoever leaves, or when the horizon passes), since the outside party
pays each exactly its own value.
Episode end: acceptance, leaving, or no deal after round ``horizon``.
Parameters: see :class:`GleeNegotiationParams`; ``messages`` adds an optional free-text
``"message"`` to the proposer's text answer.
Metrics (GLEE, exact): ``p = price / M``; fair price ``p_f = (F_A + F_B) / 2``;
``fairness = 1 - 4 (p - p_f)^2`` on trade, else 1; ``gain_0 = p - F_A``,
``gain_1 = F_B - p`` (0 without trade); ``efficiency = 1`` iff trade happens exactly when
``F_B > F_A`` (always 1 when ``F_A = F_B``); ``distance_to_benchmark = |gain_0 - spe
gain_0|``.
Benchmark: trade is efficient iff ``F_B > F_A``; the bargaining range ``[F_A, F_B]``; the
subgame-perfect equilibrium of the complete-information game on the grid, by backward
induction (no discounting, responders accept when indifferent): the proposer of the last
round takes the whole surplus, so Alice's round-1 offer is the last proposer's price and
is accepted (``horizon`` odd: the highest price ``<= F_B M``; even: the lowest
``>= F_A M``); no trade when ``F_B < F_A``.
Reference: Shapira et al. (2024), GLEE; Osborne & Rubinstein (1990) ch. 3 (outside options).
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
    is_int,
    is_real,
    require,
)
from agora.envs.spec import EnvSpec

REJECT, ACCEPT, LEAVE = 0, 1, 2
FRAMINGS = ("product", "neutral", "house")
"""Text wordings: GLEE's product sale; neutral players and an item; selling a house."""
_EPS = 1e-9


@dataclass(frozen=True)
class GleeNegotiationParams(Params):
    """Numbers of a GLEE negotiation game.

    Attributes:
        money: the scale ``M`` (GLEE: 1e2, 1e4, 1e6).
        seller_value: ``F_A``, the product's value to the seller, in multiples of ``M``.
        buyer_value: ``F_B``, its value to the buyer, in multiples of ``M``.
        horizon: the last round ``T`` (GLEE: 1, 10, 30).
        granularity: price units per ``M`` (prices are whole units of ``M / granularity``).
        max_price: the highest price on the grid, in multiples of ``M``.
        messages: the proposer's text answer may carry a free-text message.
        framing: wording of the text face, one of :data:`FRAMINGS`.
    """

    money: float = 10_000.0
    seller_value: float = 0.8
    buyer_value: float = 1.2
    horizon: int = 10
    granularity: int = 100
    max_price: float = 2.0
    messages: bool = False
    framing: str = "product"

    def validate(self) -> None:
        require(is_real(self.money) and self.money > 0, "money", self.money,
                "must be a positive number")
        require(is_int(self.granularity) and self.granularity >= 1, "granularity",
                self.granularity, "must be a positive integer")
        require(is_real(self.max_price) and self.max_price > 0
                and abs(self.max_price * self.granularity - self.max_units) < 1e-6
                and self.max_units >= 2, "max_price", self.max_price,
                "must be a positive number with max_price * granularity a whole number >= 2")
        for name in ("seller_value", "buyer_value"):
            value = getattr(self, name)
            require(is_real(value) and 0 < value <= self.max_price, name, value,
                    f"must be a number in (0, max_price={self.max_price}]")
        require(is_int(self.horizon) and self.horizon >= 1, "horizon", self.horizon,
                "must be a positive integer")
        require(isinstance(self.messages, bool), "messages", self.messages,
                "must be true or false")
        require(self.framing in FRAMINGS, "framing", self.framing, f"must be one of {FRAMINGS}")

    @property
    def max_units(self) -> int:
        """Number of the highest price unit."""
        return round(self.max_price * self.granularity) if is_real(self.max_price) else 0

    @property
    def unit(self) -> float:
        """Money per price unit."""
        return self.money / self.granularity


class GleeNegotiationState(NamedTuple):
    round: int  # 1-based
    offer: int  # price units on the table, -1 while nothing is
    price: int  # agreed price units, -1 without trade
    agreed_round: int  # 0 without trade
    left_by: int  # the player who left for its outside option, -1 if nobody
    history: tuple[int, ...]  # rejected prices (units), round by round
    status: Status


class GleeNegotiationView(NamedTuple):
    """One player's view: its own value only (money), prices in units of ``unit``."""

    player: int
    round: int
    horizon: int
    proposing: bool
    offer_to_me: int  # price units offered to me, -1 if none
    my_value: float
    unit: float
    max_units: int
    money: float
    past_offers: tuple[int, ...]
    over: bool


def proposer(round_: int) -> int:
    """Player who proposes in a (1-based) round: the seller in odd rounds."""
    return (round_ - 1) % 2


def glee_negotiation_metrics(price: float | None, f_a: float, f_b: float) -> dict[str, float]:
    """GLEE's metrics for a price ``p = price / M`` (``None`` without trade).

    Example:
        >>> m = glee_negotiation_metrics(1.1, 0.8, 1.2)
        >>> round(m["fairness"], 4), round(m["gain_0"], 4), round(m["gain_1"], 4)
        (0.96, 0.3, 0.1)
        >>> glee_negotiation_metrics(None, 1.2, 0.8)["efficiency"]
        1.0
    """
    traded = price is not None
    p = float(price) if price is not None else float("nan")
    fair = (f_a + f_b) / 2
    efficient = f_a == f_b or traded == (f_b > f_a)
    return {
        "traded": float(traded),
        "p": p,
        "fair_price": fair,
        "fairness": 1 - 4 * (p - fair) ** 2 if traded else 1.0,
        "gain_0": p - f_a if traded else 0.0,
        "gain_1": f_b - p if traded else 0.0,
        "efficiency": float(efficient),
    }


def spe_price_units(params: GleeNegotiationParams) -> tuple[int, int]:
    """``(price units, agreement round)`` of the complete-information SPE; ``(-1, 0)`` if
    no trade. Backward induction over rounds on the grid; responders accept when
    indifferent and proposers prefer a deal when indifferent."""
    m, u, top = params.money, params.unit, params.max_units
    costs = (params.seller_value * m, params.buyer_value * m)
    tol = _EPS * m
    cont, plan = (0.0, 0.0), (-1, 0)  # continuation gains (seller, buyer) after round T
    for t in range(params.horizon, 0, -1):
        if proposer(t) == 0:  # the seller asks the highest price the buyer accepts
            k = min(top, math.floor((costs[1] - cont[1]) / u + _EPS))
        else:  # the buyer offers the lowest price the seller accepts
            k = max(0, math.ceil((costs[0] + cont[0]) / u - _EPS))
        gain = (k * u - costs[0], costs[1] - k * u)
        # both accept: the responder takes it, the proposer prefers it to the continuation
        if 0 <= k <= top and all(g >= c - tol for g, c in zip(gain, cont)):
            cont, plan = gain, (k, t)
    return plan if plan[1] else (-1, 0)


class GleeNegotiationGame(Game[GleeNegotiationParams, GleeNegotiationState,
                               GleeNegotiationView]):
    """Pure rules of GLEE negotiation. See the module docstring."""

    info = GameInfo(
        name="GleeNegotiation",
        timing=Timing.SEQUENTIAL,
        description="GLEE seller-buyer alternating price offers with outside options.",
        family="bargaining",
        reference="Shapira et al. 2024 (GLEE)",
    )
    params_type = GleeNegotiationParams
    num_players = 2
    observation_shape = (8,)

    def __init__(self, params: GleeNegotiationParams | dict | None = None) -> None:
        super().__init__(params)
        self._respond = self._mask((REJECT, ACCEPT, LEAVE))
        self._respond_last = self._mask((ACCEPT, LEAVE))
        self._spe = spe_price_units(self.params)

    def _mask(self, actions: tuple[int, ...]) -> np.ndarray:
        mask = np.zeros(self.num_actions, dtype=bool)
        mask[list(actions)] = True
        mask.flags.writeable = False
        return mask

    @property
    def num_actions(self) -> int:  # type: ignore[override]
        return self.params.max_units + 1

    def initial_state(self, rng: np.random.Generator) -> GleeNegotiationState:
        return GleeNegotiationState(1, -1, -1, 0, -1, (), Status.RUNNING)

    def to_move(self, state: GleeNegotiationState) -> tuple[int, ...]:
        if state.status is not Status.RUNNING:
            return ()
        p = proposer(state.round)
        return (p,) if state.offer < 0 else (1 - p,)

    def legal_mask(self, state: GleeNegotiationState, player: int) -> np.ndarray:
        if player not in self.to_move(state):
            return self._none_legal
        if state.offer < 0:
            return self._all_legal
        return self._respond if state.round < self.params.horizon else self._respond_last

    def step(self, state: GleeNegotiationState, actions: tuple[int, ...],
             rng: np.random.Generator) -> StepResult:
        (action,) = actions
        if state.offer < 0:
            return StepResult(state._replace(offer=action), (0.0, 0.0))
        if action == ACCEPT:
            new = state._replace(offer=-1, price=state.offer, agreed_round=state.round,
                                 status=Status.TERMINATED)
            return StepResult(new, self.returns(new))
        history = (*state.history, state.offer)
        if action == LEAVE:
            new = state._replace(offer=-1, left_by=1 - proposer(state.round), history=history,
                                 status=Status.TERMINATED)
            return StepResult(new, (0.0, 0.0))
        return StepResult(state._replace(round=state.round + 1, offer=-1, history=history),
                          (0.0, 0.0))

    def view(self, state: GleeNegotiationState, player: int) -> GleeNegotiationView:
        p = self.params
        running = state.status is Status.RUNNING
        mine = proposer(state.round) == player
        value = (p.seller_value, p.buyer_value)[player] * p.money
        return GleeNegotiationView(
            player, state.round, p.horizon, running and mine and state.offer < 0,
            state.offer if running and not mine else -1, value, p.unit, p.max_units, p.money,
            state.history, not running)

    def encode(self, state: GleeNegotiationState, player: int) -> np.ndarray:
        v = self.view(state, player)
        top = v.max_units
        return np.array([
            min(v.round / v.horizon, 1.0),
            float(player == 0),
            float(v.proposing),
            float(v.offer_to_me >= 0),
            max(v.offer_to_me, 0) / top,
            v.my_value / (top * v.unit),
            float(v.round >= v.horizon),
            v.past_offers[-1] / top if v.past_offers else 0.0,
        ], dtype=np.float32)

    def returns(self, state: GleeNegotiationState) -> tuple[float, ...]:
        if state.price < 0:
            return (0.0, 0.0)
        p = self.params
        price = state.price * p.unit
        return (price - p.seller_value * p.money, p.buyer_value * p.money - price)

    def metrics(self, state: GleeNegotiationState) -> dict[str, float]:
        p = self.params
        price = state.price / p.granularity if state.price >= 0 else None
        out = glee_negotiation_metrics(price, p.seller_value, p.buyer_value)
        spe_gain = glee_negotiation_metrics(self._spe_p(), p.seller_value,
                                            p.buyer_value)["gain_0"]
        return {
            **out,
            "agreement_round": float(state.agreed_round),
            "rounds": float(state.round),
            "left": float(state.left_by >= 0),
            "left_by": float(state.left_by),
            "distance_to_benchmark": abs(out["gain_0"] - spe_gain),
        }

    def _spe_p(self) -> float | None:
        units, _ = self._spe
        return units / self.params.granularity if units >= 0 else None

    def benchmark(self) -> Benchmark:
        p = self.params
        units, round_ = self._spe
        spe = glee_negotiation_metrics(self._spe_p(), p.seller_value, p.buyer_value)
        return Benchmark(
            "subgame-perfect equilibrium (complete information)",
            {
                "trade_efficient": float(p.buyer_value > p.seller_value),
                "range_low": p.seller_value,
                "range_high": p.buyer_value,
                "fair_price": spe["fair_price"],
                "spe_trade": spe["traded"],
                "spe_price_units": float(units),
                "spe_p": spe["p"],
                "spe_agreement_round": float(round_),
                "spe_gain_0": spe["gain_0"],
                "spe_gain_1": spe["gain_1"],
                "spe_fairness": spe["fairness"],
            },
            "Trade is efficient iff F_B > F_A, at any price in [F_A, F_B] M. With complete "
            "information the last proposer takes the surplus and trade happens at once; "
            "values are private in the game, so this is a benchmark, not a prediction.",
        )


SPECS = (
    EnvSpec("GleeNegotiation-v1", GleeNegotiationGame,
            "agora.envs.games.glee_negotiation_text:GleeNegotiationText",
            summary="GLEE seller-buyer price offers with outside options (T=1: ultimatum)",
            default_opponent="glee_boulware"),
)
