"""Breadth-first search from many sources at once, as sparse-times-dense products.

Each BFS level is one product ``A @ F`` where column ``j`` of ``F`` holds the number of
shortest paths from source ``j`` to the nodes of the current frontier: the product's
positive entries among unvisited nodes are the next frontier, and their values the path
counts (sigma). Brandes' dependency accumulation runs the levels backwards the same way.
Work is ``O(levels * nnz * sources)`` in compiled code, which on graphs with small
diameter beats one Python-level BFS per source.

Example:
    >>> import networkx as nx
    >>> from agora.analysis.graphs.view import simple_view
    >>> a = simple_view(nx.cycle_graph(4)).adjacency
    >>> dist, sigma = bfs_counts(a, np.array([0]))
    >>> dist[:, 0].tolist(), sigma[:, 0].tolist()
    ([0, 1, 2, 1], [1.0, 1.0, 2.0, 1.0])
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy import sparse

#: Largest ``nodes * sources`` block held in memory at once (float64 cells).
BLOCK_CELLS = 1 << 21


def batches(sources: np.ndarray, n: int) -> Iterator[np.ndarray]:
    """Split ``sources`` into blocks of at most ``BLOCK_CELLS / n`` sources."""
    size = max(1, BLOCK_CELLS // max(n, 1))
    for start in range(0, len(sources), size):
        yield sources[start:start + size]


def bfs_counts(adj: sparse.csr_array, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distances (``-1`` if unreachable) and shortest-path counts, ``n x len(sources)``."""
    n, b = adj.shape[0], len(sources)
    cols = np.arange(b)
    dist = np.full((n, b), -1, dtype=np.int32)
    dist[sources, cols] = 0
    sigma = np.zeros((n, b))
    sigma[sources, cols] = 1.0
    frontier = sigma.copy()
    level = 0
    while True:
        reach = adj @ frontier
        new = (reach > 0) & (dist < 0)
        if not new.any():
            return dist, sigma
        level += 1
        dist[new] = level
        frontier = np.where(new, reach, 0.0)
        sigma += frontier


def dependencies(adj: sparse.csr_array, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linearly scaled dependency of every node, summed over ``sources``, and its squares.

    Source ``s`` credits inner node ``v`` of a shortest ``s``-``t`` path with
    ``2 d(s,v) / d(s,t)`` of the path's share instead of Brandes' 1 (Geisberger, Sanders
    and Schultes, ALENEX 2008). Over all sources the two ends of a pair add up to
    exactly Brandes' sum, so the exact result is unchanged; over a sample of sources it
    stops overcrediting the nodes next to a sampled source, which cuts the variance of
    the estimate. The recursion is Brandes' with ``1 / d(s,w)`` in place of 1:
    ``h(v) = sum_w sigma_v / sigma_w (1 / d(s,w) + h(w))`` and the credit is
    ``2 d(s,v) h(v)``. Sources get nothing. The squares give the spread over sources.
    """
    n = adj.shape[0]
    total, squares = np.zeros(n), np.zeros(n)
    for block in batches(np.asarray(sources), n):
        dist, sigma = bfs_counts(adj, block)
        h = np.zeros_like(sigma)
        for level in range(int(dist.max()), 1, -1):
            coef = np.where(dist == level, (1.0 / level + h) / np.maximum(sigma, 1.0), 0.0)
            h += np.where(dist == level - 1, sigma * (adj @ coef), 0.0)
        credit = 2.0 * np.maximum(dist, 0) * h
        total += credit.sum(axis=1)
        squares += (credit * credit).sum(axis=1)
    return total, squares
