"""The emotion world's prior and its conjugate posterior pieces.

Given the noise scales, the eight ratings are linear-Gaussian in the 32 coefficients
(blocks intercept, win, PE, |PE| of 8 emotions each) with independent Gaussian priors,
and the emotions are independent. So a (tempered) history reduces to the sufficient
statistics of :class:`Regression`; each noise scale has a 1-D posterior with the
coefficients integrated out (:func:`noise_log_posterior`, moved by :func:`noise_step`),
and the coefficients given the scales are Gaussian (:func:`coefficient_posterior`).
This module's name starts with ``_`` so the world discovery skips it.

Example:
    >>> feats = np.array([[1.0, 30.0, 7.0, 7.0], [1.0, 0.0, -5.0, 5.0]])
    >>> reg = regression(feats, np.ones((2, 8)), np.array([1.0, 0.5]))
    >>> reg.total_power, reg.sse.shape, bool(np.all(reg.eigvals >= 0.0))
    (1.5, (8,), True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from agora.envs.design.worlds._priors import GridDensity

BLOCKS = {
    "intercept": ((4.5, 3.5, 1.7, 3.3, 1.4, 1.8, 3.7, 2.0), 0.1),
    "win": ((0.04, -0.025, -0.005, 0.02, 0.0, -0.005, 0.03, -0.03), 0.01),
    "pe": ((0.035, -0.02, -0.025, 0.01, 0.0, -0.02, 0.02, -0.045), 0.01),
    "abs_pe": ((-0.015, 0.025, 0.025, 0.035, 0.005, 0.02, -0.01, 0.02), 0.01),
}
"""Prior means (one per emotion) and standard deviation of each coefficient block."""
PRIOR_MEANS = np.array([means for means, _ in BLOCKS.values()])
"""``(4, 8)`` prior means of the coefficient blocks (intercept, win, PE, |PE|)."""
PRIOR_SDS = np.array([sd for _, sd in BLOCKS.values()])
"""``(4,)`` prior standard deviations of the coefficient blocks."""
NOISE_PRIOR_SD = 1.0
"""The noise scales' prior is ``HalfNormal(NOISE_PRIOR_SD)``."""
NOISE_RANGE = (1e-4, 30.0)
"""Noise scales covered by the proposal of :func:`noise_step` (the prior mass outside is
below 1e-4)."""
GRID_CELLS = 1024
"""Cells (uniform in ``log s``) of the grid on which that proposal is fitted."""


@dataclass(frozen=True)
class Regression:
    """Sufficient statistics of a (tempered) history for the conjugate update, in the
    standardised coefficients ``z = (beta - prior mean) / prior sd`` and the eigenbasis of
    their weighted Gram matrix ``X~' W X~ = basis diag(eigvals) basis'``.

    Attributes:
        eigvals: ``(4,)``; basis: ``(4, 4)`` (columns).
        proj: ``(4, 8)`` ``basis' X~' W r`` per emotion, ``r`` the residual at the prior
            mean.
        sse: ``(8,)`` ``sum_i w_i r_i^2``; total_power: ``sum_i w_i``.
    """

    eigvals: np.ndarray
    basis: np.ndarray
    proj: np.ndarray
    sse: np.ndarray
    total_power: float


def regression(features: np.ndarray, outcomes: np.ndarray,
               powers: np.ndarray | None = None) -> Regression:
    """The sufficient statistics of a history with regressors ``features (t, 4)`` and
    ratings ``outcomes (t, 8)``, each observation's likelihood raised to ``powers``
    (default 1, tempering < 1)."""
    x = features * PRIOR_SDS  # regressors of the standardised blocks
    resid = np.asarray(outcomes, dtype=float).reshape(len(x), -1) - x @ (
        PRIOR_MEANS / PRIOR_SDS[:, None])
    w = np.ones(len(x)) if powers is None else np.asarray(powers, dtype=float)
    lam, basis = np.linalg.eigh((x * w[:, None]).T @ x)
    proj = basis.T @ (x * w[:, None]).T @ resid
    return Regression(np.maximum(lam, 0.0), basis, proj, w @ (resid * resid),
                      float(w.sum()))


