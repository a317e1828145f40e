"""The rules of :class:`~agora.envs.games.public_goods.PublicGoodsGame` over a batch.

``G`` groups of ``n_players`` advance together, round by round: one call of
:meth:`PublicGoodsVec.step` plays one round of every group with numpy array operations. The
arithmetic is the core's own, in its order (the pot's share is ``multiplier * pot /
n_players``, a reward ``(endowment - c) + share``, totals summed round by round from 0.0),
so every float equals the core's (tested).

Example:
    >>> vec = PublicGoodsVec({"n_players": 2, "endowment": 10, "multiplier": 1.5, "rounds": 2})
    >>> state, rewards = vec.step(vec.reset(2), np.array([[10, 0], [4, 4]]))
    >>> rewards.tolist()
    [[7.5, 17.5], [12.0, 12.0]]
    >>> state.round, state.contributed.tolist()
    (1, [10, 8])
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from agora.envs.core import Status
from agora.envs.errors import GameOverError, IllegalActionError
from agora.envs.games.public_goods import PublicGoodsParams

__all__ = ["CONDITIONAL_COOPERATOR", "PublicGoodsVec", "VecPublicGoodsState",
           "rule_contributions"]

CONDITIONAL_COOPERATOR = (0.5, 0.0, 1.0, 0.0, 0.0)
"""The default opponent (``conditional_cooperator`` with its defaults) as a contribution
rule row ``[initial, base, slope, threshold, below]`` (see :func:`rule_contributions`)."""


class VecPublicGoodsState(NamedTuple):
    """:class:`~agora.envs.games.public_goods.PublicGoodsState`'s fields for ``G`` groups
    in lockstep: ``round`` and ``status`` are shared; ``last`` (G, n) is -1 before round 1;
    ``totals`` (G, n) float64; ``contributed`` (G,) tokens so far."""

    round: int
    last: np.ndarray
    totals: np.ndarray
    contributed: np.ndarray
    status: Status


class PublicGoodsVec:
    """Batched rules of the linear public goods game (see the module docstring).

    Args:
        params: the game's :class:`PublicGoodsParams` (or a dict of them), validated as the
            core validates them (:class:`~agora.envs.ConfigError` naming the key).
    """

    def __init__(self, params: PublicGoodsParams | dict[str, Any] | None = None) -> None:
        p = params if isinstance(params, PublicGoodsParams) else PublicGoodsParams(
            **(params or {}))
        p.validate()
        self.params = p

    def reset(self, groups: int) -> VecPublicGoodsState:
        """``groups`` fresh games."""
        n = self.params.n_players
        return VecPublicGoodsState(0, np.full((groups, n), -1, np.int64), np.zeros((groups, n)),
                                   np.zeros(groups, np.int64), Status.RUNNING)

    def step(self, state: VecPublicGoodsState, actions: np.ndarray
             ) -> tuple[VecPublicGoodsState, np.ndarray]:
        """One round of every group: the new state and the rewards (G, n).

        Raises:
            GameOverError: the games have ended.
            IllegalActionError: ``actions`` is not a (G, n) int array in ``0..endowment``.
        """
        p = self.params
        if state.status != Status.RUNNING:
            raise GameOverError("step on finished public goods games")
        a = np.asarray(actions)
        if (a.shape != state.last.shape or not np.issubdtype(a.dtype, np.integer)
                or (a.size and (a.min() < 0 or a.max() > p.endowment))):
            raise IllegalActionError(f"actions must be a {state.last.shape} int array of "
                                     f"contributions in 0..{p.endowment}; got {a!r:.80}")
        pot = a.sum(axis=1)
        rewards = self.payoffs(a)
        played = state.round + 1
        status = Status.TERMINATED if played >= p.rounds else Status.RUNNING
        new = VecPublicGoodsState(played, a.astype(np.int64, copy=False),
                                  state.totals + rewards, state.contributed + pot, status)
        return new, rewards

    def payoffs(self, actions: np.ndarray) -> np.ndarray:
        """One round's (G, n) rewards for (G, n) contributions (unchecked), in the core's
        arithmetic: ``(endowment - c) + multiplier * pot / n_players``."""
        p = self.params
        share = p.multiplier * actions.sum(axis=1) / p.n_players
        return (p.endowment - actions) + share[:, None]

    def encode(self, round_: np.ndarray, last: np.ndarray, seat: int) -> np.ndarray:
        """Seat ``seat``'s tensor observation in every group, (G, 3) float32, as
        :meth:`PublicGoodsGame.encode` gives it (``round_`` (G,), ``last`` (G, n), -1 before
        round 1)."""
        p = self.params
        started = last[:, 0] >= 0
        mine = np.where(started, last[:, seat] / p.endowment, 0.0)
        others = np.where(started, (last.sum(axis=1) - last[:, seat])
                          / ((p.n_players - 1) * p.endowment), 0.0)
        return np.stack([round_ / p.rounds, mine, others], axis=1).astype(np.float32)


def rule_contributions(rules: np.ndarray, last: np.ndarray | None, endowment: int
                       ) -> np.ndarray:
    """Contribution rules as data, every seat at once (``GroupRule.contribution`` of
    :mod:`agora.agents.group_rule` over arrays, which that module's ``contributions`` is).

    A rule row ``[initial, base, slope, threshold, below]`` contributes
    ``rint(initial * E)`` in round 1; afterwards, with ``mean`` the others' mean last
    contribution, ``min(E, rint(base * E + slope * mean))`` when ``mean >= threshold * E``,
    else ``rint(below * E)`` (``rint`` is Python's ``round``: half to even).

    Args:
        rules: ``(G, k, 5)`` (or broadcastable, e.g. ``(1, k, 5)``) each seat's row.
        last: ``(G, k)`` last round's contributions, or None in round 1.
        endowment: tokens per round ``E``.

    Returns:
        ``(G, k)`` int64 contributions.

    Example:
        >>> cc = np.array([CONDITIONAL_COOPERATOR] * 3)
        >>> rule_contributions(cc[None], np.array([[0, 10, 20]]), 20).tolist()
        [[15, 10, 5]]
    """
    initial, base, slope, threshold, below = np.moveaxis(np.asarray(rules), -1, 0)
    if last is None:
        return np.rint(initial * endowment).astype(np.int64)
    mean = (last.sum(axis=1, keepdims=True) - last) / (last.shape[1] - 1)
    follow = np.minimum(endowment, np.rint(base * endowment + slope * mean))
    return np.where(mean >= threshold * endowment, follow,
                    np.rint(below * endowment)).astype(np.int64)
