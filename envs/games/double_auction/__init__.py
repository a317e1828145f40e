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
Version history: v0, first release; v1, ``reset(seed=...)`` of every shell follows the
one seeding rule (:mod:`agora.envs.seeding`), so a record's seed replays its episode.
"""

from __future__ import annotations

from agora.envs.games.double_auction.game import DoubleAuctionGame
from agora.envs.games.double_auction.types import (
    FRAMINGS,
    MC_DRAWS,
    MC_SEED,
    PASS,
    RECENT,
    TURN_ORDERS,
    AuctionState,
    CompetitiveEquilibrium,
    DoubleAuctionParams,
    Trade,
    TraderView,
    Units,
    competitive_equilibrium,
)
from agora.envs.spec import EnvSpec

__all__ = [
    "AuctionState",
    "CompetitiveEquilibrium",
    "DoubleAuctionGame",
    "DoubleAuctionParams",
    "FRAMINGS",
    "MC_DRAWS",
    "MC_SEED",
    "PASS",
    "RECENT",
    "SPECS",
    "TURN_ORDERS",
    "Trade",
    "TraderView",
    "Units",
    "competitive_equilibrium",
]

SPECS = (
    EnvSpec("DoubleAuction-v1", DoubleAuctionGame,
            "agora.envs.games.double_auction_text:DoubleAuctionText",
            summary="Continuous double auction (limit order book) with private values/costs",
            default_opponent="trader_zic"),
)
