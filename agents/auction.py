"""Bidders for the sealed-bid auctions (:class:`~agora.envs.games.auction.AuctionGame`).

Bids are grid steps (``0..granularity``), like values. ``auction_bne`` plays the symmetric
Bayes-Nash equilibrium of the rule it is set up for and is the documented default opponent.

Example:
    >>> import numpy as np
    >>> from agora.agents import make_agent
    >>> from agora.envs import make_game
    >>> game, _ = make_game("FirstPriceAuction-v1")
    >>> bne = make_agent("auction_bne", game)
    >>> bne.reset(seed=0, player=0)
    >>> bne.act(game.observe(game.initial_state(np.random.default_rng(0)), 0))
    57
"""

from __future__ import annotations

import math
from typing import Any

from agora.agents.base import Agent, register_agent
from agora.envs import ConfigError, Game, Observation
from agora.envs.core import is_real
from agora.envs.games.auction import AuctionGame, AuctionView, bne_bid_steps


class _Bidder(Agent):
    games = (AuctionGame,)


@register_agent("auction_truthful")
class AuctionTruthful(_Bidder):
    """Bids its value (weakly dominant in the second-price auction)."""

    def act(self, obs: Observation[AuctionView]) -> int:
        return obs.view.my_value


@register_agent("auction_bne")
class AuctionBNE(_Bidder):
    """Bids the symmetric Bayes-Nash equilibrium bid, rounded to the nearest grid step.

    First price ``(n-1)/n v``, second price ``v``, all-pay ``(n-1)/n v^n`` (values scaled
    to [0, 1]). ``setup(game)`` reads the rule and the number of bidders from the game's
    params; without it they are read from the first view.
    """

    def __init__(self) -> None:
        super().__init__()
        self._table: tuple[int, ...] = ()
        self._key: tuple[str, int, int] | None = None

    def setup(self, game: Game[Any, Any, Any]) -> None:
        p = game.params
        self._build(p.rule, p.n_players, p.granularity)

    def _build(self, rule: str, n: int, granularity: int) -> None:
        self._key = (rule, n, granularity)
        self._table = tuple(bne_bid_steps(rule, n, v, granularity)
                            for v in range(granularity + 1))

    def act(self, obs: Observation[AuctionView]) -> int:
        v = obs.view
        if self._key != (v.rule, v.n_players, v.granularity):
            self._build(v.rule, v.n_players, v.granularity)
        return self._table[v.my_value]


@register_agent("auction_shade")
class AuctionShade(_Bidder):
    """Bids ``fraction`` of its value (rounded to the nearest grid step)."""

    def __init__(self, fraction: float = 0.5) -> None:
        super().__init__()
        if not (is_real(fraction) and 0.0 <= fraction <= 1.0):
            raise ConfigError(f"parameter fraction={fraction!r} must be a number in [0, 1]")
        self.fraction = float(fraction)

    def act(self, obs: Observation[AuctionView]) -> int:
        return math.floor(self.fraction * obs.view.my_value + 0.5 + 1e-9)


@register_agent("auction_random")
class AuctionRandom(_Bidder):
    """Bids uniformly at random between 0 and its value (never overbids)."""

    def act(self, obs: Observation[AuctionView]) -> int:
        return int(self.rng.integers(obs.view.my_value + 1))
