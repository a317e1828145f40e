"""Bertrand competition with logit demand on Calvano et al.'s price grid.

Firm ``i`` sells the logit share ``q_i = exp((a - p_i)/mu) / (sum_j exp((a - p_j)/mu)
+ exp(a0/mu))`` of a unit mass of consumers and earns ``(p_i - c) q_i``. The ``n_prices``
prices span ``[p^N - xi (p^M - p^N), p^M + xi (p^M - p^N)]``, from the one-shot Nash price
``p^N`` (solving ``p = c + mu / (1 - q_i)``) to the joint-profit-maximising price ``p^M``
(solving ``p = c + mu / (1 - sum_j q_j)``), both with every firm at the same price.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from agora.envs.core import Benchmark, GameInfo, Timing, is_int, is_real, require
from agora.envs.games.oligopoly.base import (
    MAX_GRID,
    OligopolyGame,
    OligopolyParams,
    OligopolyState,
    StageOutcome,
)


@dataclass(frozen=True)
class LogitBertrandParams(OligopolyParams):
    """Logit Bertrand market (defaults: Calvano et al. 2020's baseline).

    Attributes:
        a: product quality ``a_i`` (the same for every firm).
        a0: quality of the outside good.
        mu: horizontal differentiation (logit scale); products are perfect substitutes
            as ``mu -> 0``.
        n_prices: points on the price grid (``m``).
        xi: how far the grid reaches beyond ``[p^N, p^M]``, as a share of ``p^M - p^N``.

    ``granularity`` stays 1: the grid is set by ``n_prices`` and ``xi``.
    """

    cost: float = 1.0
    a: float = 2.0
    a0: float = 0.0
    mu: float = 0.25
    n_prices: int = 15
    xi: float = 0.1

    @property
    def grid_max(self) -> int:
        return self.n_prices - 1

    def validate(self) -> None:
        super().validate()
        require(self.granularity == 1, "granularity", self.granularity,
                "must be 1: the logit game's grid is set by n_prices and xi")
        require(is_real(self.a), "a", self.a, "must be a finite number")
        require(is_real(self.a0), "a0", self.a0, "must be a finite number")
        require(is_real(self.mu) and self.mu > 0, "mu", self.mu, "must be a number > 0")
        require(is_int(self.n_prices) and 2 <= self.n_prices < MAX_GRID, "n_prices",
                self.n_prices, f"must be an integer from 2 to {MAX_GRID - 1}")
        require(is_real(self.xi) and self.xi >= 0, "xi", self.xi, "must be a number >= 0")


def logit_shares(prices: np.ndarray, a: float, a0: float, mu: float) -> np.ndarray:
    """Demand shares of the firms (last axis) at ``prices``, any leading shape.

    Example:
        >>> logit_shares(np.array([1.0, 1.0]), 2.0, 0.0, 0.25).round(4).tolist()
        [0.4955, 0.4955]
    """
    u = (a - np.asarray(prices, dtype=float)) / mu
    top = np.maximum(u.max(axis=-1, keepdims=True), a0 / mu)  # stable exponentials
    e = np.exp(u - top)
    return e / (e.sum(axis=-1, keepdims=True) + np.exp(a0 / mu - top))


def _bisect(f: Callable[[float], float], low: float, high: float) -> float:
    """The root of an increasing function on ``[low, high]`` to machine precision."""
    for _ in range(200):
        mid = (low + high) / 2
        if mid in (low, high):
            break
        if f(mid) < 0:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def symmetric_prices(p: LogitBertrandParams) -> tuple[float, float]:
    """``(p^N, p^M)``: the symmetric one-shot Nash price and the joint-profit-maximising
    common price, each the root of its first-order condition.

    Nash: ``p = c + mu / (1 - q(p))`` with ``q`` one firm's share when all charge ``p``;
    monopoly: ``p = c + mu / (1 - n q(p))``. Both residuals increase in ``p``; the Nash
    root lies in ``[c + mu, c + mu n / (n - 1)]`` (a share is below ``1/n``).

    Example:
        >>> nash, monopoly = symmetric_prices(LogitBertrandParams())
        >>> round(nash, 4), round(monopoly, 4)
        (1.4729, 1.925)
    """
    n, c, mu = p.n_firms, p.cost, p.mu

    def share(x: float) -> float:
        return float(logit_shares(np.full(n, x), p.a, p.a0, mu)[0])

    nash = _bisect(lambda x: x - c - mu / (1 - share(x)), c + mu, c + mu * n / (n - 1))
    # 1 / (1 - n q) = 1 + n exp((a - a0 - x)/mu), so the root lies below c + mu + mu log(1 + K),
    # K = n exp((a - a0 - c)/mu - 1) (the Lambert-W form of the root, W(K) <= log(1 + K))
    log_k = math.log(n) + (p.a - p.a0 - c) / mu - 1
    high = c + mu + mu * float(np.logaddexp(0.0, log_k))
    monopoly = _bisect(lambda x: x - c - mu / (1 - n * share(x)), c + mu, high)
    return nash, monopoly


class LogitBertrandGame(OligopolyGame[LogitBertrandParams]):
    """Repeated Bertrand competition with logit demand. See the package docstring."""

    info = GameInfo(
        name="LogitBertrand", timing=Timing.SIMULTANEOUS,
        description="Repeated N-firm Bertrand competition with logit demand (Calvano's grid).",
        family="oligopoly", reference="Calvano, Calzolari, Denicolo & Pastorello 2020",
    )
    params_type = LogitBertrandParams
    choice = "price"

    @cached_property
    def prices(self) -> np.ndarray:
        """The price grid: ``n_prices`` evenly spaced points (read-only)."""
        p = self.params
        nash, monopoly = symmetric_prices(p)
        span = p.xi * (monopoly - nash)
        grid = np.linspace(nash - span, monopoly + span, p.n_prices)
        grid.flags.writeable = False
        return grid

    def value(self, action: int) -> float:
        return float(self.prices[action])

    def nearest_action(self, value: float) -> int:
        return int(np.argmin(np.abs(self.prices - value)))

    def outcome(self, actions: tuple[int, ...]) -> StageOutcome:
        p = self.params
        prices = self.prices[list(actions)]
        q = logit_shares(prices, p.a, p.a0, p.mu)
        profits = (prices - p.cost) * q
        return StageOutcome(tuple(profits.tolist()), tuple(q.tolist()), float(prices.mean()),
                            self.consumer_surplus(prices))

    def consumer_surplus(self, prices: np.ndarray) -> float:
        """Expected surplus over the outside good, ``mu log(1 + sum_j exp((a - p_j - a0)/mu))``."""
        p = self.params
        u = (p.a - p.a0 - np.asarray(prices, dtype=float)) / p.mu
        return float(p.mu * np.logaddexp.reduce(np.append(u, 0.0)))

    def metrics(self, state: OligopolyState) -> dict[str, float]:
        """The oligopoly metrics, with ``mean_action`` the mean price charged."""
        out = super().metrics(state)
        out["mean_action"] = out["mean_price"]
        nash = self.benchmark().values["nash_price"]
        out["distance_to_benchmark"] = abs(out["mean_price"] - nash)
        return out

    def _benchmark(self) -> Benchmark:
        p = self.params
        n, c = p.n_firms, p.cost
        nash, monopoly = symmetric_prices(p)
        q_n = float(logit_shares(np.full(n, nash), p.a, p.a0, p.mu)[0])
        q_m = float(logit_shares(np.full(n, monopoly), p.a, p.a0, p.mu)[0])
        cs_n = self.consumer_surplus(np.full(n, nash))
        optimum = self.consumer_surplus(np.full(n, c))  # marginal-cost pricing is efficient
        return Benchmark("Bertrand-Nash equilibrium of the stage game", {
            "nash_price": nash, "nash_quantity": q_n, "nash_profit": (nash - c) * q_n,
            "nash_consumer_surplus": cs_n,
            "nash_efficiency": (cs_n + n * (nash - c) * q_n) / optimum,
            **self._grid_values(nash),
            "collusive_price": monopoly, "collusive_quantity": q_m,
            "collusive_profit": (monopoly - c) * q_m,
            "collusive_action": float(self.nearest_action(monopoly)),
            "grid_low_price": float(self.prices[0]), "grid_high_price": float(self.prices[-1]),
            "competitive_price": c, "optimum_total_surplus": optimum,
        }, "Unique symmetric stage equilibrium; collusive = the joint-profit-maximising common "
           "price (monopoly). Profits are per firm and round; the grid need not contain either "
           "price, so grid_error and grid_nash_verified say how the grid's nearest point fares.")
