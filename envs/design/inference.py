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
   likelihood of the whole history for every proposal is the cost of a step. The moves
   and the target densities live in :mod:`agora.envs.design.moves`.

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
from scipy.special import logsumexp

from agora.envs.design.model import Model
from agora.envs.design.moves import (
    MIN_INDEPENDENT_RATE,
    RENEWED,
    T_DOF,
    Mover,
    finite_or_ninf,
    history_log_lik,
    log_joint,
    tempered,
    weighted_cov,
)
from agora.envs.errors import ConfigError

__all__ = ["MIN_INDEPENDENT_RATE", "RENEWED", "T_DOF", "Posterior", "ess_of", "fit",
           "history_log_lik", "log_joint", "normalise", "prior_posterior",
           "systematic_resample", "update", "weighted_cov"]


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
                     finite_or_ninf(model.log_prior(particles)))


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
    new = finite_or_ninf(model.log_lik(yy, theta, x))
    moves = Mover(model, post.designs, post.outcomes, x, yy, n_moves)
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
                     np.concatenate([post.outcomes, yy[None]]), tempered(base, new, 1.0))


def fit(model: Model, designs: np.ndarray, outcomes: np.ndarray,
        rng: np.random.Generator, n: int = 4096) -> Posterior:
    """The posterior after a whole history, one :func:`update` per observation."""
    post = prior_posterior(model, rng, n)
    for x, y in zip(np.asarray(designs, dtype=float), np.asarray(outcomes, dtype=float)):
        post = update(model, post, x, y, rng)
    return post


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
