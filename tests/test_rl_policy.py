"""Trained policies are agents: an SB3 checkpoint plays in ``agora run`` beside heuristics,
in-process and on Ray workers, with its hash in the manifest; a config's ``imports`` make
user-registered agents known to Ray workers too (issue 14)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

from agora.agents import make_agent
from agora.agents.policy import file_sha256
from agora.envs import ConfigError, make_game, make_gym
from agora.experiments import parse_config, play_episode, run_experiment

PARAMS = {"rounds": 3, "q_max": 60}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PPO policy for Cournot (flat observations), trained a few steps and saved."""
    vec = make_vec_env("agora/Cournot-v1", n_envs=2, seed=0,
                       env_kwargs={"observation_format": "flat", **PARAMS})
    model = PPO("MlpPolicy", vec, n_steps=32, batch_size=64, n_epochs=1, seed=0,
                policy_kwargs={"net_arch": [8]}).learn(64)
    path = tmp_path_factory.mktemp("policy") / "cournot.zip"
    model.save(path)
    return path


def test_the_policy_agent_plays_what_the_model_predicts(checkpoint: Path) -> None:
    game, text = make_game("Cournot-v1", PARAMS)
    agent = make_agent({"name": "policy", "checkpoint": str(checkpoint)}, game)
    result = play_episode(game, text, [agent, make_agent("cournot_nash", game)], seed=3)
    assert result.status == "ok"
    model = PPO.load(checkpoint, device="cpu")
    env = make_gym("Cournot-v1", observation_format="flat", opponents={1: "cournot_nash"},
                   **PARAMS)
    obs, _ = env.reset(seed=3)
    mine = [a for a, who in zip(result.events["action"], result.events["actor"]) if who == 0]
    for played in mine:
        assert played == int(model.predict(obs, deterministic=True)[0])
        obs, *_ = env.step(played)


def test_a_checkpoint_is_checked_when_the_agent_is_built(checkpoint: Path) -> None:
    game = make_game("Cournot-v1", PARAMS)[0]
    spec = {"name": "policy", "checkpoint": str(checkpoint)}
    with pytest.raises(ConfigError, match="sha256='0000'"):
        make_agent({**spec, "sha256": "0000"}, game)
    with pytest.raises(ConfigError, match="is not a file"):
        make_agent({**spec, "checkpoint": str(checkpoint) + ".missing"}, game)
    with pytest.raises(ConfigError, match="trained with 61 actions"):
        make_agent(spec, make_game("Cournot-v1", {"q_max": 80})[0])
    with pytest.raises(ConfigError, match="algorithm='TRPO'"):
        make_agent({**spec, "algorithm": "TRPO"}, game)
    assert make_agent({**spec, "sha256": file_sha256(checkpoint)}, game).face.value == "tensor"


def _config(checkpoint: Path, **extra: Any) -> dict[str, Any]:
    return {"name": "policy-run", "env": "Cournot-v1", "params": PARAMS, "episodes": 4,
            "agents": {"player_0": {"name": "policy", "checkpoint": str(checkpoint)},
                       "player_1": "cournot_nash"}, **extra}


def test_agora_run_plays_a_checkpoint_and_records_its_hash(checkpoint: Path,
                                                           tmp_path: Path) -> None:
    summary = run_experiment(parse_config(_config(checkpoint)), tmp_path / "run",
                             progress=False)
    assert (summary.episodes_done, summary.failed) == (4, 0)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["checkpoints"] == {str(checkpoint.resolve()): file_sha256(checkpoint)}


USER_AGENTS = '''
from agora.agents import Agent, register_agent

@register_agent("user_quantity_7")
class UserQuantity(Agent):
    """Always produces 7 units (a user's agent, registered by importing this module)."""

    def act(self, obs):
        return 7
'''


def test_imports_name_modules_that_register_agents(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "rl_user_agents.py").write_text(textwrap.dedent(USER_AGENTS))
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = {"name": "u", "env": "Cournot-v1", "params": PARAMS, "episodes": 1,
           "agents": {"default": "user_quantity_7"}}
    with pytest.raises(ConfigError, match="unknown agent 'user_quantity_7'"):
        parse_config(cfg)
    with pytest.raises(ConfigError, match="imports: cannot import 'no_such_module'"):
        parse_config({**cfg, "imports": ["no_such_module"]})
    assert parse_config({**cfg, "imports": ["rl_user_agents"]}).imports == ["rl_user_agents"]
    monkeypatch.delitem(sys.modules, "rl_user_agents")


@pytest.mark.slow
def test_on_ray_workers_a_checkpoint_and_a_user_agent_play(
        checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ray workers are fresh processes: they know the built-in agents (importing
    agora.agents registers them) but not a user's, unless the config's ``imports``
    names the module that registers it."""
    (tmp_path / "rl_ray_agents.py").write_text(
        textwrap.dedent(USER_AGENTS).replace("user_quantity_7", "ray_quantity_7"))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # where the workers find it
    cfg = _config(checkpoint, imports=["rl_ray_agents"], episodes=6,
                  sweep={"agents.player_1": ["cournot_nash", "ray_quantity_7"]})
    summary = run_experiment(parse_config(cfg), tmp_path / "run", workers=2, progress=False)
    assert (summary.episodes_done, summary.failed) == (12, 0)
    local = run_experiment(parse_config(cfg), tmp_path / "local", workers=1, progress=False)
    cols = ["cell", "episode", "return.player_0", "return.player_1"]
    ray_rows = summary.episodes[cols].sort_values(cols[:2]).to_numpy()
    assert np.array_equal(ray_rows, local.episodes[cols].sort_values(cols[:2]).to_numpy())
    monkeypatch.delitem(sys.modules, "rl_ray_agents")


def test_imports_leave_the_fingerprint_alone() -> None:
    """Runs made before ``imports`` existed still resume: it names no episode."""
    cfg = {"name": "x", "env": "RepeatedPD-v1", "agents": {"default": "random"}, "episodes": 1}
    assert (parse_config(cfg).fingerprint()
            == parse_config({**cfg, "imports": ["json"]}).fingerprint())
