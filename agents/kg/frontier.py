"""What the knowledge-graph agents share: reading a :class:`~agora.envs.kg.types.KGView`
(active ids, triple keys) and the breadth-first query order :class:`Frontier`.

Example:
    >>> from agora.envs.kg.world import CompletionWorld
    >>> world = CompletionWorld({"num_entities": 30, "corruption": "empty"})
    >>> view = world.view(world.initial_state(np.random.default_rng(0)))
    >>> x = Frontier().next(view)  # nothing known: the first visible node
    >>> x == int(active_ids(view)[0])
    True
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from agora.envs.errors import ConfigError
from agora.envs.kg.types import KGView, Triple


def check_param(name: str, value: Any, ok: bool, what: str) -> None:
    """Raise :class:`ConfigError` naming the parameter unless ``ok``."""
    if not ok:
        raise ConfigError(f"parameter {name}={value!r} must be {what}")


def active_ids(view: KGView) -> np.ndarray:
    """Ids an action may name: visible and not merged away."""
    ids = np.arange(view.num_entities)
    return ids[view.visible & (view.canonical == ids)]


def triple_keys(triples: Any, view: KGView) -> np.ndarray:
    """One int key per triple (``(h * R + r) * N + t``), for vectorised membership."""
    t = np.asarray(triples, dtype=np.int64).reshape(-1, 3)
    return (t[:, 0] * view.num_relations + t[:, 1]) * view.num_entities + t[:, 2]


def has_triple(view: KGView, triple: Triple) -> bool:
    """Whether the triple is in the agent's graph (vectorised, no set building)."""
    return bool(np.any(triple_keys(view.known, view) == triple_keys(triple, view)[0]))


def neighbours(known: np.ndarray, x: int) -> np.ndarray:
    """The entities joined to ``x`` by a known triple, either way (sorted)."""
    return np.unique(np.concatenate([known[known[:, 0] == x, 2], known[known[:, 2] == x, 0]]))


class Frontier:
    """Breadth-first query order over the known graph.

    A queried node goes back to the end of the queue while its queries reveal triples
    and is done once one reveals nothing; its known neighbours join the queue. When the
    queue runs dry, the next start is the unseen node of highest known degree.
    """

    def __init__(self) -> None:
        self.queue: deque[int] = deque()
        self.seen: set[int] = set()
        self.done: set[int] = set()
        self.pending = -1
        self.reveals: list[int] = []

    def expected_reveal(self) -> float:
        """Mean triples the last queries revealed (3 before any)."""
        recent = self.reveals[-10:]
        return float(np.mean(recent)) if recent else 3.0

    def _absorb(self, view: KGView) -> None:
        x, self.pending = self.pending, -1
        self.reveals.append(len(view.revealed))
        if len(view.revealed) == 0:
            self.done.add(x)
        else:
            self.queue.append(x)
        for y in neighbours(view.known, x).tolist():
            if y not in self.seen:
                self.seen.add(y)
                self.queue.append(y)

    def next(self, view: KGView) -> int | None:
        """The next node to query, or None when every visible node is done."""
        if self.pending >= 0:
            self._absorb(view)
        active = set(active_ids(view).tolist())
        while True:
            while self.queue:
                x = int(view.canonical[self.queue.popleft()])
                if x in active and x not in self.done:
                    self.pending = x
                    return x
            fresh = [x for x in active if x not in self.seen and x not in self.done]
            if not fresh:
                return None
            deg = np.bincount(view.known[:, [0, 2]].ravel(), minlength=view.num_entities)
            start = min(fresh, key=lambda e: (-deg[e], e))
            self.seen.add(start)
            self.queue.append(start)
