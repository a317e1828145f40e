"""What game theory says about each reference game, checked against the implementation.

Where two implementations of one quantity exist they must agree: closed forms against
simulation (Monte Carlo with a confidence-interval tolerance), the library's backward
induction against an independent brute force over the game's own ``step``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from agora.agents import Agent, make_agent
from agora.agents.heuristics import SPEBargainer
from agora.envs import Status, make_game
from agora.envs.games.bargaining import (
    ACCEPT,
    REJECT,
    rubinstein_share,
    spe_keep_units,
    spe_share,
)
from agora.envs.games.repeated_matrix import PD_PAYOFFS, matrix_benchmark, mixed_nash, pure_nash
from agora.experiments import play_episode

R, S, T, P = 3.0, 0.0, 5.0, 1.0
Z_99 = 3.3  # two-sided z for ~0.1% false alarms per comparison


def _play(
    env_id: str,
    params: dict[str, Any],
    agents: Sequence[Agent | str | dict],
    seed: int = 0,
    **kwargs: Any,
) -> Any:
    """One episode with agents given as agents or specs; asserts it ran cleanly."""
    game, text = make_game(env_id, params)
    built = [a if isinstance(a, Agent) else make_agent(a, game) for a in agents]
    result = play_episode(game, text, built, seed=seed, **kwargs)
    assert result.status == "ok", result.error
    return result


def _mean_returns(
    env_id: str, params: dict[str, Any], names: Sequence[str], episodes: int
) -> np.ndarray:
    """Per-episode returns (episodes x players) of named agents, seeds 0..episodes-1."""
    game, text = make_game(env_id, params)
    out = np.empty((episodes, game.num_players))
    for seed in range(episodes):
        agents = [make_agent(n, game) for n in names]
        out[seed] = play_episode(game, text, agents, seed=seed, record_events=False).returns
    return out


def _assert_mean_close(samples: np.ndarray, expected: float) -> None:
    se = samples.std(ddof=1) / math.sqrt(len(samples))
    assert abs(samples.mean() - expected) <= Z_99 * se + 1e-9, (samples.mean(), expected, se)


# ===== repeated prisoner's dilemma =====================================================
def test_pd_payoffs_are_axelrods() -> None:
    game, _ = make_game("RepeatedPD-v1")
    pay = game.params.payoffs
    assert (pay[0][0][0], pay[0][1][0], pay[1][0][0], pay[1][1][0]) == (R, S, T, P)
    for a0, a1 in itertools.product((0, 1), repeat=2):  # symmetric game
        assert pay[a0][a1] == (pay[a1][a0][1], pay[a1][a0][0])


@pytest.mark.parametrize("n", [1, 2, 5, 17])
def test_tit_for_tat_vs_always_defect_closed_form(n: int) -> None:
    result = _play("RepeatedPD-v1", {"rounds": n}, ["tit_for_tat", "always_defect"])
    assert result.returns == [S + (n - 1) * P, T + (n - 1) * P]
    assert result.length == n
    assert result.metrics["action0_rate_0"] == pytest.approx(1 / n)


@pytest.mark.parametrize("n", [1, 3, 10])
def test_grim_vs_grim_cooperates_every_round(n: int) -> None:
    result = _play("RepeatedPD-v1", {"rounds": n}, ["grim_trigger", "grim_trigger"])
    assert result.returns == [n * R, n * R]
    assert result.metrics["mutual_action0_rate"] == 1.0
    assert result.metrics["efficiency"] == pytest.approx(1.0)


def test_pd_benchmark_values() -> None:
    game, _ = make_game("RepeatedPD-v1")
    values = game.benchmark().values
    assert values["nash_payoff_0"] == P == values["nash_payoff_1"]
    assert (values["nash_action_0"], values["nash_action_1"]) == (1, 1)
    assert values["grim_trigger_threshold"] == (T - R) / (T - P) == 0.5
    assert values["social_optimum_per_round"] == 2 * R
    assert pure_nash(PD_PAYOFFS) == [(1, 1)]
    assert mixed_nash(PD_PAYOFFS) is None


def test_matching_pennies_has_only_the_half_half_mixed_equilibrium() -> None:
    pennies = (((1, -1), (-1, 1)), ((-1, 1), (1, -1)))
    assert pure_nash(pennies) == []
    assert mixed_nash(pennies) == pytest.approx((0.5, 0.5))
    bench = matrix_benchmark(pennies)
    assert bench.values["nash_prob0_0"] == pytest.approx(0.5)
    assert bench.values["nash_payoff_0"] == pytest.approx(0.0)
    assert bench.values["nash_payoff_1"] == pytest.approx(0.0)
    assert "grim_trigger_threshold" not in bench.values


def test_stag_hunt_has_two_pure_equilibria_and_a_mixed_one() -> None:
    stag = (((4, 4), (0, 3)), ((3, 0), (3, 3)))
    assert sorted(pure_nash(stag)) == [(0, 0), (1, 1)]
    p0, p1 = mixed_nash(stag)
    # Indifference: 4 q = 3  =>  q = 3/4 on stag for both players.
    assert (p0, p1) == pytest.approx((0.75, 0.75))
    q = p1
    assert 4 * q + 0 * (1 - q) == pytest.approx(3 * q + 3 * (1 - q))


def test_mixed_nash_makes_the_opponent_indifferent() -> None:
    rng = np.random.default_rng(5)
    found = 0
    for _ in range(200):
        pay = tuple(
            tuple(tuple(rng.integers(-5, 6, 2).tolist()) for _ in range(2)) for _ in range(2)
        )
        mixed = mixed_nash(pay)
        if mixed is None:
            continue
        found += 1
        p0, p1 = mixed
        u0 = [p1 * pay[a][0][0] + (1 - p1) * pay[a][1][0] for a in (0, 1)]
        u1 = [p0 * pay[0][b][1] + (1 - p0) * pay[1][b][1] for b in (0, 1)]
        assert u0[0] == pytest.approx(u0[1]) and u1[0] == pytest.approx(u1[1])
    assert found > 10


@pytest.mark.parametrize("delta", [0.5, 0.9])
def test_continuation_value_closed_form_matches_monte_carlo(delta: float) -> None:
    """With continuation delta, mutual cooperation is worth R / (1 - delta)."""
    episodes = 3000
    returns = _mean_returns(
        "RepeatedPD-v1",
        {"delta": delta, "rounds": 100_000},
        ["always_cooperate", "always_cooperate"],
        episodes,
    )
    np.testing.assert_array_equal(returns[:, 0], returns[:, 1])
    _assert_mean_close(returns[:, 0], R / (1 - delta))
    # Rounds are geometric: P(N = 1) = 1 - delta.
    share_one_round = float(np.mean(returns[:, 0] == R))
    se = math.sqrt(delta * (1 - delta) / episodes)
    assert abs(share_one_round - (1 - delta)) <= Z_99 * se


def _grim_payoffs(delta: float, episodes: int) -> tuple[np.ndarray, np.ndarray]:
    params = {"delta": delta, "rounds": 100_000}
    coop = _mean_returns("RepeatedPD-v1", params, ["always_cooperate", "grim_trigger"], episodes)
    dfct = _mean_returns("RepeatedPD-v1", params, ["always_defect", "grim_trigger"], episodes)
    return coop[:, 0], dfct[:, 0]


@pytest.mark.parametrize("delta", [0.2, 0.5, 0.8])
def test_grim_trigger_threshold_by_simulation(delta: float) -> None:
    """Against grim trigger, cooperating pays R/(1-d) and defecting T + P d/(1-d); they
    cross at the benchmark threshold. Same seeds give both matchups the same lengths."""
    game, _ = make_game("RepeatedPD-v1", {"delta": delta})
    threshold = game.benchmark().values["grim_trigger_threshold"]
    coop, dfct = _grim_payoffs(delta, 1500)
    _assert_mean_close(coop, R / (1 - delta))
    _assert_mean_close(dfct, T + P * delta / (1 - delta))
    diff = coop - dfct  # paired: 2 N - 4 for an episode of N rounds
    se = diff.std(ddof=1) / math.sqrt(len(diff))
    if delta > threshold:
        assert diff.mean() > Z_99 * se
    elif delta < threshold:
        assert diff.mean() < -Z_99 * se
    else:
        assert abs(diff.mean()) <= Z_99 * se


def test_random_end_terminates_by_chance_and_truncates_at_the_cap() -> None:
    game, _ = make_game("RepeatedPD-v1", {"delta": 0.5, "rounds": 3})
    ends = []
    for seed in range(60):
        rng = np.random.default_rng(seed)
        state = game.initial_state(rng)
        while game.status(state) is Status.RUNNING:
            state, _ = game.step(state, (0, 0), rng)
        ends.append((game.metrics(state)["rounds"], game.status(state)))
    assert all(1 <= n <= 3 for n, _ in ends)
    assert all(n == 3 for n, status in ends if status is Status.TRUNCATED)
    truncated = sum(status is Status.TRUNCATED for _, status in ends)
    assert 0 < truncated < 60  # P = delta^2 = 1/4 per episode
    assert {status for _, status in ends} == {Status.TERMINATED, Status.TRUNCATED}


# ===== bargaining ====================================================================
def test_spe_bargainers_agree_immediately_on_the_spe_split() -> None:
    result = _play("Bargaining-v1", {}, ["spe_bargainer", "spe_bargainer"])
    game, _ = make_game("Bargaining-v1")
    keep = game.benchmark().values["spe_keep_units"]
    g = game.params.granularity
    assert result.metrics["agreed"] == 1.0
    assert result.metrics["agreement_round"] == 1.0
    assert result.length == 2  # one proposal, one acceptance
    assert result.events["action"][0] == keep
    assert result.returns == pytest.approx([keep / g, 1 - keep / g])
    assert result.metrics["share_0"] == keep / g


@pytest.mark.parametrize("granularity", [1, 3, 10, 100, 1000])
@pytest.mark.parametrize("horizon", [1, 2, 5, 12])
@pytest.mark.parametrize("discounts", [(0.9, 0.9), (0.95, 0.6), (0.5, 0.99), (1.0, 0.8)])
def test_discrete_spe_is_within_the_derived_bound_of_the_continuous_one(
    granularity: int, horizon: int, discounts: tuple[float, float]
) -> None:
    """keep_t/g = 1 - ceil(d keep_{t+1})/g differs from x_t = 1 - d x_{t+1} by an error
    e_t in [-d e_{t+1} - 1/g, -d e_{t+1}]; with e_H = 0 that gives
    |e_1| <= (1/g) * sum_{k < H-1} dmax^k."""
    game, _ = make_game(
        "Bargaining-v1", {"granularity": granularity, "horizon": horizon, "discounts": discounts}
    )
    values = game.benchmark().values
    assert values["spe_share_first_proposer"] == spe_share(discounts, horizon)
    dmax = max(discounts)
    bound = sum(dmax**k for k in range(horizon - 1)) / granularity
    error = values["spe_keep_units"] / granularity - values["spe_share_first_proposer"]
    assert abs(error) <= bound + 1e-12


@pytest.mark.parametrize(
    "discounts", [(0.9, 0.8), (0.6, 0.9), (0.8, 0.5), (0.7, 0.95), (0.95, 0.7), (0.5, 0.99)]
)
def test_long_horizon_approaches_rubinstein(discounts: tuple[float, float]) -> None:
    d0, d1 = discounts
    target = (1 - d1) / (1 - d0 * d1)
    params = {"granularity": 10_000, "horizon": 60, "discounts": discounts}
    game, _ = make_game("Bargaining-v1", params)
    values = game.benchmark().values
    assert values["spe_share_infinite_horizon"] == pytest.approx(target)
    assert rubinstein_share(discounts) == pytest.approx(target)
    assert values["spe_keep_units"] / 10_000 == pytest.approx(target, abs=1e-3)
    assert values["spe_share_first_proposer"] == pytest.approx(target, abs=1e-3)


def test_long_horizon_play_reaches_the_rubinstein_share() -> None:
    discounts = (0.9, 0.8)
    params = {"granularity": 10_000, "horizon": 60, "discounts": discounts}
    result = _play("Bargaining-v1", params, ["spe_bargainer", "spe_bargainer"])
    assert result.metrics["agreement_round"] == 1.0
    assert result.metrics["share_0"] == pytest.approx(rubinstein_share(discounts), abs=1e-3)
    assert result.metrics["distance_to_benchmark"] < 1e-3


def _brute_force_spe(game: Any) -> tuple[dict[Any, tuple[float, float]], dict[Any, set[int]]]:
    """Backward induction over every legal action, using only ``game.step``.

    Returns each reachable state's SPE continuation payoffs and the mover's optimal
    actions there (a responder who is indifferent accepts).
    """
    rng = np.random.default_rng(0)
    values: dict[Any, tuple[float, float]] = {}
    best: dict[Any, set[int]] = {}

    def solve(state: Any) -> tuple[float, float]:
        if state in values:
            return values[state]
        if game.status(state) is not Status.RUNNING:
            return (0.0, 0.0)
        (mover,) = game.to_move(state)
        outcomes = {}
        for a in np.flatnonzero(game.legal_mask(state, mover)).tolist():
            nxt, rew = game.step(state, (a,), rng)
            later = solve(nxt)
            outcomes[a] = (rew[0] + later[0], rew[1] + later[1])
        top = max(v[mover] for v in outcomes.values())
        argmax = {a for a, v in outcomes.items() if v[mover] >= top - 1e-12}
        if game.view(state, mover).proposing:
            choice = min(argmax)
        else:  # an indifferent responder accepts (the standard SPE tie-break)
            choice = ACCEPT if ACCEPT in argmax else REJECT
        values[state], best[state] = outcomes[choice], argmax
        return outcomes[choice]

    solve(game.initial_state(rng))
    return values, best


@pytest.mark.parametrize("granularity", [1, 2, 5, 7, 12])
@pytest.mark.parametrize("horizon", [1, 2, 3, 4, 6])
@pytest.mark.parametrize("discounts", [(0.9, 0.9), (0.5, 0.8), (0.8, 0.3), (1.0, 0.7), (1.0, 1.0)])
def test_brute_force_backward_induction_equals_spe_keep_units(
    granularity: int, horizon: int, discounts: tuple[float, float]
) -> None:
    game, _ = make_game(
        "Bargaining-v1", {"granularity": granularity, "horizon": horizon, "discounts": discounts}
    )
    keep = int(game.benchmark().values["spe_keep_units"])
    assert keep == spe_keep_units(discounts, horizon, granularity)
    values, best = _brute_force_spe(game)
    start = game.initial_state(np.random.default_rng(0))
    assert keep in best[start]
    offered = game.step(start, (keep,), np.random.default_rng(0)).state
    assert ACCEPT in best[offered]
    expected = (keep / granularity * 1.0, (granularity - keep) / granularity)
    assert values[start] == pytest.approx(expected)


@pytest.mark.parametrize("discounts", [(0.9, 0.9), (0.6, 0.85), (0.95, 0.5)])
def test_no_profitable_first_round_deviation_against_spe_responder(
    discounts: tuple[float, float],
) -> None:
    params = {"granularity": 50, "horizon": 5, "discounts": discounts}
    game, text = make_game("Bargaining-v1", params)
    keep = int(game.benchmark().values["spe_keep_units"])

    class Deviator(SPEBargainer):
        """Proposes ``k`` in round 1, then plays the SPE."""

        def __init__(self, k: int) -> None:
            super().__init__()
            self.k = k

        def act(self, obs: Any) -> int:
            if obs.view.proposing and obs.view.round == 1:
                return self.k
            return super().act(obs)

    payoff = {}
    for k in range(params["granularity"] + 1):
        result = play_episode(game, text, [Deviator(k), make_agent("spe_bargainer")], seed=0)
        assert result.status == "ok"
        payoff[k] = result.returns[0]
    assert max(payoff.values()) <= payoff[keep] + 1e-12
    assert payoff[keep] == pytest.approx(keep / 50)
    # Asking for one unit more is rejected (and costs the proposer).
    if keep < 50:
        assert payoff[keep + 1] < payoff[keep]


def test_fairness_metric_is_glee_formula() -> None:
    game, text = make_game("Bargaining-v1", {"granularity": 10})
    agents = [
        make_agent({"name": "fixed_share", "share": 0.7}, game),
        make_agent({"name": "fixed_share", "threshold": 0.3}, game),
    ]
    result = play_episode(game, text, agents, seed=0)
    # Player 0 keeps 7 of 10: fairness = 1 - 4 (0.7 - 0.5)^2 = 1 - 0.16 = 0.84.
    assert result.metrics["share_0"] == pytest.approx(0.7)
    assert result.metrics["fairness"] == pytest.approx(0.84)
    assert result.metrics["efficiency"] == pytest.approx(1.0)
    even = play_episode(game, text, [make_agent("fixed_share"), make_agent("fixed_share")], 0)
    assert even.metrics["fairness"] == pytest.approx(1.0)


def test_no_deal_pays_nothing() -> None:
    agents = [{"name": "fixed_share", "share": 1.0, "threshold": 1.0}] * 2
    result = _play("Bargaining-v1", {"horizon": 3}, agents)
    assert result.returns == [0.0, 0.0]
    assert result.metrics["agreed"] == 0.0 and result.metrics["efficiency"] == 0.0
    assert math.isnan(result.metrics["fairness"])
    assert result.length == 6


def test_late_agreement_is_discounted_per_player() -> None:
    game, _ = make_game("Bargaining-v1", {"discounts": (0.5, 0.8), "granularity": 10, "pie": 2.0})
    rng = np.random.default_rng(0)
    state = game.initial_state(rng)
    state, _ = game.step(state, (10,), rng)  # player 0 asks for everything
    state, _ = game.step(state, (REJECT,), rng)
    state, _ = game.step(state, (4,), rng)  # round 2: player 1 keeps 4 units
    state, rewards = game.step(state, (ACCEPT,), rng)
    assert rewards == pytest.approx((6 / 10 * 2.0 * 0.5, 4 / 10 * 2.0 * 0.8))
    assert game.returns(state) == pytest.approx(rewards)


# ===== public goods =================================================================
def _pg_grid() -> list[tuple[int, float]]:
    cases = []
    for n in (2, 3, 5):
        for m in (1.05, (1 + n) / 2, n - 0.05):
            cases.append((n, m))
    return cases


@pytest.mark.parametrize(("n", "m"), _pg_grid())
def test_free_riding_strictly_dominates(n: int, m: float) -> None:
    fractions = (0.0, 0.25, 0.5, 0.75, 1.0)
    params = {"n_players": n, "multiplier": m, "rounds": 2}
    game, text = make_game("PublicGoods-v1", params)
    for others in ((0.0,) * (n - 1), (1.0,) * (n - 1), tuple(fractions[1:n])):
        payoff = {}
        for f in fractions:
            agents = [
                make_agent({"name": "fixed_contributor", "fraction": x}, game) for x in (f, *others)
            ]
            payoff[f] = play_episode(game, text, agents, seed=0).returns[0]
        assert all(payoff[0.0] > payoff[f] for f in fractions[1:]), payoff
        # Each token given costs exactly 1 - m/n per round.
        slope = (payoff[1.0] - payoff[0.0]) / (2 * game.params.endowment)
        assert slope == pytest.approx(m / n - 1)


def test_free_riding_dominates_in_the_raw_stage_game() -> None:
    """Same fact on the core: every contribution c > 0 against every others' profile."""
    game, _ = make_game(
        "PublicGoods-v1", {"n_players": 3, "endowment": 6, "multiplier": 2.0, "rounds": 1}
    )
    rng = np.random.default_rng(0)
    start = game.initial_state(rng)
    for others in itertools.product(range(7), repeat=2):
        free = game.step(start, (0, *others), rng).rewards[0]
        for c in range(1, 7):
            assert game.step(start, (c, *others), rng).rewards[0] < free


