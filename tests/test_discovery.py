"""Design episodes through the one loop (their seats), the baseline scientists, the LLM
scientist through a scripted model, the verbaliser, ``agora run`` of a design config and
the constants command."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from agora.agents import make_agent
from agora.agents.llm import Completion, LanguageModel, ModelError, Sampling
from agora.agents.scientists import disagreement, grid_order, latin_hypercube
from agora.analysis import load_run
from agora.envs import ConfigError, make_game, task_spec
from agora.envs.design import normalizers
from agora.envs.design.world import DesignWorld
from agora.experiments import discovery, parse_config, run_experiment
from agora.experiments.discovery import cmd_design_constants, verbalise
from agora.experiments.episode import aplay_world

FAST = {"n_particles": 512, "eig_outer": 200, "eig_inner": 200, "n_candidates": 20,
        "n_eval": 3}


def world(model: str = "linear_gaussian", **params: Any) -> DesignWorld:
    return task_spec("Discovery-v1").make_world({"model": model, **FAST, **params})


def play(w: DesignWorld, agent: Any, seed: int = 0) -> Any:
    if not hasattr(agent, "act"):
        agent = make_agent(agent, w)
    result = asyncio.run(aplay_world(w, [agent], seed, True))
    assert result.status == "ok", result.error
    return result


def designs_of(result: Any) -> list[tuple[Any, ...]]:
    ev = result.events
    return [(a, y, e) for k, a, y, e in zip(ev["kind"], ev["action_text"], ev["y"], ev["eig"])
            if k == "design"]


# ----- the protocol ---------------------------------------------------------------------
def test_an_episode_is_deterministic_for_its_seed():
    w = world("location_finding", budget=3, checkpoints=(0, 2))
    a, b = play(w, "random_designer", 5), play(w, "random_designer", 5)
    assert a.events == b.events and a.metrics == b.metrics and a.returns == b.returns
    assert designs_of(play(w, "random_designer", 6)) != designs_of(a)


@pytest.mark.parametrize("agent", ["random_designer", "posterior_sampling"])
def test_checkpoints_do_not_perturb_the_trajectory(agent):
    many = play(world(budget=3, checkpoints=(0, 1, 2, 3)), agent, 3)
    few = play(world(budget=3, checkpoints=()), agent, 3)
    assert designs_of(many) == designs_of(few)
    assert many.metrics["z@3"] == few.metrics["z@3"]  # the same questions at checkpoint 3
    assert {"z@0", "z@1", "z.predict_y@2"} <= set(many.metrics)
    assert "z@0" not in few.metrics


def test_metrics_and_returns_follow_the_declared_reward():
    w = world(budget=2, checkpoints=(0,), reward="both")
    r = play(w, "random_designer", 1)
    m = r.metrics
    eigs = [e for k, e in zip(r.events["kind"], r.events["eig"]) if k == "design"]
    assert m["eig_total"] == pytest.approx(sum(eigs))
    assert r.returns[0] == pytest.approx(m["eig_total"] - m["z_final"])
    assert m["z_final"] == m["z@2"] and m["invalid_designs"] == 0
    assert "discovery_z" in m and set(r.events["kind"]) == {"design", "checkpoint", "novice"}
    only_eig = play(world(budget=2, checkpoints=(0,), reward="eig"), "random_designer", 1)
    assert only_eig.returns[0] == pytest.approx(only_eig.metrics["eig_total"])


def test_greedy_eig_has_near_zero_regret_and_gains_more_than_random():
    w = world(budget=3, checkpoints=(3,), explanation=False, eig_outer=300, eig_inner=300,
              n_candidates=40)
    greedy = [play(w, {"name": "greedy_eig", "n_candidates": 40, "n_outer": 200,
                       "n_inner": 200, "n_refine": 2}, s).metrics for s in range(3)]
    rand = [play(w, "random_designer", s).metrics for s in range(3)]
    assert np.mean([m["regret_mean"] for m in greedy]) < 0.05
    assert np.mean([m["eig_total"] for m in greedy]) > np.mean([m["eig_total"] for m in rand])
    assert np.mean([m["regret_mean"] for m in rand]) > 0.05


@pytest.mark.parametrize("model", ["location_finding", "death_process", "survival"])
def test_regret_is_non_negative_up_to_monte_carlo_noise(model):
    r = play(world(model, budget=3, checkpoints=()), "random_designer", 2)
    for k, regret, se in zip(r.events["kind"], r.events["regret"], r.events["eig_stderr"]):
        if k == "design":
            assert regret > -(6 * se + 0.02)


def test_baselines_discovery_novice_knows_only_the_prior():
    w = world(budget=2, checkpoints=())
    r = play(w, "greedy_eig", 4)
    novice = [z for k, z in zip(r.events["kind"], r.events["z"]) if k == "novice"]
    final = [z for k, z, c in zip(r.events["kind"], r.events["z"], r.events["checkpoint"])
             if k == "checkpoint" and c == 2]
    assert r.metrics["discovery_z"] == pytest.approx(np.mean(novice))
    assert r.metrics["z_final"] == pytest.approx(np.mean(final)) and novice != final


# ----- baseline scientists --------------------------------------------------------------
def test_space_filling_plans_cover_the_box():
    u = latin_hypercube(np.random.default_rng(1), 6, 3)
    for d in range(3):
        assert sorted(np.floor(u[:, d] * 6).astype(int).tolist()) == list(range(6))
    assert sorted(grid_order(4, 1).ravel().tolist()) == [0.125, 0.375, 0.625, 0.875]
    assert len({tuple(p) for p in grid_order(9, 2)}) == 9
    w = world("hyperbolic_discounting", budget=8)
    for method in ("lhs", "grid"):
        agent = make_agent({"name": "space_filling", "method": method}, w)
        agent.reset(0, 0)
        plan = agent.plan(w.model, 8)
        for x in plan:
            w.model.validate_design(x)  # constraint repaired: immediate < delayed
        assert len({tuple(x) for x in plan}) == 8


def test_posterior_sampling_disagreement_averages_to_the_eig():
    w = DesignWorld({"model": "linear_gaussian", "n_particles": 4096})
    state = w.initial_state(np.random.default_rng(0))
    post, rng = state.posterior, np.random.default_rng(1)
    x = np.array([1.0])
    kl = [disagreement(state.model, post.sample(rng, 1)[0], post.sample(rng, 512), x, 16, rng)
          for _ in range(300)]
    exact = state.model.exact_eig(x, np.eye(3))  # type: ignore[attr-defined]
    assert np.mean(kl) == pytest.approx(exact, rel=0.1)


def test_scientists_play_only_design_worlds():
    game, _ = make_game("RepeatedPD-v1", {"rounds": 2})
    with pytest.raises(ConfigError, match="plays"):
        make_agent("greedy_eig", game)
    with pytest.raises(ConfigError, match="method"):
        make_agent({"name": "space_filling", "method": "sobol"})


# ----- the LLM scientist, scripted ------------------------------------------------------
class Scripted(LanguageModel):
    """Answers by the turn's schema: designs, answers and explanations from callables."""

    name = "scripted"

    def __init__(self, design: str = '{"x": 0.5}',
                 explanation: str = '{"explanation": "f rises with x."}',
                 answer: str | None = None) -> None:
        self.design, self.explanation, self.answer = design, explanation, answer
        self.seen: list[list[dict[str, str]]] = []

    def complete(self, messages: Any, sampling: Sampling) -> Completion:
        self.seen.append([dict(m) for m in messages])
        props = set((sampling.schema or {}).get("properties", {}))
        if "explanation" in props:
            text = self.explanation
        elif "x" in props:
            text = self.design
        else:
            text = self.answer or json.dumps(dict.fromkeys(sorted(props), 0.5))
        return Completion(text, "scripted", tokens_in=10, tokens_out=5)


