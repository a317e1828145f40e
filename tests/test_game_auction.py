"""Theory of the sealed-bid auctions (first price, second price, all-pay).

Values are uniform on the grid ``0..granularity`` and bids live on the same grid, so the
continuous-value theory holds up to stated grid tolerances:

* expected revenue of the rounded BNE on the grid vs ``(n-1)/(n+1) value_max``: within one
  grid step (first and second price) and ``n/2`` steps (all-pay, where every bidder's
  rounding adds to the revenue);
* the rounded BNE is an epsilon-equilibrium of the grid game: ex ante a deviation gains at
  most a quarter of a step; for a known value at most one step (first price) or ``n/2``
  steps (all-pay);
* efficiency: the winner's value is at most ``tie_gap_steps`` below the highest value
  (neighbouring values can round to one bid; the tie is broken at random).

Monte Carlo checks use a fixed seed and a 4-standard-error band.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agora.agents import make_agent
from agora.agents.auction import AuctionBNE
from agora.envs import ConfigError, Status, make, make_game, spec
from agora.envs.games.auction import (
    RULES,
    AuctionGame,
    AuctionState,
    bne_bid,
    bne_bid_steps,
    expected_payoffs,
    grid_revenue,
    payments,
    settle,
    tie_gap_steps,
)

IDS = {
    "first_price": "FirstPriceAuction-v1",
    "second_price": "SecondPriceAuction-v1",
    "all_pay": "AllPayAuction-v1",
}
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _game(rule: str, **params: Any) -> AuctionGame:
    game, _ = make_game(IDS[rule], params)
    assert isinstance(game, AuctionGame)
    return game


def _revenue_tolerance_steps(rule: str, n: int) -> float:
    return n / 2 if rule == "all_pay" else 1.0


def _play(
    game: AuctionGame, agents: list[Any], seed: int
) -> tuple[AuctionState, list[tuple[AuctionState, tuple[int, ...], Any]]]:
    """Plays the core directly; returns the end state and (state, bids, step result)."""
    rng = np.random.default_rng(seed)
    for i, agent in enumerate(agents):
        agent.reset(seed + 1 + i, i)
    state = game.initial_state(rng)
    log = []
    while game.status(state) is Status.RUNNING:
        bids = tuple(a.act(game.observe(state, i)) for i, a in enumerate(agents))
        result = game.step(state, bids, rng)
        log.append((state, bids, result))
        state = result.state
    return state, log


def _state(game: AuctionGame, values: tuple[int, ...]) -> AuctionState:
    return game.initial_state(np.random.default_rng(0))._replace(values=values)


# ----- closed forms -------------------------------------------------------------------
@pytest.mark.parametrize("n", range(2, 7))
def test_revenue_equivalence_in_the_benchmark(n: int) -> None:
    marks = [_game(rule, n_players=n, value_max=10.0).benchmark().values for rule in RULES]
    for b in marks:
        assert b["expected_revenue"] == pytest.approx(10.0 * (n - 1) / (n + 1))
        assert b["efficiency"] == 1.0
        # surplus splits into revenue and bidder payoffs: E[max value] = R + n * u
        assert b["expected_highest_value"] == pytest.approx(
            b["expected_revenue"] + n * b["expected_bidder_payoff"]
        )
    assert marks[0]["bid_at_value_max"] == pytest.approx(10.0 * (n - 1) / n)
    assert marks[1]["bid_at_value_max"] == pytest.approx(10.0)
    assert marks[2]["bid_at_value_max"] == pytest.approx(10.0 * (n - 1) / n)


def test_bne_bid_functions() -> None:
    assert bne_bid("first_price", 4, 0.8) == pytest.approx(0.6)
    assert bne_bid("second_price", 4, 0.8) == pytest.approx(0.8)
    assert bne_bid("all_pay", 3, 0.5) == pytest.approx(2 / 3 * 0.125)
    assert [bne_bid_steps("first_price", 3, v, 100) for v in (0, 1, 2, 75, 100)] == [
        0,
        1,
        1,
        50,
        67,
    ]
    assert [bne_bid_steps("all_pay", 2, v, 10) for v in (0, 3, 5, 10)] == [0, 0, 1, 5]
    assert all(bne_bid_steps("second_price", 5, v, 37) == v for v in range(38))


@pytest.mark.parametrize("rule", RULES)
def test_grid_revenue_within_the_stated_tolerance_of_the_continuous_value(rule: str) -> None:
    for n in range(2, 9):
        tol = _revenue_tolerance_steps(rule, n)
        for g in [*range(1, 13), 20, 50, 100, 137]:
            gap = grid_revenue(rule, n, g) - g * (n - 1) / (n + 1)
            assert abs(gap) < tol, (n, g, gap)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize(("n", "g"), [(2, 9), (3, 6), (4, 3)])
def test_grid_revenue_equals_brute_force_enumeration(rule: str, n: int, g: int) -> None:
    total = 0.0
    for values in itertools.product(range(g + 1), repeat=n):
        bids = tuple(bne_bid_steps(rule, n, v, g) for v in values)
        top = max(bids)
        tied = [i for i, b in enumerate(bids) if b == top]
        total += sum(sum(payments(rule, bids, w)) for w in tied) / len(tied)
    assert grid_revenue(rule, n, g) == pytest.approx(total / (g + 1) ** n)


# ----- Monte Carlo: revenue equivalence and efficiency ---------------------------------
@pytest.mark.parametrize("rule", RULES)
def test_monte_carlo_revenue_of_bne_bidders_matches_revenue_equivalence(rule: str) -> None:
    rounds = 8000
    game = _game(rule, rounds=rounds)
    n, g = game.num_players, game.params.granularity
    agents = [make_agent("auction_bne", game) for _ in range(n)]
    end, log = _play(game, agents, seed=2024)
    revenue = np.array([r.state.revenue - s.revenue for s, _, r in log], dtype=float)
    se = revenue.std(ddof=1) / math.sqrt(rounds)
    bench = game.benchmark().values
    assert game.metrics(end)["revenue"] == pytest.approx(revenue.mean())
    assert abs(revenue.mean() - bench["expected_revenue_grid"]) < 4 * se
    tol = _revenue_tolerance_steps(rule, n) * bench["grid_step"]
    assert abs(revenue.mean() - bench["expected_revenue"]) < 4 * se + tol
    # efficiency: the winner's value is within the rounding gap of the highest value
    gap = tie_gap_steps(rule, n, g)
    for s, _, r in log:
        assert s.values[r.state.last_winner] >= max(s.values) - gap
    m = game.metrics(end)
    if rule == "second_price":
        assert m["efficiency"] == m["winner_is_highest"] == 1.0
    else:
        assert m["efficiency"] > 0.99 and m["winner_is_highest"] > 0.85
    assert m["distance_to_benchmark"] <= 0.5 * bench["grid_step"]  # rounding only


# ----- second price: truthful bidding is a best response (exact enumeration) -----------
G_SMALL = 12


def _sp_payoff(values: tuple[int, ...], bids: tuple[int, ...]) -> float:
    return expected_payoffs("second_price", values, bids)[0]


@pytest.mark.parametrize("n", [2, 3])
def test_second_price_truthful_weakly_dominates_every_bid(n: int) -> None:
    """Against every opponent bid profile (so against random opponents too), for drawn
    own values, no bid beats bidding one's value."""
    rng = np.random.default_rng(7)
    own_values = {0, G_SMALL, *rng.integers(0, G_SMALL + 1, size=4).tolist()}
    for v in sorted(own_values):
        expected = np.zeros(G_SMALL + 1)
        for others in itertools.product(range(G_SMALL + 1), repeat=n - 1):
            values = (v, *([0] * (n - 1)))  # others' values do not enter their payoffs here
            pay = [_sp_payoff(values, (b, *others)) for b in range(G_SMALL + 1)]
            assert pay[v] >= max(pay) - 1e-12, (v, others)
            expected += pay
        assert expected[v] == pytest.approx(expected.max())  # also vs uniform random bids


