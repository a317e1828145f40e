"""The 1-D prior marginals of the BoxingGym worlds and :class:`GridDensity`, a 1-D
density made piecewise log-linear on a grid (a proposal for conjugate moves).

Every marginal is a vectorised sampler with its exact log density (``-inf`` off the
support). This module's name starts with ``_`` so the world discovery skips it.

Example:
    >>> x = TruncNormal(0.0, 1.0, 0.0).sample(np.random.default_rng(0), 1000)
    >>> bool(x.min() >= 0.0)
    True
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
from scipy import special

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
