"""Markov moves of the particle posterior (:mod:`agora.envs.design.inference`) and the
target densities they are built on.

After a resample, :class:`Mover` moves the particles by steps that leave
``log_joint(history) + phi * l_new`` invariant: independence Metropolis-Hastings steps
proposing from a Student-t fit of the weighted particles (:class:`ProposalFit`), or,
when those are rarely accepted, random-walk steps with delayed acceptance screened by
the fit's Gaussian; a model with a ``conjugate_move`` hook is moved by one call to it.
Randomness comes only from the ``rng`` passed in.

Example:
    >>> tempered(np.array([0.0, -np.inf]), np.array([-1.0, 1.0]), 0.5).tolist()
    [-0.5, -inf]
    >>> fit = ProposalFit.of(np.array([[0.0], [2.0]]), np.array([0.5, 0.5]))
    >>> fit.mean.tolist(), bool(np.isclose(fit.chol[0, 0], 1.0, atol=1e-5))
    ([1.0], True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular

from agora.envs.design.model import Model

T_DOF = 10.0
"""Degrees of freedom of the Student-t independence proposal (tails heavier than the fit)."""
RENEWED = 0.9
"""Independence steps stop once this fraction of the particles has been replaced."""
MIN_INDEPENDENT_RATE = 0.2
"""Below this acceptance rate the moves switch to random-walk steps."""


# ----- target densities -----------------------------------------------------------------
def finite_or_ninf(values: np.ndarray) -> np.ndarray:
    """``values`` as floats with NaN read as ``-inf``."""
    v = np.asarray(values, dtype=float)
    return np.where(np.isnan(v), -np.inf, v)


def weighted_cov(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted covariance ``(P, P)`` of rows ``x (n, P)`` with weights summing to one."""
    d = x - w @ x
    return (d * w[:, None]).T @ d


def history_log_lik(model: Model, theta: np.ndarray, designs: np.ndarray,
                    outcomes: np.ndarray) -> np.ndarray:
    """``sum_i log p(y_i | theta, x_i)`` over a history, ``(n,)``.

    A model whose likelihood is cheaper for a whole history at once (one ODE solve up
    to the latest time) may define ``log_lik_history(outcomes, theta, designs)``; it is
    used when present.
    """
    batched = getattr(model, "log_lik_history", None)
    if batched is not None and len(designs):
        return np.asarray(batched(outcomes, theta, designs), dtype=float)
    total = np.zeros(theta.shape[0])
    for x, y in zip(designs, outcomes):
        total += model.log_lik(y, theta, x)
    return total


def log_joint(model: Model, theta: np.ndarray, designs: np.ndarray,
              outcomes: np.ndarray) -> np.ndarray:
    """``log_prior + history_log_lik`` per particle, ``-inf`` (never NaN) off the support;
    the likelihood is only evaluated inside it."""
    prior = finite_or_ninf(model.log_prior(theta))
    ok = np.isfinite(prior)
    out = np.full(theta.shape[0], -np.inf)
    if ok.any():
        inside = theta if ok.all() else theta[ok]
        out[ok] = prior[ok] + history_log_lik(model, inside, designs, outcomes)
    return finite_or_ninf(out)


def tempered(base: np.ndarray, new: np.ndarray, phi: float) -> np.ndarray:
    """``base + phi * new`` with ``0 * -inf`` read as ``-inf`` only where ``base`` is."""
    with np.errstate(invalid="ignore"):
        out = base + phi * new
    return np.where(np.isnan(out), -np.inf, out)