def test_second_price_truthful_is_a_best_response_to_bne_opponents() -> None:
    """For drawn values of BNE (truthful) opponents, and in expectation over all their
    values, no grid bid earns more than bidding one's value."""
    n = 3
    game = _game("second_price", granularity=G_SMALL)
    bne = make_agent("auction_bne", game)
    rng = np.random.default_rng(11)
    for _ in range(200):
        state = game.initial_state(rng)
        others = tuple(bne.act(game.observe(state, j)) for j in range(1, n))
        v = state.values[0]
        pay = [_sp_payoff(state.values, (b, *others)) for b in range(G_SMALL + 1)]
        assert pay[v] >= max(pay) - 1e-12
    for v in range(G_SMALL + 1):
        expected = np.zeros(G_SMALL + 1)
        for vals in itertools.product(range(G_SMALL + 1), repeat=n - 1):
            state = _state(game, (v, *vals))
            others = tuple(bne.act(game.observe(state, j)) for j in range(1, n))
            expected += [_sp_payoff(state.values, (b, *others)) for b in range(G_SMALL + 1)]
        assert expected[v] == pytest.approx(expected.max())


# ----- first price and all-pay: the rounded BNE is an epsilon-equilibrium ---------------
def _interim(rule: str, n: int, g: int) -> tuple[np.ndarray, np.ndarray]:
    """``U[k, b]``: exact expected payoff (grid steps) of bidding ``b`` with value ``k``
    against ``n - 1`` BNE opponents with values uniform on ``0..g``; and the BNE table."""
    table = np.array([bne_bid_steps(rule, n, v, g) for v in range(g + 1)])
    q = np.bincount(table, minlength=g + 1) / (g + 1)  # one opponent's bid distribution
    below = np.concatenate([[0.0], np.cumsum(q)[:-1]])
    win = sum(math.comb(n - 1, m) * q**m * below ** (n - 1 - m) / (m + 1) for m in range(n))
    k, b = np.arange(g + 1)[:, None], np.arange(g + 1)[None, :]
    u = (k - b) * win if rule == "first_price" else k * win - b
    return u, table


