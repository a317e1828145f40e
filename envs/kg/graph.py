"""The knowledge-graph value type shared by every source, and planted Horn rules.

A :class:`KnowledgeGraph` holds integer triples ``(head, relation, tail)`` with entity and
relation names; a :class:`Rule` is a Horn rule over relation ids that a generated world
plants (see :mod:`~agora.envs.kg.family`).

Example:
    >>> kg = KnowledgeGraph.from_named("toy", [("a", "likes", "b"), ("b", "likes", "c")])
    >>> kg.triples.tolist(), kg.num_entities, kg.relation_names
    ([[0, 0, 1], [1, 0, 2]], 3, ('likes',))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Rule:
    """A planted Horn rule over relation ids.

    * ``compose``: ``body=(r1, r2)``: ``r1(x, y) & r2(y, z) => head(x, z)`` for ``x != z``;
    * ``inverse``: ``body=(r,)``: ``r(x, y) => head(y, x)`` (``head == r``: symmetric).

    Example:
        >>> Rule("compose", (0, 0), 1).text(("parent_of", "grandparent_of"))
        'parent_of(x,y) & parent_of(y,z) => grandparent_of(x,z)'
    """

    kind: str
    body: tuple[int, ...]
    head: int

    def text(self, relation_names: Sequence[str]) -> str:
        n = relation_names
        if self.kind == "compose":
            a, b = self.body
            return f"{n[a]}(x,y) & {n[b]}(y,z) => {n[self.head]}(x,z)"
        return f"{n[self.body[0]]}(x,y) => {n[self.head]}(y,x)"


@dataclass(frozen=True)
class KnowledgeGraph:
    """A graph of typed entities and relations; ``triples`` is a unique, sorted int64
    ``(n, 3)`` array of ``(head, relation, tail)`` ids."""

    name: str
    triples: np.ndarray = field(repr=False)
    entity_names: tuple[str, ...] = field(repr=False)
    relation_names: tuple[str, ...] = field(repr=False)
    entity_types: tuple[str, ...] = field(repr=False)
    attributes: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
    rules: tuple[Rule, ...] = ()

    @property
    def num_entities(self) -> int:
        return len(self.entity_names)

    @property
    def num_relations(self) -> int:
        return len(self.relation_names)

    def triple_set(self) -> set[tuple[int, int, int]]:
        """The triples as a set of int tuples."""
        return {(int(h), int(r), int(t)) for h, r, t in self.triples}

    @classmethod
    def from_named(cls, name: str, triples: Iterable[Sequence[str]],
                   types: Mapping[str, str] | None = None,
                   relations: Sequence[str] | None = None) -> KnowledgeGraph:
        """Build from ``(head, relation, tail)`` name triples (ids in sorted name order)."""
        rows = [tuple(t) for t in triples]
        ents = sorted({h for h, _, _ in rows} | {t for _, _, t in rows} | set(types or {}))
        rels = list(relations) if relations is not None else sorted({r for _, r, _ in rows})
        eid = {e: i for i, e in enumerate(ents)}
        rid = {r: i for i, r in enumerate(rels)}
        arr = np.array([(eid[h], rid[r], eid[t]) for h, r, t in rows], dtype=np.int64)
        return cls(name, unique_triples(arr), tuple(ents), tuple(rels),
                   tuple((types or {}).get(e, "entity") for e in ents))


def unique_triples(arr: np.ndarray) -> np.ndarray:
    """Unique rows of an ``(n, 3)`` int array, sorted (empty input gives ``(0, 3)``).

    Example:
        >>> unique_triples(np.array([[1, 0, 2], [0, 0, 1], [1, 0, 2]])).tolist()
        [[0, 0, 1], [1, 0, 2]]
    """
    arr = np.asarray(arr, dtype=np.int64).reshape(-1, 3)
    return np.unique(arr, axis=0) if len(arr) else arr
