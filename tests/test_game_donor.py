"""Theory and accounting of the donor game (DonorGame-v1): the paper's schedule, traces,
money, equilibrium and optimum, indirect-reciprocity agents, and the text face variants."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from agora.agents import Agent, make_agent
from agora.agents.donor import good_standing
from agora.envs import ActionParseError, ConfigError, IllegalActionError, Status, make_game
from agora.envs.games.donor import (
    DONATE,
    PUNISH,
    REFUSE,
    DonorEvent,
    DonorGame,
    build_trace,
    full_cooperation,
    random_schedule,
    round_robin_schedule,
)
from agora.experiments import play_episode

ID = "DonorGame-v1"


def _paper_round_robin(n: int) -> list[list[tuple[int, int]]]:
    """The paper's code, restated: rotate group B around A, toggle roles, then reverse."""
    group_a, group_b = list(range(n // 2)), list(range(n // 2, n))
    rounds, toggle = [], False
    for i in range(len(group_a)):
        rotated = group_b[-i:] + group_b[:-i]
        rounds.append(list(zip(rotated, group_a)) if toggle else list(zip(group_a, rotated)))
        toggle = not toggle
    return rounds + [[(b, a) for a, b in pairs] for pairs in rounds]


def _play(params: dict[str, Any], agents: Sequence[Agent | str | dict], seed: int = 0) -> Any:
    game, text = make_game(ID, params)
    built = [a if isinstance(a, Agent) else make_agent(a, game) for a in agents]
    result = play_episode(game, text, built, seed=seed)
    assert result.status == "ok", result.error
    return result


# ----- the schedule ---------------------------------------------------------------------
@pytest.mark.parametrize("n", [2, 4, 6, 8, 12, 20])
def test_round_robin_is_the_papers_schedule(n: int) -> None:
    schedule = round_robin_schedule(n)
    assert [list(r) for r in schedule] == _paper_round_robin(n)
    assert len(schedule) == n  # 12 rounds for 12 agents
    half = n // 2
    met: dict[tuple[int, int], int] = {}
    for pairs in schedule:
        seats = [a for pair in pairs for a in pair]
        assert sorted(seats) == list(range(n))  # everyone plays exactly once per round
        for d, r in pairs:
            assert (d < half) != (r < half)  # always across the halves
            met[(d, r)] = met.get((d, r), 0) + 1
    cross = {(a, b) for a in range(n) for b in range(n) if (a < half) != (b < half)}
    assert set(met) == cross and set(met.values()) == {1}  # once as donor, once as recipient


@pytest.mark.parametrize("n", [4, 12])
def test_round_robin_roles_alternate_then_reverse(n: int) -> None:
    schedule = round_robin_schedule(n)
    half = n // 2
    for i, pairs in enumerate(schedule[:half]):
        assert all((d < half) == (i % 2 == 0) for d, _ in pairs)  # A gives in even rounds
        assert schedule[half + i] == tuple((r, d) for d, r in pairs)
    for agent in range(n):
        roles = [any(d == agent for d, _ in pairs) for pairs in schedule[:half]]
        assert all(a != b for a, b in zip(roles, roles[1:]))


def test_the_game_plays_the_schedule_in_order_and_repeats_it() -> None:
    game, _ = make_game(ID, {"n_agents": 4, "rounds": 6})
    state = game.initial_state(np.random.default_rng(0))
    seen = []
    while game.status(state) is Status.RUNNING:
        seen.append(game.current_pair(state))
        state = game.step(state, (0,), np.random.default_rng(0)).state
    base = [pair for pairs in round_robin_schedule(4) for pair in pairs]
    assert seen == base + base[:4]
    assert game.metrics(state)["rounds"] == 6.0


def test_random_schedule_is_a_pure_function_of_the_rng() -> None:
    a = random_schedule(7, 5, np.random.default_rng(3))
    assert a == random_schedule(7, 5, np.random.default_rng(3))
    assert a != random_schedule(7, 5, np.random.default_rng(4))
    for pairs in a:
        seats = [s for pair in pairs for s in pair]
        assert len(pairs) == 3 and len(set(seats)) == 6  # a matching; one agent sits out
    game, _ = make_game(ID, {"schedule": "random", "n_agents": 5})
    first = game.initial_state(np.random.default_rng(1)).schedule
    assert first == game.initial_state(np.random.default_rng(1)).schedule
    assert len(first) == 5 and first != game.initial_state(np.random.default_rng(2)).schedule


# ----- traces ---------------------------------------------------------------------------
def _ev(round_: int, donor: int, recipient: int, amount: float = 0.0) -> DonorEvent:
    return DonorEvent(round_, donor, recipient, DONATE, amount, amount / 10, 2 * amount)


HISTORY = (
    _ev(1, 3, 4, 1.0),  # 0: agent 3 gives to 4
    _ev(1, 2, 3, 2.0),  # 1: 2 gives to 3 (3's last action so far: event 0)
    _ev(2, 1, 2, 3.0),  # 2: 1 gives to 2 (2's last action: event 1)
    _ev(2, 3, 5, 4.0),  # 3: 3 acts again, *after* event 1 was taken
    _ev(3, 0, 1, 5.0),  # 4: 0 gives to 1 (1's last action: event 2)
)


@pytest.mark.parametrize(
    ("agent", "depth", "expected"),
    [
        (0, 1, (4,)),
        (0, 2, (4, 2)),
        (0, 3, (4, 2, 1)),
        (0, 4, (4, 2, 1, 0)),  # 2 gave to 3 before 3's event 3, so the link is event 0
        (1, 3, (2, 1, 0)),
        (3, 3, (3,)),  # 3's partner 5 never acted
        (4, 3, ()),
        (0, 0, ()),
    ],
)
def test_trace_follows_partners_back_in_time(agent: int, depth: int, expected: tuple) -> None:
    assert build_trace(HISTORY, agent, depth) == tuple(HISTORY[i] for i in expected)


def test_trace_before_an_index_ignores_later_events() -> None:
    assert build_trace(HISTORY, 3, 2, before=3) == (HISTORY[0],)
    assert build_trace(HISTORY, 2, 3, before=2) == (HISTORY[1], HISTORY[0])


def test_the_donor_sees_the_recipients_trace() -> None:
    game, _ = make_game(ID, {"n_agents": 4, "trace_depth": 2})
    rng = np.random.default_rng(0)
    state = game.initial_state(rng)
    for action in (4, 0, 2):  # round 1: 0->2 gives 4, 1->3 gives 0; round 2: 3->0 gives 2
        state = game.step(state, (action,), rng).state
    assert game.current_pair(state) == (2, 1)
    view = game.observe(state, 2).view
    assert view.donating and view.recipient == 1 and view.recipient_resources == 10.0
    (last,) = view.recipient_trace  # 1 gave 0 to 3, and 3's act came later
    assert (last.donor, last.recipient, last.amount, last.fraction) == (1, 3, 0.0, 0.0)
    assert game.observe(state, 0).view.recipient_trace == ()  # not donating: sees no trace
    for action in (6, 0, 1):  # 2->1 gives 6; round 3: 2->0 gives 0, 3->1 gives 1
        state = game.step(state, (action,), rng).state
    assert game.current_pair(state) == (0, 3)
    view = game.observe(state, 0).view  # 3's last act, then 1's act before it
    assert [(e.donor, e.recipient, e.amount) for e in view.recipient_trace] == [
        (3, 1, 1.0),
        (1, 3, 0.0),
    ]


# ----- money ----------------------------------------------------------------------------
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    half=st.integers(1, 4),
    endowment=st.integers(1, 12),
    multiplier=st.floats(0.5, 4.0),
    granularity=st.integers(1, 3),
    cap=st.integers(1, 25),
    punishment=st.booleans(),
    partner_choice=st.booleans(),
    schedule=st.sampled_from(["round_robin", "random"]),
    data=st.data(),
)
def test_money_is_accounted_for(
    half: int,
    endowment: int,
    multiplier: float,
    granularity: int,
    cap: int,
    punishment: bool,
    partner_choice: bool,
    schedule: str,
    data: st.DataObject,
) -> None:
    n = 2 * half
    game, _ = make_game(
        ID,
        {
            "n_agents": n,
            "endowment": endowment,
            "multiplier": multiplier,
            "granularity": granularity,
            "max_donation": cap,
            "punishment": punishment,
            "partner_choice": partner_choice,
            "schedule": schedule,
            "punishment_loss": 1.5,
        },
    )
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    state = game.initial_state(rng)
    totals, donated, spent, removed = np.zeros(n), 0.0, 0.0, 0.0
    while game.status(state) is Status.RUNNING:
        (donor,) = game.to_move(state)
        recipient = game.current_pair(state)[1]
        legal = np.flatnonzero(game.legal_mask(state, donor)).tolist()
        action = data.draw(st.sampled_from(legal))
        kind, units = game.decode_action(action)
        x = units / granularity
        assert x <= state.resources[donor] + 1e-9 and x <= cap
        before = state.resources[recipient]
        state, rewards = game.step(state, (action,), rng)
        totals += rewards
        if kind == DONATE:
            donated += x
            assert sum(rewards) == pytest.approx((multiplier - 1) * x)
        elif kind == PUNISH:
            spent += x
            removed += before - state.resources[recipient]
            assert before - state.resources[recipient] == pytest.approx(min(1.5 * x, before))
        else:
            assert rewards == (0.0,) * n
        assert min(state.resources) >= 0.0
    metrics = game.metrics(state)
    initial = n * endowment
    assert sum(state.resources) == pytest.approx(
        initial + (multiplier - 1) * donated - spent - removed
    )
    assert metrics["total_welfare"] == pytest.approx(sum(state.resources))
    assert metrics["total_donated"] == pytest.approx(donated)
    assert metrics["punishment_spent"] == pytest.approx(spent)
    assert metrics["punishment_removed"] == pytest.approx(removed)
    assert game.returns(state) == pytest.approx(tuple(totals))
    for i in range(n):
        assert metrics[f"resources_{i}"] == pytest.approx(endowment + metrics[f"gain_{i}"])
    assert len(state.history) == sum(len(pairs) for pairs in state.schedule)
    assert 0.0 <= metrics["fairness"] <= 1.0 and 0.0 <= metrics["donation_rate"] <= 1.0


def test_punishment_and_refusal_on_a_hand_computed_case() -> None:
    game, _ = make_game(
        ID,
        {
            "n_agents": 2,
            "punishment": True,
            "partner_choice": True,
            "max_donation": 20,
            "punishment_loss": 2.0,
        },
    )
    rng = np.random.default_rng(0)
    state = game.initial_state(rng)
    state, rewards = game.step(state, (game.encode_action(PUNISH, 3),), rng)  # 0 punishes 1
    assert rewards == (-3.0, -6.0) and state.resources == (7.0, 4.0)
    state, rewards = game.step(state, (game.encode_action(PUNISH, 4),), rng)  # 1 punishes 0
    assert rewards == (-7.0, -4.0) and state.resources == (0.0, 0.0)  # only 7 to remove
    assert game.metrics(state)["punishment_removed"] == 13.0
    game, _ = make_game(ID, {"n_agents": 2, "partner_choice": True})
    state = game.initial_state(rng)
    state, rewards = game.step(state, (game.encode_action(REFUSE),), rng)
    assert rewards == (0.0, 0.0) and state.history[-1].kind == REFUSE
    state, _ = game.step(state, (4,), rng)
    m = game.metrics(state)
    assert (m["refusals"], m["total_donated"], m["resources_0"], m["resources_1"]) == (
        1.0,
        4.0,
        18.0,
        6.0,
    )
    assert m["donation_rate"] == pytest.approx((0.0 + 0.4) / 2)


def test_metrics_on_a_hand_computed_episode() -> None:
    game, _ = make_game(ID, {"n_agents": 2})
    rng = np.random.default_rng(0)
    state = game.initial_state(rng)
    state, _ = game.step(state, (4,), rng)  # 0 gives 4 of 10: (6, 18)
    state, _ = game.step(state, (9,), rng)  # 1 gives 9 of 18: (24, 9)
    m = game.metrics(state)
    assert (m["gain_0"], m["gain_1"], m["resources_0"], m["resources_1"]) == (14, -1, 24, 9)
    assert m["donation_rate"] == pytest.approx(0.45) == m["distance_to_benchmark"]
    assert m["total_welfare"] == 33.0
    assert m["efficiency"] == pytest.approx(33 / 60)  # full cooperation: (0, 30) -> (60, 0)
    assert m["fairness"] == pytest.approx(1 - abs(24 - 9) / 33)
    assert m["gini"] == pytest.approx(1 - m["fairness"])


# ----- equilibrium and optimum ---------------------------------------------------------
def test_benchmark_values_for_the_default_params() -> None:
    game, _ = make_game(ID)
    values = game.benchmark().values
    assert values["nash_donation"] == 0.0 and values["nash_resources"] == 10.0
    assert values["nash_welfare"] == 120.0
    assert values["full_cooperation_welfare"] == 6120.0  # each donation capped at 100
    assert values["full_cooperation_donated"] == 6000.0
    assert values["full_cooperation_welfare_uncapped"] == 184320.0
    random_game, _ = make_game(ID, {"schedule": "random"})
    assert np.isnan(random_game.benchmark().values["optimum_welfare"])


def test_defectors_earn_the_equilibrium_payoff_exactly() -> None:
    result = _play({}, ["donor_defector"] * 12)
    bench = make_game(ID)[0].benchmark().values
    assert result.returns == [bench["nash_gain"]] * 12
    assert [result.metrics[f"resources_{i}"] for i in range(12)] == [10.0] * 12
    assert result.metrics["total_welfare"] == bench["nash_welfare"]
    assert result.metrics["donation_rate"] == 0.0 and result.metrics["fairness"] == 1.0


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"max_donation": 40_000},
        {"n_agents": 6, "rounds": 9},
        {"multiplier": 1.5, "granularity": 2, "max_donation": 30},
    ],
)
def test_full_cooperators_reach_the_optimum_exactly(params: dict) -> None:
    game, _ = make_game(ID, params)
    result = _play(params, ["donor_cooperator"] * game.num_players)
    bench = game.benchmark().values
    assert result.metrics["total_welfare"] == bench["full_cooperation_welfare"]
    assert result.metrics["efficiency"] == 1.0
    if "max_donation" in params and params["max_donation"] > 10_000:
        assert result.metrics["total_welfare"] == bench["full_cooperation_welfare_uncapped"]


