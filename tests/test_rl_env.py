"""The Gymnasium view as RL libraries meet it: SB3's make_vec_env and check_env, action
masks, observation formats, the reward scale, and opponents given every way (issue 14)."""

from __future__ import annotations

import json
from typing import Any

import gymnasium
import numpy as np
import pytest
from stable_baselines3.common.env_checker import check_env
from stable_baselines3.common.env_util import make_vec_env

from agora.agents import AgentSpec, make_agent
from agora.agents.oligopoly import CournotNash
from agora.envs import (
    ConfigError,
    GameOverError,
    all_specs,
    make_game,
    make_gym,
    task_spec,
)
from agora.envs.errors import RenderModeError
from agora.experiments.cli import main as cli_main

GAME_IDS = [s.id for s in all_specs() if not s.is_task]
TASK_IDS = [s.id for s in all_specs() if s.is_task]


# ----- SB3 meets the shells ------------------------------------------------------------
def test_rgb_array_is_refused_as_sb3_expects() -> None:
    """SB3's make_vec_env asks for rgb_array and retries without it on a TypeError."""
    with pytest.raises(RenderModeError, match="render_mode='rgb_array'") as caught:
        gymnasium.make("agora/Cournot-v1", render_mode="rgb_array")
    assert isinstance(caught.value, TypeError) and isinstance(caught.value, ConfigError)
    for env_id in ("KGKarate-v1", "Bargaining-v1"):
        with pytest.raises(TypeError):
            gymnasium.make(f"agora/{env_id}", render_mode="rgb_array")


@pytest.mark.parametrize("env_id", ["Cournot-v1", "Bargaining-v1", "Ultimatum-v1",
                                    "PublicGoods-v1", "KGKarate-v1"])
def test_make_vec_env_builds_and_steps(env_id: str) -> None:
    vec = make_vec_env(f"agora/{env_id}", n_envs=2, seed=0)
    obs = vec.reset()
    assert vec.render_mode is None
    for _ in range(3):
        action = np.array([vec.action_space.sample() for _ in range(2)])
        obs, rewards, dones, infos = vec.step(action)
    assert rewards.shape == (2,) and dones.shape == (2,)
    assert set(obs) == set(vec.observation_space.spaces)


@pytest.mark.parametrize("env_id", GAME_IDS)
@pytest.mark.parametrize("observation_format", ["dict", "flat"])
def test_sb3_check_env_passes_for_every_game(env_id: str, observation_format: str) -> None:
    env = gymnasium.make(f"agora/{env_id}", observation_format=observation_format).unwrapped
    check_env(env, warn=False)


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_sb3_check_env_passes_for_every_task(task_id: str) -> None:
    # small budgets and particle counts: the check steps each world many times
    small = ({"budget": 2, "n_particles": 64, "eig_outer": 16, "eig_inner": 16, "n_candidates": 2,
              "n_eval": 2} if task_spec(task_id).family == "design" else {})
    check_env(gymnasium.make(f"agora/{task_id}", **small).unwrapped, warn=False)


# ----- masks, formats, reward scale ----------------------------------------------------
def test_action_masks_follow_the_turn() -> None:
    env = make_gym("Bargaining-v1", granularity=10)
    with pytest.raises(GameOverError):
        env.action_masks()
    obs, _ = env.reset(seed=0)
    assert env.action_masks().dtype == bool
    assert env.action_masks().tolist() == [True] * 11  # proposing: keep 0..10
    assert (env.action_masks() == obs["action_mask"].astype(bool)).all()
    obs, *_ = env.step(10)  # the SPE bargainer rejects; it proposes; we respond
    assert env.action_masks().tolist() == [True, True] + [False] * 9
    assert (env.action_masks() == obs["action_mask"].astype(bool)).all()


def test_observation_formats_carry_the_same_numbers() -> None:
    envs = {f: make_gym("Bargaining-v1", observation_format=f) for f in ("dict", "flat", "rllib")}
    obs = {f: e.reset(seed=4)[0] for f, e in envs.items()}
    base = obs["dict"]
    assert np.array_equal(obs["flat"], np.concatenate([base["observation"],
                                                       base["action_mask"]]))
    assert obs["flat"].dtype == np.float32 and envs["flat"].observation_space.contains(obs["flat"])
    assert set(obs["rllib"]) == {"observations", "action_mask"}
    assert np.array_equal(obs["rllib"]["observations"], base["observation"])
    assert obs["rllib"]["action_mask"].dtype == np.float32
    assert envs["rllib"].observation_space.contains(obs["rllib"])
    with pytest.raises(ConfigError, match="observation_format='nested'"):
        make_gym("Bargaining-v1", observation_format="nested")


def test_reward_scale_scales_the_rl_reward_only() -> None:
    rewards = {}
    for scale in (1.0, 1 / 1600):
        env = make_gym("Cournot-v1", rounds=2, reward_scale=scale)
        env.reset(seed=0)
        _, reward, _, _, info = env.step(40)
        rewards[scale] = (reward, info["payoff"])
    assert rewards[1.0] == (1600.0, 1600.0)  # (130 - 80 - 10) * 40 against Nash 40
    assert rewards[1 / 1600] == (1.0, 1600.0)
    for bad in (0, -1.0, float("nan"), "1"):
        with pytest.raises(ConfigError, match="reward_scale"):
            make_gym("Cournot-v1", reward_scale=bad)


# ----- opponents -----------------------------------------------------------------------
@pytest.mark.parametrize("opponent", ["cournot_nash", {"name": "cournot_nash"},
                                      AgentSpec("cournot_nash"), make_agent("cournot_nash"),
                                      CournotNash()])