_SCRIPTED: list[LanguageModel] = []


@pytest.fixture(autouse=True)
def _scripted_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every llm agent built in a test (the novice too) talks to the test's model."""
    import agora.agents.llm.agent as llm_agent

    monkeypatch.setattr(llm_agent, "build_model", lambda spec: _SCRIPTED[-1])


def llm(w: DesignWorld, model: LanguageModel, **params: Any) -> Any:
    _SCRIPTED.append(model)
    return make_agent({"name": "llm", "model": "openai/scripted", "max_attempts": 2,
                       **params}, w)


def test_text_scientist_designs_answers_and_explains_through_the_text_face():
    w = world(budget=2, checkpoints=(0, 2), word_limit=10)
    lm = Scripted()
    agent = llm(w, lm)
    r = play(w, agent, 0)
    designs = designs_of(r)
    assert [d[0] for d in designs] == ['{"x": 0.5}'] * 2
    assert r.metrics["invalid_designs"] == 0 and r.metrics["explanation_truncated"] == 0
    assert r.metrics["explanation_words"] == 4
    # eval questions were asked but never entered the scientist's memory
    assert len(agent.history) == 3 and not any("Question:" in u for u, _ in agent.history)
    design_calls = [m for m in lm.seen if "Experiment 2 of 2" in m[-1]["content"]]
    assert design_calls and not any("Question:" in t["content"] for t in design_calls[0])
    # the novice saw the explanation, not the experiments
    novice = lm.seen[-1]
    assert "f rises with x." in novice[0]["content"] and "->" not in novice[0]["content"]
    assert len(novice) == 2 and "Question:" in novice[-1]["content"]
    assert np.isfinite(r.metrics["discovery_z"]) and len(r.calls["step"]) == len(lm.seen)


