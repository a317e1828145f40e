"""The rllib backend on turn-based games (issue 14): the masked PPO module never gives an
illegal action probability or the argmax, the learners' env follows RLlib's turn-based
convention and pays exactly the game core's payoffs, and the shipped ultimatum config
learns the subgame-perfect offer with no illegal action drawn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agora.agents import make_agent
from agora.analysis import load_run
from agora.envs import make_game
from agora.envs.obs_formats import format_observation
from agora.experiments import cli

pytest.importorskip("ray.rllib")
torch = pytest.importorskip("torch")

from gymnasium import spaces  # noqa: E402

from agora.agents._rllib_masking import (  # noqa: E402
    MaskedPPOTorchModule,
    batch_of_one,
    mask_logits,
)
from agora.experiments.train_rllib import learners_env_class  # noqa: E402

ROOT = Path(__file__).parents[1]
ULTIMATUM = ROOT / "experiments" / "configs" / "train_rllib_ultimatum.yaml"
N_ACTIONS, N_FEATURES = 7, 3

masks = st.lists(st.booleans(), min_size=N_ACTIONS, max_size=N_ACTIONS).filter(any)


@pytest.fixture(scope="module")
def module() -> Any:
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    space = spaces.Dict({"observations": spaces.Box(-1, 1, (N_FEATURES,), np.float32),
                         "action_mask": spaces.Box(0, 1, (N_ACTIONS,), np.float32)})
    spec = RLModuleSpec(module_class=MaskedPPOTorchModule, observation_space=space,
                        action_space=spaces.Discrete(N_ACTIONS),
                        model_config={"fcnet_hiddens": [8]})
    torch.manual_seed(0)
    return spec.build()


def _batch(features: np.ndarray, mask: list[bool]) -> dict[str, Any]:
    rows = len(features)
    return {"obs": {"observations": torch.as_tensor(features, dtype=torch.float32),
                    "action_mask": torch.as_tensor([mask] * rows, dtype=torch.float32)}}


@settings(max_examples=40, deadline=None)
@given(mask=masks, seed=st.integers(0, 2**16))
def test_masked_logits_give_illegal_actions_probability_zero(mask: list[bool],
                                                             seed: int) -> None:
    logits = torch.as_tensor(np.random.default_rng(seed).normal(0, 30, (4, N_ACTIONS)),
                             dtype=torch.float32)
    out = mask_logits(logits, torch.as_tensor([mask] * 4, dtype=torch.float32))
    probs = torch.softmax(out, -1).numpy()
    legal = np.array(mask)
    assert (probs[:, ~legal] == 0).all() and np.allclose(probs.sum(1), 1)
    assert legal[out.argmax(-1).numpy()].all()
    assert torch.equal(out[:, legal], logits[:, legal])  # legal logits untouched


@settings(max_examples=25, deadline=None)
@given(mask=masks, seed=st.integers(0, 2**16))
def test_every_forward_pass_of_the_module_masks(module: Any, mask: list[bool],
                                                seed: int) -> None:
    features = np.random.default_rng(seed).uniform(-1, 1, (5, N_FEATURES))
    legal = np.array(mask)
    dist = module.get_inference_action_dist_cls()
    with torch.no_grad():
        for forward in (module.forward_inference, module.forward_exploration,
                        module.forward_train):
            logits = forward(_batch(features, mask))["action_dist_inputs"]
            probs = torch.softmax(logits, -1).numpy()
            assert (probs[:, ~legal] == 0).all()
            assert legal[logits.argmax(-1).numpy()].all()
        drawn = dist.from_logits(logits).sample(sample_shape=(200,)).numpy()
    assert legal[drawn].all()


def test_the_value_function_and_encoder_see_only_the_features(module: Any) -> None:
    """Two batches differing only in the mask get the same values and legal logits."""
    features = np.random.default_rng(1).uniform(-1, 1, (3, N_FEATURES))
    everything, some = [True] * N_ACTIONS, [True, False] * 3 + [True]
    with torch.no_grad():
        values = [module.compute_values(_batch(features, m)) for m in (everything, some)]
        logits = [module.forward_train(_batch(features, m))["action_dist_inputs"]
                  for m in (everything, some)]
    assert torch.equal(values[0], values[1])
    assert torch.equal(logits[0][:, np.array(some)], logits[1][:, np.array(some)])
    assert module.observation_space["action_mask"].shape == (N_ACTIONS,)


def test_the_module_refuses_an_observation_space_without_a_mask() -> None:
    with pytest.raises(ValueError, match="'action_mask' and 'observations'"):
        MaskedPPOTorchModule(observation_space=spaces.Box(0, 1, (3,)),
                             action_space=spaces.Discrete(2))


def _env(env_id: str, params: dict[str, Any], learners: list[int],
         seats: dict[str, Any], scale: float = 1.0, masking: bool = True) -> Any:
    return learners_env_class()({"env": env_id, "params": params, "learners": learners,
                                 "seats": seats, "reward_scale": scale,
                                 "action_masking": masking})


def test_a_learner_sees_only_its_turns_and_is_paid_the_cores_payoffs() -> None:
    """Bargaining against the SPE bargainer: the env returns the learner's observations
    only, with the mask of its turn, and pays what the core pays for the same moves."""
    params = {"granularity": 10, "horizon": 3, "discounts": [0.9, 0.8]}
    env = _env("Bargaining-v1", params, [0], {"player_0": None,
                                               "player_1": "spe_bargainer"}, scale=0.5)
    obs, _ = env.reset(seed=3)
    assert list(obs) == ["player_0"] and env.observation_spaces["player_0"].contains(
        obs["player_0"])
    game = make_game("Bargaining-v1", params)[0]
    opponent = make_agent({"name": "spe_bargainer"}, game)
    opponent.reset(seed=0, player=1)
    rng = np.random.default_rng(0)
    state, paid = game.initial_state(rng), np.zeros(2)
    total, done, trunc = 0.0, {"__all__": False}, {"__all__": False}
    for action in (10, 1):  # keep everything (refused), then accept its offer
        while game.to_move(state)[0] == 1:
            state, rewards = game.step(state, (opponent.act(game.observe(state, 1)),), rng)
            paid += rewards
        legal = game.legal_mask(state, 0).astype(np.float32)
        assert np.array_equal(obs["player_0"]["action_mask"], legal)
        state, rewards = game.step(state, (action,), rng)
        paid += rewards
        obs, rew, done, trunc, _ = env.step({"player_0": action})
        total += sum(rew.values())
    assert done["__all__"] and not trunc["__all__"] and list(obs) == ["player_0"]
    assert total == pytest.approx(0.5 * paid[0]) and paid[0] > 0


def test_two_learners_take_turns_and_each_gets_a_final_observation_and_reward() -> None:
    env = _env("Ultimatum-v1", {"granularity": 10}, [0, 1],
               {"player_0": None, "player_1": None}, scale=0.01)
    obs, _ = env.reset(seed=0)
    assert list(obs) == ["player_0"]
    obs, rew, done, _, _ = env.step({"player_0": 3})
    assert list(obs) == ["player_1"] and rew == {} and not done["__all__"]
    assert obs["player_1"]["action_mask"].tolist() == [1, 1] + [0] * 9  # reject / accept
    obs, rew, done, _, _ = env.step({"player_1": 1})
    assert sorted(obs) == ["player_0", "player_1"] and done == {
        "player_0": True, "player_1": True, "__all__": True}
    assert rew == pytest.approx({"player_0": 0.7, "player_1": 0.3})


def test_an_illegal_action_pays_the_penalty_keeps_the_turn_and_is_counted() -> None:
    env = _env("Ultimatum-v1", {"granularity": 10}, [1],
               {"player_0": "ultimatum_fair", "player_1": None}, masking=False)
    obs, _ = env.reset(seed=0)
    assert obs["player_1"].shape == (8 + 11,)  # flat: features then the mask
    obs, rew, done, _, _ = env.step({"player_1": 7})  # a responder answers 0 or 1
    assert rew == {"player_1": -1.0} and list(obs) == ["player_1"]
    assert env.invalid_actions == 1 and not done["__all__"]
    obs, rew, done, _, _ = env.step({"player_1": 1})  # accept the fair offer of 5
    assert rew == {"player_1": 50.0} and done["__all__"]
    env.reset()
    assert env.invalid_actions == 0


@pytest.fixture(scope="module")
def ultimatum_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped turn-based config trained through the CLI (1,000 steps)."""
    out = tmp_path_factory.mktemp("train") / "ultimatum"
    assert cli.main(["train", str(ULTIMATUM), "--out", str(out), "--quiet"]) == 0
    return out


