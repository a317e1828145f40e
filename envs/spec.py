"""``EnvSpec`` and the one id store. Free of gymnasium and pettingzoo, so that game
modules can declare their ids without importing any API shell.

Games (:class:`EnvSpec`) and single-agent tasks (:class:`~agora.envs.tasks.TaskSpec`)
share one store keyed by id, one id pattern and one duplicate check; each spec names its
``family``. :func:`agora.envs.registry.register` and
:func:`agora.envs.tasks.register_task` add to it.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agora.envs.core import Game, Timing
from agora.envs.errors import ConfigError
from agora.envs.text import TextFace

ID_PATTERN = re.compile(r"^[A-Z][A-Za-z0-9]*-v\d+$")
"""Every registered id: ``Name-vN`` (behaviour changes bump ``N``)."""

_STORE: dict[str, Any] = {}


def add(spec: Any) -> None:
    """Put a game or task spec in the one store (id pattern and uniqueness checked)."""
    if not ID_PATTERN.match(spec.id):
        raise ConfigError(f"env id {spec.id!r} must look like 'Name-v0'")
    if spec.id in _STORE:
        raise ConfigError(f"env id {spec.id!r} is already registered")
    _STORE[spec.id] = spec


def stored(env_id: str) -> Any:
    """The spec of an id (game or task), or None."""
    return _STORE.get(env_id.removeprefix("agora/"))


def all_stored() -> list[Any]:
    """Every registered spec, games and tasks, sorted by id."""
    return [_STORE[k] for k in sorted(_STORE)]


@dataclass(frozen=True)
class EnvSpec:
    """One registered environment id.

    Attributes:
        id: ``Name-vN``.
        game: the pure game class.
        text: its text face class.
        defaults: parameter overrides that define this id (on top of the params' defaults).
        summary: one line for ``agora list``.
        default_opponent: the agent the Gymnasium view seats where none is given: one name
            for every seat, or one name per player (games whose seats play different roles).
    """

    id: str
    game: type[Game[Any, Any, Any]]
    text: type[TextFace[Any]] | str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    summary: str = ""
    default_opponent: str | tuple[str, ...] = "random"

    def text_face(self, game: Game[Any, Any, Any]) -> TextFace[Any]:
        """The text face for ``game`` (``text`` may be a ``"module:Class"`` path, so a
        game module need not import its text module)."""
        cls = self.text
        if isinstance(cls, str):
            module, _, name = cls.partition(":")
            cls = getattr(importlib.import_module(module), name)
        return cls(game)

    @property
    def gym_id(self) -> str:
        return f"agora/{self.id}"

    def opponent_for(self, seat: int) -> str:
        """The default opponent's name at player ``seat``."""
        d = self.default_opponent
        return d if isinstance(d, str) else d[seat]

    @property
    def family(self) -> str:
        """The game's family (``"bargaining"``, ``"auctions"``, ...), as ``agora list``
        shows it."""
        return self.game.info.family

    @property
    def timing(self) -> Timing:
        return self.game.info.timing

    def make_game(self, params: Mapping[str, Any] | None = None) -> Game[Any, Any, Any]:
        """The pure game with this id's defaults overridden by ``params``."""
        return self.game({**self.defaults, **(params or {})})
