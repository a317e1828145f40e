"""The generic learners ``best_response`` and ``fictitious_play`` against known dynamics.

Tolerances, stated once: best-response dynamics in two-firm Cournot settle within one grid
step of q* (grid best responses to odd quantities tie); fictitious play's empirical play
approaches the equilibrium at rate ~1/t, so after 150 rounds we ask that the mean action of
the last 20 rounds lie within one grid step of the equilibrium and that every single action
there lie within three steps (fictitious play keeps oscillating around it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from agora.agents import make_agent
from agora.agents.learners import FictitiousPlay
from agora.envs import ConfigError, make_game, spec
from agora.envs.games.oligopoly import CournotGame
from agora.envs.games.repeated_matrix import RepeatedMatrixGame
from agora.experiments import play_episode

COURNOT, DIFF = "Cournot-v1", "BertrandDifferentiated-v1"


def _actions(env_id: str, params: dict[str, Any], agents: Sequence[Any],
             seed: int = 0) -> tuple[Any, np.ndarray]:
    game, text = make_game(env_id, params)
    result = play_episode(game, text, [make_agent(a, game) for a in agents], seed=seed)
    assert result.status == "ok", result.error
    return game, np.array(result.events["action"]).reshape(-1, game.num_players)


class _MatrixWithStage(RepeatedMatrixGame):
    """RepeatedMatrixGame with ``stage_payoffs`` guaranteed (the core has it since 9d5a1d9)."""

    def stage_payoffs(self, actions: tuple[int, ...]) -> tuple[float, ...]:
        return tuple(float(x) for x in self.params.payoffs[actions[0]][actions[1]])


# ----- best response ----------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_best_response_dynamics_reach_cournot_nash_within_one_step(seed: int) -> None:
    game, acts = _actions(COURNOT, {"rounds": 30}, ["best_response"] * 2, seed=seed)
    q_star = game.benchmark().values["nash_action"]
    assert np.abs(acts[15:] - q_star).max() <= 1


def test_best_response_from_zero_follows_the_cournot_map() -> None:
    # BR(q) = (120 - q) / 2: 0 -> 60 -> 30 -> 45 -> 37.5 (a tie: 37 or 38) -> ...
    _, acts = _actions(COURNOT, {"rounds": 4}, [{"name": "best_response", "first": 0}] * 2)
    assert acts.tolist() == [[0, 0], [60, 60], [30, 30], [45, 45]]


def test_simultaneous_best_response_cycles_with_three_firms() -> None:
    """With n = 3 the symmetric best-response map q -> 60 - q has slope -1: a 2-cycle."""
    _, acts = _actions(COURNOT, {"rounds": 8, "n_firms": 3},
                       [{"name": "best_response", "first": 0}] * 3)
    assert acts.tolist() == [[0, 0, 0], [60, 60, 60]] * 4


def test_best_response_in_homogeneous_bertrand_stops_one_step_above_cost() -> None:
    _, acts = _actions("Bertrand-v1", {"rounds": 80}, [{"name": "best_response", "first": 70}] * 2)
    assert acts[-1].tolist() == [11, 11]  # the upper grid equilibrium: undercutting pays 0


# ----- fictitious play --------------------------------------------------------------------
@pytest.mark.parametrize(("env_id", "params", "seeds"), [
    (COURNOT, {"n_firms": 2}, range(3)),
    (COURNOT, {"n_firms": 3}, range(2)),  # where best response cycles
    (DIFF, {"n_firms": 2}, range(3)),
    (DIFF, {"n_firms": 3, "gamma": 0.5}, range(1)),
])
def test_fictitious_play_converges(env_id: str, params: dict, seeds: range) -> None:
    for seed in seeds:
        game, acts = _actions(env_id, {**params, "rounds": 150},
                              ["fictitious_play"] * params["n_firms"], seed=seed)
        target = game.benchmark().values["nash_action"]
        tail = acts[-20:]
        assert abs(tail.mean() - target) <= 1, (seed, tail)
        assert np.abs(tail - target).max() <= 3, (seed, tail)


def test_fictitious_play_expectation_is_exact_for_two_players() -> None:
    game = CournotGame()
    agent = make_agent("fictitious_play", game)
    agent.reset(seed=0, player=1)
    assert isinstance(agent, FictitiousPlay)
    freqs = np.zeros((1, game.num_actions))
    freqs[0, [20, 60]] = 0.5
    expected = agent._expected(freqs)
    direct = [(game.stage_payoffs((20, a))[1] + game.stage_payoffs((60, a))[1]) / 2
              for a in range(game.num_actions)]
    np.testing.assert_allclose(expected, direct)
    assert int(np.argmax(expected)) == 40  # (120 - E[rival]) / 2 while the price stays > 0


def test_fictitious_play_sampling_estimates_the_expectation() -> None:
    game = CournotGame({"n_firms": 3})
    exact = make_agent("fictitious_play", game)
    sampled = make_agent({"name": "fictitious_play", "max_profiles": 1, "samples": 4000}, game)
    for agent in (exact, sampled):
        agent.reset(seed=0, player=0)
    freqs = np.zeros((2, game.num_actions))
    freqs[0, [10, 50]] = 0.5
    freqs[1, [20, 40]] = 0.5  # E[others' total] = 60: the exact best response is 30
    truth = exact._expected(freqs)  # type: ignore[attr-defined]
    estimate = sampled._expected(freqs)  # type: ignore[attr-defined]
    assert int(np.argmax(truth)) == 30
    np.testing.assert_allclose(estimate, truth, atol=0.05 * np.abs(truth).max())


# ----- any simultaneous game with stage_payoffs: 2x2 games ------------------------------------
def test_learners_defect_in_the_prisoners_dilemma() -> None:
    game = _MatrixWithStage({"rounds": 6})
    text = spec("RepeatedPD-v1").text_face(game)
    for name in ("best_response", "fictitious_play"):
        agents = [make_agent({"name": name, "first": 0}, game) for _ in range(2)]
        result = play_episode(game, text, agents, seed=0)
        acts = np.array(result.events["action"]).reshape(-1, 2)
        assert acts[0].tolist() == [0, 0] and (acts[1:] == 1).all()


def test_fictitious_play_frequencies_approach_the_mixed_equilibrium() -> None:
    """Robinson (1951): in zero-sum games fictitious play's empirical mixtures converge."""
    game, text = make_game("MatchingPennies-v1", {"rounds": 400})
    agents = [make_agent("fictitious_play", game) for _ in range(2)]
    result = play_episode(game, text, agents, seed=0)
    acts = np.array(result.events["action"]).reshape(-1, 2)
    assert np.abs(acts.mean(axis=0) - 0.5).max() < 0.1


