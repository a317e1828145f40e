"""Trading agents for the continuous double auction (``DoubleAuction-v1``).

* ``trader_zic``: Gode and Sunder's zero-intelligence-constrained trader, the documented
  default opponent: a uniformly random price in its no-loss range, never a pass.
* ``trader_truthful``: the price taker's order: bids its value, asks its cost.
* ``trader_shade``: shades its limit by ``fraction`` of the room towards the other side's
  end of the grid (0 is truthful, 1 bids 0 / asks ``price_max``).

A double auction has no simple equilibrium strategy to hand out; the theory's benchmark
is the competitive equilibrium, which markets of ZI-C traders approach in allocation
(Gode & Sunder 1993). Each agent only uses its own view and ``self.rng``.

Example:
    >>> from agora.agents import make_agent
    >>> from agora.envs import make_game
    >>> from agora.experiments import play_episode
    >>> game, text = make_game("DoubleAuction-v1", {"values": ((90,), (70,)),
    ...     "costs": ((20,), (60,)), "n_buyers": 2, "n_sellers": 2,
    ...     "price_max": 100, "turn_order": "round_robin"})
    >>> agents = [make_agent("trader_truthful", game) for _ in range(4)]
    >>> play_episode(game, text, agents, seed=0).metrics["efficiency"]
    1.0
"""

from __future__ import annotations

from typing import Any

from agora.agents.base import Agent, register_agent
from agora.envs import ConfigError, Observation
from agora.envs.core import is_real
from agora.envs.games.double_auction import DoubleAuctionGame, TraderView


def _order(price: int) -> int:
    """The action of an order at ``price`` (action 0 is a pass)."""
    return price + 1


class _Trader(Agent):
    games = (DoubleAuctionGame,)


@register_agent("trader_zic")
class ZeroIntelligenceConstrained(_Trader):
    """Gode-Sunder ZI-C: a uniform random price between its limit and the grid's end.

    Buyers bid uniformly in ``0..value``, sellers ask uniformly in ``cost..price_max``.
    """

    def act(self, obs: Observation[Any]) -> int:
        v: TraderView = obs.view
        if v.role == "buyer":
            return _order(int(self.rng.integers(0, v.limit + 1)))
        return _order(int(self.rng.integers(v.limit, v.price_max + 1)))


@register_agent("trader_truthful")
class Truthful(_Trader):
    """Bids its value or asks its cost for the next unit, every turn."""

    def act(self, obs: Observation[Any]) -> int:
        return _order(obs.view.limit)


@register_agent("trader_shade")
class Shade(_Trader):
    """Shades its limit by ``fraction`` of the distance to the grid's far end.

    A buyer with value ``v`` bids ``round(v * (1 - fraction))``; a seller with cost ``c``
    asks ``round(c + fraction * (price_max - c))``.
    """

    def __init__(self, fraction: float = 0.1) -> None:
        super().__init__()
        if not (is_real(fraction) and 0.0 <= fraction <= 1.0):
            raise ConfigError(f"parameter fraction={fraction!r} must be a number in [0, 1]")
        self.fraction = float(fraction)

    def act(self, obs: Observation[Any]) -> int:
        v: TraderView = obs.view
        if v.role == "buyer":
            return _order(round(v.limit * (1 - self.fraction)))
        return _order(round(v.limit + self.fraction * (v.price_max - v.limit)))
