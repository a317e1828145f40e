"""Parameters, state, views and the competitive equilibrium of the double auction."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

from agora.envs.core import (
    Params,
    Status,
    is_int,
    require,
)

PASS = 0
"""Action 0 passes; action ``k >= 1`` is an order at price ``k - 1``."""
FRAMINGS = ("market", "fish", "economics")
"""Text-face wordings: a neutral market for units; a harbour fish market of fishers and
restaurant owners; explicit economics (redemption values, order book, surplus)."""
TURN_ORDERS = ("random", "round_robin")
RECENT = 5
"""How many recent trade prices a view shows."""
MC_DRAWS, MC_SEED = 1000, 20240611
"""Monte Carlo size and fixed seed of the benchmark when values or costs are drawn."""

_RUNNING, _TERMINATED = Status.RUNNING, Status.TERMINATED
Units = tuple[tuple[int, ...], ...]


def _units_ok(units: object, n: int, price_max: object, order: int) -> bool:
    """``n`` non-empty int tuples on the grid, sorted by ``order`` (-1 down, +1 up)."""
    if not (isinstance(units, tuple) and len(units) == n and is_int(price_max)):
        return False
    for u in units:
        if not (isinstance(u, tuple) and u and all(is_int(x) and 0 <= x <= price_max
                                                   for x in u)):
            return False
        if any(order * (b - a) < 0 for a, b in zip(u, u[1:])):
            return False
    return True


def _range_ok(r: object, price_max: object) -> bool:
    return (isinstance(r, tuple) and len(r) == 2 and all(is_int(x) for x in r)
            and is_int(price_max) and 0 <= r[0] <= r[1] <= price_max)


@dataclass(frozen=True)
class DoubleAuctionParams(Params):
    """Numbers of a double-auction market.

    Attributes:
        n_buyers: buyers (players ``0..n_buyers-1``).
        n_sellers: sellers (the players after the buyers).
        units: units per trader when values/costs are drawn.
        price_max: prices are integers ``0..price_max``.
        value_range: buyers' unit values are drawn uniformly from ``[lo, hi]`` (checked
            against ``price_max`` only when values are drawn).
        cost_range: sellers' unit costs are drawn uniformly from ``[lo, hi]`` (likewise).
        values: explicit unit values per buyer (non-increasing); overrides the draw,
            ``units`` and ``value_range`` for buyers. ``()`` draws them.
        costs: explicit unit costs per seller (non-decreasing); ``()`` draws them.
        periods: periods of trading; each trader with units moves once per period.
        turn_order: ``"random"`` (a fresh permutation per period) or ``"round_robin"``.
        constrained: masks forbid orders that would trade at a loss.
        framing: wording of the text face, one of :data:`FRAMINGS`.
    """

    n_buyers: int = 4
    n_sellers: int = 4
    units: int = 2
    price_max: int = 50
    value_range: tuple[int, int] = (10, 50)
    cost_range: tuple[int, int] = (0, 40)
    values: Units = ()
    costs: Units = ()
    periods: int = 15
    turn_order: str = "random"
    constrained: bool = True
    framing: str = "market"

    def validate(self) -> None:
        for name in ("n_buyers", "n_sellers", "units", "periods"):
            x = getattr(self, name)
            require(is_int(x) and x >= 1, name, x, "must be a positive integer")
        require(is_int(self.price_max) and 1 <= self.price_max <= 100_000, "price_max",
                self.price_max, "must be an integer in 1..100000")
        for name, given in (("value_range", self.values), ("cost_range", self.costs)):
            r = getattr(self, name)  # only used (and checked) when that side is drawn
            require(given != () or _range_ok(r, self.price_max), name, r,
                    f"must be two integers lo <= hi within 0..price_max={self.price_max}")
        require(self.values == () or _units_ok(self.values, self.n_buyers, self.price_max, -1),
                "values", self.values, f"must be n_buyers={self.n_buyers} non-empty tuples of "
                "integers in 0..price_max, each non-increasing (first unit worth most)")
        require(self.costs == () or _units_ok(self.costs, self.n_sellers, self.price_max, 1),
                "costs", self.costs, f"must be n_sellers={self.n_sellers} non-empty tuples of "
                "integers in 0..price_max, each non-decreasing (cheapest unit first)")
        require(self.turn_order in TURN_ORDERS, "turn_order", self.turn_order,
                f"must be one of {TURN_ORDERS}")
        require(isinstance(self.constrained, bool), "constrained", self.constrained,
                "must be True or False")
        require(self.framing in FRAMINGS, "framing", self.framing, f"must be one of {FRAMINGS}")


class Trade(NamedTuple):
    """One executed unit: who traded, at what price, and the two limits it was worth."""

    buyer: int
    seller: int
    price: int
    value: int
    cost: int
    step: int


class AuctionState(NamedTuple):
    limits: Units  # per player: unit values (buyers) or costs (sellers), in trading order
    traded: tuple[int, ...]  # units traded per player
    resting: tuple[tuple[int, int], ...]  # (player, price) of resting orders, oldest first
    trades: tuple[Trade, ...]
    gains: tuple[float, ...]
    period: int  # 0-based
    order: tuple[int, ...]  # this period's turn order (all players; finished ones skipped)
    pos: int  # index in ``order`` of the trader to move
    steps: int
    status: Status


class TraderView(NamedTuple):
    """One trader's view: its private limits, its order, the top of the book, last prices."""

    role: str  # "buyer" or "seller"
    to_move: bool
    period: int  # 1-based
    periods: int
    limit: int  # value (buyer) or cost (seller) of the next unit; -1 when all are traded
    limits: tuple[int, ...]  # limits of the units still to trade, next first
    units_traded: int
    my_order: int  # price of the own resting order, -1 if none
    best_bid: int  # -1 if no bid rests
    best_ask: int  # -1 if no ask rests
    recent_prices: tuple[int, ...]  # last trade prices, oldest first
    trades: int
    my_gain: float
    price_max: int
    constrained: bool


