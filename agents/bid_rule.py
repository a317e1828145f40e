"""Auction bidders as data: a bid for every value, computed with the agents' arithmetic.

A :class:`BidRule` gives the bid (grid steps) of every value ``0..granularity`` of an
auction as one table row, so a population of bidders bids as one array lookup
(:mod:`agora.experiments.population.auction_kernel`) with the bids of the episode loop:

* ``auction_truthful``: the value;
* ``auction_shade(fraction)``: ``floor(fraction * value + 0.5 + 1e-9)``;
* ``auction_bne``: :func:`~agora.envs.games.auction.bne_bid_steps` of the game's rule,
  number of bidders and grid (not linear in the value in the all-pay auction).

``auction_random`` draws from its own generator each round and has no rule (None): the
vector engine does not replay agents' streams.

Example:
    >>> p = AuctionParams(granularity=4)
    >>> bid_rule_of({"name": "auction_shade", "fraction": 0.5}).table(p).tolist()
    [0, 1, 1, 2, 2]
    >>> bid_rule_of("auction_random") is None
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from agora.agents.base import AgentSpec, table_of
from agora.envs import ConfigError
from agora.envs.core import is_real
from agora.envs.games.auction import AuctionParams, bne_bid_steps

__all__ = ["BidRule", "bid_rule_of", "bid_tables"]


@dataclass(frozen=True)
class BidRule:
    """A bidder as data (see the module docstring).

    Attributes:
        name: the bidder's registered name.
        kind: ``"truthful"``, ``"shade"`` or ``"bne"``.
        fraction: the shade's fraction of the value (1.0 for the others).

    Raises:
        ConfigError: an unknown kind, or a fraction outside [0, 1].
    """

    name: str
    kind: str
    fraction: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in ("truthful", "shade", "bne"):
            raise ConfigError(f"kind={self.kind!r}: want truthful, shade or bne")
        f = self.fraction
        if isinstance(f, bool) or not (is_real(f) and 0.0 <= f <= 1.0):
            raise ConfigError(f"parameter fraction={f!r} must be a number in [0, 1]")
        object.__setattr__(self, "fraction", float(f))

    def bid(self, value: int, params: AuctionParams) -> int:
        """The bid for ``value`` grid steps, as the agent computes it."""
        if self.kind == "truthful":
            return value
        if self.kind == "shade":
            return math.floor(self.fraction * value + 0.5 + 1e-9)
        return bne_bid_steps(params.rule, params.n_players, value, params.granularity)

    def table(self, params: AuctionParams) -> np.ndarray:
        """``(granularity + 1,)`` int64: the bid for every value."""
        return np.array([self.bid(v, params) for v in range(params.granularity + 1)],
                        dtype=np.int64)


def bid_tables(rules: list[BidRule], params: AuctionParams) -> np.ndarray:
    """``(S, granularity + 1)`` every rule's :meth:`BidRule.table`."""
    return np.stack([r.table(params) for r in rules])


_FACTORIES: dict[str, Callable[..., BidRule]] = {
    "auction_truthful": lambda: BidRule("auction_truthful", "truthful"),
    "auction_shade": lambda fraction=0.5: BidRule("auction_shade", "shade", fraction),
    "auction_bne": lambda: BidRule("auction_bne", "bne"),
}


def bid_rule_of(spec: BidRule | AgentSpec | str | Mapping[str, Any]) -> BidRule | None:
    """The bid rule of a bidder spec, or None when it has none (random, LLM, learner).

    Raises:
        ConfigError: a bidder with an unknown or invalid parameter (naming it).

    Example:
        >>> bid_rule_of("auction_bne").kind
        'bne'
    """
    if isinstance(spec, BidRule):
        return spec
    return table_of(AgentSpec.parse(spec), _FACTORIES)
