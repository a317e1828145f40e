"""Transitivity, average clustering and degree assortativity of the simple undirected view.

Exact values count the triangles at every node with one sparse product,
``t = diag(A^3) / 2``. Large graphs are sampled instead: transitivity by wedge
sampling (a wedge is drawn uniformly, so its chance of being closed *is* the
transitivity; Schank and Wagner 2005, Seshadhri, Pinar and Kolda 2013) with the
binomial standard error, and average clustering as the mean local clustering of nodes
drawn uniformly without replacement, with the standard error of that mean.

Example:
    >>> import networkx as nx
    >>> c = clustering_stats(nx.complete_graph(5))
    >>> c.transitivity, c.average_clustering, c.method
    (1.0, 1.0, 'exact')
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from agora.analysis.graphs.view import GraphLike, SimpleView, simple_view


@dataclass(frozen=True)
class ClusteringStats:
    """Clustering of a graph, exact or estimated.

    Attributes:
        transitivity: Fraction of closed wedges, ``3 x triangles / wedges``.
        transitivity_se: Standard error of the wedge-sampling estimate (0.0 when exact).
        average_clustering: Mean local clustering (nodes of degree < 2 count as 0).
        average_clustering_se: Standard error of the node-sampling estimate (0.0 when exact).
        samples: Nodes sampled for the average clustering (``n`` when exact).
        method: ``"exact"`` or ``"sampled"``.
    """

    transitivity: float
    transitivity_se: float
    average_clustering: float
    average_clustering_se: float
    samples: int
    method: str


def triangles(view: SimpleView, index: np.ndarray | None = None) -> np.ndarray:
    """Triangles through each node of ``index`` (every node if ``None``)."""
    adj = view.adjacency
    rows = adj if index is None else adj[index]
    return np.asarray((rows @ adj).multiply(rows).sum(axis=1)).ravel() / 2


def local_clustering(view: SimpleView, index: np.ndarray | None = None) -> np.ndarray:
    """Local clustering coefficient of each node of ``index`` (every node if ``None``)."""
    deg = view.degrees if index is None else view.degrees[index]
    pairs = deg * (deg - 1) / 2
    return np.divide(triangles(view, index), pairs, out=np.zeros(len(deg)), where=pairs > 0)


def clustering_stats(graph: GraphLike, *, exact_below: int = 2000, nodes: int = 2000,
                     wedges: int = 100_000, rng: np.random.Generator | int = 0) -> ClusteringStats:
    """Transitivity and average clustering, exact or sampled.

    Args:
        graph: Any networkx graph or a :class:`SimpleView`.
        exact_below: Graphs with at most this many nodes are measured exactly.
        nodes: Nodes sampled for the average clustering of larger graphs.
        wedges: Wedges sampled for the transitivity of larger graphs.
        rng: Generator or seed for the samples.
    """
    view = simple_view(graph)
    if view.n <= exact_below:
        local = local_clustering(view)
        tri = float(triangles(view).sum())
        pairs = float((view.degrees * (view.degrees - 1) / 2).sum())
        trans = tri / pairs if pairs > 0 else 0.0
        return ClusteringStats(trans, 0.0, float(local.mean()) if view.n else 0.0, 0.0,
                               view.n, "exact")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    trans, trans_se = wedge_transitivity(view, wedges, gen)
    k = min(nodes, view.n)
    local = local_clustering(view, np.sort(gen.choice(view.n, size=k, replace=False)))
    se = float(local.std(ddof=1)) / math.sqrt(k) * math.sqrt(max(0.0, 1 - k / view.n))
    return ClusteringStats(trans, trans_se, float(local.mean()), se, k, "sampled")


def wedge_transitivity(view: SimpleView, wedges: int,
                       rng: np.random.Generator) -> tuple[float, float]:
    """Transitivity from ``wedges`` uniform wedges, and its binomial standard error."""
    deg = view.degrees
    weight = (deg * (deg - 1)).astype(float)
    if weight.sum() == 0:
        return 0.0, 0.0
    adj = view.adjacency
    center = rng.choice(view.n, size=wedges, p=weight / weight.sum())
    first = rng.integers(0, deg[center])
    second = rng.integers(0, deg[center] - 1)
    second += second >= first
    a = adj.indices[adj.indptr[center] + first].astype(np.int64)
    b = adj.indices[adj.indptr[center] + second].astype(np.int64)
    keys = np.repeat(np.arange(view.n, dtype=np.int64), deg) * view.n + adj.indices
    pos = np.minimum(np.searchsorted(keys, a * view.n + b), len(keys) - 1)
    p = float((keys[pos] == a * view.n + b).mean())
    return p, math.sqrt(p * (1 - p) / wedges)


def degree_assortativity(graph: GraphLike) -> float:
    """Pearson correlation of the degrees at the two ends of an edge (NaN if undefined).

    Example:
        >>> import networkx as nx
        >>> round(degree_assortativity(nx.star_graph(4)), 6)
        -1.0
    """
    view = simple_view(graph)
    coo = sparse.coo_array(view.adjacency)
    x = view.degrees[coo.row].astype(float)
    y = view.degrees[coo.col].astype(float)
    if len(x) == 0 or x.std() == 0:
        return math.nan
    return float(np.mean((x - x.mean()) * (y - y.mean())) / (x.std() * y.std()))
