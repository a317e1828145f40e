"""Vector envs (agora.envs.vector): each row replays exactly through the single env.

Random action streams, with invalid actions mixed in, go through a vector env and through
``B`` registered single envs reset with the seeds the one rule gives row ``i``
(``seed + i``); observations, rewards, terminations and truncations must be identical at
every step, restarts included (Gymnasium's NEXT_STEP autoreset).
"""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import agora.envs
from agora.agents import make_agent
from agora.envs import ConfigError, IllegalActionError
from agora.envs.games.repeated_matrix import RepeatedMatrixGame
from agora.envs.vector import MatrixSelfPlayVectorEnv, MatrixVectorEnv, make_vec

ID = "agora/RepeatedPD-v1"
MIXED = (0.9, 0.2, 0.5, 0.05, 0.6)  # a stochastic memory-one opponent: it draws
B, T, SEED = 6, 45, 11


def _actions(rng: np.random.Generator, n: int, invalid: float) -> np.ndarray:
    """Random 0/1 actions with a share of invalid ones (2 or -1)."""
    a = rng.integers(0, 2, n)
    bad = rng.random(n) < invalid
    return np.where(bad, rng.choice([-1, 2], n), a)


def _singles(opponent: tuple[float, ...], player: int, **params: object) -> list:
    opp = {"name": "memory_one", "initial": opponent[4], "table": list(opponent[:4])}
    return [gymnasium.make(ID, player=player, opponents={1 - player: make_agent(opp)},
                           max_invalid_actions=3, **params) for _ in range(B)]


def _same_obs(vec_obs: dict, row: int, obs: dict) -> None:
    assert np.array_equal(vec_obs["observation"][row], obs["observation"])
    assert np.array_equal(vec_obs["action_mask"][row], obs["action_mask"])
    assert vec_obs["observation"].dtype == obs["observation"].dtype


@pytest.mark.parametrize(("opponent", "player", "params"), [
    ((1.0, 0.0, 1.0, 0.0, 1.0), 0, {"rounds": 4}),
    (MIXED, 0, {"rounds": 5}),
    (MIXED, 1, {"rounds": 6, "delta": 0.8}),
    ((1.0, 0.0, 0.0, 1.0, 0.0), 1, {"rounds": 3, "delta": 0.5}),
])
def test_rows_replay_through_the_single_env(opponent, player, params) -> None:
    vec = MatrixVectorEnv(RepeatedMatrixGame(params), B, player, opponent,
                          max_invalid_actions=3)
    singles = _singles(opponent, player, **params)
    vobs, info = vec.reset(seed=SEED)
    assert info["seed"].tolist() == [SEED + i for i in range(B)]
    restart = [False] * B
    for i, env in enumerate(singles):
        obs, sinfo = env.reset(seed=SEED + i)
        assert sinfo["seed"] == SEED + i
        _same_obs(vobs, i, obs)
    rng = np.random.default_rng(5)
    ends = 0
    for _ in range(T):
        acts = _actions(rng, B, 0.15)
        vobs, vrew, vterm, vtrunc, _ = vec.step(acts)
        for i, env in enumerate(singles):
            if restart[i]:
                obs, _ = env.reset()
                rew, term, trunc = 0.0, False, False
            else:
                obs, rew, term, trunc, _ = env.step(int(acts[i]))
            _same_obs(vobs, i, obs)
            assert (vrew[i], bool(vterm[i]), bool(vtrunc[i])) == (rew, term, trunc)
            restart[i] = term or trunc
            ends += term or trunc
    assert ends >= B  # every row crossed at least one episode boundary


def test_self_play_rows_replay_through_the_parallel_shell() -> None:
    params = {"rounds": 5, "delta": 0.75}
    vec = MatrixSelfPlayVectorEnv(RepeatedMatrixGame(params), B, max_invalid_actions=3)
    shells = [agora.envs.make("RepeatedPD-v1", on_invalid_action="penalty",
                              max_invalid_actions=3, **params) for _ in range(B)]
    vobs, _ = vec.reset(seed=SEED)
    assert vec.num_envs == 2 * B and vobs["observation"].shape == (2 * B, 6)
    for g, env in enumerate(shells):
        obs, _ = env.reset(seed=SEED + g)
        for p in (0, 1):
            _same_obs(vobs, 2 * g + p, obs[f"player_{p}"])
    rng, ends = np.random.default_rng(8), 0
    for _ in range(T):
        acts = _actions(rng, 2 * B, 0.1)
        vobs, vrew, vterm, vtrunc, _ = vec.step(acts)
        for g, env in enumerate(shells):
            if not env.agents:
                obs, _ = env.reset()
                rew = term = trunc = dict.fromkeys(obs, 0.0)
            else:
                obs, rew, term, trunc, _ = env.step(
                    {f"player_{p}": int(acts[2 * g + p]) for p in (0, 1)})
            for p in (0, 1):
                row, name = 2 * g + p, f"player_{p}"
                _same_obs(vobs, row, obs[name])
                assert (vrew[row], vterm[row], vtrunc[row]) == (rew[name], term[name],
                                                                 trunc[name])
            ends += not env.agents
    assert ends >= B


