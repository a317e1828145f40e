"""Where to ask next: the strategies that pick the focus concepts of the next question.

* ``frontier``: a best-first queue with priority ``1/(1+degree)``: the least-connected
  concept not asked about yet (the low-degree frontier first).
* ``novelty``: up to three of the newest concepts (added in the latest iteration).
* ``leap``: a concept in the Louvain community farthest from the last focus.
* ``bridge``: one hub in each of two communities, preferring pairs with no edge between
  them, to ask how they connect.

Concepts asked about least often come first everywhere, and every tie is broken by the
given :class:`numpy.random.Generator`, so a (graph, seed) pair always gives one focus.
A strategy that cannot apply (fewer than two communities) falls back to ``frontier`` and
says so in :attr:`Focus.used`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

STRATEGIES = ("frontier", "novelty", "leap", "bridge")


@dataclass(frozen=True)
class Focus:
    """The concepts the next question should be about."""

    strategy: str
    """The strategy asked for."""
    used: str
    """The strategy applied (``frontier`` when the asked one could not apply)."""
    nodes: tuple[str, ...]


def canonical_simple(g: nx.MultiDiGraph) -> nx.Graph:
    """The undirected simple graph, nodes and edges inserted in sorted order, so that
    algorithms that follow insertion order give one answer however ``g`` was built
    (in memory or read back from GraphML)."""
    simple = nx.Graph()
    simple.add_nodes_from(sorted(g))
    simple.add_edges_from(sorted({(min(u, v), max(u, v)) for u, v in g.edges() if u != v}))
    return simple


def communities(g: nx.MultiDiGraph, seed: int) -> list[frozenset[str]]:
    """Louvain communities of the undirected simple graph, largest first, seeded.

    Example:
        >>> g = nx.MultiDiGraph([("a", "b"), ("b", "c"), ("c", "a"), ("x", "y"),
        ...                      ("y", "z"), ("z", "x"), ("c", "x")])
        >>> [sorted(c) for c in communities(g, seed=0)]
        [['a', 'b', 'c'], ['x', 'y', 'z']]
    """
    if g.number_of_nodes() == 0:
        return []
    found = nx.community.louvain_communities(canonical_simple(g), seed=seed)
    return sorted((frozenset(c) for c in found), key=lambda c: (-len(c), min(c)))


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    ordered = sorted(options)
    return ordered[int(rng.integers(len(ordered)))]


def _least_asked(g: nx.MultiDiGraph, nodes: Sequence[str] | frozenset[str]) -> list[str]:
    fewest = min(int(g.nodes[n].get("asked", 0)) for n in nodes)
    return [n for n in nodes if int(g.nodes[n].get("asked", 0)) == fewest]


def _lowest_degree(g: nx.MultiDiGraph, nodes: Sequence[str] | frozenset[str],
                   rng: np.random.Generator) -> str:
    pool = _least_asked(g, nodes)
    low = min(g.degree(n) for n in pool)  # the highest priority 1/(1+degree)
    return _pick(rng, [n for n in pool if g.degree(n) == low])


def _hub(g: nx.MultiDiGraph, nodes: frozenset[str], rng: np.random.Generator) -> str:
    pool = _least_asked(g, nodes)
    top = max(g.degree(n) for n in pool)
    return _pick(rng, [n for n in pool if g.degree(n) == top])


def frontier(g: nx.MultiDiGraph, rng: np.random.Generator) -> tuple[str, ...]:
    """The highest-priority concept, priority ``1/(1+degree)`` among the least asked."""
    return (_lowest_degree(g, list(g.nodes), rng),)


def novelty(g: nx.MultiDiGraph, rng: np.random.Generator, k: int = 3) -> tuple[str, ...]:
    """Up to ``k`` of the newest least-asked concepts, in a seeded random order."""
    pool = _least_asked(g, list(g.nodes))
    newest = max(int(g.nodes[n].get("iteration", 0)) for n in pool)
    fresh = sorted(n for n in pool if int(g.nodes[n].get("iteration", 0)) == newest)
    return tuple(fresh[i] for i in rng.permutation(len(fresh))[:k])


def leap(g: nx.MultiDiGraph, rng: np.random.Generator, comms: list[frozenset[str]],
         anchor: str | None) -> tuple[str, ...]:
    """A frontier concept of the community farthest (hops) from ``anchor``."""
    if anchor is None or anchor not in g:
        anchor = _hub(g, frozenset(g.nodes), rng)
    dist = nx.single_source_shortest_path_length(canonical_simple(g), anchor)
    far = [c for c in comms if anchor not in c]
    gap = {c: min((dist[n] for n in c if n in dist), default=np.inf) for c in far}
    widest = max(gap.values())
    chosen = [c for c in far if gap[c] == widest]
    comm = chosen[int(rng.integers(len(chosen)))]
    return (_lowest_degree(g, comm, rng),)


def bridge(g: nx.MultiDiGraph, rng: np.random.Generator,
           comms: list[frozenset[str]]) -> tuple[str, ...]:
    """A hub in each of two communities, preferring a pair with no edge between them."""
    member = {n: i for i, c in enumerate(comms) for n in c}
    linked = {frozenset((member[u], member[v])) for u, v in g.edges() if member[u] != member[v]}
    pairs = [(i, j) for i in range(len(comms)) for j in range(i + 1, len(comms))]
    unlinked = [p for p in pairs if frozenset(p) not in linked]
    pool = unlinked or pairs
    i, j = pool[int(rng.integers(len(pool)))]
    return (_hub(g, comms[i], rng), _hub(g, comms[j], rng))


def choose_focus(g: nx.MultiDiGraph, strategy: str, rng: np.random.Generator,
                 anchor: str | None = None) -> Focus:
    """The next focus under ``strategy`` (empty when the graph has no concepts).

    Example:
        >>> g = nx.MultiDiGraph([("a", "b"), ("a", "c")])
        >>> choose_focus(g, "frontier", np.random.default_rng(0)).nodes in (("b",), ("c",))
        True
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy={strategy!r}; use one of {STRATEGIES}")
    if g.number_of_nodes() == 0:
        return Focus(strategy, strategy, ())
    if strategy == "novelty":
        return Focus(strategy, strategy, novelty(g, rng))
    if strategy in ("leap", "bridge"):
        comms = communities(g, seed=int(rng.integers(2**31)))
        if len(comms) >= 2:
            nodes = leap(g, rng, comms, anchor) if strategy == "leap" else bridge(g, rng, comms)
            return Focus(strategy, strategy, nodes)
    return Focus(strategy, "frontier", frontier(g, rng))


def mark_asked(g: nx.MultiDiGraph, nodes: Sequence[str]) -> nx.MultiDiGraph:
    """A copy in which each focus concept's ``asked`` count went up by one."""
    out = g.copy()
    out.graph["aliases"] = dict(g.graph.get("aliases", {}))
    for n in nodes:
        out.nodes[n]["asked"] = int(out.nodes[n].get("asked", 0)) + 1
    return out
