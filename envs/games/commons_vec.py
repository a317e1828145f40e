"""The rules of :class:`~agora.envs.games.commons.CommonsGame` over a batch of groups.

``G`` groups of ``n_players`` advance together: one call of :meth:`CommonsVec.step` plays
one round of every group still running, with numpy array operations. The arithmetic is
the core's own: requests that fit are granted, otherwise the stock is rationed by
Hamilton's method (proportional quotas rounded down, leftover units to the largest
remainders, ties in cyclic order from player ``round % n``; :func:`allocate`); the rest
regrows to ``min(capacity, floor(growth * remaining + 1e-9))`` unless it is under
``floor``, when the resource collapses and that group's episode ends. Groups end at
different rounds: a finished group keeps its state and earns 0 while the others play on.

Example:
    >>> vec = CommonsVec({"n_players": 2, "capacity": 10, "floor": 2, "max_harvest": 8})
    >>> state, rewards = vec.step(vec.reset(2), np.array([[2, 3], [8, 8]]))
    >>> rewards.tolist(), state.stock.tolist(), state.done.tolist()
    ([[2.0, 3.0], [5.0, 5.0]], [10, 0], [False, True])
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from agora.envs.core import fairness_rows
from agora.envs.errors import GameOverError, IllegalActionError
from agora.envs.games.commons import _EPS, CommonsGame, CommonsParams

__all__ = ["CommonsVec", "VecCommonsState", "allocate"]


class VecCommonsState(NamedTuple):
    """:class:`~agora.envs.games.commons.CommonsState`'s fields for ``G`` groups, each
    ``(G,)`` or ``(G, n)``: ``last`` is -1 before round 1; ``done`` is the core's status
    (TERMINATED) as a flag."""

    round: np.ndarray
    stock: np.ndarray
    last: np.ndarray
    totals: np.ndarray
    collapsed: np.ndarray
    done: np.ndarray


def allocate(requests: np.ndarray, stock: np.ndarray, first: np.ndarray) -> np.ndarray:
    """:func:`agora.envs.games.commons.allocate` for every row at once.

    Args:
        requests: ``(G, n)`` non-negative int requests.
        stock: ``(G,)`` units on offer.
        first: ``(G,)`` the player served first among equal remainders.

    Returns:
        ``(G, n)`` int64 units granted.

    Example:
        >>> allocate(np.array([[30, 30, 40], [1, 1, 1]]), np.array([50, 2]),
        ...          np.array([0, 1])).tolist()
        [[15, 15, 20], [0, 1, 1]]
    """
    req = np.asarray(requests, dtype=np.int64)
    out, n = req.copy(), req.shape[1]
    short = np.flatnonzero(req.sum(axis=1) > stock)  # only these rows are rationed
    if len(short):
        r, units = req[short], np.asarray(stock, dtype=np.int64)[short]
        total = r.sum(axis=1)[:, None]
        got, rest = (r * units[:, None]) // total, (r * units[:, None]) % total
        cyclic = (np.arange(n)[None, :] - np.asarray(first)[short][:, None]) % n
        key = rest * n + (n - 1 - cyclic)  # distinct in a row: larger key is served first
        rank = (key[:, None, :] > key[:, :, None]).sum(axis=2)
        out[short] = got + (rank < (units - got.sum(axis=1))[:, None])
    return out


class CommonsVec:
    """Batched rules of the renewable commons (see the module docstring).

    Args:
        params: the game's :class:`CommonsParams` (or a dict of them), validated as the
            core validates them (:class:`~agora.envs.ConfigError` naming the key).
    """

    def __init__(self, params: CommonsParams | dict[str, Any] | None = None) -> None:
        self.game = CommonsGame(params)
        self.params = self.game.params

    def reset(self, groups: int) -> VecCommonsState:
        """``groups`` fresh games."""
        n, zeros = self.params.n_players, np.zeros(groups, np.int64)
        return VecCommonsState(zeros, np.full(groups, self.params.capacity, np.int64),
                               np.full((groups, n), -1, np.int64),
                               np.zeros((groups, n), np.int64), zeros.astype(bool),
                               zeros.astype(bool))

    def step(self, state: VecCommonsState, actions: np.ndarray
             ) -> tuple[VecCommonsState, np.ndarray]:
        """One round of every running group: the new state and the rewards (G, n); a
        finished group's row is unchanged and its rewards are 0.

        Raises:
            GameOverError: every group has ended.
            IllegalActionError: ``actions`` is not a (G, n) int array in ``0..max_harvest``.
        """
        p = self.params
        if state.done.all():
            raise GameOverError("step on finished commons games")
        a = np.asarray(actions)
        if (a.shape != state.last.shape or not np.issubdtype(a.dtype, np.integer)
                or (a.size and (a.min() < 0 or a.max() > p.max_harvest))):
            raise IllegalActionError(f"actions must be a {state.last.shape} int array of "
                                     f"requests in 0..{p.max_harvest}; got {a!r:.80}")
        run = ~state.done
        got = np.where(run[:, None], allocate(a, state.stock, state.round % p.n_players), 0)
        remaining = state.stock - got.sum(axis=1)
        collapsed = run & (remaining < p.floor)
        regrown = np.minimum(p.capacity, np.floor(p.growth * remaining + _EPS)).astype(np.int64)
        played = state.round + run
        new = VecCommonsState(
            played, np.where(run, np.where(collapsed, 0, regrown), state.stock),
            np.where(run[:, None], got, state.last), state.totals + got,
            state.collapsed | collapsed, state.done | collapsed | (played >= p.rounds))
        return new, got.astype(np.float64)

    def metrics(self, state: VecCommonsState) -> dict[str, np.ndarray]:
        """:meth:`CommonsGame.metrics` per group, name -> ``(G,)`` (``gain_i`` included)."""
        p, totals = self.params, state.totals
        total = totals.sum(axis=1)
        optimum = p.rounds * self.game.sustainable_total
        fair_share = optimum / p.n_players
        distance = np.abs(totals - fair_share).sum(axis=1) / (p.n_players * fair_share)
        return {
            **{f"gain_{i}": totals[:, i].astype(np.float64) for i in range(p.n_players)},
            "rounds": state.round.astype(np.float64),
            "total_harvest": total.astype(np.float64),
            "survival": (state.round - state.collapsed) / p.rounds,
            "collapsed": state.collapsed.astype(np.float64),
            "final_stock": state.stock.astype(np.float64),
            "efficiency": total / optimum,
            "fairness": fairness_rows(totals),
            "distance_to_benchmark": distance,
        }
