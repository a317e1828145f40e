"""Sealed-bid auctions of one item with independent private values.

Each round every bidder's value is drawn independently and uniformly from the grid
``{0, 1, ..., granularity}`` (in steps of ``value_max / granularity``); a bidder sees only its
own value. All bid at once on the same grid; the highest bid wins (ties broken uniformly at
random by the environment's rng). ``rule`` says who pays what: ``"first_price"`` (winner pays
its bid), ``"second_price"`` (winner pays the highest other bid) or ``"all_pay"`` (everyone
pays its bid). After each round all bids are announced and fresh values are drawn.

Players: ``n_players`` (>= 2) bidders, moving simultaneously.
Actions: the bid ``k`` in ``0..granularity``, worth ``k * value_max / granularity``
(always legal).
Observations: typed :class:`AuctionView` (own value, round, last round's bids and whether
it won); tensor: round progress, own value, own last bid and the highest other last bid
(as fractions of ``value_max``).
Payoffs: per round, the winner gets its value; the price (first/second price) or every
bidder's own bid (all-pay) is subtracted. Money, not win/loss.
Episode end: after ``rounds`` rounds.
Parameters: ``rule``, ``n_players`` (3), ``value_max`` (100.0, so that with
``granularity`` 100 one grid step is one unit of money), ``granularity`` (100), ``rounds``
(5), ``framing`` (text wording only).
Benchmark: symmetric Bayes-Nash equilibrium for values U[0, value_max] (continuous theory,
``x = v / value_max``): first price ``b(v) = (n-1)/n v``; second price truthful bidding
(weakly dominant); all-pay ``b(v) = (n-1)/n x^n value_max``. Revenue equivalence: expected
revenue ``(n-1)/(n+1) value_max`` per round for all three, the item always goes to the
highest value (efficiency 1) and each bidder expects ``value_max / (n(n+1))``.
Grid tolerances (values uniform on ``granularity + 1`` points, BNE bids rounded to the
nearest step, as ``auction_bne`` plays): the exact expected revenue on the grid,
``expected_revenue_grid``, is within one grid step of the continuous value for first and
second price and within ``n/2`` steps for all-pay (each bidder's rounding is paid); the
rounded BNE is an epsilon-equilibrium: ex ante a deviation gains at most a quarter step,
for a known value at most one step (first price) or ``n/2`` steps (all-pay); truthful
bidding stays weakly dominant in the second-price auction. Neighbouring values can round
to one bid, so the winner's value may fall short of the highest by up to
``tie_gap_steps`` steps. ``tests/test_game_auction.py`` checks these bounds (revenue: 2-8
bidders, grids of 1-137 steps; epsilon: 2-5 bidders, grids of 10, 30 and 100 steps).
Reference: Vickrey (1961), J. Finance 16(1); Krishna (2009), *Auction Theory*, ch. 2-3;
Myerson (1981), Math. Oper. Res. 6(1) (revenue equivalence).
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
    GameInfo,
    Params,
    RepeatedGame,
    Status,
    StepResult,
    Timing,
    add_up,
    fairness,
    is_int,
    is_real,
    last_moves,
    require,
)
from agora.envs.spec import EnvSpec

RULES = ("first_price", "second_price", "all_pay")
FRAMINGS = ("neutral", "gallery", "contract")


@dataclass(frozen=True)
class AuctionParams(Params):
    """Numbers of a sealed-bid auction.

    Attributes:
        rule: ``"first_price"``, ``"second_price"`` or ``"all_pay"``.
        n_players: number of bidders.
        value_max: top of the value (and bid) range, in money.
        granularity: grid steps between 0 and ``value_max`` for values and bids.
        rounds: auctions played, each with freshly drawn values.
        framing: wording of the text face: ``"neutral"``, ``"gallery"`` or ``"contract"``.
    """

    rule: str = "first_price"
    n_players: int = 3
    value_max: float = 100.0
    granularity: int = 100
    rounds: int = 5
    framing: str = "neutral"

    def validate(self) -> None:
        require(isinstance(self.rule, str) and self.rule in RULES, "rule", self.rule,
                f"must be one of {RULES}")
        require(is_int(self.n_players) and self.n_players >= 2, "n_players", self.n_players,
                "must be an integer >= 2")
        require(is_real(self.value_max) and self.value_max > 0, "value_max", self.value_max,
                "must be a positive number")
        require(is_int(self.granularity) and self.granularity >= 1, "granularity",
                self.granularity, "must be a positive integer")
        require(is_int(self.rounds) and self.rounds >= 1, "rounds", self.rounds,
                "must be a positive integer")
        require(isinstance(self.framing, str) and self.framing in FRAMINGS, "framing",
                self.framing, f"must be one of {FRAMINGS}")


class AuctionState(NamedTuple):
    round: int  # rounds played so far
    values: tuple[int, ...]  # this round's values in grid steps (the last round's once over)
    last: tuple[int, ...]  # last round's bids, () before round 1
    last_winner: int  # -1 before round 1
    totals: tuple[float, ...]
    revenue: int  # grid steps paid to the seller, summed over rounds
    winner_value: int  # winners' values, summed over rounds (grid steps)
    top_value: int  # highest values, summed over rounds (grid steps)
    highest_wins: int  # rounds won by a bidder holding the highest value
    distance: float  # per-round mean |bid - BNE bid| (money), summed over rounds
    status: Status


class AuctionView(NamedTuple):
    """One bidder's view: its own value (grid steps), progress and last round's bids."""

    round: int
    rounds: int
    rule: str
    n_players: int
    granularity: int
    value_max: float
    my_value: int
    my_last: int  # -1 before the first round
    others_last: tuple[int, ...]
    won_last: bool

    @property
    def unit(self) -> float:
        """Money per grid step."""
        return self.value_max / self.granularity


def bne_bid(rule: str, n: int, x: float) -> float:
    """Symmetric BNE bid for a value ``x`` in [0, 1] when values are i.i.d. U[0, 1].

    Example:
        >>> round(bne_bid("first_price", 3, 0.6), 6), bne_bid("second_price", 3, 0.6)
        (0.4, 0.6)
        >>> round(bne_bid("all_pay", 2, 0.5), 6)
        0.125
    """
    if rule == "second_price":
        return x
    if rule == "first_price":
        return (n - 1) / n * x
    return (n - 1) / n * x**n


def bne_bid_steps(rule: str, n: int, value: int, granularity: int) -> int:
    """The BNE bid for a value of ``value`` grid steps, rounded to the nearest step."""
    exact = granularity * bne_bid(rule, n, value / granularity)
    return min(granularity, math.floor(exact + 0.5 + 1e-9))


def payments(rule: str, bids: tuple[int, ...], winner: int) -> tuple[int, ...]:
    """What each bidder pays (grid steps) when ``winner`` gets the item.

    Example:
        >>> payments("second_price", (60, 40, 10), 0), payments("all_pay", (60, 40, 10), 0)
        ((40, 0, 0), (60, 40, 10))
    """
    if rule == "all_pay":
        return bids
    price = bids[winner] if rule == "first_price" else max(
        b for i, b in enumerate(bids) if i != winner)
    return tuple(price if i == winner else 0 for i in range(len(bids)))


def settle(rule: str, values: tuple[int, ...], bids: tuple[int, ...],
           winner: int) -> tuple[int, ...]:
    """Each bidder's payoff (grid steps) when ``winner`` gets the item."""
    paid = payments(rule, bids, winner)
    return tuple((v if i == winner else 0) - c for i, (v, c) in enumerate(zip(values, paid)))