# ----- what the learners refuse ---------------------------------------------------------------
class _NoStagePayoffs(CournotGame):
    stage_payoffs = None  # type: ignore[assignment]


@pytest.mark.parametrize("name", ["best_response", "fictitious_play"])
def test_learners_refuse_games_they_cannot_solve(name: str) -> None:
    bargaining, _ = make_game("Bargaining-v1")
    with pytest.raises(ConfigError, match="simultaneous"):
        make_agent(name, bargaining)
    with pytest.raises(ConfigError, match="stage_payoffs"):
        make_agent(name, _NoStagePayoffs())
    with pytest.raises(ConfigError, match="first"):
        make_agent({"name": name, "first": 121}, CournotGame())
    with pytest.raises(ConfigError, match="first"):
        make_agent({"name": name, "first": -1})
    with pytest.raises(ConfigError, match="first"):
        make_agent({"name": name, "first": 2.5})
    agent = make_agent(name)  # without a game it cannot know the payoffs
    agent.reset(seed=0, player=0)
    game = CournotGame()
    with pytest.raises(ConfigError, match="setup"):
        agent.act(game.observe(game.initial_state(np.random.default_rng(0)), 0))


@pytest.mark.parametrize(("param", "value"), [("max_profiles", 0), ("samples", 1.5)])
def test_fictitious_play_checks_its_parameters(param: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=param):
        make_agent({"name": "fictitious_play", param: value})