def _lp_max_donated(schedule: Any, n: int, endowment: float, m: float, cap: float) -> float:
    """Largest total donation over continuous amounts: a linear program on the schedule."""
    moves = [pair for pairs in schedule for pair in pairs]
    rows = []
    for j, (donor, _) in enumerate(moves):  # the donor's resources before move j cover x_j
        row = np.zeros(len(moves))
        for i in range(j):
            row[i] += (moves[i][0] == donor) - m * (moves[i][1] == donor)
        row[j] += 1.0
        rows.append(row)
    res = linprog(
        -np.ones(len(moves)),
        A_ub=np.array(rows),
        b_ub=np.full(len(moves), endowment),
        bounds=[(0, cap)] * len(moves),
        method="highs",
    )
    return float(-res.fun)


@pytest.mark.parametrize(
    ("n", "m", "cap"), [(12, 2.0, 100), (12, 2.0, 1e9), (6, 3.0, 7), (8, 1.5, 13)]
)
def test_full_cooperation_is_the_welfare_optimum(n: int, m: float, cap: float) -> None:
    """Greedy giving matches the linear-programming optimum of total donations, so no
    other plan (even with fractional amounts) creates more welfare."""
    schedule = round_robin_schedule(n)
    _, donated = full_cooperation(schedule, n, 10, m, int(min(cap, 10**12)), 1)
    assert donated == pytest.approx(_lp_max_donated(schedule, n, 10, m, cap), rel=1e-9)


