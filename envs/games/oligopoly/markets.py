"""The three markets: Cournot, homogeneous Bertrand, differentiated Bertrand."""

from __future__ import annotations

import numpy as np

from agora.envs.core import (
    Benchmark,
    GameInfo,
    Timing,
)
from agora.envs.games.oligopoly.base import (
    _NAN,
    BertrandParams,
    CournotParams,
    DiffBertrandParams,
    OligopolyGame,
    StageOutcome,
)


class CournotGame(OligopolyGame[CournotParams]):
    """Repeated Cournot quantity competition. See the module docstring."""

    info = GameInfo(
        name="Cournot", timing=Timing.SIMULTANEOUS,
        description="Repeated N-firm Cournot competition with linear inverse demand.",
        family="oligopoly", reference="Cournot 1838",
    )
    params_type = CournotParams
    choice = "quantity"

    def outcome(self, actions: tuple[int, ...]) -> StageOutcome:
        p = self.params
        q = tuple(k / self._g for k in actions)
        total = sum(q)
        price = max(0.0, p.a - p.b * total)
        margin = price - p.cost
        cs = p.b * total * total / 2 if price > 0 else p.a * p.a / (2 * p.b)
        return StageOutcome(tuple(x * margin for x in q), q, price, cs)

    def _benchmark(self) -> Benchmark:
        p = self.params
        n, a, b, c = p.n_firms, p.a, p.b, p.cost
        q = (a - c) / (b * (n + 1))
        price = a - b * n * q
        monopoly = (a - c) / (2 * b)
        optimum = (a - c) ** 2 / (2 * b)
        cs = b * (n * q) ** 2 / 2
        return Benchmark("Cournot-Nash equilibrium of the stage game", {
            "nash_quantity": q, "nash_total_quantity": n * q, "nash_price": price,
            "nash_profit": q * (price - c), "nash_consumer_surplus": cs,
            "nash_efficiency": (cs + n * q * (price - c)) / optimum,
            **self._grid_values(q),
            "collusive_quantity": monopoly / n, "monopoly_quantity": monopoly,
            "collusive_price": (a + c) / 2, "collusive_profit": (a - c) ** 2 / (4 * b * n),
            "collusive_action": float(self.nearest_action(monopoly / n)),
            "competitive_quantity": (a - c) / b, "competitive_price": c,
            "optimum_total_surplus": optimum,
        }, "Unique stage equilibrium; playing it every round is the unique subgame-perfect "
           "outcome with a known number of rounds. Profits are per firm and round.")


class BertrandGame(OligopolyGame[BertrandParams]):
    """Repeated homogeneous-good Bertrand price competition. See the module docstring."""

    info = GameInfo(
        name="Bertrand", timing=Timing.SIMULTANEOUS,
        description="Repeated N-firm Bertrand competition, homogeneous good, linear demand.",
        family="oligopoly", reference="Bertrand 1883",
    )
    params_type = BertrandParams
    choice = "price"

    def demand(self, price: float) -> float:
        """Market demand ``D(p) = max(0, (a - p) / b)``."""
        p = self.params
        return max(0.0, (p.a - price) / p.b)

    def outcome(self, actions: tuple[int, ...]) -> StageOutcome:
        p = self.params
        low = min(actions)
        price = low / self._g
        winners = actions.count(low)
        share = self.demand(price) / winners
        margin = (price - p.cost) * share
        cs = (p.a - price) ** 2 / (2 * p.b) if price < p.a else 0.0
        return StageOutcome(tuple(margin if k == low else 0.0 for k in actions),
                            tuple(share if k == low else 0.0 for k in actions), price, cs)

    def symmetric_grid_equilibria(self) -> list[int]:
        """Every grid price at which all firms charging it is a Nash equilibrium.

        A firm tied at ``p`` earns ``(p - c) D(p) / n``; undercutting to ``p' < p`` earns
        ``(p' - c) D(p')``; pricing above ``p`` earns 0.
        """
        p = self.params
        prices = np.arange(self.num_actions) / self._g
        win_all = (prices - p.cost) * np.maximum(0.0, (p.a - prices) / p.b)
        below = np.concatenate(([-np.inf], np.maximum.accumulate(win_all)[:-1]))
        above = np.where(np.arange(self.num_actions) < self._top, 0.0, -np.inf)
        tie = win_all / p.n_firms
        ok = tie >= np.maximum(below, above) - 1e-9 * np.maximum(1.0, np.abs(tie))
        return np.flatnonzero(ok).tolist()

    def _benchmark(self) -> Benchmark:
        p = self.params
        n, a, b, c = p.n_firms, p.a, p.b, p.cost
        eq = self.symmetric_grid_equilibria()
        low, high = self.value(eq[0]), self.value(eq[-1])
        optimum = (a - c) ** 2 / (2 * b)
        return Benchmark("Bertrand-Nash equilibrium of the stage game", {
            "nash_price": c, "nash_profit": 0.0, "nash_consumer_surplus": optimum,
            "nash_action": float(eq[0]), "grid_error": low - c,
            "grid_nash_low_price": low, "grid_nash_high_price": high,
            "grid_nash_high_action": float(eq[-1]),
            "grid_nash_high_profit": (high - c) * self.demand(high) / n,
            "collusive_price": (a + c) / 2, "monopoly_quantity": (a - c) / (2 * b),
            "collusive_profit": (a - c) ** 2 / (4 * b * n),
            "collusive_action": float(self.nearest_action((a + c) / 2)),
            "competitive_price": c, "optimum_total_surplus": optimum,
        }, "Price equals marginal cost (the Bertrand paradox). On the grid, every firm "
           "charging the lowest grid price above cost is an equilibrium too (undercutting it "
           "means selling at a loss or at cost); grid_nash_low_price..grid_nash_high_price "
           "are the lowest and highest symmetric grid equilibria (cost and cost + 1/granularity "
           "when cost lies on the grid).")


