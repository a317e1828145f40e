"""Heuristic agents for the commons and the public goods game with punishment.

Commons agents (``commons_*``) read the resource's numbers in :meth:`Agent.setup` (or, when
built without a game, from the first view they see). Punishment-game agents (``punish_*``)
answer both stages: they contribute when ``view.punishing`` is False and spend points when
it is True.
"""

from __future__ import annotations

from typing import Any

from agora.agents.base import Agent, register_agent
from agora.envs import ConfigError, Game, Observation
from agora.envs.core import is_int, is_real
from agora.envs.games.commons import CommonsGame, CommonsView, sustainable_remainder
from agora.envs.games.public_goods_punish import PublicGoodsPunishGame, PunishView


# ----- commons -----------------------------------------------------------------------
class _CommonsAgent(Agent):
    games = (CommonsGame,)

    def __init__(self) -> None:
        super().__init__()
        self._known: int | None = None  # R* from setup: units to leave to regrow fully
        self._remainder: int | None = None

    def setup(self, game: Game[Any, Any, Any]) -> None:
        if not isinstance(game, CommonsGame):
            raise TypeError(f"{type(self).__name__} plays Commons, not {game.info.name}")
        self._known = self._remainder = game.sustainable_remainder

    def reset(self, seed: int, player: int) -> None:
        super().reset(seed, player)
        self._remainder = self._known  # without setup, read afresh from the next view

    def _r_star(self, v: CommonsView) -> int:
        if self._remainder is None:
            self._remainder = sustainable_remainder(v.capacity, v.growth, v.floor)
        return self._remainder

    def sustainable_share(self, v: CommonsView) -> int:
        """This player's equal share of the harvest that brings the stock back to capacity.

        The group target is ``stock - R*`` (``H*`` at capacity, less after over-harvesting,
        0 when the stock must recover), at most ``n * max_harvest``. It is split in whole
        units; the ``target % n`` extra units rotate over the players round by round.
        """
        target = min(max(v.stock - self._r_star(v), 0), v.n_players * v.max_harvest)
        base, extra = divmod(target, v.n_players)
        return base + int((self.player - v.round) % v.n_players < extra)

    def fair_ceiling(self, v: CommonsView) -> int:
        """The most a player harvests under the sustainable split at capacity."""
        target = min(v.capacity - self._r_star(v), v.n_players * v.max_harvest)
        return -(-target // v.n_players)


@register_agent("commons_sustainable")
class CommonsSustainable(_CommonsAgent):
    """Harvests its equal share of the sustainable yield (stock minus what must regrow)."""

    def act(self, obs: Observation[CommonsView]) -> int:
        return self.sustainable_share(obs.view)


@register_agent("commons_greedy")
class CommonsGreedy(_CommonsAgent):
    """Requests ``max_harvest`` every round (the tragedy of the commons)."""

    def act(self, obs: Observation[CommonsView]) -> int:
        return obs.view.max_harvest


@register_agent("commons_reciprocal")
class CommonsReciprocal(_CommonsAgent):
    """Sustainable share, but matches another player's over-harvest of the last round.

    It then takes the largest such harvest (up to ``max_harvest``). A harvest is
    over-harvesting when it exceeds both the sustainable split at capacity and everything
    the *other* players took the round before, so that reciprocators matching an offender
    do not take each other for offenders.
    """

    def reset(self, seed: int, player: int) -> None:
        super().reset(seed, player)
        self._before: tuple[int, ...] = ()  # everyone's harvests two rounds back

    def act(self, obs: Observation[CommonsView]) -> int:
        v = obs.view
        if v.my_last < 0:
            return self.sustainable_share(v)
        last = v.others_last[: self.player] + (v.my_last,) + v.others_last[self.player:]
        before, self._before = self._before, last
        ceiling = self.fair_ceiling(v)
        offences = [
            h for j, h in enumerate(last)
            if j != self.player and h > max((ceiling, *before[:j], *before[j + 1:]))
        ]
        if offences:
            return min(max(offences), v.max_harvest)
        return self.sustainable_share(v)


# ----- public goods with punishment --------------------------------------------------
class _PunishAgent(Agent):
    games = (PublicGoodsPunishGame,)


@register_agent("punish_selfish")
class PunishSelfish(_PunishAgent):
    """Selfish SPE play: never punishes, contributes 0 (everything if m > n)."""

    def act(self, obs: Observation[PunishView]) -> int:
        v = obs.view
        if v.punishing:
            return 0
        return v.endowment if v.multiplier > v.n_players else 0


@register_agent("punish_cooperator")
class PunishCooperator(_PunishAgent):
    """Contributes ``fraction`` of E; spends ``points`` when another contributed less.

    Its points fall on the lowest other contributor(s), so it punishes exactly when that
    contribution is below its own (a free rider relative to it).
    """

    def __init__(self, fraction: float = 1.0, points: int = 3) -> None:
        super().__init__()
        if not (is_real(fraction) and 0.0 <= fraction <= 1.0):
            raise ConfigError(f"parameter fraction={fraction!r} must be a number in [0, 1]")
        if not (is_int(points) and points >= 0):
            raise ConfigError(f"parameter points={points!r} must be an integer >= 0")
        self.fraction = float(fraction)
        self.points = int(points)

    def setup(self, game: Game[Any, Any, Any]) -> None:
        if isinstance(game, PublicGoodsPunishGame) and self.points > game.params.max_punish:
            raise ConfigError(f"parameter points={self.points} exceeds the game's "
                              f"max_punish={game.params.max_punish}")

    def act(self, obs: Observation[PunishView]) -> int:
        v = obs.view
        if not v.punishing:
            return round(self.fraction * v.endowment)
        free_rider = min(v.others_last) < v.my_last
        return min(self.points, v.max_punish) if free_rider else 0
