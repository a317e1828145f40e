"""Design worlds: params, seeded episodes, EIG against closed forms, normalisers, the
Gymnasium env (check_env over every registered design task) and the text face."""

from __future__ import annotations

import json
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agora.envs import ActionParseError, ConfigError, IllegalActionError, task_specs
from agora.envs.design import normalizers
from agora.envs.design.catalog import task_id
from agora.envs.design.env import DesignEnv, to_design
from agora.envs.design.text import DesignText, count_words
from agora.envs.design.world import DesignParams, DesignWorld, checkpoint_rng
from agora.envs.design.worlds import model_keys

FAST = {"n_particles": 256, "eig_outer": 64, "eig_inner": 64, "n_candidates": 8,
        "n_eval": 3}
KEYS = model_keys()
_WORLDS: dict[str, DesignWorld] = {}


def world(model: str = "linear_gaussian", **params: object) -> DesignWorld:
    return DesignWorld({"model": model, **FAST, **params})


# ----- params ---------------------------------------------------------------------------
def test_params_split_flat_keys_between_episode_and_model():
    p = DesignParams.from_dict({"model": "linear_gaussian", "budget": 4, "noise_sd": 0.2,
                                "checkpoints": [0, 4]})
    assert p.budget == 4 and p.checkpoints == (0, 4)
    assert p.model_params == (("noise_sd", 0.2),)
    assert DesignParams.from_dict(p.to_dict()) == p
    assert DesignWorld(p).model.params.noise_sd == 0.2  # type: ignore[attr-defined]
    assert p.eval_points == (0, 4)
    assert DesignParams.from_dict({"budget": 5, "checkpoints": [1]}).eval_points == (1, 5)
    assert DesignParams(budget=4).checkpoints == (0, 1, 3)  # BoxingGym's, up to the budget
    assert DesignParams().checkpoints == (0, 1, 3, 5, 7, 10)


@pytest.mark.parametrize("bad, word", [
    ({"model": "nope"}, "model"), ({"budget": 0}, "budget"),
    ({"budget": 3, "checkpoints": [0, 5]}, "checkpoints"), ({"reward": "win"}, "reward"),
    ({"no_such_param": 1}, "no_such_param"), ({"noise_sd": -1.0}, "noise_sd"),
    ({"story": "yes"}, "story"),
])
def test_bad_params_raise_config_errors_naming_the_key(bad, word):
    with pytest.raises(ConfigError, match=word):
        DesignWorld(bad)


# ----- episodes -------------------------------------------------------------------------
@pytest.mark.parametrize("key", KEYS)
def test_same_seed_same_truth_and_outcomes(key):
    w = world(key)
    runs = []
    for _ in range(2):
        state = w.initial_state(np.random.default_rng(11))
        design = state.model.sample_designs(np.random.default_rng(3), 1)[0]
        state, y, info = w.experiment(state, design, np.random.default_rng(5))
        runs.append((state.theta, y, info.eig.value))
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])
    assert runs[0][2] == runs[1][2]
    other = w.initial_state(np.random.default_rng(12))
    assert not np.array_equal(other.theta, runs[0][0])


def test_linear_gaussian_eig_matches_the_closed_form_along_a_trajectory():
    w = DesignWorld({"model": "linear_gaussian", "n_particles": 4096, "eig_outer": 1000,
                     "eig_inner": 1000, "n_candidates": 20})
    state = w.initial_state(np.random.default_rng(0))
    rng = np.random.default_rng(1)
    for x in (1.0, -1.0, 0.0, 0.5):
        _, cov = state.model.exact_posterior(np.array(state.designs).reshape(-1, 1),  # type: ignore[attr-defined]
                                             np.array(state.outcomes))
        exact = state.model.exact_eig([x], cov)  # type: ignore[attr-defined]
        state, _, info = w.experiment(state, [x], rng)
        assert abs(info.eig.value - exact) < 4 * info.eig.stderr + 0.05 * exact, (x, exact)
        assert info.eig.lower <= info.eig.upper + 1e-9
        assert info.regret > -4 * (info.eig.stderr + info.best_eig.stderr) - 0.02


