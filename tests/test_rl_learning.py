"""Learned vs theory: SB3 agents trained for seconds against a fixed equilibrium opponent
learn the best response, which is the equilibrium (issue 14). Fixed seeds, small nets,
small budgets, rewards scaled to about 1; each case trains 2,000-4,000 steps (~10 s on a
shared 2-core machine)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from sb3_contrib import MaskablePPO
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

from agora.agents import make_agent
from agora.envs import make_game, make_gym
from agora.envs.games.ultimatum import ACCEPT
from agora.experiments import play_episode

SMALL = {"n_steps": 64, "batch_size": 256, "n_epochs": 4, "learning_rate": 1e-2,
         "policy_kwargs": {"net_arch": [32]}, "seed": 0, "verbose": 0}


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Any:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the machine is shared; one thread is also faster here
    yield
    torch.set_num_threads(threads)


def _vec(env_id: str, **kwargs: Any) -> Any:
    return make_vec_env(f"agora/{env_id}", n_envs=8, seed=0,
                        env_kwargs={"observation_format": "flat", **kwargs})


@pytest.mark.slow
def test_ppo_against_cournot_nash_learns_the_nash_quantity() -> None:
    params = {"rounds": 1, "q_max": 80}
    nash = make_game("Cournot-v1", params)[0].benchmark().values["nash_action"]
    assert nash == (130 - 10) / 3  # (a - c) / (b (n + 1))
    vec = _vec("Cournot-v1", opponents={1: "cournot_nash"}, reward_scale=1 / 1600, **params)
    model = PPO("MlpPolicy", vec, ent_coef=0.0, **SMALL).learn(4000)
    quantity, _ = model.predict(vec.reset(), deterministic=True)
    assert np.all(np.abs(quantity - nash) <= 2)  # the profit is flat near its peak


@pytest.mark.slow
def test_maskable_ppo_plays_only_legal_actions_and_learns_the_spe_split() -> None:
    params = {"granularity": 20, "discounts": (0.8, 0.6)}  # horizon 10; a unique SPE
    values = make_game("Bargaining-v1", params)[0].benchmark().values
    assert values["spe_unique"] == 1.0
    # "raise": one illegal action sampled in 4,000 training steps would fail the test
    vec = _vec("Bargaining-v1", opponents={1: "spe_bargainer"}, on_invalid_action="raise",
               **params)
    model = MaskablePPO("MlpPolicy", vec, **SMALL).learn(4000)
    masks = np.stack(vec.env_method("action_masks"))
    keep, _ = model.predict(vec.reset(), deterministic=True, action_masks=masks)
    assert keep.tolist() == [values["spe_keep_units"]] * 8  # 15 of 20 units


@pytest.mark.slow
def test_the_ultimatum_responder_learns_to_accept_every_positive_offer() -> None:
    params = {"player": 1, "granularity": 10}
    vec = _vec("Ultimatum-v1", opponents={0: "random"}, reward_scale=0.01, **params)
    model = MaskablePPO("MlpPolicy", vec, **SMALL).learn(2000)
    answers = {}
    for offer in range(1, 11):  # a proposer that offers exactly `offer` units
        proposer = {"name": "ultimatum_threshold", "threshold": offer / 10}
        env = make_gym("Ultimatum-v1", observation_format="flat", opponents={0: proposer},
                       **params)
        obs, _ = env.reset(seed=0)
        assert env.state_.offer == offer
        answers[offer], _ = model.predict(obs, deterministic=True,
                                          action_masks=env.action_masks())
    assert answers == dict.fromkeys(range(1, 11), ACCEPT)


def _readme_training_block() -> str:
    text = (Path(__file__).parents[1] / "README.md").read_text()
    match = re.search(r"## Training agents.*?```python\n(.+?)\n```", text, re.S)
    assert match is not None, "README: no Training agents example"
    return match.group(1)


@pytest.mark.slow
def test_the_readmes_training_example_learns_the_spe(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's example, run verbatim; its checkpoint then plays as a ``policy``
    agent against the SPE bargainer and keeps the SPE share, 15/20 of the pie."""
    monkeypatch.chdir(tmp_path)
    exec(compile(_readme_training_block(), "README.md", "exec"), {})
    game, text = make_game("Bargaining-v1", {"granularity": 20, "discounts": (0.8, 0.6)})
    policy = make_agent({"name": "policy", "checkpoint": "bargainer.zip",
                         "algorithm": "MaskablePPO"}, game)
    result = play_episode(game, text, [policy, make_agent("spe_bargainer", game)], seed=0)
    assert result.returns[0] == pytest.approx(15 / 20)
    assert result.length == 2  # proposed and accepted at once
