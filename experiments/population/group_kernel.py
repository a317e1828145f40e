"""The vectorised engine of public goods populations: ``G`` groups x ``R`` rounds at once.

:func:`play_groups` plays ``G`` groups of ``k`` seats, seat ``j`` of group ``g`` following
the contribution rule ``rules[seats[g, j]]`` (a :meth:`agora.agents.group_rule.GroupRule.row`),
round by round through the game's own batched rules
(:class:`~agora.envs.games.public_goods_vec.PublicGoodsVec`), so payoffs are the episode
loop's to the last bit. The rules are deterministic: nothing is drawn.

Example:
    >>> from agora.agents.group_rule import group_rule_of
    >>> from agora.envs.games.public_goods import PublicGoodsParams
    >>> rules = np.stack([group_rule_of(s).row() for s in (
    ...     {"name": "fixed_contributor", "fraction": 0.0}, "conditional_cooperator")])
    >>> res = play_groups(rules, np.array([[0, 1]]), PublicGoodsParams(2, 10, 1.5, 3))
    >>> res.payoffs.tolist(), res.contributions.tolist()
    ([[33.75, 28.75]], [[0, 5]])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from agora.agents.group_rule import contributions
from agora.envs import ConfigError
from agora.envs.core import Status
from agora.envs.games.public_goods import PublicGoodsParams
from agora.envs.games.public_goods_vec import PublicGoodsVec

__all__ = ["GroupResult", "play_groups"]


@dataclass(frozen=True)
class GroupResult:
    """What ``G`` groups produced.

    Attributes:
        payoffs: ``(G, k)`` each seat's total payoff over the rounds (float64).
        contributions: ``(G, k)`` tokens each seat contributed over the rounds (int64).
        rounds: rounds played (every group plays the game's ``rounds``).
    """

    payoffs: np.ndarray
    contributions: np.ndarray
    rounds: int


def check_rules(rules: Any, width: int) -> np.ndarray:
    """Every row-rule kernel's rules: a finite ``(S, width)`` float array.

    Raises:
        ConfigError: any other shape, or a value that is not finite.
    """
    r = np.asarray(rules, dtype=np.float64)
    if r.ndim != 2 or r.shape[1] != width or not np.all(np.isfinite(r)):
        raise ConfigError(f"rules (shape {r.shape}) must be a finite (S, {width}) array")
    return r


def check_seats(seats: np.ndarray, n: int, strategies: int) -> None:
    """Every group kernel's seats: a ``(G, n)`` int array of indices into ``strategies``.

    Raises:
        ConfigError: any other shape, type or index.
    """
    s = seats
    if s.ndim != 2 or s.shape[1] != n or (s.size and (
            not np.issubdtype(s.dtype, np.integer) or s.min() < 0 or s.max() >= strategies)):
        raise ConfigError(f"seats must be a (G, {n}) int array of strategy indices in "
                          f"[0, {strategies}); got {s!r:.80}")


def play_groups(rules: Any, seats: Any, params: PublicGoodsParams | dict[str, Any]
                ) -> GroupResult:
    """Play every group for the game's rounds (see the module docstring).

    Args:
        rules: ``(S, 5)`` contribution rules, one row per strategy.
        seats: ``(G, n_players)`` strategy indices into ``rules``.
        params: the public goods game's params.

    Raises:
        ConfigError: ``rules`` or ``seats`` of the wrong shape or out of range, or
            invalid params (naming the key).
    """
    vec = PublicGoodsVec(params)
    r, s = check_rules(rules, 5), np.asarray(seats)
    n = vec.params.n_players
    check_seats(s, n, len(r))
    per_seat = np.take(r, s, axis=0)  # (G, k, 5)
    state = vec.reset(len(s))
    given, last = np.zeros(s.shape, np.int64), None
    while state.status == Status.RUNNING:
        last = contributions(per_seat, last, vec.params.endowment)
        state, _ = vec.step(state, last)
        given += last
    return GroupResult(state.totals, given, state.round)