def expected_payoffs(rule: str, values: tuple[int, ...], bids: tuple[int, ...]
                     ) -> tuple[float, ...]:
    """Payoffs (grid steps) averaged over the uniform tie-break among the highest bids."""
    top = max(bids)
    tied = [i for i, b in enumerate(bids) if b == top]
    sums = [0.0] * len(bids)
    for w in tied:
        for i, u in enumerate(settle(rule, values, bids, w)):
            sums[i] += u
    return tuple(s / len(tied) for s in sums)


def grid_revenue(rule: str, n: int, granularity: int) -> float:
    """Exact expected revenue (grid steps) when values are uniform on ``0..granularity``
    and everyone bids :func:`bne_bid_steps` (truthfully in the second-price auction)."""
    g = granularity
    k = np.arange(g + 1)
    bids = np.array([bne_bid_steps(rule, n, int(v), g) for v in k], dtype=float)
    below, upto = k / (g + 1), (k + 1) / (g + 1)  # P(V < k), P(V <= k)
    if rule == "all_pay":
        return float(n * bids.mean())
    if rule == "first_price":  # bids rise with values: the top bid is b(max value)
        return float(np.sum((upto**n - below**n) * bids))
    second_cdf = upto**n + n * upto ** (n - 1) * (1 - upto)  # at most one value above k
    return float(np.sum(np.diff(second_cdf, prepend=0.0) * k))


def tie_gap_steps(rule: str, n: int, granularity: int) -> int:
    """Largest value gap (grid steps) between two values whose rounded BNE bids are equal."""
    bids = [bne_bid_steps(rule, n, v, granularity) for v in range(granularity + 1)]
    first: dict[int, int] = {}
    gap = 0
    for v, b in enumerate(bids):
        gap = max(gap, v - first.setdefault(b, v))
    return gap


