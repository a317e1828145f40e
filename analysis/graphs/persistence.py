"""How long hubs and bridges stay on top while a graph grows.

Given the top-``k`` set of each iteration, a node's persistence is the fraction of the
iterations from its first entry to the end in which it is in the set, and the turnover
between iterations is the Jaccard similarity of consecutive sets.

Example:
    >>> p = top_set_persistence([{1, 2}, {1, 3}, {1, 2}])
    >>> p.per_node[1], p.per_node[2], p.per_node[3], p.jaccard
    (1.0, 0.6666666666666666, 0.5, (0.3333333333333333, 0.3333333333333333))
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import networkx as nx
import numpy as np

from agora.analysis.graphs.centrality import centrality, top_k
from agora.analysis.graphs.view import simple_view
from agora.envs.errors import ConfigError


@dataclass(frozen=True)
class Persistence:
    """Persistence of the nodes of a sequence of top-``k`` sets.

    Attributes:
        per_node: Fraction of iterations, from its first entry on, a node is in the set.
        jaccard: Jaccard similarity of each pair of consecutive sets (one fewer than sets).
    """

    per_node: Mapping[Hashable, float]
    jaccard: tuple[float, ...]

    @property
    def mean(self) -> float:
        """Mean persistence over every node that ever entered (NaN if none did)."""
        return float(np.mean(list(self.per_node.values()))) if self.per_node else math.nan

    @property
    def mean_jaccard(self) -> float:
        """Mean Jaccard similarity of consecutive sets (NaN with fewer than two sets)."""
        return float(np.mean(self.jaccard)) if self.jaccard else math.nan


def jaccard(a: Iterable[Hashable], b: Iterable[Hashable]) -> float:
    """``|a & b| / |a | b|`` (1.0 for two empty sets)."""
    a, b = set(a), set(b)
    return len(a & b) / len(a | b) if a | b else 1.0


def top_set_persistence(tops: Sequence[Iterable[Hashable]]) -> Persistence:
    """Persistence and turnover of a sequence of top sets."""
    sets = [set(t) for t in tops]
    return Persistence(running_persistence(sets)[-1] if sets else {},
                       tuple(jaccard(a, b) for a, b in zip(sets, sets[1:])))


def running_persistence(tops: Sequence[Iterable[Hashable]]) -> list[dict[Hashable, float]]:
    """For each iteration ``t``, every node's persistence over iterations ``0..t``."""
    first: dict[Hashable, int] = {}
    inside: dict[Hashable, int] = {}
    out = []
    for t, top in enumerate(tops):
        for v in top:
            first.setdefault(v, t)
            inside[v] = inside.get(v, 0) + 1
        out.append({v: inside[v] / (t - first[v] + 1) for v in first})
    return out


def persistence(graphs: Sequence[nx.Graph], k: int = 10, *,
                by: Literal["degree", "bridging"] = "degree", exact_below: int = 2000,
                sources: int = 64, seed: int = 0) -> Persistence:
    """Persistence of each graph's top-``k`` hubs (``by="degree"``) or bridges.

    Args:
        graphs: Iterations of a graph (for example, of a growing graph).
        k: Size of the top sets.
        by: ``"degree"`` (hubs) or ``"bridging"`` (bridges, by bridging centrality).
        exact_below: Betweenness is exact up to this many nodes (bridges only).
        sources: Betweenness sources on larger graphs (bridges only).
        seed: Seed of the betweenness sources (the same for every iteration).

    Raises:
        ConfigError: Unknown ``by``.

    Example:
        >>> growing = [nx.star_graph(n) for n in (3, 4, 5)]
        >>> persistence(growing, 1).per_node
        {0: 1.0}
    """
    if by not in ("degree", "bridging"):
        raise ConfigError(f"persistence by must be degree or bridging, got {by!r}")
    tops = []
    for g in graphs:
        view = simple_view(g)
        if by == "degree":
            scores = view.degrees
        else:
            scores = centrality(view, exact_below=exact_below, sources=sources, rng=seed).bridging
        tops.append(top_k(view, scores, k))
    return top_set_persistence(tops)
