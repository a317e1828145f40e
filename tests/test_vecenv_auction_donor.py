"""Vector envs of the sealed-bid auctions and the donor game (agora.envs.vector_auction,
agora.envs.vector_donor).

Each row replays exactly through the single Gymnasium env reset with seed ``s + i`` (the
auctions' values and tie-breaks come from the same rules streams), invalid actions and
NEXT_STEP restarts included; the fixed seats' data rules bid and give as the registered
heuristics do; what is not vectorised is a ConfigError naming the key.
"""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vec_replay import replay_rows, same_row

import agora.envs  # noqa: F401  (registers the ids)
from agora.agents import make_agent
from agora.agents.bid_rule import bid_rule_of
from agora.agents.donor_rule import donor_rule_of
from agora.envs import ConfigError, IllegalActionError, make_game
from agora.envs.games.donor_vec import IMAGE_SCORING
from agora.envs.vector import make_vec
from agora.envs.vector_auction import AuctionVectorEnv, bne_table
from agora.envs.vector_donor import DonorVectorEnv

B, T, SEED = 5, 30, 11

CASES = [
    ("FirstPriceAuction-v1", {"rounds": 3}, {}),
    ("SecondPriceAuction-v1", {"n_players": 2, "granularity": 4, "rounds": 2},  # many ties
     {"observation_format": "flat", "player": 1}),
    ("AllPayAuction-v1", {"n_players": 4, "granularity": 6, "rounds": 3},
     {"observation_format": "rllib", "reward_scale": 0.1, "player": 2}),
    ("DonorGame-v1", {"n_agents": 4}, {}),
    ("DonorGame-v1", {"n_agents": 6, "punishment": True, "partner_choice": True,
                      "trace_depth": 2, "max_donation": 8},
     {"observation_format": "flat", "player": 4}),
    ("DonorGame-v1", {"n_agents": 4, "granularity": 2, "max_donation": 5, "rounds": 7,
                      "multiplier": 1.5, "trace_depth": 1},
     {"observation_format": "rllib", "reward_scale": 0.5, "player": 3}),
]


def _choose(masks: np.ndarray, picks: list[float], bad: list[int]) -> np.ndarray:
    """An action per row: a legal one picked by ``picks`` (fractions), or ``bad[i]``
    when that is not 0 (-1 or past the last action: invalid)."""
    out = []
    for mask, pick, b in zip(masks, picks, bad):
        legal = np.flatnonzero(mask)
        if b or not len(legal):
            out.append(-1 if b <= 0 else len(mask) + b - 1)
        else:
            out.append(int(legal[min(int(pick * len(legal)), len(legal) - 1)]))
    return np.array(out, np.int64)


def _replay(env_id: str, params: dict, shell: dict, seed: int,
            plan: list[tuple[list[float], list[int]]]) -> int:
    """Replay ``plan`` (per step: picks and invalid markers, see :func:`_choose`)."""
    return replay_rows(env_id, params, shell, seed, B, len(plan),
                       lambda step, masks: _choose(masks, *plan[step]), 3)


@pytest.mark.parametrize(("env_id", "params", "shell"), CASES)
def test_rows_replay_through_the_single_env(env_id, params, shell) -> None:
    rng = np.random.default_rng(5)
    plan = [(rng.random(B).tolist(),
             np.where(rng.random(B) < 0.1, rng.choice([-1, 1, 3], B), 0).tolist())
            for _ in range(T)]
    assert _replay(env_id, params, shell, SEED, plan) >= B


@settings(max_examples=8, deadline=None)
@given(case=st.sampled_from(CASES), seed=st.integers(0, 2**40),
       plan=st.lists(st.tuples(st.lists(st.floats(0, 1), min_size=B, max_size=B),
                               st.lists(st.sampled_from([0, 0, 0, 0, -1, 2]), min_size=B,
                                        max_size=B)), min_size=1, max_size=12))
def test_any_actions_replay_through_the_single_env(case, seed, plan) -> None:
    _replay(*case, seed, plan)


def test_default_rules_are_the_default_opponents() -> None:
    for env_id in ("FirstPriceAuction-v1", "SecondPriceAuction-v1", "AllPayAuction-v1"):
        game = make_game(env_id, {"n_players": 4, "granularity": 30})[0]
        assert agora.envs.spec(env_id).default_opponent == "auction_bne"
        agent = make_agent("auction_bne", game)
        state = game.initial_state(np.random.default_rng(0))
        bids = [agent.act(game.observe(state._replace(values=(v,) * 4), 0))
                for v in range(31)]
        assert bne_table(game).tolist() == bids
    assert agora.envs.spec("DonorGame-v1").default_opponent == "donor_image_scoring"
    assert donor_rule_of("donor_image_scoring").row().tolist() == list(IMAGE_SCORING)