@pytest.mark.parametrize("rule", ["first_price", "all_pay"])
def test_interim_payoffs_agree_with_enumeration_through_the_core(rule: str) -> None:
    n, g = 3, 8
    u, table = _interim(rule, n, g)
    for k, b in itertools.product(range(g + 1), repeat=2):
        total = 0.0
        for vals in itertools.product(range(g + 1), repeat=n - 1):
            bids = (b, *(int(table[v]) for v in vals))
            total += expected_payoffs(rule, (k, *vals), bids)[0]
        assert u[k, b] == pytest.approx(total / (g + 1) ** (n - 1))


@pytest.mark.parametrize("n", [2, 3, 4])
def test_first_price_shading_deviations_do_not_beat_bne(n: int) -> None:
    g = 100
    u, table = _interim("first_price", n, g)
    k = np.arange(g + 1)
    at_bne = u[k, table].mean()
    assert at_bne == pytest.approx(g / (n * (n + 1)), abs=0.5)  # vmax / (n(n+1)), on a grid
    for f in np.arange(0.30, 1.0001, 0.05):
        shaded = np.floor(f * k + 0.5 + 1e-9).astype(int)
        assert u[k, shaded].mean() <= at_bne + 0.25, f


@pytest.mark.parametrize("rule", ["first_price", "all_pay"])
@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_rounded_bne_is_an_epsilon_equilibrium(rule: str, n: int) -> None:
    for g in (10, 30, 100):
        u, table = _interim(rule, n, g)
        gain = u.max(axis=1) - u[np.arange(g + 1), table]
        assert gain.min() >= -1e-12
        assert gain.mean() <= 0.25, (g, gain.mean())  # ex ante, grid steps
        assert gain.max() <= (1.0 if rule == "first_price" else n / 2), (g, gain.max())


def test_simulated_deviation_payoff_matches_the_exact_value() -> None:
    """Closed form vs Monte Carlo: a 0.9-shader against two BNE bidders, first price."""
    rounds = 6000
    game = _game("first_price", rounds=rounds)
    agents = [
        make_agent({"name": "auction_shade", "fraction": 0.9}, game),
        *(make_agent("auction_bne", game) for _ in range(2)),
    ]
    end, log = _play(game, agents, seed=5)
    gains = np.array([r.rewards[0] for _, _, r in log])
    u, _ = _interim("first_price", 3, 100)
    k = np.arange(101)
    exact = u[k, np.floor(0.9 * k + 0.5 + 1e-9).astype(int)].mean()
    assert abs(gains.mean() - exact) < 4 * gains.std(ddof=1) / math.sqrt(rounds)
    assert game.metrics(end)["gain_0"] == pytest.approx(gains.sum())


