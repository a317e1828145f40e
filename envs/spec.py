"""``EnvSpec`` and the one id store. Free of gymnasium and pettingzoo, so that game
modules can declare their ids without importing any API shell.

Games and single-agent worlds (design, graph) share one spec class, one store keyed by
id, one id pattern and one duplicate check; each spec names its ``family``.
:func:`agora.envs.registry.register` adds to it.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agora.envs.core import Game, Timing, merge_params
from agora.envs.errors import ConfigError
from agora.envs.text import TextFace

ID_PATTERN = re.compile(r"^[A-Z][A-Za-z0-9]*-v\d+$")
"""Every registered id: ``Name-vN`` (behaviour changes bump ``N``)."""

_STORE: dict[str, EnvSpec] = {}


def add(spec: EnvSpec) -> None:
    """Put a spec in the one store (id pattern and uniqueness checked)."""
    if not ID_PATTERN.match(spec.id):
        raise ConfigError(f"env id {spec.id!r} must look like 'Name-v0'")
    if spec.id in _STORE:
        raise ConfigError(f"env id {spec.id!r} is already registered")
    _STORE[spec.id] = spec


def stored(env_id: str) -> EnvSpec | None:
    """The spec of an id (game or task), or None."""
    return _STORE.get(env_id.removeprefix("agora/"))


def all_stored() -> list[EnvSpec]:
    """Every registered spec, games and tasks, sorted by id."""
    return [_STORE[k] for k in sorted(_STORE)]


def load(path: Any) -> Any:
    """Resolve ``"package.module:Name"`` to the object (other values pass through)."""
    if not isinstance(path, str):
        return path
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class EnvSpec:
    """One registered id: a game or a single-agent world, with everything its faces need.

    Games and single-agent worlds (design, graph) are both :class:`~agora.envs.core.World`
    classes and share this one spec: the id, the world, its defaults and its line in
    ``agora list``. A single-agent world names its own Gymnasium shell (``env``), which its
    structured actions need; a game is served by the shells of :mod:`agora.envs.adapters`.

    Attributes:
        id: ``Name-vN``.
        game: the world class (a :class:`~agora.envs.core.Game` for the economic games), or
            a ``"module:Class"`` path to it.
        text: the game's text face class (or ``"module:Class"``); single-agent worlds carry
            their text face themselves (``world.text``) and leave it None.
        defaults: parameter overrides that define this id (on top of the params' defaults).
        summary: one line for ``agora list``.
        default_opponent: the agent the Gymnasium view seats where none is given: one name
            for every seat, or one name per player (games whose seats play different roles).
        family: the family ``agora list`` shows; by default the world's ``info.family``
            (required when ``game`` is a path).
        env: a single-agent world's Gymnasium env class (or ``"module:Class"``);
            ``env(world, **options)``. None for games.
        player: the family's episode player, ``"module:function"`` (resolved by
            :mod:`agora.experiments`, never here); empty: ``agora run`` plays the id with
            the one episode loop if its world is an agora ``World``, else it is a
            Gymnasium-only task.
        benchmark: what the world is scored against, for ``agora list`` (games: their
            ``benchmark()`` concept).

    Example:
        >>> from agora.envs import lookup
        >>> lookup("RepeatedPD-v1").family, lookup("KGCompletion-v1").family
        ('repeated games', 'graph')
        >>> lookup("RepeatedPD-v1").is_task, lookup("KGCompletion-v1").is_task
        (False, True)
    """

    id: str
    game: Any
    text: type[TextFace[Any]] | str | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    summary: str = ""
    default_opponent: str | tuple[str, ...] = "random"
    family: str = ""
    env: Any = None
    player: str = ""
    benchmark: str = ""

    def __post_init__(self) -> None:
        if not self.family:
            if isinstance(self.game, str):
                raise ConfigError(f"spec {self.id!r}: give family= when the world is a path")
            object.__setattr__(self, "family", self.game.info.family)

    @property
    def world(self) -> type[Game[Any, Any, Any]]:
        """The world class (a ``"module:Class"`` path is imported now)."""
        return load(self.game)  # type: ignore[no-any-return]

    @property
    def is_task(self) -> bool:
        """Whether this is a single-agent world with its own shell (design, graph)."""
        return self.env is not None

    def text_face(self, game: Game[Any, Any, Any]) -> TextFace[Any]:
        """The text face for ``game`` (``text`` may be a ``"module:Class"`` path, so a
        game module need not import its text module)."""
        if self.text is None:
            raise ConfigError(f"{self.id} has no separate text face (its world carries it)")
        return load(self.text)(game)  # type: ignore[no-any-return]

    @property
    def gym_id(self) -> str:
        return f"agora/{self.id}"

    def opponent_for(self, seat: int) -> str:
        """The default opponent's name at player ``seat``."""
        d = self.default_opponent
        return d if isinstance(d, str) else d[seat]

    @property
    def timing(self) -> Timing:
        return self.world.info.timing

    def make_world(self, params: Mapping[str, Any] | None = None, **structure: Any) -> Any:
        """The world with this id's defaults overridden by ``params``; ``structure`` holds
        the world's other constructor arguments (a graph world's ``graph=``)."""
        return self.world({**self.defaults, **(params or {})}, **structure)

    def make_game(self, params: Mapping[str, Any] | None = None) -> Game[Any, Any, Any]:
        """The pure game with this id's defaults overridden by ``params``."""
        return self.make_world(params)  # type: ignore[no-any-return]

    def make_env(self, params: Mapping[str, Any] | None = None, **keywords: Any) -> Any:
        """A single-agent world's Gymnasium env over a fresh world.

        Keywords are sorted by name: the env's options (``on_invalid_action``,
        ``max_edges``, ``render_mode`` ...), the world's structure (``graph=``), and
        parameters, which may also come as ``params={...}``. A keyword that is none of
        these is a :class:`ConfigError` naming it.
        """
        if self.env is None:
            raise ConfigError(f"{self.id} is a game: use agora.envs.make_gym or "
                              f"gymnasium.make({self.gym_id!r})")
        env_cls, world_cls = load(self.env), self.world
        options = _split(env_cls, keywords, skip=1)
        structure = _split(world_cls, keywords, skip=1)
        merged = merge_params(params, keywords, self.id)
        try:
            world = self.make_world(merged, **structure)
        except ConfigError as exc:
            if not keywords:
                raise
            other = sorted(_names(env_cls, 1) + _names(world_cls, 1))
            raise ConfigError(f"{self.id}: {exc}; the other keywords are {other}") from None
        return env_cls(world, **options)


def _names(cls: Any, skip: int) -> list[str]:
    """Keyword names of ``cls(...)`` after the first ``skip`` positional arguments."""
    sig = inspect.signature(cls)
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [n for n, p in list(sig.parameters.items())[skip:] if p.kind in kinds]


def _split(cls: Any, keywords: dict[str, Any], skip: int) -> dict[str, Any]:
    """Remove and return the keywords that ``cls(...)`` takes by name."""
    return {n: keywords.pop(n) for n in _names(cls, skip) if n in keywords}
