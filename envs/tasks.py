"""Single-agent worlds ("tasks"): the design and graph families beside the games.

A task is a one-player :class:`~agora.envs.core.World` whose actions are structured (a
continuous design, a graph edit) and whose state keeps its phases. It is registered with
the same :class:`~agora.envs.spec.EnvSpec` as a game, in the same store, and differs in
two fields only:

* ``env``: its own **Gymnasium env** class built around a world (``spec.make_env``),
  registered as ``agora/<id>`` like every game, since structured actions need their own
  spaces;
* ``player``: empty for a world that is an agora :class:`~agora.envs.core.World` (the one
  episode loop plays it, as it plays the games); a family whose world is not one names its
  own **episode player**, a ``"module:function"`` path that :mod:`agora.experiments`
  resolves (this layer only carries the path).

A family is one folder: a package ``agora.envs.<family>`` whose ``catalog`` module declares
``TASKS = (EnvSpec(...), ...)``. :func:`discover_families` finds every such package when
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
import pkgutil
from collections.abc import Mapping
from typing import Any

from agora.envs.errors import UnknownIdError
from agora.envs.spec import EnvSpec, all_stored, load, stored

__all__ = ["discover_families", "discover_tasks", "is_task", "load", "make_task_env",
           "task_spec", "task_specs"]


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


def discover_tasks(module_name: str) -> list[EnvSpec]:
    """Import a catalog module and register the ``TASKS`` it declares (ids already
    registered are skipped, so discovering twice is harmless); returns its tasks.

    Example:
        >>> [t.family for t in discover_tasks("agora.envs.kg.catalog")][:1]
        ['graph']
    """
    module = importlib.import_module(module_name)
    tasks = list(getattr(module, "TASKS", ()))
    from agora.envs.registry import register  # the registry imports the shells

    for s in tasks:
        if stored(s.id) is None:
            register(s)
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
    found = stored(task_id)
    return found is not None and found.is_task


def task_spec(task_id: str) -> EnvSpec:
    """The spec of a task id, or :class:`UnknownIdError` listing the known ones."""
    found = stored(task_id)
    if found is None or not found.is_task:
        raise UnknownIdError(f"unknown task {task_id!r}; registered: "
                             f"{', '.join(s.id for s in task_specs())}")
    return found


def task_specs(family: str | None = None) -> list[EnvSpec]:
    """Registered task specs, sorted by id (optionally one family)."""
    return [s for s in all_stored() if s.is_task
            and (family is None or s.family == family)]