# ----- hand-computed payoffs ----------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "expected", "revenue"),
    [
        ("first_price", (20.0, 0.0, 0.0), 60.0),
        ("second_price", (40.0, 0.0, 0.0), 40.0),
        ("all_pay", (20.0, -40.0, -10.0), 110.0),
    ],
)
def test_hand_computed_payoffs(rule: str, expected: tuple, revenue: float) -> None:
    game = _game(rule, rounds=1)
    result = game.step(_state(game, (80, 50, 20)), (60, 40, 10), np.random.default_rng(0))
    assert result.rewards == pytest.approx(expected)
    m = game.metrics(result.state)
    assert m["revenue"] == revenue
    assert (m["efficiency"], m["winner_is_highest"]) == (1.0, 1.0)
    assert [m[f"gain_{i}"] for i in range(3)] == pytest.approx(expected)
    assert game.status(result.state) is Status.TERMINATED and game.to_move(result.state) == ()


def test_payoffs_scale_with_the_grid_step() -> None:
    game = _game("second_price", value_max=2.0, granularity=20)
    result = game.step(_state(game, (15, 9, 4)), (15, 12, 3), np.random.default_rng(0))
    assert result.rewards == pytest.approx((0.3, 0.0, 0.0))  # (15 - 12) steps of 0.1


@pytest.mark.parametrize(
    ("rule", "outcomes"),
    [
        ("first_price", {0: (20, 0, 0), 1: (0, 40, 0)}),
        ("second_price", {0: (20, 0, 0), 1: (0, 40, 0)}),  # the price is the tied bid, 50
        ("all_pay", {0: (20, -50, 0), 1: (-50, 40, 0)}),
    ],
)
def test_ties_are_broken_uniformly_at_random(rule: str, outcomes: dict) -> None:
    game = _game(rule, rounds=1)
    state, bids = _state(game, (70, 90, 10)), (50, 50, 0)
    for w, pay in outcomes.items():
        assert settle(rule, state.values, bids, w) == pay
    seen: Counter[int] = Counter()
    for seed in range(400):
        result = game.step(state, bids, np.random.default_rng(seed))
        winner = result.state.last_winner
        assert result.rewards == tuple(float(x) for x in outcomes[winner])
        seen[winner] += 1
    assert set(seen) == {0, 1} and 160 <= seen[0] <= 240  # Binomial(400, 1/2), > 4 sd
    mean = expected_payoffs(rule, state.values, bids)
    assert mean == pytest.approx(tuple((a + b) / 2 for a, b in zip(*outcomes.values())))


def test_second_price_pays_the_highest_other_bid() -> None:
    game = _game("second_price", rounds=1)
    result = game.step(_state(game, (80, 90, 10)), (70, 30, 55), np.random.default_rng(0))
    assert result.rewards == (25.0, 0.0, 0.0)
    assert game.metrics(result.state)["revenue"] == 55.0


@pytest.mark.parametrize("value_max", [100.0, 250.0])
def test_metrics_of_an_inefficient_round(value_max: float) -> None:
    game = _game("first_price", rounds=1, value_max=value_max)
    step = value_max / 100
    result = game.step(_state(game, (30, 90, 10)), (60, 40, 0), np.random.default_rng(0))
    m = game.metrics(result.state)
    assert result.rewards == pytest.approx((-30 * step, 0.0, 0.0))
    assert m["revenue"] == pytest.approx(60 * step)
    assert m["efficiency"] == pytest.approx(30 / 90) and m["winner_is_highest"] == 0.0
    # BNE bids (2/3 v): 20, 60, 6.67 -> |60-20| + |40-60| + |0-6.67|, averaged over 3
    assert m["distance_to_benchmark"] == pytest.approx((40 + 20 + 20 / 3) / 3 * step)


def test_all_zero_values_count_as_efficient() -> None:
    game = _game("all_pay", rounds=1)
    result = game.step(_state(game, (0, 0, 0)), (0, 3, 0), np.random.default_rng(0))
    assert result.rewards == (0.0, -3.0, 0.0)
    assert game.metrics(result.state)["efficiency"] == 1.0


def test_values_are_fresh_each_round_and_private() -> None:
    game, text = make_game("FirstPriceAuction-v1", {"rounds": 30})
    rng = np.random.default_rng(3)
    state, seen = game.initial_state(rng), []
    while game.status(state) is Status.RUNNING:
        seen.append(state.values)
        view = game.view(state, 1)
        assert view.my_value == state.values[1]
        state = game.step(state, (1, 2, 3), rng).state
    assert len(set(seen)) > 20
    assert game.view(state, 0).others_last == (2, 3) and game.view(state, 2).won_last
    assert game.metrics(state)["rounds"] == 30