# ----- indirect reciprocity -----------------------------------------------------------
def _received(result: Any, game: DonorGame, target: int, givers: set[int]) -> tuple[list, list]:
    """What ``target`` got from ``givers`` before and after its own first move as donor."""
    state = game.initial_state(np.random.default_rng(0))
    pairs = [pair for rnd in state.schedule for pair in rnd]
    first = next(k for k, (d, _) in enumerate(pairs) if d == target)
    got = [
        (k, a)
        for k, ((d, r), a) in enumerate(zip(pairs, result.events["action"]))
        if r == target and d in givers
    ]
    return [a for k, a in got if k < first], [a for k, a in got if k > first]


@pytest.mark.parametrize("depth", [1, 3])
def test_image_scorers_stop_giving_to_observed_defectors(depth: int) -> None:
    defectors = {0, 7}
    scorers = set(range(12)) - defectors
    agents = ["donor_defector" if i in defectors else "donor_image_scoring" for i in range(12)]
    params = {"trace_depth": depth}
    game, _ = make_game(ID, params)
    result = _play(params, agents)
    for d in defectors:
        before, after = _received(result, game, d, scorers)
        assert after and all(a == 0 for a in after)
        assert all(a > 0 for a in before)  # unobserved, they got the benefit of the doubt
    assert _received(result, game, 7, scorers)[0]  # 7 was a recipient before it gave
    blind = _play({"trace_depth": 0}, agents)
    for d in defectors:
        _, after = _received(blind, game, d, scorers)
        assert after and all(a > 0 for a in after)  # without traces nobody can tell


