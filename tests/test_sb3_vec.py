"""SB3's VecEnv over agora's vector envs (agora.experiments.sb3_vec).

SB3 ships no checker for a ``VecEnv`` (its ``env_checker`` checks single Gymnasium envs),
so conformance here is SB3's own reference: every row must be, observation for
observation, SB3's ``DummyVecEnv`` over the single env ``gymnasium.make("agora/<id>")``
(same-step restarts, ``terminal_observation``, ``TimeLimit.truncated``, seeds through
``seed()``), under SB3's wrappers (``VecCheckNan``, ``VecMonitor``). The transitions are
also a hand replay of the ``NEXT_STEP`` vector env with its restart-only steps left out,
and PPO on vector rows learns Cournot's best response to a Nash firm.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv, VecCheckNan, VecMonitor

import agora.envs  # noqa: F401  (registers agora/<id>)
from agora.agents import make_agent
from agora.envs import ConfigError
from agora.experiments.sb3_vec import SB3VectorEnv, make_sb3_vec

MIXED = (0.9, 0.2, 0.5, 0.05, 0.6)  # a memory-one opponent that draws
CASES = {  # id -> (vector keywords, single-env keywords)
    "RepeatedPD-v1": ({"rounds": 6, "delta": 0.7, "opponent": MIXED, "max_invalid_actions": 2},
                      {"rounds": 6, "delta": 0.7, "max_invalid_actions": 2, "opponents": {
                          1: {"name": "memory_one", "initial": MIXED[4],
                              "table": list(MIXED[:4])}}}),
    "Cournot-v1": ({"rounds": 3, "observation_format": "flat", "reward_scale": 0.01},
                   {"rounds": 3, "observation_format": "flat", "reward_scale": 0.01}),
    "PublicGoods-v1": ({"rounds": 2}, {"rounds": 2}),
}


def _dummy(env_id: str, n: int, keywords: dict[str, Any]) -> DummyVecEnv:
    kw = dict(keywords)
    if "opponents" in kw:
        kw["opponents"] = {k: make_agent(v) for k, v in kw["opponents"].items()}
    return DummyVecEnv([lambda: gymnasium.make(f"agora/{env_id}", **kw) for _ in range(n)])


def _same(a: Any, b: Any) -> None:
    if isinstance(a, dict):
        assert sorted(a) == sorted(b)
        for key in a:
            _same(a[key], b[key])
        return
    assert np.array_equal(a, b) and np.asarray(a).dtype == np.asarray(b).dtype


@pytest.mark.parametrize("env_id", sorted(CASES))
def test_rows_are_sb3s_dummy_vec_env_over_the_single_env(env_id: str) -> None:
    n, steps = 5, 40
    vec_kw, single_kw = CASES[env_id]
    ours, ref = make_sb3_vec(env_id, n, **vec_kw), _dummy(env_id, n, single_kw)
    assert ours.seed(7) == ref.seed(7) == [7, 8, 9, 10, 11]
    _same(ours.reset(), ref.reset())
    assert [i["seed"] for i in ours.reset_infos] == [i["seed"] for i in ref.reset_infos]
    rng, done, cut = np.random.default_rng(3), 0, 0
    top = ours.action_space.n + (env_id == "RepeatedPD-v1")  # 2: invalid, truncates at 2
    for _ in range(steps):
        actions = rng.integers(0, top, n)
        obs, rew, dones, infos = ours.step(actions)
        robs, rrew, rdones, rinfos = ref.step(actions)
        _same(obs, robs)
        _same(rew, rrew)
        _same(dones, rdones)
        for mine, theirs, d in zip(infos, rinfos, dones, strict=True):
            assert mine["TimeLimit.truncated"] == theirs["TimeLimit.truncated"]
            assert ("terminal_observation" in mine) == d == ("terminal_observation" in theirs)
            if d:
                _same(mine["terminal_observation"], theirs["terminal_observation"])
                cut += mine["TimeLimit.truncated"]
        done += int(dones.sum())
    assert done >= n  # every row crossed an episode boundary
    assert cut > 0 or env_id != "RepeatedPD-v1"  # the invalid-action cap truncated some
    ours.seed(7)
    _same(ours.reset(), ref.reset())  # the unseeded ref restarts at the same first obs


def test_transitions_are_the_vector_env_without_its_restart_steps() -> None:
    """A hand replay of the NEXT_STEP vector env: where rows finished, the vector env's
    next step only restarts them (reward 0, actions ignored) and returns the observation
    the adapter returned at once; skipping it, the two run in lockstep."""
    kw = {"rounds": 2, "observation_format": "flat"}
    ours = make_sb3_vec("Cournot-v1", 4, **kw)
    plain = gymnasium.make_vec("agora/Cournot-v1", num_envs=4,
                               vectorization_mode="vector_entry_point", **kw)
    ours.seed(0)
    obs = ours.reset()
    _same(obs, plain.reset(seed=0)[0])
    rng = np.random.default_rng(1)
    for _ in range(9):
        actions = rng.integers(0, 81, 4)
        obs, rew, dones, infos = ours.step(actions)
        pobs, prew, term, trunc, _ = plain.step(actions)
        _same(rew, prew.astype(np.float32))
        _same(dones, term | trunc)
        if dones.any():
            assert all(np.array_equal(infos[i]["terminal_observation"], pobs[i])
                       for i in range(4))
            pobs, prew, term, trunc, _ = plain.step(rng.integers(0, 81, 4))
            assert not prew.any() and not (term | trunc).any()
        _same(obs, pobs)


def test_sb3_wrappers_see_valid_rows_and_count_episodes() -> None:
    """VecCheckNan raises on NaN or inf; VecMonitor's episodes are the rounds' rewards."""
    envs = VecMonitor(VecCheckNan(make_sb3_vec("Cournot-v1", 3, rounds=2,
                                               observation_format="flat"),
                                  raise_exception=True))
    envs.seed(0)
    obs = envs.reset()
    space = envs.observation_space
    assert obs.shape == (3, *space.shape) and all(space.contains(o) for o in obs)
    total = np.zeros(3)
    for _ in range(2):
        obs, rew, dones, infos = envs.step(np.array([40, 20, 0]))
        total += rew
        assert all(space.contains(o) for o in obs)
    assert dones.all()
    assert [i["episode"]["r"] for i in infos] == pytest.approx(total.tolist(), rel=1e-6)
    assert [i["episode"]["l"] for i in infos] == [2, 2, 2]


def test_attributes_refusals_and_self_play_seeds() -> None:
    envs = make_sb3_vec("PublicGoods-v1", 8, rounds=1, self_play=True)  # 2 games of 4
    assert envs.num_envs == 8 and envs.get_attr("render_mode") == [None] * 8
    assert envs.env_is_wrapped(gymnasium.Wrapper, indices=[0, 1]) == [False, False]
    envs.seed(5)
    envs.reset()
    assert [i["seed"] for i in envs.reset_infos] == [5] * 4 + [9] * 4  # a game's first row
    with pytest.raises(ConfigError, match="indices=\\[0\\]"):
        envs.set_attr("x", 1, indices=[0])
    envs.set_options({"foo": 1})
    with pytest.raises(ConfigError, match="options=\\{'foo': 1\\}"):
        envs.reset()
    with pytest.raises(ConfigError, match="venv=DummyVecEnv"):
        SB3VectorEnv(_dummy("Cournot-v1", 1, {}))
    assert envs.env_method("close") == [None] * 8  # called once on the shared env


@pytest.mark.slow
def test_ppo_on_cournot_vector_rows_learns_the_nash_quantity() -> None:
    """PPO on 256 Cournot rows (one round, a Nash rival playing 40 of 0..80): the best
    response to 40 is (130 - 10 - 40) / 2 = 40 at the defaults; the untrained policy plays
    something else, the trained one plays 40 in every row after 8,192 env steps."""
    from stable_baselines3 import PPO

    from agora.envs import make_game

    nash = make_game("Cournot-v1", {"rounds": 1, "q_max": 80})[0].benchmark().values[
        "nash_action"]
    envs = make_sb3_vec("Cournot-v1", 256, rounds=1, q_max=80, observation_format="flat",
                        reward_scale=0.000625)
    model = PPO("MlpPolicy", envs, n_steps=4, batch_size=256, n_epochs=4, learning_rate=1e-2,
                ent_coef=0.0, policy_kwargs={"net_arch": [32]}, seed=0, device="cpu")
    envs.seed(1)
    obs = envs.reset()
    assert abs(model.predict(obs, deterministic=True)[0].mean() - nash) > 5
    model.learn(8192)
    assert model.num_timesteps == 8192
    envs.seed(1)
    played = model.predict(envs.reset(), deterministic=True)[0]
    assert nash == 40 and played.tolist() == [nash] * 256


TRAIN = {"name": "v", "env": "Cournot-v1", "params": {"rounds": 1, "q_max": 80},
         "vectorized": True, "n_envs": 64, "total_timesteps": 256, "eval_episodes": 0,
         "hyperparameters": {"n_steps": 4, "batch_size": 64, "n_epochs": 1}}


@pytest.mark.parametrize(("changes", "message"), [
    ({"env": "Ultimatum-v1", "params": {}},
     "vectorized: env_id='Ultimatum-v1' has no vectorised rules; vectorised games: "),
    ({"opponents": {"player_1": "random"}},
     "vectorized: opponents.player_1: 'random' is not a 'cournot_nash'"),
    ({"env": "RepeatedPD-v1", "params": {}, "observation_format": "flat"},
     "vectorized: observation_format='flat'"),
    ({"env": "RepeatedPD-v1", "params": {}, "observation_format": "dict",
      "opponents": {"player_1": "llm"}}, "vectorized: opponents.player_1: 'llm' is not a "
                                          "memory-one strategy"),
    ({"backend": "rllib", "hyperparameters": {}}, "vectorized: true needs the sb3 backend"),
])
def test_bad_vectorized_configs_are_config_errors_naming_the_key(changes: dict[str, Any],
                                                                 message: str) -> None:
    from agora.experiments.train import parse_train_config

    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_train_config({**TRAIN, **changes})


def test_vectorized_configs_give_the_fixed_seats_as_data() -> None:
    from agora.agents.group_rule import group_rule_of
    from agora.agents.memory_one import memory_one_of
    from agora.experiments.train import parse_train_config
    from agora.experiments.train_sb3 import vector_opponent

    pd_cfg = parse_train_config({**TRAIN, "env": "RepeatedPD-v1", "params": {},
                                 "observation_format": "dict", "learners": ["player_1"],
                                 "opponents": {"player_0": "grim_trigger"}})
    assert vector_opponent(pd_cfg).tolist() == memory_one_of(
        "grim_trigger").probabilities().tolist()
    assert vector_opponent(parse_train_config(TRAIN)) is None  # the id's default: Nash firm
    pg = parse_train_config({**TRAIN, "env": "PublicGoods-v1", "params": {"rounds": 1},
                             "opponents": {"player_2": "fixed_contributor"}})
    rows = vector_opponent(pg)
    assert [r.tolist() for r in rows] == [
        group_rule_of(s).row().tolist()
        for s in ("conditional_cooperator", "fixed_contributor", "conditional_cooperator")]


def test_agora_train_runs_sb3_on_the_vector_rows(tmp_path: Any) -> None:
    """``vectorized: true``: 64 rows behind the adapter and VecMonitor, so SB3 logs its
    episode returns (one-round episodes: 64 per rollout of 4 steps x 64 rows)."""
    from agora.experiments.train import parse_train_config, run_training
    from agora.experiments.train_sb3 import vec_env

    cfg = parse_train_config(TRAIN)
    envs = vec_env(cfg, seed=3)
    assert isinstance(envs.unwrapped, SB3VectorEnv) and envs.num_envs == 64
    envs.reset()
    assert [i["seed"] for i in envs.unwrapped.reset_infos] == list(range(3, 67))
    summary = run_training(cfg, tmp_path / "run", progress=False)
    lengths = summary.curves[summary.curves["metric"] == "rollout/ep_len_mean"]
    assert not lengths.empty and (lengths["value"] == 1.0).all()
    assert summary.checkpoints[0].is_file()
