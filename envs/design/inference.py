"""Particle posterior over a model's parameters: tempered importance sampling with
resample-move (a sequential Monte Carlo sampler).

The posterior after a history of ``(design, outcome)`` pairs is a set of weighted
particles. :func:`update` folds in one new observation:

1. the new log-likelihood is brought in by tempering, ``l_new * phi`` with ``phi`` rising
   from 0 to 1 in steps chosen (by bisection) so the effective sample size never drops
   below ``ess_frac * n`` in one step; an uninformative observation takes one step and is
   plain importance reweighting;
2. whenever the ESS falls below ``ess_frac * n`` the particles are resampled
   (systematic) and moved by Markov steps that target
   ``log_prior + sum of the history's log-likelihoods + phi * l_new``;
3. the moves: first independence Metropolis-Hastings steps proposing from a Student-t fit
   (mean and covariance) of the weighted particles, repeated until 90% of the particles
   have been replaced (one or two steps when the posterior is near Gaussian, and each
   accepted step is a fresh draw, not a local jitter); if that proposal is accepted less
   than 20% of the time (multimodal or curved posteriors), random-walk steps with the
   particles' covariance, their scale adapted to the acceptance rate, and *delayed
   acceptance* (Christen & Fox 2005): a proposal is first screened by the Gaussian with
   the particles' moments, and only those that pass pay for their likelihood; a second
   test corrects for the screen, so the target is exact. ``n_moves`` steps at most. The
   likelihood of the whole history for every proposal is the cost of a step.

A model may define two optional hooks:

* ``log_lik_history(outcomes, theta, designs)``: the summed log-likelihood of a whole
  history at once (e.g. one ODE solve to the latest time);
* ``conjugate_move(theta, designs, outcomes, powers, rng)``: moved particles under a
  Markov kernel that leaves ``prior x prod_i p(y_i | theta, x_i)^powers_i`` invariant
  *and forgets its starting point* (exact conditional draws: the conditionally
  linear-Gaussian coefficients of the emotion world, say). Such a model is moved by one
  call instead of Metropolis steps, and is not tempered: the new likelihood is weighed
  in at once, then the particles are resampled and moved if the ESS is low.

Prior densities of ``-inf`` (truncated priors) are respected: such proposals are
rejected, and a NaN target counts as ``-inf``. Everything is vectorised over particles;
randomness comes only from the ``rng`` passed in.

Example:
    >>> from agora.envs.design.worlds.coin import Coins
    >>> m = Coins({"flips": 10})
    >>> rng = np.random.default_rng(0)
    >>> post = prior_posterior(m, rng, n=2000)
    >>> post = update(m, post, np.array([1.0]), np.array(8.0), rng)
    >>> abs(float(post.mean()[1]) - 9 / 12) < 0.02  # Beta(9, 3) has mean 0.75
    True
    >>> bool(np.isclose(np.exp(post.log_weights).sum(), 1.0))
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import solve_triangular
from scipy.special import logsumexp

from agora.envs.design.model import Model
from agora.envs.errors import ConfigError

T_DOF = 10.0
"""Degrees of freedom of the Student-t independence proposal (tails heavier than the fit)."""
RENEWED = 0.9
"""Independence steps stop once this fraction of the particles has been replaced."""
MIN_INDEPENDENT_RATE = 0.2
"""Below this acceptance rate the moves switch to random-walk steps."""


@dataclass(frozen=True)
class Posterior:
    """Weighted particles approximating ``p(theta | history)``.

    Attributes:
        particles: ``(n, P)`` parameter values (the model's declared parameterisation).
        log_weights: ``(n,)`` normalised log weights (``logsumexp == 0``).
        designs: ``(t, D)`` the history's designs, in order.
        outcomes: ``(t, *outcome_shape)`` the history's outcomes.
        log_joint: ``(n,)`` cached ``log_prior + history log-likelihood`` per particle
            (``None``: unknown, recomputed when needed); :func:`update` keeps it.
    """

    particles: np.ndarray
    log_weights: np.ndarray
    designs: np.ndarray
    outcomes: np.ndarray
    log_joint: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def n(self) -> int:
        """Number of particles."""
        return int(self.particles.shape[0])

    @property
    def weights(self) -> np.ndarray:
        """Normalised weights ``(n,)``."""
        return np.exp(self.log_weights)

    @property
    def ess(self) -> float:
        """Effective sample size ``1 / sum w^2``, in ``[1, n]``."""
        return ess_of(self.log_weights)

    def sample(self, rng: np.random.Generator, m: int) -> np.ndarray:
        """``m`` independent draws ``(m, P)`` from the weighted particles."""
        cdf = np.cumsum(self.weights)
        idx = np.searchsorted(cdf, rng.random(m) * cdf[-1], side="right")
        return self.particles[np.minimum(idx, self.n - 1)]

    def mean(self) -> np.ndarray:
        """Posterior mean ``(P,)``."""
        return self.weights @ self.particles

    def cov(self) -> np.ndarray:
        """Posterior covariance ``(P, P)``."""
        return weighted_cov(self.particles, self.weights)


# ----- small numeric helpers ----------------------------------------------------------
def ess_of(log_weights: np.ndarray) -> float:
    """ESS of unnormalised log weights (1 when all but one vanish, 0 when all do)."""
    top = np.max(log_weights)
    if not np.isfinite(top):
        return 0.0
    lw = log_weights - top
    w = np.exp(lw)
    return float(w.sum() ** 2 / np.sum(w * w))


def normalise(log_weights: np.ndarray) -> np.ndarray:
    """Log weights shifted so they sum to one; uniform when none is finite."""
    total = logsumexp(log_weights)
    if not np.isfinite(total):
        return np.full(log_weights.shape, -np.log(log_weights.size))
    return log_weights - total


def weighted_cov(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted covariance ``(P, P)`` of rows ``x (n, P)`` with weights summing to one."""
    d = x - w @ x
    return (d * w[:, None]).T @ d


def systematic_resample(log_weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices ``(n,)`` of a systematic resample (one uniform, ``n`` even strata).

    Example:
        >>> systematic_resample(np.log([0.5, 0.25, 0.25]), np.random.default_rng(1))
        array([0, 1, 2])
    """
    n = log_weights.size
    cdf = np.cumsum(np.exp(log_weights - logsumexp(log_weights)))
    idx = np.searchsorted(cdf, (rng.random() + np.arange(n)) / n * cdf[-1], side="right")
    return np.minimum(idx, n - 1)


# ----- the sampler ------------------------------------------------------------------------
def prior_posterior(model: Model, rng: np.random.Generator, n: int = 4096) -> Posterior:
    """``n`` equally weighted prior draws and an empty history."""
    if n < 2:
        raise ConfigError(f"a particle posterior needs n >= 2 particles, got {n}")
    particles = np.asarray(model.sample_prior(rng, n), dtype=float).reshape(n, -1)
    d = len(model.design_space.names)
    return Posterior(particles, np.full(n, -np.log(n)), np.zeros((0, d)),
                     np.zeros((0, *model.outcome_shape)),
                     _finite_or_ninf(model.log_prior(particles)))


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
    prior = _finite_or_ninf(model.log_prior(theta))
    ok = np.isfinite(prior)
    out = np.full(theta.shape[0], -np.inf)
    if ok.any():
        inside = theta if ok.all() else theta[ok]
        out[ok] = prior[ok] + history_log_lik(model, inside, designs, outcomes)
    return _finite_or_ninf(out)


def update(model: Model, post: Posterior, design: np.ndarray, y: np.ndarray,
           rng: np.random.Generator, *, ess_frac: float = 0.5, n_moves: int = 4,
           max_stages: int = 200) -> Posterior:
    """The posterior after one more observation ``y`` at ``design``.

    Args:
        model: the world's model.
        post: the current posterior (its history excludes this observation).
        design: ``(D,)``; y: ``(*outcome_shape)``.
        rng: the only source of randomness.
        ess_frac: resample (and move) when the ESS falls below ``ess_frac * n``.
        n_moves: at most this many Metropolis-Hastings steps after each resample
            (fewer once independence steps have renewed the particles; a model with a
            ``conjugate_move`` takes one such move instead).
        max_stages: cap on tempering stages (the last one jumps to ``phi = 1``; 1 for a
            model with a ``conjugate_move``).
    """
    x = np.asarray(design, dtype=float).reshape(-1)
    yy = np.asarray(y, dtype=float).reshape(model.outcome_shape)
    theta, lw = post.particles, post.log_weights
    base = post.log_joint
    if base is None or base.shape != lw.shape:
        base = log_joint(model, theta, post.designs, post.outcomes)
    new = _finite_or_ninf(model.log_lik(yy, theta, x))
    moves = _Mover(model, post.designs, post.outcomes, x, yy, n_moves)
    target_n = ess_frac * post.n
    if getattr(model, "conjugate_move", None) is not None:
        max_stages = 1  # its move forgets where it starts: no need to temper
    phi = 0.0
    for stage in range(max_stages):
        delta = 1.0 - phi
        hopeless = not np.isfinite(new).any()  # jump; the moves find the support
        partial = (stage < max_stages - 1 and not hopeless
                   and ess_of(lw + delta * new) < target_n)
        if partial:
            delta = _step_to_ess(lw, new, delta, target_n)
        lw = normalise(lw + delta * new)
        phi = phi + delta if partial else 1.0
        if partial or hopeless or ess_of(lw) < target_n:
            idx = systematic_resample(lw, rng)
            theta, base, new = moves.run(theta, np.exp(lw), idx, base[idx], new[idx], phi,
                                         rng)
            lw = np.full(post.n, -np.log(post.n))
        if phi >= 1.0:
            break
    return Posterior(theta, lw, np.concatenate([post.designs, x[None]]),
                     np.concatenate([post.outcomes, yy[None]]), _tempered(base, new, 1.0))


def fit(model: Model, designs: np.ndarray, outcomes: np.ndarray,
        rng: np.random.Generator, n: int = 4096) -> Posterior:
    """The posterior after a whole history, one :func:`update` per observation."""
    post = prior_posterior(model, rng, n)
    for x, y in zip(np.asarray(designs, dtype=float), np.asarray(outcomes, dtype=float)):
        post = update(model, post, x, y, rng)
    return post


def _finite_or_ninf(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return np.where(np.isnan(v), -np.inf, v)


def _step_to_ess(lw: np.ndarray, ll: np.ndarray, hi: float, target: float) -> float:
    """The largest tempering increment in ``(0, hi]`` keeping ESS >= ``target``."""
    lo = 0.0
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        if ess_of(lw + mid * ll) >= target:
            lo = mid
        else:
            hi = mid
    return max(lo, 1e-12)


@dataclass(frozen=True)
class _Mover:
    """Markov moves targeting ``log_joint(old history) + phi * l_new`` (module doc, 3)."""

    model: Model
    designs: np.ndarray
    outcomes: np.ndarray
    x: np.ndarray
    y: np.ndarray
    n_moves: int

    def parts(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        base = log_joint(self.model, theta, self.designs, self.outcomes)
        new = np.full(theta.shape[0], -np.inf)
        ok = np.isfinite(base)
        if ok.any():
            new[ok] = self.model.log_lik(self.y, theta if ok.all() else theta[ok], self.x)
        return base, _finite_or_ninf(new)

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
        return self._metropolis(weighted[idx], base, new, phi, _Fit.of(weighted, w), rng)

    def _metropolis(self, theta: np.ndarray, base: np.ndarray, new: np.ndarray, phi: float,
                    fit: _Fit, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Independence steps until they have renewed the particles; if they are rarely
        accepted, random-walk steps with delayed acceptance instead."""
        n = len(theta)
        scale = 2.38 / np.sqrt(theta.shape[1])
        cur = _tempered(base, new, phi)
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
                lp = _tempered(pb, pn, phi)
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
class _Fit:
    """The mean and covariance (Cholesky factor) of weighted particles: a Student-t
    (:data:`T_DOF` degrees of freedom) independence proposal and a Gaussian screen."""

    mean: np.ndarray
    chol: np.ndarray

    @classmethod
    def of(cls, particles: np.ndarray, w: np.ndarray) -> _Fit:
        return cls(w @ particles, _safe_cholesky(weighted_cov(particles, w)))

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


def _tempered(base: np.ndarray, new: np.ndarray, phi: float) -> np.ndarray:
    """``base + phi * new`` with ``0 * -inf`` read as ``-inf`` only where ``base`` is."""
    with np.errstate(invalid="ignore"):
        out = base + phi * new
    return np.where(np.isnan(out), -np.inf, out)


def _safe_cholesky(cov: np.ndarray) -> np.ndarray:
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
