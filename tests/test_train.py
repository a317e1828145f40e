"""``agora train``: configs checked key by key, SB3 training into a run directory with a
checkpoint per seed, learning curves, TensorBoard events and an evaluation run that
``agora show`` and ``agora report`` read; the shipped Cournot config learns the Nash
quantity (issue 14)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from agora.agents import make_agent
from agora.agents.policy import path_sha256
from agora.analysis import load_run
from agora.envs import ConfigError, make_game
from agora.envs.obs_formats import format_observation
from agora.experiments import cli
from agora.experiments.train import CURVE_COLUMNS, parse_train_config, run_training

ROOT = Path(__file__).parents[1]
COURNOT = ROOT / "experiments" / "configs" / "train_cournot_sb3.yaml"
BASE = {"name": "t", "env": "Cournot-v1", "params": {"rounds": 1, "q_max": 20},
        "opponents": {"player_1": "cournot_nash"}, "total_timesteps": 64}


@pytest.mark.parametrize(("changes", "message"), [
    ({"hyperparameters": {"n_stepz": 8}}, "hyperparameters.n_stepz: PPO takes no such"),
    ({"hyperparameters": {"seed": 3}}, "hyperparameters.seed: set by agora train"),
    ({"algorithm": "DQN", "hyperparameters": {"n_epochs": 8}},
     "hyperparameters.n_epochs: DQN takes no such"),
    ({"algorithm": "A2C"}, "algorithm: 'A2C' is not one of the sb3 backend's"),
    ({"learners": ["player_2"]}, "learners: unknown seat 'player_2'"),
    ({"learners": ["player_0", "player_1"], "opponents": {}}, "the sb3 backend trains one"),
    ({"opponents": {"player_0": "cournot_nash"}}, "opponents.player_0: player_0 is a learner"),
    ({"opponents": {"player_1": "no_such_agent"}}, "opponents.player_1"),
    ({"params": {"q_max": -1}}, "params:"),
    ({"env": "Nope-v1"}, "env:"),
    ({"env": "Discovery-v1"}, "env: 'Discovery-v1' is a task, not a game"),
    ({"seeds": [1, 1]}, "seeds"),
    ({"total_timesteps": 0}, "total_timesteps"),
    ({"epochs": 3}, "epochs"),
    ({"backend": "rllib", "hyperparameters": {"lrr": 0.1}},
     "hyperparameters.lrr: RLlib's PPOConfig.training takes no such"),
    ({"backend": "rllib", "algorithm": "DQN"}, "algorithm: 'DQN' is not one of the rllib"),
    ({"action_masking": False}, "action_masking: false is for the rllib backend"),
    ({"backend": "rllib", "policies": "mixed"}, "policies"),
])
def test_bad_configs_are_config_errors_naming_the_key(changes: dict[str, Any],
                                                      message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        parse_train_config({**BASE, **changes})


def test_the_shipped_config_validates_with_the_settings_that_learn() -> None:
    cfg = parse_train_config(yaml.safe_load(COURNOT.read_text()))
    assert (cfg.backend, cfg.algorithm, cfg.learners) == ("sb3", "PPO", ["player_0"])
    assert cfg.seats() == {"player_0": None, "player_1": "cournot_nash"}


@pytest.fixture(scope="module")
def cournot_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped Cournot config trained through the CLI (one seed, 4,000 steps)."""
    out = tmp_path_factory.mktemp("train") / "cournot"
    assert cli.main(["train", str(COURNOT), "--out", str(out), "--quiet"]) == 0
    return out


@pytest.mark.slow
def test_the_cli_writes_checkpoint_curves_and_tensorboard_events(cournot_run: Path) -> None:
    assert (cournot_run / "seed_0" / "model.zip").is_file()
    assert list((cournot_run / "tensorboard" / "seed_0").rglob("events.out.tfevents.*"))
    curves = pd.read_parquet(cournot_run / "learning_curves.parquet")
    assert tuple(curves.columns) == CURVE_COLUMNS
    # PPO logs once per rollout of n_steps x n_envs = 512 steps: 8 rollouts cover 4,000
    assert sorted(curves["step"].unique()) == [512 * k for k in range(1, math.ceil(4000 / 512)
                                                                       + 1)]
    assert {"rollout/ep_rew_mean", "train/loss"} <= set(curves["metric"])
    assert not curves["metric"].str.startswith("time/").any()


