"""What theory says about the ultimatum, dictator and trust games, checked on the code.

Equilibrium agents reach the benchmark exactly; a brute-force backward induction over the
games' own ``step`` finds no profitable deviation from it; metrics match hand-computed
cases; money is conserved under random play (hypothesis); bad parameters name themselves;
every framing's canonical answers parse back to the same action.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agora.agents import Agent, Face, TextTurn, make_agent
from agora.envs import ConfigError, IllegalActionError, Status, make_game, spec
from agora.envs.games.trust import FRAMINGS as TRUST_FRAMINGS
from agora.envs.games.trust import TrustGame, max_return
from agora.envs.games.ultimatum import ACCEPT, FRAMINGS, REJECT, UltimatumGame
from agora.experiments import play_episode

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RNG = np.random.default_rng(0)


def _play(env_id: str, params: dict[str, Any], agents: list[Any], seed: int = 0) -> Any:
    game, text = make_game(env_id, params)
    built = [a if isinstance(a, Agent) else make_agent(a, game) for a in agents]
    result = play_episode(game, text, built, seed=seed)
    assert result.status == "ok", result.error
    return game, result


def _run(game: Any, actions: list[int]) -> Any:
    """Apply a fixed action sequence to the core and return the end state."""
    state = game.initial_state(RNG)
    for a in actions:
        (p,) = game.to_move(state)
        assert game.legal_mask(state, p)[a], (p, a)
        state = game.step(state, (a,), RNG).state
    return state


# ----- equilibrium play reaches the benchmark ----------------------------------------
@pytest.mark.parametrize(
    ("granularity", "rounds", "alternate"), [(100, 1, False), (7, 3, False), (10, 4, True)]
)
def test_ultimatum_spe_agents_reach_the_benchmark(granularity, rounds, alternate) -> None:
    params = {"granularity": granularity, "rounds": rounds, "alternate_roles": alternate}
    game, res = _play("Ultimatum-v1", params, ["ultimatum_spe", "ultimatum_spe"])
    bench = game.benchmark().values
    assert res.returns == [bench["spe_return_0"], bench["spe_return_1"]]
    assert bench["spe_payoff_proposer"] == pytest.approx(100 * (granularity - 1) / granularity)
    assert bench["spe_payoff_responder"] == pytest.approx(100 / granularity)
    assert bench["spe_accept_zero_payoff_proposer"] == 100.0
    assert res.metrics["distance_to_benchmark"] == 0.0
    assert res.metrics["offer_share"] == pytest.approx(1 / granularity)
    assert res.metrics["accept_rate"] == res.metrics["efficiency"] == 1.0


def test_dictator_spe_gives_nothing() -> None:
    game, res = _play("Dictator-v1", {}, ["ultimatum_spe", "ultimatum_spe"])
    bench = game.benchmark().values
    assert res.returns == [100.0, 100.0] == [bench["spe_return_0"], bench["spe_return_1"]]
    assert (bench["spe_payoff_proposer"], bench["spe_payoff_responder"]) == (100.0, 0.0)
    game, res = _play("Dictator-v1", {"rounds": 1}, ["ultimatum_spe", "ultimatum_spe"])
    assert res.returns == [100.0, 0.0]
    assert bench["spe_offer_units"] == 0.0 and "spe_accept_zero_offer_units" not in bench
    assert res.metrics["distance_to_benchmark"] == 0.0 and res.metrics["efficiency"] == 1.0


@pytest.mark.parametrize(("endowment", "multiplier"), [(10, 3.0), (7, 1.5), (4, 0.5)])
def test_trust_spe_agents_reach_the_benchmark(endowment: int, multiplier: float) -> None:
    params = {"endowment": endowment, "multiplier": multiplier}
    game, res = _play("Trust-v1", params, ["trust_spe", "trust_spe"])
    bench = game.benchmark().values
    assert res.returns == [bench["spe_payoff_investor"], bench["spe_payoff_trustee"]]
    assert res.returns == [float(endowment), 0.0]
    assert res.metrics["distance_to_benchmark"] == 0.0 and res.metrics["trust_rate"] == 0.0
    assert bench["optimum_welfare"] == endowment * max(1.0, multiplier)


# ----- no profitable deviation (brute force over the core's own step) ------------------
def _ultimatum_payoffs(game: UltimatumGame, offer: int, answer: int) -> tuple[float, ...]:
    return game.returns(_run(game, [offer, answer]))


@pytest.mark.parametrize("granularity", [1, 2, 5, 100])
def test_no_profitable_proposer_deviation_against_the_spe_responder(granularity: int) -> None:
    game, _ = make_game("Ultimatum-v1", {"granularity": granularity})
    responder = make_agent("ultimatum_spe", game)
    responder.reset(0, 1)
    spe = game.benchmark().values["spe_payoff_proposer"]
    for offer in range(granularity + 1):
        state = _run(game, [offer])
        answer = responder.act(game.observe(state, 1))
        assert answer == (ACCEPT if offer >= 1 else REJECT)
        assert _ultimatum_payoffs(game, offer, answer)[0] <= spe + 1e-12
    # the responder never gains by rejecting the SPE offer
    assert _ultimatum_payoffs(game, 1, REJECT)[1] <= _ultimatum_payoffs(game, 1, ACCEPT)[1]


def test_backward_induction_finds_exactly_the_two_ultimatum_spe() -> None:
    game, _ = make_game("Ultimatum-v1", {"granularity": 8, "pie": 8.0})
    # every best reply of the responder to every offer (ties give several)
    replies = {k: [a for a in (REJECT, ACCEPT)
                   if _ultimatum_payoffs(game, k, a)[1]
                   == max(_ultimatum_payoffs(game, k, b)[1] for b in (REJECT, ACCEPT))]
               for k in range(9)}
    assert replies[0] == [REJECT, ACCEPT] and all(replies[k] == [ACCEPT] for k in range(1, 9))
    outcomes = set()
    for zero_reply in replies[0]:  # one responder strategy per way of breaking the tie
        value = {k: _ultimatum_payoffs(game, k, zero_reply if k == 0 else ACCEPT)[0]
                 for k in range(9)}
        best = max(value.values())
        outcomes |= {(k, best) for k, v in value.items() if v == best}
    bench = game.benchmark().values
    assert outcomes == {(1, bench["spe_payoff_proposer"]),
                        (0, bench["spe_accept_zero_payoff_proposer"])}


@pytest.mark.parametrize(("endowment", "multiplier"), [(5, 3.0), (6, 1.25), (3, 0.5)])
def test_trust_backward_induction_equals_the_benchmark(endowment: int, multiplier: float) -> None:
    game = TrustGame({"endowment": endowment, "multiplier": multiplier})
    best_y, value = {}, {}
    for x in range(endowment + 1):
        mask = game.legal_mask(_run(game, [x]), 1)
        payoffs = {y: game.returns(_run(game, [x, y])) for y in np.flatnonzero(mask).tolist()}
        best_y[x] = max(payoffs, key=lambda y: payoffs[y][1])
        assert [y for y in payoffs if payoffs[y][1] == payoffs[best_y[x]][1]] == [0]
        value[x] = payoffs[best_y[x]][0]
    best_x = max(value, key=lambda x: value[x])
    bench = game.benchmark().values
    assert (best_x, best_y[best_x]) == (bench["spe_send"], bench["spe_return"])
    assert [x for x in value if value[x] == value[best_x]] == [0]  # a unique SPE
    assert game.returns(_run(game, [0, 0])) == (bench["spe_payoff_investor"], 0.0)


@pytest.mark.parametrize("multiplier", [0.5, 1.0, 2.0])
def test_trust_optimum_send_matches_brute_force(multiplier: float) -> None:
    """Welfare over every (send, return) pair; at m = 1 it does not depend on the send."""
    game = TrustGame({"endowment": 4, "multiplier": multiplier})
    welfare = {}
    for x in range(5):
        mask = game.legal_mask(_run(game, [x]), 1)
        welfare[x] = max(sum(game.returns(_run(game, [x, y])))
                         for y in np.flatnonzero(mask).tolist())
    best = [x for x, w in welfare.items() if w == max(welfare.values())]
    bench = game.benchmark().values
    if len(best) == 1:
        assert bench["optimum_send"] == best[0]
    else:
        assert math.isnan(bench["optimum_send"]), bench["optimum_send"]
    assert (bench["optimum_send_min"], bench["optimum_send_max"]) == (min(best), max(best))
    assert bench["optimum_welfare"] == max(welfare.values())


# ----- metrics on hand-computed cases --------------------------------------------------
def test_ultimatum_metrics_accepted_and_rejected() -> None:
    game = UltimatumGame()
    m = game.metrics(_run(game, [30, ACCEPT]))
    assert (m["gain_0"], m["gain_1"], m["efficiency"], m["accept_rate"]) == (70, 30, 1, 1)
    assert m["fairness"] == pytest.approx(1 - 4 * (0.7 - 0.5) ** 2)  # 0.84
    assert m["offer_share"] == pytest.approx(0.3)
    assert m["distance_to_benchmark"] == pytest.approx((29 + 29) / 100)
    m = game.metrics(_run(game, [10, REJECT]))
    assert (m["gain_0"], m["gain_1"], m["efficiency"], m["accept_rate"]) == (0, 0, 0, 0)
    assert m["fairness"] == pytest.approx(0.36)  # of the proposed 90:10 split
    assert m["distance_to_benchmark"] == pytest.approx(1.0)


def _stage_spe_totals(game: UltimatumGame) -> set[tuple[float, float]]:
    """Totals of every way of playing a stage SPE in each round (offer 1, or 0 by the
    tie), each accepted, found by stepping the core."""
    n = game.params.rounds
    return {game.returns(_run(game, [a for k in offers for a in (k, ACCEPT)]))
            for offers in itertools.product((0, 1), repeat=n)}


@pytest.mark.parametrize(("params", "actions", "expected"), [
    ({}, [0, ACCEPT], 0.0),  # the zero-offer SPE itself; measured to offer-1 it was 0.02
    ({}, [2, ACCEPT], 2 / 100),  # nearer to offer 1 (98, 2) than to offer 0 (100, 0)
    ({"rounds": 3}, [0, ACCEPT, 1, ACCEPT, 0, ACCEPT], 0.0),
    ({"rounds": 2, "alternate_roles": True}, [0, ACCEPT, 1, ACCEPT], 0.0),
    ({"rounds": 2, "alternate_roles": True}, [0, ACCEPT, 0, REJECT], 1 / 2),
])
def test_ultimatum_distance_is_to_the_nearest_spe(params, actions, expected) -> None:
    game = UltimatumGame(params)
    state = _run(game, actions)
    got = game.metrics(state)["distance_to_benchmark"]
    assert got == pytest.approx(expected, abs=1e-12)
    r0, r1 = game.returns(state)
    brute = min(abs(r0 - s0) + abs(r1 - s1) for s0, s1 in _stage_spe_totals(game))
    assert got == pytest.approx(brute / (game.params.pie * game.params.rounds), abs=1e-12)


@SETTINGS
@given(rounds=st.integers(1, 4), alternate=st.booleans(), granularity=st.integers(1, 12),
       data=st.data())
def test_ultimatum_distance_equals_a_brute_force_over_stage_spe_sequences(
        rounds: int, alternate: bool, granularity: int, data: st.DataObject) -> None:
    game = UltimatumGame({"rounds": rounds, "alternate_roles": alternate,
                          "granularity": granularity, "pie": 10.0})
    moves = data.draw(st.lists(st.tuples(st.integers(0, granularity), st.sampled_from(
        (ACCEPT, REJECT))), min_size=rounds, max_size=rounds))
    state = _run(game, [a for move in moves for a in move])
    r0, r1 = game.returns(state)
    brute = min(abs(r0 - s0) + abs(r1 - s1) for s0, s1 in _stage_spe_totals(game))
    got = game.metrics(state)["distance_to_benchmark"]
    assert got == pytest.approx(brute / (10.0 * rounds), abs=1e-12)


def test_ultimatum_metrics_over_alternating_rounds() -> None:
    game = UltimatumGame({"rounds": 2, "alternate_roles": True})
    state = _run(game, [40, ACCEPT, 20, REJECT])  # p0 offers 40 (yes); p1 offers 20 (no)
    assert game.returns(state) == (60.0, 40.0)
    m = game.metrics(state)
    assert (m["efficiency"], m["accept_rate"], m["rounds"]) == (0.5, 0.5, 2.0)
    assert m["fairness"] == pytest.approx((0.96 + 0.64) / 2)
    assert m["offer_share"] == pytest.approx(0.3)
    assert game.spe_returns(2) == (100.0, 100.0)
    assert m["distance_to_benchmark"] == pytest.approx((40 + 60) / 200)


def test_dictator_metrics_and_the_forced_acknowledgement() -> None:
    game, text = make_game("Dictator-v1", {"rounds": 1})
    state = _run(game, [25])
    obs = game.observe(state, 1)
    assert obs.legal_actions.tolist() == [ACCEPT]
    with pytest.raises(IllegalActionError):
        text.parse('{"decision": "reject"}', obs)
    m = game.metrics(game.step(state, (ACCEPT,), RNG).state)
    assert (m["gain_0"], m["gain_1"], m["efficiency"]) == (75.0, 25.0, 1.0)
    assert m["fairness"] == pytest.approx(0.75)
    assert m["distance_to_benchmark"] == pytest.approx(0.5)


def test_trust_metrics() -> None:
    game = TrustGame()
    m = game.metrics(_run(game, [4, 6]))
    assert (m["gain_0"], m["gain_1"], m["sent"], m["returned"]) == (12.0, 6.0, 4.0, 6.0)
    assert m["efficiency"] == pytest.approx(18 / 30)
    assert m["fairness"] == pytest.approx(1 - 4 * (12 / 18 - 0.5) ** 2)
    assert (m["trust_rate"], m["return_ratio"]) == (0.4, 0.5)
    assert m["distance_to_benchmark"] == pytest.approx((2 + 6) / 30)
    m = game.metrics(_run(game, [0, 0]))
    assert (m["efficiency"], m["fairness"], m["return_ratio"]) == (pytest.approx(1 / 3), 0.0, 0.0)
    m = game.metrics(game.initial_state(RNG))
    assert math.isnan(m["efficiency"]) and math.isnan(m["trust_rate"])


def test_metrics_before_any_round_are_nan() -> None:
    game = UltimatumGame()
    m = game.metrics(game.initial_state(RNG))
    assert (m["gain_0"], m["gain_1"]) == (0.0, 0.0)
    assert all(math.isnan(m[k]) for k in ("efficiency", "fairness", "distance_to_benchmark"))


# ----- money is conserved under random play ---------------------------------------------
def _random_play(game: Any, data: st.DataObject) -> tuple[Any, list]:
    state, log = game.initial_state(RNG), []
    for _ in range(1000):
        if game.status(state) is not Status.RUNNING:
            break
        (p,) = game.to_move(state)
        legal = np.flatnonzero(game.legal_mask(state, p)).tolist()
        a = data.draw(st.sampled_from(legal))
        new, rewards = game.step(state, (a,), RNG)
        log.append((state, a, rewards))
        state = new
    assert game.status(state) is Status.TERMINATED and game.to_move(state) == ()
    return state, log


@SETTINGS
@given(pie=st.floats(0.01, 1e4), granularity=st.integers(1, 30), rounds=st.integers(1, 4),
       alternate=st.booleans(), dictator=st.booleans(), data=st.data())
def test_ultimatum_pays_the_pie_iff_accepted(pie, granularity, rounds, alternate, dictator,
                                             data) -> None:
    game = UltimatumGame({"pie": pie, "granularity": granularity, "rounds": rounds,
                          "alternate_roles": alternate, "dictator": dictator})
    state, log = _random_play(game, data)
    assert len(log) == 2 * rounds
    for before, action, rewards in log:
        assert min(rewards) >= 0
        if before.offer < 0:
            assert rewards == (0.0, 0.0)
        else:
            assert sum(rewards) == pytest.approx(pie if action == ACCEPT else 0.0)
            assert action == ACCEPT or not dictator
    assert game.returns(state) == pytest.approx(tuple(map(sum, zip(*[r for *_, r in log]))))
    m = game.metrics(state)
    assert m["efficiency"] == pytest.approx(m["accept_rate"])
    assert 0 <= m["fairness"] <= 1 and 0 <= m["distance_to_benchmark"] <= 2


@SETTINGS
@given(endowment=st.integers(1, 30), multiplier=st.floats(0.1, 5.0), data=st.data())
def test_trust_payoffs_sum_to_endowment_plus_growth(endowment, multiplier, data) -> None:
    game = TrustGame({"endowment": endowment, "multiplier": multiplier})
    state, log = _random_play(game, data)
    x, y = state.sent, state.returned
    assert len(log) == 2 and 0 <= x <= endowment and 0 <= y <= max_return(multiplier, x)
    returns = game.returns(state)
    assert sum(returns) == pytest.approx(endowment + (multiplier - 1) * x)
    assert sum(sum(r) for *_, r in log) == pytest.approx(sum(returns))
    assert min(returns) >= -1e-9
    m = game.metrics(state)
    assert 0 < m["efficiency"] <= 1 + 1e-12 and 0 <= m["fairness"] <= 1


# ----- parameters ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("env_id", "params", "name"),
    [
        ("Ultimatum-v1", {"pie": 0}, "pie"),
        ("Ultimatum-v1", {"pie": "100"}, "pie"),
        ("Ultimatum-v1", {"granularity": 0}, "granularity"),
        ("Ultimatum-v1", {"granularity": 2.5}, "granularity"),
        ("Ultimatum-v1", {"rounds": 0}, "rounds"),
        ("Ultimatum-v1", {"rounds": True}, "rounds"),
        ("Ultimatum-v1", {"dictator": 1}, "dictator"),
        ("Ultimatum-v1", {"alternate_roles": "yes"}, "alternate_roles"),
        ("Ultimatum-v1", {"messages": None}, "messages"),
        ("Dictator-v1", {"framing": "poem"}, "framing"),
        ("Ultimatum-v1", {"horizon": 3}, "horizon"),
        ("Trust-v1", {"endowment": 0}, "endowment"),
        ("Trust-v1", {"endowment": 10.0}, "endowment"),
        ("Trust-v1", {"multiplier": 0}, "multiplier"),
        ("Trust-v1", {"multiplier": float("inf")}, "multiplier"),
        ("Trust-v1", {"framing": "ultimatum"}, "framing"),
    ],
)
def test_bad_params_raise_config_error_naming_the_parameter(env_id, params, name) -> None:
    with pytest.raises(ConfigError, match=name):
        make_game(env_id, params)


@pytest.mark.parametrize(
    ("agent", "params", "name"),
    [
        ("ultimatum_fair", {"threshold": 1.5}, "threshold"),
        ("ultimatum_threshold", {"threshold": "0.2"}, "threshold"),
        ("dictator_fixed", {"share": -0.1}, "share"),
        ("trust_reciprocator", {"fraction": None}, "fraction"),
    ],
)
def test_bad_agent_params_name_the_parameter(agent: str, params: dict, name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        make_agent({"name": agent, **params})


def test_default_opponents_play_their_games() -> None:
    expected = {"Ultimatum-v1": "ultimatum_fair", "Dictator-v1": "dictator_fixed",
                "Trust-v1": "trust_reciprocator"}
    for env_id, name in expected.items():
        s = spec(env_id)
        assert s.default_opponent == name
        _play(env_id, {}, [name, name])
    with pytest.raises(ConfigError, match="trust_spe"):
        make_agent("trust_spe", make_game("Ultimatum-v1")[0])


# ----- heuristic agents -----------------------------------------------------------------
@pytest.mark.parametrize(("offer", "accepted"), [(29, False), (30, True), (50, True)])
def test_fair_agent_offers_half_and_accepts_from_its_threshold(offer, accepted) -> None:
    _, res = _play("Ultimatum-v1", {}, [{"name": "dictator_fixed", "share": offer / 100},
                                        "ultimatum_fair"])
    assert res.metrics["accept_rate"] == float(accepted)
    _, res = _play("Ultimatum-v1", {"granularity": 7}, ["ultimatum_fair", "ultimatum_spe"])
    assert res.returns == pytest.approx([300 / 7, 400 / 7])  # half of 7 units rounds up to 4


def test_threshold_agent_offers_what_it_would_accept() -> None:
    agents = [{"name": "ultimatum_threshold", "threshold": 0.25}] * 2
    _, res = _play("Ultimatum-v1", {"rounds": 2, "alternate_roles": True}, agents)
    assert res.returns == [100.0, 100.0] and res.metrics["offer_share"] == 0.25
    _, res = _play("Ultimatum-v1", {}, ["ultimatum_spe", "ultimatum_threshold"])
    assert res.returns == [0.0, 0.0]  # one unit is below 20%


def test_dictator_fixed_gives_its_share() -> None:
    _, res = _play("Dictator-v1", {"granularity": 10}, ["dictator_fixed", "ultimatum_fair"])
    assert res.returns == [70.0 + 50.0, 30.0 + 50.0]  # the fair agent gives half back
    _, res = _play("Dictator-v1", {"rounds": 1}, [{"name": "dictator_fixed", "share": 0.25},
                                                  "ultimatum_threshold"])
    assert res.returns == [75.0, 25.0]  # the recipient cannot refuse


@pytest.mark.parametrize(("fraction", "sent", "returned"),
                         [(0.5, 5, 8), (0.0, 0, 0), (1.0, 10, 30), (0.25, 3, 2)])
def test_trust_reciprocator(fraction: float, sent: int, returned: int) -> None:
    agents = [{"name": "trust_reciprocator", "fraction": fraction}] * 2
    game, res = _play("Trust-v1", {}, agents)
    assert res.metrics["sent"] == sent and res.metrics["returned"] == returned
    assert res.returns == list(game.returns(_run(game, [sent, returned])))


# ----- text faces ------------------------------------------------------------------------
def _all_observations(game: Any) -> list[Any]:
    """Every mover observation along a few random paths (all offers at the root)."""
    out = []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        state = game.initial_state(rng)
        while game.status(state) is Status.RUNNING:
            (p,) = game.to_move(state)
            obs = game.observe(state, p)
            out.append(obs)
            state = game.step(state, (int(rng.choice(obs.legal_actions)),), rng).state
    return out


CASES = [("Ultimatum-v1", f, m) for f in FRAMINGS for m in (False, True)] + [
    ("Dictator-v1", f, False) for f in FRAMINGS] + [("Trust-v1", f, None) for f in TRUST_FRAMINGS]


@pytest.mark.parametrize(("env_id", "framing", "messages"), CASES)
def test_every_framing_parses_its_canonical_answers_back(env_id, framing, messages) -> None:
    params: dict[str, Any] = {"framing": framing}
    if messages is not None:
        params.update(messages=messages, rounds=2, alternate_roles=True)
    game, text = make_game(env_id, params)
    for obs in _all_observations(game):
        assert text.render(obs).strip() and text.rules(obs.player).strip()
        schema = text.action_schema(obs)
        assert ("message" in schema["properties"]) == bool(messages and obs.view.proposing)
        for a in obs.legal_actions.tolist():
            assert text.parse(text.format_action(a, obs), obs) == a


def test_framings_word_the_rules_differently() -> None:
    for env_id, framings in (("Ultimatum-v1", FRAMINGS), ("Dictator-v1", FRAMINGS),
                             ("Trust-v1", TRUST_FRAMINGS)):
        rules = {make_game(env_id, {"framing": f})[1].rules(p) for f in framings for p in (0, 1)}
        assert len(rules) == 2 * len(framings)


class _Script(Agent):
    """A text agent answering from a list and remembering its inbox."""

    face = Face.TEXT

    def __init__(self, answers: list[str]) -> None:
        super().__init__()
        self.answers = list(answers)
        self.inbox: list[str] = []

    def act(self, obs: TextTurn) -> str:
        self.inbox.extend(obs.inbox)
        return self.answers.pop(0)


def test_proposer_cheap_talk_reaches_the_responder() -> None:
    proposer = _Script([json.dumps({"offer": 40, "message": "40 is fair, take it"})])
    responder = _Script(['{"decision": "accept"}'])
    _, res = _play("Ultimatum-v1", {"messages": True}, [proposer, responder])
    assert res.returns == [60.0, 40.0]
    assert responder.inbox == ["player_0: 40 is fair, take it"]
    assert res.events["message"][0] == "40 is fair, take it"
