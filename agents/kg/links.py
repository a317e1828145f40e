"""Link prediction on the undirected view of triples: common neighbours, Adamic-Adar and
resource allocation (one sparse product ``A @ W @ A``), the top-scoring unlinked pairs, and
a relation and direction for each pair from similar entities.

Example:
    >>> adj = undirected_adjacency([[0, 0, 1], [1, 0, 2], [2, 0, 3]], 4)
    >>> top_links(adj, 1, "common_neighbours")[0].tolist()
    [[0, 2]]
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from agora.agents.kg.triples import as_triples, binary_matrix, typed_features
from agora.envs.errors import ConfigError

LINK_METHODS = ("common_neighbours", "adamic_adar", "resource_allocation")
"""Neighbourhood scores :func:`link_scores` knows."""


def undirected_adjacency(triples: object, num_entities: int) -> sparse.csr_array:
    """The 0/1 symmetric adjacency of the triples' entities (relations and self-loops dropped).

    Example:
        >>> undirected_adjacency([[0, 5, 1], [1, 2, 0], [2, 0, 2]], 3).toarray()
        array([[0., 1., 0.],
               [1., 0., 0.],
               [0., 0., 0.]])
    """
    t = as_triples(triples)
    t = t[t[:, 0] != t[:, 2]]
    rows, cols = np.concatenate([t[:, 0], t[:, 2]]), np.concatenate([t[:, 2], t[:, 0]])
    return binary_matrix(rows, cols, (num_entities, num_entities))


def neighbour_weights(adj: sparse.csr_array, method: str) -> np.ndarray:
    """The weight of each entity as a common neighbour: 1, ``1/log(deg)`` or ``1/deg``."""
    deg = np.asarray(adj.sum(axis=1)).ravel()
    w = np.zeros(len(deg))
    if method == "common_neighbours":
        return np.ones(len(deg))
    if method == "adamic_adar":
        np.divide(1.0, np.log(np.maximum(deg, 2)), out=w, where=deg > 1)
    elif method == "resource_allocation":
        np.divide(1.0, deg, out=w, where=deg > 0)
    else:
        raise ConfigError(f"link method {method!r} not in {LINK_METHODS}")
    return w


def link_scores(adj: sparse.csr_array, pairs: object, method: str = "adamic_adar") -> np.ndarray:
    """Scores of given pairs: the weighted count of their common neighbours.

    Example:
        >>> adj = undirected_adjacency([[0, 0, 2], [1, 0, 2], [0, 0, 3], [1, 0, 3]], 4)
        >>> link_scores(adj, [[0, 1], [2, 3]], "common_neighbours")
        array([2., 2.])
    """
    p = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    w = neighbour_weights(adj, method)
    right = adj[p[:, 1]].multiply(w[None, :])
    return np.asarray(adj[p[:, 0]].multiply(right).sum(axis=1), dtype=float).ravel()


def top_links(adj: sparse.csr_array, k: int,
              method: str = "adamic_adar") -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best-scoring unlinked pairs ``u < v`` with a positive score.

    Ties break by ``(u, v)``. Returns ``(pairs (k, 2), scores (k,))``.

    Example:
        >>> adj = undirected_adjacency([[0, 0, 1], [1, 0, 2], [2, 0, 3]], 4)
        >>> pairs, scores = top_links(adj, 5, "common_neighbours")
        >>> pairs.tolist(), scores.tolist()
        ([[0, 2], [1, 3]], [1.0, 1.0])
    """
    w = neighbour_weights(adj, method)
    s = sparse.triu(adj @ sparse.diags_array(w) @ adj, k=1).tocoo()
    u, v, score = s.row.astype(np.int64), s.col.astype(np.int64), s.data
    if not len(u):
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0)
    keep = (score > 0) & (np.asarray(adj[u, v]).ravel() == 0)
    u, v, score = u[keep], v[keep], score[keep]
    order = np.lexsort((v, u, -score))[:k]
    return np.stack([u[order], v[order]], axis=1), score[order]


def _similar(feats: sparse.csr_array, rows: np.ndarray) -> sparse.csr_array:
    """Jaccard similarity of typed neighbourhoods from each of ``rows`` to every entity (1
    to itself)."""
    size = np.asarray(feats.sum(axis=1)).ravel()
    inter = (feats[rows] @ feats.T).tocoo()
    i, j = inter.row.astype(np.int64), inter.col.astype(np.int64)
    other = j != rows[i]
    i, j, common = i[other], j[other], inter.data[other]
    sim = common / (size[rows[i]] + size[j] - common)
    i = np.concatenate([i, np.arange(len(rows))])
    j, sim = np.concatenate([j, rows]), np.concatenate([sim, np.ones(len(rows))])
    return sparse.coo_array((sim, (i, j)), shape=(len(rows), feats.shape[0])).tocsr()


def predict_relations(triples: object, pairs: object, num_entities: int,
                      num_relations: int) -> np.ndarray:
    """The most likely directed triple for each unordered pair (entities like ``u`` relate
    by ``r`` to entities like ``v``).

    Relation ``r`` from ``u`` to ``v`` scores the sum over known triples ``(a, r, b)`` of
    ``sim(u, a) * sim(v, b)``, where ``sim`` is the Jaccard similarity of typed
    neighbourhoods (:func:`typed_features`) and 1 for an entity itself. Ties break by how
    often ``u`` heads and ``v`` tails ``r``, then by the lower relation, forward first.

    Example:
        >>> t = [[0, 0, 9], [1, 0, 9], [0, 1, 8], [1, 1, 8], [2, 1, 8]]  # 2 is like 0, 1
        >>> predict_relations(t, [[9, 2]], 10, 2).tolist()
        [[2, 0, 9]]
    """
    t, p = as_triples(triples), np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    n, m = num_entities, num_relations
    feats = typed_features(t, n, m)
    onehot = binary_matrix(np.arange(len(t)), t[:, 1], (len(t), m))
    out_deg, in_deg = np.zeros((n, m)), np.zeros((n, m))
    np.add.at(out_deg, (t[:, 0], t[:, 1]), 1.0)
    np.add.at(in_deg, (t[:, 2], t[:, 1]), 1.0)

    def oriented(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        hits = _similar(feats, a)[:, t[:, 0]].multiply(_similar(feats, b)[:, t[:, 2]]) @ onehot
        prior = out_deg[a] + in_deg[b]
        tie = prior / (1.0 + prior.sum(axis=1, keepdims=True)) * 1e-6
        return np.asarray(hits.toarray()) + tie

    score = np.concatenate([oriented(p[:, 0], p[:, 1]), oriented(p[:, 1], p[:, 0])], axis=1)
    best = np.argmax(score, axis=1)
    forward = best < m
    head = np.where(forward, p[:, 0], p[:, 1])
    tail = np.where(forward, p[:, 1], p[:, 0])
    return np.stack([head, best % m, tail], axis=1)