def test_values_are_uniform_on_the_whole_grid() -> None:
    game = _game("first_price", granularity=4)
    rng = np.random.default_rng(8)
    counts = Counter(v for _ in range(2000) for v in game.initial_state(rng).values)
    assert sorted(counts) == [0, 1, 2, 3, 4]
    sd = math.sqrt(6000 * 0.2 * 0.8)
    assert all(abs(c - 1200) < 4 * sd for c in counts.values())


def test_seed_drives_the_values() -> None:
    game = _game("first_price")
    draws = {game.initial_state(np.random.default_rng(s)).values for s in range(20)}
    assert len(draws) == 20
    assert game.initial_state(np.random.default_rng(4)) == game.initial_state(
        np.random.default_rng(4)
    )


# ----- params ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"rule": "dutch"}, "rule"),
        ({"rule": 1}, "rule"),
        ({"n_players": 1}, "n_players"),
        ({"n_players": 2.0}, "n_players"),
        ({"n_players": True}, "n_players"),
        ({"value_max": 0}, "value_max"),
        ({"value_max": "100"}, "value_max"),
        ({"value_max": float("inf")}, "value_max"),
        ({"granularity": 0}, "granularity"),
        ({"granularity": 10.5}, "granularity"),
        ({"rounds": 0}, "rounds"),
        ({"rounds": "3"}, "rounds"),
        ({"framing": "opera"}, "framing"),
        ({"framing": None}, "framing"),
        ({"reserve": 5}, "reserve"),
    ],
)
def test_bad_params_raise_config_error_naming_the_parameter(params: dict, name: str) -> None:
    for env_id in IDS.values():
        with pytest.raises(ConfigError, match=name):
            make_game(env_id, params)
    with pytest.raises(ConfigError, match=name):
        make("AllPayAuction-v1", **params)


@pytest.mark.parametrize("fraction", [1.5, -0.1, "0.5", True, float("nan")])
def test_bad_agent_params_raise_config_error(fraction: Any) -> None:
    with pytest.raises(ConfigError, match="fraction"):
        make_agent({"name": "auction_shade", "fraction": fraction})


def test_auction_agents_refuse_other_games() -> None:
    game, _ = make_game("PublicGoods-v1")
    for name in ("auction_truthful", "auction_bne", "auction_shade", "auction_random"):
        with pytest.raises(ConfigError, match="Auction"):
            make_agent(name, game)


# ----- agents ---------------------------------------------------------------------------
def test_ids_rules_and_default_opponent() -> None:
    for rule, env_id in IDS.items():
        s = spec(env_id)
        assert s.default_opponent == "auction_bne"
        game = s.make_game()
        assert game.params.rule == rule and game.num_players == 3
        assert game.num_actions == 101 and game.params.value_max == 100.0
        make_agent(s.default_opponent, game)


def test_agents_bid_what_their_docstrings_say() -> None:
    game = _game("first_price", granularity=40)
    agents = {
        name: make_agent(name, game)
        for name in ("auction_truthful", "auction_bne", "auction_random")
    }
    shade = make_agent({"name": "auction_shade", "fraction": 0.3}, game)
    for a in [*agents.values(), shade]:
        a.reset(seed=1, player=0)
    for v in range(41):
        obs = game.observe(_state(game, (v, 0, 0)), 0)
        assert agents["auction_truthful"].act(obs) == v
        assert agents["auction_bne"].act(obs) == bne_bid_steps("first_price", 3, v, 40)
        assert shade.act(obs) == math.floor(0.3 * v + 0.5)
        assert 0 <= agents["auction_random"].act(obs) <= v


def test_bne_agent_reads_rule_and_bidders_from_setup_or_the_view() -> None:
    game = _game("all_pay", n_players=4, granularity=50)
    agent = make_agent("auction_bne", game)  # make_agent calls setup(game)
    assert isinstance(agent, AuctionBNE) and agent._key == ("all_pay", 4, 50)
    bare = AuctionBNE()  # no setup: learns the rule from the first view
    state = _state(game, (45, 10, 20, 30))
    for a in (agent, bare):
        a.reset(seed=0, player=0)
        assert a.act(game.observe(state, 0)) == bne_bid_steps("all_pay", 4, 45, 50) == 25


