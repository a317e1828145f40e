"""The rules of the repeated oligopolies over a batch: ``G`` markets as array operations.

:class:`OligopolyVec` plays one round of ``G`` markets of one game (Cournot, homogeneous
Bertrand, differentiated Bertrand or logit Bertrand) at once. Its arithmetic is the core's
own, in the core's order (sums over firms are taken firm by firm, as Python's ``sum``
takes them), so every profit, quantity, price, surplus and running total equals the
core's float for float (tested against :meth:`OligopolyGame.outcome` and ``step``). Markets
masked out of a round stay as they are, so a vector env decides itself when they restart.

:class:`FirmRule` is a fixed firm as data (a grid action, or undercutting the lowest rival
price as ``bertrand_undercut`` does); :func:`default_firm_rule` is the rule of each id's
declared default opponent, computed from the game's params as that agent computes it.

Example:
    >>> import numpy as np
    >>> from agora.envs.games.oligopoly import CournotGame
    >>> vec = OligopolyVec(CournotGame({"rounds": 2}))
    >>> state, profits = vec.step(vec.reset(2), np.array([[40, 40], [60, 0]]))
    >>> profits.tolist(), state.round.tolist()
    ([[1600.0, 1600.0], [3600.0, 0.0]], [1, 1])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from agora.envs.core import Status, is_int
from agora.envs.errors import ConfigError
from agora.envs.games.oligopoly.base import OligopolyGame
from agora.envs.games.oligopoly.logit import LogitBertrandGame, logit_shares
from agora.envs.games.oligopoly.markets import BertrandGame, CournotGame, DiffBertrandGame

__all__ = ["FirmRule", "OligopolyVec", "VecOligopolyState", "VecOutcome",
           "default_firm_rule", "firm_actions", "row_sum"]

RUNNING, TERMINATED = int(Status.RUNNING), int(Status.TERMINATED)


def row_sum(x: np.ndarray) -> np.ndarray:
    """``sum(row)`` of every row, column by column: Python's ``sum`` order, not numpy's
    pairwise one, so the floats equal the core's."""
    total = x[:, 0].copy()
    for j in range(1, x.shape[1]):
        total = total + x[:, j]
    return total


class VecOutcome(NamedTuple):
    """:class:`~agora.envs.games.oligopoly.StageOutcome` over ``G`` markets: ``profits``
    and ``quantities`` (G, n), ``price`` and ``consumer_surplus`` (G,) (NaN: undefined)."""

    profits: np.ndarray
    quantities: np.ndarray
    price: np.ndarray
    consumer_surplus: np.ndarray


class VecOligopolyState(NamedTuple):
    """:class:`~agora.envs.games.oligopoly.OligopolyState`'s fields, one entry per market:
    ``last`` (G, n) is -1 before round 1; ``status`` holds Status values as ints."""

    round: np.ndarray
    last: np.ndarray
    totals: np.ndarray
    action_sum: np.ndarray
    quantity_sum: np.ndarray
    price_sum: np.ndarray
    surplus_sum: np.ndarray
    surplus_undefined: np.ndarray
    status: np.ndarray


