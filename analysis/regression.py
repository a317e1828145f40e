"""GLEE's analysis of a parameter grid: regress an outcome on the grid's parameters.

Every parameter (and agent) that varies across cells is a categorical factor. With GLEE's
effect coding (``coding="effect"``, sum-to-zero contrasts) each level's coefficient is its
deviation from the mean over that factor's levels, so every level gets an effect and the
intercept is the grand mean (of a balanced grid); ``coding="treatment"`` measures
each level against the factor's first level instead. Episodes of one configuration (a
cell) share everything but their seed, so their residuals are correlated: standard errors
are clustered by cell (statsmodels' ``cov_type="cluster"``).

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"cell": [0, 0, 1, 1, 2, 2, 3, 3], "status": ["ok"] * 8,
    ...                    "param.a": [0, 0, 0, 0, 1, 1, 1, 1],
    ...                    "param.b": ["x", "x", "y", "y", "x", "x", "y", "y"],
    ...                    "metric.m": [1.0, 1.2, 2.0, 2.2, 3.0, 3.2, 4.0, 4.2]})
    >>> fit = regress_on_grid(df, "metric.m")
    >>> fit.table.set_index("term")["coef"].round(3).to_dict()
    {'a=0': -1.0, 'a=1': 1.0, 'b=x': -0.5, 'b=y': 0.5}
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from agora.analysis.records import AGENT, CELL, OK, PARAM, STATUS
from agora.envs import ConfigError

CODINGS = {"effect": "Sum", "treatment": "Treatment"}


@dataclass(frozen=True)
class GridRegression:
    """One outcome regressed on the grid's factors.

    Attributes:
        outcome: the regressed column.
        coding: ``"effect"`` or ``"treatment"``.
        table: one row per factor level: ``term`` (``name=level``), ``factor``, ``level``,
            ``coef``, ``se`` (clustered), ``lo``, ``hi`` (95%), ``p``, ``reference`` (the
            treatment coding's base level, effect 0 by construction).
        intercept: the intercept.
        n: episodes used; ``clusters``: cells; ``r2``: the fit's R squared.
    """

    outcome: str
    coding: str
    table: pd.DataFrame
    intercept: float
    n: int
    clusters: int
    r2: float


def grid_factors(episodes: pd.DataFrame) -> list[str]:
    """The ``param.*`` and ``agent.*`` columns that vary across cells."""
    keys = [c for c in episodes.columns if c.startswith((PARAM, AGENT))]
    return [c for c in keys if episodes[c].astype(str).nunique() > 1]


def _levels(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes of a column's values and the values' names, in the values' natural
    order (numbers by value, the rest as text)."""
    try:
        codes, uniques = pd.factorize(column, sort=False)
        names = [str(u) for u in uniques]
    except TypeError:  # unhashable values (lists): by their text
        codes, uniques = pd.factorize(column.astype(str), sort=False)
        names = list(uniques)
    numeric = pd.to_numeric(pd.Series(names), errors="coerce")
    order = (np.argsort(numeric.to_numpy(), kind="stable") if numeric.notna().all()
             else np.argsort(np.array(names), kind="stable"))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[codes], [names[i] for i in order]


def _design(codes: np.ndarray, names: list[str], term: str, coding: str
            ) -> pd.DataFrame:
    """The contrast columns of one factor, named as statsmodels' formulas name them."""
    k = len(names)
    if coding == "effect":  # level j < k-1: 1 at j, -1 at the last level
        basis = np.vstack([np.eye(k - 1), -np.ones(k - 1)])
        cols = [f"{term}[S.{n}]" for n in names[:-1]]
    else:
        basis = np.eye(k)[:, 1:]
        cols = [f"{term}[T.{n}]" for n in names[1:]]
    return pd.DataFrame(basis[codes], columns=cols)


def regress_on_grid(episodes: pd.DataFrame, outcome: str,
                    factors: Sequence[str] | None = None, coding: str = "effect",
                    cluster: str = CELL) -> GridRegression:
    """Fit ``outcome ~ factors`` by OLS with standard errors clustered by ``cluster``.

    Args:
        episodes: an episodes table (failed episodes are left out).
        outcome: the column to explain, e.g. ``"metric.efficiency"``.
        factors: the factor columns (default: :func:`grid_factors`).
        coding: ``"effect"`` (GLEE's sum-to-zero coding) or ``"treatment"``.
        cluster: the column whose groups share residual noise (default: the cell).

    Raises:
        ConfigError: an unknown coding or outcome, no factor, or fewer than two clusters.
    """
    import statsmodels.api as sm

    if coding not in CODINGS:
        raise ConfigError(f"coding: expected one of {sorted(CODINGS)}, got {coding!r}")
    if outcome not in episodes.columns:
        raise ConfigError(f"outcome: {outcome!r} is not a column of the episodes")
    ok = episodes[episodes[STATUS] == OK] if STATUS in episodes.columns else episodes
    ok = ok[np.isfinite(ok[outcome].astype(float))]
    factors = list(factors) if factors is not None else grid_factors(ok)
    if not factors:
        raise ConfigError(f"regressing {outcome}: no parameter varies across cells")
    groups = ok[cluster].to_numpy()
    if len(np.unique(groups)) < 2:
        raise ConfigError(f"regressing {outcome}: clustered errors need two or more cells")
    blocks, levels = [pd.DataFrame({"Intercept": np.ones(len(ok))})], []
    for i, f in enumerate(factors):
        codes, names = _levels(ok[f])
        levels.append(names)
        blocks.append(_design(codes, names, f"C(f{i}, {CODINGS[coding]})", coding))
    x = pd.concat(blocks, axis=1)
    if len(x) <= x.shape[1]:
        raise ConfigError(f"regressing {outcome}: {len(x)} episodes for {x.shape[1]} "
                          "coefficients; run more episodes per cell")
    y = ok[outcome].astype(float).to_numpy()
    fit = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": groups})
    rows = [row for i, f in enumerate(factors)
            for row in _factor_rows(fit, f"C(f{i}, {CODINGS[coding]})", f, levels[i], coding)]
    return GridRegression(outcome, coding, pd.DataFrame(rows), float(fit.params["Intercept"]),
                          int(fit.nobs), int(len(np.unique(groups))), float(fit.rsquared))


def _factor_rows(fit: Any, term: str, factor: str, levels: Sequence[str],
                 coding: str) -> list[dict[str, Any]]:
    """Every level's effect; the level a contrast leaves out is derived (effect coding:
    minus the sum of the others, with its variance from the covariance matrix)."""
    name = factor.split(".", 1)[1] if "." in factor else factor
    tag = "S" if coding == "effect" else "T"
    cov = fit.cov_params()
    rows = []
    for level in levels:
        key = f"{term}[{tag}.{level}]"
        if key in fit.params.index:
            coef, se, reference = float(fit.params[key]), float(fit.bse[key]), False
        elif coding == "effect":
            keys = [k for k in fit.params.index if k.startswith(f"{term}[")]
            coef = -float(fit.params[keys].sum())
            se = math.sqrt(float(cov.loc[keys, keys].to_numpy().sum()))
            reference = False
        else:
            coef, se, reference = 0.0, math.nan, True
        rows.append(_row(name, factor, level, coef, se, reference))
    return rows


def _row(name: str, factor: str, level: str, coef: float, se: float,
         reference: bool) -> dict[str, Any]:
    from scipy import stats

    z = coef / se if se and np.isfinite(se) else math.nan
    p = float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else math.nan
    return {"term": f"{name}={level}", "factor": factor, "level": level, "coef": coef,
            "se": se, "lo": coef - 1.959963984540054 * se, "hi": coef + 1.959963984540054 * se,
            "p": p, "reference": reference}