# ----- the moves ------------------------------------------------------------------------
@dataclass(frozen=True)
class Mover:
    """Markov moves targeting ``log_joint(old history) + phi * l_new`` (module doc)."""

    model: Model
    designs: np.ndarray
    outcomes: np.ndarray
    x: np.ndarray
    y: np.ndarray
    n_moves: int

    def parts(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The old history's ``log_joint`` and the new log-likelihood ``(n,)`` each."""
        base = log_joint(self.model, theta, self.designs, self.outcomes)
        new = np.full(theta.shape[0], -np.inf)
        ok = np.isfinite(base)
        if ok.any():
            new[ok] = self.model.log_lik(self.y, theta if ok.all() else theta[ok], self.x)
        return base, finite_or_ninf(new)

    def run(self, weighted: np.ndarray, w: np.ndarray, idx: np.ndarray, base: np.ndarray,
            new: np.ndarray, phi: float, rng: np.random.Generator
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Move the resampled particles ``weighted[idx]`` (their ``base``, ``new``); the
        weighted particles ``weighted, w`` before resampling shape the proposals."""
        conjugate = getattr(self.model, "conjugate_move", None)
        if conjugate is not None:
            designs = np.concatenate([self.designs, self.x[None]])
            outcomes = np.concatenate([self.outcomes, self.y[None]])
            powers = np.append(np.ones(len(self.designs)), phi)
            theta = np.asarray(conjugate(weighted[idx], designs, outcomes, powers, rng),
                               dtype=float)
            return (theta, *self.parts(theta))
        return self._metropolis(weighted[idx], base, new, phi, ProposalFit.of(weighted, w),
                                rng)

    def _metropolis(self, theta: np.ndarray, base: np.ndarray, new: np.ndarray, phi: float,
                    fit: ProposalFit, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Independence steps until they have renewed the particles; if they are rarely
        accepted, random-walk steps with delayed acceptance instead."""
        n = len(theta)
        scale = 2.38 / np.sqrt(theta.shape[1])
        cur = tempered(base, new, phi)
        renewed = np.zeros(n, dtype=bool)
        independent = True
        for _ in range(self.n_moves):
            if independent:
                prop, hastings = fit.independent(theta, rng)
                rows = np.arange(n)
            else:  # the fit screens a proposal before its likelihood is paid for
                prop = theta + scale * rng.standard_normal(theta.shape) @ fit.chol.T
                screen = fit.log_gauss(prop) - fit.log_gauss(theta)
                rows = np.flatnonzero(np.log(rng.random(n)) < screen)
                hastings = -screen
            if len(rows):
                pb, pn = self.parts(prop[rows])
                lp = tempered(pb, pn, phi)
                with np.errstate(invalid="ignore"):
                    ok = np.log(rng.random(len(rows))) < lp - cur[rows] + hastings[rows]
                acc = rows[ok]
                theta[acc], base[acc], new[acc], cur[acc] = prop[acc], pb[ok], pn[ok], lp[ok]
            else:
                acc = rows
            rate = len(acc) / n
            if independent:
                renewed[acc] = True
                if renewed.mean() >= RENEWED:
                    break
                independent = rate >= MIN_INDEPENDENT_RATE
            else:
                scale *= 0.5 if rate < 0.1 else (0.8 if rate < 0.2 else (1.3 if rate > 0.5 else 1))
        return theta, base, new


@dataclass(frozen=True)
class ProposalFit:
    """The mean and covariance (Cholesky factor) of weighted particles: a Student-t
    (:data:`T_DOF` degrees of freedom) independence proposal and a Gaussian screen."""

    mean: np.ndarray
    chol: np.ndarray

    @classmethod
    def of(cls, particles: np.ndarray, w: np.ndarray) -> ProposalFit:
        """The fit of particles ``(n, P)`` with weights ``w`` summing to one."""
        return cls(w @ particles, safe_cholesky(weighted_cov(particles, w)))

    def log_gauss(self, theta: np.ndarray) -> np.ndarray:
        """The log density (up to a constant) of the Gaussian with the fit's moments."""
        z = solve_triangular(self.chol, (theta - self.mean).T, lower=True)
        return -0.5 * np.sum(z * z, axis=0)

    def independent(self, theta: np.ndarray, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Proposals ``(n, P)`` and the Hastings terms ``log q(theta) - log q(prop)``."""
        n, dim = theta.shape
        z = rng.standard_normal((n, dim)) * np.sqrt(T_DOF / rng.chisquare(T_DOF, n))[:, None]
        cur = solve_triangular(self.chol, (theta - self.mean).T, lower=True)
        m_prop, m_cur = np.sum(z * z, axis=1), np.sum(cur * cur, axis=0)
        return (self.mean + z @ self.chol.T,
                0.5 * (T_DOF + dim) * (np.log1p(m_prop / T_DOF) - np.log1p(m_cur / T_DOF)))


def safe_cholesky(cov: np.ndarray) -> np.ndarray:
    """A Cholesky factor of ``cov`` with a small ridge (particles may have collapsed)."""
    dim = cov.shape[0]
    diag = np.diag(cov)
    ridge = 1e-10 + 1e-6 * (diag.max() if np.all(np.isfinite(diag)) else 1.0)
    for _ in range(8):
        try:
            return np.linalg.cholesky(cov + ridge * np.eye(dim))
        except np.linalg.LinAlgError:
            ridge *= 100.0
    return np.sqrt(np.maximum(ridge, 1e-6)) * np.eye(dim)
