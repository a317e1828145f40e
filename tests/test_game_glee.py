"""Theory and GLEE's formulas for the three GLEE families: bargaining, negotiation and
persuasion (Shapira et al. 2024), plus their information structures and cheap talk."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from agora.agents import Agent, Face, TextTurn, make_agent
from agora.envs import ConfigError, Status, make_game
from agora.envs.games.bargaining import rubinstein_share, spe_share
from agora.envs.games.glee_bargaining import glee_fairness, glee_shares
from agora.envs.games.glee_negotiation import (
    ACCEPT,
    LEAVE,
    REJECT,
    GleeNegotiationParams,
    glee_negotiation_metrics,
    spe_price_units,
)
from agora.envs.games.glee_persuasion import (
    BUY,
    NO,
    aggregates,
    glee_persuasion_metrics,
    persuasion_values,
)
from agora.experiments import play_episode

NAN = float("nan")


def _play(env_id: str, params: dict, agents: list[Any], seed: int = 0) -> Any:
    game, text = make_game(env_id, params)
    built = [a if isinstance(a, Agent) else make_agent(a, game) for a in agents]
    result = play_episode(game, text, built, seed=seed)
    assert result.status == "ok", result.error
    return result


def _walk(game: Any, actions: list[int], seed: int = 0) -> tuple[Any, list[tuple]]:
    rng = np.random.default_rng(seed)
    state, rewards = game.initial_state(rng), []
    for a in actions:
        state, r = game.step(state, (a,), rng)
        rewards.append(r)
    return state, rewards


class _Scripted(Agent):
    """A text agent answering a fixed list of JSON objects; it records what it saw."""

    face = Face.TEXT

    def __init__(self, answers: list[dict[str, Any]]) -> None:
        super().__init__()
        self.answers = list(answers)
        self.turns: list[TextTurn] = []

    def act(self, obs: TextTurn) -> str:
        self.turns.append(obs)
        return json.dumps(self.answers.pop(0))


# ===== bargaining =====================================================================
def test_bargaining_metrics_by_hand_after_a_late_agreement() -> None:
    game, _ = make_game("GleeBargaining-v1", {"deltas": (0.5, 0.8), "money": 200.0,
                                              "granularity": 10, "horizon": 12})
    state, rewards = _walk(game, [7, REJECT, 4, ACCEPT])  # Bob's offer: Alice 4 of 10
    # p = 0.4, r = 2: alice 0.4 * 0.5 = 0.2, bob 0.6 * 0.8 = 0.48, fairness 1 - 4 * 0.01.
    m = game.metrics(state)
    assert (m["p"], m["agreement_round"]) == (0.4, 2.0)
    assert m["alice_share"] == pytest.approx(0.2) and m["gain_0"] == m["alice_share"]
    assert m["bob_share"] == pytest.approx(0.48) and m["gain_1"] == m["bob_share"]
    assert m["efficiency"] == pytest.approx(0.68)
    assert m["fairness"] == pytest.approx(0.96)
    assert rewards[-1] == pytest.approx((40.0, 96.0)) == game.returns(state)
    assert game.view(state, 1).past_offers == (7,)


def test_bargaining_without_agreement_pays_nothing() -> None:
    game, _ = make_game("GleeBargaining-v1", {"horizon": 2, "granularity": 10})
    state, rewards = _walk(game, [9, REJECT, 1, REJECT])
    assert game.status(state) is Status.TERMINATED
    m = game.metrics(state)
    assert (m["agreed"], m["alice_share"], m["bob_share"], m["efficiency"]) == (0, 0, 0, 0)
    assert math.isnan(m["fairness"]) and math.isnan(m["p"])
    assert game.returns(state) == (0.0, 0.0) and all(r == (0.0, 0.0) for r in rewards)


def test_glee_share_and_fairness_formulas() -> None:
    assert glee_shares(0.7, (0.9, 0.8), 1) == (0.7, pytest.approx(0.3))
    assert glee_shares(0.7, (0.9, 0.8), 3) == pytest.approx((0.7 * 0.81, 0.3 * 0.64))
    assert glee_shares(0.7, (0.9, 0.8), 0) == (0.0, 0.0)
    assert [glee_fairness(p) for p in (0.5, 0.0, 1.0, 0.75)] == [1.0, 0.0, 0.0, 0.75]


@pytest.mark.parametrize(("deltas", "horizon"), [
    ((0.95, 0.95), 99), ((0.9, 0.8), 12), ((1.0, 0.8), 12), ((0.8, 1.0), 99), ((1.0, 1.0), 12),
])
@pytest.mark.parametrize("complete_info", [True, False])
def test_spe_bargainers_agree_in_round_one_on_the_spe_split(
        deltas: tuple[float, float], horizon: int, complete_info: bool) -> None:
    params = {"deltas": deltas, "horizon": horizon, "complete_info": complete_info}
    if not complete_info:  # they assume the other's delta is their own: exact if equal
        params["deltas"] = (deltas[0], deltas[0])
    game, _ = make_game("GleeBargaining-v1", params)
    bench = game.benchmark().values
    result = _play("GleeBargaining-v1", params, ["glee_spe_bargainer"] * 2)
    assert result.length == 2 and result.metrics["agreement_round"] == 1.0
    assert result.events["action"][0] == bench["spe_alice_units"]
    assert result.metrics["p"] == bench["spe_p"]
    assert result.metrics["distance_to_benchmark"] == 0.0
    assert result.metrics["efficiency"] == pytest.approx(1.0)
    # the grid's SPE is within the accumulated rounding of the divisible pie's SPE
    dmax = max(game.params.deltas)
    bound = sum(dmax**k for k in range(horizon - 1)) / game.params.granularity
    assert abs(bench["spe_p"] - spe_share(game.params.deltas, horizon)) <= bound + 1e-12


def test_long_horizon_spe_tends_to_rubinstein() -> None:
    game, _ = make_game("GleeBargaining-v1", {"deltas": (0.9, 0.8), "horizon": 99})
    bench = game.benchmark().values
    assert bench["rubinstein_p"] == pytest.approx(rubinstein_share((0.9, 0.8)))
    assert bench["spe_p_continuous"] == pytest.approx(bench["rubinstein_p"], abs=1e-6)
    assert math.isnan(make_game("GleeBargaining-v1", {"deltas": (1, 1)})[0]
                      .benchmark().values["rubinstein_p"])


@pytest.mark.parametrize("framing", ["inflation", "discount", "shrinking"])
def test_incomplete_information_hides_the_other_delta_everywhere(framing: str) -> None:
    def faces(delta_b: float, complete: bool) -> list[Any]:
        game, text = make_game("GleeBargaining-v1", {
            "deltas": (0.9, delta_b), "complete_info": complete, "framing": framing,
            "horizon": 12})
        state, _ = _walk(game, [600, REJECT, 300])  # Alice responds in round 2
        obs = game.observe(state, 0)
        return [obs.view, game.encode(state, 0).tolist(), text.rules(0), text.render(obs)]

    hidden_a, hidden_b = faces(0.73, False), faces(0.61, False)
    assert hidden_a == hidden_b  # nothing Alice sees depends on Bob's delta
    view = hidden_a[0]
    assert view.their_delta is None and view.my_delta == 0.9
    assert hidden_a[1][8:10] == [0.0, 0.0]  # the tensor's other-delta slot and its flag
    shown = faces(0.73, True)
    assert shown[0].their_delta == 0.73 and shown[1][8:10] == pytest.approx([0.73, 1.0])
    assert shown[2] != hidden_a[2]
    assert "inflation" not in framing or "27% less" in shown[2]


@pytest.mark.parametrize(("horizon", "show", "shown"), [
    (20, "auto", True), (21, "auto", False), (12, "auto", True), (99, "auto", False),
    (99, True, True), (12, False, False),
])
def test_show_horizon_follows_glee_rule(horizon: int, show: Any, shown: bool) -> None:
    game, text = make_game("GleeBargaining-v1", {"horizon": horizon, "show_horizon": show})
    state = game.initial_state(np.random.default_rng(0))
    obs = game.observe(state, 0)
    assert (obs.view.horizon == horizon) if shown else obs.view.horizon is None
    assert game.encode(state, 0)[1] == float(shown)
    assert (f"round {horizon}" in text.rules(0)) == shown
    assert (f"of {horizon}" in text.render(obs)) == shown
    assert ("not announced" in text.rules(1)) != shown
    assert game.benchmark().values["horizon_shown"] == float(shown)


def test_bargaining_messages_travel_between_the_players() -> None:
    game, text = make_game("GleeBargaining-v1", {"messages": True, "granularity": 10})
    alice = _Scripted([{"alice_gain": 6, "message": "60/40, final offer"},
                       {"decision": "accept"}])
    bob = _Scripted([{"decision": "reject"}, {"alice_gain": 5, "message": "let's split"}])
    result = play_episode(game, text, [alice, bob], seed=0)
    assert result.status == "ok" and result.metrics["p"] == 0.5
    assert result.events["message"] == ["60/40, final offer", None, "let's split", None]
    assert bob.turns[0].inbox == ("player_0: 60/40, final offer",)
    assert alice.turns[1].inbox == ("player_1: let's split",)
    assert "message" in alice.turns[0].schema["properties"]
    assert "message" not in alice.turns[1].schema["properties"]  # responders do not talk
    assert alice.turns[0].schema["required"] == ["alice_gain"]


def test_without_messages_the_channel_stays_closed() -> None:
    game, text = make_game("GleeBargaining-v1", {"granularity": 10})
    alice = _Scripted([{"alice_gain": 6, "message": "psst"}])
    bob = _Scripted([{"decision": "accept"}])
    result = play_episode(game, text, [alice, bob], seed=0)
    assert result.status == "ok" and result.events["message"] == [None, None]
    assert bob.turns[0].inbox == () and "message" not in alice.turns[0].schema["properties"]


# ===== negotiation ====================================================================
def test_negotiation_metrics_by_hand() -> None:
    m = glee_negotiation_metrics(1.1, 0.8, 1.2)  # p_f = 1.0
    assert m["fairness"] == pytest.approx(0.96) and m["efficiency"] == 1.0
    assert (m["gain_0"], m["gain_1"]) == pytest.approx((0.3, 0.1))
    none = glee_negotiation_metrics(None, 0.8, 1.2)  # an efficient trade was missed
    assert (none["fairness"], none["efficiency"], none["gain_0"], none["gain_1"]) == (1, 0, 0, 0)
    assert math.isnan(none["p"])
    assert glee_negotiation_metrics(None, 1.2, 0.8)["efficiency"] == 1.0
    assert glee_negotiation_metrics(1.0, 1.2, 0.8)["efficiency"] == 0.0  # inefficient trade
    assert glee_negotiation_metrics(1.0, 1.0, 1.0)["efficiency"] == 1.0
    assert glee_negotiation_metrics(None, 1.0, 1.0)["efficiency"] == 1.0


def test_negotiation_trade_pays_money_and_matches_metrics() -> None:
    game, _ = make_game("GleeNegotiation-v1", {"money": 1000.0, "horizon": 3})
    state, rewards = _walk(game, [150, REJECT, 90, REJECT, 110, ACCEPT])
    m = game.metrics(state)
    assert rewards[-1] == pytest.approx((1100 - 800, 1200 - 1100)) == game.returns(state)
    assert (m["p"], m["agreement_round"], m["traded"]) == (1.1, 3.0, 1.0)
    assert m["fairness"] == pytest.approx(0.96)
    assert game.view(state, 0).past_offers == (150, 90)


@pytest.mark.parametrize("leaver_round", [1, 2])
def test_leaving_takes_the_outside_option(leaver_round: int) -> None:
    game, _ = make_game("GleeNegotiation-v1", {"money": 1000.0, "horizon": 5})
    moves = [150, LEAVE] if leaver_round == 1 else [150, REJECT, 90, LEAVE]
    state, rewards = _walk(game, moves)
    # the outside party pays each exactly its own value: nobody gains
    assert game.status(state) is Status.TERMINATED and game.returns(state) == (0.0, 0.0)
    m = game.metrics(state)
    assert (m["left"], m["left_by"], m["traded"]) == (1.0, float(leaver_round % 2), 0.0)
    assert (m["gain_0"], m["gain_1"], m["fairness"], m["efficiency"]) == (0, 0, 1, 0)


def test_no_counter_offer_in_the_last_round() -> None:
    game, _ = make_game("GleeNegotiation-v1", {"horizon": 2})
    state, _ = _walk(game, [150, REJECT, 90])
    mask = game.legal_mask(state, 0)
    assert mask[ACCEPT] and mask[LEAVE] and not mask[REJECT]


def _brute_force_spe(params: GleeNegotiationParams) -> tuple[int, int]:
    """The SPE by searching the whole tree (tiny grids): (price units, round) or (-1, 0)."""
    m, u = params.money, params.unit
    values = (params.seller_value * m, params.buyer_value * m)

    def solve(t: int) -> tuple[tuple[float, float], tuple[int, int]]:
        if t > params.horizon:
            return (0.0, 0.0), (-1, 0)
        cont, plan = solve(t + 1)
        me = (t - 1) % 2
        best = (cont, plan)
        for k in range(params.max_units + 1):
            gain = (k * u - values[0], values[1] - k * u)
            accepted = gain[1 - me] >= cont[1 - me] - 1e-9
            better = gain[me] > best[0][me] + 1e-9 or (  # ties: a deal now beats waiting
                gain[me] >= best[0][me] - 1e-9 and best[1][1] != t)
            if accepted and better:
                best = (gain, (k, t))
        return best

    return solve(1)[1]


@pytest.mark.parametrize("horizon", [1, 2, 3, 4])
@pytest.mark.parametrize(("f_a", "f_b"), [(0.8, 1.2), (1.2, 0.8), (1.0, 1.0), (0.5, 1.5)])
def test_negotiation_spe_equals_brute_force(horizon: int, f_a: float, f_b: float) -> None:
    params = GleeNegotiationParams(seller_value=f_a, buyer_value=f_b, horizon=horizon,
                                   granularity=10, max_price=2.0)
    price, round_ = spe_price_units(params)
    assert (price, round_) == _brute_force_spe(params)
    if f_b < f_a:
        assert price == -1
    else:  # the last proposer takes the surplus, at once
        assert round_ == 1
        assert price == round(10 * (f_b if horizon % 2 else f_a))


@pytest.mark.parametrize("horizon", [2, 10, 30])
@pytest.mark.parametrize(("f_a", "f_b"), [(0.8, 1.2), (1.2, 0.8), (1.0, 1.0), (0.8, 1.5),
                                          (1.5, 1.0)])
@pytest.mark.parametrize(("res_s", "res_b"), [(0.0, 0.0), (0.1, 0.2), (0.3, 0.2)])
def test_heuristics_trade_iff_their_ranges_overlap(
        horizon: int, f_a: float, f_b: float, res_s: float, res_b: float) -> None:
    seller = {"name": "glee_boulware", "aspiration": 0.6, "reservation": res_s}
    buyer = {"name": "glee_conceder", "aspiration": 0.6, "reservation": res_b}
    params = {"horizon": horizon, "seller_value": f_a, "buyer_value": f_b}
    m = _play("GleeNegotiation-v1", params, [seller, buyer]).metrics
    overlap = f_a + res_s <= f_b - res_b + 1e-9
    assert m["traded"] == float(overlap)
    if overlap:  # the price lies in both ranges
        assert f_a + res_s - 1e-9 <= m["p"] <= f_b - res_b + 1e-9
        assert m["gain_0"] >= res_s - 1e-9 and m["gain_1"] >= res_b - 1e-9


@pytest.mark.parametrize(("f_a", "f_b", "ask", "trade"), [
    (0.8, 1.2, 0.3, True), (0.8, 1.2, 0.4, True), (0.8, 1.2, 0.5, False),
    (1.2, 0.8, 0.0, False), (1.0, 1.0, 0.0, True),
])
def test_ultimatum_with_outside_option(f_a: float, f_b: float, ask: float, trade: bool) -> None:
    params = {"horizon": 1, "seller_value": f_a, "buyer_value": f_b, "money": 100.0}
    seller = {"name": "glee_boulware", "aspiration": ask}
    result = _play("GleeNegotiation-v1", params, [seller, "glee_conceder"])
    assert result.length == 2 and result.events["action"][0] == round(100 * (f_a + ask))
    m = result.metrics
    assert m["traded"] == float(trade) and m["left"] == float(not trade)
    if trade:  # the seller's ask is the price; the buyer accepts anything it does not lose on
        assert m["p"] == pytest.approx(f_a + ask)
        assert result.returns == pytest.approx([ask * 100, (f_b - f_a - ask) * 100])
    else:
        assert result.returns == [0.0, 0.0] and m["left_by"] == 1.0
    game, _ = make_game("GleeNegotiation-v1", params)  # SPE: the seller asks the buyer's value
    bench = game.benchmark().values
    assert bench["spe_p"] == pytest.approx(f_b) if f_b >= f_a else math.isnan(bench["spe_p"])


class _Moves(Agent):
    """A game-face agent playing a fixed list of integer actions."""

    def __init__(self, moves: list[int]) -> None:
        super().__init__()
        self.moves = list(moves)

    def act(self, obs: Any) -> int:
        return self.moves.pop(0)


def test_tit_for_tat_mirrors_concessions() -> None:
    # The buyer (value 120) offers 60, 70, 85, 90; the seller (value 80, aspiration 0.5)
    # asks 130 until it has seen a concession, then concedes what the buyer conceded.
    buyer = _Moves([REJECT, 60, REJECT, 70, REJECT, 85, REJECT, 90])
    seller = {"name": "glee_tft_negotiator", "e": 0.01}
    result = _play("GleeNegotiation-v1", {"horizon": 8, "money": 100.0}, [seller, buyer])
    ev = result.events
    asks = [a for a, p, i in zip(ev["action"], ev["actor"], range(99), strict=False)
            if p == 0 and i % 4 == 0]
    assert asks == [130, 130, 120, 105]
    assert result.metrics["p"] == 0.9 and result.metrics["agreement_round"] == 8.0


# ===== persuasion =====================================================================
def test_persuasion_metrics_by_hand() -> None:
    rows = ((1, 1, 1), (1, 1, 0), (0, 0, 0), (1, 0, 1), (0, 0, 0))  # rec, bought, quality
    m = glee_persuasion_metrics(rows)
    # n = 2 high, k = 1 high bought, r = 2 low not bought, R = 5, deals = 2
    assert (m["efficiency"], m["fairness"], m["gain_0"]) == (0.5, pytest.approx(2 / 3), 0.4)
    assert m["honesty"] == 0.8  # rows 1, 3, 4, 5 recommend what the quality deserves
    all_high = glee_persuasion_metrics(((1, 1, 1), (0, 0, 1)))
    assert all_high["efficiency"] == 0.5 and math.isnan(all_high["fairness"])
    all_low = glee_persuasion_metrics(((1, 1, 0),))
    assert math.isnan(all_low["efficiency"]) and all_low["fairness"] == 0.0
    empty = glee_persuasion_metrics(())
    assert all(math.isnan(empty[k]) for k in ("efficiency", "fairness", "gain_0"))


def test_persuasion_round_payoffs() -> None:
    game, _ = make_game("GleePersuasion-v1", {"price": 10.0, "value_high": 3.0,
                                              "value_low": 0.5, "rounds": 3})
    state = game.initial_state(np.random.default_rng(0))
    rewards = []
    for rec, buy in [(BUY, BUY), (NO, BUY), (BUY, NO)]:
        quality = state.quality
        state, _ = game.step(state, (rec,), np.random.default_rng(1))
        state, r = game.step(state, (buy,), np.random.default_rng(1))
        expected = (10.0, (3.0 if quality else 0.5) * 10 - 10) if buy else (0.0, 0.0)
        assert r == pytest.approx(expected)
        rewards.append(r)
    assert game.status(state) is Status.TERMINATED
    assert game.returns(state) == pytest.approx(tuple(map(sum, zip(*rewards))))


@pytest.mark.parametrize("myopic", [False, True])
def test_honest_seller_and_trusting_buyer_are_efficient_and_fair(myopic: bool) -> None:
    for seed in range(5):
        m = _play("GleePersuasion-v1", {"myopic": myopic},
                  ["glee_honest_seller", "glee_trusting_buyer"], seed).metrics
        assert (m["efficiency"], m["fairness"], m["honesty"]) == (1.0, 1.0, 1.0)
        assert m["gain_0"] == m["high_rounds"] / m["rounds"]


@pytest.mark.parametrize("p", [1 / 3, 0.5, 0.8, 0.1])
@pytest.mark.parametrize("v", [1.2, 1.25, 2.0, 3.0, 4.0])
@pytest.mark.parametrize("c", [0.0, 0.5])
def test_commitment_makes_the_buyer_indifferent(p: float, v: float, c: float) -> None:
    vals = persuasion_values(p, v, c)
    mu, q = vals["mu_star"], vals["q_star"]
    assert mu * v + (1 - mu) * c == pytest.approx(1.0)  # mu* is the indifference belief
    if p >= mu - 1e-12:  # the prior already sells: recommend buying always
        assert q == 1.0 and vals["seller_gain_babbling"] == 1.0
        return
    posterior = p / (p + (1 - p) * q)  # Bayes after "buy"
    assert posterior == pytest.approx(mu)
    assert posterior * v + (1 - posterior) * c == pytest.approx(1.0)
    assert q == pytest.approx(p * (v - 1) / ((1 - p) * (1 - c)))
    assert vals["seller_gain_commitment"] == pytest.approx(p / mu)
    assert vals["buyer_gain_commitment"] == pytest.approx(0.0, abs=1e-12)
    assert vals["seller_gain_babbling"] == 0.0


def test_commitment_seller_gain_matches_monte_carlo() -> None:
    params = {"p_high": 1 / 3, "value_high": 2.0, "rounds": 20}
    game, text = make_game("GleePersuasion-v1", params)
    expected = game.benchmark().values["seller_gain_commitment"]  # 1/3 + 2/3 * 1/2 = 2/3
    assert expected == pytest.approx(2 / 3)
    seller = make_agent("glee_persuasion_optimal_seller", game)
    buyer = make_agent("glee_trusting_buyer", game)
    gains = [play_episode(game, text, [seller, buyer], seed=s).metrics for s in range(200)]
    sales = np.array([g["gain_0"] for g in gains])
    se = math.sqrt(expected * (1 - expected) / (len(sales) * 20))
    assert abs(sales.mean() - expected) < 4 * se
    lows = sum(g["rounds"] - g["high_rounds"] for g in gains)
    low_sold = sum(g["deals"] - g["high_rounds"] for g in gains)
    assert abs(low_sold / lows - 0.5) < 4 * math.sqrt(0.25 / lows)  # q* = 1/2


def _two_orders(myopic: bool) -> tuple[Any, Any, Any]:
    game, text = make_game("GleePersuasion-v1", {"myopic": myopic, "rounds": 5})
    rows_a = ((1, 1, 1), (0, 0, 0), (1, 1, 0))
    rows_b = ((1, 1, 0), (1, 1, 1), (0, 0, 0))  # same counts, other order and pairing
    states = [game.initial_state(np.random.default_rng(0))._replace(
        round=4, history=rows, recommendation=BUY) for rows in (rows_a, rows_b)]
    return game, text, states


def test_myopic_buyer_sees_only_aggregates() -> None:
    game, text, (a, b) = _two_orders(myopic=True)
    view = game.view(a, 1)
    assert view.history == () and view.myopic
    assert view.past == aggregates(a.history) == (3, 2, 1, 1)
    assert view == game.view(b, 1)  # nothing but the counts
    assert np.array_equal(game.encode(a, 1), game.encode(b, 1))
    assert text.render(game.observe(a, 1)) == text.render(game.observe(b, 1))
    assert game.view(a, 0).history == a.history  # the long-lived seller remembers
    full, _, (a2, b2) = _two_orders(myopic=False)
    assert full.view(a2, 1) != full.view(b2, 1)
    assert full.view(a2, 1).history == a2.history


def test_persuasion_text_mode_routes_the_message_and_hides_the_recommendation() -> None:
    game, text = make_game("GleePersuasion-v1", {"message_mode": "text", "rounds": 2})
    seller = _Scripted([{"recommendation": "buy", "message": "Top quality, buy it!"},
                        {"recommendation": "do not buy", "message": "Skip this one."}])
    buyer = _Scripted([{"decision": "buy"}, {"decision": "pass"}])
    result = play_episode(game, text, [seller, buyer], seed=3)
    assert result.status == "ok", result.error
    assert result.events["message"] == ["Top quality, buy it!", None, "Skip this one.", None]
    assert [t.inbox for t in buyer.turns] == [("player_0: Top quality, buy it!",),
                                             ("player_0: Skip this one.",)]
    assert seller.turns[0].schema["required"] == ["recommendation", "message"]
    assert "recommends" not in buyer.turns[0].observation
    rng = np.random.default_rng(0)
    state = game.step(game.initial_state(rng), (BUY,), rng).state
    assert game.view(state, 1).recommendation == -1 and game.encode(state, 1)[6] == 0.0
    binary, _ = make_game("GleePersuasion-v1")
    state = binary.step(binary.initial_state(rng), (BUY,), rng).state
    assert binary.view(state, 1).recommendation == BUY


def test_buyer_never_sees_the_quality_before_deciding() -> None:
    game, _ = make_game("GleePersuasion-v1")
    for seed in range(4):
        state = game.initial_state(np.random.default_rng(seed))
        assert game.view(state, 1).quality == -1
        assert game.view(state, 0).quality == state.quality
        state = game.step(state, (NO,), np.random.default_rng(0)).state
        assert game.view(state, 1).quality == -1 and game.encode(state, 1)[4] == 0.0


def test_seller_agents_refuse_the_buyer_seat() -> None:
    result = play_episode(*make_game("GleePersuasion-v1"),
                          [make_agent("glee_trusting_buyer"), make_agent("glee_honest_seller")],
                          seed=0)
    assert result.status == "failed" and "plays the buyer" in (result.error or "")


# ===== bad params and agent params ====================================================
@pytest.mark.parametrize(("env_id", "params", "name"), [
    ("GleeBargaining-v1", {"deltas": (0.0, 0.9)}, "deltas"),
    ("GleeBargaining-v1", {"deltas": (0.9,)}, "deltas"),
    ("GleeBargaining-v1", {"money": -1}, "money"),
    ("GleeBargaining-v1", {"horizon": 0}, "horizon"),
    ("GleeBargaining-v1", {"granularity": 2.5}, "granularity"),
    ("GleeBargaining-v1", {"show_horizon": "sometimes"}, "show_horizon"),
    ("GleeBargaining-v1", {"complete_info": "yes"}, "complete_info"),
    ("GleeBargaining-v1", {"messages": 1}, "messages"),
    ("GleeBargaining-v1", {"framing": "poem"}, "framing"),
    ("GleeNegotiation-v1", {"seller_value": 0}, "seller_value"),
    ("GleeNegotiation-v1", {"buyer_value": 2.5}, "buyer_value"),
    ("GleeNegotiation-v1", {"max_price": 1.005}, "max_price"),
    ("GleeNegotiation-v1", {"horizon": -1}, "horizon"),
    ("GleeNegotiation-v1", {"money": "1e4"}, "money"),
    ("GleePersuasion-v1", {"p_high": 1.0}, "p_high"),
    ("GleePersuasion-v1", {"value_high": 0.9}, "value_high"),
    ("GleePersuasion-v1", {"value_low": 1.5}, "value_low"),
    ("GleePersuasion-v1", {"rounds": 0}, "rounds"),
    ("GleePersuasion-v1", {"price": 0}, "price"),
    ("GleePersuasion-v1", {"myopic": "no"}, "myopic"),
    ("GleePersuasion-v1", {"message_mode": "voice"}, "message_mode"),
])
def test_bad_params_name_the_parameter(env_id: str, params: dict, name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        make_game(env_id, params)


@pytest.mark.parametrize(("spec", "name"), [
    ({"name": "glee_boulware", "e": 2.0}, "e"),
    ({"name": "glee_conceder", "e": 0.5}, "e"),
    ({"name": "glee_tft_negotiator", "e": "fast"}, "e"),
    ({"name": "glee_boulware", "aspiration": 0.2, "reservation": 0.4}, "reservation"),
    ({"name": "glee_conceder", "deadline": 0}, "deadline"),
    ({"name": "glee_bayesian_buyer", "prior_strength": -1}, "prior_strength"),
])
def test_bad_agent_params_name_the_parameter(spec: dict, name: str) -> None:
    with pytest.raises(ConfigError, match=f"parameter {name}="):
        make_agent(spec)
