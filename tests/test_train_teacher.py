"""``agora train`` with a ``teacher:`` section (issue 14): each episode is the game built on
the ALP-GMM teacher's task, paying exactly what that game pays, and every episode's task,
return and ALP lands in ``curriculum.parquet``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from agora.envs import ConfigError, make_gym
from agora.experiments.curriculum import ALPGMM, CURRICULUM_COLUMNS, CurriculumEnv, ParamSpace
from agora.experiments.train import parse_train_config, run_training

ROOT = Path(__file__).parents[1]
BASE = {"name": "t", "env": "Cournot-v1", "params": {"rounds": 1, "q_max": 80},
        "opponents": {"player_1": "cournot_nash"}, "total_timesteps": 64}


def _build(task: dict) -> object:
    return make_gym("Cournot-v1", params={"rounds": 1, "q_max": 80, **task},
                    opponents={1: "cournot_nash"}, reward_scale=0.01)


def test_each_episode_pays_what_the_game_of_its_task_pays() -> None:
    teacher = ALPGMM(ParamSpace.parse({"n_firms": [2, 4], "a": [100.0, 160.0]}),
                     fit_rate=8, seed=1)
    env = CurriculumEnv(_build, teacher)
    env.reset(seed=5)
    for action in (10, 30, 50, 20, 40):
        _, info = env.reset()
        task = info["task"]
        assert env.env.unwrapped.game.params.n_firms == task["n_firms"]
        reward = env.step(action)[1]
        plain = _build(task)
        plain.reset(seed=0)
        assert reward == plain.step(action)[1]  # cournot_nash's move needs no seed
        assert teacher.history[-1]["task"] == task
        assert teacher.history[-1]["episodic_return"] == reward
    assert {h["task"]["n_firms"] for h in teacher.history} <= {2, 3, 4}


@pytest.mark.parametrize(("teacher", "message"), [
    ({"params": {"q_max": [20, 80]}}, "teacher.params: the learner's spaces change"),
    ({"params": {"nope": [1, 2]}}, "teacher.params: {'nope': 1} is not a valid task"),
    ({"params": {"a": [160.0, 100.0]}}, r"teacher.params.a: want \[low, high\]"),
    ({"params": {"a": [100.0, 160.0]}, "fit_rate": 2}, "teacher.fit_rate"),
    ({"kind": "grid", "params": {"a": [100.0, 160.0]}}, "teacher.kind"),
])
def test_bad_teacher_sections_are_config_errors_naming_the_key(teacher: dict,
                                                               message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_train_config({**BASE, "teacher": teacher})


def test_teacher_and_pbt_or_rllib_do_not_mix() -> None:
    with pytest.raises(ConfigError, match="teacher: a curriculum trains with the sb3"):
        parse_train_config({**BASE, "teacher": {"params": {"a": [100.0, 160.0]}},
                            "pbt": {"population": 2, "perturbation_interval": 8,
                                    "mutations": {"learning_rate": {"uniform": [0.1, 0.2]}}}})


@pytest.mark.slow
def test_training_with_a_teacher_records_every_episode(tmp_path: Path) -> None:
    cfg = parse_train_config({
        **BASE, "hyperparameters": {"n_steps": 16, "batch_size": 32, "n_epochs": 1,
                                    "policy_kwargs": {"net_arch": [8]}},
        "n_envs": 2, "eval_episodes": 0, "seeds": [3],
        "teacher": {"params": {"n_firms": [2, 4], "a": [100.0, 160.0]}, "fit_rate": 16}})
    run_training(cfg, tmp_path / "run", progress=False)
    records = pd.read_parquet(tmp_path / "run" / "curriculum.parquet")
    assert tuple(records.columns[:6]) == ("seed", *CURRICULUM_COLUMNS)
    assert len(records) == 64 and set(records["seed"]) == {3}  # one-shot episodes
    assert records["episode"].tolist() == list(range(64))
    assert records["n_firms"].isin([2, 3, 4]).all() and records["a"].between(100, 160).all()
    assert (records["alp"] >= 0).all() and records["alp"].iloc[0] == 0.0
    assert set(records["source"][:16]) == {"random"} and "gmm" in set(records["source"][16:])


def test_the_shipped_teacher_config_validates() -> None:
    raw = yaml.safe_load((ROOT / "experiments" / "configs" /
                          "train_cournot_teacher.yaml").read_text())
    cfg = parse_train_config(raw)
    assert cfg.teacher is not None and set(cfg.teacher.params) == {"n_firms", "a"}
