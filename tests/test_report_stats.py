"""The report's statistics: GLEE's grid regression against an independent statsmodels fit,
clustered errors, bootstrap coverage, paired tests against scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from agora.analysis.regression import grid_factors, regress_on_grid
from agora.analysis.stats import bootstrap_ci, paired_comparison, ratio_ci
from agora.envs import ConfigError

EFFECT_A = {0: -1.0, 1: 0.0, 2: 1.0}  # sums to zero: the effect coding's truth
EFFECT_B = {"x": -0.5, "y": 0.5}


def _grid(seed: int = 0, episodes: int = 20, cell_sd: float = 0.6) -> pd.DataFrame:
    """A 3 x 2 x 4 grid, one cell per configuration, with a random effect per cell (the
    correlated residuals that clustering is for)."""
    rng = np.random.default_rng(seed)
    rows, cell = [], 0
    for a in EFFECT_A:
        for b in EFFECT_B:
            for c in ("p", "q", "r", "s"):
                shift = rng.normal(0.0, cell_sd)
                for e in range(episodes):
                    y = 2.0 + EFFECT_A[a] + EFFECT_B[b] + shift + rng.normal(0.0, 0.3)
                    rows.append({"cell": cell, "episode": e, "status": "ok", "param.a": a,
                                 "param.b": b, "param.c": c, "agent.player_0": '{"name":"k"}',
                                 "metric.y": y})
                cell += 1
    return pd.DataFrame(rows)


def test_grid_regression_equals_an_independent_statsmodels_fit():
    df = _grid()
    assert grid_factors(df) == ["param.a", "param.b", "param.c"]  # the agent is constant
    fit = regress_on_grid(df, "metric.y")
    ref = smf.ols("y ~ C(a, Sum) + C(b, Sum) + C(c, Sum)",
                  df.rename(columns={"metric.y": "y", "param.a": "a", "param.b": "b",
                                     "param.c": "c"})
                  ).fit(cov_type="cluster", cov_kwds={"groups": df["cell"]})
    got = fit.table.set_index("term")
    for level in (0, 1):
        key = f"C(a, Sum)[S.{level}]"
        assert got.loc[f"a={level}", "coef"] == pytest.approx(ref.params[key], rel=1e-10)
        assert got.loc[f"a={level}", "se"] == pytest.approx(ref.bse[key], rel=1e-10)
    # the level the contrast leaves out: minus the others, its variance from the covariance
    keys = ["C(a, Sum)[S.0]", "C(a, Sum)[S.1]"]
    assert got.loc["a=2", "coef"] == pytest.approx(-ref.params[keys].sum(), rel=1e-10)
    assert got.loc["a=2", "se"] == pytest.approx(
        np.sqrt(ref.cov_params().loc[keys, keys].to_numpy().sum()), rel=1e-10)
    assert fit.intercept == pytest.approx(ref.params["Intercept"], rel=1e-12)
    assert (fit.n, fit.clusters) == (480, 24)
    # the known effects lie within 3 clustered standard errors
    for level, truth in EFFECT_A.items():
        row = got.loc[f"a={level}"]
        assert abs(row["coef"] - truth) < 3 * row["se"]
    for level, truth in EFFECT_B.items():
        assert abs(got.loc[f"b={level}", "coef"] - truth) < 3 * got.loc[f"b={level}", "se"]


def test_clustered_errors_differ_from_plain_ones_when_cells_correlate():
    df = _grid(cell_sd=0.6)
    data = df.rename(columns={"metric.y": "y", "param.a": "a", "param.b": "b", "param.c": "c"})
    plain = smf.ols("y ~ C(a, Sum) + C(b, Sum) + C(c, Sum)", data).fit()
    se = regress_on_grid(df, "metric.y").table.set_index("term")["se"]
    # 20 episodes share each cell's shift: the plain errors are far too small
    assert se["b=x"] > 2.0 * plain.bse["C(b, Sum)[S.x]"]
    # with no cell effect the two agree to within sampling noise
    flat = _grid(cell_sd=0.0)
    plain = smf.ols("y ~ C(a, Sum) + C(b, Sum) + C(c, Sum)", flat.rename(columns={
        "metric.y": "y", "param.a": "a", "param.b": "b", "param.c": "c"})).fit()
    ratio = regress_on_grid(flat, "metric.y").table.set_index("term")["se"]["b=x"] / \
        plain.bse["C(b, Sum)[S.x]"]
    assert 0.6 < ratio < 1.5


def test_treatment_coding_measures_levels_against_the_first():
    t = regress_on_grid(_grid(), "metric.y", coding="treatment").table.set_index("term")
    assert t.loc["a=0", "reference"] and t.loc["a=0", "coef"] == 0.0
    assert abs(t.loc["a=2", "coef"] - 2.0) < 3 * t.loc["a=2", "se"]


def test_bad_regressions_are_config_errors():
    df = _grid()
    with pytest.raises(ConfigError, match="coding: expected one of"):
        regress_on_grid(df, "metric.y", coding="helmert")
    with pytest.raises(ConfigError, match="'metric.nope' is not a column"):
        regress_on_grid(df, "metric.nope")
    with pytest.raises(ConfigError, match="no parameter varies"):
        regress_on_grid(df[df["cell"] == 0], "metric.y")


def test_bootstrap_interval_of_a_median_covers_the_truth():
    rng = np.random.default_rng(1)
    hits = 0
    for rep in range(200):  # lognormal(0, 1): median exactly 1
        _, lo, hi = bootstrap_ci(rng.lognormal(0.0, 1.0, 80), "median", seed=rep)
        hits += lo <= 1.0 <= hi
    assert 0.88 <= hits / 200 <= 0.99


def test_bootstrap_interval_of_a_ratio_of_means_covers_the_truth():
    rng = np.random.default_rng(2)
    hits = 0
    for rep in range(200):  # E[a] / E[b] = 3 / 2
        b = rng.exponential(2.0, 60)
        a = 0.75 * b + rng.exponential(1.5, 60)
        _, lo, hi = ratio_ci(a, b, seed=rep)
        hits += lo <= 1.5 <= hi
    assert 0.88 <= hits / 200 <= 0.99


def test_paired_comparison_reports_scipys_tests():
    rng = np.random.default_rng(3)
    b = rng.normal(0, 1, 40)
    a = b + 0.3 + rng.normal(0, 0.5, 40)
    r = paired_comparison(a, b)
    assert r["n"] == 40 and r["mean_diff"] == pytest.approx(float(np.mean(a - b)))
    assert r["t_p"] == stats.ttest_rel(a, b).pvalue
    assert r["wilcoxon_p"] == stats.wilcoxon(a - b).pvalue
    assert r["lo"] < r["mean_diff"] < r["hi"]
    same = paired_comparison(b, b)
    assert (same["mean_diff"], same["t_p"], same["wilcoxon_p"]) == (0.0, 1.0, 1.0)


def test_a_share_of_a_zero_total_is_a_dash_not_nan():
    from agora.analysis.report.episodes import robust_table

    eps = pd.DataFrame({"cell": [0, 0, 1, 1], "status": ["ok"] * 4,
                        "return.player_0": [0.0, 0.0, 3.0, 5.0],
                        "return.player_1": [0.0, 0.0, 1.0, 1.0]})
    rows = robust_table(eps, ["zero", "paid"], ["return.player_0", "return.player_1"])
    zero, paid = rows.iloc[0], rows.iloc[1]
    assert zero["player_0 share"] == zero["player_1 share"] == "–"
    assert paid["player_0 share"].startswith("0.8 [")  # 8 of 10 in total
