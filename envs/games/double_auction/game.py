"""The double auction's rules: order flow, clearing, rewards, metrics and benchmark."""

from __future__ import annotations

import math

import numpy as np

from agora.envs.core import (
    Benchmark,
    Game,
    GameInfo,
    StepResult,
    Timing,
    fairness,
    gains,
)
from agora.envs.games.double_auction.types import (
    _RUNNING,
    _TERMINATED,
    MC_DRAWS,
    MC_SEED,
    PASS,
    RECENT,
    AuctionState,
    CompetitiveEquilibrium,
    DoubleAuctionParams,
    Trade,
    TraderView,
    Units,
    competitive_equilibrium,
)
from agora.envs.games.order_book import ASK, BID, OrderBook


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
            return state._replace(resting=others + ((player, price),))
        (fill,) = fills  # one unit per order, so one fill that uses up the resting order
        maker: int = fill.maker  # type: ignore[assignment]  # order ids are players
        resting = tuple(o for o in others if o[0] != maker)
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
        """A fresh order book holding ``resting`` (re-added in arrival order), to be changed
        by the caller. The rules keep no book between steps, so any state can be stepped
        from any thread, in any order."""
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
