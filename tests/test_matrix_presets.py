"""The named 2x2 presets, generous tit-for-tat and the win/loss view."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from agora.agents import make_agent
from agora.envs import ConfigError, make, make_game
from agora.envs.games.repeated_matrix import pure_nash
from agora.envs.wrappers import WinLoss, win_loss
from agora.experiments import play_episode


@pytest.mark.parametrize("env_id, equilibria", [
    ("RepeatedPD-v1", [(1, 1)]),
    ("StagHunt-v1", [(0, 0), (1, 1)]),
    ("Chicken-v1", [(0, 1), (1, 0)]),
    ("BattleOfSexes-v1", [(0, 0), (1, 1)]),
    ("MatchingPennies-v1", []),
])
def test_presets_have_their_textbook_equilibria(env_id, equilibria):
    game, _ = make_game(env_id)
    assert sorted(pure_nash(game.params.payoffs)) == equilibria
    values = game.benchmark().values
    if not equilibria:  # matching pennies: 50/50 and value 0
        assert values["nash_prob0_0"] == pytest.approx(0.5)
        assert values["nash_payoff_0"] == pytest.approx(0.0)


def test_stage_payoffs_agree_with_step():
    game, _ = make_game("Chicken-v1")
    rng = np.random.default_rng(0)
    for joint in [(0, 0), (0, 1), (1, 0), (1, 1)]:
        _, rewards = game.step(game.initial_state(rng), joint, rng)
        assert tuple(rewards) == game.stage_payoffs(joint)


def test_custom_matrix_and_bad_matrix():
    game, text = make_game("RepeatedMatrix-v1", {
        "payoffs": [[[2, 2], [0, 0]], [[0, 0], [1, 1]]], "labels": ["left", "right"]})
    assert pure_nash(game.params.payoffs) == [(0, 0), (1, 1)]
    assert "left" in text.rules(0)
    with pytest.raises(ConfigError, match="payoffs"):
        make_game("RepeatedMatrix-v1", {"payoffs": [[1, 2], [3, 4]]})


def test_generous_tit_for_tat_forgives_at_its_rate():
    game, text = make_game("RepeatedPD-v1", {"rounds": 2001})
    agents = [make_agent({"name": "generous_tit_for_tat", "generosity": 0.3}),
              make_agent("always_defect")]
    result = play_episode(game, text, agents, seed=3)
    coop_after_round_1 = result.metrics["action0_rate_0"] * 2001 - 1
    assert coop_after_round_1 / 2000 == pytest.approx(0.3, abs=0.035)
    strict = play_episode(game, text, [make_agent({"name": "generous_tit_for_tat",
                                                   "generosity": 0.0}),
                                       make_agent("always_defect")], seed=3)
    tft = play_episode(game, text, [make_agent("tit_for_tat"), make_agent("always_defect")],
                       seed=3)
    assert strict.returns == tft.returns


def test_win_loss_view_keeps_the_payoffs():
    assert win_loss([1.0, 1.0]) == [0.0, 0.0]
    assert win_loss([0.0, -2.0, 0.0]) == [1.0, -1.0, 1.0]
    env = WinLoss(make("RepeatedPD-v1", rounds=3))
    env.reset(seed=0)
    payoffs = {"player_0": 0.0, "player_1": 0.0}
    total = {"player_0": 0.0, "player_1": 0.0}
    while env.agents:
        _, rewards, _, _, infos = env.step({"player_0": 1, "player_1": 0})
        for a in rewards:
            payoffs[a] += infos[a]["payoff"]
            total[a] += rewards[a]
    assert payoffs == {"player_0": 15.0, "player_1": 0.0}
    assert total == {"player_0": 1.0, "player_1": -1.0}
    parallel_api_test(WinLoss(make("PublicGoods-v1")), num_cycles=30)