def test_random_bidder_is_seeded_and_covers_its_range() -> None:
    game = _game("first_price")
    obs = game.observe(_state(game, (10, 0, 0)), 0)
    a, b = make_agent("auction_random"), make_agent("auction_random")
    a.reset(seed=9, player=0)
    b.reset(seed=9, player=0)
    bids_a = [a.act(obs) for _ in range(300)]
    assert bids_a == [b.act(obs) for _ in range(300)]
    assert set(bids_a) == set(range(11))


# ----- text face --------------------------------------------------------------------------
@pytest.mark.parametrize("rule", RULES)
def test_framings_reword_the_same_rules(rule: str) -> None:
    texts = {f: make_game(IDS[rule], {"framing": f})[1] for f in ("neutral", "gallery", "contract")}
    rules = {f: t.rules(0) for f, t in texts.items()}
    assert len(set(rules.values())) == 3
    assert "auction" in rules["neutral"] and "painting" in rules["gallery"]
    assert "contract" in rules["contract"] and "fee" in rules["contract"]
    for text in rules.values():
        assert ("second-highest" in text) == (rule == "second_price")
        assert any(w in text for w in ("whether", "win or lose")) == (rule == "all_pay")
        assert "1 of 3" in text and "100" in text
        assert any(w in text for w in ("random", "lot"))


def test_render_shows_only_the_own_value_and_last_bids() -> None:
    game, text = make_game("SecondPriceAuction-v1", {"framing": "gallery"})
    state = _state(game, (83, 57, 29))
    prose = text.render(game.observe(state, 0))
    assert "83" in prose and "57" not in prose and "29" not in prose
    state = game.step(state, (70, 40, 12), np.random.default_rng(0)).state
    later = text.render(game.observe(state, 1))
    assert "you did not win" in later and "70, 12" in later and '{"bid":' in later


def test_text_explains_steps_when_a_step_is_not_one_unit() -> None:
    game, text = make_game("FirstPriceAuction-v1", {"value_max": 1.0, "granularity": 20})
    obs = game.observe(_state(game, (13, 2, 5)), 0)
    assert "0.65" in text.render(obs) and "steps of 0.05" in text.rules(0)
    assert text.parse('{"bid": 8}', obs) == 8 and text.format_action(8, obs) == '{"bid": 8}'


# ----- invariants under random params and bids -------------------------------------------
@SETTINGS
@given(
    rule=st.sampled_from(RULES),
    n=st.integers(2, 5),
    vmax=st.floats(0.01, 1000.0),
    g=st.integers(1, 30),
    rounds=st.integers(1, 4),
    data=st.data(),
)
def test_payoff_and_revenue_invariants(
    rule: str, n: int, vmax: float, g: int, rounds: int, data: st.DataObject
) -> None:
    game = _game(rule, n_players=n, value_max=vmax, granularity=g, rounds=rounds)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    state, step, totals = game.initial_state(rng), vmax / g, np.zeros(n)
    for _ in range(rounds):
        assert game.status(state) is Status.RUNNING
        bids = tuple(data.draw(st.lists(st.integers(0, g), min_size=n, max_size=n)))
        new, rewards = game.step(state, bids, rng)
        revenue = (new.revenue - state.revenue) * step
        top_value = max(state.values) * step
        assert all(r <= top_value + 1e-9 for r in rewards)  # no payoff exceeds max value
        winner = new.last_winner
        assert bids[winner] == max(bids)
        if rule == "all_pay":
            assert revenue == pytest.approx(sum(bids) * step)
        else:
            assert revenue <= max(bids) * step + 1e-9
            assert all(r == 0 for i, r in enumerate(rewards) if i != winner)
        # money is conserved: the winner's value is split between bidders and seller
        assert sum(rewards) + revenue == pytest.approx(state.values[winner] * step, abs=1e-9)
        totals += rewards
        state = new
    assert game.status(state) is Status.TERMINATED and game.to_move(state) == ()
    assert game.returns(state) == pytest.approx(tuple(totals))
    m = game.metrics(state)
    assert 0.0 <= m["efficiency"] <= 1.0 and 0.0 <= m["winner_is_highest"] <= 1.0
    assert m["rounds"] == rounds and m["distance_to_benchmark"] >= 0.0
    low, high = game.observation_bounds()
    obs = game.encode(state, 0)
    assert obs.shape == game.observation_shape and low <= obs.min() and obs.max() <= high
