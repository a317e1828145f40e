"""The design world as a one-player World: its phases in its state, one validator, its
seeds in the state (the experiments replay today's streams exactly) and its benchmark."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from agora.envs import IllegalActionError, Status, World
from agora.envs.design.types import DesignState
from agora.envs.design.world import DesignWorld, checkpoint_rng

FAST = {"n_particles": 128, "eig_outer": 16, "eig_inner": 16, "n_candidates": 4, "n_eval": 3}


def world(model: str = "linear_gaussian", **params: Any) -> DesignWorld:
    return DesignWorld({"model": model, **FAST, **params})


def truths(state: DesignState) -> list[np.ndarray]:
    return [q.truth for q in state.questions]


def test_phases_live_in_the_state_and_the_final_checkpoint_ends_the_episode():
    w = world(budget=2, checkpoints=(0,), reward="both")
    assert isinstance(w, World) and w.num_players == 1
    s0 = w.initial_state(np.random.default_rng(3))
    eval_seed = DesignWorld.split(np.random.default_rng(3)).eval_seed
    expected = w.questions(s0, checkpoint_rng(eval_seed, 0))
    assert s0.phase == "questions" and w.to_move(s0) == (0,)
    assert [q.queries.tolist() for q in s0.questions] == [q.queries.tolist() for q in expected]
    assert w.view(s0, 0).questions[0][0] == s0.questions[0].goal
    s1, (r0,) = w.step(s0, (truths(s0),), None)
    assert r0 == 0.0 and s1.phase == "design" and s1.scores[0][1].errors == {
        "predict_y": 0.0, "estimate_theta": 0.0}
    s2, (r1,) = w.step(s1, (np.array([1.0]),), None)
    assert s2.phase == "design" and r1 == s2.reports[0].eig.value
    s3, (r2,) = w.step(s2, (np.array([-1.0]),), None)
    assert s3.phase == "questions" and w.status(s3) is Status.RUNNING
    answers = [np.zeros(q.truth.shape) for q in s3.questions]
    end, (r3,) = w.step(s3, (answers,), None)
    z_final = end.scores[-1][1].z_mean
    assert w.status(end) is Status.TERMINATED and w.to_move(end) == ()
    assert r2 == end.reports[1].eig.value and r3 == -z_final
    assert w.returns(end) == (r0 + r1 + r2 + r3,)
    m = w.metrics(end)
    assert m["z_final"] == m["z@2"] == z_final and m["eig_total"] == r1 + r2
    assert m["regret_mean"] == np.mean([r.regret for r in end.reports])
    assert end.questions == s3.questions  # kept for the explanation test


@pytest.mark.parametrize("reward, design_paid, final_paid", [
    ("eig", True, False), ("prediction", False, True)])
def test_rewards_follow_the_reward_param(reward, design_paid, final_paid):
    w = world(budget=1, checkpoints=(), reward=reward)
    s, (r_design,) = w.step(w.initial_state(np.random.default_rng(0)), ([0.5],), None)
    end, (r_final,) = w.step(s, ([np.zeros(q.truth.shape) for q in s.questions],), None)
    assert r_design == (s.reports[0].eig.value if design_paid else 0.0)
    assert r_final == (-end.scores[0][1].z_mean if final_paid else 0.0)


@pytest.mark.parametrize("model", ["linear_gaussian", "location_finding", "moral_machine"])
def test_step_draws_experiment_k_from_the_children_of_the_experiments_stream(model):
    """The seeds in the state give exactly the streams a generator spawning three children
    per experiment gives, whatever rng ``step`` is handed."""
    w = world(model, budget=3, checkpoints=())
    rng = np.random.default_rng(8)
    state = w.initial_state(rng)
    experiments = DesignWorld.split(np.random.default_rng(8)).experiments
    bare = state
    designs = state.model.sample_designs(np.random.default_rng(1), 3)
    for x in designs:
        state, _ = w.step(state, (x,), np.random.default_rng(99))
        bare, y, info = w.experiment(bare, x, experiments)
        np.testing.assert_array_equal(state.outcomes[-1], y)
        assert state.reports[-1].eig == info.eig
    again, _ = w.step(w.initial_state(np.random.default_rng(8)), (designs[0],), rng)
    np.testing.assert_array_equal(again.outcomes[0], state.outcomes[0])


def test_check_gives_the_reason_and_is_legal_agrees():
    w = world("hyperbolic_discounting", budget=1, checkpoints=())
    s = w.initial_state(np.random.default_rng(0))
    with pytest.raises(IllegalActionError, match="less than"):
        w.check(s, 0, [30.0, 20.0, 3.0])
    with pytest.raises(IllegalActionError, match="3 values"):
        w.check(s, 0, [10.0, 20.0])
    with pytest.raises(IllegalActionError, match="numbers"):
        w.check(s, 0, "x")
    with pytest.raises(IllegalActionError, match="player 1"):
        w.check(s, 1, [10.0, 20.0, 3.0])
    assert w.is_legal(s, 0, [10.0, 20.0, 3.0]) and not w.is_legal(s, 0, [30.0, 20.0, 3.0])
    q, _ = w.step(s, ([10.0, 20.0, 3.0],), None)
    with pytest.raises(IllegalActionError, match="one array per question"):
        w.check(q, 0, truths(q)[:1])
    with pytest.raises(IllegalActionError, match="wants 3 answers"):
        w.check(q, 0, [np.zeros(2), *truths(q)[1:]])
    end, _ = w.step(q, (truths(q),), None)
    with pytest.raises(IllegalActionError, match="does not move"):
        w.check(end, 0, truths(q))


def test_bayes_answers_score_as_evaluate_does():
    """The env's answers are the Bayes-optimal predictor drawn as ``evaluate`` draws it."""
    w = world(budget=1, checkpoints=(0,))
    s = w.initial_state(np.random.default_rng(5))
    eval_seed = DesignWorld.split(np.random.default_rng(5)).eval_seed
    ev = w.step(s, (w.bayes_answers(s),), None).state.scores[0][1]
    assert ev == w.evaluate(s, checkpoint_rng(eval_seed, 0))


def test_benchmark_bounds_every_reported_eig():
    w = world("location_finding", budget=3, checkpoints=())
    limit = w.benchmark().values["eig_limit"]
    assert limit == np.log(FAST["n_particles"]) and w.benchmark().values["z_prior"] == 0.0
    s = w.initial_state(np.random.default_rng(2))
    for x in s.model.sample_designs(np.random.default_rng(4), 3):
        s, _ = w.step(s, (x,), None)
    assert all(r.eig.value <= r.eig.limit <= limit + 1e-12 and r.best_eig.value <= limit
               for r in s.reports)
