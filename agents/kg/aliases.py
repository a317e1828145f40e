"""Entity resolution from triples: Jaccard similarity of typed neighbourhoods
(:func:`alias_scores`) and identity-path evidence for an entity split in two
(:func:`alias_votes`).

Example:
    >>> alias_scores([[0, 0, 5], [1, 0, 5]], 6, 1)[0].tolist()
    [[0, 1]]
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from agora.agents.kg.rules import body_pairs
from agora.agents.kg.triples import typed_features


def alias_scores(triples: object, num_entities: int, num_relations: int,
                 k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``u < v`` ranked by the Jaccard similarity of their typed neighbourhoods
    (the sets of ``(relation, direction, neighbour)``); only pairs sharing a feature.

    Example:
        >>> t = [[0, 0, 5], [0, 1, 6], [1, 0, 5], [1, 1, 6], [2, 0, 5]]
        >>> pairs, sim = alias_scores(t, 7, 2, k=2)
        >>> pairs.tolist(), sim.round(2).tolist()
        ([[0, 1], [0, 2]], [1.0, 0.5])
    """
    f = typed_features(triples, num_entities, num_relations)
    size = np.asarray(f.sum(axis=1)).ravel()
    inter = sparse.triu(f @ f.T, k=1).tocoo()
    u, v = inter.row.astype(np.int64), inter.col.astype(np.int64)
    sim = inter.data / (size[u] + size[v] - inter.data)
    order = np.lexsort((v, u, -sim))[:k]
    return np.stack([u[order], v[order]], axis=1), sim[order]


def alias_votes(triples: object, num_entities: int, num_relations: int, *,
                min_identity: float = 0.9,
                min_support: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Alias evidence from *identity paths* (equality-generating dependencies).

    A two-atom body such as ``spouse(x,y) & spouse(y,z)`` is an identity path when the
    entities ``x`` it leads back to (at least ``min_support`` of them) almost never reach
    anything else: its identity is the share of those ``x`` whose only end is ``x``. When
    such a path joins ``x`` to some ``z != x``, ``x`` and ``z`` are likely one entity
    split in two. Each pair scores the summed identity of the paths joining it.

    Returns:
        ``(pairs (p, 2) with u < v, scores (p,))``, best first.

    Example:
        >>> t = [[0, 0, 1], [1, 0, 0], [2, 0, 3], [3, 0, 2], [4, 0, 5], [5, 0, 6]]
        >>> pairs, votes = alias_votes(t, 7, 1, min_support=2)  # 4 and 6 share spouse 5
        >>> pairs.tolist(), votes.tolist()
        ([[4, 6]], [2.0])
    """
    n, m = num_entities, num_relations
    body, x, z = body_pairs(triples, n, m, 2, loops=True)
    starts, inv, ends = np.unique(body * n + x, return_inverse=True, return_counts=True)
    loop = np.zeros(len(starts), dtype=bool)
    loop[inv[x == z]] = True
    sb, size = starts // n, 2 * m + 4 * m * m
    returns = np.bincount(sb[loop], minlength=size)
    identity = np.bincount(sb[loop & (ends == 1)], minlength=size) / np.maximum(returns, 1)
    identity[returns < min_support] = 0.0
    sel = (identity[body] >= min_identity) & (x != z)
    u, v = np.minimum(x[sel], z[sel]), np.maximum(x[sel], z[sel])
    key, inv2 = np.unique(u * n + v, return_inverse=True)
    votes = np.bincount(inv2, identity[body[sel]], minlength=len(key)).astype(float)
    order = np.lexsort((key, -votes))
    return np.stack([key[order] // n, key[order] % n], axis=1), votes[order]
