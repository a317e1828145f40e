"""Shared pieces of the BoxingGym worlds: likelihood kernels, prediction rules, and (from
:mod:`._priors`, re-exported here) the 1-D priors.

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

from typing import ClassVar

import numpy as np

from agora.envs.design.model import Goal, Model
from agora.envs.design.worlds._priors import (
    LOG_SQRT_2PI,
    GridDensity,
    HalfNormal,
    LogGamma,
    Marginal,
    Normal,
    TruncNormal,
)
from agora.envs.errors import ConfigError

__all__ = ["LOG_SQRT_2PI", "BoxingModel", "GridDensity", "HalfNormal", "LogGamma",
           "Marginal", "Normal", "TruncNormal", "diag_normal_loglik", "format_value",
           "log_sigmoid", "normal_logpdf", "normalised", "two_class_loglik",
           "weighted_mode"]

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