@pytest.mark.slow
def test_the_trained_policy_plays_the_nash_quantity_in_the_eval_run(
        cournot_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    params = {"rounds": 1, "q_max": 80}
    nash = make_game("Cournot-v1", params)[0].benchmark().values["nash_action"]
    run = load_run(cournot_run / "eval")
    assert len(run.episodes) == 20 and (run.episodes["status"] == "ok").all()
    events = pd.read_parquet(cournot_run / "eval" / "events.parquet")
    mine = events[events["actor"] == 0]["action"].astype(float)
    assert len(mine) == 20 and abs(mine.mean() - nash) <= 2
    capsys.readouterr()
    assert cli.main(["show", str(cournot_run / "eval")]) == 0
    assert "20/20 episodes done, 0 failed" in capsys.readouterr().out


@pytest.mark.slow
def test_agora_report_reads_the_training_run(cournot_run: Path) -> None:
    assert cli.main(["report", str(cournot_run), "--out", str(cournot_run / "r.html")]) == 0
    page = (cournot_run / "r.html").read_text()
    assert "Learning curves" in page and "rollout/ep_rew_mean" in page


@pytest.mark.slow
def test_each_seed_trains_and_evaluates_as_its_own_cell(tmp_path: Path) -> None:
    cfg = parse_train_config({
        "name": "bargain", "env": "Bargaining-v1", "params": {"granularity": 4},
        "opponents": {"player_1": "spe_bargainer"}, "algorithm": "MaskablePPO",
        "hyperparameters": {"n_steps": 16, "batch_size": 32, "n_epochs": 1,
                            "policy_kwargs": {"net_arch": [8]}},
        "n_envs": 2, "total_timesteps": 32, "seeds": [3, 5], "eval_episodes": 2,
        "checkpoint_every": 16})
    summary = run_training(cfg, tmp_path / "run", progress=False)
    assert sorted(summary.checkpoints) == [3, 5]
    assert sorted(p.name for p in (tmp_path / "run" / "seed_5" / "checkpoints").iterdir()) == [
        "step_16_steps.zip", "step_32_steps.zip"]
    assert set(summary.curves["seed"]) == {3, 5}
    assert summary.evaluation is not None and summary.evaluation.failed == 0
    episodes = load_run(tmp_path / "run" / "eval").episodes
    assert episodes.groupby("cell").size().to_dict() == {0: 2, 1: 2}
    with pytest.raises(ConfigError, match="already holds a run"):
        run_training(cfg, tmp_path / "run", progress=False)


def test_the_rllib_env_plays_the_game_with_fixed_opponents_in_their_seats() -> None:
    """The learners' MultiAgentEnv pays exactly the game's payoffs (scaled) and lets the
    fixed opponent move in its seat: tit-for-tat copies the learner's last move."""
    from agora.experiments.train_rllib import learners_env_class

    game = make_game("RepeatedPD-v1", {"rounds": 3})[0]
    env = learners_env_class()({"env": "RepeatedPD-v1", "params": {"rounds": 3},
                                "learners": [0], "seats": {"player_0": None,
                                                           "player_1": "tit_for_tat"},
                                "reward_scale": 0.5})
    obs, _ = env.reset(seed=0)
    assert list(obs) == ["player_0"] and env.observation_spaces["player_0"].contains(
        obs["player_0"])
    rewards, done = [], {}
    for action in (1, 0, 0):  # defect, then cooperate twice (0 = C, 1 = D)
        obs, rew, done, trunc, _ = env.step({"player_0": action})
        rewards.append(rew["player_0"])
    played = [(1, 0), (0, 1), (0, 0)]  # tit-for-tat opens with C, then copies
    assert rewards == [0.5 * game.stage_payoffs(joint)[0] for joint in played] == [2.5, 0, 1.5]
    assert done["__all__"] and not trunc["__all__"]


@pytest.mark.slow
def test_rllib_shared_policy_self_play_writes_one_module_and_curves(tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / "experiments" / "configs" / "train_pd_rllib.yaml").read_text())
    cfg = parse_train_config({**raw, "policies": "shared", "total_timesteps": 200,
                              "checkpoint_every": 100, "eval_episodes": 3,
                              "hyperparameters": {**raw["hyperparameters"],
                                                  "train_batch_size": 200,
                                                  "num_epochs": 1}})
    summary = run_training(cfg, tmp_path / "run", progress=False)
    modules = summary.checkpoints[0] / "learner_group" / "learner" / "rl_module"
    assert sorted(p.name for p in modules.iterdir() if p.is_dir()) == ["shared"]
    assert [p.name for p in (tmp_path / "run" / "seed_0" / "checkpoints").iterdir()] == [
        "step_200"]
    curves = pd.read_parquet(tmp_path / "run" / "learning_curves.parquet")
    assert tuple(curves.columns) == CURVE_COLUMNS and set(curves["step"]) == {200}
    assert {"env_runners/agent_episode_returns_mean/player_0",
            "learners/shared/policy_loss"} <= set(curves["metric"])
    # The trained module is an agent: both seats play it in eval/, hashed in the manifest.
    assert summary.evaluation is not None and summary.evaluation.failed == 0
    manifest = json.loads((tmp_path / "run" / "eval" / "manifest.json").read_text())
    path = str(summary.checkpoints[0].resolve())
    assert manifest["checkpoints"] == {path: path_sha256(path)}
    game = make_game("RepeatedPD-v1", {"rounds": 1})[0]
    agent = make_agent({"name": "policy", "checkpoint": path, "algorithm": "rllib"}, game)
    agent.reset(0, 1)  # player_1 plays the shared module
    from agora.agents._rllib_masking import batch_of_one

    state = game.initial_state(np.random.default_rng(0))
    obs = {"observation": game.encode(state, 1),
           "action_mask": game.legal_mask(state, 1).astype(np.int8)}
    x = format_observation(obs, "rllib")  # the masked module's observation
    logits = agent.model.forward_inference(batch_of_one(x))
    assert agent.act(obs) == int(logits["action_dist_inputs"][0].argmax())
    with pytest.raises(ConfigError, match="module='player_7'"):
        make_agent({"name": "policy", "checkpoint": path, "algorithm": "rllib",
                    "module": "player_7"})