@pytest.mark.slow
def test_the_proposer_learns_the_smallest_positive_offer_with_no_illegal_action(
        ultimatum_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    curves = pd.read_parquet(ultimatum_run / "learning_curves.parquet")
    invalid = curves[curves["metric"] == "env_runners/invalid_actions"]
    assert len(invalid) == 5 and (invalid["value"] == 0).all()
    run = load_run(ultimatum_run / "eval")
    assert len(run.episodes) == 10 and (run.episodes["status"] == "ok").all()
    events = pd.read_parquet(ultimatum_run / "eval" / "events.parquet")
    offers = events[events["actor"] == 0]["action"].astype(int)
    assert offers.tolist() == [1] * 10  # the SPE: 1 of 4 units, payoffs 75 / 25
    capsys.readouterr()
    assert cli.main(["show", str(ultimatum_run / "eval")]) == 0
    assert "10/10 episodes done, 0 failed" in capsys.readouterr().out


@pytest.mark.slow
def test_the_policy_agent_plays_the_masked_checkpoint_greedily(ultimatum_run: Path) -> None:
    game = make_game("Ultimatum-v1", {"granularity": 4})[0]
    path = ultimatum_run / "seed_0" / "checkpoint"
    agent = make_agent({"name": "policy", "checkpoint": str(path), "algorithm": "rllib"},
                       game)
    agent.reset(0, 0)
    assert agent.format == "rllib"
    state = game.initial_state(np.random.default_rng(0))
    obs = {"observation": game.encode(state, 0),
           "action_mask": game.legal_mask(state, 0).astype(np.int8)}
    x = format_observation(obs, "rllib")
    with torch.no_grad():
        logits = agent.model.forward_inference(batch_of_one(x))
    assert agent.act(obs) == int(logits["action_dist_inputs"][0].argmax()) == 1
