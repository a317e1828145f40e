"""Typed actions and views of the knowledge-graph worlds (shared by worlds and agents).

Two worlds share the sources in :mod:`agora.envs.kg.sources`:

* the **completion world** (:mod:`agora.envs.kg.world`): the agent starts from a corrupted
  copy of a hidden graph and spends a budget on :class:`KGAction` s; it sees a
  :class:`KGView`;
* the **query world** (:mod:`agora.envs.kg.query`, MINERVA-style): the agent answers
  ``(head, relation, ?)`` by walking the graph with :class:`WalkAction` s; it sees a
  :class:`WalkView`.

Entities and relations are integer ids in ``range(num_entities)`` and
``range(num_relations)``; a triple is ``(head, relation, tail)``. In the completion world
the ids are the *observed* entities: when some true entities were split into aliases
(the ``duplicates`` corruption), the agent sees more ids than the truth has, and
``merge`` tells the world that two ids name one entity.

Example:
    >>> KGAction.propose(3, 1, 7)
    KGAction(kind='propose', head=3, relation=1, tail=7, other=-1)
    >>> KGAction.merge(2, 5).kind, KGAction.stop().head
    ('merge', -1)
    >>> WalkAction.move(4, 9)
    WalkAction(kind='move', relation=4, tail=9)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

ACTION_KINDS: tuple[str, ...] = ("query", "propose", "verify", "merge", "retract", "stop")
"""Kinds of :class:`KGAction`, in the order of the structured face's first action axis."""

TRIPLE_KINDS = frozenset({"propose", "verify", "retract"})
"""Kinds whose action names a triple ``(head, relation, tail)``."""

WALK_KINDS: tuple[str, ...] = ("move", "stay", "stop")
"""Kinds of :class:`WalkAction`."""

Triple = tuple[int, int, int]


class KGAction(NamedTuple):
    """One action in the completion world. Unused fields are ``-1``.

    * ``query``: ``head`` is the node to query (reveals some of its true triples);
    * ``propose`` / ``verify`` / ``retract``: the triple ``(head, relation, tail)``;
      ``verify`` answers exactly whether it is true and, if so, adds it;
    * ``merge``: ``head`` and ``other`` name the same entity (``other`` joins ``head``);
    * ``stop``: end the episode.
    """

    kind: str
    head: int = -1
    relation: int = -1
    tail: int = -1
    other: int = -1

    @classmethod
    def query(cls, node: int) -> KGAction:
        return cls("query", head=int(node))

    @classmethod
    def propose(cls, head: int, relation: int, tail: int) -> KGAction:
        return cls("propose", int(head), int(relation), int(tail))

    @classmethod
    def verify(cls, head: int, relation: int, tail: int) -> KGAction:
        return cls("verify", int(head), int(relation), int(tail))

    @classmethod
    def retract(cls, head: int, relation: int, tail: int) -> KGAction:
        return cls("retract", int(head), int(relation), int(tail))

    @classmethod
    def merge(cls, keep: int, other: int) -> KGAction:
        return cls("merge", head=int(keep), other=int(other))

    @classmethod
    def stop(cls) -> KGAction:
        return cls("stop")

    @property
    def triple(self) -> Triple:
        """``(head, relation, tail)``."""
        return (self.head, self.relation, self.tail)


@dataclass(frozen=True)
class KGView:
    """What an agent on the completion world's GAME face sees.

    Attributes:
        known: int64 array ``(k, 3)`` of the triples in the agent's current graph (after
            corruption, reveals, proposals, retractions), in canonical ids (a merged-away
            id is rewritten to its representative). It may hold false triples.
        num_entities: observed entity ids are ``range(num_entities)``.
        num_relations: relation ids are ``range(num_relations)``.
        entity_names: display name of each entity id (anonymised tokens by default).
        relation_names: display name of each relation id.
        entity_types: type label of each entity id (``"entity"`` when the source has none).
        canonical: int64 array ``(num_entities,)``: the representative of each id after the
            merges so far (``canonical[i] == i`` for unmerged ids).
        visible: bool array ``(num_entities,)``: ids the agent knows exist (all of them
            except in the ``empty`` and ``partial_subgraph`` corruptions; a query reveals
            the ends of the triples it shows). Acting on an invisible id is illegal.
        queried: ids queried so far.
        verified_true: triples a ``verify`` found true.
        verified_false: triples a ``verify`` found false (never true, whatever else says).
        revealed: int64 array ``(m, 3)``: what the last ``query`` revealed (may be noisy).
        budget_left: cost units left; an action costing more than this ends the episode.
        costs: cost of each action kind.
        steps: actions taken so far.
        focus: the entity the last action touched (``-1`` at the start), for renderers.
    """

    known: np.ndarray = field(repr=False)
    num_entities: int
    num_relations: int
    entity_names: tuple[str, ...] = field(repr=False)
    relation_names: tuple[str, ...] = field(repr=False)
    entity_types: tuple[str, ...] = field(repr=False)
    canonical: np.ndarray = field(repr=False)
    visible: np.ndarray = field(repr=False)
    queried: frozenset[int]
    verified_true: frozenset[Triple]
    verified_false: frozenset[Triple]
    revealed: np.ndarray = field(repr=False)
    budget_left: float
    costs: Mapping[str, float]
    steps: int
    focus: int = -1

    def known_set(self) -> set[Triple]:
        """The known triples as a set of int tuples."""
        return {(int(h), int(r), int(t)) for h, r, t in self.known}


class WalkAction(NamedTuple):
    """One step in the query world: ``move`` along the outgoing edge
    ``(current, relation, tail)``, ``stay`` (a no-op step), or ``stop`` (answer with the
    current node now)."""

    kind: str
    relation: int = -1
    tail: int = -1

    @classmethod
    def move(cls, relation: int, tail: int) -> WalkAction:
        return cls("move", int(relation), int(tail))

    @classmethod
    def stay(cls) -> WalkAction:
        return cls("stay")

    @classmethod
    def stop(cls) -> WalkAction:
        return cls("stop")


@dataclass(frozen=True)
class WalkView:
    """What an agent on the query world's GAME face sees.

    Attributes:
        query_head: the query's head entity (where the walk started).
        query_relation: the query's relation (``(query_head, query_relation, ?)``).
        current: the node the walker stands on.
        edges: int64 array ``(m, 2)`` of the outgoing ``(relation, tail)`` edges of
            ``current`` that may be taken (the hidden answer edges are not among them).
        path: the steps so far as ``(relation, node)`` pairs (``relation == -1``: stay).
        steps_left: moves left before the walk ends.
        num_entities: entity ids are ``range(num_entities)``.
        num_relations: relation ids are ``range(num_relations)``; with inverse edges the
            ids ``>= num_base_relations`` are inverses (``r + num_base_relations``).
        num_base_relations: relations of the source graph (before inverses).
        entity_names: display name of each entity id.
        relation_names: display name of each relation id (inverses end in ``"^-1"``).
    """

    query_head: int
    query_relation: int
    current: int
    edges: np.ndarray = field(repr=False)
    path: tuple[tuple[int, int], ...]
    steps_left: int
    num_entities: int
    num_relations: int
    num_base_relations: int
    entity_names: tuple[str, ...] = field(repr=False)
    relation_names: tuple[str, ...] = field(repr=False)


def episode_rngs(rules: np.random.Generator) -> tuple[np.random.Generator, np.random.Generator]:
    """How a graph episode splits its rules stream, the same for ``agora run`` and the
    Gymnasium envs: (the initial state's draws, every step's draws)."""
    init_rng, step_rng = rules.spawn(2)
    return init_rng, step_rng
