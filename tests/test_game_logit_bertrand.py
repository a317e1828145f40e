"""What theory says about LogitBertrand-v1 (Calvano, Calzolari, Denicolo & Pastorello 2020).

The Nash price solves its first-order condition and no unilateral deviation on a fine
price grid pays; the monopoly price maximises joint profit over a fine 2-D grid and equals
its Lambert-W closed form; Calvano's baseline prices are reproduced; consumer surplus obeys
Roy's identity; the grid, the stage payoffs and the episode metrics match hand
computations; bad parameters raise a ConfigError naming the parameter.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import lambertw

from agora.agents import make_agent
from agora.envs import ConfigError, make_game
from agora.envs.games.oligopoly import LogitBertrandParams, logit_shares, symmetric_prices
from agora.experiments import play_episode

ID = "LogitBertrand-v1"
BASE = LogitBertrandParams()


def _profit(p: LogitBertrandParams, prices: np.ndarray) -> np.ndarray:
    """Profits of every firm (last axis) at ``prices``, written out from the demand."""
    return (prices - p.cost) * logit_shares(prices, p.a, p.a0, p.mu)


def test_calvano_baseline_prices_and_profits() -> None:
    # Calvano et al. (2020), baseline: p^N ~ 1.473, p^M ~ 1.925 (n=2, a=2, c=1, a0=0, mu=1/4)
    nash, monopoly = symmetric_prices(BASE)
    assert nash == pytest.approx(1.4729, abs=1e-4)
    assert monopoly == pytest.approx(1.9250, abs=1e-4)
    v = make_game(ID)[0].benchmark().values
    assert v["nash_profit"] == pytest.approx(0.2229, abs=1e-4)
    assert v["collusive_profit"] == pytest.approx(0.3375, abs=1e-4)


@pytest.mark.parametrize("n, mu, a0", [(2, 0.25, 0.0), (3, 0.25, 0.0), (2, 0.5, 1.0),
                                       (4, 0.1, -1.0)])
def test_nash_price_solves_the_foc_and_no_deviation_pays(n: int, mu: float, a0: float) -> None:
    p = LogitBertrandParams(n_firms=n, mu=mu, a0=a0)
    nash, _ = symmetric_prices(p)
    q = logit_shares(np.full(n, nash), p.a, p.a0, p.mu)[0]
    assert abs(nash - p.cost - p.mu / (1 - q)) < 1e-12
    deviations = np.linspace(p.cost, p.cost + 4.0, 40_001)
    grid = np.full((len(deviations), n), nash)
    grid[:, 0] = deviations
    best = _profit(p, grid)[:, 0].max()
    at_nash = _profit(p, np.full(n, nash))[0]
    assert best <= at_nash + 1e-12
    assert at_nash - best < 1e-8  # the fine grid comes within rounding of the optimum


@pytest.mark.parametrize("n, mu, a0", [(2, 0.25, 0.0), (3, 0.25, 0.0), (2, 0.5, 1.0)])
def test_monopoly_price_maximises_joint_profit(n: int, mu: float, a0: float) -> None:
    p = LogitBertrandParams(n_firms=n, mu=mu, a0=a0)
    _, monopoly = symmetric_prices(p)
    joint = _profit(p, np.full(n, monopoly)).sum()
    axis = np.linspace(p.cost, p.cost + 3.0, 601)
    mesh = np.stack(np.meshgrid(*[axis] * 2, indexing="ij"), axis=-1).reshape(-1, 2)
    prices = np.concatenate([mesh, np.full((len(mesh), n - 2), monopoly)], axis=1)
    assert _profit(p, prices).sum(axis=1).max() <= joint + 1e-12
    # closed form: p^M = c + mu + mu W(n exp((a - a0 - c)/mu - 1))
    k = n * math.exp((p.a - p.a0 - p.cost) / mu - 1)
    assert monopoly == pytest.approx(p.cost + mu + mu * lambertw(k).real, abs=1e-12)


def test_price_grid_spans_nash_to_monopoly_with_xi() -> None:
    game, _ = make_game(ID)
    nash, monopoly = symmetric_prices(BASE)
    span = monopoly - nash
    assert game.num_actions == 15
    assert game.prices[0] == pytest.approx(nash - 0.1 * span, abs=1e-15)
    assert game.prices[-1] == pytest.approx(monopoly + 0.1 * span, abs=1e-15)
    assert np.allclose(np.diff(game.prices), 1.2 * span / 14, atol=1e-15)
    v = game.benchmark().values
    assert game.value(int(v["nash_action"])) == game.prices[1]  # 0.1 / (1.2 / 14) -> 1
    assert v["collusive_action"] == 13.0  # 1.1 / (1.2 / 14) = 12.83
    assert v["grid_error"] == pytest.approx(abs(game.prices[1] - nash), abs=1e-15)


def test_stage_payoffs_are_the_logit_formula() -> None:
    game, _ = make_game(ID)
    p1, p2 = game.prices[3], game.prices[11]
    e1, e2 = math.exp((2 - p1) / 0.25), math.exp((2 - p2) / 0.25)
    total = e1 + e2 + 1.0  # exp(a0 / mu) = 1
    assert game.stage_payoffs((3, 11)) == pytest.approx(
        ((p1 - 1) * e1 / total, (p2 - 1) * e2 / total), rel=1e-14)


def test_consumer_surplus_obeys_roys_identity() -> None:
    game, _ = make_game(ID)
    prices, h = np.array([1.6, 1.8]), 1e-6
    shares = logit_shares(prices, 2.0, 0.0, 0.25)
    for i in range(2):
        up, down = prices.copy(), prices.copy()
        up[i] += h
        down[i] -= h
        slope = (game.consumer_surplus(up) - game.consumer_surplus(down)) / (2 * h)
        assert slope == pytest.approx(-shares[i], abs=1e-8)


def test_nash_players_earn_the_grid_nash_profit_and_its_collusion_index() -> None:
    game, text = make_game(ID, {"rounds": 4})
    agents = [make_agent("bertrand_nash", game) for _ in range(2)]
    result = play_episode(game, text, agents, seed=3)
    assert result.status == "ok", result.error
    k = int(game.benchmark().values["nash_action"])
    profit = game.stage_payoffs((k, k))[0]
    v = game.benchmark().values
    m = result.metrics
    assert m["gain_0"] == pytest.approx(4 * profit, rel=1e-12)
    assert m["mean_action"] == pytest.approx(game.prices[k], rel=1e-12)
    assert m["distance_to_benchmark"] == pytest.approx(abs(game.prices[k] - v["nash_price"]))
    assert m["collusion_index"] == pytest.approx(
        (profit - v["nash_profit"]) / (v["collusive_profit"] - v["nash_profit"]), rel=1e-9)


@pytest.mark.parametrize("key, value", [("mu", 0.0), ("n_prices", 1), ("xi", -0.5),
                                        ("granularity", 2), ("a", float("inf"))])
def test_bad_params_name_the_parameter(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"{key}="):
        make_game(ID, {key: value})
