"""Vector envs for the sealed-bid auctions: ``G`` repeated auctions stepped as arrays.

:class:`AuctionVectorEnv` is a :class:`~agora.envs.vector_repeated.RepeatedVectorEnv` over
the batched rules of :class:`~agora.envs.games.auction_vec.AuctionVec` (first price,
second price, all-pay). Learners sit in ``seats`` (one seat, or all of them for parameter
sharing); the other seats bid by tables given as data, the bid (grid steps) for every
value ``0..granularity`` (``BidRule.table(params)`` of :mod:`agora.agents.bid_rule`; by
default the id's declared opponent ``auction_bne``: the rounded Bayes-Nash bid).

Chance is the core's: game ``g`` reset with seed ``s + g`` draws its values and tie-breaks
from the rules stream of that episode seed, drawn as lanes
(:class:`~agora.envs.seeding_vec.RulesLanes`) in the core's order; a game restarted in
``NEXT_STEP`` mode (or an unseeded ``reset()``) goes on with its stream, as the single env
does. A game whose learner acts invalidly does not move and draws nothing. So row ``i``
replays through ``gymnasium.make("agora/<id>")`` reset with seed ``s + i``: observations
in each ``observation_format``, rewards (times ``reward_scale``), flags and penalties.

Example:
    >>> import gymnasium, numpy as np, agora.envs
    >>> envs = gymnasium.make_vec("agora/SecondPriceAuction-v1", num_envs=2,
    ...                           vectorization_mode="vector_entry_point", rounds=1)
    >>> obs, _ = envs.reset(seed=0)
    >>> value = (obs["observation"][:, 1] * 100).round().astype(np.int64)
    >>> _, reward, term, _, _ = envs.step(value)  # truthful bids never lose money
    >>> bool((reward >= 0).all()), term.tolist()
    (True, [True, True])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agora.envs.errors import ConfigError
from agora.envs.games.auction import AuctionGame, bne_bid_steps
from agora.envs.games.auction_vec import AuctionVec
from agora.envs.invalid import InvalidPolicy
from agora.envs.seeding_vec import RulesLanes
from agora.envs.vector_repeated import RepeatedVectorEnv

__all__ = ["AuctionVectorEnv", "bne_table"]


def bne_table(game: AuctionGame) -> np.ndarray:
    """``(granularity + 1,)`` the ``auction_bne`` bid of every value (the default opponent).

    Example:
        >>> bne_table(AuctionGame({"granularity": 4, "n_players": 2})).tolist()
        [0, 1, 1, 2, 2]
    """
    p = game.params
    return np.array([bne_bid_steps(p.rule, p.n_players, v, p.granularity)
                     for v in range(p.granularity + 1)], np.int64)


class AuctionVectorEnv(RepeatedVectorEnv):
    """Repeated sealed-bid auctions; fixed seats bid by tables (see the module docstring).

    Args:
        game: the auction game.
        games: games ``G``.
        seats: the learner seats.
        rules: one bid table ``(granularity + 1,)`` for every fixed seat, or
            ``(n_fixed, granularity + 1)`` tables in seat order; ``auction_bne`` by default.
        **shell: ``invalid``, ``observation_format``, ``reward_scale``.

    Example:
        >>> envs = AuctionVectorEnv(AuctionGame({"rounds": 1}), 3, (0,),
        ...                         rules=np.zeros(101, np.int64))  # rivals bid 0
        >>> _ = envs.reset(seed=0)
        >>> _, reward, *_ = envs.step(np.ones(3, np.int64))  # so a bid of 1 wins
        >>> (reward == envs.values[:, 0] - 1.0).tolist()
        [True, True, True]
    """

    def __init__(self, game: AuctionGame, games: int, seats: tuple[int, ...],
                 rules: Any = None, **shell: Any) -> None:
        shell.setdefault("invalid", InvalidPolicy())
        self.vec = AuctionVec(game.params)
        self.lanes_: RulesLanes | None = None  # the games' rules streams, once seeded
        super().__init__(game, games, seats, **shell)
        self.tables = self._tables(game, rules)

    def _tables(self, game: AuctionGame, rules: Any) -> np.ndarray:
        top, k = game.params.granularity, len(self._fixed)
        t = np.asarray(bne_table(game) if rules is None else rules)
        if t.ndim == 1:
            t = np.tile(t, (k, 1))
        if (t.shape != (k, top + 1) or not np.issubdtype(t.dtype, np.integer)
                or (t.size and (t.min() < 0 or t.max() > top))):
            raise ConfigError(f"opponent={rules!r:.80}: want a bid table of {top + 1} int bids "
                              f"in 0..{top} (one per value), or {k} of them")
        return t.astype(np.int64)

    # ----- chance -----------------------------------------------------------------------
    def _seed(self, seeds: list[int] | None) -> None:
        if seeds is not None:
            self.lanes_ = RulesLanes(np.asarray(seeds, np.uint64))

    def _fresh(self, games: int) -> None:
        super()._fresh(games)
        n = self.game.num_players
        self.values = (np.zeros((games, n), np.int64) if self.lanes_ is None
                       else self.vec.draw(self.lanes_))

    def _start_rows(self, rows: Any) -> None:
        super()._start_rows(rows)
        assert self.lanes_ is not None
        self.values[rows] = self.vec.draw(self.lanes_, np.flatnonzero(rows))

    # ----- the game ---------------------------------------------------------------------
    def _payoffs(self, joint: np.ndarray, live: np.ndarray) -> np.ndarray:
        """Winners (tie-breaks drawn) of the live games, then their next values."""
        assert self.lanes_ is not None
        at = np.flatnonzero(live)
        rewards = np.zeros((self.games, self.n))
        _, _, rewards[at] = self.vec.settle(self.values[at], joint[at], self.lanes_, at)
        more = at[self.round[at] + 1 < self.rounds]
        self.values[more] = self.vec.draw(self.lanes_, more)
        return rewards

    def _encode(self, seat: int) -> np.ndarray:
        """The core's ``encode``: progress, own value, own and highest other last bid."""
        g = self.vec.params.granularity
        others = np.delete(self.last, seat, axis=1).max(axis=1)
        first = self.last[:, seat] < 0
        return np.stack([self.round / self.rounds, self.values[:, seat] / g,
                         np.where(first, 0.0, self.last[:, seat] / g),
                         np.where(first, 0.0, others / g)], axis=1).astype(np.float32)

    def _fixed_actions(self) -> np.ndarray:
        k = np.arange(len(self._fixed))
        return self.tables[k, self.values[:, self._fixed]]
