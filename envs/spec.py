"""``EnvSpec``: what one registered id is. Free of gymnasium and pettingzoo, so that
game modules can declare their ids without importing any API shell."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agora.envs.core import Game, Timing
from agora.envs.text import TextFace


@dataclass(frozen=True)
class EnvSpec:
    """One registered environment id.

    Attributes:
        id: ``Name-vN``.
        game: the pure game class.
        text: its text face class.
        defaults: parameter overrides that define this id (on top of the params' defaults).
        summary: one line for ``agora list``.
    """

    id: str
    game: type[Game[Any, Any, Any]]
    text: type[TextFace[Any]] | str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    summary: str = ""
    default_opponent: str = "random"

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

    @property
    def timing(self) -> Timing:
        return self.game.info.timing

    def make_game(self, params: Mapping[str, Any] | None = None) -> Game[Any, Any, Any]:
        """The pure game with this id's defaults overridden by ``params``."""
        return self.game({**self.defaults, **(params or {})})
