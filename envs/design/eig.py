"""Expected information gain of a design under a particle posterior.

``EIG(xi) = E_{theta, y} [log p(y | theta, xi) - log p(y | xi)]`` with
``theta ~ posterior`` and ``y ~ p(y | theta, xi)``. The posterior is the weighted particle
set, so the EIG reported is that of the particles (distinct particles merged, weights
summed), the same quantity the exact sum computes. Three estimators:

* ``"exact"``: when the outcome is discrete and small (``model.outcome_support`` is not
  ``None``), ``EIG = H[p(y)] - E_theta H[p(y | theta)]`` summed over every outcome with the
  weighted particles themselves (no Monte Carlo beyond the particle approximation).
* ``"nmc"``: nested Monte Carlo. ``N`` outer particles ``theta_n`` (weights ``w_n``) and
  outcomes ``y_n``; ``M`` inner particle draws ``theta_m``. The marginal
  ``p(y_n) = w_n p(y_n|theta_n) + sum_{j != n} w_j p(y_n|theta_j)`` is estimated with
  the own particle's term exact and the rest from the inner draws that are not ``theta_n``
  (``1/M sum_m [theta_m != theta_n] p(y_n|theta_m)``, unbiased): an upper bound in
  expectation (bias ``O(1/M)``), and every term is at most ``-log w_n``, so a reading no
  inner draw explains (a heavy-tailed outcome) costs ``log(1/w_n)``, never ``1e5`` nats.
* ``"pce"``: the prior-contrastive lower bound from the same draws, with ``theta_n``
  added to the contrast set: ``logmeanexp`` over the ``M + 1`` terms. It never exceeds
  ``log(M + 1)``.

``"auto"`` is exact when possible and otherwise NMC. Every estimate is reported inside
proven limits (:func:`information_limit`): the entropy of the particle weights (an EIG
never exceeds the entropy of what is learnt) and, for a model that declares a
:meth:`~agora.envs.design.model.Model.gaussian_channel`, the Gaussian capacity bound
``sum_d 0.5 [log(Var(mu_d) + E s_d^2) - E log s_d^2]``. The bracket is
``lower = clip(PCE, 0, limit)``, ``upper = clip(NMC, lower, limit)``, and ``value`` is
the method's end of it, so no value a bound proves impossible is ever reported. The
``(N, M)`` log-likelihood matrix is one broadcasting
:meth:`~agora.envs.design.model.Model.log_lik` call per chunk of rows.

Example:
    >>> from agora.envs.design.inference import prior_posterior
    >>> from agora.envs.design.worlds.linear_gaussian import LinearGaussian
    >>> m = LinearGaussian()
    >>> rng = np.random.default_rng(0)
    >>> post = prior_posterior(m, rng, n=4096)
    >>> est = eig(m, post, np.array([1.0]), rng)
    >>> est.lower <= m.exact_eig([1.0], np.eye(3)) <= est.upper + 3 * est.stderr
    True
    >>> 0.0 <= est.lower <= est.value <= est.upper <= est.limit
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from agora.envs.design.inference import Posterior
from agora.envs.design.model import Model
from agora.envs.errors import ConfigError

METHODS = ("auto", "exact", "nmc", "pce")
CHUNK = 1 << 18
"""Elements of the ``(rows, M)`` log-likelihood block evaluated at once."""
_HASH_MULT = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                       0x27D4EB2F165667C5, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53],
                      dtype=np.uint64)
"""Odd multipliers of the row hash in :func:`distinct`."""


@dataclass(frozen=True)
class EIGEstimate:
    """One EIG estimate, in nats, inside its proven limit.

    Attributes:
        value: the estimate (``method`` says which), in ``[lower, upper]``.
        stderr: Monte Carlo standard error of the method's mean over the outer samples
            (0 for ``exact``), before clipping to the bracket.
        lower, upper: the bracket: the PCE lower and NMC upper bound, each clipped to
            ``[0, limit]`` (both ``value`` for ``exact``).
        method: ``"exact"``, ``"nmc"`` or ``"pce"``.
        n_outer, n_inner: outer and inner samples (``exact``: particles and outcomes).
        limit: the proven upper bound on this EIG (:func:`information_limit`).
    """

    value: float
    stderr: float
    lower: float
    upper: float
    method: str
    n_outer: int
    n_inner: int
    limit: float = math.inf


def eig(model: Model, post: Posterior, design: np.ndarray, rng: np.random.Generator,
        n_outer: int = 1000, n_inner: int = 1000, method: str = "auto") -> EIGEstimate:
    """The EIG of one ``design (D,)`` under ``post`` (see the module doc for methods)."""
    if method not in METHODS:
        raise ConfigError(f"EIG method {method!r} is not one of {METHODS}")
    x = np.asarray(design, dtype=float).reshape(-1)
    support = model.outcome_support(x) if method in ("auto", "exact") else None
    if method == "exact" and support is None:
        raise ConfigError(f"{type(model).__name__} has no small outcome support; "
                          "use method='nmc' or 'pce'")
    parts, w = distinct(post)
    limit = information_limit(model, parts, w, x)
    if support is not None:
        value = min(exact_eig(model, post, x, support), limit)
        return EIGEstimate(value, 0.0, value, value, "exact", post.n, len(support), limit)
    if n_outer < 2 or n_inner < 1:
        raise ConfigError(f"NMC needs n_outer >= 2 and n_inner >= 1, got {n_outer}, {n_inner}")
    nmc, pce = _draw_terms(model, parts, w, x, rng, n_outer, n_inner)
    lower, upper = bracket(nmc, pce, limit)
    terms = pce if method == "pce" else nmc
    return EIGEstimate(lower if method == "pce" else upper,
                       float(terms.std(ddof=1) / np.sqrt(n_outer)), lower, upper,
                       "pce" if method == "pce" else "nmc", n_outer, n_inner, limit)


def bracket(nmc: np.ndarray, pce: np.ndarray, limit: float) -> tuple[float, float]:
    """``(lower, upper)``: the PCE and NMC means clipped so that
    ``0 <= lower <= upper <= limit``."""
    lower = min(max(float(pce.mean()), 0.0), limit)
    return lower, min(max(float(nmc.mean()), lower), limit)


def distinct(post: Posterior) -> tuple[np.ndarray, np.ndarray]:
    """The posterior's distinct particles ``(k, P)`` and their summed weights ``(k,)``
    (resampling leaves copies; the EIG and its entropy limit are those of the values).
    Rows are grouped by a 64-bit hash of their bytes and the grouping is verified."""
    x = np.ascontiguousarray(post.particles, dtype=float)
    mult = _HASH_MULT[np.arange(x.shape[1]) % len(_HASH_MULT)]
    keys = (x.view(np.uint64) * mult).sum(axis=1)  # wraps around: a hash, not a sum
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    if not np.array_equal(x[first][inverse], x):  # a hash collision: sort the rows
        _, first, inverse = np.unique(x, axis=0, return_index=True, return_inverse=True)
    weights = np.bincount(inverse.reshape(-1), weights=post.weights, minlength=len(first))
    return x[first], weights / weights.sum()


def information_limit(model: Model, particles: np.ndarray, weights: np.ndarray,
                      design: np.ndarray) -> float:
    """A proven upper bound on the EIG of ``design`` under distinct weighted particles:
    the entropy of the weights (``I(theta; y) <= H(theta)``), and for a model with a
    :meth:`~agora.envs.design.model.Model.gaussian_channel` the Gaussian capacity bound
    (``h(z) <= 0.5 log(2 pi e Var z)`` per coordinate, ``h(z | theta)`` exact)."""
    w = np.asarray(weights, dtype=float)
    pos = w > 0
    limit = float(-np.sum(w[pos] * np.log(w[pos])))
    channel = model.gaussian_channel(particles, design)
    if channel is not None:
        mean, sd = (np.asarray(a, dtype=float).reshape(len(w), -1)
                    for a in np.broadcast_arrays(*channel))
        if mean.shape[1] != math.prod(model.outcome_shape):
            raise ConfigError(f"{type(model).__name__}.gaussian_channel has {mean.shape[1]} "
                              f"coordinates for outcomes of shape {model.outcome_shape}")
        centred = mean - w @ mean
        var_y = w @ (centred * centred) + w @ (sd * sd)
        with np.errstate(divide="ignore", invalid="ignore"):
            capacity = 0.5 * float(np.sum(np.log(var_y) - w @ np.log(sd * sd)))
        if not np.isnan(capacity):  # a zero noise scale proves nothing
            limit = min(limit, max(capacity, 0.0))
    return max(limit, 0.0)


def exact_eig(model: Model, post: Posterior, design: np.ndarray,
              support: np.ndarray) -> float:
    """``sum_n w_n sum_y p(y|theta_n) log p(y|theta_n) - sum_y p(y) log p(y)`` over
    ``support``, with ``p(y) = sum_n w_n p(y|theta_n)`` (pmfs are <= 1, so no shift
    is needed; outcomes whose probability underflows contribute nothing)."""
    k = len(support)
    ys = np.asarray(support, dtype=float).reshape((k, 1, *model.outcome_shape))
    w = post.weights
    rows = max(1, CHUNK // max(k, 1))
    p_y = np.zeros(k)
    neg_cond_entropy = 0.0
    for start in range(0, post.n, rows):
        stop = min(post.n, start + rows)
        ll = np.array(model.log_lik(ys, post.particles[None, start:stop], design),
                      dtype=float)  # (K, rows), a fresh copy we may overwrite
        np.nan_to_num(ll, copy=False, nan=-1e30, neginf=-1e30)
        np.maximum(ll, -1e30, out=ll)
        lik = np.exp(ll)
        p_y += lik @ w[start:stop]
        lik *= ll
        neg_cond_entropy += float(lik.sum(axis=0) @ w[start:stop])
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -float(np.sum(np.where(p_y > 0, p_y * np.log(p_y), 0.0)))
    return max(entropy + neg_cond_entropy, 0.0)


def nmc_terms(model: Model, post: Posterior, design: np.ndarray, rng: np.random.Generator,
              n_outer: int, n_inner: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-outer-sample NMC and PCE terms, each ``(n_outer,)`` (unclipped)."""
    parts, w = distinct(post)
    return _draw_terms(model, parts, w, np.asarray(design, dtype=float).reshape(-1), rng,
                       n_outer, n_inner)


