"""Population-based training through Ray Tune (issue 14): sections checked key by key, the
ray#62173 trap (a restored model keeps the hyperparameters it was saved with) closed by
setting the perturbed values on the loaded model, and a toy where the answer is known:
only a learning rate near 1e-2 learns Cournot's best response to a Nash rival within the
budget, so PBT must copy the one good member into the three that start at 1e-5."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from agora.envs import ConfigError, make_game
from agora.experiments.pbt import (
    PBT_COLUMNS,
    PBTOptions,
    applied_hyperparameters,
    apply_hyperparameters,
    initial_values,
)
from agora.experiments.train import parse_train_config, run_training

BASE = {"name": "t", "env": "Cournot-v1", "params": {"rounds": 1, "q_max": 80},
        "opponents": {"player_1": "cournot_nash"}, "total_timesteps": 64}
PBT = {"population": 2, "perturbation_interval": 32,
       "mutations": {"learning_rate": {"loguniform": [1e-4, 1e-1]}}}


@pytest.mark.parametrize(("changes", "message"), [
    ({"mutations": {"n_steps": {"uniform": [8, 16]}}},
     "pbt.mutations.n_steps: not a hyperparameter PBT can change"),
    ({"mutations": {"learning_rate": {"loguniform": [0, 1]}}},
     r"pbt.mutations.learning_rate.loguniform: want \[low, high\] with 0 < low"),
    ({"mutations": {"learning_rate": {"normal": [0, 1]}}},
     "pbt.mutations.learning_rate: want one of"),
    ({"mutations": {"n_epochs": {"choice": [2, 2]}}}, "pbt.mutations.n_epochs.choice"),
    ({"initial": {"learning_rate": [0.1]}}, "pbt.initial.learning_rate: want 2 values"),
    ({"initial": {"gamma": [0.9, 0.99]}}, "pbt.initial.gamma: not one of pbt.mutations"),
    ({"population": 1}, "pbt.population"),
    ({"quantile": 0.7}, "pbt.quantile"),
])
def test_bad_pbt_sections_are_config_errors_naming_the_key(changes: dict[str, Any],
                                                           message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_train_config({**BASE, "pbt": {**PBT, **changes}})


def test_pbt_needs_the_sb3_backend_and_free_mutated_keys() -> None:
    with pytest.raises(ConfigError, match="pbt.mutations.learning_rate: also fixed"):
        parse_train_config({**BASE, "hyperparameters": {"learning_rate": 0.1}, "pbt": PBT})
    with pytest.raises(ConfigError, match="pbt: the rllib backend has no PBT"):
        parse_train_config({**BASE, "backend": "rllib", "eval_episodes": 0, "pbt": PBT})


def test_initial_values_are_given_or_drawn_inside_the_ranges_from_the_seed() -> None:
    opts = PBTOptions(population=50, perturbation_interval=8, mutations={
        "learning_rate": {"loguniform": [1e-4, 1e-1]}, "ent_coef": {"uniform": [0.0, 0.1]},
        "n_epochs": {"choice": [2, 4]}})
    drawn = initial_values(opts, seed=7)
    lrs = np.log10([m["learning_rate"] for m in drawn])
    assert lrs.min() >= -4 and lrs.max() <= -1 and lrs.max() - lrs.min() > 1.5
    assert all(0 <= m["ent_coef"] <= 0.1 for m in drawn)
    assert {m["n_epochs"] for m in drawn} == {2, 4}
    assert drawn == initial_values(opts, seed=7) != initial_values(opts, seed=8)


def test_a_restored_model_trains_with_the_perturbed_values_not_the_saved_ones(
        tmp_path: Path) -> None:
    """The ray#62173 trap: SB3's load brings back the saved learning rate, discount and
    clip range; apply_hyperparameters puts the perturbed ones where training reads them,
    and they survive a round of training (the optimiser's rate, the buffer's gamma)."""
    from stable_baselines3 import PPO

    from agora.experiments.train_sb3 import build_model, vec_env

    cfg = parse_train_config({**BASE, "n_envs": 2, "hyperparameters": {
        "n_steps": 16, "batch_size": 32, "n_epochs": 1, "learning_rate": 0.01,
        "gamma": 0.99, "clip_range": 0.2}})
    build_model(cfg, seed=0).save(tmp_path / "model.zip")
    names = ["clip_range", "gamma", "learning_rate", "n_epochs"]
    model = PPO.load(tmp_path / "model.zip", env=vec_env(cfg, 1), device="cpu")
    assert applied_hyperparameters(model, names) == {
        "clip_range": 0.2, "gamma": 0.99, "learning_rate": 0.01, "n_epochs": 1}
    perturbed = {"clip_range": 0.1, "gamma": 0.9, "learning_rate": 0.001, "n_epochs": 2}
    apply_hyperparameters(model, perturbed)
    model.learn(32)
    assert applied_hyperparameters(model, names) == perturbed
    assert model.gamma == model.rollout_buffer.gamma == 0.9


@pytest.mark.slow
def test_pbt_copies_the_good_learning_rate_and_learns_the_nash_quantity(
        tmp_path: Path) -> None:
    """Three members start at lr 1e-5 (no learning in 4,096 steps), one at 1e-2 (which
    learns the best response to a Cournot-Nash rival, the Nash quantity 40 on the grid).
    Every 1,024 steps the worst member copies the best's checkpoint and lr (x1.2 or x0.8,
    no resampling). The best member's model plays the Nash quantity, the record shows
    exploits of the good lineage, and the lrs end near 1e-2, applied as configured.
    Members train on 64 vector rows (rollouts of 8 x 64 = 512 steps, as 8 envs x 64
    would give), a quarter of DummyVecEnv's time per step."""
    cfg = parse_train_config({
        **BASE, "total_timesteps": 4096, "n_envs": 64, "vectorized": True,
        "eval_episodes": 10,
        "hyperparameters": {"n_steps": 8, "batch_size": 256, "n_epochs": 4,
                            "ent_coef": 0.0, "policy_kwargs": {"net_arch": [32]}},
        "reward_scale": 0.000625,
        "pbt": {"population": 4, "perturbation_interval": 1024, "resample_probability": 0.0,
                "mutations": {"learning_rate": {"loguniform": [1e-5, 1e-1]}},
                "initial": {"learning_rate": [1e-5, 1e-5, 1e-5, 1e-2]}, "workers": 2}})
    summary = run_training(cfg, tmp_path / "run", progress=False)
    records = pd.read_parquet(tmp_path / "run" / "pbt.parquet")
    assert tuple(records.columns[:len(PBT_COLUMNS)]) == PBT_COLUMNS
    assert (records["hp/learning_rate"] == records["applied/learning_rate"]).all()
    good = records.loc[records["report"] == 1].set_index("member")["trial"][3]
    exploited = records[records["origin"] != records["trial"]]
    assert len(set(exploited["member"])) >= 2
    final = records.sort_values("report").groupby("member").last()
    assert (np.log10(final["hp/learning_rate"]) > -3).sum() >= 3
    assert good in set(records["origin"])
    nash = make_game("Cournot-v1", {"rounds": 1, "q_max": 80})[0].benchmark().values[
        "nash_action"]
    events = pd.read_parquet(tmp_path / "run" / "eval" / "events.parquet")
    mine = events[events["actor"] == 0]["action"].astype(float)
    assert abs(mine.mean() - nash) <= 2
    assert summary.checkpoints[0] == tmp_path / "run" / "seed_0" / "model.zip"
    assert not math.isnan(final["score"].max())


