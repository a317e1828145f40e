"""Shared pieces of the BoxingGym worlds: 1-D priors, likelihood kernels, prediction rules.

Every BoxingGym prior is a product of independent 1-D marginals, so a world declares its
prior once as a tuple of :class:`Marginal` objects and :class:`BoxingModel` derives
``sample_prior`` and ``log_prior`` from it. The base class also fixes the conventions of
the prediction goals, so no world writes them twice:

* an *outcome* goal's answers are ``(n, *outcome_shape)``, one per query design; the
  Bayes-optimal answer is the posterior-predictive mean (squared error) or the most
  probable outcome (misclassification, summed over :meth:`Model.outcome_support`);
* a *parameter* goal has one dummy query (:meth:`BoxingModel.eval_queries` returns one
  row) and its answers are ``(n, len(goal.answer_names))``, the same row repeated per
  query; the world maps theta to the answer with :meth:`BoxingModel.parameter_answer`,
  and the Bayes-optimal answer is the weighted mean (squared) or mode (misclassification).

This module's name starts with ``_`` so the world discovery skips it.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy import special

from agora.envs.design.model import Goal, Model
from agora.envs.errors import ConfigError

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


class Marginal(ABC):
    """A 1-D prior: a vectorised sampler and its exact log density (``-inf`` off support)."""

    low: float = -math.inf
    high: float = math.inf

    @abstractmethod
    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` independent draws ``(n,)``."""

    @abstractmethod
    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """The log density at ``x`` (any shape)."""


@dataclass(frozen=True)
class Normal(Marginal):
    """``N(mean, sd^2)``.

    Example:
        >>> round(float(Normal(0.0, 1.0).logpdf(np.array(0.0))), 4)
        -0.9189
    """

    mean: float
    sd: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.mean + self.sd * rng.standard_normal(n)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x, dtype=float) - self.mean) / self.sd
        return -0.5 * z * z - math.log(self.sd) - LOG_SQRT_2PI


@dataclass(frozen=True)
class HalfNormal(Marginal):
    """``|N(0, sd^2)|`` on ``[0, inf)``."""

    sd: float
    low: float = 0.0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.abs(self.sd * rng.standard_normal(n))

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        z = x / self.sd
        dens = -0.5 * z * z - math.log(self.sd) - LOG_SQRT_2PI + math.log(2.0)
        return np.where(x >= 0.0, dens, -np.inf)


@dataclass(frozen=True)
class TruncNormal(Marginal):
    """``N(mean, sd^2)`` truncated to ``[low, high]`` (inverse-CDF sampling)."""

    mean: float
    sd: float
    low: float = -math.inf
    high: float = math.inf

    def _cdf_bounds(self) -> tuple[float, float]:
        return (float(special.ndtr((self.low - self.mean) / self.sd)),
                float(special.ndtr((self.high - self.mean) / self.sd)))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        lo, hi = self._cdf_bounds()
        x = self.mean + self.sd * special.ndtri(lo + rng.random(n) * (hi - lo))
        return np.clip(x, self.low, self.high)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        lo, hi = self._cdf_bounds()
        z = (x - self.mean) / self.sd
        dens = -0.5 * z * z - math.log(self.sd) - LOG_SQRT_2PI - math.log(hi - lo)
        return np.where((x >= self.low) & (x <= self.high), dens, -np.inf)


@dataclass(frozen=True)
class LogGamma(Marginal):
    """The log ``u = log x`` of ``x ~ Gamma(shape, rate)``: density
    ``rate^shape / Gamma(shape) * exp(shape u - rate e^u)``. Sampled as
    ``log G(shape + 1) + log(U) / shape`` so tiny shapes never underflow to ``log 0``."""

    shape: float
    rate: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        g = rng.gamma(self.shape + 1.0, 1.0, n)
        return np.log(g) + np.log(rng.random(n)) / self.shape - math.log(self.rate)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        u = np.asarray(x, dtype=float)
        with np.errstate(over="ignore"):
            return (self.shape * math.log(self.rate) - math.lgamma(self.shape)
                    + self.shape * u - self.rate * np.exp(u))