class CompetitiveEquilibrium(NamedTuple):
    """Where step demand and supply cross: quantities, price interval, maximal surplus."""

    quantity: int  # the largest CE quantity (every unit with value >= cost trades)
    quantity_min: int  # the smallest (units with value == cost at the margin left out)
    price_low: float
    price_high: float
    max_surplus: float
    marginal_value: float  # d_K: buyer units worth less are extramarginal (inf if K = 0)
    marginal_cost: float  # s_K: seller units costing more are extramarginal (-inf if K = 0)

    @property
    def price(self) -> float:
        """Midpoint of the CE price interval."""
        return (self.price_low + self.price_high) / 2


def competitive_equilibrium(values: tuple[int, ...] | list[int],
                            costs: tuple[int, ...] | list[int]) -> CompetitiveEquilibrium:
    """The CE of unit-demand/unit-supply step curves (all traders' units pooled).

    With values ``d_1 >= d_2 >= ...`` and costs ``s_1 <= s_2 <= ...``, ``K`` is the
    largest ``k`` with ``d_k >= s_k``; every price in ``[max(s_K, d_{K+1}),
    min(d_K, s_{K+1})]`` clears the market (a missing ``d_{K+1}`` or ``s_{K+1}`` drops
    out). With ``K = 0`` nothing trades and the interval is ``[d_1, s_1]``.

    Example:
        >>> ce = competitive_equilibrium([10, 8, 5], [3, 6, 9])
        >>> ce.quantity, ce.price_low, ce.price_high, ce.max_surplus
        (2, 6, 8, 9)
    """
    d = sorted(values, reverse=True)
    s = sorted(costs)
    if not d or not s:
        return CompetitiveEquilibrium(0, 0, math.nan, math.nan, 0, math.inf, -math.inf)
    k = 0
    while k < min(len(d), len(s)) and d[k] >= s[k]:
        k += 1
    if k == 0:
        return CompetitiveEquilibrium(0, 0, d[0], s[0], 0, math.inf, -math.inf)
    low = max(s[k - 1], d[k]) if k < len(d) else s[k - 1]
    high = min(d[k - 1], s[k]) if k < len(s) else d[k - 1]
    q_min = sum(1 for i in range(k) if d[i] > s[i])
    surplus = sum(d[i] - s[i] for i in range(k))
    return CompetitiveEquilibrium(k, q_min, low, high, surplus, d[k - 1], s[k - 1])
