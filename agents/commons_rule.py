"""The commons heuristics as data: one code per strategy, decisions over arrays.

The three registered commons agents (:mod:`agora.agents.commons_punish`) are deterministic
functions of the group's history, so a population of them plays as array operations over
all groups at once (:mod:`agora.experiments.population.commons_kernel`) with the payoffs of
the episode loop. Their arithmetic, with ``R*`` the sustainable remainder and ``n`` the
group size:

* ``commons_sustainable`` (:data:`SUSTAINABLE`): its share of ``min(max(stock - R*, 0),
  n * max_harvest)``, split in whole units, the ``target % n`` extra units going to the
  players ``(player - round) % n < extra``;
* ``commons_greedy`` (:data:`GREEDY`): ``max_harvest``;
* ``commons_reciprocal`` (:data:`RECIPROCAL`): the share, unless another player ``j``
  harvested last round more than both the fair ceiling ``ceil(H* / n)`` and everything the
  players other than ``j`` harvested two rounds back; then the largest such harvest (at
  most ``max_harvest``).

Example:
    >>> commons_rule_of("commons_greedy")
    CommonsRule(name='commons_greedy', code=1)
    >>> commons_rule_of("tit_for_tat") is None
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from agora.agents.base import AgentSpec, table_of
from agora.envs.games.commons import CommonsParams, sustainable_remainder

__all__ = ["GREEDY", "RECIPROCAL", "SUSTAINABLE", "CommonsRule", "commons_rule_of",
           "requests", "sustainable_shares"]

SUSTAINABLE, GREEDY, RECIPROCAL = 0, 1, 2


@dataclass(frozen=True)
class CommonsRule:
    """A commons heuristic as data (see the module docstring).

    Attributes:
        name: the heuristic's registered name.
        code: :data:`SUSTAINABLE`, :data:`GREEDY` or :data:`RECIPROCAL`.
    """

    name: str
    code: int


_FACTORIES = {name: (lambda name=name, code=code: CommonsRule(name, code)) for name, code in (
    ("commons_sustainable", SUSTAINABLE), ("commons_greedy", GREEDY),
    ("commons_reciprocal", RECIPROCAL))}


def commons_rule_of(spec: CommonsRule | AgentSpec | str | Mapping[str, Any]
                    ) -> CommonsRule | None:
    """The rule of a commons strategy spec, or None when it has none (any other agent).

    Raises:
        ConfigError: a commons heuristic given a parameter (they take none).

    Example:
        >>> commons_rule_of({"name": "commons_reciprocal"}).code == RECIPROCAL
        True
    """
    if isinstance(spec, CommonsRule):
        return spec
    return table_of(AgentSpec.parse(spec), _FACTORIES)


def sustainable_shares(stock: np.ndarray, rounds: np.ndarray, params: CommonsParams
                       ) -> np.ndarray:
    """``(G, n)`` every seat's :meth:`sustainable_share` for stocks and rounds ``(G,)``."""
    p = params
    remainder = sustainable_remainder(p.capacity, p.growth, p.floor)
    target = np.minimum(np.maximum(stock - remainder, 0), p.n_players * p.max_harvest)
    base, extra = np.divmod(target, p.n_players)
    seat = np.arange(p.n_players)[None, :]
    return base[:, None] + ((seat - rounds[:, None]) % p.n_players < extra[:, None])


def _max_but_self(x: np.ndarray) -> np.ndarray:
    """``(G, n)``: for every seat, the row's maximum over the other seats."""
    rows, top = np.arange(len(x)), x.argmax(axis=1)
    rest = x.copy()
    rest[rows, top] = np.iinfo(np.int64).min
    out = np.repeat(x[rows, top][:, None], x.shape[1], axis=1)
    out[rows, top] = rest.max(axis=1)
    return out


def requests(codes: np.ndarray, stock: np.ndarray, rounds: np.ndarray, last: np.ndarray,
             before: np.ndarray, params: CommonsParams) -> np.ndarray:
    """Every seat's request at once, with the agents' arithmetic.

    Args:
        codes: ``(G, n)`` each seat's :attr:`CommonsRule.code`.
        stock: ``(G,)`` units at the start of this round.
        rounds: ``(G,)`` rounds played.
        last: ``(G, n)`` harvests last round (-1 before round 1).
        before: ``(G, n)`` harvests two rounds back (-1 before round 2).
        params: the game's params.

    Returns:
        ``(G, n)`` int64 requests.

    Example:
        >>> p = CommonsParams(n_players=3, capacity=60, floor=5, max_harvest=20)
        >>> requests(np.array([[0, 1, 2]]), np.array([60]), np.array([1]),
        ...          np.array([[10, 20, 10]]), np.full((1, 3), -1), p).tolist()
        [[10, 20, 20]]
    """
    p = params
    share = sustainable_shares(stock, rounds, p)
    remainder = sustainable_remainder(p.capacity, p.growth, p.floor)
    ceiling = -(-min(p.capacity - remainder, p.n_players * p.max_harvest) // p.n_players)
    offence = last > np.maximum(ceiling, _max_but_self(before))
    worst = _max_but_self(np.where(offence, last, -1))
    reciprocal = np.where(worst >= 0, np.minimum(worst, p.max_harvest), share)
    out = np.where(codes == GREEDY, p.max_harvest, share)
    return np.where(codes == RECIPROCAL, reciprocal, out).astype(np.int64)
