"""The simple undirected view every graph metric works on, as a sparse adjacency matrix.

Any networkx graph (directed or not, multigraph or not) becomes a symmetric 0/1 CSR
matrix without self-loops: edge directions, parallel edges and self-loops are dropped.
Nodes keep the graph's own order, so index ``i`` is ``view.nodes[i]``.

Example:
    >>> import networkx as nx
    >>> v = simple_view(nx.MultiDiGraph([(0, 1), (1, 0), (1, 1), (1, 2)]))
    >>> v.n, v.m, v.degrees.tolist()
    (3, 2, [1, 2, 1])
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from functools import cached_property
from typing import TypeAlias

import networkx as nx
import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from agora.envs.errors import ConfigError


@dataclass(frozen=True, eq=False)
class SimpleView:
    """A graph's simple undirected view: node labels and a symmetric 0/1 CSR matrix.

    Attributes:
        nodes: Node labels; index ``i`` of every array is ``nodes[i]``.
        adjacency: Symmetric ``n x n`` CSR matrix of float ones, no diagonal.
    """

    nodes: tuple[Hashable, ...]
    adjacency: sparse.csr_array

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    @property
    def m(self) -> int:
        """Number of undirected edges."""
        return int(self.adjacency.nnz // 2)

    @cached_property
    def degrees(self) -> np.ndarray:
        """Degree of every node (int64)."""
        return np.diff(self.adjacency.indptr).astype(np.int64)

    @cached_property
    def components(self) -> tuple[int, np.ndarray]:
        """``(count, labels)`` of the connected components."""
        count, labels = csgraph.connected_components(self.adjacency, directed=False)
        return int(count), labels

    @cached_property
    def largest(self) -> np.ndarray:
        """Sorted indices of the largest connected component (ties: lowest label)."""
        count, labels = self.components
        if self.n == 0:
            return np.zeros(0, dtype=np.int64)
        sizes = np.bincount(labels, minlength=count)
        return np.flatnonzero(labels == int(np.argmax(sizes)))

    def subgraph(self, index: np.ndarray) -> SimpleView:
        """The view induced by the node indices ``index`` (in that order)."""
        if len(index) == self.n and np.array_equal(index, np.arange(self.n)):
            return self
        sub = self.adjacency[index][:, index].tocsr()
        return SimpleView(tuple(self.nodes[i] for i in index), sparse.csr_array(sub))

    def to_networkx(self) -> nx.Graph:
        """The view as a plain ``nx.Graph`` (same node order)."""
        g = nx.Graph()
        g.add_nodes_from(self.nodes)
        upper = sparse.triu(self.adjacency, k=1).tocoo()
        g.add_edges_from((self.nodes[i], self.nodes[j]) for i, j in zip(upper.row, upper.col))
        return g


GraphLike: TypeAlias = nx.Graph | SimpleView


def simple_view(graph: GraphLike) -> SimpleView:
    """The simple undirected view of ``graph`` (returned unchanged if already a view).

    Raises:
        ConfigError: ``graph`` is neither a networkx graph nor a :class:`SimpleView`.
    """
    if isinstance(graph, SimpleView):
        return graph
    if not isinstance(graph, nx.Graph):
        raise ConfigError(f"expected a networkx graph, got {type(graph).__name__}")
    nodes = tuple(graph.nodes)
    index = {v: i for i, v in enumerate(nodes)}
    pairs = np.fromiter((index[x] for e in graph.edges() for x in e), dtype=np.int64,
                        count=2 * graph.number_of_edges()).reshape(-1, 2)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
    n = len(nodes)
    adj = sparse.csr_array((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    adj.sum_duplicates()
    adj.data[:] = 1.0
    adj.sort_indices()
    return SimpleView(nodes, adj)
