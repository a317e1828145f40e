"""Continuous double auction: buyers and sellers trade single units through a limit order book.

Buyers hold private redemption values for the units they may buy (first unit worth most),
sellers private costs for the units they may sell (cheapest first), drawn by chance at the
start from uniform integer ranges (or given as params). The market runs in *periods*: in
each period every trader who still has units moves once, in a fresh random order
(``turn_order="random"``) or in player order (``"round_robin"``). A move is a limit order
for the trader's next unit at a price on the grid ``0..price_max``, or a pass. A new order
replaces the trader's resting one (a cancel, then an add, losing time priority); a pass
leaves it standing. The book (:mod:`agora.envs.games.order_book`) clears by price-time
priority: an order that crosses trades at the resting order's price. A trader whose units
are all traded leaves the market.

Players: ``n_buyers`` buyers (players ``0..B-1``) then ``n_sellers`` sellers (``B..B+S-1``).
Actions: ``0`` pass; ``k >= 1`` an order at price ``k - 1`` (a bid for buyers, an ask for
sellers). With ``constrained=True`` (Gode and Sunder's budget constraint) the masks forbid
bids above the current unit's value and asks below its cost; with ``False`` every price is
legal and trades at a loss happen (and are counted in ``loss_trades``).
Observations: typed :class:`TraderView` (own role, current and remaining limits, own resting
order, best bid and ask, recent prices); tensor: those numbers scaled to [0, 1].
Payoffs: per trade, the buyer gets ``value - price`` and the seller ``price - cost``, as
rewards at the step of the trade (to the resting trader too).
Episode end: after ``periods`` periods, or once no trade is possible (constrained: no
remaining buyer's value reaches a remaining seller's cost; unconstrained: one side is
empty). The market always opens: the check runs after each move.
Benchmark: the competitive equilibrium of the induced step demand and supply: the largest
quantity ``K`` with ``d_K >= s_K`` (values sorted down, costs up), the price interval
``[max(s_K, d_{K+1}), min(d_K, s_{K+1})]`` and the maximal total surplus. Metrics compare
each episode with the CE of its own draw: allocative efficiency, trades, mean price,
price RMSD from the CE midpoint, Smith's alpha (RMSD as % of the CE price) and
``distance_to_benchmark = |1 - efficiency|``. :meth:`DoubleAuctionGame.benchmark` is exact
for explicit values and costs, otherwise a fixed-seed Monte Carlo mean over draws.
Reference: Smith (1962), J. Political Economy 70(2); Gode & Sunder (1993), J. Political
Economy 101(1) (zero-intelligence traders reach ~97-99% efficiency).
Version history: v0, first release.
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
    require,
)
from agora.envs.games.order_book import ASK, BID, OrderBook
from agora.envs.spec import EnvSpec

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


class DoubleAuctionGame(Game[DoubleAuctionParams, AuctionState, TraderView]):
    """Pure rules of the continuous double auction. See the module docstring."""

    info = GameInfo(
        name="DoubleAuction",
        timing=Timing.SEQUENTIAL,
        description="Continuous double auction with private values/costs and a limit "
                    "order book (price-time priority).",
        family="markets",
        reference="Smith 1962; Gode & Sunder 1993",
    )
    params_type = DoubleAuctionParams
    observation_shape = (15,)

    def __init__(self, params: DoubleAuctionParams | dict | None = None) -> None:
        super().__init__(params)
        p = self.params
        self._n = p.n_buyers + p.n_sellers
        self._masks: dict[tuple[bool, int], np.ndarray] = {}
        self._max_units = max([p.units] + [len(u) for u in p.values + p.costs])
        self._benchmark: Benchmark | None = None
        self._cache: tuple[tuple[tuple[int, int], ...], OrderBook] | None = None

    @property
    def num_players(self) -> int:  # type: ignore[override]
        return self._n

    @property
    def num_actions(self) -> int:  # type: ignore[override]
        return self.params.price_max + 2

    def is_buyer(self, player: int) -> bool:
        """Whether ``player`` is a buyer (players ``0..n_buyers-1``)."""
        return player < self.params.n_buyers

    # ----- dynamics --------------------------------------------------------------
    def draw_limits(self, rng: np.random.Generator) -> Units:
        """Every trader's unit limits: explicit ones, or drawn (buyers first)."""
        p = self.params
        values, costs = p.values, p.costs
        if not values:
            lo, hi = p.value_range
            values = tuple(tuple(sorted(rng.integers(lo, hi + 1, p.units).tolist(), reverse=True))
                           for _ in range(p.n_buyers))
        if not costs:
            lo, hi = p.cost_range
            costs = tuple(tuple(sorted(rng.integers(lo, hi + 1, p.units).tolist()))
                          for _ in range(p.n_sellers))
        return values + costs

    def _turn_order(self, rng: np.random.Generator) -> tuple[int, ...]:
        if self.params.turn_order == "round_robin":
            return tuple(range(self._n))
        return tuple(rng.permutation(self._n).tolist())

    def initial_state(self, rng: np.random.Generator) -> AuctionState:
        n = self._n
        limits = self.draw_limits(rng)
        return AuctionState(limits, (0,) * n, (), (), (0.0,) * n, 0, self._turn_order(rng), 0,
                            0, _RUNNING)

    def to_move(self, state: AuctionState) -> tuple[int, ...]:
        if state.status is not _RUNNING:
            return ()
        return (state.order[state.pos],)

    def legal_mask(self, state: AuctionState, player: int) -> np.ndarray:
        if state.status is not _RUNNING or state.order[state.pos] != player:
            return self._none_legal
        if not self.params.constrained:
            return self._all_legal
        key = (self.is_buyer(player), state.limits[player][state.traded[player]])
        mask = self._masks.get(key)
        if mask is None:
            mask = np.zeros(self.num_actions, dtype=bool)
            mask[PASS] = True
            buyer, limit = key
            if buyer:
                mask[1:limit + 2] = True  # bids 0..value
            else:
                mask[limit + 1:] = True  # asks cost..price_max
            mask.flags.writeable = False
            self._masks[key] = mask
        return mask

    def step(self, state: AuctionState, actions: tuple[int, ...], rng: np.random.Generator
             ) -> StepResult:
        (action,) = actions
        player = state.order[state.pos]
        rewards = [0.0] * self._n
        if action != PASS:
            state = self._submit(state, player, action - 1, rewards)
        state = self._advance(state._replace(steps=state.steps + 1), rng)
        return StepResult(state, tuple(rewards))

    def _submit(self, state: AuctionState, player: int, price: int, rewards: list[float]
                ) -> AuctionState:
        """Replace ``player``'s resting order by a new one; book any trade into ``rewards``."""
        nb = self.params.n_buyers
        book = self._book(state.resting)
        book.cancel(player)
        fills = book.add(player, BID if player < nb else ASK, price)
        others = tuple(o for o in state.resting if o[0] != player)
        if not fills:
            resting = others + ((player, price),)
            self._cache = (resting, book)
            return state._replace(resting=resting)
        (fill,) = fills  # one unit per order, so one fill that uses up the resting order
        maker: int = fill.maker  # type: ignore[assignment]  # order ids are players
        resting = tuple(o for o in others if o[0] != maker)
        self._cache = (resting, book)
        buyer, seller = (player, maker) if player < nb else (maker, player)
        value = state.limits[buyer][state.traded[buyer]]
        cost = state.limits[seller][state.traded[seller]]
        at = int(fill.price)
        rewards[buyer], rewards[seller] = float(value - at), float(at - cost)
        traded, gains = list(state.traded), list(state.gains)
        traded[buyer] += 1
        traded[seller] += 1
        gains[buyer] += rewards[buyer]
        gains[seller] += rewards[seller]
        trade = Trade(buyer, seller, at, value, cost, state.steps)
        return state._replace(resting=resting, traded=tuple(traded), gains=tuple(gains),
                              trades=state.trades + (trade,))

    def _book(self, resting: tuple[tuple[int, int], ...]) -> OrderBook:
        """The order book holding ``resting``, to be changed by the caller.

        The book left by the last step is reused when ``resting`` is the very tuple that
        step produced (tuples are immutable, so the contents match); any other state, e.g.
        an older one stepped again, gets a fresh book re-added in arrival order.
        """
        cached, self._cache = self._cache, None
        if cached is not None and cached[0] is resting:
            return cached[1]
        nb = self.params.n_buyers
        book = OrderBook()
        for who, at in resting:
            book.add(who, BID if who < nb else ASK, at)
        return book

    def trade_possible(self, state: AuctionState) -> bool:
        """Whether some remaining buyer and seller could still trade."""
        nb = self.params.n_buyers
        best_value, best_cost = -1, math.inf
        for i, (units, done) in enumerate(zip(state.limits, state.traded)):
            if done < len(units):
                if i < nb:
                    best_value = max(best_value, units[done])
                else:
                    best_cost = min(best_cost, units[done])
        if best_value < 0 or best_cost == math.inf:
            return False
        return not self.params.constrained or best_value >= best_cost

    def _advance(self, state: AuctionState, rng: np.random.Generator) -> AuctionState:
        """Move the turn to the next trader with units, starting new periods as needed."""
        if not self.trade_possible(state):
            return state._replace(status=_TERMINATED)
        lim, done = state.limits, state.traded
        order, pos, period = state.order, state.pos + 1, state.period
        while True:
            while pos < self._n and done[order[pos]] >= len(lim[order[pos]]):
                pos += 1
            if pos < self._n:
                return state._replace(order=order, pos=pos, period=period)
            period += 1
            if period >= self.params.periods:
                return state._replace(period=period - 1, status=_TERMINATED)
            order, pos = self._turn_order(rng), 0

    def status(self, state: AuctionState) -> Status:
        return state.status

    # ----- faces -----------------------------------------------------------------
    def _top(self, state: AuctionState, player: int) -> tuple[int, int, int]:
        """Best bid, best ask and ``player``'s own resting price (-1 where none)."""
        nb = self.params.n_buyers
        bid = ask = mine = -1
        for who, at in state.resting:
            if who == player:
                mine = at
            if who < nb:
                bid = at if at > bid else bid
            elif ask < 0 or at < ask:
                ask = at
        return bid, ask, mine

    def view(self, state: AuctionState, player: int) -> TraderView:
        p = self.params
        bid, ask, mine = self._top(state, player)
        left = state.limits[player][state.traded[player]:]
        return TraderView(
            "buyer" if player < p.n_buyers else "seller",
            state.status is _RUNNING and state.order[state.pos] == player,
            state.period + 1, p.periods, left[0] if left else -1, left,
            state.traded[player], mine, bid, ask,
            tuple(t.price for t in state.trades[-RECENT:]), len(state.trades),
            state.gains[player], p.price_max, p.constrained)

    def encode(self, state: AuctionState, player: int) -> np.ndarray:
        p = self.params
        pm = p.price_max
        bid, ask, mine = self._top(state, player)
        units = state.limits[player]
        left = len(units) - state.traded[player]
        limit = units[-left] if left else -1
        last = state.trades[-1].price if state.trades else -1
        to_move = state.status is _RUNNING and state.order[state.pos] == player
        return np.array([
            float(player < p.n_buyers), min(state.period / p.periods, 1.0), float(to_move),
            float(left > 0), max(limit, 0) / pm, left / self._max_units,
            float(mine >= 0), max(mine, 0) / pm, float(bid >= 0), max(bid, 0) / pm,
            float(ask >= 0), max(ask, 0) / pm, float(last >= 0), max(last, 0) / pm,
            len(state.trades) / self._max_trades(state),
        ], dtype=np.float32)

    def _max_trades(self, state: AuctionState) -> int:
        nb = self.params.n_buyers
        return min(sum(len(u) for u in state.limits[:nb]), sum(len(u) for u in state.limits[nb:]))

    # ----- outcomes --------------------------------------------------------------
    def returns(self, state: AuctionState) -> tuple[float, ...]:
        return state.gains

    def equilibrium(self, state: AuctionState) -> CompetitiveEquilibrium:
        """The CE of the market drawn in ``state``."""
        nb = self.params.n_buyers
        values = [x for u in state.limits[:nb] for x in u]
        costs = [x for u in state.limits[nb:] for x in u]
        return competitive_equilibrium(values, costs)

    def metrics(self, state: AuctionState) -> dict[str, float]:
        ce = self.equilibrium(state)
        trades = state.trades
        surplus = float(sum(t.value - t.cost for t in trades))
        nan = float("nan")
        prices = np.array([t.price for t in trades], dtype=float)
        rmsd = float(np.sqrt(np.mean((prices - ce.price) ** 2))) if trades else nan
        eff = surplus / ce.max_surplus if ce.max_surplus > 0 else nan
        buyer_gain = sum(state.gains[:self.params.n_buyers])
        return {
            **gains(state.gains),
            "trades": float(len(trades)),
            "ce_quantity": float(ce.quantity),
            "ce_price": float(ce.price),
            "ce_price_low": float(ce.price_low),
            "ce_price_high": float(ce.price_high),
            "max_surplus": float(ce.max_surplus),
            "surplus": surplus,
            "efficiency": eff,
            "mean_price": float(prices.mean()) if trades else nan,
            "price_rmsd": rmsd,
            "smith_alpha": 100 * rmsd / ce.price if trades and ce.price > 0 else nan,
            "extramarginal_trades": float(sum(t.value < ce.marginal_value
                                              or t.cost > ce.marginal_cost for t in trades)),
            "loss_trades": float(sum(t.price > t.value or t.price < t.cost for t in trades)),
            "buyer_share": buyer_gain / surplus if surplus > 0 else nan,
            "fairness": fairness(state.gains),
            "periods": float(state.period + 1),
            "distance_to_benchmark": abs(1 - eff) if ce.max_surplus > 0 else nan,
        }

    def benchmark(self) -> Benchmark:
        if self._benchmark is None:
            self._benchmark = self._compute_benchmark()
        return self._benchmark

    def _compute_benchmark(self) -> Benchmark:
        p = self.params
        exact = bool(p.values) and bool(p.costs)
        rng = np.random.default_rng(MC_SEED)
        draws = 1 if exact else MC_DRAWS
        ces = [self.equilibrium(self.initial_state(rng)) for _ in range(draws)]
        values = {
            "ce_quantity": float(np.mean([c.quantity for c in ces])),
            "ce_price": float(np.mean([c.price for c in ces])),
            "ce_price_low": float(np.mean([c.price_low for c in ces])),
            "ce_price_high": float(np.mean([c.price_high for c in ces])),
            "max_surplus": float(np.mean([c.max_surplus for c in ces])),
            "efficiency": 1.0,
            "monte_carlo_draws": 0.0 if exact else float(draws),
        }
        note = ("Exact CE of the given values and costs." if exact else
                f"Means over {draws} draws (fixed seed) of the per-draw CE; each episode's "
                "own CE is in its metrics.")
        return Benchmark("competitive equilibrium", values,
                         note + " Price-taking trade reaches efficiency 1 at a CE price.")


SPECS = (
    EnvSpec("DoubleAuction-v0", DoubleAuctionGame,
            "agora.envs.games.double_auction_text:DoubleAuctionText",
            summary="Continuous double auction (limit order book) with private values/costs",
            default_opponent="trader_zic"),
)