@pytest.mark.parametrize("seat", [1, "player_1"])
def test_opponents_as_names_specs_or_agents_keyed_by_index_or_name(opponent: Any,
                                                                   seat: Any) -> None:
    env = make_gym("Cournot-v1", opponents={seat: opponent}, a=100.0)
    assert isinstance(env.opponents[1], CournotNash)
    assert env.opponents[1] is not opponent  # its own instance
    env.reset(seed=0)
    _, _, _, _, info = env.step(30)
    # built against this env's game (a = 100): Nash (100 - 10) / 3 = 30, so 30 earns
    # (100 - 60 - 10) * 30 = 900; the default game's Nash 40 would pay 600
    assert info["payoff"] == 900.0


def test_the_gymnasium_view_seats_the_opponent_agora_list_names(capsys) -> None:
    assert cli_main(["list", "--json"]) == 0
    listed = {e["id"]: e["default opponent"] for e in json.loads(capsys.readouterr().out)["envs"]}
    assert listed["Cournot-v1"] == "cournot_nash"
    env = gymnasium.make("agora/Cournot-v1").unwrapped
    assert isinstance(env.opponents[1], CournotNash)
    seats = gymnasium.make("agora/GleePersuasion-v1", player=1).unwrapped.opponents
    assert type(seats[0]).__name__ == "GleePersuasionOptimalSeller"
    assert listed["GleePersuasion-v1"] == ("player_0: glee_persuasion_optimal_seller, "
                                           "player_1: glee_bayesian_buyer")


@pytest.mark.parametrize(("opponents", "match"), [
    ({"player_1": "no_such_agent"}, "unknown agent 'no_such_agent'"),
    ({"player_7": "random"}, "opponents key 'player_7'"),
    ({0: "random"}, "opponents key 0"),  # the learner's own seat
    ({"player_01": "random"}, "opponents key 'player_01'"),
    ({1: "random", "player_1": "random"}, "player_1 is given twice"),
    ({1: {"name": "cournot_nash", "speed": 2}}, "no parameter"),
    ({1: "always_defect"}, "always_defect"),  # an agent of another game
    ({1: None}, "no opponent given"),
    (["random"], "want a mapping"),
])
def test_bad_opponents_fail_at_construction(opponents: Any, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        make_gym("Cournot-v1", opponents=opponents)


def test_a_text_agent_opponent_plays_through_the_text_face_repeatably() -> None:
    """A text agent (here the random answerer of the text face) is an opponent like any
    other: its answers are parsed into legal actions, and a seed replays them."""
    def episode(seed: int) -> list[Any]:
        env = make_gym("Cournot-v1", opponents={1: "random_text"}, params={"rounds": 3})
        env.reset(seed=seed)
        out = []
        for _ in range(3):
            _, _, done, _, info = env.step(40)
            out.append(info["payoff"])
        assert done
        return out

    assert episode(4) == episode(4) and len(set(episode(4) + episode(5))) > 1


def test_each_sub_env_has_its_own_opponent() -> None:
    """One agent object given to a vector env: every sub-env plays a copy of it."""
    agent = make_agent("fictitious_play")
    vec = make_vec_env("agora/RepeatedPD-v1", n_envs=3,
                       env_kwargs={"opponents": {1: agent}})
    seats = [e.unwrapped.opponents[1] for e in vec.envs]
    assert len({id(s) for s in [agent, *seats]}) == 4


class _Recorder:
    """A plain policy (no agent_spec): deep-copied, and told its rewards."""

    def __init__(self) -> None:
        self.heard: list[tuple[float, bool]] = []

    def act(self, obs: Any) -> int:
        return 0  # cooperate

    def observe(self, reward: float, done: bool) -> None:
        self.heard.append((reward, done))


def test_opponents_hear_their_rewards_like_in_agora_run() -> None:
    game, _ = make_game("RepeatedPD-v1", {"rounds": 3})
    env = make_gym("RepeatedPD-v1", rounds=3, opponents={1: _Recorder()})
    env.reset(seed=0)
    for mine in (1, 0, 1):
        env.step(mine)
    expected = [game.stage_payoffs((a, 0))[1] for a in (1, 0, 1)]
    assert env.opponents[1].heard == [(r, i == 2) for i, r in enumerate(expected)]


@pytest.mark.slow
def test_rllibs_action_masking_module_reads_the_rllib_format() -> None:
    """RLlib's example masking module takes the rllib format as it is: the illegal
    actions' logits are pushed to FLOAT_MIN (importing RLlib takes ~10 s here)."""
    import torch
    from ray.rllib.core.columns import Columns
    from ray.rllib.examples.rl_modules.classes.action_masking_rlm import (
        ActionMaskingTorchRLModule,
    )
    from ray.rllib.utils.torch_utils import FLOAT_MIN

    env = make_gym("Bargaining-v1", granularity=10, observation_format="rllib")
    env.reset(seed=0)
    obs, *_ = env.step(10)  # rejected; the SPE bargainer offers; we respond: 2 legal actions
    module = ActionMaskingTorchRLModule(
        observation_space=env.observation_space, action_space=env.action_space,
        model_config={"fcnet_hiddens": [8], "head_fcnet_hiddens": [8]})
    batch = {Columns.OBS: {k: torch.as_tensor(v)[None] for k, v in obs.items()}}
    logits = module.forward_inference(batch)[Columns.ACTION_DIST_INPUTS][0]
    assert (logits[2:] == FLOAT_MIN).all() and (logits[:2] > FLOAT_MIN).all()
    assert env.action_masks().tolist() == [True, True] + [False] * 9
