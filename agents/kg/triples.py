"""Integer triple arrays and the sparse matrices built from them.

A *triple array* is an int array of shape ``(k, 3)`` whose rows are ``(head, relation,
tail)`` with entities in ``range(num_entities)`` and relations in ``range(num_relations)``.

Example:
    >>> rows, cols = typed_features([[0, 1, 2]], 3, 2).nonzero()  # 0 -r1-> 2 <-r1- 0
    >>> rows.tolist(), cols.tolist()
    ([0, 2], [5, 9])
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def as_triples(triples: object) -> np.ndarray:
    """An int64 ``(k, 3)`` copy of ``triples`` (any nested sequence or array)."""
    return np.asarray(triples, dtype=np.int64).reshape(-1, 3)


def binary_matrix(rows: np.ndarray, cols: np.ndarray,
                  shape: tuple[int, int]) -> sparse.csr_array:
    """The 0/1 csr matrix with ones at ``(rows, cols)`` (repeats count once).

    Example:
        >>> binary_matrix(np.array([0, 0, 1]), np.array([1, 1, 0]), (2, 2)).toarray()
        array([[0., 1.],
               [1., 0.]])
    """
    m = sparse.coo_array((np.ones(len(rows)), (rows, cols)), shape=shape).tocsr()
    m.data[:] = 1.0  # duplicates were summed
    return m


def typed_features(triples: object, num_entities: int, num_relations: int) -> sparse.csr_array:
    """The 0/1 matrix of each entity's typed neighbourhood: column ``r * n + b`` for an
    outgoing ``(e, r, b)``, ``(r + m) * n + a`` for an incoming ``(a, r, e)``."""
    t, n, m = as_triples(triples), num_entities, num_relations
    ent = np.concatenate([t[:, 0], t[:, 2]])
    feat = np.concatenate([t[:, 1] * n + t[:, 2], (t[:, 1] + m) * n + t[:, 0]])
    return binary_matrix(ent, feat, (n, 2 * m * n))