class OligopolyVec:
    """Batched rules of one oligopoly game (see the module docstring).

    Args:
        game: the core game whose params and grid the batch uses.

    Raises:
        ConfigError: ``game`` is not one of the four oligopolies.
    """

    def __init__(self, game: OligopolyGame[Any]) -> None:
        kinds = (CournotGame, BertrandGame, DiffBertrandGame, LogitBertrandGame)
        if not isinstance(game, kinds):
            raise ConfigError(f"game={type(game).__name__} has no batched oligopoly rules")
        self.game, self.params = game, game.params
        self.n = game.num_players
        self._g = float(game.params.granularity)

    def reset(self, markets: int) -> VecOligopolyState:
        """``markets`` fresh markets."""
        z, n = np.zeros, self.n
        return VecOligopolyState(z(markets, np.int64), np.full((markets, n), -1, np.int64),
                                 z((markets, n)), z(markets, np.int64), z(markets), z(markets),
                                 z(markets), z(markets, np.int64), z(markets, np.int64))

    def outcome(self, actions: np.ndarray) -> VecOutcome:
        """One round's outcome of every market for (G, n) grid actions."""
        a = np.asarray(actions, dtype=np.int64)
        if isinstance(self.game, CournotGame):
            return self._cournot(a)
        if isinstance(self.game, BertrandGame):
            return self._bertrand(a)
        if isinstance(self.game, DiffBertrandGame):
            return self._differentiated(a)
        return self._logit(a)

    def _cournot(self, a: np.ndarray) -> VecOutcome:
        p = self.params
        q = a / self._g
        total = row_sum(q)
        price = np.maximum(0.0, p.a - p.b * total)
        margin = price - p.cost
        cs = np.where(price > 0, p.b * total * total / 2, p.a * p.a / (2 * p.b))
        return VecOutcome(q * margin[:, None], q, price, cs)

    def _bertrand(self, a: np.ndarray) -> VecOutcome:
        p = self.params
        low = a.min(axis=1)
        price = low / self._g
        win = a == low[:, None]
        share = np.maximum(0.0, (p.a - price) / p.b) / win.sum(axis=1)
        margin = (price - p.cost) * share
        gap = p.a - price
        cs = np.where(price < p.a, gap * gap / (2 * p.b), 0.0)
        return VecOutcome(np.where(win, margin[:, None], 0.0), np.where(win, share[:, None], 0.0),
                          price, cs)

    def _differentiated(self, a: np.ndarray) -> VecOutcome:
        p = self.params
        prices = a / self._g
        total = row_sum(prices)
        raw = (p.alpha - p.beta * prices) + p.gamma * (total[:, None] - prices)
        q = np.maximum(0.0, raw)
        slope = p.beta - p.gamma * (p.n_firms - 1)
        tq = row_sum(q)
        surplus = (row_sum(q * q) + p.gamma * tq * tq / slope) / (2 * (p.beta + p.gamma))
        cs = np.where(raw.min(axis=1) >= 0, surplus, np.nan)
        return VecOutcome((prices - p.cost) * q, q, total / self.n, cs)

    def _logit(self, a: np.ndarray) -> VecOutcome:
        p = self.params
        prices = np.take(self.game.prices, a)  # type: ignore[attr-defined]
        q = logit_shares(prices, p.a, p.a0, p.mu)
        u = (p.a - p.a0 - prices) / p.mu
        cs = p.mu * np.logaddexp.reduce(np.concatenate([u, np.zeros((len(a), 1))], 1), axis=1)
        return VecOutcome((prices - p.cost) * q, q, prices.mean(axis=1), cs)

    def step(self, state: VecOligopolyState, actions: np.ndarray, mask: Any = None
             ) -> tuple[VecOligopolyState, np.ndarray]:
        """One round of every running market in ``mask`` (default: all running); returns
        the new state and the (G, n) profits (0 in markets that did not play)."""
        a = np.asarray(actions, dtype=np.int64)
        live = state.status == RUNNING
        if mask is not None:
            live = live & mask
        out = self.outcome(a)
        profits = np.where(live[:, None], out.profits, 0.0)
        cs = out.consumer_surplus
        defined = ~np.isnan(cs)
        played = state.round + live
        new = VecOligopolyState(
            played, np.where(live[:, None], a, state.last), state.totals + profits,
            state.action_sum + live * row_sum(a),
            np.where(live, state.quantity_sum + row_sum(out.quantities), state.quantity_sum),
            np.where(live, state.price_sum + out.price, state.price_sum),
            np.where(live & defined, state.surplus_sum + np.where(defined, cs, 0.0),
                     state.surplus_sum),
            state.surplus_undefined + (live & ~defined),
            np.where(live & (played >= self.params.rounds), TERMINATED, state.status))
        return new, profits

    def encode(self, round_: np.ndarray, last: np.ndarray, seat: int) -> np.ndarray:
        """Seat ``seat``'s tensor observation in every market, (G, 5) float32, as
        :meth:`OligopolyGame.encode` gives it (zeros before round 1)."""
        top = self.game.num_actions - 1
        others = np.delete(last, seat, axis=1)
        feats = np.stack([round_ / self.params.rounds, last[:, seat] / top,
                          others.sum(axis=1) / (others.shape[1] * top),
                          others.min(axis=1) / top, others.max(axis=1) / top], axis=1)
        return np.where(last[:, :1] < 0, 0.0, feats).astype(np.float32)


@dataclass(frozen=True)
class FirmRule:
    """A fixed firm as data.

    Attributes:
        opening: the grid action played in round 1 (and always, unless ``undercut``).
        undercut: afterwards, play one step under the lowest rival action of last round,
            never above ``opening`` nor below ``floor`` (``bertrand_undercut``'s rule).
        floor: the lowest action an undercutting firm plays.

    Example:
        >>> firm_actions([FirmRule(5, True, 2)], np.array([[-1, -1], [3, 9]]), [1]).tolist()
        [[5], [2]]
    """

    opening: int
    undercut: bool = False
    floor: int = 0

    def check(self, num_actions: int, where: str) -> None:
        """A :class:`ConfigError` naming ``where`` when an action is off the grid."""
        for key in ("opening", "floor"):
            value = getattr(self, key)
            if not (is_int(value) and 0 <= value < num_actions):
                raise ConfigError(f"{where}: {key}={value!r} is not a grid action in "
                                  f"0..{num_actions - 1}")


def default_firm_rule(game: OligopolyGame[Any]) -> FirmRule:
    """The rule of the id's declared default opponent (``cournot_nash``,
    ``bertrand_undercut`` or ``bertrand_nash``), from the game's params as the agent's
    ``setup`` computes it.

    Example:
        >>> default_firm_rule(CournotGame())
        FirmRule(opening=40, undercut=False, floor=0)
    """
    values = game.benchmark().values
    if isinstance(game, BertrandGame):
        p = game.params
        floor = min(math.ceil(p.cost * p.granularity - 1e-9), game.num_actions - 1)
        return FirmRule(game.nearest_action(values["collusive_price"]), True, floor)
    return FirmRule(int(values["nash_action"]))


def firm_actions(rules: list[FirmRule], last: np.ndarray, seats: list[int]) -> np.ndarray:
    """The actions (G, len(seats)) of the firms in ``seats``, each playing its rule against
    last round's actions ``last`` (G, n) (-1 before round 1)."""
    cols = []
    first = last[:, 0] < 0
    for rule, seat in zip(rules, seats):
        if not rule.undercut:
            cols.append(np.full(len(last), rule.opening, np.int64))
            continue
        low = np.delete(last, seat, axis=1).min(axis=1)
        act = np.maximum(rule.floor, np.minimum(rule.opening, low - 1))
        cols.append(np.where(first, rule.opening, act))
    return np.stack(cols, axis=1)