@pytest.mark.parametrize("seed", range(4))
def test_public_goods_payoff_identity_each_round(seed: int) -> None:
    params = {"n_players": 4, "endowment": 20, "multiplier": 1.6, "rounds": 6}
    game, text = make_game("PublicGoods-v1", params)
    result = play_episode(game, text, [make_agent("random") for _ in range(4)], seed=seed)
    ev = result.events
    for step in range(result.length):
        rows = [i for i, s in enumerate(ev["step"]) if s == step]
        contributions = [ev["action"][i] for i in rows]
        rewards = ev["rewards"][rows[0]]
        assert sum(rewards) == pytest.approx(4 * 20 + (1.6 - 1) * sum(contributions))
        for i in rows:
            c = ev["action"][i]
            assert ev["reward"][i] == pytest.approx(20 - c + 1.6 * sum(contributions) / 4)
    assert sum(result.returns) == pytest.approx(6 * 4 * 20 + 0.6 * sum(ev["action"]))
    assert result.metrics["contribution_rate"] == pytest.approx(sum(ev["action"]) / (6 * 4 * 20))


def _pg_brute_force(game: Any) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    """Pure Nash profiles (no unilateral deviation pays) and welfare-maximising profiles,
    over every contribution profile, using only the game's own ``step``."""
    rng = np.random.default_rng(0)
    start = game.initial_state(rng)
    n, choices = game.num_players, range(game.num_actions)
    pay = {c: game.step(start, c, rng).rewards for c in itertools.product(choices, repeat=n)}
    nash = [c for c, u in pay.items()
            if all(u[i] >= pay[c[:i] + (d,) + c[i + 1:]][i] - 1e-9
                   for i in range(n) for d in choices)]
    best = max(sum(u) for u in pay.values())
    optimal = [c for c, u in pay.items() if sum(u) >= best - 1e-9]
    return nash, optimal


