"""The vectorised engine of commons populations: ``G`` groups played round by round at once.

:func:`play_commons_groups` plays ``G`` groups, seat ``j`` of group ``g`` following the
commons heuristic ``codes[seats[g, j]]`` (:mod:`agora.agents.commons_rule`), through the
game's batched rules (:class:`~agora.envs.games.commons_vec.CommonsVec`), until every group
has played its rounds or seen its resource collapse, so payoffs, rounds and the game's
metrics are the episode loop's. Nothing is drawn.

"Cooperation" per seat: a round in which the seat requested at most its sustainable share
of that round (what ``commons_sustainable`` in that seat would take: the stock above ``R*``
split equally). The episodes engine has no per-seat request in its records, so it reports
NaN for the commons.

Example:
    >>> from agora.agents.commons_rule import GREEDY, SUSTAINABLE
    >>> p = CommonsParams(n_players=2, capacity=20, floor=2, max_harvest=10, rounds=3)
    >>> res = play_commons_groups(np.array([SUSTAINABLE, GREEDY]), np.array([[0, 0], [0, 1]]), p)
    >>> res.payoffs.tolist(), res.coop.tolist(), res.rounds.tolist()
    ([[15.0, 15.0], [5.0, 20.0]], [[3, 3], [2, 0]], [3, 2])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from agora.agents.commons_rule import requests, sustainable_shares
from agora.envs import ConfigError
from agora.envs.games.commons import CommonsParams
from agora.envs.games.commons_vec import CommonsVec
from agora.experiments.population.group_kernel import check_seats

__all__ = ["CommonsResult", "play_commons_groups"]


@dataclass(frozen=True)
class CommonsResult:
    """What ``G`` commons groups produced.

    Attributes:
        payoffs: ``(G, n)`` units each seat harvested (float64, the episode return).
        coop: ``(G, n)`` rounds in which the seat requested at most its sustainable share.
        rounds: ``(G,)`` rounds played (fewer than the game's after a collapse).
        metrics: the game's metrics per group, name -> ``(G,)``.
    """

    payoffs: np.ndarray
    coop: np.ndarray
    rounds: np.ndarray
    metrics: dict[str, np.ndarray]


def _seats(codes: Any, seats: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    c, s = np.asarray(codes), np.asarray(seats)
    if c.ndim != 1 or not np.issubdtype(c.dtype, np.integer) or (
            c.size and (c.min() < 0 or c.max() > 2)):
        raise ConfigError(f"codes must be a 1-d int array of commons rule codes 0..2; "
                          f"got {c!r:.80}")
    check_seats(s, n, len(c))
    return c, s


def play_commons_groups(codes: Any, seats: Any, params: CommonsParams | dict[str, Any]
                        ) -> CommonsResult:
    """Play every group to its end (see the module docstring).

    Args:
        codes: ``(S,)`` one :attr:`~agora.agents.commons_rule.CommonsRule.code` per strategy.
        seats: ``(G, n_players)`` strategy indices into ``codes``.
        params: the commons game's params.

    Raises:
        ConfigError: ``codes`` or ``seats`` of the wrong shape or out of range, or invalid
            params (naming the key).
    """
    vec = CommonsVec(params)
    p = vec.params
    c, s = _seats(codes, seats, p.n_players)
    per_seat = c[s]
    state = vec.reset(len(s))
    before, coop = np.full(s.shape, -1, np.int64), np.zeros(s.shape, np.int64)
    while len(s) and not state.done.all():
        asked = requests(per_seat, state.stock, state.round, state.last, before, p)
        fair = asked <= sustainable_shares(state.stock, state.round, p)
        coop += fair & ~state.done[:, None]
        before = np.where(state.done[:, None], before, state.last)
        state, _ = vec.step(state, asked)
    return CommonsResult(state.totals.astype(np.float64), coop, state.round,
                         vec.metrics(state))
