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
* an **episode player** in :mod:`agora.experiments` per family, so ``agora run`` plays a
  task id exactly as it plays a game id.

Each family's catalog module (:data:`CATALOGS`) declares ``TASKS = (TaskSpec(...), ...)``
and :func:`discover_families` registers them when :mod:`agora.envs` is imported.

Example:
    >>> from agora.envs.tasks import task_specs
    >>> all(s.family in FAMILIES for s in task_specs())
    True
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium

from agora.envs.core import merge_params
from agora.envs.errors import ConfigError, UnknownIdError
from agora.envs.spec import add, all_stored, stored

FAMILIES = ("design", "graph")
"""Task families; each has one episode player in ``agora.experiments``."""

CATALOGS = {"design": "agora.envs.design.catalog", "graph": "agora.envs.kg.catalog"}
"""The module of each family that declares its ``TASKS`` (only it is imported at start)."""


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
        family: one of :data:`FAMILIES` (decides the episode player).
        world: the world class (or ``"module:Class"``); ``world(params_mapping)`` builds it
            and raises :class:`ConfigError` on bad params.
        env: the Gymnasium env class (or ``"module:Class"``); ``env(world, **options)``.
        defaults: parameter overrides that define this id.
        summary: one line for ``agora list``.
    """

    id: str
    family: str
    world: Any
    env: Any
    defaults: Mapping[str, Any] = field(default_factory=dict)
    summary: str = ""

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
    """Add a task id to the one registry and to Gymnasium as ``agora/<id>``."""
    if spec.family not in FAMILIES:
        raise ConfigError(f"task {spec.id!r}: family {spec.family!r} not in {FAMILIES}")
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


def discover_tasks(module_name: str) -> None:
    """Register the ``TASKS`` declared by one catalog module."""
    module = importlib.import_module(module_name)
    for s in getattr(module, "TASKS", ()):
        if stored(s.id) is None:
            register_task(s)


def discover_families() -> None:
    """Discover the catalog of every family that is installed."""
    for module_name in CATALOGS.values():
        package = module_name.rpartition(".")[0]
        if (importlib.util.find_spec(package) is not None
                and importlib.util.find_spec(module_name) is not None):
            discover_tasks(module_name)


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
