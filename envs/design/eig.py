"""Expected information gain of a design under a particle posterior.

``EIG(xi) = E_{theta, y} [log p(y | theta, xi) - log p(y | xi)]`` with
``theta ~ posterior`` and ``y ~ p(y | theta, xi)``. Three estimators:

* ``"exact"``: when the outcome is discrete and small (``model.outcome_support`` is not
  ``None``), ``EIG = H[p(y)] - E_theta H[p(y | theta)]`` summed over every outcome with the
  weighted particles themselves (no Monte Carlo beyond the particle approximation).
* ``"nmc"``: nested Monte Carlo. ``N`` outer draws ``theta_n`` and ``y_n``; ``M`` *fresh*
  inner draws ``theta_nm`` (not reusing ``theta_n``):
  ``mean_n [log p(y_n|theta_n) - logmeanexp_m log p(y_n|theta_nm)]``, an upper bound in
  expectation (bias ``O(1/M)``).
* ``"pce"``: the prior-contrastive lower bound from the same draws, with ``theta_n``
  added to the contrast set: ``logmeanexp`` over the ``M + 1`` terms. It never exceeds
  ``log(M + 1)``.

``"auto"`` is exact when possible and otherwise NMC, reporting the PCE value as
``lower`` and NMC as ``upper``.

**Never an impossible number.** NMC's bias is ``O(1/M)`` only once ``M`` inner draws
cover the posterior predictive; where one reading pins ``theta`` down (BoxingGym's raw
location-finding signal, up to ``1e4`` with noise ``0.5``) a finite ``M`` puts it orders
of magnitude above what the outcome can carry. Every estimate is therefore clipped to
``[0, limit]``, with ``limit`` the model's :meth:`~agora.envs.design.model.Model.information_limit`
(for additive Gaussian noise the channel bound ``0.5 log(1 + Var[mean]/sigma^2)`` over the
outer draws), and the reported bracket ``[lower, upper]`` is clipped the same way;
``capped`` says the raw NMC value lay above the limit (then the bracket, not the value,
is the honest answer: ``value`` is its upper end). The ``(N, M)`` log-likelihood matrix is one
broadcasting :meth:`~agora.envs.design.model.Model.log_lik` call per chunk of rows.

Example:
    >>> from agora.envs.design.inference import prior_posterior
    >>> from agora.envs.design.worlds.linear_gaussian import LinearGaussian
    >>> m = LinearGaussian()
    >>> rng = np.random.default_rng(0)
    >>> post = prior_posterior(m, rng, n=4096)
    >>> est = eig(m, post, np.array([1.0]), rng)
    >>> est.lower <= m.exact_eig([1.0], np.eye(3)) <= est.upper + 3 * est.stderr
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


@dataclass(frozen=True)
class EIGEstimate:
    """One EIG estimate, in nats.

    Attributes:
        value: the estimate (``method`` says which).
        stderr: Monte Carlo standard error of ``value`` over the outer samples (0 for
            ``exact``).
        lower, upper: PCE lower and NMC upper bound (both ``value`` for ``exact``).
        method: ``"exact"``, ``"nmc"`` or ``"pce"``.
        n_outer, n_inner: outer and inner samples (``exact``: particles and outcomes).
        limit: the information limit every number here was clipped to (``inf``: none).
        capped: the raw Monte Carlo value lay above ``limit``.
    """

    value: float
    stderr: float
    lower: float
    upper: float
    method: str
    n_outer: int
    n_inner: int
    limit: float = math.inf
    capped: bool = False


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
    if support is not None:
        value = exact_eig(model, post, x, support)
        return EIGEstimate(value, 0.0, value, value, "exact", post.n, len(support))
    if n_outer < 2 or n_inner < 1:
        raise ConfigError(f"NMC needs n_outer >= 2 and n_inner >= 1, got {n_outer}, {n_inner}")
    nmc, pce, limit = nmc_terms(model, post, x, rng, n_outer, n_inner)
    terms = pce if method == "pce" else nmc
    raw = float(terms.mean())
    return EIGEstimate(_clip(raw, limit), float(terms.std(ddof=1) / np.sqrt(n_outer)),
                       _clip(float(pce.mean()), limit), _clip(float(nmc.mean()), limit),
                       "pce" if method == "pce" else "nmc", n_outer, n_inner, limit,
                       raw > limit)


def _clip(value: float, limit: float) -> float:
    """An information estimate inside what is possible: ``[0, limit]``."""
    return min(max(value, 0.0), limit)


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
              n_outer: int, n_inner: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Per-outer-sample NMC and PCE terms, each ``(n_outer,)``, and the model's
    information limit over the outer draws."""
    theta = post.sample(rng, n_outer)
    y = np.asarray(model.simulate(theta, design, rng), dtype=float)
    inner = post.sample(rng, n_inner)
    return (*_terms(model, design, theta, y, inner), model.information_limit(theta, design))


def _terms(model: Model, design: np.ndarray, theta: np.ndarray, y: np.ndarray,
           inner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, m = theta.shape[0], inner.shape[0]
    own = np.asarray(model.log_lik(y, theta, design), dtype=float)  # (N,)
    shape = (-1, 1, *model.outcome_shape)
    rows = max(1, CHUNK // m)
    lme = np.empty(n)
    pce_lse = np.empty(n)
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        block = np.asarray(model.log_lik(y[start:stop].reshape(shape), inner[None], design),
                           dtype=float)
        lme[start:stop], pce_lse[start:stop] = _row_lse_pair(block, own[start:stop])
    nmc = own - (lme - np.log(m))
    pce = own - (pce_lse - np.log(m + 1))
    return nmc, pce


def _row_lse_pair(block: np.ndarray, extra: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise ``logsumexp(block)`` and ``logsumexp([block, extra])``; ``block`` is
    overwritten."""
    top = block.max(axis=1)
    top = np.where(np.isfinite(top), top, 0.0)
    block -= top[:, None]
    np.exp(block, out=block)
    with np.errstate(divide="ignore"):
        lse = np.log(block.sum(axis=1)) + top
    return lse, np.logaddexp(lse, extra)


def eig_many(model: Model, post: Posterior, designs: np.ndarray, rng: np.random.Generator,
             n_outer: int = 500, n_inner: int = 500) -> np.ndarray:
    """EIG of each of ``k`` designs ``(k, D)``, for screening (greedy design).

    Exact where the outcome support is small; otherwise NMC with common random
    numbers: the same outer and inner parameter draws for every design, and the
    simulator's noise drawn from one seed per call, so differences between designs are
    not swamped by sampling noise.
    """
    xs = np.asarray(designs, dtype=float).reshape(len(designs), -1)
    theta = post.sample(rng, n_outer)
    inner = post.sample(rng, n_inner)
    seed = int(rng.integers(2**63))
    out = np.empty(len(xs))
    for i, x in enumerate(xs):
        support = model.outcome_support(x)
        if support is not None:
            out[i] = exact_eig(model, post, x, support)
            continue
        y = np.asarray(model.simulate(theta, x, np.random.default_rng(seed)), dtype=float)
        out[i] = _clip(float(_terms(model, x, theta, y, inner)[0].mean()),
                       model.information_limit(theta, x))
    return out
