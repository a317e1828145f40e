"""Von Neumann entropy of a graph's normalised Laplacian, and of node embeddings.

The density matrix is ``rho = L / tr(L)`` with ``L = I - D^-1/2 A D^-1/2`` over the nodes
of positive degree (isolated nodes add a zero row and column, hence nothing), so
``tr(L) = T``, the number of such nodes, and

``S = -sum_i mu_i log mu_i = log T - tr(L log L) / T``  (``mu_i = lambda_i / T``).

Small graphs use every eigenvalue (``numpy.linalg.eigvalsh``). Large ones estimate
``tr(L log L)`` by stochastic Lanczos quadrature (Ubaru, Chen and Saad, SIAM J. Matrix
Anal. Appl. 38, 2017): for ``probes`` Rademacher vectors ``z``, ``steps`` Lanczos steps
give a Gauss quadrature of ``z' f(L) z``; the mean over probes is unbiased up to the
quadrature error and its spread gives a standard error. All probes run as one block of
sparse products. With the defaults (24 probes, 40 steps) the estimate is within about
``1e-3`` nats of the exact entropy on 1,500-node Barabasi-Albert and Watts-Strogatz graphs
(``tests/test_graph_metrics.py`` checks it), at a few tens of milliseconds for 10,000 nodes.

Example:
    >>> import networkx as nx
    >>> e = von_neumann_entropy(nx.complete_graph(5))
    >>> round(e.value, 6) == round(float(np.log(4)), 6), e.method
    (True, 'exact')
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from agora.analysis.graphs.view import GraphLike, SimpleView, simple_view
from agora.envs.errors import ConfigError


@dataclass(frozen=True)
class EntropyEstimate:
    """A von Neumann entropy (nats).

    Attributes:
        value: The entropy or its estimate.
        se: Standard error of the estimate (0.0 when exact).
        method: ``"exact"`` (all eigenvalues) or ``"slq"`` (stochastic Lanczos).
    """

    value: float
    se: float
    method: str


def spectral_entropy(eigenvalues: np.ndarray) -> float:
    """``-sum mu log mu`` of ``mu = eigenvalues / sum(eigenvalues)`` (zeros contribute 0).

    Example:
        >>> round(spectral_entropy(np.array([1.0, 1.0, 0.0])), 6) == round(math.log(2), 6)
        True
    """
    lam = np.clip(np.asarray(eigenvalues, dtype=float), 0.0, None)
    total = float(lam.sum())
    if total <= 0:
        return 0.0
    mu = lam / total
    mu = mu[mu > 0]
    return max(0.0, float(-(mu * np.log(mu)).sum()))


def von_neumann_entropy(graph: GraphLike, *, exact_below: int = 2000, probes: int = 24,
                        steps: int = 40, rng: np.random.Generator | int = 0) -> EntropyEstimate:
    """Von Neumann entropy of the normalised Laplacian of the simple undirected view.

    Args:
        graph: Any networkx graph or a :class:`SimpleView`.
        exact_below: Graphs with at most this many non-isolated nodes use all eigenvalues.
        probes: Rademacher probe vectors of the stochastic estimate.
        steps: Lanczos steps per probe.
        rng: Generator or seed for the probes.
    """
    view = simple_view(graph)
    keep = np.flatnonzero(view.degrees > 0)
    t = len(keep)
    if t == 0:
        return EntropyEstimate(0.0, 0.0, "exact")
    sub = view.subgraph(keep) if t < view.n else view
    scale = 1.0 / np.sqrt(sub.degrees.astype(float))
    if t <= exact_below:
        dense = np.eye(t) - scale[:, None] * sub.adjacency.toarray() * scale[None, :]
        return EntropyEstimate(spectral_entropy(np.linalg.eigvalsh(dense)), 0.0, "exact")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    per_probe = _slq_xlogx(sub, scale, probes, steps, gen)
    trace, se = float(per_probe.mean()), float(per_probe.std(ddof=1)) / math.sqrt(probes)
    return EntropyEstimate(math.log(t) - trace / t, se / t, "slq")


def _slq_xlogx(view: SimpleView, scale: np.ndarray, probes: int, steps: int,
               rng: np.random.Generator) -> np.ndarray:
    """``z' (L log L) z`` for each Rademacher probe ``z``, by Lanczos quadrature."""
    n = view.n
    adj = view.adjacency
    q = rng.choice([-1.0, 1.0], size=(n, probes)) / math.sqrt(n)
    prev = np.zeros_like(q)
    alphas, betas = np.zeros((steps, probes)), np.zeros((steps, probes))
    beta = np.zeros(probes)
    for j in range(steps):
        w = q - scale[:, None] * (adj @ (scale[:, None] * q)) - beta * prev
        alphas[j] = np.einsum("ij,ij->j", q, w)
        w -= alphas[j] * q
        beta = np.linalg.norm(w, axis=0)
        betas[j] = beta
        prev, q = q, w / np.where(beta > 0, beta, 1.0)
    return np.array([n * _quadrature(alphas[:, p], betas[:, p]) for p in range(probes)])


def _quadrature(alphas: np.ndarray, betas: np.ndarray) -> float:
    """Gauss quadrature of ``x log x`` from one Lanczos tridiagonal (stops at breakdown)."""
    small = np.flatnonzero(betas < 1e-10)
    size = int(small[0]) + 1 if len(small) else len(alphas)
    theta, vectors = linalg.eigh_tridiagonal(alphas[:size], betas[:size - 1])
    theta = np.clip(theta, 0.0, None)
    values = np.where(theta > 0, theta * np.log(np.where(theta > 0, theta, 1.0)), 0.0)
    return float((vectors[0] ** 2 * values).sum())


def semantic_entropy(embeddings: Mapping[Hashable, np.ndarray] | np.ndarray) -> float:
    """Von Neumann entropy of the trace-normalised cosine-similarity Gram matrix.

    ``rho = K / tr(K)`` with ``K_ij = cos(x_i, x_j)``; its eigenvalues are the squared
    singular values of the row-normalised embedding matrix over ``n`` (zero rows dropped).

    Example:
        >>> round(semantic_entropy(np.eye(3)), 6) == round(math.log(3), 6)
        True
    """
    x = np.asarray(list(embeddings.values()) if isinstance(embeddings, Mapping) else embeddings,
                   dtype=float)
    if x.size == 0:
        return 0.0
    if x.ndim != 2:
        raise ConfigError(f"embeddings must be vectors of one length, got shape {x.shape}")
    norms = np.linalg.norm(x, axis=1)
    x = x[norms > 0] / norms[norms > 0, None]
    if len(x) == 0:
        return 0.0
    return spectral_entropy(np.linalg.svd(x, compute_uv=False) ** 2)


def discovery_parameter(structural: float, semantic: float) -> float:
    """Critical discovery parameter ``(S_struct - S_sem) / (S_struct + S_sem)``.

    Example:
        >>> discovery_parameter(3.0, 1.0)
        0.5
    """
    total = structural + semantic
    return (structural - semantic) / total if total > 0 else 0.0
