"""Commons populations as arrays: the batched rules equal the core's step and the heuristics'
acts on random states, the kernel's payoffs and metrics are the episodes engine's, closed
forms (the sustainable split, the tragedy), and bad specs that are typed errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agora.agents import make_agent
from agora.agents.commons_rule import (
    GREEDY,
    RECIPROCAL,
    SUSTAINABLE,
    commons_rule_of,
    requests,
)
from agora.envs import ConfigError
from agora.envs.core import Status
from agora.envs.errors import GameOverError, IllegalActionError
from agora.envs.games.commons import CommonsGame, CommonsParams, CommonsState
from agora.envs.games.commons import allocate as core_allocate
from agora.envs.games.commons_vec import CommonsVec, VecCommonsState, allocate
from agora.experiments.population.commons_kernel import play_commons_groups
from agora.experiments.population.config import parse_evolve_config
from agora.experiments.population.engine import PayoffEngine
from agora.experiments.population.evolve import run_evolve
from agora.experiments.population.matching import make_matching
from agora.experiments.population.population import Population

NAMES = ("commons_sustainable", "commons_greedy", "commons_reciprocal")


@st.composite
def commons_params(draw: Any) -> CommonsParams:
    capacity = draw(st.integers(4, 120))
    numbers = {"n_players": draw(st.integers(2, 6)), "max_harvest": draw(st.integers(1, 40)),
               "rounds": draw(st.integers(1, 9))}
    try:
        return CommonsParams(capacity=capacity, floor=draw(st.integers(1, capacity // 3)),
                             growth=draw(st.sampled_from([1.3, 1.5, 2.0, 2.3, 3, 1.75])),
                             **numbers)
    except ConfigError:  # no sustainable harvest: the defaults' stock
        return CommonsParams(**numbers)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_allocation_equals_the_cores_rationing(data):
    n = data.draw(st.integers(2, 7))
    rows = data.draw(st.lists(st.tuples(
        st.lists(st.integers(0, 30), min_size=n, max_size=n), st.integers(1, 90),
        st.integers(0, n - 1)), min_size=1, max_size=12))
    req, stock, first = (np.array(c) for c in zip(*rows, strict=True))
    want = [core_allocate(tuple(r), s, f) for r, s, f in rows]
    assert allocate(req, stock, first).tolist() == [list(w) for w in want]


@settings(max_examples=40, deadline=None)
@given(commons_params(), st.data())
def test_batched_step_equals_the_core_step_on_random_states(p, data):
    game, vec, groups, n = CommonsGame(p), CommonsVec(p), 6, p.n_players
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32)))
    rounds = rng.integers(0, p.rounds, groups)
    stock = rng.integers(p.floor, p.capacity + 1, groups)
    last = np.where(rounds[:, None] > 0, rng.integers(0, p.max_harvest + 1, (groups, n)), -1)
    totals = rng.integers(0, 50, (groups, n))
    acts = rng.integers(0, p.max_harvest + 1, (groups, n))
    done = np.zeros(groups, bool)
    state, rewards = vec.step(VecCommonsState(rounds, stock, last, totals, done, done), acts)
    for g in range(groups):
        core = CommonsState(int(rounds[g]), int(stock[g]),
                            tuple(last[g]) if rounds[g] else (), tuple(totals[g]), False,
                            Status.RUNNING)
        res = game.step(core, tuple(acts[g].tolist()), rng)
        s = res.state
        assert rewards[g].tolist() == list(res.rewards)
        assert (int(state.round[g]), int(state.stock[g]), tuple(state.last[g]),
                tuple(state.totals[g]), bool(state.collapsed[g])) == (
            s.round, s.stock, s.last, s.totals, s.collapsed)
        assert bool(state.done[g]) == (s.status is Status.TERMINATED)
        metrics = {k: float(v[g]) for k, v in vec.metrics(state).items()}
        assert metrics == pytest.approx(game.metrics(s), rel=0, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(commons_params(), st.data())
def test_batched_requests_equal_the_heuristics_acts(p, data):
    game, n, groups = CommonsGame(p), p.n_players, 5
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32)))
    codes = rng.integers(0, 3, (groups, n))
    rounds = rng.integers(0, p.rounds, groups)
    stock = rng.integers(p.floor, p.capacity + 1, groups)
    # harvests near the fair ceiling, so offences and non-offences both occur
    ceiling = -(-game.sustainable_total // n)
    hist = rng.integers(0, min(p.max_harvest, 2 * ceiling) + 1, (2, groups, n))
    last = np.where(rounds[:, None] > 0, hist[0], -1)
    before = np.where(rounds[:, None] > 1, hist[1], -1)
    got = requests(codes, stock, rounds, last, before, p)
    for g in range(groups):
        core = CommonsState(int(rounds[g]), int(stock[g]),
                            tuple(last[g]) if rounds[g] else (), (0,) * n, False,
                            Status.RUNNING)
        for i in range(n):
            agent = make_agent(NAMES[codes[g, i]], game)
            agent.reset(seed=0, player=i)
            if codes[g, i] == RECIPROCAL:
                agent._before = tuple(before[g]) if rounds[g] > 1 else ()
            assert got[g, i] == agent.act(game.observe(core, i)), (g, i)


@pytest.mark.parametrize("params", [
    {"n_players": 5, "capacity": 100, "growth": 2.0, "floor": 5, "max_harvest": 20,
     "rounds": 12},
    {"n_players": 3, "capacity": 37, "growth": 1.5, "floor": 4, "max_harvest": 9,
     "rounds": 8},
    {"n_players": 4, "capacity": 50, "growth": 2.3, "floor": 10, "max_harvest": 15,
     "rounds": 10},
])
def test_vector_and_episode_engines_give_identical_payoffs_and_metrics(params):
    k = params["n_players"]
    pop = Population.from_shares({"commons_sustainable": 0.5, "commons_greedy": 0.2,
                                  "commons_reciprocal": 0.3}, 12 * k)
    matches = make_matching({"type": "groups"}, 12 * k, k, 0).matches(
        np.random.default_rng(4))
    engines = [PayoffEngine("Commons-v1", params, pop.strategies, engine=e)
               for e in ("auto", "episodes")]
    assert [e.kind for e in engines] == ["vector", "episodes"]
    vec, eps = (e.play(pop.strategy, matches, seed=2, generation=1) for e in engines)
    assert np.array_equal(vec.payoffs, eps.payoffs)
    assert np.array_equal(vec.rounds, eps.rounds)
    assert set(vec.metrics) == set(eps.metrics)
    for name, values in eps.metrics.items():
        np.testing.assert_allclose(vec.metrics[name], values, rtol=0, atol=1e-12, err_msg=name)
    assert 0 < eps.metrics["collapsed"].sum() < len(matches)  # some groups collapse
    assert np.isnan(eps.coop).all() and (vec.coop <= vec.rounds[:, None]).all()


def test_sustainable_groups_split_the_maximum_sustainable_yield():
    p = CommonsParams(n_players=4, capacity=100, growth=2.0, floor=5, max_harvest=20,
                      rounds=7)
    res = play_commons_groups(np.array([SUSTAINABLE, RECIPROCAL]),
                              np.array([[0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 0, 1]]), p)
    h = CommonsGame(p).sustainable_total  # 50: 12 or 13 units each, rotating
    assert res.payoffs.sum(axis=1).tolist() == [7 * h] * 3
    assert res.rounds.tolist() == [7] * 3 and res.coop.tolist() == [[7] * 4] * 3
    assert np.abs(res.payoffs - 7 * h / 4).max() <= 1


def test_greedy_groups_meet_the_tragedy_benchmark():
    p = CommonsParams(n_players=5, capacity=100, growth=2.0, floor=5, max_harvest=20,
                      rounds=12)
    bench = CommonsGame(p).benchmark().values
    res = play_commons_groups(np.array([GREEDY]), np.zeros((2, 5), np.int64), p)
    assert res.payoffs.sum(axis=1).tolist() == [bench["greedy_total_harvest"]] * 2
    assert res.metrics["collapsed"].tolist() == [bench["greedy_collapsed"]] * 2
    assert (res.coop == 0).all()


def test_engine_errors_and_rule_specs():
    assert commons_rule_of("commons_greedy").code == GREEDY
    assert commons_rule_of("random") is None
    with pytest.raises(ConfigError, match="commons_greedy.*not accepted"):
        commons_rule_of({"name": "commons_greedy", "greed": 2})
    random = Population.from_shares({"random": 1.0}, 1).strategies
    with pytest.raises(ConfigError, match="strategies \\['random'\\] have no commons rule"):
        PayoffEngine("Commons-v1", {}, random, engine="vector")
    greedy = Population.from_shares({"commons_greedy": 1.0}, 1).strategies
    with pytest.raises(ConfigError, match="backend='torch'"):
        PayoffEngine("Commons-v1", {}, greedy, backend="torch")
    with pytest.raises(ConfigError, match="seats must be a \\(G, 5\\)"):
        play_commons_groups(np.array([0]), np.zeros((2, 3), np.int64), {})
    with pytest.raises(ConfigError, match="floor=0"):
        CommonsVec({"floor": 0})
    vec = CommonsVec({"n_players": 2, "max_harvest": 3, "rounds": 1})
    with pytest.raises(IllegalActionError, match="0..3"):
        vec.step(vec.reset(1), np.array([[0, 4]]))
    with pytest.raises(GameOverError):
        vec.step(vec.step(vec.reset(1), np.array([[1, 1]]))[0], np.array([[1, 1]]))


def test_vector_and_episode_engines_give_the_same_whole_run(tmp_path):
    base = {"name": "commons", "env": "Commons-v1", "seed": 4, "generations": 3,
            "params": {"n_players": 4, "capacity": 60, "floor": 6, "max_harvest": 12,
                       "rounds": 6},
            "population": {"size": 24, "shares": {n: 1 / 3 for n in NAMES}},
            "matching": {"type": "groups"},
            "dynamics": {"rule": "fermi", "beta": 1.0, "mutation": 0.05, "updates": 6},
            "reporters": {"model": ["count", "share", "mean_payoff", "coop_rate",
                                    "metric.collapsed", "metric.fairness"]}}
    runs = [run_evolve(parse_evolve_config({**base, "engine": e}), tmp_path / e,
                       progress=False) for e in ("vector", "episodes")]
    same = [c for c in runs[0].generations.columns if c != "coop_rate"]
    pd.testing.assert_frame_equal(runs[0].generations[same], runs[1].generations[same])
    assert np.array_equal(runs[0].population.strategy, runs[1].population.strategy)
    assert runs[1].generations["coop_rate"].isna().all()
    assert runs[0].generations["coop_rate"].between(0, 1).all()
