"""Theory of the GAMA-Bench N-player games: beauty contest, El Farol, divide the dollar.

Equilibrium agents reach the benchmark exactly; equilibria are checked by brute force over
every unilateral deviation on the grid; the El Farol mixed equilibrium is checked by exact
enumeration, closed forms and Monte Carlo; metrics against hand-computed cases; hypothesis
drives the cores with random params and moves.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agora.agents import make_agent
from agora.agents.base import Agent
from agora.envs import ConfigError, Status, make, make_game
from agora.envs.games.beauty_contest import level_k_guess
from agora.envs.games.el_farol import GO, STAY
from agora.experiments import play_episode

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RNG = np.random.default_rng(0)


class Scripted(Agent):
    """Plays a fixed list of actions, one per round."""

    def __init__(self, moves: list[int]) -> None:
        super().__init__()
        self.moves = moves

    def reset(self, seed: int, player: int) -> None:
        super().reset(seed, player)
        self.turn = 0

    def act(self, obs: Any) -> int:
        self.turn += 1
        return self.moves[self.turn - 1]


def _play(env_id: str, params: dict, agents: list[Any], seed: int = 0) -> Any:
    game, text = make_game(env_id, params)
    built = [a if isinstance(a, Agent) else make_agent(a, game) for a in agents]
    result = play_episode(game, text, built, seed=seed)
    assert result.status == "ok", result.error
    return result


def _scripted(env_id: str, params: dict, rounds: list[tuple[int, ...]]) -> Any:
    """The end state and metrics after playing ``rounds`` of joint actions on the core."""
    game, _ = make_game(env_id, {**params, "rounds": len(rounds)})
    state = game.initial_state(RNG)
    for joint in rounds:
        state = game.step(state, joint, RNG).state
    assert game.status(state) is Status.TERMINATED
    return game, state, game.metrics(state)


def _profitable_deviations(game: Any, profile: tuple[int, ...], tol: float = 1e-12
                           ) -> list[tuple[int, int]]:
    """(player, action) pairs that pay strictly more than ``profile`` (brute force)."""
    base = game.stage_payoffs(profile)
    out = []
    for i in range(len(profile)):
        for a in range(game.num_actions):
            dev = profile[:i] + (a,) + profile[i + 1:]
            if game.stage_payoffs(dev)[i] > base[i] + tol:
                out.append((i, a))
    return out


# ----- beauty contest --------------------------------------------------------------------
@pytest.mark.parametrize("payoff", ["winner", "distance"])
def test_all_nash_players_split_the_prize_equally(payoff: str) -> None:
    n, rounds, prize = 10, 5, 3.0
    params = {"n_players": n, "rounds": rounds, "prize": prize, "payoff": payoff}
    result = _play("BeautyContest-v1", params, ["beauty_nash"] * n)
    per_round = prize / n if payoff == "winner" else prize
    assert result.returns == pytest.approx([rounds * per_round] * n)
    m = result.metrics
    assert (m["mean_guess"], m["target"], m["distance_to_benchmark"]) == (0.0, 0.0, 0.0)
    assert m["winners"] == n and m["efficiency"] == pytest.approx(1.0)
    assert m["fairness"] == pytest.approx(1.0)
    bench = make_game("BeautyContest-v1", params)[0].benchmark().values
    assert bench["nash_payoff_per_round"] == pytest.approx(per_round)


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (2 / 3, [50, 33, 22, 15, 10, 7, 4, 3, 2, 1, 1, 1, 0]),
        (0.5, [50, 25, 13, 6, 3, 2, 1, 0]),  # 12.5 -> 13 and 1.5625 -> 2: halves round up
        (0.9, [50, 45, 41, 36, 33, 30]),
    ],
)
def test_level_k_guesses_50_p_to_the_k_on_the_grid(p: float, expected: list[int]) -> None:
    """Level-k guesses floor(50 p^k + 0.5): the nearest integer, halves rounded up."""
    game, _ = make_game("BeautyContest-v1", {"p": p})
    obs = game.observe(game.initial_state(RNG), 0)
    for k, guess in enumerate(expected):
        assert guess == math.floor(50 * p**k + 0.5)
        agent = make_agent({"name": "beauty_level_k", "k": k}, game)
        agent.reset(seed=0, player=0)
        assert agent.act(obs) == guess == level_k_guess(k, p, 100)


@pytest.mark.parametrize("payoff", ["winner", "distance"])
def test_zero_has_no_profitable_deviation_against_zero_guessers(payoff: str) -> None:
    n, prize = 10, 1.0
    game, _ = make_game("BeautyContest-v1", {"payoff": payoff, "prize": prize})
    zero = game.stage_payoffs((0,) * n)[0]
    assert zero == pytest.approx(prize / n if payoff == "winner" else prize)
    for d in range(101):
        deviation = game.stage_payoffs((d,) + (0,) * (n - 1))[0]
        assert deviation <= zero if d == 0 else deviation < zero, d


@pytest.mark.parametrize(
    "params",
    [{}, {"payoff": "distance"}, {"n_players": 3, "p": 0.5}, {"n_players": 2, "max_guess": 20},
     {"n_players": 4, "p": 0.9, "max_guess": 30}],
)
def test_symmetric_grid_equilibria_match_brute_force(params: dict) -> None:
    game, _ = make_game("BeautyContest-v1", params)
    n = game.num_players
    brute = tuple(c for c in range(game.num_actions)
                  if not _profitable_deviations(game, (c,) * n)[:1])
    assert game.symmetric_grid_equilibria() == brute
    assert brute[0] == 0  # all-zero is always one
    bench = game.benchmark().values
    assert bench["symmetric_grid_equilibria"] == len(brute)
    assert bench["largest_symmetric_grid_equilibrium"] == brute[-1]


def test_default_grid_equilibria_are_zero_and_one() -> None:
    game, _ = make_game("BeautyContest-v1")
    assert game.symmetric_grid_equilibria() == (0, 1)


def test_level_k_from_the_last_mean_walks_down_to_the_grid_equilibria() -> None:
    """Iterated best response (anchor = last mean) falls every round until it stalls at 0/1."""
    n = 10
    agents = [{"name": "beauty_level_k", "k": 1, "anchor": "last_mean"}] * n
    result = _play("BeautyContest-v1", {"rounds": 15}, agents)
    guesses = result.events["action"][::n]  # identical agents guess alike
    assert guesses[:6] == [33, 22, 15, 10, 7, 5]
    assert all(b <= a for a, b in itertools.pairwise(guesses))
    assert guesses[-1] in (0, 1)


def test_beauty_metrics_by_hand() -> None:
    game, state, m = _scripted("BeautyContest-v1", {"n_players": 3, "prize": 1.0},
                               [(20, 30, 40), (0, 0, 90)])
    # Round 1: mean 30, target 20 -> player 0 alone. Round 2: mean 30, target 20,
    # distances 20, 20, 70 -> players 0 and 1 split.
    assert state.totals == pytest.approx((1.5, 0.5, 0.0))
    assert m["gain_0"] == pytest.approx(1.5) and m["gain_2"] == 0.0
    assert m["mean_guess"] == pytest.approx(30.0)
    assert m["distance_to_benchmark"] == pytest.approx(30.0)
    assert m["target"] == pytest.approx(20.0)
    assert m["winners"] == pytest.approx(1.5)
    assert m["efficiency"] == pytest.approx(1.0)
    distance = make_game("BeautyContest-v1", {"n_players": 3, "payoff": "distance"})[0]
    assert distance.stage_payoffs((20, 30, 40)) == pytest.approx((1.0, 0.99, 0.96))


def test_beauty_random_stays_in_its_range() -> None:
    game, _ = make_game("BeautyContest-v1")
    agent = make_agent({"name": "beauty_random", "low": 0.2, "high": 0.25}, game)
    agent.reset(seed=1, player=0)
    obs = game.observe(game.initial_state(RNG), 0)
    assert {agent.act(obs) for _ in range(300)} == set(range(20, 26))


# ----- El Farol --------------------------------------------------------------------------
def _expected_go_minus_stay(game: Any, q: float) -> float:
    """E[go] - E[stay] by enumerating all 2^(n-1) joint actions of the others."""
    n = game.num_players
    diff = 0.0
    for others in itertools.product((STAY, GO), repeat=n - 1):
        k = sum(others)
        weight = q**k * (1 - q) ** (n - 1 - k)
        diff += weight * (game.stage_payoffs((GO, *others))[0]
                          - game.stage_payoffs((STAY, *others))[0])
    return diff


EL_FAROL_CASES = [
    {},
    {"n_players": 7, "capacity": 0.5, "good": 2.0, "bad": -0.5},
    {"n_players": 9, "mode": "minority"},
    {"n_players": 11, "mode": "minority", "good": 3.0, "bad": -1.0},
    {"n_players": 10, "capacity": 0.9},  # seats = n - 1
    {"n_players": 8, "capacity": 0.125, "good": 1.0, "bad": -3.0},  # seats = 1
]


@pytest.mark.parametrize("params", EL_FAROL_CASES)
def test_mixed_nash_probability_makes_a_player_indifferent(params: dict) -> None:
    game, _ = make_game("ElFarol-v1", params)
    q = game.mixed_nash_probability()
    assert 0 < q < 1
    assert _expected_go_minus_stay(game, q) == pytest.approx(0.0, abs=1e-12)
    # strictly better to go below q and to stay above it: the root is unique
    assert _expected_go_minus_stay(game, q - 1e-3) > 0 > _expected_go_minus_stay(game, q + 1e-3)
    bench = game.benchmark().values
    assert bench["mixed_nash_go_probability"] == q
    assert bench["mixed_nash_attendance"] == pytest.approx(game.num_players * q)
    if not game.minority:
        assert bench["mixed_nash_payoff"] == pytest.approx(0.0, abs=1e-12)  # = staying home


def test_mixed_nash_probability_closed_forms() -> None:
    p = {"good": 1.0, "bad": -3.0}
    # seats = n - 1: go unless all n - 1 others go: good (1 - q^(n-1)) + bad q^(n-1) = 0.
    game, _ = make_game("ElFarol-v1", {"n_players": 10, "capacity": 0.9, **p})
    assert game.mixed_nash_probability() == pytest.approx(0.25 ** (1 / 9), abs=1e-13)
    # seats = 1: go only if nobody else goes: good (1-q)^(n-1) + bad (1 - (1-q)^(n-1)) = 0.
    game, _ = make_game("ElFarol-v1", {"n_players": 8, "capacity": 0.125, **p})
    assert game.mixed_nash_probability() == pytest.approx(1 - 0.75 ** (1 / 7), abs=1e-13)
    # minority game: symmetric, so q = 1/2
    game, _ = make_game("ElFarol-v1", {"n_players": 11, "mode": "minority", "good": 3.0})
    assert game.mixed_nash_probability() == pytest.approx(0.5, abs=1e-13)


def test_mixed_nash_agents_attend_n_times_q_by_monte_carlo() -> None:
    n, rounds = 10, 400
    game, text = make_game("ElFarol-v1", {"rounds": rounds})
    agents = [make_agent("elfarol_mixed_nash", game) for _ in range(n)]
    q = game.mixed_nash_probability()
    assert all(a.go_probability == q for a in agents)  # set by the setup(game) hook
    result = play_episode(game, text, agents, seed=7)
    rate = result.metrics["attendance_rate"]
    sigma = math.sqrt(q * (1 - q) / (n * rounds))
    assert abs(rate - q) < 4 * sigma, (rate, q)
    # Everyone earns 0 a round in expectation (indifferent with staying home): the mean
    # welfare per round is within 4 standard errors of 0.
    actions = np.array(result.events["action"]).reshape(rounds, n)
    welfare = np.array([game.welfare(int(a)) for a in actions.sum(axis=1)])
    assert welfare.sum() == pytest.approx(sum(result.returns))
    assert abs(welfare.mean()) < 4 * welfare.std(ddof=1) / math.sqrt(rounds)


def test_mixed_nash_agent_without_setup_solves_from_the_view() -> None:
    game, _ = make_game("ElFarol-v1", {"n_players": 7, "capacity": 0.5})
    agent = make_agent("elfarol_mixed_nash")  # no game: no setup call
    agent.reset(seed=0, player=0)
    agent.act(game.observe(game.initial_state(RNG), 0))
    assert agent.go_probability == pytest.approx(game.mixed_nash_probability(), abs=1e-14)


@pytest.mark.parametrize("params", EL_FAROL_CASES[:4])
def test_pure_equilibria_are_exactly_the_capacity_attendances(params: dict) -> None:
    game, _ = make_game("ElFarol-v1", params)
    n, c = game.num_players, game.seats
    expected = {c, c + 1} if game.minority else {c}
    found = {a for a in range(n + 1)
             if not _profitable_deviations(game, (GO,) * a + (STAY,) * (n - a))}
    assert found == expected
    bench = game.benchmark().values
    assert bench["pure_nash_attendance"] == c
    assert bench["social_optimum_welfare"] == max(game.welfare(a) for a in range(n + 1))
    assert bench["social_optimum_welfare"] == bench["pure_nash_welfare"]


def test_el_farol_metrics_by_hand() -> None:
    # 5 players, capacity 0.6 -> 3 seats; attendance 2 (fine) then 4 (crowded).
    game, state, m = _scripted("ElFarol-v1", {"n_players": 5},
                               [(1, 1, 0, 0, 0), (1, 1, 1, 1, 0)])
    assert game.seats == 3
    assert state.totals == (0.0, 0.0, -1.0, -1.0, 0.0)
    assert m["attendance_rate"] == pytest.approx(6 / 10)
    assert m["overcrowded_rate"] == 0.5
    assert m["efficiency"] == pytest.approx(-2 / (2 * 3))  # welfare 2 - 4 over optimum 3 a round
    assert m["success_rate"] == pytest.approx(2 / (2 * 3))
    assert m["distance_to_capacity"] == pytest.approx((1 + 1) / (2 * 5))
    assert m["distance_to_benchmark"] == m["distance_to_capacity"]


def test_minority_payoffs_by_hand() -> None:
    game, _ = make_game("ElFarol-v1", {"n_players": 5, "mode": "minority", "good": 2.0})
    assert game.seats == 2
    assert game.stage_payoffs((1, 1, 0, 0, 0)) == (2.0, 2.0, -1.0, -1.0, -1.0)
    assert game.stage_payoffs((1, 1, 1, 0, 0)) == (-1.0, -1.0, -1.0, 2.0, 2.0)


def test_threshold_agent_goes_iff_last_attendance_was_within_capacity() -> None:
    game, _ = make_game("ElFarol-v1")  # 10 players, 6 seats
    agent = make_agent("elfarol_threshold", game)
    agent.reset(seed=0, player=0)
    first = game.observe(game.initial_state(RNG), 0)
    assert sum(agent.act(first) for _ in range(2000)) / 2000 == pytest.approx(0.6, abs=0.05)
    for attendance, expected in ((6, GO), (7, STAY), (0, GO), (10, STAY), (5, GO)):
        joint = (GO,) * attendance + (STAY,) * (10 - attendance)
        state = game.step(game.initial_state(RNG), joint, RNG).state
        assert agent.act(game.observe(state, 0)) == expected, attendance


# ----- divide the dollar -----------------------------------------------------------------
@pytest.mark.parametrize(
    "claims",
    [(10,) * 10, (100, 0, 0, 0, 0, 0, 0, 0, 0, 0), (1, 2, 3, 4, 5, 6, 7, 8, 9, 55),
     (0,) * 9 + (100,)],
)
def test_exact_divisions_have_no_profitable_deviation(claims: tuple[int, ...]) -> None:
    game, _ = make_game("DivideDollar-v1")
    assert sum(claims) == 100
    assert _profitable_deviations(game, claims) == []
    assert game.is_nash(claims)
    assert sum(game.stage_payoffs(claims)) == pytest.approx(1.0)


@SETTINGS
@given(cuts=st.lists(st.integers(0, 30), min_size=3, max_size=3))
def test_random_exact_divisions_are_nash_and_is_nash_matches_brute_force(
    cuts: list[int]
) -> None:
    game, _ = make_game("DivideDollar-v1", {"n_players": 4, "granularity": 30})
    edges = sorted(cuts)
    claims = tuple(b - a for a, b in itertools.pairwise([0, *edges, 30]))
    assert sum(claims) == 30 and game.is_nash(claims)
    assert not _profitable_deviations(game, claims)
    other = tuple(min(30, c + k) for k, c in enumerate(claims))  # not exact any more
    assert game.is_nash(other) == (not _profitable_deviations(game, other))


def test_under_and_over_claims() -> None:
    game, _ = make_game("DivideDollar-v1", {"n_players": 3, "granularity": 10})
    assert not game.is_nash((3, 3, 3))  # anyone can ask for one more unit
    assert game.stage_payoffs((5, 5, 1)) == (0.0, 0.0, 0.0)  # 11 > 10: nobody is paid
    assert not game.is_nash((5, 5, 1))  # a 5 can drop to 4 and be paid
    assert game.is_nash((10, 10, 10))  # hopeless: no single player can fix it (weak)
    assert game.stage_payoffs((10, 10, 10)) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("n", [2, 3, 4, 10])
def test_equal_split_agents_reach_the_symmetric_equilibrium(n: int) -> None:
    params = {"n_players": n, "rounds": 3, "granularity": 100, "total": 5.0}
    result = _play("DivideDollar-v1", params, ["divide_equal"] * n)
    units = 100 // n
    assert result.returns == pytest.approx([3 * units * 5.0 / 100] * n)
    m = result.metrics
    assert m["overclaim_rate"] == 0.0 and m["fairness"] == pytest.approx(1.0)
    assert m["efficiency"] == pytest.approx(units * n / 100)
    bench = make_game("DivideDollar-v1", params)[0].benchmark().values
    assert bench["equal_split_on_grid"] == float(100 % n == 0)
    if 100 % n == 0:
        assert m["efficiency"] == pytest.approx(1.0)
        assert result.returns[0] / 3 == pytest.approx(bench["equal_share"])


def test_greedy_agents_overclaim_and_get_nothing() -> None:
    agents = [{"name": "divide_greedy", "share": 0.5}] * 3 + ["divide_equal"] * 7
    result = _play("DivideDollar-v1", {"rounds": 4}, agents)
    assert result.events["action"][:10] == [50, 50, 50] + [10] * 7
    assert result.returns == [0.0] * 10
    m = result.metrics
    assert (m["efficiency"], m["overclaim_rate"]) == (0.0, 1.0)
    assert m["distance_to_benchmark"] == pytest.approx(1.2)  # (220 - 100) / 100


def test_divide_metrics_by_hand() -> None:
    game, state, m = _scripted("DivideDollar-v1",
                               {"n_players": 3, "granularity": 10, "total": 1.0},
                               [(3, 3, 4), (5, 5, 1)])
    assert state.totals == pytest.approx((0.3, 0.3, 0.4))
    assert m["efficiency"] == pytest.approx(0.5)
    assert m["overclaim_rate"] == 0.5
    assert m["distance_to_benchmark"] == pytest.approx((0 + 1) / (2 * 10))
    # 1 - Gini: mean |x_i - x_j| over ordered pairs = 0.4/9; Gini = 0.4 / (2*3*1.0) * 3/2
    assert m["fairness"] == pytest.approx(0.9)


@pytest.mark.parametrize(("share", "units"), [(0.5, 50), (0.125, 13), (0.0, 0), (1.0, 100)])
def test_greedy_claims_its_share(share: float, units: int) -> None:
    game, _ = make_game("DivideDollar-v1")
    agent = make_agent({"name": "divide_greedy", "share": share}, game)
    agent.reset(seed=0, player=0)
    assert agent.act(game.observe(game.initial_state(RNG), 0)) == units


# ----- invariants under random params and moves -----------------------------------------
def _random_play(game: Any, data: st.DataObject) -> list[tuple[tuple[int, ...], tuple]]:
    rng = np.random.default_rng(0)
    state = game.initial_state(rng)
    log = []
    while game.status(state) is Status.RUNNING:
        joint = tuple(data.draw(st.integers(0, game.num_actions - 1))
                      for _ in game.to_move(state))
        state, rewards = game.step(state, joint, rng)
        log.append((joint, rewards))
    assert game.returns(state) == pytest.approx(
        tuple(map(sum, zip(*[r for _, r in log], strict=True))))
    assert len(log) == game.params.rounds
    return log


@SETTINGS
@given(n=st.integers(2, 6), max_guess=st.integers(1, 30), p=st.floats(0.01, 0.99),
       prize=st.floats(0.01, 100), payoff=st.sampled_from(["winner", "distance"]),
       rounds=st.integers(1, 4), data=st.data())
def test_beauty_payments_within_bounds(n: int, max_guess: int, p: float, prize: float,
                                       payoff: str, rounds: int, data: st.DataObject) -> None:
    game, _ = make_game("BeautyContest-v1", {"n_players": n, "max_guess": max_guess, "p": p,
                                             "prize": prize, "payoff": payoff,
                                             "rounds": rounds})
    for _, rewards in _random_play(game, data):
        assert all(-1e-12 <= r <= prize * (1 + 1e-12) for r in rewards)
        if payoff == "winner":
            assert sum(rewards) == pytest.approx(prize)


@SETTINGS
@given(n=st.integers(2, 9), capacity=st.floats(0.05, 0.95), good=st.floats(0.01, 10),
       bad=st.floats(-10, -0.01), minority=st.booleans(), rounds=st.integers(1, 4),
       data=st.data())
def test_el_farol_payments_follow_the_attendance(n: int, capacity: float, good: float,
                                                 bad: float, minority: bool, rounds: int,
                                                 data: st.DataObject) -> None:
    params = {"n_players": n | 1 if minority else n, "capacity": capacity, "good": good,
              "bad": bad, "mode": "minority" if minority else "el_farol", "rounds": rounds}
    try:
        game, _ = make_game("ElFarol-v1", params)
    except ConfigError as exc:  # too few or too many seats for this group
        assert "capacity" in str(exc)
        return
    for joint, rewards in _random_play(game, data):
        fine = sum(joint) <= game.seats
        for a, r in zip(joint, rewards, strict=True):
            if a == GO:
                assert r == (good if fine else bad)
            else:
                assert r == ((bad if fine else good) if minority else 0.0)
    assert 0 < game.mixed_nash_probability() < 1


@SETTINGS
@given(n=st.integers(2, 6), granularity=st.integers(1, 40), total=st.floats(0.01, 1000),
       rounds=st.integers(1, 4), data=st.data())
def test_divide_payments_never_exceed_the_total(n: int, granularity: int, total: float,
                                                rounds: int, data: st.DataObject) -> None:
    game, _ = make_game("DivideDollar-v1", {"n_players": n, "granularity": granularity,
                                            "total": total, "rounds": rounds})
    for joint, rewards in _random_play(game, data):
        assert sum(rewards) <= total * (1 + 1e-12)
        assert all(r >= 0 for r in rewards)
        if sum(joint) <= granularity:
            assert rewards == pytest.approx(tuple(k * total / granularity for k in joint))
        else:
            assert rewards == (0.0,) * n


# ----- bad params and agent params --------------------------------------------------------
BAD_PARAMS = [
    ("BeautyContest-v1", {"p": 1.0}, "p"),
    ("BeautyContest-v1", {"p": 0}, "p"),
    ("BeautyContest-v1", {"p": "2/3"}, "p"),
    ("BeautyContest-v1", {"max_guess": 0}, "max_guess"),
    ("BeautyContest-v1", {"prize": -1}, "prize"),
    ("BeautyContest-v1", {"payoff": "loser"}, "payoff"),
    ("BeautyContest-v1", {"n_players": 1}, "n_players"),
    ("BeautyContest-v1", {"rounds": True}, "rounds"),
    ("BeautyContest-v1", {"framing": "poem"}, "framing"),
    ("ElFarol-v1", {"capacity": 1.0}, "capacity"),
    ("ElFarol-v1", {"capacity": 0.05}, "capacity"),  # 0 seats out of 10
    ("ElFarol-v1", {"good": 0}, "good"),
    ("ElFarol-v1", {"bad": 0.5}, "bad"),
    ("ElFarol-v1", {"mode": "majority"}, "mode"),
    ("ElFarol-v1", {"mode": "minority", "n_players": 10}, "n_players"),
    ("ElFarol-v1", {"rounds": 0}, "rounds"),
    ("DivideDollar-v1", {"total": 0}, "total"),
    ("DivideDollar-v1", {"granularity": 0}, "granularity"),
    ("DivideDollar-v1", {"granularity": 2.5}, "granularity"),
    ("DivideDollar-v1", {"n_players": "3"}, "n_players"),
    ("DivideDollar-v1", {"framing": "opera"}, "framing"),
]


@pytest.mark.parametrize(("env_id", "params", "name"), BAD_PARAMS)
def test_bad_params_raise_config_error_naming_the_parameter(env_id: str, params: dict,
                                                            name: str) -> None:
    with pytest.raises(ConfigError, match=rf"\b{name}="):
        make_game(env_id, params)
    with pytest.raises(ConfigError, match=rf"\b{name}="):
        make(env_id, **params)


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ({"name": "beauty_level_k", "k": -1}, "k"),
        ({"name": "beauty_level_k", "k": 1.5}, "k"),
        ({"name": "beauty_level_k", "anchor": "median"}, "anchor"),
        ({"name": "beauty_random", "low": 0.8, "high": 0.2}, "low"),
        ({"name": "beauty_random", "high": 2}, "high"),
        ({"name": "divide_greedy", "share": 1.5}, "share"),
        ({"name": "divide_greedy", "share": "half"}, "share"),
    ],
)
def test_agent_bad_params_name_the_parameter(spec: dict, name: str) -> None:
    with pytest.raises(ConfigError, match=rf"\b{name}="):
        make_agent(spec)


@pytest.mark.parametrize(
    ("agent", "env_id"),
    [("beauty_nash", "ElFarol-v1"), ("elfarol_threshold", "DivideDollar-v1"),
     ("divide_equal", "BeautyContest-v1"), ("elfarol_mixed_nash", "PublicGoods-v1")],
)
def test_agents_refuse_other_games(agent: str, env_id: str) -> None:
    game, _ = make_game(env_id)
    with pytest.raises(ConfigError, match=agent):
        make_agent(agent, game)
