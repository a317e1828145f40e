"""Public goods populations as arrays: the batched rules equal the core's step, the
contribution rules equal the heuristics (the vector engine's payoffs are the episode loop's),
closed forms, and bad specs that are ConfigErrors naming the key."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from agora.agents.group_rule import GroupRule, contributions, group_rule_of
from agora.envs import ConfigError
from agora.envs.core import Status
from agora.envs.errors import GameOverError, IllegalActionError
from agora.envs.games.public_goods import PublicGoodsGame, PublicGoodsParams
from agora.envs.games.public_goods_vec import PublicGoodsVec
from agora.experiments.population.config import parse_evolve_config
from agora.experiments.population.engine import PayoffEngine
from agora.experiments.population.evolve import run_evolve
from agora.experiments.population.group_kernel import play_groups
from agora.experiments.population.matching import make_matching
from agora.experiments.population.population import Population


def _share(agent: Any, share: float) -> dict[str, Any]:
    return {"agent": agent, "share": share}


MIX = [  # ties at .5 (2.5 and 7.5 tokens) check round-half-to-even
    _share({"name": "fixed_contributor", "fraction": 0.0}, 0.15),
    _share({"name": "fixed_contributor", "fraction": 0.125}, 0.15),
    _share({"name": "conditional_cooperator", "initial": 0.375, "slope": 0.7}, 0.2),
    _share({"name": "conditional_cooperator", "initial": 1.0, "slope": 1.3}, 0.15),
    _share("conditional_cooperator", 0.1),
    _share({"name": "threshold_contributor", "threshold": 0.3, "below": 0.125}, 0.15),
    _share("threshold_contributor", 0.1),
]


@pytest.mark.parametrize("params", [
    {"n_players": 4, "endowment": 20, "multiplier": 1.6, "rounds": 5},
    {"n_players": 5, "endowment": 7, "multiplier": 1.7, "rounds": 4},
    {"n_players": 3, "endowment": 10, "multiplier": 2, "rounds": 3},  # an int multiplier
    {"n_players": 2, "endowment": 1, "multiplier": 0.3, "rounds": 2},
])
def test_batched_rules_equal_the_core_step_on_random_contributions(params):
    game, vec, groups = PublicGoodsGame(params), PublicGoodsVec(params), 40
    rng = np.random.default_rng(7)
    cores = [game.initial_state(rng) for _ in range(groups)]
    state = vec.reset(groups)
    for _ in range(params["rounds"]):
        acts = rng.integers(0, params["endowment"] + 1, (groups, params["n_players"]))
        state, rewards = vec.step(state, acts)
        steps = [game.step(s, tuple(a), rng) for s, a in zip(cores, acts.tolist(), strict=True)]
        cores = [r.state for r in steps]
        assert rewards.tolist() == [list(r.rewards) for r in steps]
        assert state.totals.tolist() == [list(s.totals) for s in cores]
        assert state.contributed.tolist() == [s.contributed for s in cores]
        assert state.last.tolist() == [list(s.last) for s in cores]
        assert all((state.round, state.status) == (s.round, s.status) for s in cores)
    assert state.status == Status.TERMINATED
    with pytest.raises(GameOverError):
        vec.step(state, acts)


def test_vector_and_episode_engines_give_identical_payoffs():
    pop = Population.from_shares(MIX, 60)
    params = {"n_players": 5, "endowment": 20, "multiplier": 1.7, "rounds": 6}
    matches = make_matching({"type": "groups"}, 60, 5, 0).matches(np.random.default_rng(3))
    engines = [PayoffEngine("PublicGoods-v1", params, pop.strategies, engine=e)
               for e in ("auto", "episodes")]
    assert [e.kind for e in engines] == ["vector", "episodes"]
    vec, eps = (e.play(pop.strategy, matches, seed=1, generation=2) for e in engines)
    assert np.array_equal(vec.payoffs, eps.payoffs)
    assert np.array_equal(vec.rounds, eps.rounds)
    # coop: the seat's contributions in endowments; the episodes engine's group mean
    assert np.allclose(vec.coop.mean(axis=1), eps.coop[:, 0], rtol=0, atol=1e-12)
    assert len(set(map(tuple, pop.strategy[matches].tolist()))) > 5  # mixed groups


def test_vector_and_episode_engines_give_the_same_whole_run(tmp_path):
    base = {"name": "pg", "env": "PublicGoods-v1", "seed": 5, "generations": 3,
            "params": {"n_players": 4, "endowment": 20, "multiplier": 1.6, "rounds": 4},
            "population": {"size": 32, "shares": MIX}, "matching": {"type": "groups"},
            "dynamics": {"rule": "fermi", "beta": 1.0, "mutation": 0.05, "updates": 8}}
    runs = [run_evolve(parse_evolve_config({**base, "engine": e}), tmp_path / e,
                       progress=False) for e in ("vector", "episodes")]
    same = [c for c in runs[0].generations.columns if c != "coop_rate"]
    pd.testing.assert_frame_equal(runs[0].generations[same], runs[1].generations[same])
    assert np.array_equal(runs[0].population.strategy, runs[1].population.strategy)


@pytest.mark.parametrize("x", [0.0, 0.25, 0.55, 1.0])
def test_conditional_cooperators_with_slope_one_keep_their_start(x):
    """k such players give round(x E) every round: each earns E - c + m c per round."""
    e, m, k, r = 20, 1.6, 4, 7
    rules = group_rule_of({"name": "conditional_cooperator", "initial": x}).row()[None]
    res = play_groups(rules, np.zeros((3, k), np.int64), PublicGoodsParams(k, e, m, r))
    c = round(x * e)
    assert res.contributions.tolist() == [[r * c] * k] * 3 and res.rounds == r
    assert np.allclose(res.payoffs, r * (e - c + m * c), rtol=1e-14)


def test_free_riders_earn_the_pot_of_full_contributors():
    e, m, k, r = 10, 3.0, 3, 2
    rules = np.stack([group_rule_of({"name": "fixed_contributor", "fraction": f}).row()
                      for f in (0.0, 1.0)])
    res = play_groups(rules, np.array([[0, 1, 1]]), PublicGoodsParams(k, e, m, r))
    assert res.payoffs.tolist() == [[r * (e + m * 2 * e / k), r * m * 2 * e / k,
                                     r * m * 2 * e / k]]


def test_threshold_rule_steps_at_the_threshold():
    rule = group_rule_of({"name": "threshold_contributor", "threshold": 0.5, "below": 0.25})
    rows = np.stack([[rule.row()] * 3] * 3)
    last = np.array([[0, 10, 10], [0, 9, 10], [20, 0, 20]])  # others' mean 10, 9.5, 10...
    assert contributions(rows, last, 20).tolist() == [[20, 5, 5], [5, 5, 5], [20, 20, 20]]
    assert [rule.contribution(20, tuple(o)) for o in ([10, 10], [9, 10])] == [20, 5]


@pytest.mark.parametrize("spec, key", [
    ({"name": "fixed_contributor", "fraction": 1.5}, "fraction=1.5"),
    ({"name": "fixed_contributor", "fraction": True}, "fraction=True"),
    ({"name": "conditional_cooperator", "slope": -1}, "slope=-1"),
    ({"name": "conditional_cooperator", "initial": "half"}, "initial='half'"),
    ({"name": "conditional_cooperator", "steepness": 2}, "steepness"),
    ({"name": "threshold_contributor", "above": 2}, "above=2"),
    ({"name": "threshold_contributor", "threshold": -0.1}, "threshold=-0.1"),
])
def test_bad_rule_specs_are_config_errors_naming_the_key(spec, key):
    with pytest.raises(ConfigError, match=key):
        group_rule_of(spec)


def test_bad_tables_seats_and_actions_are_typed_errors():
    with pytest.raises(ConfigError, match="below=2"):
        GroupRule("x", 0.0, 0.0, 0.0, 0.0, 2)
    params = PublicGoodsParams(3, 10, 1.5, 2)
    rules = np.zeros((2, 5))
    with pytest.raises(ConfigError, match="seats must be a \\(G, 3\\)"):
        play_groups(rules, np.zeros((4, 2), np.int64), params)
    with pytest.raises(ConfigError, match="strategy indices in \\[0, 2\\)"):
        play_groups(rules, np.full((4, 3), 2), params)
    with pytest.raises(ConfigError, match="rules"):
        play_groups(np.zeros((2, 4)), np.zeros((4, 3), np.int64), params)
    with pytest.raises(ConfigError, match="n_players=1"):
        PublicGoodsVec({"n_players": 1})
    vec = PublicGoodsVec(params)
    with pytest.raises(IllegalActionError, match="0..10"):
        vec.step(vec.reset(1), np.array([[0, 11, 3]]))


@pytest.mark.parametrize("changes, message", [
    ({"engine": "vector", "strategies": ["random"]},
     "engine=vector: strategies \\['random'\\] have no contribution rule"),
    ({"noise": 0.1}, "noise=0.1 needs the vector engine with memory-one"),
    ({"backend": "torch"}, "backend='torch'.*play on numpy"),
])
def test_engine_options_the_groups_cannot_honour_are_config_errors(changes, message):
    strategies = [Population.from_shares({s: 1.0}, 1).strategies[0]
                  for s in changes.pop("strategies", ["conditional_cooperator"])]
    with pytest.raises(ConfigError, match=message):
        PayoffEngine("PublicGoods-v1", {}, strategies, **changes)
    assert PayoffEngine("PublicGoods-v1", {}, strategies, engine="episodes").kind == "episodes"