@dataclass(frozen=True)
class GridDensity:
    """Column-wise 1-D densities known (up to constants) at the nodes of a uniform grid,
    made piecewise log-linear between them: sampled exactly by inversion and evaluated
    anywhere, so an independence Metropolis-Hastings step proposing from it is accepted
    nearly always (conjugate moves use it for 1-D conditionals without closed forms).

    Attributes:
        lo, width: the first node and the node spacing.
        log_node: ``(G + 1, k)`` log densities at the nodes (normalised).
        slope: ``(G, k)`` log-density change across each cell.
        cdf: ``(G + 1, k)`` the distribution function at the nodes.

    Example:
        >>> nodes = np.linspace(-8.0, 8.0, 801)[:, None]
        >>> q = GridDensity.fit(-8.0, 0.02, -0.5 * nodes**2)
        >>> z = q.sample(np.random.default_rng(0), 40000)
        >>> bool(abs(z.mean()) < 0.02 and abs(z.std() - 1.0) < 0.01)
        True
        >>> round(float(q.logpdf(np.array([[0.0]]))[0, 0]), 4)  # log N(0; 0, 1)
        -0.9189
    """

    lo: float
    width: float
    log_node: np.ndarray
    slope: np.ndarray
    cdf: np.ndarray

    @classmethod
    def fit(cls, lo: float, width: float, log_dens: np.ndarray) -> GridDensity:
        """From log densities ``(G + 1, k)`` at nodes ``lo + width * arange(G + 1)``."""
        top = np.max(log_dens, axis=0)
        log_dens = np.maximum(np.where(np.isnan(log_dens), -np.inf, log_dens), top - 700.0)
        slope = np.diff(log_dens, axis=0)
        log_mass = log_dens[:-1] + _log_expm1_ratio(slope) + math.log(width)
        total = special.logsumexp(log_mass, axis=0)
        cdf = np.cumsum(np.exp(log_mass - total), axis=0)
        cdf = np.concatenate([np.zeros((1, cdf.shape[1])), cdf / cdf[-1]])
        return cls(lo, width, log_dens - total, slope, cdf)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws of each column ``(n, k)``."""
        k = self.cdf.shape[1]
        cells = np.stack([np.searchsorted(self.cdf[1:-1, j], rng.random(n), side="right")
                          for j in range(k)], axis=1)
        d = self.slope[cells, np.arange(k)]
        u = rng.random((n, k))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            frac = np.where(d > 0, 1.0 + np.log(u + (1.0 - u) * np.exp(-d)) / d,
                            np.log1p(u * np.expm1(d)) / d)
        frac = np.clip(np.where(np.abs(d) < 1e-9, u, frac), 0.0, 1.0)
        return self.lo + self.width * (cells + frac)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """Normalised log density at ``x (n, k)``; ``-inf`` off the grid."""
        pos = (np.asarray(x, dtype=float) - self.lo) / self.width
        cells = np.floor(pos).astype(int)
        inside = (cells >= 0) & (cells < len(self.slope))
        cells = np.clip(cells, 0, len(self.slope) - 1)
        cols = np.arange(pos.shape[1])
        out = self.log_node[cells, cols] + self.slope[cells, cols] * (pos - cells)
        return np.where(inside, out, -np.inf)


def _log_expm1_ratio(d: np.ndarray) -> np.ndarray:
    """``log((e^d - 1) / d)`` without overflow (``0`` at ``d = 0``)."""
    a = np.abs(d)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.maximum(d, 0.0) + np.log(-np.expm1(-a)) - np.log(a)
    return np.where(a < 1e-12, 0.5 * d, out)


# ----- likelihood kernels --------------------------------------------------------------
def normal_logpdf(y: np.ndarray, mean: np.ndarray, sd: np.ndarray | float) -> np.ndarray:
    """Elementwise ``log N(y; mean, sd^2)`` with broadcasting."""
    z = (y - mean) / sd
    return -0.5 * z * z - np.log(sd) - LOG_SQRT_2PI


def diag_normal_loglik(y: np.ndarray, mean: np.ndarray, sd: np.ndarray | float) -> np.ndarray:
    """``sum_j log N(y_j; mean_j, sd_j^2)`` over the last axis, broadcasting leading dims.

    The nested Monte Carlo pattern ``y (N, 1, k)`` against ``mean (1, M, k)`` is one
    matrix product: ``[y^2, y, 1] @ [-w/2, m w, c]^T`` with ``w = 1 / sd^2`` and
    ``c = -sum(m^2 w)/2 - sum(log sd) - k log sqrt(2 pi)`` per column, so the
    ``(N, M, k)`` array is never built and the ``(N, M)`` result is allocated once.

    Example:
        >>> y, m = np.zeros((2, 1, 3)), np.ones((1, 4, 3))
        >>> np.allclose(diag_normal_loglik(y, m, 1.0), 3 * (-0.5 - LOG_SQRT_2PI))
        True
    """
    y = np.asarray(y, dtype=float)
    mean = np.asarray(mean, dtype=float)
    sd_arr = np.asarray(sd, dtype=float)
    k = max(y.shape[-1], mean.shape[-1])
    if (y.ndim == 3 and mean.ndim == 3 and y.shape[1] == 1 and mean.shape[0] == 1
            and (sd_arr.ndim < 3 or sd_arr.shape[0] == 1)):
        m2 = np.broadcast_to(mean[0], (mean.shape[1], k))
        s2 = np.broadcast_to(sd_arr[0] if sd_arr.ndim == 3 else sd_arr, m2.shape)
        w = 1.0 / (s2 * s2)
        const = (-0.5 * np.sum(m2 * m2 * w, axis=-1) - np.sum(np.log(s2), axis=-1)
                 - k * LOG_SQRT_2PI)
        y2 = np.broadcast_to(y[:, 0], (y.shape[0], k))
        left = np.concatenate([y2 * y2, y2, np.ones((len(y2), 1))], axis=1)
        right = np.concatenate([-0.5 * w, m2 * w, const[:, None]], axis=1)
        return left @ right.T
    log_sd = np.broadcast_to(np.log(sd_arr), np.broadcast_shapes(mean.shape, sd_arr.shape))
    z = (y - mean) / sd_arr
    return -0.5 * np.sum(z * z, axis=-1) - np.sum(log_sd, axis=-1) - k * LOG_SQRT_2PI


def log_sigmoid(z: np.ndarray) -> np.ndarray:
    """``log(1 / (1 + exp(-z)))`` without overflow."""
    return -np.logaddexp(0.0, -np.asarray(z, dtype=float))


def two_class_loglik(y: np.ndarray, first: float, log_p_first: np.ndarray,
                     second: float, log_p_second: np.ndarray) -> np.ndarray:
    """``log p(y)`` for an outcome taking the value ``first`` or ``second`` (``-inf``
    for any other value), broadcasting ``y`` against the log probabilities."""
    y = np.asarray(y, dtype=float)
    is_first = y == first
    out = np.where(is_first, log_p_first, log_p_second)
    valid = is_first | (y == second)
    return out if valid.all() else np.where(valid, out, -np.inf)


def weighted_mode(labels: np.ndarray, weights: np.ndarray) -> int:
    """The label with the largest total weight (labels are small non-negative ints)."""
    return int(np.argmax(np.bincount(np.asarray(labels, dtype=int), weights=weights)))


def normalised(weights: np.ndarray) -> np.ndarray:
    """Weights rescaled to sum to one."""
    w = np.asarray(weights, dtype=float)
    return w / w.sum()


# ----- the shared base -----------------------------------------------------------------
class BoxingModel(Model):
    """A :class:`Model` whose prior is a product of :attr:`priors`, with the shared goal
    conventions of the module doc. Subclasses add ``mean_outcome`` (squared-error outcome
    goals) and ``parameter_answer`` (parameter goals)."""

    priors: ClassVar[tuple[Marginal, ...]]

    def sample_prior(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.stack([p.sample(rng, n) for p in self.priors], axis=-1)

    def log_prior(self, theta: np.ndarray) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        total = np.zeros(theta.shape[:-1])
        for i, p in enumerate(self.priors):
            total = total + p.logpdf(theta[..., i])
        return total

    def goal(self, name: str) -> Goal:
        """The goal called ``name`` (:class:`ConfigError` listing the names otherwise)."""
        for g in self.goals:
            if g.name == name:
                return g
        raise ConfigError(f"{self.key} has no goal {name!r}; goals: "
                          f"{[g.name for g in self.goals]}")

    def mean_outcome(self, theta: np.ndarray, design: np.ndarray) -> np.ndarray:
        """``E[y | theta, design]`` ``(..., *outcome_shape)``; default: a sum over the
        support of a scalar outcome."""
        support = self.outcome_support(design)
        if support is None or support.ndim != 1:
            raise NotImplementedError(f"{type(self).__name__}.mean_outcome")
        theta = np.asarray(theta, dtype=float)
        ys = support.reshape(support.shape + (1,) * (theta.ndim - 1))
        probs = np.exp(self.log_lik(ys, theta[None], design))
        return np.tensordot(support, probs, axes=(0, 0))

    def parameter_answer(self, goal: Goal, theta: np.ndarray) -> np.ndarray:
        """The true answer ``(..., len(goal.answer_names))`` of a parameter goal."""
        raise NotImplementedError(f"{type(self).__name__}.parameter_answer({goal.name})")

    def eval_queries(self, goal: Goal, rng: np.random.Generator, n: int) -> np.ndarray:
        """Random designs; a parameter goal has a single dummy query."""
        return self.sample_designs(rng, 1 if goal.kind == "parameter" else n)

    def true_answer(self, goal: Goal, theta: np.ndarray, queries: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
        if goal.kind == "parameter":
            row = self.parameter_answer(goal, np.asarray(theta, dtype=float))
            return np.repeat(row[None], len(queries), axis=0)
        return super().true_answer(goal, theta, queries, rng)

    def predict(self, goal: Goal, particles: np.ndarray, weights: np.ndarray,
                queries: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        w = normalised(weights)
        particles = np.asarray(particles, dtype=float)
        if goal.kind == "parameter":
            values = self.parameter_answer(goal, particles)
            if goal.error == "squared":
                row = w @ values
            elif goal.error == "misclassification":
                row = np.array([weighted_mode(values[:, j], w)
                                for j in range(values.shape[1])], dtype=float)
            else:
                raise NotImplementedError(f"{type(self).__name__}.predict({goal.name})")
            return np.repeat(row[None], len(queries), axis=0)
        return np.stack([self._predict_outcome(goal, particles, w, q) for q in queries])

    def _predict_outcome(self, goal: Goal, particles: np.ndarray, w: np.ndarray,
                         query: np.ndarray) -> np.ndarray:
        if goal.error == "squared":
            return np.tensordot(w, self.mean_outcome(particles, query), axes=(0, 0))
        support = self.outcome_support(query)
        if goal.error == "misclassification" and support is not None:
            probs = np.exp(self.log_lik(support[:, None], particles[None], query)) @ w
            return np.asarray(support[int(np.argmax(probs))], dtype=float)
        raise NotImplementedError(f"{type(self).__name__}.predict({goal.name})")

    def question(self, goal: Goal, query: np.ndarray) -> str:
        """The question of ``goal`` at ``query`` with the query's values spelled out."""
        if goal.kind == "parameter":
            return goal.description
        parts = [f"{f.name}={format_value(v, f.integer)}"
                 for f, v in zip(self.design_space.fields, np.asarray(query, dtype=float))]
        return f"{goal.description} Query: {', '.join(parts)}."


def format_value(value: float, integer: bool = False) -> str:
    """A design or outcome value as short text (``3``, ``0.125``).

    Example:
        >>> format_value(3.0, True), format_value(0.1234567)
        ('3', '0.1235')
    """
    return str(int(round(value))) if integer else f"{value:.4g}"
