"""The vectorised engine of auction populations: ``G`` sealed-bid auctions at once.

:func:`play_auction_groups` plays ``G`` auctions, seat ``j`` of auction ``g`` bidding by
the table ``tables[seats[g, j]]`` (a :meth:`agora.agents.bid_rule.BidRule.table`: the bid
of every value), through the game's batched rules
(:class:`~agora.envs.games.auction_vec.AuctionVec`). Auction ``g`` draws its values and
tie-breaks from the rules stream of its episode seed ``seeds[g]``
(:func:`~agora.envs.seeding.episode_streams`), as the episode loop does, so payoffs and
metrics equal the episodes engine's for the same seeds, in all three auction rules. The
streams are drawn as lanes (:class:`~agora.envs.seeding_vec.RulesLanes`), not one numpy
generator per auction.

Auctions have no cooperative action: neither engine reports a cooperation count (NaN).

Example:
    >>> from agora.agents.bid_rule import bid_rule_of, bid_tables
    >>> p = AuctionParams(rule="second_price", n_players=2, rounds=4)
    >>> tables = bid_tables([bid_rule_of("auction_truthful")], p)
    >>> res = play_auction_groups(tables, np.zeros((2, 2), np.int64), p, [5, 6])
    >>> res.rounds, res.payoffs.shape, bool((res.payoffs >= 0).all())
    (4, (2, 2), True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from agora.envs import ConfigError
from agora.envs.core import Status
from agora.envs.games.auction import AuctionParams
from agora.envs.games.auction_vec import AuctionVec
from agora.envs.seeding_vec import RulesLanes
from agora.experiments.population.group_kernel import check_seats

__all__ = ["AuctionResult", "play_auction_groups"]


@dataclass(frozen=True)
class AuctionResult:
    """What ``G`` auctions produced.

    Attributes:
        payoffs: ``(G, n)`` each seat's total payoff (money, float64).
        rounds: rounds played (every auction plays the game's ``rounds``).
        metrics: the game's metrics per auction, name -> ``(G,)``.
    """

    payoffs: np.ndarray
    rounds: int
    metrics: dict[str, np.ndarray]


def _checked(tables: Any, seats: Any, seeds: Any, p: AuctionParams
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t, s, n = np.asarray(tables), np.asarray(seats), p.n_players
    if t.ndim != 2 or t.shape[1] != p.granularity + 1 or not np.issubdtype(
            t.dtype, np.integer) or (t.size and (t.min() < 0 or t.max() > p.granularity)):
        raise ConfigError(f"tables (shape {t.shape}) must be an (S, {p.granularity + 1}) "
                          f"int array of bids in 0..{p.granularity}")
    check_seats(s, n, len(t))
    sd = np.asarray(seeds)
    if sd.shape != (len(s),) or (sd.size and (not np.issubdtype(sd.dtype, np.integer) or (
            sd.dtype.kind == "i" and sd.min() < 0))):
        raise ConfigError(f"seeds: want {len(s)} non-negative integer episode seeds, one per "
                          f"auction; got {sd!r:.80}")
    return t, s, sd.astype(np.uint64)


def play_auction_groups(tables: Any, seats: Any, params: AuctionParams | dict[str, Any],
                        seeds: Any) -> AuctionResult:
    """Play every auction for the game's rounds (see the module docstring).

    Args:
        tables: ``(S, granularity + 1)`` bid tables, one row per strategy.
        seats: ``(G, n_players)`` strategy indices into ``tables``.
        params: the auction game's params.
        seeds: ``G`` episode seeds, one per auction.

    Raises:
        ConfigError: ``tables``, ``seats`` or ``seeds`` of the wrong shape or out of range,
            or invalid params (naming the key); a seed that is not a non-negative integer.
    """
    vec = AuctionVec(params)
    t, s, sd = _checked(tables, seats, seeds, vec.params)
    n = vec.params.n_players
    rngs = RulesLanes(sd)  # the rules streams of episode_streams(seed), as lanes
    state = vec.reset(rngs)
    per_seat = t[s]  # (G, n, granularity + 1)
    rows = np.arange(len(s))[:, None], np.arange(n)[None, :]
    while state.status == Status.RUNNING and len(s):
        state, _ = vec.step(state, per_seat[(*rows, state.values)], rngs)
    metrics = vec.metrics(state) if len(s) else {}
    return AuctionResult(state.totals, vec.params.rounds, metrics)