def noise_log_posterior(sd: np.ndarray, reg: Regression) -> np.ndarray:
    """``log p(s_e | history)`` ``(..., 8)`` up to a constant, the coefficients
    integrated out (Gaussian prior times Gaussian likelihood), ``s`` positive."""
    v = np.asarray(sd, dtype=float) ** 2
    out = (-0.5 * v / NOISE_PRIOR_SD**2 - 0.5 * reg.total_power * np.log(v)
           - 0.5 * reg.sse / v)
    for lam, c in zip(reg.eigvals, reg.proj):
        out += 0.5 * c * c / (v * (v + lam)) - 0.5 * np.log1p(lam / v)
    return out


def coefficient_posterior(sd: np.ndarray, reg: Regression) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(n, 4, 8)`` and covariance ``(n, 8, 4, 4)`` of the coefficient blocks
    given noise scales ``sd (n, 8)``: the conjugate Gaussian update."""
    v = np.asarray(sd, dtype=float)[:, None, :] ** 2  # (n, 1, 8)
    gain = 1.0 / (v + reg.eigvals[None, :, None])  # (n, 4, 8), eigenbasis
    mean_z = np.einsum("jk,nke->nje", reg.basis, gain * reg.proj)
    cov_z = np.einsum("jk,nke,lk->nejl", reg.basis, gain * v, reg.basis)
    sds = PRIOR_SDS[:, None]
    return PRIOR_MEANS + sds * mean_z, cov_z * np.outer(PRIOR_SDS, PRIOR_SDS)


def draw_coefficients(log_s: np.ndarray, reg: Regression, rng: np.random.Generator
                      ) -> np.ndarray:
    """Thetas ``(n, 40)``: the 32 coefficients drawn exactly given the log noise scales
    ``log_s (n, 8)``, then the scales themselves."""
    v = np.exp(2.0 * log_s)[None]  # (1, n, 8)
    gain = 1.0 / (v + reg.eigvals[:, None, None])  # (4, n, 8) in the eigenbasis
    z = gain * reg.proj[:, None] + np.sqrt(gain * v) * rng.standard_normal(gain.shape)
    z = (reg.basis @ z.reshape(4, -1)).reshape(z.shape)
    blocks = PRIOR_MEANS[:, None] + PRIOR_SDS[:, None, None] * z
    return np.concatenate([blocks.transpose(1, 0, 2).reshape(len(log_s), 32),
                           np.exp(log_s)], axis=1)


def noise_step(log_s: np.ndarray, reg: Regression, rng: np.random.Generator) -> np.ndarray:
    """One independence Metropolis-Hastings step on every log noise scale ``(n, 8)``
    targeting :func:`noise_log_posterior`, proposing from that density made piecewise
    log-linear on a fine grid of ``log s`` over :data:`NOISE_RANGE`
    (:class:`GridDensity`): nearly every step is accepted, and the new values are
    independent draws whatever the old ones were."""
    lo, hi = (math.log(b) for b in NOISE_RANGE)
    width = (hi - lo) / GRID_CELLS
    nodes = lo + width * np.arange(GRID_CELLS + 1.0)[:, None]
    q = GridDensity.fit(lo, width, _log_noise_target(nodes, reg))
    prop = q.sample(rng, len(log_s))
    log_ratio = (_log_noise_target(prop, reg) - _log_noise_target(log_s, reg)
                 + q.logpdf(log_s) - q.logpdf(prop))
    with np.errstate(invalid="ignore"):
        accept = np.log(rng.random(log_s.shape)) < log_ratio
    return np.where(accept, prop, log_s)


def _log_noise_target(log_s: np.ndarray, reg: Regression) -> np.ndarray:
    """:func:`noise_log_posterior` as a density of ``log s`` (with the Jacobian)."""
    return noise_log_posterior(np.exp(log_s), reg) + log_s