def test_standing_forgives_justified_refusals_that_image_scoring_punishes() -> None:
    bad = DonorEvent(1, 5, 6, DONATE, 0.0, 0.0, 0.0)  # 5 gave nothing to 6 (unknown: good)
    refused_bad = DonorEvent(2, 4, 5, DONATE, 0.0, 0.0, 0.0)  # 4 gave nothing to 5
    helped = DonorEvent(2, 4, 5, DONATE, 5.0, 0.5, 10.0)
    assert not good_standing((bad,), 0.25)
    assert good_standing((refused_bad, bad), 0.25)  # justified: 5 was in bad standing
    assert good_standing((helped, bad), 0.25)
    assert not good_standing((refused_bad, DonorEvent(1, 5, 6, DONATE, 5.0, 0.5, 10.0)), 0.25)
    assert good_standing((), 0.25)
    population = {}
    for name in ("donor_image_scoring", "donor_standing"):
        agents = ["donor_defector" if i in (0, 6) else name for i in range(12)]
        population[name] = _play({"rounds": 24}, agents).metrics["total_welfare"]
    assert population["donor_standing"] > 3 * population["donor_image_scoring"]


def test_agents_give_their_fraction() -> None:
    result = _play(
        {"n_agents": 2, "rounds": 2},
        [{"name": "donor_cooperator", "fraction": 0.3}, "donor_defector"],
    )
    assert result.events["action"] == [3, 0]
    result = _play({"n_agents": 2, "rounds": 3}, ["donor_random", "donor_random"], seed=5)
    assert result.status == "ok"


