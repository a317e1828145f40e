"""Louvain communities: networkx's on small graphs, a vectorised numpy port on large ones.

``networkx.community.louvain_communities`` is pure Python: on a 10,000-node
Barabasi-Albert graph it needs about 6 s on our machines, three times the panel's whole
budget. :func:`fast_louvain` runs the same two phases (local moving, then aggregation of
communities into nodes, repeated while modularity grows by more than ``threshold``) with
numpy, in the way parallel Louvain implementations do (Lu, Halappanavar and Kalyanaraman,
*Parallel heuristics for scalable community detection*, Parallel Computing 2015): the nodes
are split into the colour classes of a greedy colouring (no two neighbours in one class;
computed by Jones-Plassmann rounds with seeded random priorities) and each class moves at
once, every node to the neighbouring community of largest modularity gain. Neighbours
never move together, so each node's gain is computed against a fixed neighbourhood. Its
modularity is within about 0.01 of networkx's (see ``benchmarks/bench_graph_metrics.py``)
at a tenth to a twentieth of the time.

Example:
    >>> import networkx as nx
    >>> g = nx.disjoint_union(nx.complete_graph(5), nx.complete_graph(5))
    >>> parts = communities(g, seed=0, method="fast")
    >>> sorted(len(p) for p in parts), round(modularity(g, parts), 3)
    ([5, 5], 0.5)
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Literal

import networkx as nx
import numpy as np
from scipy import sparse

from agora.analysis.graphs.view import GraphLike, simple_view
from agora.envs.errors import ConfigError

LouvainMethod = Literal["auto", "networkx", "fast"]


def communities(graph: GraphLike, *, seed: int = 0, method: LouvainMethod = "auto",
                exact_below: int = 2000, threshold: float = 1e-7) -> list[set[Hashable]]:
    """Louvain communities of the simple undirected view, seeded.

    Args:
        graph: Any networkx graph or a :class:`SimpleView`.
        seed: Seed of the node order (networkx) or of the move sets (fast).
        method: ``"networkx"``, ``"fast"``, or ``"auto"``: networkx for ``n <= exact_below``.
        exact_below: Largest graph ``"auto"`` gives to networkx.
        threshold: Stop when a level improves modularity by less than this.

    Raises:
        ConfigError: Unknown ``method``.
    """
    if method not in ("auto", "networkx", "fast"):
        raise ConfigError(f"louvain method must be auto, networkx or fast, got {method!r}")
    view = simple_view(graph)
    if method == "networkx" or (method == "auto" and view.n <= exact_below):
        return [set(c) for c in nx.community.louvain_communities(
            view.to_networkx(), weight=None, seed=seed, threshold=threshold)]
    labels = fast_louvain(view.adjacency, np.random.default_rng(seed), threshold)
    return [set(view.nodes[i] for i in np.flatnonzero(labels == c))
            for c in range(int(labels.max()) + 1 if view.n else 0)]


def modularity(graph: GraphLike, parts: Iterable[Iterable[Hashable]]) -> float:
    """Newman's modularity of a partition on the simple undirected view.

    Example:
        >>> round(modularity(nx.path_graph(4), [{0, 1}, {2, 3}]), 4)
        0.1667
    """
    view = simple_view(graph)
    index = {v: i for i, v in enumerate(view.nodes)}
    labels = np.full(view.n, -1, dtype=np.int64)
    for c, part in enumerate(parts):
        labels[[index[v] for v in part]] = c
    if (labels < 0).any():
        raise ConfigError("the partition does not cover every node")
    return label_modularity(view.adjacency, labels)


def label_modularity(adj: sparse.csr_array, labels: np.ndarray) -> float:
    """Modularity of integer community ``labels`` on a symmetric weighted matrix."""
    coo = adj.tocoo()
    two_m = float(coo.data.sum())
    if two_m == 0:
        return 0.0
    inside = float(coo.data[labels[coo.row] == labels[coo.col]].sum())
    totals = np.bincount(labels, weights=np.asarray(adj.sum(axis=1)).ravel())
    return inside / two_m - float((totals / two_m) @ (totals / two_m))


def fast_louvain(adj: sparse.csr_array, rng: np.random.Generator, threshold: float = 1e-7,
                 sweep_tol: float = 1e-3) -> np.ndarray:
    """Louvain community label of every node (labels ``0..K-1``) of a symmetric matrix.

    Args:
        adj: Symmetric weighted adjacency matrix.
        rng: Generator of the colouring's priorities.
        threshold: Stop when a level improves modularity by no more than this.
        sweep_tol: End a level's local moving when a sweep gains no more than this
            (cheaper than sweeping until no node moves; the next level goes on).
    """
    n = adj.shape[0]
    labels = np.arange(n)
    if adj.nnz == 0:
        return labels
    w = sparse.csr_array(adj, dtype=float)
    quality = label_modularity(w, np.arange(n))
    while True:
        comm = _move_nodes(w, rng, sweep_tol)
        _, comm = np.unique(comm, return_inverse=True)
        labels = comm[labels]
        size = int(comm.max()) + 1 if len(comm) else 0
        if size == w.shape[0]:
            return labels
        coo = w.tocoo()
        w = sparse.csr_array((coo.data, (comm[coo.row], comm[coo.col])), shape=(size, size))
        new = label_modularity(w, np.arange(size))
        if new - quality <= threshold:
            return labels
        quality = new


def _move_nodes(w: sparse.csr_array, rng: np.random.Generator, sweep_tol: float) -> np.ndarray:
    """The local-moving phase: sweeps of colour-class moves until modularity stalls."""
    n = w.shape[0]
    strength = np.asarray(w.sum(axis=1)).ravel()
    two_m = float(strength.sum())
    coo = w.tocoo()
    off = coo.row != coo.col
    rows, cols, weights = coo.row[off], coo.col[off], coo.data[off]
    loops = float(coo.data[~off].sum())
    sets = [s for s in _independent_sets(n, rows, cols, rng) if len(s)]
    comm, totals = np.arange(n), strength.copy()

    def quality() -> float:
        inside = loops + float(weights[comm[rows] == comm[cols]].sum())
        return inside / two_m - float((totals / two_m) @ (totals / two_m))

    current = quality()
    for _ in range(1000):
        moved = sum(_move_set(comm, totals, strength, two_m, n,
                              rows[idx], cols[idx], weights[idx]) for idx in sets)
        new = quality()
        if moved == 0 or new - current <= sweep_tol:
            break
        current = new
    return comm


def _move_set(comm: np.ndarray, totals: np.ndarray, strength: np.ndarray, two_m: float,
              n: int, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray) -> int:
    """Move every node of one independent set to its best neighbouring community."""
    keys = rows * n + comm[cols]
    order = np.argsort(keys)
    keys = keys[order]
    first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    link = np.add.reduceat(weights[order], first)
    node, target = np.divmod(keys[first], n)
    seg = np.flatnonzero(np.r_[True, node[1:] != node[:-1]])
    who = node[seg]
    own, k = comm[who], strength[who]
    is_own = target == np.repeat(own, np.diff(np.r_[seg, len(node)]))
    stay = np.add.reduceat(np.where(is_own, link, 0.0), seg) - k * (totals[own] - k) / two_m
    gain = np.where(is_own, -np.inf, link - strength[node] * totals[target] / two_m)
    best = np.maximum.reduceat(gain, seg)
    pos = np.where(gain == np.repeat(best, np.diff(np.r_[seg, len(node)])),
                   np.arange(len(node)), len(node))
    dest = target[np.minimum.reduceat(pos, seg)]
    go = best > stay + 1e-12 * two_m
    movers, dest = who[go], dest[go]
    np.subtract.at(totals, comm[movers], strength[movers])
    np.add.at(totals, dest, strength[movers])
    comm[movers] = dest
    return int(len(movers))


def _independent_sets(n: int, rows: np.ndarray, cols: np.ndarray,
                      rng: np.random.Generator) -> list[np.ndarray]:
    """Edge indices grouped by the colour of their row, in a greedy colouring.

    Jones-Plassmann rounds with first-fit colours: each round, the uncoloured nodes whose
    random priority beats every uncoloured neighbour take the smallest colour none of
    their neighbours has, which reproduces the sequential greedy colouring in priority
    order (few colours, so few sets per sweep).
    """
    priority = rng.permutation(n)
    colour = np.full(n, -1)
    while (colour < 0).any():
        live = (colour[rows] < 0) & (colour[cols] < 0)
        best = np.full(n, -1)
        np.maximum.at(best, rows[live], priority[cols[live]])
        chosen = np.flatnonzero((colour < 0) & (priority > best))
        slot = np.full(n, -1)
        slot[chosen] = np.arange(len(chosen))
        seen = (slot[rows] >= 0) & (colour[cols] >= 0)
        used = np.zeros((len(chosen), int(colour.max()) + 2), dtype=bool)
        used[slot[rows[seen]], colour[cols[seen]]] = True
        colour[chosen] = np.argmin(used, axis=1)
    order = np.argsort(colour[rows], kind="stable")
    size = int(colour.max()) + 1 if n else 0
    bounds = np.searchsorted(colour[rows][order], np.arange(size + 1))
    return [order[bounds[i]:bounds[i + 1]] for i in range(size)]