def test_the_shipped_pbt_config_validates_with_one_good_starting_member() -> None:
    import yaml

    path = Path(__file__).parents[1] / "experiments" / "configs" / "train_cournot_pbt.yaml"
    cfg = parse_train_config(yaml.safe_load(path.read_text()))
    assert cfg.pbt is not None and cfg.pbt.population == 4
    assert initial_values(cfg.pbt, 0) == [{"learning_rate": 1e-5}] * 3 + [
        {"learning_rate": 1e-2}]


def test_perturbed_values_stay_inside_their_declared_ranges() -> None:
    """Ray multiplies by 1.2 or 0.8 whatever the range; our explore hook clips the result
    (a discount of 0.99 x 1.2 would be 1.19)."""
    from ray.tune.schedulers.pbt import _explore

    from agora.experiments.pbt import _Clip, _domains

    opts = PBTOptions(population=2, perturbation_interval=8, mutations={
        "gamma": {"uniform": [0.9, 0.99]}, "learning_rate": {"loguniform": [1e-4, 1e-2]}})
    config = {"hp": {"gamma": 0.99, "learning_rate": 1e-2}}
    seen = set()
    for _ in range(50):
        config, _ = _explore(config, {"hp": _domains(opts)}, 0.0, (1.2, 0.8), _Clip(opts))
        assert 0.9 <= config["hp"]["gamma"] <= 0.99
        assert 1e-4 <= config["hp"]["learning_rate"] <= 1e-2
        seen.add(config["hp"]["gamma"])
    assert 0.9 in seen or 0.99 in seen
