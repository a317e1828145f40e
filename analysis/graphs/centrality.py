"""Betweenness and bridging centrality, hubs and bridges of the simple undirected view.

Betweenness is networkx's normalised one (``normalized=True``, endpoints excluded): the
sum of Brandes dependencies over all sources divided by ``(n-1)(n-2)``. Graphs with more
than ``exact_below`` nodes use ``sources`` uniform sources scaled by ``n / sources``
(Brandes and Pich 2007), with linearly scaled dependencies (Geisberger, Sanders and
Schultes 2008; see :func:`agora.analysis.graphs.bfs.dependencies`), an unbiased estimate
whose standard error comes from the spread over sources. Source sampling is good for
the high-betweenness nodes (hubs; within a few per cent with 64 sources on a
10,000-node Barabasi-Albert graph) and noisy for the many nodes of small betweenness,
so the maximum of the bridging centrality is overestimated (see the benchmark).

Bridging centrality (Hwang et al. 2006) is betweenness times the bridging coefficient
``(1/deg v) / sum_{u in N(v)} 1/deg u``: large for nodes on many shortest paths whose
neighbours are better connected than they are.

Example:
    >>> import networkx as nx
    >>> b = betweenness(nx.star_graph(4))
    >>> b[0], b[1]
    (1.0, 0.0)
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np

from agora.analysis.graphs.bfs import dependencies
from agora.analysis.graphs.view import GraphLike, SimpleView, simple_view


@dataclass(frozen=True)
class Centrality:
    """Per-node betweenness and bridging centrality, in ``view.nodes`` order.

    Attributes:
        betweenness: Normalised betweenness (an estimate when sampled).
        betweenness_se: Standard error of each estimate (zeros when exact).
        bridging: Bridging centrality.
        sources: BFS sources used (``n`` when exact).
        method: ``"exact"`` or ``"sampled"``.
    """

    betweenness: np.ndarray
    betweenness_se: np.ndarray
    bridging: np.ndarray
    sources: int
    method: str


def centrality(graph: GraphLike, *, exact_below: int = 2000, sources: int = 64,
               rng: np.random.Generator | int = 0) -> Centrality:
    """Betweenness and bridging centrality of every node, exact or source-sampled.

    Args:
        graph: Any networkx graph or a :class:`SimpleView`.
        exact_below: Graphs with at most this many nodes use every source.
        sources: Sources drawn uniformly without replacement on larger graphs.
        rng: Generator or seed for the sources.
    """
    view = simple_view(graph)
    n = view.n
    if n <= exact_below or sources >= n:
        chosen, method = np.arange(n), "exact"
    else:
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        chosen, method = np.sort(gen.choice(n, size=sources, replace=False)), "sampled"
    between, se = np.zeros(n), np.zeros(n)
    if n > 2 and len(chosen):
        k = len(chosen)
        total, squares = dependencies(view.adjacency, chosen)
        scale = n / ((n - 1) * (n - 2))
        between = total / k * scale
        if method == "sampled":
            spread = np.clip(squares / k - (total / k) ** 2, 0.0, None) * k / (k - 1)
            se = scale * np.sqrt(spread / k * (1 - k / n))
    return Centrality(between, se, between * bridging_coefficient(view), len(chosen), method)


def bridging_coefficient(view: SimpleView) -> np.ndarray:
    """``(1/deg v) / sum_{u in N(v)} 1/deg u`` for every node (0 for isolated nodes)."""
    deg = view.degrees.astype(float)
    inv = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)
    around = view.adjacency @ inv
    return np.divide(inv, around, out=np.zeros_like(deg), where=around > 0)


def betweenness(graph: GraphLike, *, exact_below: int = 2000, sources: int = 64,
                rng: np.random.Generator | int = 0) -> dict[Hashable, float]:
    """Normalised betweenness by node (arguments as :func:`centrality`)."""
    view = simple_view(graph)
    values = centrality(view, exact_below=exact_below, sources=sources, rng=rng).betweenness
    return dict(zip(view.nodes, values.tolist()))


def bridging_centrality(graph: GraphLike, *, exact_below: int = 2000, sources: int = 64,
                        rng: np.random.Generator | int = 0) -> dict[Hashable, float]:
    """Bridging centrality by node (arguments as :func:`centrality`).

    Example:
        >>> import networkx as nx
        >>> bridging_centrality(nx.star_graph(3))[0] == 1 / 9
        True
    """
    view = simple_view(graph)
    values = centrality(view, exact_below=exact_below, sources=sources, rng=rng).bridging
    return dict(zip(view.nodes, values.tolist()))


def top_k(view: SimpleView, scores: np.ndarray, k: int) -> list[Hashable]:
    """The ``k`` nodes of highest score, ties broken by node order."""
    order = np.lexsort((np.arange(view.n), -np.asarray(scores, dtype=float)))
    return [view.nodes[i] for i in order[:k]]


def hubs(graph: GraphLike, k: int = 10) -> list[Hashable]:
    """The ``k`` nodes of highest degree (ties broken by node order).

    Example:
        >>> import networkx as nx
        >>> hubs(nx.star_graph(5), 2)
        [0, 1]
    """
    view = simple_view(graph)
    return top_k(view, view.degrees, k)


def bridges(graph: GraphLike, k: int = 10, *, parts: Iterable[Iterable[Hashable]] | None = None,
            scores: Centrality | None = None) -> list[Hashable]:
    """The ``k`` nodes of highest bridging centrality.

    Args:
        graph: Any networkx graph or a :class:`SimpleView`.
        k: How many nodes.
        parts: Optional communities: only nodes whose neighbours span more than one
            community qualify (ranked by bridging centrality).
        scores: Centrality already computed on this graph (default: :func:`centrality`
            with its defaults).

    Example:
        >>> import networkx as nx
        >>> g = nx.barbell_graph(4, 1)
        >>> bridges(g, 3)
        [4, 3, 5]
    """
    view = simple_view(graph)
    rank = (scores if scores is not None else centrality(view)).bridging.copy()
    if parts is not None:
        rank[~spans_communities(view, parts)] = -np.inf
        k = min(k, int(np.isfinite(rank).sum()))
    return top_k(view, rank, k)


def spans_communities(view: SimpleView, parts: Iterable[Iterable[Hashable]]) -> np.ndarray:
    """Whether each node's neighbours lie in more than one community."""
    index = {v: i for i, v in enumerate(view.nodes)}
    label = np.zeros(view.n, dtype=np.int64)
    for c, part in enumerate(parts):
        label[[index[v] for v in part]] = c
    adj = view.adjacency
    rows = np.repeat(np.arange(view.n), view.degrees)
    hi = np.full(view.n, -1)
    lo = np.full(view.n, np.iinfo(np.int64).max)
    np.maximum.at(hi, rows, label[adj.indices])
    np.minimum.at(lo, rows, label[adj.indices])
    return (view.degrees > 0) & (hi != lo)