def test_evaluation_uses_its_own_stream_and_scores_bayes_predictions():
    w = world("linear_gaussian", n_eval=5)
    state = w.initial_state(np.random.default_rng(4))
    a = w.questions(state, checkpoint_rng(9, 3))
    b = w.questions(state, checkpoint_rng(9, 3))
    assert all(np.array_equal(x.queries, y.queries) and np.array_equal(x.truth, y.truth)
               for x, y in zip(a, b))
    assert [q.queries.shape[0] for q in a] == [5, 1]  # outcome goal: n_eval; parameter: 1
    truth = [q.truth for q in a]
    perfect = w.score(state, a, truth)
    assert perfect.errors == {"predict_y": 0.0, "estimate_theta": 0.0}
    assert all(z < 0 for z in perfect.z.values())


def test_prior_predictor_scores_z_near_zero_on_average():
    w = DesignWorld({"model": "linear_gaussian", "n_eval": 10})
    zs = []
    for seed in range(300):
        state = w.initial_state(np.random.default_rng(10_000 + seed))
        zs.append(w.evaluate(state, checkpoint_rng(seed, 0)).z_mean)
    assert abs(np.mean(zs)) < 0.15, np.mean(zs)
    assert 0.4 < np.std(zs) < 1.5


# ----- normalisers ----------------------------------------------------------------------
def test_stored_constants_cover_every_model_with_a_version():
    data = normalizers.load()
    assert data["version"] == normalizers.VERSION and data["settings"]["n_worlds"] >= 1000
    for key in KEYS:
        goals = {g.name for g in DesignWorld({"model": key}).model.goals}
        assert set(data["models"][key]["goals"]) == goals, key
        assert DesignWorld({"model": key}).normalizer.source == "stored"


@pytest.mark.parametrize("key", ["linear_gaussian", pytest.param(
    "hyperbolic_discounting", marks=pytest.mark.slow)])
def test_stored_constants_equal_a_recomputation_at_the_stored_settings(key):
    stored = normalizers.load()
    fresh = normalizers.compute_constants([key],
                                          normalizers.Settings(**stored["settings"]))
    assert normalizers.compare(stored, fresh, rtol=1e-9) == []


@pytest.mark.parametrize("key", KEYS)
def test_stored_constants_agree_with_a_smaller_independent_sample(key):
    stored = normalizers.load()
    n = 60
    small = normalizers.Settings(**{**stored["settings"], "seed": 7, "n_worlds": n})
    fresh = normalizers.compute_constants([key], small)["models"][key]["goals"]
    for goal, v in fresh.items():
        mu, sd = (stored["models"][key]["goals"][goal][k] for k in ("mu0", "sigma0"))
        assert abs(v["mu0"] - mu) <= 6 * sd / np.sqrt(n) + 1e-12, (goal, v, mu, sd)


def test_non_default_model_params_get_computed_constants():
    w = DesignWorld({"model": "linear_gaussian", "noise_sd": 0.05})
    assert w.normalizer.source == "computed"
    assert w.normalizer.mu0["predict_y"] < DesignWorld({}).normalizer.mu0["predict_y"]


