"""What oligopoly theory says about Cournot-v1, Bertrand-v1 and BertrandDifferentiated-v1.

Equilibrium agents reach the closed-form benchmarks exactly (defaults put them on the grid);
no firm has a profitable unilateral deviation anywhere on the grid; stage payoffs and the
episode metrics match hand-computed cases (Bertrand ties included); bad parameters raise a
ConfigError that names the parameter.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agora.agents import make_agent
from agora.envs import ConfigError, Observation, Status, make_game
from agora.envs.games.oligopoly import FRAMINGS
from agora.experiments import play_episode

COURNOT, BERTRAND, DIFF = "Cournot-v1", "Bertrand-v1", "BertrandDifferentiated-v1"


def _play(env_id: str, params: dict[str, Any], names: Sequence[Any], seed: int = 0) -> Any:
    game, text = make_game(env_id, params)
    result = play_episode(game, text, [make_agent(n, game) for n in names], seed=seed)
    assert result.status == "ok", result.error
    return game, result


def _actions(game: Any, result: Any) -> np.ndarray:
    return np.array(result.events["action"]).reshape(-1, game.num_players)


def _profitable_deviations(game: Any, profile: tuple[int, ...]) -> list[tuple[int, int]]:
    """(player, action) pairs that pay a player strictly more than ``profile``, by brute force."""
    base = game.stage_payoffs(profile)
    found = []
    for i in range(game.num_players):
        for d in range(game.num_actions):
            dev = profile[:i] + (d,) + profile[i + 1:]
            if game.stage_payoffs(dev)[i] > base[i] + 1e-9:
                found.append((i, d))
    return found


# ----- closed-form benchmarks ---------------------------------------------------------
def test_cournot_benchmark_closed_forms() -> None:
    game, _ = make_game(COURNOT)  # a=130, b=1, c=10, n=2
    v = game.benchmark().values
    assert (v["nash_quantity"], v["nash_price"], v["nash_profit"]) == (40.0, 50.0, 1600.0)
    assert (v["collusive_quantity"], v["collusive_price"], v["collusive_profit"]) == (
        30.0, 70.0, 1800.0)
    assert (v["competitive_quantity"], v["optimum_total_surplus"]) == (120.0, 7200.0)
    assert v["nash_efficiency"] == pytest.approx(8 / 9)
    assert v["grid_error"] == 0.0 and v["grid_nash_verified"] == 1.0
    for n in (3, 4, 5):  # a - c = 120 keeps q* = 120/(n+1) and 60/n on the integer grid
        v = make_game(COURNOT, {"n_firms": n})[0].benchmark().values
        assert v["nash_quantity"] == 120 / (n + 1) == v["nash_action"]
        assert v["collusive_quantity"] == 60 / n == v["collusive_action"]


def test_off_grid_equilibrium_reports_the_grid_error() -> None:
    game, _ = make_game(COURNOT, {"a": 131.0})  # q* = 121/3
    v = game.benchmark().values
    assert v["nash_quantity"] == pytest.approx(121 / 3)
    assert v["nash_action"] == 40 and v["grid_error"] == pytest.approx(1 / 3)
    fine = make_game(COURNOT, {"a": 131.0, "granularity": 3})[0].benchmark().values
    assert fine["nash_action"] == 121 and fine["grid_error"] == pytest.approx(0, abs=1e-12)


def test_bertrand_benchmark_and_both_grid_equilibria() -> None:
    game, _ = make_game(BERTRAND)  # a=130, b=1, c=10
    v = game.benchmark().values
    assert (v["nash_price"], v["nash_profit"], v["grid_error"]) == (10.0, 0.0, 0.0)
    assert (v["grid_nash_low_price"], v["grid_nash_high_price"]) == (10.0, 11.0)
    assert v["grid_nash_high_profit"] == 119 / 2
    assert (v["collusive_price"], v["collusive_profit"]) == (70.0, 1800.0)
    # brute force over every symmetric profile agrees with the scan
    brute = [k for k in range(game.num_actions)
             if not _profitable_deviations(game, (k, k))]
    assert brute == [10, 11] == game.symmetric_grid_equilibria()
    half = make_game(BERTRAND, {"granularity": 2, "n_firms": 3})[0]
    assert half.benchmark().values["grid_nash_high_price"] == 10.5


def test_differentiated_bertrand_benchmark_closed_forms() -> None:
    game, _ = make_game(DIFF)  # alpha=100, beta=2, gamma=1, c=10
    v = game.benchmark().values
    assert (v["nash_price"], v["nash_quantity"], v["nash_profit"]) == (40.0, 60.0, 1800.0)
    assert (v["collusive_price"], v["collusive_profit"]) == (55.0, 2025.0)
    assert (v["competitive_quantity"], v["optimum_total_surplus"]) == (90.0, 8100.0)
    three = make_game(DIFF, {"n_firms": 3, "gamma": 0.5})[0].benchmark().values
    assert three["nash_price"] == (100 + 2 * 10) / (2 * 2 - 0.5 * 2) == 40.0


# ----- equilibrium agents hit the benchmark exactly -------------------------------------
@pytest.mark.parametrize(("env_id", "params", "agent"), [
    (COURNOT, {}, "cournot_nash"),
    (COURNOT, {"n_firms": 3}, "cournot_nash"),
    (COURNOT, {"n_firms": 5, "granularity": 2, "q_max": 60}, "cournot_nash"),
    (BERTRAND, {}, "bertrand_nash"),
    (BERTRAND, {"n_firms": 3}, {"name": "bertrand_nash", "upper": True}),
    (DIFF, {}, "bertrand_nash"),
    (DIFF, {"n_firms": 3, "gamma": 0.5}, "bertrand_nash"),
])
def test_equilibrium_agents_reach_the_benchmark_exactly(env_id: str, params: dict,
                                                        agent: Any) -> None:
    game, result = _play(env_id, {**params, "rounds": 5}, [agent] * params.get("n_firms", 2))
    v = game.benchmark().values
    upper = isinstance(agent, dict)
    action = v["grid_nash_high_action"] if upper else v["nash_action"]
    profit = v["grid_nash_high_profit"] if upper else v["nash_profit"]
    assert (_actions(game, result) == action).all()
    assert result.returns == pytest.approx([5 * profit] * game.num_players, rel=1e-12)
    assert result.metrics["distance_to_benchmark"] == (1 / game.params.granularity if upper
                                                       else 0.0)
    if not upper:
        assert result.metrics["collusion_index"] == 0.0
        assert not _profitable_deviations(game, (int(action),) * game.num_players)
    if "nash_efficiency" in v:
        assert result.metrics["efficiency"] == pytest.approx(v["nash_efficiency"])


def test_collusive_agents_share_the_monopoly_profit() -> None:
    game, result = _play(COURNOT, {"rounds": 3}, ["cournot_collusive"] * 2)
    assert (_actions(game, result) == 30).all()
    assert result.returns == [3 * 1800.0] * 2
    assert result.metrics["collusion_index"] == 1.0
    assert result.metrics["mean_price"] == 70.0
    assert _profitable_deviations(game, (30, 30))  # collusion is not an equilibrium
    assert (0, 45) in _profitable_deviations(game, (30, 30))  # best response (120-30)/2


@pytest.mark.parametrize("env_id", [COURNOT, DIFF])
def test_no_profitable_deviation_from_the_nash_profile_off_defaults(env_id: str) -> None:
    params = ({"n_firms": 3, "a": 90.0, "cost": 6.0} if env_id == COURNOT
              else {"n_firms": 3, "alpha": 60.0, "beta": 3.0, "gamma": 1.0, "cost": 4.0})
    game, _ = make_game(env_id, params)
    v = game.benchmark().values
    assert v["grid_error"] == 0.0  # q* = 84/4 = 21, p* = (60+12)/(6-2) = 18
    assert not _profitable_deviations(game, (int(v["nash_action"]),) * 3)


def test_undercutter_races_down_to_cost() -> None:
    game, result = _play(BERTRAND, {"rounds": 70}, ["bertrand_undercut"] * 2)
    acts = _actions(game, result)
    assert acts[0].tolist() == [70, 70] and acts[1].tolist() == [69, 69]
    assert acts[-1].tolist() == [10, 10]  # floor at cost
    lone = make_agent("bertrand_undercut", game)
    lone.reset(0, 0)
    obs = game.observe(game.initial_state(np.random.default_rng(0)), 0)
    below = Observation(0, obs.view._replace(my_last=5, others_last=(3,)), obs.action_mask)
    assert lone.act(below) == 10  # a rival below cost: stay at cost
    above = Observation(0, obs.view._replace(my_last=70, others_last=(120,)), obs.action_mask)
    assert lone.act(above) == 70  # never chases a rival above the opening (monopoly) price


# ----- stage payoffs and metrics by hand ------------------------------------------------
def test_cournot_stage_payoffs_by_hand() -> None:
    game, _ = make_game(COURNOT)
    assert game.stage_payoffs((30, 50)) == (1200.0, 2000.0)  # P = 130 - 80 = 50
    assert game.stage_payoffs((100, 60)) == (-1000.0, -600.0)  # P = max(0, -30) = 0
    assert game.stage_payoffs((0, 0)) == (0.0, 0.0)
    out = game.outcome((100, 60))
    assert out.price == 0.0 and out.consumer_surplus == 130 ** 2 / 2
    half = make_game(COURNOT, {"granularity": 2})[0]
    assert half.stage_payoffs((81, 80)) == (40.5 * 39.5, 40 * 39.5)  # P = 130 - 80.5


def test_bertrand_stage_payoffs_by_hand_including_ties() -> None:
    game, _ = make_game(BERTRAND)
    assert game.stage_payoffs((20, 30)) == (1100.0, 0.0)  # D(20) = 110 units at margin 10
    assert game.stage_payoffs((20, 20)) == (550.0, 550.0)  # tie: 55 units each
    assert game.stage_payoffs((5, 8)) == (-625.0, 0.0)  # below cost: a loss on D(5) = 125
    assert game.stage_payoffs((130, 130)) == (0.0, 0.0)  # choke price: no demand
    three = make_game(BERTRAND, {"n_firms": 3})[0]
    assert three.stage_payoffs((20, 40, 20)) == (550.0, 0.0, 550.0)
    assert three.outcome((20, 40, 20)).quantities == (55.0, 0.0, 55.0)
    assert three.stage_payoffs((31, 31, 31)) == (21 * 33.0,) * 3  # 99 units / 3


def test_differentiated_stage_payoffs_by_hand() -> None:
    game, _ = make_game(DIFF)
    assert game.stage_payoffs((40, 50)) == (30 * 70.0, 40 * 40.0)  # q = 100-80+50, 100-100+40
    out = game.outcome((100, 0))  # q_0 = 100 - 200 + 0 < 0: cut at 0
    assert out.quantities == (0.0, 200.0) and out.profits == (0.0, -2000.0)
    assert math.isnan(out.consumer_surplus)
    # CS = q' B^-1 q / 2 with B = [[2, -1], [-1, 2]], B^-1 = [[2, 1], [1, 2]] / 3
    q = np.array(game.outcome((40, 50)).quantities)
    inv = np.array([[2.0, 1.0], [1.0, 2.0]]) / 3
    assert game.outcome((40, 50)).consumer_surplus == pytest.approx(q @ inv @ q / 2)


def test_cournot_metrics_on_a_hand_computed_episode() -> None:
    game, _ = make_game(COURNOT, {"rounds": 2})
    state = game.initial_state(np.random.default_rng(0))
    state, r1 = game.step(state, (40, 40), np.random.default_rng(0))
    state, r2 = game.step(state, (30, 30), np.random.default_rng(0))
    assert (r1, r2) == ((1600.0, 1600.0), (1800.0, 1800.0))
    assert game.status(state) is Status.TERMINATED and game.to_move(state) == ()
    m = game.metrics(state)
    assert (m["gain_0"], m["gain_1"], m["fairness"]) == (3400.0, 3400.0, 1.0)
    assert (m["mean_action"], m["distance_to_benchmark"]) == (35.0, 5.0)
    assert (m["total_quantity"], m["mean_price"]) == (70.0, 60.0)
    assert m["consumer_surplus"] == (80 ** 2 / 2 + 60 ** 2 / 2) / 2
    assert m["efficiency"] == pytest.approx(((3200 + 3200) + (1800 + 3600)) / 2 / 7200)
    assert m["collusion_index"] == pytest.approx((1700 - 1600) / (1800 - 1600))


def test_bertrand_metrics_use_the_lowest_price() -> None:
    game, _ = make_game(BERTRAND, {"rounds": 1})
    state = game.step(game.initial_state(np.random.default_rng(0)), (20, 30),
                      np.random.default_rng(0)).state
    m = game.metrics(state)
    assert (m["mean_price"], m["total_quantity"], m["mean_action"]) == (20.0, 110.0, 25.0)
    assert m["consumer_surplus"] == 110 ** 2 / 2
    assert m["efficiency"] == pytest.approx((110 ** 2 / 2 + 1100) / 7200)
    assert m["distance_to_benchmark"] == 15.0


def test_views_and_encoding() -> None:
    game, _ = make_game(COURNOT, {"n_firms": 3, "rounds": 4})
    rng = np.random.default_rng(0)
    state = game.initial_state(rng)
    assert game.view(state, 1).my_last == -1 and not game.encode(state, 1).any()
    state = game.step(state, (10, 20, 60), rng).state
    v = game.view(state, 1)
    assert (v.my_last, v.others_last, v.price_last) == (20, (10, 60), 40.0)
    assert (v.my_quantity_last, v.my_profit_last, v.my_total) == (20.0, 600.0, 600.0)
    np.testing.assert_allclose(game.encode(state, 1), [0.25, 20 / 120, 35 / 120, 10 / 120, 0.5])


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 4), rounds=st.integers(1, 4), data=st.data())
def test_random_play_invariants(n: int, rounds: int, data: st.DataObject) -> None:
    for env_id in (COURNOT, BERTRAND, DIFF):
        params = {"n_firms": n, "rounds": rounds, **({"gamma": 0.5} if env_id == DIFF else {})}
        game, _ = make_game(env_id, params)
        state = game.initial_state(np.random.default_rng(0))
        while game.status(state) is Status.RUNNING:
            joint = tuple(data.draw(st.integers(0, game.num_actions - 1)) for _ in range(n))
            out = game.outcome(joint)
            state, rewards = game.step(state, joint, np.random.default_rng(0))
            assert rewards == game.stage_payoffs(joint)
            assert all(q >= 0 for q in out.quantities)
            if env_id == BERTRAND:  # only the cheapest firms sell, and all of the demand
                assert sum(out.quantities) == pytest.approx(game.demand(out.price))
                assert all(q == 0 for k, q in zip(joint, out.quantities) if k > min(joint))
            if env_id == COURNOT:  # revenue is price times everything produced
                assert sum(rewards) == pytest.approx((out.price - 10) * sum(out.quantities))
        assert state.round == rounds and game.to_move(state) == ()
        assert 0.0 <= game.metrics(state)["fairness"] <= 1.0


# ----- text face ---------------------------------------------------------------------
@pytest.mark.parametrize("env_id", [COURNOT, BERTRAND, DIFF])
def test_three_framings_word_the_same_numbers(env_id: str) -> None:
    rules = {f: make_game(env_id, {"framing": f})[1].rules(0) for f in FRAMINGS}
    assert len(set(rules.values())) == len(FRAMINGS) == 3
    assert "farmer" in rules["farmers_market"] or "stall" in rules["farmers_market"]
    assert "marginal cost" in rules["economics"]
    choke = "100" if env_id == DIFF else "130"
    for text in rules.values():
        assert "10" in text and choke in text


def test_text_round_trip_on_a_fine_grid_and_render() -> None:
    game, text = make_game(BERTRAND, {"granularity": 4, "p_max": 20})
    rng = np.random.default_rng(0)
    state = game.step(game.initial_state(rng), (42, 50), rng).state
    obs = game.observe(state, 0)
    assert text.action_schema(obs)["properties"]["price"]["maximum"] == 80
    assert text.parse(text.format_action(42, obs), obs) == 42
    assert "steps of 1/4" in text.rules(0)
    prose = text.render(obs)
    assert "10.5" in prose and "12.5" in prose and '"price"' in prose


# ----- bad parameters ----------------------------------------------------------------
@pytest.mark.parametrize(("env_id", "params", "name"), [
    (COURNOT, {"n_firms": 1}, "n_firms"),
    (COURNOT, {"n_firms": 2.0}, "n_firms"),
    (COURNOT, {"rounds": 0}, "rounds"),
    (COURNOT, {"cost": -1}, "cost"),
    (COURNOT, {"cost": "10"}, "cost"),
    (COURNOT, {"a": 5.0}, "a"),
    (COURNOT, {"b": 0}, "b"),
    (COURNOT, {"q_max": 0}, "q_max"),
    (COURNOT, {"granularity": 0}, "granularity"),
    (COURNOT, {"granularity": 10_000}, "granularity"),
    (COURNOT, {"framing": "pirates"}, "framing"),
    (BERTRAND, {"p_max": 5}, "p_max"),
    (BERTRAND, {"a": float("nan")}, "a"),
    (DIFF, {"gamma": 2.0}, "gamma"),
    (DIFF, {"n_firms": 3}, "gamma"),  # beta = 2 = gamma (n-1): own price no longer dominates
    (DIFF, {"gamma": -0.5}, "gamma"),
    (DIFF, {"beta": 0}, "beta"),
    (DIFF, {"alpha": 5.0}, "alpha"),
    (DIFF, {"q_max": 10}, "q_max"),  # unknown key: "unknown parameter(s) ['q_max']"
])
def test_bad_params_raise_config_error_naming_the_parameter(env_id: str, params: dict,
                                                            name: str) -> None:
    with pytest.raises(ConfigError, match=rf"parameter {name}=|\['{name}'\]"):
        make_game(env_id, params)


def test_agents_refuse_bad_parameters_and_other_games() -> None:
    cournot, _ = make_game(COURNOT)
    bertrand, _ = make_game(BERTRAND)
    diff, _ = make_game(DIFF)
    with pytest.raises(ConfigError, match="Bertrand"):
        make_agent("cournot_nash", bertrand)
    with pytest.raises(ConfigError, match="Cournot"):
        make_agent("bertrand_undercut", cournot)
    with pytest.raises(ConfigError, match="upper"):
        make_agent({"name": "bertrand_nash", "upper": "yes"})
    with pytest.raises(ConfigError, match="upper"):
        make_agent({"name": "bertrand_nash", "upper": True}, diff)
    with pytest.raises(ConfigError, match="first_price"):
        make_agent({"name": "bertrand_undercut", "first_price": -1})
    agent = make_agent("cournot_nash")  # no game: it cannot know q*
    with pytest.raises(ConfigError, match="setup"):
        agent.act(cournot.observe(cournot.initial_state(np.random.default_rng(0)), 0))


def test_every_profile_of_a_tiny_cournot_grid_is_checked() -> None:
    """Exhaustive on a 0..6 grid with a=8, c=2 (q* = 2): (2, 2) is an equilibrium, and so are
    (1, 3) and (3, 1), because on a grid best responses to odd quantities tie."""
    game, _ = make_game(COURNOT, {"a": 8.0, "cost": 2.0, "q_max": 6})
    assert game.benchmark().values["nash_action"] == 2
    equilibria = [prof for prof in itertools.product(range(7), repeat=2)
                  if not _profitable_deviations(game, prof)]
    assert equilibria == [(1, 3), (2, 2), (3, 1)]
