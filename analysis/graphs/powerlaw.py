"""Discrete power-law fit of a degree sequence, tested against a discrete exponential.

Following Clauset, Shalizi and Newman, *Power-law distributions in empirical data*, SIAM
Review 51 (2009):

* for each candidate ``x_min`` (a distinct value with at least ``min_tail`` values at or
  above it), ``alpha`` maximises the discrete likelihood
  ``p(x) = x^-alpha / zeta(alpha, x_min)`` (Hurwitz zeta). The log-likelihood is concave
  in ``alpha``, so one vectorised golden-section search solves every candidate at once;
* ``x_min`` is the candidate whose fit has the smallest Kolmogorov-Smirnov distance ``D``
  between the empirical and fitted CDFs of the tail (sec. 3.3);
* the tail is also fitted by a discrete exponential
  ``p(x) = (1 - e^-lam) e^(-lam (x - x_min))`` (closed-form MLE), and the two compared by
  the log-likelihood ratio ``R``: Vuong's normalised ratio ``R / (sigma sqrt(n))`` and its
  two-sided p value (sec. 5, eq. C.6). ``scale_free`` means the power law is significantly
  better: normalised ``R > 0`` and ``p < 0.05``.

Example:
    >>> fit = fit_power_law(np.repeat([1, 2, 4, 8, 16, 32], [3200, 800, 200, 50, 13, 3]))
    >>> fit.xmin, round(fit.alpha, 2), fit.scale_free
    (1, 2.69, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from agora.analysis.graphs.view import GraphLike, simple_view

_GOLDEN = (math.sqrt(5) - 1) / 2


@dataclass(frozen=True)
class PowerLawFit:
    """A discrete power-law fit of a tail, and its comparison with an exponential.

    Attributes:
        alpha: Maximum-likelihood exponent.
        xmin: Lower bound of the tail (minimises the KS distance).
        ks: Kolmogorov-Smirnov distance of the fit on the tail.
        n_tail: Values at or above ``xmin``.
        rate: Rate ``lam`` of the discrete exponential fitted on the same tail.
        llr: Log-likelihood ratio ``R`` (power law minus exponential), summed over the tail.
        vuong: Vuong's normalised ratio ``R / (sigma sqrt(n_tail))``.
        p_value: Two-sided p value of ``vuong`` under the null of equal fit.
    """

    alpha: float
    xmin: int
    ks: float
    n_tail: int
    rate: float
    llr: float
    vuong: float
    p_value: float

    @property
    def scale_free(self) -> bool:
        """The power law beats the exponential significantly (R > 0, p < 0.05)."""
        return bool(self.vuong > 0 and self.p_value < 0.05)


NO_FIT = PowerLawFit(math.nan, 0, math.nan, 0, math.nan, math.nan, math.nan, math.nan)


def degree_distribution(graph: GraphLike) -> tuple[np.ndarray, np.ndarray]:
    """Distinct degrees of the simple undirected view and how many nodes have each.

    Example:
        >>> import networkx as nx
        >>> values, counts = degree_distribution(nx.star_graph(3))
        >>> values.tolist(), counts.tolist()
        ([1, 3], [3, 1])
    """
    return np.unique(simple_view(graph).degrees, return_counts=True)


def fit_power_law(values: np.ndarray, *, min_tail: int = 10, alpha_max: float = 10.0,
                  tol: float = 1e-6) -> PowerLawFit:
    """Fit a discrete power law to the positive integers in ``values``.

    Args:
        values: Observations (degrees); values below 1 are ignored.
        min_tail: Fewest values a candidate tail may hold.
        alpha_max: Upper end of the exponent's search interval (lower end is 1).
        tol: Width at which the golden-section search stops.

    Returns:
        The fit, or ``NO_FIT`` (NaNs) with fewer than ``min_tail`` positive values or
        fewer than two distinct ones.
    """
    x = np.sort(np.asarray(values, dtype=np.int64))
    x = x[x >= 1]
    if len(x) < max(min_tail, 2) or x[0] == x[-1]:
        return NO_FIT
    distinct, first = np.unique(x, return_index=True)
    keep = (len(x) - first >= min_tail) & (distinct < x[-1])
    xmins, counts = distinct[keep], len(x) - first[keep]
    if len(xmins) == 0:
        return NO_FIT
    log_tail = np.cumsum(np.log(x)[::-1])[::-1][first[keep]]
    alphas = _mle_alpha(xmins.astype(float), counts, log_tail, alpha_max, tol)
    ks = np.array([_ks(x[x >= xm], a) for xm, a in zip(xmins, alphas)])
    best = int(np.argmin(ks))
    return _compare(x[x >= xmins[best]], float(alphas[best]), int(xmins[best]), float(ks[best]))


def _mle_alpha(xmins: np.ndarray, counts: np.ndarray, log_tail: np.ndarray,
               alpha_max: float, tol: float) -> np.ndarray:
    """Golden-section search for every candidate's exponent at once."""
    def nll(a: np.ndarray) -> np.ndarray:
        return counts * np.log(special.zeta(a, xmins)) + a * log_tail

    lo, hi = np.full(len(xmins), 1.0 + 1e-9), np.full(len(xmins), alpha_max)
    c, d = hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo)
    fc, fd = nll(c), nll(d)
    while float((hi - lo).max()) > tol:
        left = fc < fd
        hi, lo = np.where(left, d, hi), np.where(left, lo, c)
        c, d = hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo)
        fc, fd = nll(c), nll(d)
    return (lo + hi) / 2


def _ks(tail: np.ndarray, alpha: float) -> float:
    """KS distance between a tail's empirical CDF and the fitted discrete power law."""
    distinct, first = np.unique(tail, return_index=True)
    norm = special.zeta(alpha, tail[0])
    below_model = 1.0 - special.zeta(alpha, distinct.astype(float)) / norm
    at_model = 1.0 - special.zeta(alpha, distinct + 1.0) / norm
    below_emp = first / len(tail)
    at_emp = np.r_[first[1:], len(tail)] / len(tail)
    return float(max(np.abs(at_emp - at_model).max(), np.abs(below_emp - below_model).max()))


def _compare(tail: np.ndarray, alpha: float, xmin: int, ks: float) -> PowerLawFit:
    """Vuong's test of the power law against a discrete exponential on ``tail``."""
    n = len(tail)
    gap = float(tail.mean()) - xmin
    rate = math.log1p(1.0 / gap)
    log_pl = -alpha * np.log(tail) - math.log(special.zeta(alpha, xmin))
    log_exp = math.log(-math.expm1(-rate)) - rate * (tail - xmin)
    ratios = log_pl - log_exp
    llr, sd = float(ratios.sum()), float(ratios.std())
    vuong = llr / (sd * math.sqrt(n)) if sd > 0 else 0.0
    p_value = float(special.erfc(abs(vuong) / math.sqrt(2)))
    return PowerLawFit(alpha, xmin, ks, n, rate, llr, vuong, p_value)