class AuctionGame(RepeatedGame[AuctionParams, AuctionState, AuctionView]):
    """Pure rules of sealed-bid auctions. See the module docstring."""

    info = GameInfo(
        name="Auction",
        timing=Timing.SIMULTANEOUS,
        description="Sealed-bid first-price, second-price or all-pay auction, private values.",
        family="auctions",
        reference="Vickrey 1961; Krishna 2009",
    )
    params_type = AuctionParams
    always_legal = True
    observation_shape = (4,)

    def __init__(self, params: AuctionParams | dict | None = None) -> None:
        super().__init__(params)
        p = self.params
        self._step = p.value_max / p.granularity
        self._bne = tuple(p.granularity * bne_bid(p.rule, p.n_players, v / p.granularity)
                          for v in range(p.granularity + 1))

    @property
    def num_players(self) -> int:  # type: ignore[override]
        return self.params.n_players

    @property
    def num_actions(self) -> int:  # type: ignore[override]
        return self.params.granularity + 1

    def _draw(self, rng: np.random.Generator) -> tuple[int, ...]:
        p = self.params
        return tuple(rng.integers(0, p.granularity + 1, size=p.n_players).tolist())

    def initial_state(self, rng: np.random.Generator) -> AuctionState:
        n = self.params.n_players
        return AuctionState(0, self._draw(rng), (), -1, (0.0,) * n, 0, 0, 0, 0, 0.0,
                            Status.RUNNING)

    def step(self, state: AuctionState, actions: tuple[int, ...],
             rng: np.random.Generator) -> StepResult:
        p, values = self.params, state.values
        bids = tuple(int(a) for a in actions)
        top = max(bids)
        tied = [i for i, b in enumerate(bids) if b == top]
        winner = tied[0] if len(tied) == 1 else tied[int(rng.integers(len(tied)))]
        rewards = tuple(u * self._step for u in settle(p.rule, values, bids, winner))
        played, status = self.next_round(state)
        done = status is Status.TERMINATED
        miss = sum(abs(b - self._bne[v]) for b, v in zip(bids, values)) / p.n_players
        new = AuctionState(
            round=played,
            values=values if done else self._draw(rng),
            last=bids,
            last_winner=winner,
            totals=add_up(state.totals, rewards),
            revenue=state.revenue + sum(payments(p.rule, bids, winner)),
            winner_value=state.winner_value + values[winner],
            top_value=state.top_value + max(values),
            highest_wins=state.highest_wins + (values[winner] == max(values)),
            distance=state.distance + miss * self._step,
            status=status,
        )
        return StepResult(new, rewards)

    def view(self, state: AuctionState, player: int) -> AuctionView:
        p = self.params
        mine, others = last_moves(state.last, player)
        return AuctionView(state.round, p.rounds, p.rule, p.n_players, p.granularity,
                           p.value_max, state.values[player], mine, others,
                           state.last_winner == player)

    def encode(self, state: AuctionState, player: int) -> np.ndarray:
        g = self.params.granularity
        mine = others = 0.0
        if state.last:
            mine = state.last[player] / g
            others = max(b for i, b in enumerate(state.last) if i != player) / g
        return np.array([state.round / self.params.rounds, state.values[player] / g, mine,
                         others], dtype=np.float32)


    def metrics(self, state: AuctionState) -> dict[str, float]:
        """Per-player total gains; revenue and distance per round (money); efficiency is
        the winners' total value over the highest values' total (1 if that is 0)."""
        r = state.round
        out = {f"gain_{i}": t for i, t in enumerate(state.totals)}
        nan = float("nan")
        out.update(
            rounds=float(r),
            revenue=state.revenue * self._step / r if r else nan,
            efficiency=(state.winner_value / state.top_value if state.top_value else 1.0)
            if r else nan,
            winner_is_highest=state.highest_wins / r if r else nan,
            distance_to_benchmark=state.distance / r if r else nan,
            fairness=fairness(state.totals),  # equality of bidders' gains (1 - Gini)
        )
        return out

    def benchmark(self) -> Benchmark:
        p = self.params
        n, vmax = p.n_players, p.value_max
        return Benchmark(
            "symmetric Bayes-Nash equilibrium"
            + (" (weakly dominant truthful bidding)" if p.rule == "second_price" else ""),
            {
                "expected_revenue": (n - 1) / (n + 1) * vmax,
                "expected_revenue_grid": grid_revenue(p.rule, n, p.granularity) * self._step,
                "expected_bidder_payoff": vmax / (n * (n + 1)),
                "expected_highest_value": n / (n + 1) * vmax,
                "bid_at_value_max": bne_bid(p.rule, n, 1.0) * vmax,
                "efficiency": 1.0,
                "grid_step": self._step,
                "tie_gap_steps": float(tie_gap_steps(p.rule, n, p.granularity)),
            },
            "Continuous theory for values U[0, value_max] (revenue equivalence); "
            "expected_revenue_grid is exact for this grid with BNE bids rounded to a step.",
        )


_TEXT = "agora.envs.games.auction_text:AuctionText"

SPECS = (
    EnvSpec("FirstPriceAuction-v1", AuctionGame, _TEXT, {"rule": "first_price"},
            summary="Sealed-bid first-price auction, private values U[0, 100], 3 bidders",
            default_opponent="auction_bne"),
    EnvSpec("SecondPriceAuction-v1", AuctionGame, _TEXT, {"rule": "second_price"},
            summary="Sealed-bid second-price (Vickrey) auction, private values, 3 bidders",
            default_opponent="auction_bne"),
    EnvSpec("AllPayAuction-v1", AuctionGame, _TEXT, {"rule": "all_pay"},
            summary="Sealed-bid all-pay auction, private values U[0, 100], 3 bidders",
            default_opponent="auction_bne"),
)
