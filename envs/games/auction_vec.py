"""The rules of :class:`~agora.envs.games.auction.AuctionGame` over a batch of auctions.

``G`` auctions of ``n_players`` bidders advance together, round by round: allocation,
payments, payoffs and the core's running sums are numpy array operations. Chance stays the
core's: each auction owns its rules generator (for an episode seed ``s``, the rules stream
of :func:`~agora.envs.seeding.episode_streams`), from which its values are drawn with the
core's calls in the core's order (``integers(0, granularity + 1, size=n)`` at reset, then
each round a uniform pick among the tied top bids when there is a tie, then the next
values unless the auctions are over). So a batch seeded ``s`` replays the core episode
seeded ``s`` exactly, for every rule. The generators are either numpy's own (one call per
auction and draw) or, for episode seeds, :class:`~agora.envs.seeding_vec.RulesLanes`: the
same streams drawn as array operations over all auctions.

Example:
    >>> vec = AuctionVec({"rule": "second_price", "n_players": 2, "granularity": 10,
    ...                   "value_max": 10.0, "rounds": 1})
    >>> rngs = [np.random.default_rng(s) for s in (0, 1)]
    >>> state = vec.reset(rngs)
    >>> state.values.tolist()
    [[9, 7], [5, 5]]
    >>> state, rewards = vec.step(state, state.values, rngs)  # truthful bids
    >>> rewards.tolist(), state.revenue.tolist(), state.last_winner.tolist()
    ([[2.0, 0.0], [0.0, 0.0]], [7, 5], [0, 1])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, TypeAlias

import numpy as np

from agora.envs.core import Status, fairness_rows
from agora.envs.errors import ConfigError, GameOverError, IllegalActionError
from agora.envs.games.auction import AuctionGame, AuctionParams
from agora.envs.seeding_vec import RulesLanes

__all__ = ["AuctionVec", "Rngs", "VecAuctionState"]

Rngs: TypeAlias = Sequence[np.random.Generator] | RulesLanes
"""One generator per auction, or the rules streams of their episode seeds as lanes."""


class VecAuctionState(NamedTuple):
    """:class:`~agora.envs.games.auction.AuctionState`'s fields for ``G`` auctions in
    lockstep: ``round`` and ``status`` are shared; ``values``, ``last`` (-1 before round
    1) and ``totals`` are ``(G, n)``; the other sums ``(G,)``."""

    round: int
    values: np.ndarray
    last: np.ndarray
    last_winner: np.ndarray
    totals: np.ndarray
    revenue: np.ndarray
    winner_value: np.ndarray
    top_value: np.ndarray
    highest_wins: np.ndarray
    distance: np.ndarray
    status: Status


class AuctionVec:
    """Batched rules of the sealed-bid auctions (see the module docstring).

    Args:
        params: the game's :class:`AuctionParams` (or a dict of them), validated as the
            core validates them (:class:`~agora.envs.ConfigError` naming the key).
    """

    def __init__(self, params: AuctionParams | dict[str, Any] | None = None) -> None:
        self.game = AuctionGame(params)
        p = self.params = self.game.params
        self.unit = p.value_max / p.granularity
        self.bne = np.array(self.game._bne)  # the core's BNE bid of each value, in steps

    def draw(self, rngs: Rngs, at: np.ndarray | None = None) -> np.ndarray:
        """``(G, n)`` fresh values: the core's draw from each auction's generator (or only
        from those in ``at``, lane indices, in their order)."""
        p = self.params
        if isinstance(rngs, RulesLanes):
            return rngs.integers(p.granularity + 1, p.n_players, at)
        lanes = range(len(rngs)) if at is None else at.tolist()
        values = [rngs[i].integers(0, p.granularity + 1, size=p.n_players) for i in lanes]
        return np.array(values, dtype=np.int64).reshape(len(values), p.n_players)

    def reset(self, rngs: Rngs) -> VecAuctionState:
        """One fresh auction per generator (or lane), its values drawn from it."""
        g, n = len(rngs), self.params.n_players
        zeros = np.zeros(g, np.int64)
        return VecAuctionState(0, self.draw(rngs), np.full((g, n), -1, np.int64),
                               np.full(g, -1, np.int64), np.zeros((g, n)), zeros, zeros,
                               zeros, zeros, np.zeros(g), Status.RUNNING)

    def winners(self, bids: np.ndarray, rngs: Rngs, at: np.ndarray | None = None
                ) -> np.ndarray:
        """``(G,)`` the highest bidder; among tied top bids the core's uniform pick, drawn
        from the tied auctions' generators (only those draw). ``at``: the lane index of
        each row of ``bids`` (default: row ``g`` is lane ``g``)."""
        tied = bids == bids.max(axis=1, keepdims=True)
        winner, count = tied.argmax(axis=1), tied.sum(axis=1)
        many = np.flatnonzero(count > 1)
        lanes = many if at is None else at[many]
        if isinstance(rngs, RulesLanes):
            if len(many):
                pick = rngs.choice_index(count[many], lanes)
                rank = np.cumsum(tied[many], axis=1) - 1
                winner[many] = (tied[many] & (rank == pick[:, None])).argmax(axis=1)
            return winner
        for g, lane in zip(many.tolist(), lanes.tolist()):
            seats = np.flatnonzero(tied[g])
            winner[g] = seats[int(rngs[lane].integers(len(seats)))]
        return winner

    def settle(self, values: np.ndarray, bids: np.ndarray, rngs: Rngs,
               at: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One round's ``(winner (G,), payments (G, n) steps, rewards (G, n) money)`` of
        auctions with ``values`` and int64 ``bids`` (ties drawn as :meth:`winners`)."""
        winner, rows = self.winners(bids, rngs, at), np.arange(len(bids))
        paid = self._payments(bids, winner)
        won = np.zeros(bids.shape, np.int64)
        won[rows, winner] = values[rows, winner]
        return winner, paid, (won - paid) * self.unit

    def step(self, state: VecAuctionState, actions: np.ndarray,
             rngs: Rngs) -> tuple[VecAuctionState, np.ndarray]:
        """One round of every auction: the new state and the rewards (G, n), money.

        ``rngs`` are the auctions' generators, or their :class:`RulesLanes` (only read on
        a tie, or to draw the next values): pass the ones given to :meth:`reset`.

        Raises:
            GameOverError: the auctions have ended.
            IllegalActionError: ``actions`` is not a (G, n) int array in ``0..granularity``.
            ConfigError: a generator is needed and ``rngs`` does not have one per auction.
        """
        p = self.params
        if state.status != Status.RUNNING:
            raise GameOverError("step on finished auctions")
        b = np.asarray(actions)
        if (b.shape != state.values.shape or not np.issubdtype(b.dtype, np.integer)
                or (b.size and (b.min() < 0 or b.max() > p.granularity))):
            raise IllegalActionError(f"actions must be a {state.values.shape} int array of "
                                     f"bids in 0..{p.granularity}; got {b!r:.80}")
        b = b.astype(np.int64)
        winner, paid, rewards = self.settle(state.values, b, rngs)
        rows = np.arange(len(b))
        played = state.round + 1
        status = Status.TERMINATED if played >= p.rounds else Status.RUNNING
        values, top = state.values, state.values.max(axis=1)
        miss = np.abs(b - self.bne[values]).sum(axis=1) / p.n_players
        new = VecAuctionState(
            played, values if status is Status.TERMINATED else self.draw(rngs), b, winner,
            state.totals + rewards, state.revenue + paid.sum(axis=1),
            state.winner_value + values[rows, winner], state.top_value + top,
            state.highest_wins + (values[rows, winner] == top),
            state.distance + miss * self.unit, status)
        return new, rewards

    def _payments(self, bids: np.ndarray, winner: np.ndarray) -> np.ndarray:
        """:func:`~agora.envs.games.auction.payments` of every auction, ``(G, n)``."""
        rule, rows = self.params.rule, np.arange(len(bids))
        if rule == "all_pay":
            return bids
        if rule == "first_price":
            price = bids[rows, winner]
        else:
            others = bids.copy()
            others[rows, winner] = -1
            price = others.max(axis=1)
        paid = np.zeros_like(bids)
        paid[rows, winner] = price
        return paid

    def metrics(self, state: VecAuctionState) -> dict[str, np.ndarray]:
        """:meth:`AuctionGame.metrics` per auction (after round 1), name -> ``(G,)``."""
        r = state.round
        if r == 0:
            raise ConfigError("metrics of auctions that have not played a round")
        t = state.totals
        return {
            **{f"gain_{i}": t[:, i] for i in range(t.shape[1])},
            "rounds": np.full(len(t), float(r)),
            "revenue": state.revenue * self.unit / r,
            "efficiency": np.where(state.top_value == 0, 1.0, state.winner_value / np.where(
                state.top_value == 0, 1, state.top_value)),
            "winner_is_highest": state.highest_wins / r,
            "distance_to_benchmark": state.distance / r,
            "fairness": fairness_rows(t),
        }
