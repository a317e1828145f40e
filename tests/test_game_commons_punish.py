"""Theory for Commons-v1 and PublicGoodsPunish-v1, checked against the implementation.

Commons: sustainable harvesters hold the stock at capacity and earn the maximum
sustainable yield exactly; greedy harvesters collapse the resource and earn less (both
computed by hand); rationing conserves units; the closed-form yield equals a brute force
and the finite-horizon optimum a dynamic programme. Punishment: selfish players earn the
SPE payoff ``E`` per round exactly; punishing never pays in the last round; round payoffs
match hand-computed cases and a conservation identity.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from agora.agents import Agent, make_agent
from agora.envs import ConfigError, Status, make, make_game, spec
from agora.envs.core import fairness
from agora.envs.games.commons import allocate, regrow, sustainable_yield
from agora.envs.games.public_goods_punish import damage, targets
from agora.experiments import play_episode

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Scripted(Agent):
    """Plays a fixed sequence of actions (then repeats the last one)."""

    def __init__(self, moves: list[int]) -> None:
        super().__init__()
        self.moves = moves

    def reset(self, seed: int, player: int) -> None:
        super().reset(seed, player)
        self.turn = 0

    def act(self, obs: Any) -> int:
        move = self.moves[min(self.turn, len(self.moves) - 1)]
        self.turn += 1
        return move


def _run(env_id: str, params: dict, agents: Sequence[Agent | str | dict], seed: int = 0
         ) -> tuple[Any, list[Any], list[tuple[int, ...]], list[tuple[float, ...]]]:
    """Play on the core: (game, states incl. the first, joint actions, step rewards)."""
    game, _ = make_game(env_id, params)
    built = [a if isinstance(a, Agent) else make_agent(a, game) for a in agents]
    for i, agent in enumerate(built):
        agent.reset(seed + i, i)
    rng = np.random.default_rng(seed)
    states, joints, rewards = [game.initial_state(rng)], [], []
    while game.status(states[-1]) is Status.RUNNING:
        state = states[-1]
        joint = tuple(built[p].act(game.observe(state, p)) for p in game.to_move(state))
        new, r = game.step(state, joint, rng)
        states.append(new)
        joints.append(joint)
        rewards.append(r)
    return game, states, joints, rewards


def _episode(env_id: str, params: dict, names: list[str], seed: int = 0) -> Any:
    """One episode through the runner (agents built with ``setup``); asserts it ran."""
    game, text = make_game(env_id, params)
    result = play_episode(game, text, [make_agent(n, game) for n in names], seed=seed)
    assert result.status == "ok", result.error
    return result


# ===== Commons-v1 =====================================================================
SUSTAINABLE_CASES = [
    ({}, 50, 10.0),  # GovSim-like: 5 fishers, 100 tons, doubling: 10 each
    ({"n_players": 3, "capacity": 50, "growth": 1.5, "rounds": 20}, 16, 16 / 3),
    ({"n_players": 4, "floor": 60}, 40, 10.0),  # the floor binds: leave 60, not 50
    ({"n_players": 4, "max_harvest": 8}, 32, 8.0),  # boats too small to take H*
    ({"n_players": 7, "growth": 2.3, "rounds": 30}, 56, 8.0),  # leave ceil(100/2.3) = 44
]


@pytest.mark.parametrize(("params", "per_round", "share"), SUSTAINABLE_CASES)
def test_sustainable_agents_keep_the_stock_at_capacity_and_earn_the_benchmark(
    params: dict, per_round: int, share: float
) -> None:
    n = params.get("n_players", 5)
    game, states, joints, _ = _run("Commons-v1", params, ["commons_sustainable"] * n)
    p, bench = game.params, game.benchmark().values
    assert bench["sustainable_total_per_round"] == per_round
    assert bench["sustainable_share_per_round"] == pytest.approx(share)
    assert [s.stock for s in states] == [p.capacity] * (p.rounds + 1)
    assert all(sum(j) == per_round for j in joints)
    end = states[-1]
    assert end.round == p.rounds and not end.collapsed and end.status is Status.TERMINATED
    result = _episode("Commons-v1", params, ["commons_sustainable"] * n)
    assert sum(result.returns) == bench["sustainable_total_over_horizon"] == per_round * p.rounds
    if per_round % n == 0:
        assert result.returns == [bench["sustainable_payoff_per_player"]] * n
    else:  # the odd units rotate: nobody is more than one unit per round off
        assert all(abs(r - share * p.rounds) < p.rounds for r in result.returns)
    m = result.metrics
    assert (m["efficiency"], m["survival"], m["collapsed"]) == (1.0, 1.0, 0.0)


def test_sustainable_benchmark_defaults_by_hand() -> None:
    bench = make_game("Commons-v1")[0].benchmark().values
    assert bench["sustainable_remainder"] == 50  # 50 doubles back to 100
    assert bench["sustainable_payoff_per_player"] == 12 * 10
    assert _episode("Commons-v1", {}, ["commons_sustainable"] * 5).returns == [120.0] * 5


GREEDY_CASES = [
    # params, greedy payoff per player, rounds played, sustainable payoff per player
    ({}, 20.0, 1, 120.0),  # 5 x 20 empties the lake at once
    ({"max_harvest": 12}, 32.0, 3, 120.0),  # 100 -60-> 40 -> 80 -60-> 20 -> 40: 8 each
    ({"n_players": 4, "capacity": 80, "max_harvest": 15, "rounds": 50}, 25.0, 2, 500.0),
]


@pytest.mark.parametrize(("params", "greedy", "played", "sustainable"), GREEDY_CASES)
def test_greedy_agents_collapse_the_resource_and_earn_less(
    params: dict, greedy: float, played: int, sustainable: float
) -> None:
    n = params.get("n_players", 5)
    game, states, _, _ = _run("Commons-v1", params, ["commons_greedy"] * n)
    end = states[-1]
    assert end.collapsed and end.stock == 0 and end.round == played
    assert game.status(end) is Status.TERMINATED and game.to_move(end) == ()
    result = _episode("Commons-v1", params, ["commons_greedy"] * n)
    assert result.returns == [greedy] * n
    assert result.metrics["survival"] == (played - 1) / game.params.rounds
    assert result.metrics["collapsed"] == 1.0
    bench = game.benchmark().values
    assert bench["greedy_payoff_per_player"] == greedy
    assert bench["greedy_rounds_survived"] == played - 1 and bench["greedy_collapsed"] == 1.0
    assert bench["sustainable_payoff_per_player"] == sustainable > greedy


def test_greedy_within_the_sustainable_yield_never_collapses() -> None:
    game, states, _, _ = _run("Commons-v1", {"max_harvest": 9}, ["commons_greedy"] * 5)
    assert [s.stock for s in states] == [100] * 13
    assert game.benchmark().values["greedy_payoff_per_player"] == 9 * 12
    assert game.greedy_outcome() == states[-1]


def test_reciprocal_matches_an_offender_once_then_restores_the_stock() -> None:
    agents: list[Agent | str | dict] = ["commons_reciprocal"] * 4
    agents.append(Scripted([14, 10]))
    game, states, joints, _ = _run("Commons-v1", {}, agents)
    assert [s.stock for s in states[:5]] == [100, 92, 52, 80, 92]
    assert joints[0] == (10, 10, 10, 10, 14)
    assert joints[1] == (14, 14, 14, 14, 10)  # the offender is matched ...
    assert joints[2] == (0, 0, 1, 1, 10)  # ... not each other; only stock - 50 is taken
    assert joints[3] == (6, 6, 6, 6, 10)
    assert not states[-1].collapsed


def test_reciprocals_among_themselves_are_sustainable() -> None:
    assert _episode("Commons-v1", {}, ["commons_reciprocal"] * 5).returns == [120.0] * 5


def test_commons_metrics_on_a_hand_computed_episode() -> None:
    params = {"n_players": 3, "capacity": 30, "floor": 3, "max_harvest": 10, "rounds": 4}
    game, states, _, rewards = _run("Commons-v1", params, [Scripted([10]), Scripted([5, 10]),
                                                           Scripted([0, 10])])
    assert rewards == [(10.0, 5.0, 0.0), (10.0, 10.0, 10.0)]  # 30 - 15 = 15 -> 30 -> 0
    assert [s.stock for s in states] == [30, 30, 0]
    m = game.metrics(states[-1])
    assert (m["gain_0"], m["gain_1"], m["gain_2"], m["total_harvest"]) == (20, 15, 10, 45)
    assert m["efficiency"] == 45 / 60  # H* = 15 a round over 4 rounds
    assert m["survival"] == 1 / 4 and m["collapsed"] == 1.0 and m["rounds"] == 2
    assert m["fairness"] == pytest.approx(1 - (40 / 270) * 3 / 2) == fairness([20, 15, 10])
    assert m["distance_to_benchmark"] == pytest.approx((0 + 5 + 10) / 60)


def test_rationing_by_hand() -> None:
    assert allocate((7, 3, 0), 5) == (4, 1, 0)  # quotas 3.5, 1.5: the tie goes to player 0
    assert allocate((7, 3, 0), 5, first=1) == (3, 2, 0)  # ... or to player 1
    assert allocate((20, 20, 20), 40, first=2) == (13, 13, 14)
    assert allocate((3, 4), 10) == (3, 4)  # enough for everyone
    game = make_game("Commons-v1", {"n_players": 3})[0]
    assert game.stage_payoffs((20, 20, 20)) == (20.0, 20.0, 20.0)
    assert make_game("Commons-v1", {"n_players": 3, "capacity": 40})[0].stage_payoffs(
        (20, 20, 20)) == (14.0, 13.0, 13.0)


@SETTINGS
@given(
    requests=st.lists(st.integers(0, 60), min_size=1, max_size=8),
    stock=st.integers(0, 400),
    first=st.integers(0, 7),
    bump=st.integers(0, 7),
)
def test_allocation_conserves_units(requests: list[int], stock: int, first: int,
                                    bump: int) -> None:
    req = tuple(requests)
    got = allocate(req, stock, first % len(req))
    assert sum(got) == min(sum(req), stock)
    assert all(0 <= g <= h for g, h in zip(got, req, strict=True))
    if sum(req) > stock:  # rationed: within one unit of the exact proportional quota
        assert all(abs(g - h * stock / sum(req)) < 1 for g, h in zip(got, req, strict=True))
    assert allocate(req, stock, first % len(req)) == got  # deterministic
    i = bump % len(req)  # asking for more never gets a player less
    more = req[:i] + (req[i] + 1,) + req[i + 1:]
    assert allocate(more, stock, first % len(req))[i] >= got[i]


@SETTINGS
@given(
    n=st.integers(2, 6),
    capacity=st.integers(2, 150),
    growth=st.floats(1.05, 3.0),
    floor_frac=st.floats(0.0, 0.99),
    max_harvest=st.integers(1, 40),
    rounds=st.integers(1, 15),
    data=st.data(),
)
def test_random_play_never_overdraws_the_stock(n: int, capacity: int, growth: float,
                                               floor_frac: float, max_harvest: int,
                                               rounds: int, data: st.DataObject) -> None:
    floor = 1 + int(floor_frac * (capacity - 1))
    assume(floor < capacity and sustainable_yield(capacity, growth, floor) >= 1)
    game, _ = make_game("Commons-v1", {"n_players": n, "capacity": capacity, "growth": growth,
                                       "floor": floor, "max_harvest": max_harvest,
                                       "rounds": rounds})
    state = game.initial_state(np.random.default_rng(0))
    log = []
    while game.status(state) is Status.RUNNING:
        joint = tuple(data.draw(st.integers(0, max_harvest)) for _ in range(n))
        new, rewards = game.step(state, joint, np.random.default_rng(0))
        assert sum(rewards) <= state.stock and all(0 <= r <= h for r, h in zip(rewards, joint))
        remaining = state.stock - sum(rewards)
        assert new.collapsed == (remaining < floor)
        assert new.stock == (0 if new.collapsed else regrow(remaining, growth, capacity))
        assert 0 <= new.stock <= capacity
        log.append(rewards)
        state = new
    assert 1 <= len(log) <= rounds and (state.collapsed or len(log) == rounds)
    assert game.returns(state) == tuple(map(sum, zip(*log, strict=True)))
    m = game.metrics(state)
    assert 0.0 <= m["survival"] <= 1.0 and 0.0 <= m["fairness"] <= 1.0


def test_sustainable_yield_equals_a_brute_force_over_steady_states() -> None:
    for capacity, growth in itertools.product(range(2, 41), (1.2, 1.5, 2.0, 2.5, 3.0)):
        for floor in range(1, capacity):
            # every steady state: leave r >= floor, it regrows to s >= r, harvest s - r
            steady = [regrow(r, growth, capacity) - r for r in range(floor, capacity + 1)
                      if regrow(r, growth, capacity) >= r]
            assert sustainable_yield(capacity, growth, floor) == max(steady)


def _horizon_optimum(capacity: int, growth: float, floor: int, rounds: int) -> int:
    """Most units a planner can take in ``rounds`` rounds from a full stock (exact DP)."""
    value = [0] * (capacity + 1)
    for _ in range(rounds):
        value = [max(h + (value[regrow(s - h, growth, capacity)] if s - h >= floor else 0)
                     for h in range(s + 1)) for s in range(capacity + 1)]
    return value[capacity]


@pytest.mark.parametrize(("capacity", "growth", "floor"),
                         [(10, 2.0, 1), (17, 1.5, 3), (30, 2.0, 5), (25, 3.0, 2)])
def test_finite_horizon_optimum_is_sustainable_harvest_then_a_final_grab(
    capacity: int, growth: float, floor: int
) -> None:
    h = sustainable_yield(capacity, growth, floor)
    for rounds in range(1, 6):
        assert _horizon_optimum(capacity, growth, floor, rounds) == (rounds - 1) * h + capacity


@pytest.mark.parametrize("framing", ["neutral", "fishing", "economic"])
def test_commons_text_states_the_stock_and_the_answer(framing: str) -> None:
    game, text = make_game("Commons-v1", {"framing": framing})
    obs = game.observe(game.initial_state(np.random.default_rng(0)), 1)
    prose = text.render(obs)
    assert "holds 100" in prose and '"harvest"' in prose
    assert ("lake" in text.rules(1)) == (framing == "fishing")
    assert text.parse('{"harvest": 12}', obs) == 12


# ===== PublicGoodsPunish-v1 ===========================================================
@pytest.mark.parametrize("params", [
    {},
    {"n_players": 3, "endowment": 10, "multiplier": 2.5, "rounds": 5},
    {"n_players": 5, "punish_cost": 0.5, "punish_effect": 1.0, "max_punish": 8},
])
def test_selfish_players_earn_the_spe_payoff_every_round_exactly(params: dict) -> None:
    n = params.get("n_players", 4)
    game, states, joints, rewards = _run("PublicGoodsPunish-v1", params, ["punish_selfish"] * n)
    p, bench = game.params, game.benchmark().values
    assert len(rewards) == 2 * p.rounds
    assert all(j == (0,) * n for j in joints)
    assert rewards[0::2] == [(float(p.endowment),) * n] * p.rounds  # contribution stages
    assert rewards[1::2] == [(0.0,) * n] * p.rounds  # punishment stages
    result = _episode("PublicGoodsPunish-v1", params, ["punish_selfish"] * n)
    assert result.returns == [bench["spe_payoff_total"]] * n == [p.endowment * p.rounds] * n
    m = result.metrics
    assert (m["contribution_rate"], m["punishment_spent"], m["distance_to_benchmark"]) == (0, 0, 0)
    assert m["efficiency"] == pytest.approx(1 / p.multiplier)


def test_selfish_players_contribute_everything_when_it_pays_privately() -> None:
    params = {"n_players": 2, "multiplier": 3.0, "rounds": 3}
    result = _episode("PublicGoodsPunish-v1", params, ["punish_selfish"] * 2)
    bench = make_game("PublicGoodsPunish-v1", params)[0].benchmark().values
    assert bench["spe_contribution"] == 20 and bench["spe_payoff_per_round"] == 60
    assert result.returns == [180.0, 180.0] and result.metrics["efficiency"] == 1.0


def _one_round_spe_contributions(game: Any) -> list[tuple[int, ...]]:
    """Backward induction over the game's own stage payoffs, one round: every pure NE of
    each punishment subgame, then every contribution profile that is a pure NE given the
    worst and the best continuation (they coincide when punishing is strictly dominated)."""
    p = game.params
    n, gives, pts = p.n_players, range(p.endowment + 1), range(p.max_punish + 1)

    def subgame_values(c: tuple[int, ...]) -> list[tuple[float, ...]]:
        pay = {k: game.stage_payoffs((*c, *k)) for k in itertools.product(pts, repeat=n)}
        return [u for k, u in pay.items()
                if all(u[i] >= pay[k[:i] + (d,) + k[i + 1:]][i] for i in range(n) for d in pts)]

    values = {c: subgame_values(c) for c in itertools.product(gives, repeat=n)}
    assert all(len(v) == 1 for v in values.values())  # punishing 0 is the unique NE
    stage = {c: v[0] for c, v in values.items()}
    return [c for c, u in stage.items()
            if all(u[i] >= stage[c[:i] + (d,) + c[i + 1:]][i] - 1e-9
                   for i in range(n) for d in gives)]


@pytest.mark.parametrize("m", [2.0, 3.0, 4.0])
def test_spe_contributions_match_backward_induction(m: float) -> None:
    """n = 3: below, at and above m = n. At m = n every profile is an SPE."""
    params = {"n_players": 3, "endowment": 2, "multiplier": m, "rounds": 1, "max_punish": 1}
    game = make_game("PublicGoodsPunish-v1", params)[0]
    spe = _one_round_spe_contributions(game)
    bench = game.benchmark().values
    gives = {x for c in spe for x in c}
    if len(spe) == 1:
        assert bench["spe_contribution"] == spe[0][0]
    else:
        assert np.isnan(bench["spe_contribution"]), bench["spe_contribution"]
        assert len(spe) == 3**3 and bench["spe_unique"] == 0.0
    assert (bench["spe_contribution_min"], bench["spe_contribution_max"]) == (min(gives),
                                                                              max(gives))


def test_spe_distance_is_zero_for_any_contribution_at_m_equal_n() -> None:
    params = {"n_players": 2, "multiplier": 2.0, "rounds": 2}
    result = _episode("PublicGoodsPunish-v1", params,
                      [{"name": "punish_cooperator", "points": 0}, "punish_selfish"])
    assert result.metrics["distance_to_benchmark"] == 0.0


def test_a_punisher_earns_less_than_a_non_punisher_in_the_last_round() -> None:
    agents: list[Agent | str | dict] = [
        {"name": "punish_cooperator", "points": 3},
        {"name": "punish_cooperator", "points": 0},
        "punish_selfish",
        "punish_selfish",
    ]
    game, _, joints, rewards = _run("PublicGoodsPunish-v1", {}, agents)
    last = rewards[-2][0] + rewards[-1][0], rewards[-2][1] + rewards[-1][1]
    assert joints[-1][:2] == (3, 0)  # the punisher punishes the free riders ...
    assert last[0] == last[1] - 3 * game.params.punish_cost  # ... and pays for it alone
    assert last == (20 - 20 + 1.6 * 40 / 4 - 3, 16.0)


@SETTINGS
@given(contributions=st.lists(st.integers(0, 20), min_size=2, max_size=6),
       others=st.lists(st.integers(0, 10), min_size=6, max_size=6),
       cost=st.floats(0.1, 3.0), effect=st.floats(0.1, 5.0))
def test_punishing_never_pays_within_the_round(contributions: list[int], others: list[int],
                                               cost: float, effect: float) -> None:
    """The punisher's own points only cost it: the last round's best reply is 0."""
    n = len(contributions)
    game = make_game("PublicGoodsPunish-v1", {"n_players": n, "punish_cost": cost,
                                              "punish_effect": effect})[0]
    c = tuple(contributions)
    base = game.punishment_payoffs(c, (0, *others[: n - 1]))[0]
    for k in range(game.params.max_punish + 1):
        u = game.punishment_payoffs(c, (k, *others[: n - 1]))[0]
        assert u == pytest.approx(base - cost * k)


def test_contributing_never_pays_without_punishment() -> None:
    game = make_game("PublicGoodsPunish-v1")[0]
    for rest in itertools.product((0, 7, 20), repeat=3):
        pay = [game.stage_payoffs((c, *rest))[0] for c in range(21)]
        assert all(a > b for a, b in itertools.pairwise(pay))  # strictly decreasing in c


PAYOFF_CASES = [
    # params, contributions, points, round payoffs
    ({"n_players": 3, "endowment": 10, "multiplier": 1.5}, (10, 4, 0), (2, 0, 3), (5, 4, 8)),
    ({}, (0, 0, 5, 5), (0, 0, 4, 0), (18, 18, 15, 19)),  # a tie shares the 12 damage
    ({}, (20, 20, 20, 20), (1, 0, 0, 0), (31, 31, 31, 31)),  # antisocial: all tied at 20
]


@pytest.mark.parametrize(("params", "contributions", "points", "payoffs"), PAYOFF_CASES)
def test_round_payoffs_on_hand_computed_cases(params: dict, contributions: tuple,
                                              points: tuple, payoffs: tuple) -> None:
    game = make_game("PublicGoodsPunish-v1", params)[0]
    rng = np.random.default_rng(0)
    s0 = game.initial_state(rng)
    s1, r1 = game.step(s0, contributions, rng)
    view = game.view(s1, 0)  # contributions are visible before punishing
    assert view.punishing and (view.my_last, *view.others_last) == contributions
    s2, r2 = game.step(s1, points, rng)
    assert tuple(a + b for a, b in zip(r1, r2, strict=True)) == pytest.approx(payoffs)
    assert game.stage_payoffs(contributions + points) == pytest.approx(payoffs)
    assert game.returns(s2) == pytest.approx(payoffs)
    assert s2.round == 1 and not s2.punishing


def test_targets_are_the_lowest_other_contributors() -> None:
    assert targets((10, 4, 0), 0) == (2,) and targets((10, 4, 0), 2) == (1,)
    assert targets((0, 0, 5, 5), 2) == (0, 1) and targets((0, 0, 5, 5), 0) == (1,)
    assert damage((0, 0, 5, 5), (0, 0, 4, 0), 3.0) == (6.0, 6.0, 0.0, 0.0)


@SETTINGS
@given(n=st.integers(2, 6), endowment=st.integers(1, 25), m=st.floats(0.2, 6.0),
       cost=st.floats(0.1, 3.0), effect=st.floats(0.1, 5.0), max_punish=st.integers(1, 12),
       rounds=st.integers(1, 4), data=st.data())
def test_punishment_round_payoffs_conserve_money(n: int, endowment: int, m: float, cost: float,
                                                 effect: float, max_punish: int, rounds: int,
                                                 data: st.DataObject) -> None:
    """Each round: sum(u) = n E + (m - 1) sum(c) - (cost + effect) sum(points)."""
    game = make_game("PublicGoodsPunish-v1", {
        "n_players": n, "endowment": endowment, "multiplier": m, "punish_cost": cost,
        "punish_effect": effect, "max_punish": max_punish, "rounds": rounds})[0]
    rng = np.random.default_rng(0)
    state = game.initial_state(rng)
    spent = 0
    for _ in range(rounds):
        c = tuple(data.draw(st.integers(0, endowment)) for _ in range(n))
        k = tuple(data.draw(st.integers(0, max_punish)) for _ in range(n))
        assert game.legal_mask(state, 0).sum() == endowment + 1
        state, r1 = game.step(state, c, rng)
        assert game.legal_mask(state, 0).sum() == max_punish + 1
        state, r2 = game.step(state, k, rng)
        spent += sum(k)
        total = sum(r1) + sum(r2)
        assert total == pytest.approx(n * endowment + (m - 1) * sum(c) - (cost + effect) * sum(k))
    assert game.status(state) is Status.TERMINATED and game.to_move(state) == ()
    assert not game.legal_mask(state, 0).any()
    assert game.metrics(state)["punishment_spent"] == spent


def test_cooperator_punishes_only_those_below_its_own_contribution() -> None:
    agents: list[Agent | str | dict] = [
        {"name": "punish_cooperator", "fraction": 0.5, "points": 4},
        Scripted([10, 0, 5, 0, 12, 0]),  # contribution, points, contribution, points, ...
        Scripted([10, 0, 10, 0, 10, 0]),
    ]
    _, _, joints, _ = _run("PublicGoodsPunish-v1", {"n_players": 3, "rounds": 3}, agents)
    assert [j[0] for j in joints] == [10, 0, 10, 4, 10, 0]


def test_cooperators_deter_a_free_rider() -> None:
    names = ["punish_cooperator"] * 3 + ["punish_selfish"]
    result = _episode("PublicGoodsPunish-v1", {}, names)
    assert result.returns == [210.0, 210.0, 210.0, 170.0]  # 24 - 3 and 44 - 27 a round
    m = result.metrics
    assert (m["contribution_rate"], m["punishment_spent"]) == (0.75, 90.0)
    assert m["efficiency"] == pytest.approx(800 / 1280)
    bench = make_game("PublicGoodsPunish-v1")[0].benchmark().values
    assert bench["free_ride_gain_per_round"] == pytest.approx(12.0)  # 44 - 32
    assert bench["deterrent_points_per_round"] == pytest.approx(4.0)


@pytest.mark.parametrize("framing", ["neutral", "project", "economic"])
def test_punish_text_shows_contributions_before_punishing(framing: str) -> None:
    game, text = make_game("PublicGoodsPunish-v1", {"framing": framing})
    rng = np.random.default_rng(0)
    state = game.initial_state(rng)
    assert '"contribute"' in text.render(game.observe(state, 0))
    state = game.step(state, (20, 7, 0, 3), rng).state
    obs = game.observe(state, 1)
    prose = text.render(obs)
    assert "player 1: 20, you: 7, player 3: 0, player 4: 3" in prose
    assert "fall on player 3" in prose and '"punish"' in prose
    assert text.action_schema(obs)["properties"]["punish"]["maximum"] == 10
    assert text.parse('{"punish": 4}', obs) == 4


# ===== both ===========================================================================
BAD_PARAMS = [
    ("Commons-v1", {"n_players": 1}, "n_players"),
    ("Commons-v1", {"capacity": 1}, "capacity"),
    ("Commons-v1", {"capacity": 50.5}, "capacity"),
    ("Commons-v1", {"growth": 1.0}, "growth"),
    ("Commons-v1", {"growth": "2"}, "growth"),
    ("Commons-v1", {"growth": float("inf")}, "growth"),
    ("Commons-v1", {"capacity": 3, "growth": 1.2, "floor": 1}, "growth"),  # no yield
    ("Commons-v1", {"floor": 0}, "floor"),
    ("Commons-v1", {"floor": 100}, "floor"),
    ("Commons-v1", {"max_harvest": 0}, "max_harvest"),
    ("Commons-v1", {"rounds": True}, "rounds"),
    ("Commons-v1", {"framing": "sea"}, "framing"),
    ("PublicGoodsPunish-v1", {"n_players": 1}, "n_players"),
    ("PublicGoodsPunish-v1", {"endowment": 0}, "endowment"),
    ("PublicGoodsPunish-v1", {"multiplier": float("nan")}, "multiplier"),
    ("PublicGoodsPunish-v1", {"rounds": 0}, "rounds"),
    ("PublicGoodsPunish-v1", {"punish_cost": 0}, "punish_cost"),
    ("PublicGoodsPunish-v1", {"punish_effect": -3}, "punish_effect"),
    ("PublicGoodsPunish-v1", {"punish_effect": "3"}, "punish_effect"),
    ("PublicGoodsPunish-v1", {"max_punish": 0}, "max_punish"),
    ("PublicGoodsPunish-v1", {"max_punish": 2.5}, "max_punish"),
    ("PublicGoodsPunish-v1", {"framing": "office"}, "framing"),
]


@pytest.mark.parametrize(("env_id", "params", "name"), BAD_PARAMS)
def test_bad_params_raise_config_error_naming_the_parameter(env_id: str, params: dict,
                                                            name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        make_game(env_id, params)
    with pytest.raises(ConfigError, match=name):
        make(env_id, **params)


@pytest.mark.parametrize(("spec_", "name"), [
    ({"name": "punish_cooperator", "fraction": 1.5}, "fraction"),
    ({"name": "punish_cooperator", "fraction": "all"}, "fraction"),
    ({"name": "punish_cooperator", "points": -1}, "points"),
    ({"name": "punish_cooperator", "points": 2.0}, "points"),
])
def test_bad_agent_params_name_the_parameter(spec_: dict, name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        make_agent(spec_)


def test_agents_refuse_the_wrong_game_and_points_beyond_the_cap() -> None:
    punish = make_game("PublicGoodsPunish-v1", {"max_punish": 2})[0]
    with pytest.raises(ConfigError, match="points"):
        make_agent({"name": "punish_cooperator", "points": 3}, punish)
    with pytest.raises(ConfigError, match="commons_greedy"):
        make_agent("commons_greedy", punish)
    with pytest.raises(ConfigError, match="punish_selfish"):
        make_agent("punish_selfish", make_game("Commons-v1")[0])


def test_agents_built_without_a_game_read_the_view() -> None:
    game, text = make_game("Commons-v1", {"n_players": 4, "floor": 60})
    agents = [make_agent("commons_sustainable") for _ in range(4)]  # no setup(game)
    assert play_episode(game, text, agents, seed=0).returns == [120.0] * 4


@pytest.mark.parametrize(("env_id", "opponent"), [("Commons-v1", "commons_reciprocal"),
                                                  ("PublicGoodsPunish-v1", "punish_cooperator")])
def test_default_opponents_play_their_game(env_id: str, opponent: str) -> None:
    assert spec(env_id).default_opponent == opponent
    game = make_game(env_id)[0]
    result = _episode(env_id, {}, [opponent] * game.num_players)
    assert result.metrics["efficiency"] == 1.0  # among themselves they reach the optimum
