"""Single-agent *tasks*: scientific worlds and knowledge-graph worlds beside the games.

A game (:mod:`agora.envs.core`) has integer actions and players who move by the rules.
A task has one agent (a scientist, a graph builder) whose actions are structured (a
continuous design, a triple) and whose episode has phases (experiments, then queries).
Such worlds do not fit the integer-action :class:`~agora.envs.core.Game`, so they have
their own small contract:

* a **world** object built from plain params (``TaskSpec.make_world(params)``) that holds
  the rules and exposes ``info`` (a :class:`~agora.envs.core.GameInfo`), ``num_players``
  (1) and ``params``;
* a **Gymnasium env** class built around a world (``TaskSpec.make_env``), registered as
  ``agora/<id>`` like every game;
* how ``agora run`` plays it: a world that is an agora :class:`~agora.envs.core.World` (a
  one-player world, like the graph worlds) needs nothing more, the one episode loop plays
  it; a family may instead name its own **episode player** as a ``"module:function"`` path
  (:attr:`TaskSpec.player`). This layer only carries the path: :mod:`agora.experiments`
  resolves it (the players of agora's own families live there, since a player drives
  agents).

A family is one folder: a package ``agora.envs.<family>`` whose ``catalog`` module declares
``TASKS = (TaskSpec(...), ...)``. :func:`discover_families` finds every such package when
:mod:`agora.envs` is imported, so no table here names the families; a family outside agora
declares the same ``TASKS`` in its own module and registers with :func:`discover_tasks`
(a run config's ``imports`` does that for it).

Example:
    >>> from agora.envs.tasks import task_specs
    >>> sorted({s.family for s in task_specs()})
    ['design', 'graph']
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium

from agora.envs.core import merge_params
from agora.envs.errors import ConfigError, UnknownIdError
from agora.envs.spec import add, all_stored, stored


def load(path: Any) -> Any:
    """Resolve ``"package.module:Name"`` to the object (other values pass through)."""
    if not isinstance(path, str):
        return path
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class TaskSpec:
    """One registered task id.

    Attributes:
        id: ``Name-vN``.
        family: the family's name (its folder's); the tasks of a family that name an
            episode player name the same one.
        world: the world class (or ``"module:Class"``); ``world(params_mapping)`` builds it
            and raises :class:`ConfigError` on bad params.
        env: the Gymnasium env class (or ``"module:Class"``); ``env(world, **options)``.
        defaults: parameter overrides that define this id.
        summary: one line for ``agora list``.
        player: the family's episode player, ``"module:function"`` (resolved by
            :mod:`agora.experiments`, never here); empty: the one episode loop plays it
            if its world is an agora ``World``, else it is a Gymnasium-only task.
        benchmark: what the task is scored against, for ``agora list``.
    """

    id: str
    family: str
    world: Any
    env: Any
    defaults: Mapping[str, Any] = field(default_factory=dict)
    summary: str = ""
    player: str = ""
    benchmark: str = ""

    @property
    def gym_id(self) -> str:
        return f"agora/{self.id}"

    def make_world(self, params: Mapping[str, Any] | None = None, **structure: Any) -> Any:
        """The world with this id's defaults overridden by ``params``; ``structure`` holds
        the world's other constructor arguments (a graph world's ``graph=``)."""
        return load(self.world)({**self.defaults, **(params or {})}, **structure)

    def make_env(self, params: Mapping[str, Any] | None = None, **keywords: Any) -> Any:
        """The Gymnasium env over a fresh world.

        Keywords are sorted by name: the env's options (``on_invalid_action``,
        ``max_edges``, ``render_mode`` ...), the world's structure (``graph=``), and
        parameters, which may also come as ``params={...}``. A keyword that is none of
        these is a :class:`ConfigError` naming it.
        """
        env_cls, world_cls = load(self.env), load(self.world)
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


def register_task(spec: TaskSpec) -> TaskSpec:
    """Add a task id to the one registry and to Gymnasium as ``agora/<id>``.

    Raises:
        ConfigError: the id is malformed or taken, the family is not a name, the player is
            not a ``"module:function"`` path, or another task of the family names another
            player.
    """
    if not spec.family.isidentifier():
        raise ConfigError(f"task {spec.id!r}: family {spec.family!r} is not a name")
    if spec.player and spec.player.count(":") != 1:
        raise ConfigError(f"task {spec.id!r}: player {spec.player!r} is not 'module:function'")
    other = {s.player for s in task_specs(spec.family)} - {spec.player}
    if spec.player and other:
        theirs = repr(min(other)) if min(other) else "the one episode loop"
        raise ConfigError(f"task {spec.id!r}: player {spec.player!r}, but family "
                          f"{spec.family!r} plays with {theirs}")
    add(spec)
    gymnasium.register(id=spec.gym_id, entry_point="agora.envs.tasks:make_task_env",
                       kwargs={"task_id": spec.id})
    return spec


def make_task_env(task_id: str, params: Mapping[str, Any] | None = None,
                  **keywords: Any) -> Any:
    """The Gymnasium env of a task id (the entry point behind ``gymnasium.make``):
    parameters as keywords or ``params={...}``, like a game id.

    Example:
        >>> env = make_task_env("LinearGaussian-v1", budget=2, n_particles=64)
        >>> env.world.params.budget
        2
    """
    return task_spec(task_id).make_env(params, **keywords)


def discover_tasks(module_name: str) -> list[TaskSpec]:
    """Import a catalog module and register the ``TASKS`` it declares (ids already
    registered are skipped, so discovering twice is harmless); returns its tasks.

    Example:
        >>> [t.family for t in discover_tasks("agora.envs.kg.catalog")][:1]
        ['graph']
    """
    module = importlib.import_module(module_name)
    tasks = list(getattr(module, "TASKS", ()))
    for s in tasks:
        if stored(s.id) is None:
            register_task(s)
    return tasks


def discover_families(package: str = "agora.envs") -> None:
    """Register the ``TASKS`` of every ``<package>.<family>.catalog`` module (in name
    order): a new family is a new folder, and nothing else names it."""
    root = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda i: i.name):
        catalog = f"{package}.{info.name}.catalog"
        if info.ispkg and importlib.util.find_spec(catalog) is not None:
            discover_tasks(catalog)


def is_task(task_id: str) -> bool:
    """Whether ``task_id`` names a registered task (not a game)."""
    return isinstance(stored(task_id), TaskSpec)


def task_spec(task_id: str) -> TaskSpec:
    """The spec of a task id, or :class:`UnknownIdError` listing the known ones."""
    found = stored(task_id)
    if not isinstance(found, TaskSpec):
        raise UnknownIdError(f"unknown task {task_id!r}; registered: "
                             f"{', '.join(s.id for s in task_specs())}")
    return found


def task_specs(family: str | None = None) -> list[TaskSpec]:
    """Registered task specs, sorted by id (optionally one family)."""
    return [s for s in all_stored() if isinstance(s, TaskSpec)
            and (family is None or s.family == family)]