def _assert_range(values: Any, key: str, profiles: list[tuple[int, ...]]) -> None:
    if len(profiles) == 1:
        assert values[key] == profiles[0][0]
    else:
        assert math.isnan(values[key]), (key, values[key], len(profiles))
    per_player = {x for c in profiles for x in c}
    assert values[f"{key}_min"] == min(per_player)
    assert values[f"{key}_max"] == max(per_player)


@pytest.mark.parametrize("m", [0.5, 1.0, 2.0, 3.0, 4.5])
def test_public_goods_benchmark_matches_brute_force(m: float) -> None:
    """n = 3: m = n makes every profile an equilibrium, m = 1 makes every one optimal."""
    params = {"n_players": 3, "endowment": 4, "multiplier": m, "rounds": 1}
    game, _ = make_game("PublicGoods-v1", params)
    nash, optimal = _pg_brute_force(game)
    values = game.benchmark().values
    _assert_range(values, "nash_contribution", nash)
    _assert_range(values, "optimum_contribution", optimal)
    assert values["nash_unique"] == (len(nash) == 1)
    assert values["optimum_unique"] == (len(optimal) == 1)
    if m == 3.0:
        assert len(nash) == 5**3  # everything
        result = _play("PublicGoods-v1", params, [{"name": "fixed_contributor", "fraction": f}
                                                  for f in (0.25, 0.5, 1.0)])
        assert result.metrics["distance_to_benchmark"] == 0.0  # every rate is an equilibrium's