@pytest.mark.parametrize(("env_id", "params", "agent", "rule"), [
    ("FirstPriceAuction-v1", {"rounds": 3, "granularity": 8},
     {"name": "auction_shade", "fraction": 0.3}, bid_rule_of),
    ("AllPayAuction-v1", {"rounds": 2, "granularity": 5}, "auction_truthful", bid_rule_of),
    ("DonorGame-v1", {"n_agents": 6}, {"name": "donor_standing", "threshold": 0.4},
     donor_rule_of),
    ("DonorGame-v1", {"n_agents": 4}, {"name": "donor_cooperator", "fraction": 0.3},
     donor_rule_of),
])
def test_opponents_given_as_data_replay_their_agents(env_id, params, agent, rule) -> None:
    game = make_game(env_id, params)[0]
    data = rule(agent)
    data = data.table(game.params) if hasattr(data, "table") else data.row()
    vec = make_vec(B, env_id, opponent=data, **params)
    singles = [gymnasium.make(f"agora/{env_id}", opponents={
        j: agent for j in range(1, game.num_players)}, **params) for _ in range(B)]
    vobs, _ = vec.reset(seed=3)
    for i, env in enumerate(singles):
        same_row(vobs, i, env.reset(seed=3 + i)[0])
    rng, restart = np.random.default_rng(2), [False] * B
    for _ in range(12):
        acts = _choose(vobs["action_mask"], rng.random(B).tolist(), [0] * B)
        vobs, vrew, vterm, _, _ = vec.step(acts)
        for i, env in enumerate(singles):
            if restart[i]:
                obs, rew, term = env.reset()[0], 0.0, False
            else:
                obs, rew, term, *_ = env.step(int(acts[i]))
            same_row(vobs, i, obs)
            assert (vrew[i], bool(vterm[i])) == (rew, term)
            restart[i] = term


def test_invalid_actions_raise_or_are_penalised() -> None:
    env = make_vec(3, "DonorGame-v1", n_agents=4, on_invalid_action="raise")
    env.reset(seed=0)
    with pytest.raises(IllegalActionError, match="rows \\[1\\]"):
        env.step(np.array([0, 11, 10]))  # 10 units held, 11 cannot be given
    auction = make_vec(2, "FirstPriceAuction-v1", invalid_penalty=-2.5)
    first, _ = auction.reset(seed=0)
    obs, r, *_ = auction.step(np.array([101, 0]))
    assert r[0] == -2.5 and auction.round.tolist() == [0, 1]
    assert np.array_equal(obs["observation"][0], first["observation"][0])  # nothing drawn


def test_bad_configs_name_key_and_value() -> None:
    with pytest.raises(ConfigError, match="schedule='random'"):
        make_vec(2, "DonorGame-v1", schedule="random")
    with pytest.raises(ConfigError, match="self_play"):
        make_vec(4, "DonorGame-v1", n_agents=4, self_play=True)
    with pytest.raises(ConfigError, match="player=3 never donates"):
        make_vec(2, "DonorGame-v1", n_agents=4, rounds=1, player=3)
    with pytest.raises(ConfigError, match="opponent="):
        make_vec(2, "DonorGame-v1", opponent=(4.0, 0.5, 0.5))
    with pytest.raises(ConfigError, match="opponent="):
        make_vec(2, "SecondPriceAuction-v1", opponent=np.arange(102))
    with pytest.raises(ConfigError, match="granularity=0"):
        make_vec(2, "AllPayAuction-v1", granularity=0)
    assert isinstance(make_vec(2, "AllPayAuction-v1"), AuctionVectorEnv)
    assert isinstance(make_vec(2, "DonorGame-v1"), DonorVectorEnv)
    self_play = make_vec(6, "FirstPriceAuction-v1", self_play=True)  # 3 bidders a game
    assert self_play.games == 2 and self_play.tables.shape == (0, 101)


@pytest.mark.slow
def test_rllib_env_runner_samples_the_donor_vector_env() -> None:
    """RLlib 2.60's PPO env runner builds the donor game's vector env through
    ``gymnasium.make_vec(id, vectorization_mode="vector_entry_point", **env_config)`` and
    samples it; every finished episode's rewards are the single env's for its actions
    (the round robin has no chance, so any seed replays it)."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.env.single_agent_env_runner import SingleAgentEnvRunner

    params = {"n_agents": 4, "max_donation": 2, "trace_depth": 1}
    config = (PPOConfig()
              .environment("agora/DonorGame-v1",
                           env_config={"observation_format": "flat", **params})
              .env_runners(num_envs_per_env_runner=8,
                           gym_env_vectorize_mode="vector_entry_point"))
    runner = SingleAgentEnvRunner(config=config)
    assert isinstance(runner.env.unwrapped, DonorVectorEnv)
    episodes = [e for e in runner.sample(num_timesteps=32, random_actions=True) if e.is_done]
    assert len(episodes) >= 8
    for e in episodes:
        single = gymnasium.make("agora/DonorGame-v1", **params)
        single.reset(seed=0)
        rewards = [single.step(int(a))[1] for a in e.get_actions()]
        assert len(e) == 2 and e.get_rewards().tolist() == rewards
