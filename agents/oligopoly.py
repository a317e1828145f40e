"""Heuristic agents for the oligopolies (Cournot, Bertrand, differentiated Bertrand).

They read the market's parameters in :meth:`Agent.setup` (``make_agent(spec, game)`` calls
it), so their policy needs only the view. Actions are grid indices.
"""

from __future__ import annotations

import math
from typing import Any

from agora.agents.base import Agent, register_agent
from agora.envs import ConfigError, Game, Observation
from agora.envs.core import is_real
from agora.envs.games.oligopoly import (
    BertrandGame,
    CournotGame,
    DiffBertrandGame,
    LogitBertrandGame,
    OligopolyGame,
)


class _FixedAction(Agent):
    """Plays one grid action, computed from the game in :meth:`setup`."""

    def __init__(self) -> None:
        super().__init__()
        self._action = -1

    def _game(self, game: Game[Any, Any, Any]) -> OligopolyGame[Any]:
        if not isinstance(game, self.games):
            names = ", ".join(g.info.name for g in self.games)
            raise ConfigError(f"{type(self).__name__} plays {names}, not {game.info.name}")
        return game  # type: ignore[return-value]

    def act(self, obs: Observation[Any]) -> int:
        if self._action < 0:
            raise ConfigError(f"{type(self).__name__} needs setup(game) before it can act "
                              "(build it with make_agent(spec, game))")
        return self._action


@register_agent("cournot_nash")
class CournotNash(_FixedAction):
    """Produces the Cournot-Nash quantity ``(a-c)/(b(n+1))`` (nearest grid point)."""

    games = (CournotGame,)

    def setup(self, game: Game[Any, Any, Any]) -> None:
        self._action = int(self._game(game).benchmark().values["nash_action"])


@register_agent("cournot_collusive")
class CournotCollusive(_FixedAction):
    """Produces its equal share of the monopoly quantity, ``(a-c)/(2bn)`` (nearest grid point)."""

    games = (CournotGame,)

    def setup(self, game: Game[Any, Any, Any]) -> None:
        self._action = int(self._game(game).benchmark().values["collusive_action"])


@register_agent("bertrand_nash")
class BertrandNash(_FixedAction):
    """Charges the Bertrand-Nash price: cost (homogeneous), ``(alpha+beta c)/(2beta-gamma(n-1))``
    (differentiated) or the logit game's ``p^N`` (the nearest grid point each time).

    ``upper=True`` (homogeneous good only) charges the highest symmetric grid equilibrium
    price instead, cost + 1/granularity when cost lies on the grid.
    """

    games = (BertrandGame, DiffBertrandGame, LogitBertrandGame)

    def __init__(self, upper: bool = False) -> None:
        super().__init__()
        if not isinstance(upper, bool):
            raise ConfigError(f"parameter upper={upper!r} must be true or false")
        self.upper = upper

    def setup(self, game: Game[Any, Any, Any]) -> None:
        values = self._game(game).benchmark().values
        if self.upper and not isinstance(game, BertrandGame):
            raise ConfigError("parameter upper=True needs the homogeneous Bertrand game")
        key = "grid_nash_high_action" if self.upper else "nash_action"
        self._action = int(values[key])


@register_agent("bertrand_undercut")
class BertrandUndercut(_FixedAction):
    """Undercuts the lowest rival price by one grid step, never below cost.

    Opens at ``first_price`` (default: the collusive/monopoly price) and never charges more
    than that opening price, so a rival pricing above it is not chased upwards.
    """

    games = (BertrandGame, DiffBertrandGame)

    def __init__(self, first_price: float | None = None) -> None:
        super().__init__()
        if first_price is not None and not (is_real(first_price) and first_price >= 0):
            raise ConfigError(f"parameter first_price={first_price!r} must be a number >= 0")
        self.first_price = first_price

    def setup(self, game: Game[Any, Any, Any]) -> None:
        g = self._game(game)
        price = g.benchmark().values["collusive_price"] if self.first_price is None \
            else self.first_price
        self._action = g.nearest_action(price)
        self._floor = min(math.ceil(g.params.cost * g.params.granularity - 1e-9),
                          g.num_actions - 1)

    def act(self, obs: Observation[Any]) -> int:
        opening = super().act(obs)
        others = obs.view.others_last
        if not others:
            return opening
        return max(self._floor, min(opening, min(others) - 1))