def test_invalid_designs_are_reasked_then_replaced_and_counted():
    w = world(budget=2, checkpoints=())
    r = play(w, llm(w, Scripted(design='{"x": 7}')), 1)
    assert r.metrics["invalid_designs"] == 2
    assert [i for k, i in zip(r.events["kind"], r.events["invalid"]) if k == "design"] == [
        True, True]
    assert r.agent_stats[0]["reasks"] >= 2 and r.agent_stats[0]["fallbacks"] >= 2
    assert all(-1 <= json.loads(a)["x"] <= 1 for a, _, _ in designs_of(r))


def test_over_limit_explanations_are_reasked_then_truncated_and_counted():
    w = world(budget=1, checkpoints=(), word_limit=5)
    long = json.dumps({"explanation": "one two three four five six seven"})
    lm = Scripted(explanation=long)
    r = play(w, llm(w, lm), 2)
    assert r.metrics["explanation_truncated"] == 1 and r.metrics["explanation_words"] == 5
    reask = [m for m in lm.seen if "limit is 5 words" in m[-1]["content"]]
    assert reask
    assert "one two three four five" in lm.seen[-1][0]["content"]
    assert "six" not in lm.seen[-1][0]["content"]


def test_unreadable_answers_fall_back_to_a_prior_draw_and_are_counted():
    w = world(budget=1, checkpoints=(0,), explanation=False)
    r = play(w, llm(w, Scripted(answer="no idea")), 3)
    # two checkpoints (0 and the budget), each n_eval outcome queries plus one parameter query
    assert r.metrics["invalid_answers"] == 2 * (3 + 1)
    assert np.isfinite(r.metrics["z@0"])


# ----- the verbaliser -------------------------------------------------------------------
def test_templated_outcomes_by_default_and_llm_verbaliser_when_configured(monkeypatch):
    w = world("moral_machine", budget=2, checkpoints=(), explanation=False)
    templated = [y for _, y, _ in designs_of(play(w, "random_designer", 0))]
    state = w.initial_state(np.random.default_rng(0))
    assert all(isinstance(y, str) and y for y in templated)

    class Voice(Scripted):
        def complete(self, messages: Any, sampling: Sampling) -> Completion:
            self.seen.append([dict(m) for m in messages])
            return Completion("I saved the doctors.", "voice")

    voice, built = Voice(), []
    monkeypatch.setattr(discovery, "build_model", lambda spec: built.append(spec) or voice)
    w2 = world("moral_machine", budget=2, checkpoints=(), explanation=False,
               verbaliser="llm", verbaliser_model="openai/voice")
    spoken = [y for _, y, _ in designs_of(play(w2, "random_designer", 0))]
    assert spoken == ["I saved the doctors."] * 2
    assert built[0].model == "openai/voice" and built[0].cache == "always"
    assert "Moral Machine" in voice.seen[0][0]["content"]

    class Broken(Scripted):
        def complete(self, messages: Any, sampling: Sampling) -> Completion:
            raise ModelError("server", "down", True)

    design = state.model.sample_designs(np.random.default_rng(1), 1)[0]
    y = np.array(1.0)
    text = asyncio.run(verbalise(Broken(), state.model, design, y, True))
    assert text == state.model.format_outcome(design, y, True)

    class Refused(Scripted):  # a rejected key is never hidden behind the template
        def complete(self, messages: Any, sampling: Sampling) -> Completion:
            raise ModelError("auth", "401 invalid api key", False)

    with pytest.raises(ModelError, match="auth"):
        asyncio.run(verbalise(Refused(), state.model, design, y, True))


