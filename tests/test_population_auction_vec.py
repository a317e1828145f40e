"""Auction populations as arrays: the batched rules replay the core's step with the same
generators (values, tie-breaks), bid tables equal the bidders' acts, the kernel's payoffs and
metrics are the episodes engine's for the same seeds, revenue theory, and typed errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agora.agents import make_agent
from agora.agents.bid_rule import BidRule, bid_rule_of, bid_tables
from agora.envs import ConfigError
from agora.envs.core import Status
from agora.envs.errors import GameOverError, IllegalActionError
from agora.envs.games.auction import RULES, AuctionGame, AuctionParams, grid_revenue
from agora.envs.games.auction_vec import AuctionVec
from agora.experiments.population.auction_kernel import play_auction_groups
from agora.experiments.population.config import parse_evolve_config
from agora.experiments.population.engine import PayoffEngine
from agora.experiments.population.evolve import run_evolve
from agora.experiments.population.matching import make_matching
from agora.experiments.population.population import Population

ENV = {"first_price": "FirstPriceAuction-v1", "second_price": "SecondPriceAuction-v1",
       "all_pay": "AllPayAuction-v1"}


@st.composite
def auction_params(draw: Any) -> AuctionParams:
    return AuctionParams(rule=draw(st.sampled_from(RULES)), n_players=draw(st.integers(2, 6)),
                         value_max=draw(st.sampled_from([1.0, 7.5, 100.0, 3])),
                         granularity=draw(st.integers(1, 40)), rounds=draw(st.integers(1, 5)))


@settings(max_examples=50, deadline=None)
@given(auction_params(), st.integers(0, 2**32), st.integers(0, 3))
def test_batched_step_replays_the_core_with_the_same_generators(p, seed, spread):
    """Bids from a narrow range make ties (the core draws a winner) frequent."""
    game, vec, groups = AuctionGame(p), AuctionVec(p), 5
    bids_rng = np.random.default_rng(seed)
    core_rngs = [np.random.default_rng([seed, g]) for g in range(groups)]
    vec_rngs = [np.random.default_rng([seed, g]) for g in range(groups)]
    cores = [game.initial_state(r) for r in core_rngs]
    state = vec.reset(vec_rngs)
    while state.status is Status.RUNNING:
        top = min(p.granularity, spread)
        bids = p.granularity - bids_rng.integers(0, top + 1, (groups, p.n_players))
        state, rewards = vec.step(state, bids, vec_rngs)
        steps = [game.step(c, tuple(b), r)
                 for c, b, r in zip(cores, bids.tolist(), core_rngs, strict=True)]
        cores = [s.state for s in steps]
        assert rewards.tolist() == [list(s.rewards) for s in steps]
        assert state.values.tolist() == [list(c.values) for c in cores]
        assert state.last_winner.tolist() == [c.last_winner for c in cores]
        assert state.totals.tolist() == [list(c.totals) for c in cores]
        for name in ("revenue", "winner_value", "top_value", "highest_wins", "distance"):
            assert getattr(state, name).tolist() == [getattr(c, name) for c in cores], name
        assert all(c.status is state.status and c.round == state.round for c in cores)
    for g, c in enumerate(cores):
        got = {k: float(v[g]) for k, v in vec.metrics(state).items()}
        assert got == pytest.approx(game.metrics(c), rel=0, abs=1e-12)
    with pytest.raises(GameOverError):
        vec.step(state, bids, vec_rngs)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("spec", ["auction_truthful", "auction_bne",
                                  {"name": "auction_shade", "fraction": 0.35},
                                  {"name": "auction_shade", "fraction": 0.5}])
def test_bid_tables_equal_the_bidders_acts(rule, spec):
    p = AuctionParams(rule=rule, n_players=4, granularity=60)
    game, table = AuctionGame(p), bid_rule_of(spec).table(p)
    agent = make_agent(spec, game)
    agent.reset(seed=0, player=1)
    state = game.initial_state(np.random.default_rng(0))
    acts = [agent.act(game.observe(state._replace(values=(0, v, 0, 0)), 1))
            for v in range(61)]
    assert table.tolist() == acts


@pytest.mark.parametrize("rule, params", [
    ("first_price", {"n_players": 3, "granularity": 100, "rounds": 5}),
    ("second_price", {"n_players": 4, "granularity": 7, "rounds": 4}),  # many ties
    ("all_pay", {"n_players": 2, "granularity": 10, "value_max": 3.5, "rounds": 6}),
])
def test_vector_and_episode_engines_give_identical_payoffs_and_metrics(rule, params):
    k = params["n_players"]
    shares = [{"agent": "auction_truthful", "share": 0.3}, {"agent": "auction_bne", "share": 0.3},
              {"agent": "auction_shade", "share": 0.2},
              {"agent": {"name": "auction_shade", "fraction": 0.8}, "share": 0.2}]
    pop = Population.from_shares(shares, 10 * k)
    matches = make_matching({"type": "groups"}, 10 * k, k, 0).matches(
        np.random.default_rng(5))
    engines = [PayoffEngine(ENV[rule], params, pop.strategies, engine=e)
               for e in ("auto", "episodes")]
    assert [e.kind for e in engines] == ["vector", "episodes"]
    vec, eps = (e.play(pop.strategy, matches, seed=3, generation=2) for e in engines)
    assert np.array_equal(vec.payoffs, eps.payoffs)
    assert np.array_equal(vec.rounds, eps.rounds)
    assert set(vec.metrics) == set(eps.metrics)
    for name, values in eps.metrics.items():
        np.testing.assert_allclose(vec.metrics[name], values, rtol=0, atol=1e-12, err_msg=name)
    assert np.isnan(vec.coop).all() and np.isnan(eps.coop).all()


@pytest.mark.slow
@pytest.mark.parametrize("rule, bidder", [("first_price", "auction_bne"),
                                          ("second_price", "auction_truthful"),
                                          ("all_pay", "auction_bne")])
def test_revenue_is_the_grid_theorys_and_equivalent_across_rules(rule, bidder):
    """n = 3 BNE bidders (truthful in the second-price auction), values uniform on a grid
    of 101 points: mean revenue per round within 4 standard errors of the exact grid value,
    which is within a step or two of the continuous (n-1)/(n+1) value_max."""
    p = AuctionParams(rule=rule, n_players=3, granularity=100, rounds=5)
    auctions = 4000
    res = play_auction_groups(bid_tables([bid_rule_of(bidder)], p),
                              np.zeros((auctions, 3), np.int64), p, range(auctions))
    revenue = res.metrics["revenue"]
    exact = grid_revenue(rule, 3, 100) * p.value_max / p.granularity
    assert abs(revenue.mean() - exact) < 4 * revenue.std() / np.sqrt(auctions)
    assert abs(exact - 0.5 * p.value_max) <= 1.5 * p.value_max / p.granularity
    assert res.metrics["efficiency"].mean() > 0.99


def test_bid_rules_engine_choices_and_bad_inputs_are_typed_errors():
    assert bid_rule_of("auction_random") is None and bid_rule_of("tit_for_tat") is None
    with pytest.raises(ConfigError, match="fraction=1.5"):
        bid_rule_of({"name": "auction_shade", "fraction": 1.5})
    with pytest.raises(ConfigError, match="auction_bne.*not accepted"):
        bid_rule_of({"name": "auction_bne", "fraction": 0.5})
    with pytest.raises(ConfigError, match="kind='linear'"):
        BidRule("x", "linear")
    rand = Population.from_shares({"auction_random": 0.5, "auction_bne": 0.5}, 2).strategies
    assert PayoffEngine("FirstPriceAuction-v1", {}, rand).kind == "episodes"
    with pytest.raises(ConfigError, match="\\['auction_random'\\] have no bid rule"):
        PayoffEngine("FirstPriceAuction-v1", {}, rand, engine="vector")
    p = AuctionParams(granularity=4)
    tables = bid_tables([bid_rule_of("auction_truthful")], p)
    with pytest.raises(ConfigError, match="seeds: want 2 non-negative"):
        play_auction_groups(tables, np.zeros((2, 3), np.int64), p, [0])
    with pytest.raises(ConfigError, match="tables"):
        play_auction_groups(tables[:, :3], np.zeros((2, 3), np.int64), p, [0, 1])
    with pytest.raises(ConfigError, match="non-negative integer"):
        play_auction_groups(tables, np.zeros((1, 3), np.int64), p, [-1])
    vec = AuctionVec(p)
    rngs = [np.random.default_rng(0)]
    with pytest.raises(IllegalActionError, match="0..4"):
        vec.step(vec.reset(rngs), np.array([[0, 5, 1]]), rngs)
    with pytest.raises(ConfigError, match="rule='dutch'"):
        AuctionVec({"rule": "dutch"})


def test_vector_and_episode_engines_give_the_same_whole_run(tmp_path):
    base = {"name": "auction", "env": "AllPayAuction-v1", "seed": 6, "generations": 3,
            "params": {"n_players": 3, "granularity": 20, "rounds": 3},
            "population": {"size": 24, "shares": [
                {"agent": "auction_bne", "share": 0.5},
                {"agent": {"name": "auction_shade", "fraction": 0.3}, "share": 0.5}]},
            "matching": {"type": "groups"},
            "dynamics": {"rule": "fermi", "beta": 1.0, "mutation": 0.05, "updates": 6},
            "reporters": {"model": ["count", "share", "mean_payoff", "metric.revenue"]}}
    runs = [run_evolve(parse_evolve_config({**base, "engine": e}), tmp_path / e,
                       progress=False) for e in ("vector", "episodes")]
    pd.testing.assert_frame_equal(runs[0].generations, runs[1].generations)
    assert np.array_equal(runs[0].population.strategy, runs[1].population.strategy)
