"""Q-learning bidders (agora.experiments.auction_learning) against the core and theory.

The payoff tables are the auction core's ``settle`` / ``expected_payoffs`` entry by entry;
the stage equilibria on Banchio & Skrzypacz's grid are the ones theory gives (and on a grid
whose top bid equals the value, every (1, y) is one: why revenue there is set by noise);
the kernel's new options (random outcomes, a start value, an exploration level, a fixed
horizon) do what they say; and, the regression target, the paper's learners bid far below
value in the first-price auction and at the top bid in the second-price auction.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from agora.envs import ConfigError, make_game
from agora.envs.games.auction import expected_payoffs, settle
from agora.experiments.auction_learning import (
    BS_BIDS,
    BS_LEARNING,
    auction_outcomes,
    auction_summary,
    run_auctions,
    stage_equilibria,
)
from agora.experiments.collusion import QLearning, run_table

FIRST, SECOND = "FirstPriceAuction-v1", "SecondPriceAuction-v1"


def _game(env_id: str, n: int = 2):
    game, _ = make_game(env_id, {"n_players": n, "granularity": 20, "value_max": 1.0})
    return game


@pytest.mark.parametrize("env_id", [FIRST, SECOND])
def test_sampled_outcomes_are_the_cores_settlements(env_id: str) -> None:
    game = _game(env_id)
    table = auction_outcomes(game, BS_BIDS)
    expected = auction_outcomes(game, BS_BIDS, ties="expected")
    assert table.shape == (19 * 19, 2, 2) and expected.shape == (19 * 19, 2)
    for row, joint in enumerate(itertools.product(BS_BIDS, repeat=2)):
        top = [i for i, b in enumerate(joint) if b == max(joint)]
        winners = {tuple(table[row, k]) for k in range(2)}
        assert winners == {tuple(x / 20 for x in settle(game.params.rule, (20, 20), joint, w))
                           for w in top}
        core = expected_payoffs(game.params.rule, (20, 20), joint)
        assert np.allclose(expected[row], np.array(core) / 20, rtol=0, atol=1e-15)
        assert np.allclose(table[row].mean(axis=0), expected[row], rtol=0, atol=1e-15)


def test_three_bidders_draw_each_tied_winner_equally_often() -> None:
    table = auction_outcomes(_game(SECOND, 3), (5, 10))  # bids 0.25, 0.5
    assert table.shape == (8, 6, 3)  # lcm(1, 2, 3) = 6 outcomes
    both_top = table[int(np.ravel_multi_index((1, 1, 0), (2, 2, 2)))]  # 0.5, 0.5, 0.25
    assert sorted(map(tuple, both_top.tolist())) == [(0.0, 0.5, 0.0)] * 3 + [(0.5, 0.0, 0.0)] * 3


def test_stage_equilibria_on_the_papers_grid() -> None:
    """Bids 0.05..0.95, value 1: second price has only (0.95, 0.95); first price has
    (0.90, 0.90), where a tie pays 0.05 as outbidding to 0.95 does, and (0.95, 0.95)."""
    second = stage_equilibria(auction_outcomes(_game(SECOND), BS_BIDS), 19, 2)
    first = stage_equilibria(auction_outcomes(_game(FIRST), BS_BIDS), 19, 2)
    assert second == [(18, 18)]
    assert first == [(17, 17), (18, 18)]


def test_a_top_bid_equal_to_the_value_makes_every_loser_bid_an_equilibrium() -> None:
    grid = tuple(range(21))  # 0, 0.05, .., 1
    eq = stage_equilibria(auction_outcomes(_game(SECOND), grid), 21, 2)
    assert sorted(eq) == sorted({(20, y) for y in range(21)} | {(y, 20) for y in range(21)})
    revenues = {min(a, b) / 20 for a, b in eq}
    assert min(revenues) == 0.0 and max(revenues) == 1.0


def test_a_one_outcome_table_runs_exactly_as_the_plain_table() -> None:
    pd = np.array([[3.0, 3.0], [0.0, 5.0], [5.0, 0.0], [1.0, 1.0]])
    learning = QLearning(alpha=0.1, beta=1e-3, delta=0.9, memory=1, stable_periods=300,
                         max_periods=50_000)
    plain, boxed = run_table(pd, 2, 2, learning, 3, 7), run_table(pd[:, None], 2, 2, learning,
                                                                  3, 7)
    for name in ("converged", "periods", "greedy", "cycle_profits"):
        assert np.array_equal(getattr(plain, name), getattr(boxed, name)), name


def test_start_value_and_no_exploration_give_the_greedy_path() -> None:
    """With Q = 0 everywhere and no exploration both play action 0 (the lowest maximiser);
    cooperating pays 3 > 0, so its Q stays the maximum and nobody ever moves."""
    pd = np.array([[3.0, 3.0], [0.0, 5.0], [5.0, 0.0], [1.0, 1.0]])
    learning = QLearning(alpha=0.1, beta=1e-3, delta=0.9, memory=0, epsilon=0.0, q_init=0.0,
                         stable_periods=100, max_periods=5_000, stop_at_convergence=False)
    res = run_table(pd, 2, 2, learning, 2, 0)
    assert res.periods.tolist() == [5_000, 5_000]  # played to the horizon
    assert res.converged.all()
    assert res.greedy.tolist() == [[[0], [0]], [[0], [0]]]
    assert res.cycle_profits.tolist() == [[3.0, 3.0], [3.0, 3.0]]


def test_a_horizon_run_judges_convergence_on_its_final_window() -> None:
    pd = np.array([[3.0, 3.0], [0.0, 5.0], [5.0, 0.0], [1.0, 1.0]])
    # exploration never ends (beta tiny, epsilon 1): greedy keeps moving to the end
    restless = QLearning(alpha=0.5, beta=1e-12, delta=0.9, memory=0, epsilon=1.0, q_init=0.0,
                         stable_periods=2_000, max_periods=4_000, stop_at_convergence=False)
    res = run_table(pd, 2, 2, restless, 4, 0)
    assert res.periods.tolist() == [4_000] * 4
    assert not res.converged.any()


@pytest.mark.parametrize("key, value", [("epsilon", 1.5), ("epsilon", -0.1),
                                        ("q_init", math.nan), ("q_init", "high"),
                                        ("stop_at_convergence", 1)])
def test_bad_new_learning_params_name_the_parameter(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"{key}="):
        QLearning(**{key: value})


def test_bad_tables_ties_and_grids_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="ties='random'"):
        auction_outcomes(_game(FIRST), BS_BIDS, ties="random")
    with pytest.raises(ConfigError, match="bids="):
        auction_outcomes(_game(FIRST), (1, 21))
    with pytest.raises(ConfigError, match=r"table has shape \(4, 3\)"):
        run_table(np.zeros((4, 3)), 2, 2, BS_LEARNING, 1, 0)


@pytest.mark.slow
def test_paper_learners_shade_in_first_price_and_bid_the_top_in_second_price() -> None:
    """Banchio & Skrzypacz (2022), their parameters and 1M-period horizon: first-price
    revenue ~0.24, second-price ~0.95 (994/1,000 sessions at the top pair). 16 sessions
    each here; the difference of the mean revenues must clear 0.4 by 4 standard errors."""
    first = run_auctions(FIRST, 16, seed=2022)
    second = run_auctions(SECOND, 16, seed=2022)
    f, s = auction_summary(first), auction_summary(second)
    assert f["converged"] >= 14 and s["converged"] >= 14
    assert s["top_pair_share"] >= 0.9  # (0.95, 0.95), the unique stage equilibrium
    assert s["revenue_mean"] >= 0.9
    gap = s["revenue_mean"] - f["revenue_mean"]
    se = math.hypot(f["revenue_sd"] / math.sqrt(f["converged"]),
                    s["revenue_sd"] / math.sqrt(s["converged"]))
    assert gap - 4 * se > 0.4
    assert f["revenue_max"] < 0.9  # no first-price session reached a stage equilibrium