@pytest.mark.parametrize(("n", "m", "endowment"), [(4, 1.6, 20), (3, 2.5, 10), (2, 1.5, 7)])
def test_public_goods_benchmark_social_dilemma(n: int, m: float, endowment: int) -> None:
    game, _ = make_game("PublicGoods-v1", {"n_players": n, "multiplier": m, "endowment": endowment})
    bench = game.benchmark()
    assert bench.concept == "dominant-strategy equilibrium"
    assert bench.values["nash_contribution"] == 0
    assert bench.values["nash_payoff_per_round"] == endowment
    assert bench.values["optimum_contribution"] == endowment
    assert bench.values["optimum_payoff_per_round"] == pytest.approx(m * endowment)


def test_public_goods_benchmark_outside_the_dilemma() -> None:
    rich, _ = make_game("PublicGoods-v1", {"n_players": 3, "multiplier": 4.0})
    assert rich.benchmark().values["nash_contribution"] == rich.params.endowment
    assert rich.benchmark().values["nash_payoff_per_round"] == 4.0 * rich.params.endowment
    poor, _ = make_game("PublicGoods-v1", {"n_players": 3, "multiplier": 0.5})
    assert poor.benchmark().values["optimum_contribution"] == 0.0
    assert poor.benchmark().values["optimum_payoff_per_round"] == poor.params.endowment


