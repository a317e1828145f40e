"""Knowledge-graph worlds: graph completion and MINERVA-style queries over hidden graphs.

Submodules: :mod:`~agora.envs.kg.types` (actions, views), :mod:`~agora.envs.kg.sources`
(real KGs, networkx graphs, rule worlds), :mod:`~agora.envs.kg.corruption`,
:mod:`~agora.envs.kg.world`, :mod:`~agora.envs.kg.query`, :mod:`~agora.envs.kg.text`,
:mod:`~agora.envs.kg.env` (Gymnasium faces) and :mod:`~agora.envs.kg.catalog` (task ids).
"""

from agora.envs.kg.types import (
    ACTION_KINDS,
    WALK_KINDS,
    KGAction,
    KGView,
    Triple,
    WalkAction,
    WalkView,
)

__all__ = ["ACTION_KINDS", "WALK_KINDS", "KGAction", "KGView", "Triple", "WalkAction",
           "WalkView"]