# ----- the Gymnasium env ----------------------------------------------------------------
@pytest.mark.parametrize("spec", task_specs("design"), ids=lambda s: s.id)
def test_check_env_passes_for_every_design_task(spec):
    env = spec.make_env({**FAST, "budget": 3, "checkpoints": (0, 3)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env, skip_render_check=False)
    obs, info = env.reset(seed=2)
    assert env.observation_space.contains(obs) and info["checkpoint"] == 0
    rng, done = np.random.default_rng(0), False
    while not done:
        design = env.unwrapped.world.model.sample_designs(rng, 1)[0]
        obs, reward, done, truncated, info = env.step(design.astype(np.float32))
        assert np.isfinite(reward) and env.observation_space.contains(obs) and not truncated
    assert obs["mask"].tolist() == [1, 1, 1] and "z" in info and "regret" in info


def test_every_model_has_a_gymnasium_id():
    ids = {s.id for s in task_specs("design")}
    assert {task_id(k) for k in KEYS} | {"Discovery-v1"} == ids
    env = gymnasium.make("agora/LocationFinding-v1")
    obs, _ = env.reset(seed=0)
    assert obs["designs"].shape == (10, 2)
    assert env.unwrapped.world.params.model == "location_finding"


@pytest.mark.parametrize("log_intensity", [False, True])
def test_location_step_reports_an_eig_bracket_inside_the_limit(log_intensity: bool):
    """Each step's info carries the bracket, within the world's capacity (10.3 nats raw,
    2.5 log) and the particle entropy ``log 256``; the reward is the bracket's value."""
    env = DesignEnv(world("location_finding", budget=3, reward="eig", checkpoints=(0,),
                          log_intensity=log_intensity))
    env.reset(seed=3)
    cap = 2.54 if log_intensity else 10.31
    for x in ([0.0, 0.0], [0.5, -0.5], [-1.0, 1.0]):
        _, reward, _, _, info = env.step(np.array(x, np.float32))
        assert 0 <= info["eig_lower"] <= reward == info["eig"] <= info["eig_upper"]
        assert info["eig_upper"] <= info["eig_limit"] <= min(cap, np.log(256)) + 1e-9
        assert 0 <= info["best_eig"] <= min(cap, np.log(256)) + 1e-9


def test_final_reward_is_eig_minus_mean_z_and_the_episode_ends():
    env = DesignEnv(world(budget=2, checkpoints=(2,), reward="both"))
    env.reset(seed=0)
    _, r1, done1, _, info1 = env.step(np.array([1.0], np.float32))
    assert not done1 and r1 == pytest.approx(info1["eig"])
    _, r2, done2, _, info2 = env.step(np.array([-1.0], np.float32))
    assert done2 and r2 == pytest.approx(info2["eig"] - np.mean(list(info2["z"].values())))
    with pytest.raises(Exception, match="ended"):
        env.step(np.array([0.0], np.float32))


def test_invalid_designs_follow_the_declared_policy():
    w = world("hyperbolic_discounting", budget=2)
    env = DesignEnv(w, on_invalid_action="penalty", invalid_penalty=-2.0, max_invalid_actions=2)
    obs0, _ = env.reset(seed=1)
    bad = np.array([200.0, 100.0, 30.0], np.float32)  # immediate >= delayed
    obs, reward, done, truncated, info = env.step(bad)
    assert reward == -2.0 and info["invalid_actions"] == 1 and not truncated
    assert np.array_equal(obs["mask"], obs0["mask"])
    *_, truncated, _ = env.step(bad)
    assert truncated
    strict = DesignEnv(w, on_invalid_action="raise")
    strict.reset(seed=1)
    with pytest.raises(IllegalActionError, match="less than"):
        strict.step(bad)
    assert to_design(w, np.array([9.6, 20.2, 3.0])).tolist() == [10.0, 20.0, 3.0]


def test_context_covariates_are_observed_for_worlds_that_have_them():
    env = DesignEnv(world("survival", budget=2))
    obs, _ = env.reset(seed=3)
    state = env.state_
    assert state is not None and state.model.context
    assert "context" in obs and obs["context"].size == sum(
        np.size(v) for v in state.model.context.values())


# ----- the text face --------------------------------------------------------------------
@pytest.mark.parametrize("key", KEYS)
def test_rules_in_both_framings_name_the_fields_budget_and_goals(key):
    w = world(key)
    story, plain = DesignText(w, story=True).rules(), DesignText(w, story=False).rules()
    assert story != plain
    for text in (story, plain):
        assert all(n in text for n in w.model.design_space.names)
        assert f"{w.params.budget} experiments" in text
        assert all(g.description in text for g in w.model.goals)


@pytest.mark.parametrize("key", KEYS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_formatted_designs_and_answers_parse_back(key, seed):
    w = _WORLDS.setdefault(key, world(key))
    face, rng = DesignText(w), np.random.default_rng(seed)
    design = w.model.sample_designs(rng, 1)[0]
    assert np.array_equal(face.parse_design(face.format_design(design)), design)
    schema = face.design_schema()
    assert schema["required"] == list(w.model.design_space.names)
    for goal in w.model.goals:
        answer = rng.normal(size=len(goal.answer_names))
        assert np.allclose(face.parse_answer(goal, face.format_answer(goal, answer)), answer)


@settings(max_examples=200, deadline=None)
@given(reply=st.one_of(st.text(max_size=80), st.builds(
    json.dumps, st.dictionaries(st.sampled_from(["x", "y", "explanation", "z"]),
                                st.one_of(st.none(), st.booleans(), st.integers(),
                                          st.floats(), st.text(max_size=10)), max_size=3))))
def test_junk_replies_raise_only_typed_errors(reply):
    w = _WORLDS.setdefault("linear_gaussian", world())
    face = DesignText(w)
    for parse in (face.parse_design, lambda r: face.parse_answer(w.model.goals[0], r),
                  lambda r: face.parse_explanation(r, 5)):
        try:
            parse(reply)
        except (ActionParseError, IllegalActionError) as exc:
            assert str(exc)


@pytest.mark.parametrize("reply, error, words", [
    ("x = 0.5", ActionParseError, "no JSON object"),
    ('{"y": 0.5}', ActionParseError, '"x"'),
    ('{"x": "half"}', ActionParseError, "must be a number"),
    ('{"x": true}', ActionParseError, "must be a number"),
    ('{"x": NaN}', ActionParseError, "finite"),
    ('{"x": 1e999}', ActionParseError, "finite"),
    ('{"x": 1.5}', IllegalActionError, "outside"),
])
def test_design_parse_errors_say_what_is_wrong(reply, error, words):
    with pytest.raises(error, match=words):
        DesignText(world()).parse_design(reply)


def test_integer_fields_and_model_constraints_are_enforced_by_the_parser():
    face = DesignText(world("hyperbolic_discounting"))
    with pytest.raises(IllegalActionError, match="integer"):
        face.parse_design('{"immediate_reward": 1.5, "delayed_reward": 20, "delay_days": 3}')
    with pytest.raises(IllegalActionError, match="less than"):
        face.parse_design('{"immediate_reward": 30, "delayed_reward": 20, "delay_days": 3}')
    assert face.parse_design(
        '{"immediate_reward": 10.0, "delayed_reward": 20, "delay_days": 3}').tolist() == [
        10.0, 20.0, 3.0]


def test_explanation_word_limit_is_enforced():
    face = DesignText(world())
    ok = json.dumps({"explanation": " ".join(["word"] * 5)})
    assert count_words(face.parse_explanation(ok, 5)) == 5
    with pytest.raises(ActionParseError, match="6 words; the limit is 5"):
        face.parse_explanation(json.dumps({"explanation": "a b c d e f"}), 5)
    with pytest.raises(ActionParseError, match="string"):
        face.parse_explanation('{"explanation": 3}', 5)


def test_design_turn_lists_the_history_and_queries_show_the_design():
    w = world()
    face = DesignText(w)
    state = w.initial_state(np.random.default_rng(0))
    prose, schema = face.design_turn(state)
    assert "No experiments yet" in prose and "Experiment 1 of" in prose
    state, y, _ = w.experiment(state, [0.25], np.random.default_rng(1))
    prose, _ = face.design_turn(state)
    assert '1. {"x": 0.25} ->' in prose and "Experiment 2 of" in prose
    assert schema["properties"]["x"] == {"type": "number", "minimum": -1.0, "maximum": 1.0}
    goal = w.model.goals[0]
    q, s = face.query_turn(goal, np.array([0.5]))
    assert '{"x": 0.5}' in q and goal.description in q and s["required"] == ["y"]


@pytest.mark.parametrize("action", ["x", None, {"x": 1.0}, [1.0, "x", 2.0],
                                    [[10.0, 20.0, 30.0]], [10.0, 20.0]])
def test_non_numeric_or_wrong_shape_actions_are_invalid_designs(action):
    w = world("hyperbolic_discounting", budget=2)
    env = DesignEnv(w, on_invalid_action="penalty", invalid_penalty=-2.0)
    obs0, _ = env.reset(seed=1)
    obs, reward, done, truncated, info = env.step(action)
    assert (reward, done, truncated, info["invalid_actions"]) == (-2.0, False, False, 1)
    assert np.array_equal(obs["mask"], obs0["mask"])
    strict = DesignEnv(w, on_invalid_action="raise")
    strict.reset(seed=1)
    with pytest.raises(IllegalActionError, match="design"):
        strict.step(action)


def test_a_scalar_is_a_one_field_design():
    assert to_design(world(), 1.0).tolist() == [1.0]