@pytest.mark.parametrize("initial", [0.0, 0.3, 0.5, 1.0])
def test_conditional_cooperators_keep_their_initial_contribution(initial: float) -> None:
    params = {"n_players": 4, "rounds": 8}
    agents = [{"name": "conditional_cooperator", "initial": initial}] * 4
    result = _play("PublicGoods-v1", params, agents)
    assert set(result.events["action"]) == {round(initial * 20)}
    assert result.metrics["contribution_rate"] == pytest.approx(round(initial * 20) / 20)


@pytest.mark.parametrize(("n", "m"), [(4, 1.6), (3, 2.9), (5, 7.0)])
def test_efficiency_is_one_under_full_contribution(n: int, m: float) -> None:
    agents = [{"name": "fixed_contributor", "fraction": 1.0}] * n
    result = _play("PublicGoods-v1", {"n_players": n, "multiplier": m, "rounds": 3}, agents)
    assert result.metrics["efficiency"] == pytest.approx(1.0)
    assert result.metrics["contribution_rate"] == 1.0
    assert result.returns == pytest.approx([3 * m * 20] * n)
    free = _play(
        "PublicGoods-v1",
        {"n_players": n, "multiplier": m, "rounds": 3},
        [{"name": "fixed_contributor", "fraction": 0.0}] * n,
    )
    assert free.metrics["efficiency"] == pytest.approx(1 / m)