# ----- agora run and the constants command ----------------------------------------------
def test_agora_run_plays_a_design_config_end_to_end(tmp_path: Path):
    cfg = parse_config({
        "name": "tiny-discovery", "env": "Discovery-v1",
        "params": {**FAST, "budget": 2, "checkpoints": [0, 2]},
        "agents": {"player_0": "greedy_eig"},
        "sweep": {"params.model": ["linear_gaussian", "death_process"]},
        "episodes": 2, "seed": 0})
    summary = run_experiment(cfg, tmp_path / "run", progress=False)
    assert summary.failed == 0 and summary.episodes_done == 4
    run = load_run(tmp_path / "run")
    eps = run.episodes
    assert {"metric.eig_total", "metric.regret_mean", "metric.z_final", "metric.discovery_z",
            "metric.z.predict_y@0", "metric.invalid_designs"} <= set(eps.columns)
    assert (eps["metric.eig_total"] > 0).all()
    events = run.events()
    assert (events["kind"] == "design").sum() == 4 * 2


def test_shipped_config_validates():
    from agora.experiments import load_config

    cfg = load_config(Path(__file__).parents[1] / "experiments/configs/discovery_all.yaml")
    cells = cfg.cells()
    assert len(cells) == 30
    assert {c.params["model"] for c in cells} >= {"location_finding", "emotion"}


def test_design_constants_command_writes_and_checks(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setattr(normalizers, "PATH", tmp_path / "normalizers.json")
    args = argparse.Namespace(check=False, models=["linear_gaussian"], n_worlds=40, rtol=1e-6)
    assert cmd_design_constants(args) == 0
    data = json.loads((tmp_path / "normalizers.json").read_text())
    assert data["version"] == normalizers.VERSION and data["settings"]["n_worlds"] == 40
    assert cmd_design_constants(argparse.Namespace(**{**vars(args), "check": True})) == 0
    assert "constants agree" in capsys.readouterr().out
    data["models"]["linear_gaussian"]["goals"]["predict_y"]["mu0"] += 0.5
    normalizers.save(data)
    assert cmd_design_constants(argparse.Namespace(**{**vars(args), "check": True})) == 1
    assert "MISMATCH linear_gaussian.predict_y.mu0" in capsys.readouterr().out


@pytest.mark.slow
def test_one_and_two_workers_give_identical_design_records(tmp_path: Path, ray_session):
    cfg = parse_config({
        "name": "workers-discovery", "env": "Discovery-v1",
        "params": {**FAST, "budget": 2, "checkpoints": [0, 2]},
        "agents": {"player_0": "posterior_sampling"},
        "sweep": {"params.model": ["linear_gaussian", "survival"]},
        "episodes": 4, "batch_size": 1, "seed": 3})
    one = run_experiment(cfg, tmp_path / "one", workers=1, progress=False).episodes
    two = run_experiment(cfg, tmp_path / "two", workers=2, progress=False).episodes
    stable = [c for c in one.columns if c != "duration_s"]
    pd.testing.assert_frame_equal(one[stable].reset_index(drop=True),
                                  two[stable].reset_index(drop=True))
    pd.testing.assert_frame_equal(load_run(tmp_path / "one").events(),
                                  load_run(tmp_path / "two").events())