@pytest.mark.parametrize("self_play", [False, True])
def test_torch_backend_equals_numpy(self_play: bool) -> None:
    import torch
    game = RepeatedMatrixGame({"rounds": 4, "delta": 0.7})
    kw = {} if self_play else {"opponent": MIXED}
    cls = MatrixSelfPlayVectorEnv if self_play else MatrixVectorEnv
    a, b = cls(game, B, **kw), cls(game, B, backend="torch", **kw)
    oa, _ = a.reset(seed=3)
    ob, _ = b.reset(seed=3)
    rng = np.random.default_rng(1)
    for _ in range(30):
        assert np.array_equal(oa["observation"], ob["observation"].numpy())
        acts = _actions(rng, a.num_envs, 0.1)
        oa, *ra = a.step(acts)
        ob, *rb = b.step(torch.as_tensor(acts))
        for x, y in zip(ra[:3], rb[:3]):
            assert np.array_equal(x, y.numpy())


def test_gymnasium_make_vec_and_spaces() -> None:
    envs = gymnasium.make_vec(ID, num_envs=4, vectorization_mode="vector_entry_point")
    assert isinstance(envs, MatrixVectorEnv)
    assert envs.metadata["autoreset_mode"] is gymnasium.vector.AutoresetMode.NEXT_STEP
    single = gymnasium.make(ID)
    assert envs.single_observation_space == single.observation_space
    assert envs.single_action_space == single.action_space
    assert envs.action_space == gymnasium.spaces.MultiDiscrete([2] * 4)
    obs, _ = envs.reset(seed=0)
    assert envs.observation_space.contains(obs)
    obs, rew, term, trunc, _ = envs.step(envs.action_space.sample())
    assert envs.observation_space.contains(obs)
    assert rew.shape == term.shape == trunc.shape == (4,) and term.dtype == bool
    sp = gymnasium.make_vec(ID, num_envs=4, self_play=True)  # the default mode: vector
    assert isinstance(sp, MatrixSelfPlayVectorEnv) and sp.games == 2


def test_reset_seeds_replay_and_unseeded_resets_continue() -> None:
    game = RepeatedMatrixGame({"rounds": 3, "delta": 0.6})

    def run(env: MatrixVectorEnv, seed: int | None) -> list[list[float]]:
        env.reset(seed=seed)
        return [env.step(np.ones(B, np.int64))[1].tolist() for _ in range(8)]

    env = MatrixVectorEnv(game, B, opponent=MIXED)
    first, again = run(env, 4), run(env, 4)
    assert first == again
    later = run(env, None)  # continues the streams: not a replay of seed 4
    fresh = MatrixVectorEnv(game, B, opponent=MIXED)
    run(fresh, 4)
    assert run(fresh, None) == later


def test_invalid_actions_under_raise_change_nothing() -> None:
    game = RepeatedMatrixGame({"rounds": 4})
    env = MatrixVectorEnv(game, 3, on_invalid_action="raise")
    twin = MatrixVectorEnv(game, 3)
    env.reset(seed=0)
    twin.reset(seed=0)
    with pytest.raises(IllegalActionError, match="rows \\[1\\]"):
        env.step(np.array([0, 2, 1]))
    assert np.array_equal(env.step(np.array([1, 1, 0]))[1], twin.step(np.array([1, 1, 0]))[1])


@pytest.mark.parametrize("actions", [np.zeros(4, np.int64), np.zeros((3, 1), np.int64),
                                     np.array([0.0, 1.0, 0.0]), np.array([True, False, True])])
def test_actions_of_the_wrong_shape_or_dtype_raise(actions: np.ndarray) -> None:
    env = MatrixVectorEnv(RepeatedMatrixGame(), 3)
    env.reset(seed=0)
    with pytest.raises(IllegalActionError, match="shape"):
        env.step(actions)


def test_bad_configs_name_key_and_value() -> None:
    game = RepeatedMatrixGame()
    with pytest.raises(ConfigError, match="opponent="):
        MatrixVectorEnv(game, 2, opponent=(1.0, 0.0, 1.2, 0.0, 1.0))
    with pytest.raises(ConfigError, match="num_envs=0"):
        MatrixVectorEnv(game, 0)
    with pytest.raises(ConfigError, match="player=2"):
        MatrixVectorEnv(game, 2, player=2)
    with pytest.raises(ConfigError, match="backend='jax'"):
        MatrixVectorEnv(game, 2, backend="jax")
    with pytest.raises(ConfigError, match="num_envs=3"):
        make_vec(3, "RepeatedPD-v1", self_play=True)
    with pytest.raises(ConfigError, match="Bargaining-v1"):
        make_vec(3, "Bargaining-v1")
    with pytest.raises(ConfigError, match="seed"):
        MatrixVectorEnv(game, 2).reset(seed=-1)
    with pytest.raises(ConfigError, match="rounds"):
        make_vec(2, "RepeatedPD-v1", rounds=0)