# ----- the text face --------------------------------------------------------------------
VARIANTS: list[dict[str, Any]] = [
    {"punishment": True, "max_donation": 20},
    {"partner_choice": True, "max_donation": 20},
    {"punishment": True, "partner_choice": True, "max_donation": 20},
    {"granularity": 2, "max_donation": 15, "multiplier": 1.5},
]


def _mover_observations(params: dict) -> list[tuple[Any, Any]]:
    game, text = make_game(ID, params)
    rng = np.random.default_rng(0)
    state = game.initial_state(rng)
    out = []
    while game.status(state) is Status.RUNNING:
        obs = game.observe(state, game.to_move(state)[0])
        out.append((text, obs))
        state = game.step(state, (int(rng.choice(obs.legal_actions)),), rng).state
    return out


@pytest.mark.parametrize("params", VARIANTS, ids=["punish", "refuse", "both", "grid"])
def test_variant_answers_round_trip_and_schema_lists_the_legal_moves(params: dict) -> None:
    for text, obs in _mover_observations(params)[::5]:
        schema = text.action_schema(obs)
        (key,) = schema["required"]
        prop = schema["properties"][key]
        assert prop["type"] == "string"
        parsed = [text.parse(json.dumps({key: v}), obs) for v in prop["enum"]]
        assert parsed == obs.legal_actions.tolist()
        for a in obs.legal_actions.tolist():
            assert text.parse(text.format_action(a, obs), obs) == a
        for a in np.flatnonzero(~obs.action_mask).tolist():
            with pytest.raises(IllegalActionError):
                text.parse(text.format_action(a, obs), obs)
        assert text.render(obs).rstrip().endswith("}.")


def test_choice_answers_are_read_or_refused_with_a_reason() -> None:
    (text, obs), *_ = _mover_observations({"punishment": True, "partner_choice": True})
    game = text.game
    assert text.parse('{"choice": " Punish  2 "}', obs) == game.encode_action(PUNISH, 2)
    assert text.parse('{"choice": "REFUSE"}', obs) == game.encode_action(REFUSE)
    assert text.parse('{"choice": "donate 3"}', obs) == 3
    for bad in (
        '{"choice": "give 3"}',
        '{"choice": "donate three"}',
        '{"choice": 3}',
        '{"donate": 3}',
        '{"choice": "donate 1e400"}',
    ):
        with pytest.raises(ActionParseError):
            text.parse(bad, obs)
    for illegal in (
        '{"choice": "punish 0"}',
        '{"choice": "donate 11"}',
        '{"choice": "donate 101"}',
    ):
        with pytest.raises(IllegalActionError):
            text.parse(illegal, obs)
    (grid, gobs), *_ = _mover_observations({"granularity": 4})
    assert grid.parse('{"donate": "2.25"}', gobs) == 9 == grid.parse('{"donate": 2.25}', gobs)
    for bad in ('{"donate": "2.3"}', '{"donate": NaN}', '{"donate": "x"}'):
        with pytest.raises(ActionParseError):
            grid.parse(bad, gobs)