def _draw_terms(model: Model, parts: np.ndarray, w: np.ndarray, design: np.ndarray,
                rng: np.random.Generator, n_outer: int,
                n_inner: int) -> tuple[np.ndarray, np.ndarray]:
    own = _draw(w, rng, n_outer)
    y = np.asarray(model.simulate(parts[own], design, rng), dtype=float)
    return _terms(model, design, parts, w, own, y, _draw(w, rng, n_inner))


def _draw(w: np.ndarray, rng: np.random.Generator, m: int) -> np.ndarray:
    """``m`` independent particle indices drawn by weight."""
    cdf = np.cumsum(w)
    return np.minimum(np.searchsorted(cdf, rng.random(m) * cdf[-1], side="right"),
                      len(w) - 1)


def _terms(model: Model, design: np.ndarray, parts: np.ndarray, w: np.ndarray,
           own_idx: np.ndarray, y: np.ndarray, inner_idx: np.ndarray,
           hits: tuple[np.ndarray, np.ndarray] | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    """NMC terms (own particle exact, inner draws of other particles) and PCE terms;
    ``hits`` are :func:`_coincidences` of the indices (computed when not given)."""
    n, m = len(own_idx), len(inner_idx)
    hit_rows, hit_cols = _coincidences(own_idx, inner_idx) if hits is None else hits
    own = np.asarray(model.log_lik(y, parts[own_idx], design), dtype=float)  # (N,)
    inner = parts[inner_idx][None]
    shape = (-1, 1, *model.outcome_shape)
    rows = max(1, CHUNK // m)
    others = np.empty(n)
    total = np.empty(n)
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        block = np.asarray(model.log_lik(y[start:stop].reshape(shape), inner, design),
                           dtype=float)
        lo, hi = np.searchsorted(hit_rows, [start, stop])
        others[start:stop], total[start:stop] = _row_lse_split(
            block, hit_rows[lo:hi] - start, hit_cols[lo:hi], own[start:stop])
    with np.errstate(divide="ignore"):
        log_marginal = np.logaddexp(np.log(w[own_idx]) + own, others - np.log(m))
    nmc = own - log_marginal
    pce = own - (np.logaddexp(total, own) - np.log(m + 1))
    return nmc, pce


def _coincidences(own_idx: np.ndarray, inner_idx: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, cols)``, sorted by row, of the inner draws that are the outer particle
    itself (``inner_idx[col] == own_idx[row]``); few, found by sorting, not an N x M
    comparison."""
    order = np.argsort(inner_idx, kind="stable")
    first = np.searchsorted(inner_idx[order], own_idx, side="left")
    count = np.searchsorted(inner_idx[order], own_idx, side="right") - first
    rows = np.repeat(np.arange(len(own_idx)), count)
    offsets = np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
    return rows, order[np.repeat(first, count) + offsets]


def _row_lse_split(block: np.ndarray, hit_rows: np.ndarray, hit_cols: np.ndarray,
                   own: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise ``logsumexp`` of ``block`` over the entries that are not hits (draws of
    another particle), and over all entries (the hits, copies of the own particle,
    counted at ``own``); ``block`` is overwritten. Sums of positives only, so no
    cancellation."""
    top = block.max(axis=1)
    top = np.where(np.isfinite(top), top, 0.0)
    block -= top[:, None]
    np.exp(block, out=block)
    block[hit_rows, hit_cols] = 0.0
    rest = block.sum(axis=1)
    count = np.bincount(hit_rows, minlength=len(own))
    copies = count * np.exp(np.where(count > 0, own - top, -np.inf))  # no copy: 0
    with np.errstate(divide="ignore"):
        return np.log(rest) + top, np.log(rest + copies) + top


def eig_many(model: Model, post: Posterior, designs: np.ndarray, rng: np.random.Generator,
             n_outer: int = 500, n_inner: int = 500) -> np.ndarray:
    """EIG of each of ``k`` designs ``(k, D)``, for screening (greedy design).

    Exact where the outcome support is small; otherwise NMC with common random
    numbers: the same outer and inner particle draws for every design, and the
    simulator's noise drawn from one seed per call, so differences between designs are
    not swamped by sampling noise. Each value is the upper end of its bracket, within the
    design's :func:`information_limit`, like :attr:`EIGEstimate.value`.
    """
    xs = np.asarray(designs, dtype=float).reshape(len(designs), -1)
    parts, w = distinct(post)
    own = _draw(w, rng, n_outer)
    inner = _draw(w, rng, n_inner)
    hits = _coincidences(own, inner)
    seed = int(rng.integers(2**63))
    out = np.empty(len(xs))
    for i, x in enumerate(xs):
        limit = information_limit(model, parts, w, x)
        support = model.outcome_support(x)
        if support is not None:
            out[i] = min(exact_eig(model, post, x, support), limit)
            continue
        y = np.asarray(model.simulate(parts[own], x, np.random.default_rng(seed)),
                       dtype=float)
        out[i] = bracket(*_terms(model, x, parts, w, own, y, inner, hits), limit)[1]
    return out
