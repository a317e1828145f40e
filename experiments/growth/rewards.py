"""Intrinsic rewards of one iteration: novelty, bridging and surprise. None is verifiable.

Nothing here checks that a triple is true: these numbers say how the graph *changed*,
and every record carries ``verifiable: False`` so no analysis mistakes them for accuracy.

* **novelty**: concepts and edges the iteration added; ``novelty`` is the share of the
  iteration's valid triples that were new edges.
* **bridging**: new edges between two concepts that already existed and sat in different
  Louvain communities of the graph before the iteration.
* **surprise**: new edges between semantically distant concepts: cosine of the two
  labels' embeddings below ``surprise_cosine`` when an embedder is configured; otherwise
  (``basis="distance"``) edges between existing concepts that were at least
  ``surprise_distance`` hops apart, or not connected at all, before the edge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import networkx as nx
import numpy as np

from agora.experiments.growth.graph import unit_rows


@dataclass(frozen=True)
class IntrinsicRewards:
    """One iteration's intrinsic rewards (see the module docstring)."""

    new_nodes: int
    new_edges: int
    novelty: float
    bridging_edges: int
    surprising_edges: int
    surprise_basis: str
    verifiable: bool = False

    def as_record(self) -> dict[str, Any]:
        """The rewards as a flat record (``verifiable`` always False)."""
        return asdict(self)


def _hops(before: nx.Graph, u: str, v: str) -> float:
    try:
        return float(nx.shortest_path_length(before, u, v))
    except nx.NetworkXNoPath:
        return float("inf")


def surprising_by_distance(before: nx.MultiDiGraph, edges: Sequence[tuple[str, str]],
                           min_hops: int) -> int:
    """New edges between existing concepts >= ``min_hops`` apart (or unconnected) before.

    Example:
        >>> path = nx.MultiDiGraph([("a", "b"), ("b", "c"), ("c", "d"), ("x", "y")])
        >>> surprising_by_distance(path, [("a", "d"), ("a", "c"), ("a", "x"), ("a", "new")], 3)
        2
    """
    simple = nx.Graph(before)
    return sum(1 for u, v in edges
               if u in simple and v in simple and _hops(simple, u, v) >= min_hops)


def surprising_by_embedding(vectors: Mapping[str, np.ndarray],
                            edges: Sequence[tuple[str, str]], max_cosine: float) -> int:
    """New edges whose endpoint embeddings have cosine below ``max_cosine``.

    Example:
        >>> vec = {"a": np.array([1.0, 0.0]), "b": np.array([0.0, 1.0]),
        ...        "c": np.array([1.0, 0.1])}
        >>> surprising_by_embedding(vec, [("a", "b"), ("a", "c")], 0.5)
        1
    """
    count = 0
    for u, v in edges:
        if u in vectors and v in vectors:
            unit = unit_rows(np.stack([vectors[u], vectors[v]]))
            count += float(unit[0] @ unit[1]) < max_cosine
    return count


def bridging(comms: Sequence[frozenset[str]], edges: Sequence[tuple[str, str]]) -> int:
    """New edges joining two different communities (endpoints both already placed).

    Example:
        >>> bridging([frozenset("ab"), frozenset("cd")], [("a", "c"), ("a", "b"), ("a", "z")])
        1
    """
    member = {n: i for i, c in enumerate(comms) for n in c}
    return sum(1 for u, v in edges if u in member and v in member and member[u] != member[v])


def intrinsic_rewards(before: nx.MultiDiGraph, after: nx.MultiDiGraph,
                      new_edges: Sequence[tuple[str, str]], valid_triples: int,
                      comms_before: Sequence[frozenset[str]], *,
                      vectors: Mapping[str, np.ndarray] | None = None,
                      surprise_cosine: float = 0.3,
                      surprise_distance: int = 4) -> IntrinsicRewards:
    """The rewards of the iteration that turned ``before`` into ``after``.

    Args:
        before, after: the graph before and after the iteration.
        new_edges: (source, target) node ids in ``after`` of the edges the iteration added.
        valid_triples: how many valid triples the iteration extracted.
        comms_before: Louvain communities of ``before``.
        vectors: label embeddings by node id (None: surprise by graph distance).
        surprise_cosine, surprise_distance: the two surprise thresholds.

    Example:
        >>> before = nx.MultiDiGraph([("a", "b"), ("c", "d")])
        >>> after = nx.MultiDiGraph([("a", "b"), ("c", "d"), ("b", "c"), ("d", "e")])
        >>> r = intrinsic_rewards(before, after, [("b", "c"), ("d", "e")], 4,
        ...                       [frozenset("ab"), frozenset("cd")])
        >>> (r.new_nodes, r.new_edges, r.novelty, r.bridging_edges, r.surprising_edges)
        (1, 2, 0.5, 1, 1)
    """
    edges = list(new_edges)
    if vectors is not None:
        surprising, basis = surprising_by_embedding(vectors, edges, surprise_cosine), "embedding"
    else:
        surprising = surprising_by_distance(before, edges, surprise_distance)
        basis = "distance"
    return IntrinsicRewards(
        new_nodes=sum(1 for n in after if n not in before),
        new_edges=len(edges),
        novelty=len(edges) / valid_triples if valid_triples else 0.0,
        bridging_edges=bridging(comms_before, edges),
        surprising_edges=int(surprising),
        surprise_basis=basis,
    )