def test_framings_tell_the_trace_in_their_own_words() -> None:
    seen = set()
    for framing, word in (
        ("neutral", "donated"),
        ("neighbours", "favour"),
        ("economics", "transferred"),
    ):
        observations = _mover_observations({"framing": framing})
        text, obs = next((t, o) for t, o in observations if o.view.recipient_trace)
        prose = text.render(obs)
        ev = obs.view.recipient_trace[0]
        assert word in prose and text.name(ev.donor) in prose and f"{ev.fraction:.0%}" in prose
        assert prose.rstrip().endswith('{"donate": 3}.')
        seen.add(text.rules(0))
    assert len(seen) == 3
    game, text = make_game(ID, {"n_agents": 2, "names": ("Ada", "Bo")})
    obs = game.observe(game.initial_state(np.random.default_rng(0)), 0)
    assert "Ada" in text.rules(0) and "Bo" in text.render(obs)


def test_a_donor_with_nothing_counts_as_giving_everything() -> None:
    """The paper's convention: with nothing to give, the donated fraction is 1."""
    game, text = make_game(ID, {"n_agents": 4})
    rng = np.random.default_rng(0)
    state = game.initial_state(rng)
    for action in (10, 10, 30, 30, 0):  # B gives everything in round 2, then has nothing
        state = game.step(state, (action,), rng).state
    assert state.history[-1][:3] == (3, 2, 0) and state.resources[2] == 0.0
    assert [e.fraction for e in state.history] == [1.0] * 5
    assert "had nothing to give" in text.describe(state.history[-1])


def test_text_agents_play_the_variants_without_invalid_answers() -> None:
    for params in VARIANTS[2:]:
        game, text = make_game(ID, {**params, "n_agents": 4})
        agents = [make_agent("random_text") for _ in range(4)]
        result = play_episode(game, text, agents, seed=1)
        assert result.status == "ok" and result.invalid == [0] * 4


# ----- configuration errors ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"n_agents": 1}, "n_agents"),
        ({"n_agents": 7}, "n_agents"),  # odd: no round robin
        ({"n_agents": 2.0}, "n_agents"),
        ({"endowment": 0}, "endowment"),
        ({"multiplier": 0.0}, "multiplier"),
        ({"multiplier": "2"}, "multiplier"),
        ({"schedule": "swiss"}, "schedule"),
        ({"rounds": -1}, "rounds"),
        ({"trace_depth": -1}, "trace_depth"),
        ({"trace_depth": True}, "trace_depth"),
        ({"granularity": 0}, "granularity"),
        ({"max_donation": 0}, "max_donation"),
        ({"punishment": "yes"}, "punishment"),
        ({"partner_choice": 1}, "partner_choice"),
        ({"punishment_loss": -2.0}, "punishment_loss"),
        ({"framing": "poetic"}, "framing"),
        ({"names": ("a", "a")}, "names"),
        ({"n_agents": 2, "names": ("a",)}, "names"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_params_raise_config_error_naming_the_parameter(params: dict, name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        make_game(ID, params)


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ({"name": "donor_cooperator", "fraction": 1.5}, "fraction"),
        ({"name": "donor_image_scoring", "threshold": "high"}, "threshold"),
        ({"name": "donor_standing", "fraction": -0.1}, "fraction"),
    ],
)
def test_bad_agent_params_name_the_parameter(spec: dict, name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        make_agent(spec)


def test_odd_populations_play_random_matchings() -> None:
    game, _ = make_game(ID, {"n_agents": 7, "schedule": "random"})
    result = _play({"n_agents": 7, "schedule": "random"}, ["donor_cooperator"] * 7, seed=2)
    assert result.length == 7 * 3
    assert 0.0 < result.metrics["efficiency"] <= 1.0 + 1e-12
    assert game.num_players == 7
