"""Conformance of every registered id with PettingZoo, Gymnasium and agora's own contract.

Every test here is parametrised over ``agora.envs.specs()`` (or the part of it with one
timing), so a newly registered environment is covered without editing this file. Beyond
PettingZoo's own checks we close the gaps listed in ``shared/reference/ecosystem.md``:
``parallel_api_test`` never checks observations against the space (we also run
``api_test`` on the AEC conversion and check every observation ourselves) and
``parallel_seed_test`` checks one step only (we compare whole seeded episodes).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, seed_test

import agora.envs
from agora.agents import make_agent
from agora.envs import (
    ActionParseError,
    AECGameEnv,
    ConfigError,
    GameOverError,
    IllegalActionError,
    ParallelGameEnv,
    SinglePlayerEnv,
    Status,
    Timing,
    UnknownIdError,
    make,
    make_game,
    make_gym,
    spec,
    specs,
)
from agora.experiments import play_episode

ALL_IDS = [s.id for s in specs()]
SEQUENTIAL_IDS = [s.id for s in specs() if s.timing is Timing.SEQUENTIAL]
SIMULTANEOUS_IDS = [s.id for s in specs() if s.timing is Timing.SIMULTANEOUS]

# PettingZoo's advisory warnings about Dict observations are expected for masked envs.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Observation space for each agent probably should be:UserWarning",
    "ignore:Observation is not a NumPy array:UserWarning",
    "ignore:Observation numpy array is all zeros:UserWarning",
    "ignore:.*render fps.*:UserWarning",
)

NUM_CYCLES = 200


def _is_sequential(env_id: str) -> bool:
    return spec(env_id).timing is Timing.SEQUENTIAL


def _pick(mask: np.ndarray, rng: np.random.Generator) -> int:
    """A uniformly random legal action of a (bool or int8) mask."""
    legal = np.flatnonzero(mask)
    assert legal.size > 0, "a mover must have at least one legal action"
    return int(rng.choice(legal))


def _illegal_candidates(game: Any, state: Any, player: int) -> list[Any]:
    """Actions a shell must refuse: wrong types, out of range, masked-out indices, and a
    text answer that is no answer (read by the text face: an ActionParseError)."""
    masked = np.flatnonzero(~game.legal_mask(state, player))
    return [-1, game.num_actions, None, "0", 0.5, True, *masked[:2].tolist()]


# ----- PettingZoo's own test suite ---------------------------------------------------
@pytest.mark.parametrize("env_id", ALL_IDS)
def test_pettingzoo_api(env_id: str) -> None:
    if _is_sequential(env_id):
        env = make(env_id)
        assert isinstance(env, AECGameEnv)
        api_test(env, num_cycles=NUM_CYCLES)
    else:
        env = make(env_id)
        assert isinstance(env, ParallelGameEnv)
        parallel_api_test(env, num_cycles=NUM_CYCLES)
        # parallel_api_test never checks observations against the space; api_test does.
        api_test(make(env_id, api="aec"), num_cycles=NUM_CYCLES)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_pettingzoo_seed(env_id: str) -> None:
    if _is_sequential(env_id):
        seed_test(lambda: make(env_id), num_cycles=NUM_CYCLES)
    else:
        parallel_seed_test(lambda: make(env_id), num_cycles=NUM_CYCLES)


# ----- Gymnasium -----------------------------------------------------------------------
@pytest.mark.parametrize("env_id", ALL_IDS)
def test_gymnasium_check_env(env_id: str) -> None:
    check_env(gymnasium.make(spec(env_id).gym_id).unwrapped)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_gymnasium_make_registered_id(env_id: str) -> None:
    gym_id = spec(env_id).gym_id
    assert gym_id == f"agora/{env_id}"
    assert gym_id in gymnasium.registry
    env = gymnasium.make(gym_id)
    assert isinstance(env.unwrapped, SinglePlayerEnv)
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    action = _pick(obs["action_mask"], np.random.default_rng(0))
    obs, reward, terminated, truncated, info = env.step(action)
    assert env.observation_space.contains(obs)
    assert isinstance(reward, float)
    env.close()


def test_make_rejects_unknown_ids_and_apis() -> None:
    with pytest.raises(UnknownIdError, match="Nope-v0"):
        make("Nope-v0")
    with pytest.raises(gymnasium.error.NameNotFound):
        gymnasium.make("agora/Nope-v0")  # only registered ids reach gymnasium's registry
    assert spec(f"agora/{ALL_IDS[0]}").id == ALL_IDS[0]


@pytest.mark.parametrize("env_id", SEQUENTIAL_IDS)
def test_turn_based_game_has_no_parallel_api(env_id: str) -> None:
    with pytest.raises(ConfigError, match="turn-based"):
        make(env_id, api="parallel")


@pytest.mark.parametrize("env_id", SIMULTANEOUS_IDS)
def test_simultaneous_game_rejects_unknown_api(env_id: str) -> None:
    with pytest.raises(ConfigError, match="api"):
        make(env_id, api="bogus")


@pytest.mark.parametrize("env_id", SEQUENTIAL_IDS)
def test_turn_based_game_rejects_unknown_api(env_id: str) -> None:
    with pytest.raises(ConfigError, match="api"):
        make(env_id, api="bogus")


# ----- observations in the space, masks equal to the rules -----------------------------
def _check_obs(space: gymnasium.Space, obs: dict, game: Any, state: Any, player: int) -> None:
    assert space.contains(obs), f"observation {obs} is not in {space}"
    assert obs["action_mask"].dtype == np.int8
    np.testing.assert_array_equal(obs["action_mask"].astype(bool), game.legal_mask(state, player))
    np.testing.assert_array_equal(obs["observation"], game.encode(state, player))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("env_id", SEQUENTIAL_IDS)
def test_aec_observations_in_space_and_masks_match(env_id: str, seed: int) -> None:
    env = make(env_id)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    steps = 0
    for agent in env.agent_iter(max_iter=10_000):
        obs, _, term, trunc, _ = env.last()
        player = env.possible_agents.index(agent)
        for other in env.agents:  # every live agent's observation, not only the mover's
            _check_obs(
                env.observation_space(other),
                env.observe(other),
                env.game,
                env.state_,
                env.possible_agents.index(other),
            )
        _check_obs(env.observation_space(agent), obs, env.game, env.state_, player)
        env.step(None if term or trunc else _pick(obs["action_mask"], rng))
        steps += 1
    assert not env.agents and steps > 0


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("env_id", SIMULTANEOUS_IDS)
def test_parallel_observations_in_space_and_masks_match(env_id: str, seed: int) -> None:
    env = make(env_id)
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    while env.agents:
        for a, o in obs.items():
            _check_obs(env.observation_space(a), o, env.game, env.state_, env._index[a])
        actions = {a: _pick(obs[a]["action_mask"], rng) for a in env.agents}
        obs, *_ = env.step(actions)
    for a, o in obs.items():  # the final observations too
        _check_obs(env.observation_space(a), o, env.game, env.state_, env._index[a])
    assert env.game.status(env.state_) is not Status.RUNNING


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_gym_observations_in_space_and_masks_match(env_id: str) -> None:
    n = make_game(env_id)[0].num_players
    for player in range(n):
        env = make_gym(env_id, player=player)
        rng = np.random.default_rng(player)
        obs, _ = env.reset(seed=player)
        done = False
        while not done:
            _check_obs(env.observation_space, obs, env.game, env.state_, player)
            obs, reward, term, trunc, info = env.step(_pick(obs["action_mask"], rng))
            done = term or trunc
        _check_obs(env.observation_space, obs, env.game, env.state_, player)
        assert "returns" in info and "metrics" in info
        assert len(info["returns"]) == n


# ----- bad input ----------------------------------------------------------------------
def _aec_snapshot(env: AECGameEnv) -> tuple:
    return (
        env.state_,
        env.agent_selection,
        list(env.agents),
        dict(env.rewards),
        dict(env._cumulative_rewards),
        dict(env.terminations),
        dict(env.truncations),
    )


def _aec_rollout(env_id: str, seed: int, probe_illegal: bool) -> list[tuple]:
    """A seeded random AEC episode; with ``probe_illegal`` every turn first tries illegal
    actions, which must raise and leave everything (rng included) unchanged."""
    env = make(env_id)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    trace = []
    for agent in env.agent_iter(max_iter=10_000):
        obs, rew, term, trunc, _ = env.last()
        trace.append(
            (agent, obs["observation"].tolist(), obs["action_mask"].tolist(), rew, term, trunc)
        )
        if term or trunc:
            env.step(None)
            continue
        if probe_illegal:
            player = env.possible_agents.index(agent)
            for bad in _illegal_candidates(env.game, env.state_, player):
                before = _aec_snapshot(env)
                with pytest.raises((IllegalActionError, ActionParseError)):
                    env.step(bad)
                assert _aec_snapshot(env) == before, f"illegal {bad!r} changed the env"
        env.step(_pick(obs["action_mask"], rng))
    return trace


@pytest.mark.parametrize("env_id", SEQUENTIAL_IDS)
def test_aec_illegal_actions_raise_and_change_nothing(env_id: str) -> None:
    for seed in range(3):
        assert _aec_rollout(env_id, seed, probe_illegal=True) == _aec_rollout(
            env_id, seed, probe_illegal=False
        )


def _parallel_rollout(env_id: str, seed: int, probe_illegal: bool, **params: Any) -> list:
    env = make(env_id, **params)
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed + 1000)
    trace: list = [{a: o["observation"].tolist() for a, o in obs.items()}]
    while env.agents:
        actions = {a: _pick(obs[a]["action_mask"], rng) for a in env.agents}
        if probe_illegal:
            first = env.agents[0]
            for bad in _illegal_candidates(env.game, env.state_, env._index[first]):
                before = (env.state_, list(env.agents))
                with pytest.raises((IllegalActionError, ActionParseError)):
                    env.step({**actions, first: bad})
                assert (env.state_, list(env.agents)) == before
            missing = dict(actions)
            del missing[env.agents[-1]]
            with pytest.raises(IllegalActionError, match=env.agents[-1]):
                env.step(missing)
        obs, rew, term, trunc, _ = env.step(actions)
        trace.append(
            (
                {a: o["observation"].tolist() for a, o in obs.items()},
                {a: o["action_mask"].tolist() for a, o in obs.items()},
                rew,
                term,
                trunc,
            )
        )
    return trace


@pytest.mark.parametrize("env_id", SIMULTANEOUS_IDS)
def test_parallel_illegal_or_missing_actions_raise_and_change_nothing(env_id: str) -> None:
    for seed in range(3):
        assert _parallel_rollout(env_id, seed, probe_illegal=True) == _parallel_rollout(
            env_id, seed, probe_illegal=False
        )


@pytest.mark.parametrize("env_id", SIMULTANEOUS_IDS)
def test_parallel_numpy_integer_actions_are_accepted(env_id: str) -> None:
    env_a, env_b = make(env_id), make(env_id)
    env_a.reset(seed=0)
    env_b.reset(seed=0)
    acts = {a: 0 for a in env_a.agents}
    out_a = env_a.step(acts)
    out_b = env_b.step({a: np.int64(v) for a, v in acts.items()})
    assert out_a[1] == out_b[1]
    assert env_a.state_ == env_b.state_


@pytest.mark.parametrize("env_id", SIMULTANEOUS_IDS)
def test_parallel_step_after_end_raises_game_over(env_id: str) -> None:
    env = make(env_id)
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    names = list(env.agents)
    while env.agents:
        obs, *_ = env.step({a: _pick(obs[a]["action_mask"], rng) for a in env.agents})
    with pytest.raises(GameOverError):
        env.step(dict.fromkeys(names, 0))


def _finish_aec(env: AECGameEnv, seed: int) -> None:
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for _ in env.agent_iter(max_iter=10_000):
        obs, _, term, trunc, _ = env.last()
        env.step(None if term or trunc else _pick(obs["action_mask"], rng))
    assert not env.agents


@pytest.mark.parametrize("env_id", SEQUENTIAL_IDS)
def test_aec_finished_agents_are_removed_by_none_steps(env_id: str) -> None:
    env = make(env_id)
    _finish_aec(env, seed=0)
    assert env.game.status(env.state_) is not Status.RUNNING
    assert env.rewards == {} and env.terminations == {}


@pytest.mark.parametrize("env_id", SEQUENTIAL_IDS)
def test_aec_step_after_end_raises_game_over(env_id: str) -> None:
    env = make(env_id)
    _finish_aec(env, seed=0)
    with pytest.raises(GameOverError):
        env.step(0)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_gym_step_after_end_raises_game_over(env_id: str) -> None:
    env = make_gym(env_id)
    with pytest.raises(GameOverError):
        env.step(0)  # before reset
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    done = False
    while not done:
        obs, _, term, trunc, _ = env.step(_pick(obs["action_mask"], rng))
        done = term or trunc
    with pytest.raises(GameOverError):
        env.step(_pick(np.ones(env.action_space.n), rng))


def _gym(env_id: str, **kwargs: Any) -> SinglePlayerEnv:
    game, text = make_game(env_id)
    return SinglePlayerEnv(game, text, **kwargs)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_gym_penalty_policy_pays_penalty_and_counts(env_id: str) -> None:
    env = _gym(env_id, on_invalid_action="penalty", invalid_penalty=-2.5, max_invalid_actions=3)
    obs, _ = env.reset(seed=0)
    state = env.state_
    bad = env.game.num_actions  # out of range for every game
    for count in (1, 2):
        obs2, reward, term, trunc, info = env.step(bad)
        assert reward == -2.5
        assert (term, trunc) == (False, False)
        assert info["invalid_actions"] == count and info["invalid_action"] is True
        assert env.state_ == state
        np.testing.assert_array_equal(obs2["observation"], obs["observation"])
    legal = _pick(obs["action_mask"], np.random.default_rng(0))
    _, _, term, trunc, info = env.step(legal)  # a legal move still works
    if not (term or trunc):
        assert info["invalid_actions"] == 2
    assert env.state_ != state


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_gym_penalty_policy_truncates_at_the_cap(env_id: str) -> None:
    env = _gym(env_id, on_invalid_action="penalty", max_invalid_actions=2)
    env.reset(seed=0)
    assert env.step(-1)[3] is False
    _, reward, term, trunc, info = env.step(-1)
    assert (reward, term, trunc, info["invalid_actions"]) == (-1.0, False, True, 2)
    with pytest.raises(GameOverError):
        env.step(0)
    env.reset(seed=0)  # the counter starts again
    assert env.step(-1)[4]["invalid_actions"] == 1


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_gym_final_info_keeps_illegal_action_count(env_id: str) -> None:
    env = _gym(env_id, on_invalid_action="penalty")
    obs, _ = env.reset(seed=0)
    env.step(-1)
    rng = np.random.default_rng(0)
    done = False
    while not done:
        obs, _, term, trunc, info = env.step(_pick(obs["action_mask"], rng))
        done = term or trunc
    assert info["invalid_actions"] == 1


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_gym_raise_policy_raises(env_id: str) -> None:
    env = _gym(env_id, on_invalid_action="raise")
    env.reset(seed=0)
    state = env.state_
    for bad in (-1, env.game.num_actions, None, "1"):
        with pytest.raises((IllegalActionError, ActionParseError)):
            env.step(bad)
        assert env.state_ == state


def _gym_rewards(env_id: str, player: int, probe_illegal: bool) -> list[float]:
    env = _gym(env_id, player=player, on_invalid_action="raise")
    obs, _ = env.reset(seed=3)
    rng = np.random.default_rng(3)
    rewards, done = [], False
    while not done:
        if probe_illegal:
            with pytest.raises(IllegalActionError):
                env.step(env.game.num_actions)
        obs, r, term, trunc, _ = env.step(_pick(obs["action_mask"], rng))
        rewards.append(r)
        done = term or trunc
    return rewards


def test_gym_refused_action_does_not_touch_the_random_stream() -> None:
    # Player 1 of a simultaneous game: opponent 0 moves first in to_move order.
    env_id = next(i for i in SIMULTANEOUS_IDS if make_game(i)[0].num_players >= 2)
    assert _gym_rewards(env_id, 1, probe_illegal=True) == _gym_rewards(env_id, 1, False)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_gym_illegal_action_policy_through_gymnasium_make(env_id: str) -> None:
    env = gymnasium.make(spec(env_id).gym_id, on_invalid_action="raise")
    env.reset(seed=0)
    with pytest.raises(IllegalActionError):
        env.step(-1)


def test_gym_shell_rejects_bad_configuration() -> None:
    game, text = make_game(ALL_IDS[0])
    with pytest.raises(ConfigError, match="on_invalid_action"):
        SinglePlayerEnv(game, text, on_invalid_action="ignore")
    with pytest.raises(ConfigError, match="player"):
        SinglePlayerEnv(game, text, player=game.num_players)
    with pytest.raises(ConfigError, match="render_mode"):
        SinglePlayerEnv(game, text, render_mode="human")


# ----- determinism ----------------------------------------------------------------------
@pytest.mark.parametrize("env_id", ALL_IDS)
def test_seeded_episode_repeats_exactly(env_id: str) -> None:
    """Same seed, same actions: identical observations and rewards for a whole episode
    (``parallel_seed_test`` looks at one step only)."""
    if _is_sequential(env_id):
        first = _aec_rollout(env_id, 7, probe_illegal=False)
        assert first == _aec_rollout(env_id, 7, probe_illegal=False)
    else:
        first = _parallel_rollout(env_id, 7, probe_illegal=False)
        assert first == _parallel_rollout(env_id, 7, probe_illegal=False)
    assert len(first) > 2


def test_seed_drives_chance_moves() -> None:
    """An accepted seed is not ignored: with a random end, seeds decide episode length."""
    env_id = "RepeatedPD-v1"
    lengths = {len(_parallel_rollout(env_id, s, False, delta=0.7, rounds=100)) for s in range(20)}
    assert len(lengths) > 3
    again = {len(_parallel_rollout(env_id, s, False, delta=0.7, rounds=100)) for s in range(20)}
    assert again == lengths


def _result_data(result: Any) -> dict:
    data = dict(vars(result))
    data.pop("duration_s")
    return data


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_play_episode_is_deterministic(env_id: str) -> None:
    game, text = make_game(env_id)
    results = []
    for _ in range(2):
        agents = [make_agent("random") for _ in range(game.num_players)]
        results.append(_result_data(play_episode(game, text, agents, seed=123)))
    assert results[0]["status"] == "ok"
    np.testing.assert_equal(results[0], results[1])  # NaN-aware deep equality
    assert len(results[0]["events"]["step"]) > 0
    others = []
    for seed in range(5):
        agents = [make_agent("random") for _ in range(game.num_players)]
        others.append(play_episode(game, text, agents, seed=seed).events["action"])
    assert any(o != results[0]["events"]["action"] for o in others), "seed is ignored"


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_gym_reset_seed_repeats_opponents(env_id: str) -> None:
    n = make_game(env_id)[0].num_players  # random opponents: a default may be deterministic
    randoms = {f"player_{j}": "random" for j in range(1, n)}

    def run(seed: int) -> list:
        env = make_gym(env_id, opponents=randoms)
        obs, _ = env.reset(seed=seed)
        rng = np.random.default_rng(0)
        trace, done = [], False
        while not done:
            obs, r, term, trunc, _ = env.step(_pick(obs["action_mask"], rng))
            trace.append((obs["observation"].tolist(), r))
            done = term or trunc
        return trace

    assert run(11) == run(11)
    assert any(run(s) != run(11) for s in range(5)), "the reset seed is ignored"


def test_registry_lists_every_builtin_id() -> None:
    assert {"RepeatedPD-v1", "Bargaining-v1", "PublicGoods-v1"} <= set(ALL_IDS)
    assert sorted(ALL_IDS) == ALL_IDS
    for s in specs():
        assert s.summary
        game = s.make_game()
        assert game.info.timing is s.timing
        with pytest.raises(ConfigError, match="already registered"):
            agora.envs.register(s)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_pettingzoo_penalty_policy_pays_counts_and_changes_nothing(env_id: str) -> None:
    """Under ``penalty`` an invalid action changes no state, pays only its actor, is
    counted in every agent's info, and the cap truncates the episode."""
    env = make(env_id, on_invalid_action="penalty", invalid_penalty=-2.5,
               max_invalid_actions=2)
    env.reset(seed=0)
    state, bad = env.state_, env.game.num_actions  # out of range for every game
    if isinstance(env, AECGameEnv):
        actor = env.agent_selection
        env.step(bad)
        assert env.state_ == state and env.agent_selection == actor
        assert env.rewards == {a: -2.5 if a == actor else 0.0 for a in env.agents}
        assert env.infos[actor] == {"invalid_action": True, "invalid_actions": 1}
        env.step(-1)
        assert all(env.truncations.values()) and env._cumulative_rewards[actor] == -2.5
        return
    actor, other = env.agents[0], env.agents[-1]
    legal = {a: _pick(env._faces.obs(env.state_, env._index[a])["action_mask"],
                      np.random.default_rng(0)) for a in env.agents}
    _, rew, term, trunc, infos = env.step({**legal, actor: bad})
    assert env.state_ == state and rew[actor] == -2.5
    assert rew[other] == (0.0 if other != actor else -2.5)
    assert infos[actor] == {"invalid_action": True, "invalid_actions": 1}
    assert not any(term.values()) and not any(trunc.values())
    missing = {a: x for a, x in legal.items() if a != other}
    _, rew, _, trunc, _ = env.step(missing)  # a missing action is invalid too
    assert rew[other] == -2.5 and all(trunc.values()) and env.agents == []


@pytest.mark.parametrize("policy", [{"on_invalid_action": "ignore"},
                                    {"invalid_penalty": float("nan")},
                                    {"max_invalid_actions": 0}])
def test_a_bad_invalid_policy_is_a_config_error(policy: dict[str, Any]) -> None:
    for build in (make, make_gym):
        with pytest.raises(ConfigError, match=next(iter(policy))):
            build("RepeatedPD-v1", **policy)
