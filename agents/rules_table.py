"""One table of agents as data for the games' batched rules.

Five games have batched rules that play some of their agents as arrays: the population
engine's vector kernels (:mod:`agora.experiments.population.engine`) play whole
populations of them, and the vector envs (``opponent=`` of :func:`agora.envs.vector.make_vec`)
seat them opposite a learner. For each game (its ``GameInfo.name``) a :class:`RuleTable`
says how an agent spec becomes a rule (``rule_of``; None: the agent has none, e.g. a
language model), what kind of rule that is (for error messages) and how rules become the
one array the batched rules take (``stack``, given the game's params: bid tables depend on
the grid):

=================  ==================================  =================================
game               rule (:mod:`agora.agents` module)   array
=================  ==================================  =================================
RepeatedMatrix     memory-one strategy (memory_one)    ``(k, 5)`` P(action 0) tables
PublicGoods        contribution rule (group_rule)      ``(k, 5)`` rule rows
Commons            commons rule (commons_rule)         ``(k,)`` int codes
Auction            bid rule (bid_rule)                 ``(k, granularity + 1)`` bids
DonorGame          donor rule (donor_rule)             ``(k, 3)`` rule rows
=================  ==================================  =================================

The vector envs take these arrays as they are (one row per fixed seat, in seat order),
except the repeated 2x2 env, which seats one opponent and takes its ``(5,)`` table; the
commons has batched rules for populations but no vector env.

Example:
    >>> rules = rule_table("PublicGoods")
    >>> rules.what, rules.data(["fixed_contributor", "conditional_cooperator"], None).shape
    ('contribution rule', (2, 5))
    >>> rules.lacking(["fixed_contributor", "llm"])
    ['llm']
    >>> rule_table("Ultimatum") is None
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from agora.agents.bid_rule import bid_rule_of, bid_tables
from agora.agents.commons_rule import commons_rule_of
from agora.agents.donor_rule import donor_rule_of
from agora.agents.group_rule import group_rule_of
from agora.agents.memory_one import memory_one_of
from agora.envs.core import Game

__all__ = ["RULE_TABLES", "RuleTable", "rule_table"]


@dataclass(frozen=True)
class RuleTable:
    """How agents become rule data for one game's batched rules (module docstring).

    Attributes:
        game: the game's ``GameInfo.name``.
        label: the game in words (``"repeated 2x2"``), for error messages.
        what: the kind of rule, for error messages (``"bid rule"``).
        rule_of: an agent spec's rule, or None when the agent has none.
        stack: the rules as one array, given the game's params.
    """

    game: str
    label: str
    what: str
    rule_of: Callable[[Any], Any | None]
    stack: Callable[[list[Any], Any], np.ndarray]

    def lacking(self, specs: Sequence[Any]) -> list[Any]:
        """The specs (as given) that have no rule of this kind."""
        return [s for s in specs if self.rule_of(s) is None]

    def data(self, specs: Sequence[Any], params: Any) -> np.ndarray | None:
        """Every spec's rule stacked into the batched rules' array, in order; None when
        one of them has no rule (see :meth:`lacking`).

        Raises:
            ConfigError: a rule agent with an unknown or invalid parameter (naming it).
        """
        rules = [self.rule_of(s) for s in specs]
        if any(r is None for r in rules):
            return None
        return self.stack(rules, params)


def _rows(method: str) -> Callable[[list[Any], Any], np.ndarray]:
    return lambda rules, _params: np.stack([getattr(r, method)() for r in rules])


RULE_TABLES: dict[str, RuleTable] = {t.game: t for t in (
    RuleTable("RepeatedMatrix", "repeated 2x2", "memory-one strategy", memory_one_of,
              _rows("probabilities")),
    RuleTable("PublicGoods", "public goods", "contribution rule", group_rule_of, _rows("row")),
    RuleTable("Commons", "commons", "commons rule", commons_rule_of,
              lambda rules, _params: np.array([r.code for r in rules], dtype=np.int64)),
    RuleTable("Auction", "auction", "bid rule", bid_rule_of, bid_tables),
    RuleTable("DonorGame", "donor", "donor rule", donor_rule_of, _rows("row")),
)}
"""Every game with batched rules that play agents as data, by ``GameInfo.name``."""


def rule_table(game: Game[Any, Any, Any] | str) -> RuleTable | None:
    """The rule table of a game (or its ``GameInfo.name``); None when its batched rules,
    if any, play no agents as data.

    Example:
        >>> from agora.envs import make_game
        >>> rule_table(make_game("FirstPriceAuction-v1")[0]).what
        'bid rule'
    """
    return RULE_TABLES.get(game if isinstance(game, str) else game.info.name)

