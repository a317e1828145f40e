"""Promises every registered game keeps: framings, outcome metrics, benchmarks, opponents."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from agora.agents import make_agent
from agora.envs import make_game, spec, specs
from agora.envs.core import Status, fairness

IDS = [s.id for s in specs()]


def _framings(env_id: str) -> tuple[str, ...]:
    """FRAMINGS of the game's module, or of its package when the game is a package."""
    name = spec(env_id).game.__module__
    while name:
        found = getattr(sys.modules[name], "FRAMINGS", None)
        if found is not None:
            return tuple(found)
        name = name.rpartition(".")[0]
    return ()


@pytest.mark.parametrize("env_id", IDS)
def test_at_least_three_framings_that_change_the_words_not_the_rules(env_id):
    framings = _framings(env_id)
    assert len(framings) >= 3, f"{env_id} declares framings {framings}"
    rules = set()
    for framing in framings:
        game, text = make_game(env_id, {"framing": framing})
        rules.add(text.rules(0))
        state = game.initial_state(np.random.default_rng(0))
        for p in game.to_move(state):
            obs = game.observe(state, p)
            for a in obs.legal_actions[:50]:
                assert text.parse(text.format_action(int(a), obs), obs) == a
    assert len(rules) == len(framings), "each framing must word the rules differently"
    with pytest.raises(ValueError, match="framing"):
        make_game(env_id, {"framing": "no-such-framing"})


@pytest.mark.parametrize("env_id", IDS)
def test_outcome_metrics_in_every_record(env_id):
    game, _ = make_game(env_id)
    rng = np.random.default_rng(1)
    state = game.initial_state(rng)
    while game.status(state) is Status.RUNNING:
        joint = tuple(int(rng.choice(game.observe(state, p).legal_actions))
                      for p in game.to_move(state))
        state, _ = game.step(state, joint, rng)
    metrics = game.metrics(state)
    for key in ["efficiency", "fairness", "distance_to_benchmark",
                *(f"gain_{i}" for i in range(game.num_players))]:
        assert key in metrics, f"{env_id} lacks metric {key}"
    returns = game.returns(state)
    if "gain_0" in metrics and not np.isnan(metrics["gain_0"]):
        assert all(isinstance(v, float) for v in metrics.values())
    assert len(returns) == game.num_players


@pytest.mark.parametrize("env_id", IDS)
def test_benchmark_and_default_opponent(env_id):
    s = spec(env_id)
    game = s.make_game()
    bench = game.benchmark()
    assert bench.concept and bench.values
    assert all(np.isfinite(v) or np.isnan(v) for v in bench.values.values())
    for seat in range(game.num_players):  # registered and able to play this game
        make_agent(s.opponent_for(seat), game)


def test_fairness_index():
    assert fairness([2.0, 2.0, 2.0]) == 1.0
    assert fairness([0.0, 0.0, 9.0]) == 0.0
    assert fairness([1.0, 3.0]) == pytest.approx(0.5)
    assert fairness([-1.0, 1.0]) == 0.0  # shifted to [0, 2]: one player has everything
