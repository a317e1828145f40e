"""Small statistics helpers for episode tables."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def mean_ci(values: np.ndarray | list[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of the finite values.

    Returns ``(mean, low, high)``; the interval is NaN with fewer than two values.

    Example:
        >>> m, lo, hi = mean_ci([1.0, 2.0, 3.0])
        >>> m, round(lo, 3), round(hi, 3)
        (2.0, -0.484, 4.484)
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if len(x) < 2:
        return m, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return m, m - half, m + half


def _finite(values: np.ndarray | list[float]) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[np.isfinite(x)]


def bootstrap_ci(values: np.ndarray | list[float], statistic: str = "median",
                 level: float = 0.95, n_resamples: int = 999,
                 seed: int = 0) -> tuple[float, float, float]:
    """A statistic of the finite values and its percentile bootstrap interval
    (:func:`scipy.stats.bootstrap`, seeded).

    Args:
        values: the sample.
        statistic: a numpy reduction taking ``axis`` (``"median"``, ``"mean"``, ...).
        level: the confidence level.
        n_resamples: bootstrap resamples.
        seed: the resampling seed.

    Returns:
        ``(estimate, low, high)``; the interval is NaN with fewer than two values.

    Example:
        >>> m, lo, hi = bootstrap_ci([1.0, 2.0, 3.0, 4.0, 100.0])
        >>> m, lo <= m <= hi
        (3.0, True)
    """
    x = _finite(values)
    reduce = getattr(np, statistic)
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    estimate = float(reduce(x))
    if len(x) < 2 or np.ptp(x) == 0:
        return (estimate, math.nan, math.nan) if len(x) < 2 else (estimate, estimate, estimate)
    res = stats.bootstrap((x,), reduce, confidence_level=level, n_resamples=n_resamples,
                          method="percentile", rng=np.random.default_rng(seed))
    return estimate, float(res.confidence_interval.low), float(res.confidence_interval.high)


def ratio_ci(numerator: np.ndarray | list[float], denominator: np.ndarray | list[float],
             level: float = 0.95, n_resamples: int = 999,
             seed: int = 0) -> tuple[float, float, float]:
    """The ratio of means ``mean(numerator) / mean(denominator)`` of paired values (one pair
    per episode) and its paired percentile bootstrap interval.

    Example:
        >>> r, lo, hi = ratio_ci([2.0, 4.0, 6.0, 8.0], [1.0, 2.0, 3.0, 4.0])
        >>> r, lo, hi
        (2.0, 2.0, 2.0)
    """
    a, b = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if len(a) == 0 or b.mean() == 0:
        return math.nan, math.nan, math.nan
    estimate = float(a.mean() / b.mean())
    if len(a) < 2:
        return estimate, math.nan, math.nan

    def ratio(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.asarray(x.mean(axis=axis) / y.mean(axis=axis))

    res = stats.bootstrap((a, b), ratio, paired=True, confidence_level=level,
                          n_resamples=n_resamples, method="percentile",
                          rng=np.random.default_rng(seed))
    low, high = res.confidence_interval
    low, high = (estimate, estimate) if not np.isfinite(low) else (float(low), float(high))
    return estimate, low, high


def paired_comparison(a: np.ndarray | list[float], b: np.ndarray | list[float],
                      level: float = 0.95, seed: int = 0) -> dict[str, float]:
    """Compare paired samples (the same episode seeds played by two agents): the mean
    difference ``a - b`` with its bootstrap interval, the paired t test and the Wilcoxon
    signed-rank test (:func:`scipy.stats.ttest_rel`, :func:`scipy.stats.wilcoxon`).

    Returns:
        ``n``, ``mean_diff``, ``lo``, ``hi``, ``t_p`` and ``wilcoxon_p`` (p values are 1.0
        when every difference is zero).

    Example:
        >>> r = paired_comparison([3.0, 4.0, 6.0, 6.0, 8.0], [1.0, 2.0, 3.0, 4.0, 5.0])
        >>> r["n"], r["mean_diff"], r["t_p"] < 0.01
        (5, 2.4, True)
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    d = x[keep] - y[keep]
    out = {"n": int(len(d)), "mean_diff": float(d.mean()) if len(d) else math.nan}
    _, out["lo"], out["hi"] = bootstrap_ci(d, "mean", level, seed=seed)
    if len(d) < 2 or not np.any(d):
        out["t_p"] = out["wilcoxon_p"] = 1.0 if len(d) else math.nan
        return out
    if np.ptp(d) == 0:  # a constant non-zero shift: t is infinite
        out["t_p"] = 0.0
    else:
        out["t_p"] = float(stats.ttest_rel(x[keep], y[keep]).pvalue)
    out["wilcoxon_p"] = float(stats.wilcoxon(d).pvalue)
    return out