class DiffBertrandGame(OligopolyGame[DiffBertrandParams]):
    """Repeated Bertrand competition with differentiated products. See the module docstring."""

    info = GameInfo(
        name="BertrandDifferentiated", timing=Timing.SIMULTANEOUS,
        description="Repeated N-firm Bertrand competition with linear differentiated demand.",
        family="oligopoly", reference="Singh & Vives 1984",
    )
    params_type = DiffBertrandParams
    choice = "price"

    def outcome(self, actions: tuple[int, ...]) -> StageOutcome:
        p = self.params
        prices = tuple(k / self._g for k in actions)
        total = sum(prices)
        raw = tuple(p.alpha - p.beta * x + p.gamma * (total - x) for x in prices)
        q = tuple(max(0.0, r) for r in raw)
        cs = self._surplus(q) if min(raw) >= 0 else _NAN
        return StageOutcome(tuple((x - p.cost) * y for x, y in zip(prices, q)), q,
                            total / len(prices), cs)

    def _surplus(self, q: tuple[float, ...]) -> float:
        """Consumer surplus ``q' B^-1 q / 2`` of the quadratic utility behind the demand
        ``q = alpha - B p`` (``B_ii = beta``, ``B_ij = -gamma``), by Sherman-Morrison."""
        p = self.params
        slope = p.beta - p.gamma * (p.n_firms - 1)
        total = sum(q)
        return (sum(x * x for x in q) + p.gamma * total * total / slope) / (2 * (p.beta + p.gamma))

    def _benchmark(self) -> Benchmark:
        p = self.params
        n, alpha, beta, gamma, c = p.n_firms, p.alpha, p.beta, p.gamma, p.cost
        slope = beta - gamma * (n - 1)  # a symmetric price change moves each q by -slope
        price = (alpha + beta * c) / (2 * beta - gamma * (n - 1))
        q = alpha - slope * price
        collusive = (alpha + slope * c) / (2 * slope)
        q_col = alpha - slope * collusive
        q_comp = alpha - slope * c
        optimum = n * q_comp ** 2 / (2 * slope)
        cs = n * q * q / (2 * slope)
        return Benchmark("Bertrand-Nash equilibrium of the stage game", {
            "nash_price": price, "nash_quantity": q, "nash_profit": (price - c) * q,
            "nash_consumer_surplus": cs, "nash_efficiency": (cs + n * (price - c) * q) / optimum,
            **self._grid_values(price),
            "collusive_price": collusive, "collusive_profit": (collusive - c) * q_col,
            "collusive_action": float(self.nearest_action(collusive)),
            "competitive_price": c, "competitive_quantity": q_comp,
            "optimum_total_surplus": optimum,
        }, "Unique stage equilibrium (best responses contract since beta > gamma (n-1)). "
           "Profits are per firm and round; collusive = joint-profit-maximising common price.")
