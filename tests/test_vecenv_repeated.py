"""Vector envs of public goods and the oligopolies (agora.envs.vector_repeated).

The batched rules equal the cores float for float (hypothesis over params and actions);
each vector env row replays exactly through the single Gymnasium env with the id's default
opponent (or the PettingZoo Parallel shell, in self-play) reset with seed ``s + i``,
invalid actions and NEXT_STEP restarts included.
"""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vec_replay import replay_rows, same_row

import agora.envs
from agora.agents import make_agent
from agora.agents.group_rule import GroupRule, group_rule_of
from agora.envs import ConfigError, IllegalActionError, make_game
from agora.envs.games.oligopoly.vec import FirmRule, OligopolyVec, default_firm_rule
from agora.envs.games.public_goods_vec import PublicGoodsVec, rule_contributions
from agora.envs.vector import make_vec
from agora.envs.vector_repeated import OligopolyVectorEnv, PublicGoodsVectorEnv

B, T, SEED = 5, 40, 7
MARKETS = {
    "Cournot-v1": {"a": st.floats(20, 200), "b": st.floats(0.1, 3), "q_max": st.integers(1, 60)},
    "Bertrand-v1": {"a": st.floats(20, 200), "b": st.floats(0.1, 3), "p_max": st.integers(20, 60)},
    "BertrandDifferentiated-v1": {"alpha": st.floats(60, 200), "beta": st.floats(2.1, 4),
                                  "gamma": st.floats(0, 0.6), "p_max": st.integers(11, 60)},
    "LogitBertrand-v1": {"mu": st.floats(0.05, 1), "a0": st.floats(-1, 1),
                         "n_prices": st.integers(2, 30)},
}


def _params(env_id: str) -> st.SearchStrategy:
    base = {"n_firms": st.integers(2, 4), "granularity": st.integers(1, 3),
            "cost": st.floats(0, 10)}
    if env_id == "LogitBertrand-v1":
        base = {"n_firms": st.integers(2, 4), "cost": st.floats(0, 1.5)}
    return st.fixed_dictionaries({**base, **MARKETS[env_id], "rounds": st.integers(1, 4)})


def _same_state(vec_state, b: int, core_state) -> None:
    for name in core_state._fields:
        got, want = getattr(vec_state, name)[b], getattr(core_state, name)
        if name == "last":
            want = want or (-1,) * len(got)
        assert np.array_equal(np.asarray(got), np.asarray(want, dtype=np.asarray(got).dtype),
                              equal_nan=True), name


@pytest.mark.parametrize("env_id", list(MARKETS))
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_oligopoly_rules_equal_the_core_step_by_step(env_id: str, data: st.DataObject) -> None:
    params = data.draw(_params(env_id))
    try:
        game, _ = make_game(env_id, params)
    except ConfigError:  # a drawn market the core rejects (e.g. a <= cost)
        return
    vec, g = OligopolyVec(game), 3
    acts = data.draw(st.lists(st.lists(st.integers(0, game.num_actions - 1),
                                       min_size=game.num_players, max_size=game.num_players),
                              min_size=g * game.params.rounds, max_size=g * game.params.rounds))
    state = vec.reset(g)
    cores = [game.initial_state(np.random.default_rng(0)) for _ in range(g)]
    for r in range(game.params.rounds):
        joint = np.array(acts[r * g:(r + 1) * g])
        out = vec.outcome(joint)
        state, profits = vec.step(state, joint)
        for b in range(g):
            want = game.outcome(tuple(acts[r * g + b]))
            assert tuple(out.profits[b]) == want.profits == tuple(profits[b])
            assert tuple(out.quantities[b]) == want.quantities
            assert out.price[b] == want.price
            assert np.array_equal(out.consumer_surplus[b], want.consumer_surplus,
                                  equal_nan=True)
            cores[b] = game.step(cores[b], tuple(acts[r * g + b]), None).state
            _same_state(state, b, cores[b])
            for seat in range(game.num_players):
                assert np.array_equal(vec.encode(state.round, state.last, seat)[b],
                                      game.encode(cores[b], seat))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 5), e=st.integers(1, 30), m=st.floats(0.1, 6),
       data=st.data())
def test_public_goods_payoffs_and_encoding_equal_the_core(n, e, m, data) -> None:
    game, _ = make_game("PublicGoods-v1", {"n_players": n, "endowment": e, "multiplier": m})
    vec = PublicGoodsVec(game.params)
    joint = np.array(data.draw(st.lists(st.integers(0, e), min_size=n, max_size=n)))[None]
    state = game.step(game.initial_state(np.random.default_rng(0)), tuple(joint[0]), None).state
    assert tuple(vec.payoffs(joint)[0]) == game.step(
        game.initial_state(np.random.default_rng(0)), tuple(joint[0]), None).rewards
    for seat in range(n):
        assert np.array_equal(vec.encode(np.array([1]), joint, seat)[0],
                              game.encode(state, seat))
        assert np.array_equal(vec.encode(np.array([0]), np.full((1, n), -1), seat)[0],
                              game.encode(game.initial_state(np.random.default_rng(0)), seat))


@settings(max_examples=40, deadline=None)
@given(row=st.tuples(*[st.floats(0, 1)] * 2, st.floats(0, 3), *[st.floats(0, 1)] * 2),
       last=st.lists(st.integers(0, 20), min_size=2, max_size=5))
def test_rule_contributions_equal_group_rule(row, last) -> None:
    rule = GroupRule("r", *row)
    got = rule_contributions(np.tile(rule.row(), (1, len(last), 1)), np.array([last]), 20)
    for i in range(len(last)):
        assert got[0, i] == rule.contribution(20, tuple(last[:i] + last[i + 1:]))


def test_default_firm_rules_are_the_default_opponents() -> None:
    for env_id, name in [("Cournot-v1", "cournot_nash"),
                         ("BertrandDifferentiated-v1", "bertrand_nash"),
                         ("LogitBertrand-v1", "bertrand_nash")]:
        game, _ = make_game(env_id)
        assert agora.envs.spec(env_id).default_opponent == name
        agent = make_agent(name, game)
        view = game.observe(game.initial_state(np.random.default_rng(0)), 1)
        assert default_firm_rule(game) == FirmRule(agent.act(view))
    bertrand = make_game("Bertrand-v1")[0]  # opens at the monopoly price (a + c) / 2 = 70
    p = bertrand.params
    assert default_firm_rule(bertrand) == FirmRule(round((p.a + p.cost) / 2), True, p.cost)


def _actions(rng: np.random.Generator, n: int, top: int, invalid: float) -> np.ndarray:
    a = rng.integers(0, top + 1, n)
    return np.where(rng.random(n) < invalid, rng.choice([-1, top + 1], n), a)


CASES = [
    ("PublicGoods-v1", {"n_players": 3, "rounds": 3}, {}),
    ("PublicGoods-v1", {"n_players": 4, "endowment": 7, "rounds": 4},
     {"observation_format": "flat", "reward_scale": 0.1, "player": 2}),
    ("Cournot-v1", {"rounds": 3, "q_max": 50}, {"observation_format": "rllib"}),
    ("Bertrand-v1", {"n_firms": 3, "rounds": 4, "granularity": 2}, {"player": 1}),
    ("BertrandDifferentiated-v1", {"rounds": 2}, {"reward_scale": 0.01}),
    ("LogitBertrand-v1", {"rounds": 3}, {}),
]


@pytest.mark.parametrize(("env_id", "params", "shell"), CASES)
def test_rows_replay_through_the_single_env(env_id, params, shell) -> None:
    rng = np.random.default_rng(3)

    def choose(step: int, masks: np.ndarray) -> np.ndarray:
        return _actions(rng, B, masks.shape[1] - 1, 0.12)

    assert replay_rows(env_id, params, shell, SEED, B, T, choose, 2) >= B


@pytest.mark.parametrize(("env_id", "params"), [
    ("PublicGoods-v1", {"n_players": 3, "rounds": 3}),
    ("Bertrand-v1", {"rounds": 3, "p_max": 40}),
])
def test_self_play_rows_replay_through_the_parallel_shell(env_id, params) -> None:
    n = make_game(env_id, params)[0].num_players
    vec = make_vec(B * n, env_id, self_play=True, max_invalid_actions=2, **params)
    shells = [agora.envs.make(env_id, on_invalid_action="penalty", max_invalid_actions=2,
                              **params) for _ in range(B)]
    vobs, _ = vec.reset(seed=SEED)
    for g, env in enumerate(shells):
        obs, _ = env.reset(seed=SEED + g)
        for p in range(n):
            same_row(vobs, n * g + p, obs[f"player_{p}"])
    rng, ends = np.random.default_rng(4), 0
    for _ in range(T):
        acts = _actions(rng, B * n, vec.num_actions - 1, 0.05)
        vobs, vrew, vterm, vtrunc, _ = vec.step(acts)
        for g, env in enumerate(shells):
            if not env.agents:
                obs, _ = env.reset()
                rew = term = trunc = dict.fromkeys(obs, 0.0)
            else:
                obs, rew, term, trunc, _ = env.step(
                    {f"player_{p}": int(acts[n * g + p]) for p in range(n)})
            for p in range(n):
                row, name = n * g + p, f"player_{p}"
                same_row(vobs, row, obs[name])
                assert (vrew[row], vterm[row], vtrunc[row]) == (rew[name], term[name],
                                                                 trunc[name])
            ends += not env.agents
    assert ends >= B


@pytest.mark.parametrize(("env_id", "params", "agent", "rule"), [
    ("PublicGoods-v1", {"rounds": 4}, {"name": "threshold_contributor", "threshold": 0.4},
     None),
    ("Cournot-v1", {"rounds": 3}, {"name": "cournot_collusive"}, FirmRule(30)),
    ("Bertrand-v1", {"rounds": 5}, {"name": "bertrand_undercut", "first_price": 60},
     FirmRule(60, True, 10)),
])
def test_opponents_given_as_data_replay_their_agents(env_id, params, agent, rule) -> None:
    game = make_game(env_id, params)[0]
    if rule is None:
        rule = group_rule_of(agent).row()
    vec = make_vec(B, env_id, opponent=rule, **params)
    singles = [gymnasium.make(f"agora/{env_id}", opponents={
        j: agent for j in range(1, game.num_players)}, **params) for _ in range(B)]
    vobs, _ = vec.reset(seed=0)
    for i, env in enumerate(singles):
        env.reset(seed=i)
    rng = np.random.default_rng(9)
    for _ in range(3 * params["rounds"]):
        acts = rng.integers(0, game.num_actions, B)
        _, vrew, vterm, _, _ = vec.step(acts)
        for i, env in enumerate(singles):
            if env.unwrapped.state_.round == params["rounds"]:
                env.reset()
                assert vrew[i] == 0.0
            else:
                assert env.step(int(acts[i]))[1] == vrew[i]


def test_invalid_actions_raise_or_are_penalised() -> None:
    env = make_vec(3, "Cournot-v1", on_invalid_action="raise")
    env.reset(seed=0)
    with pytest.raises(IllegalActionError, match="rows \\[2\\]"):
        env.step(np.array([0, 1, 121]))
    with pytest.raises(IllegalActionError, match="shape"):
        env.step(np.array([0.0, 1.0, 2.0]))
    pen = make_vec(2, "PublicGoods-v1", invalid_penalty=-3.0)
    pen.reset(seed=0)
    _, r, *_ = pen.step(np.array([-1, 0]))
    assert r[0] == -3.0 and pen.round.tolist() == [0, 1]


def test_bad_configs_name_key_and_value() -> None:
    with pytest.raises(ConfigError, match="num_envs=6"):
        make_vec(6, "PublicGoods-v1", self_play=True)  # 4 players a game
    with pytest.raises(ConfigError, match="player=2"):
        make_vec(2, "Cournot-v1", player=2)
    with pytest.raises(ConfigError, match="opponent="):
        make_vec(2, "PublicGoods-v1", opponent=(0.5, 0.0, 1.0, 0.0, 1.5))
    with pytest.raises(ConfigError, match="opening=500"):
        make_vec(2, "Cournot-v1", opponent=500)
    with pytest.raises(ConfigError, match="backend='torch'"):
        make_vec(2, "Bertrand-v1", backend="torch")
    with pytest.raises(ConfigError, match="reward_scale=0"):
        make_vec(2, "Bertrand-v1", reward_scale=0)
    with pytest.raises(ConfigError, match="observation_format='flat'"):
        make_vec(2, "RepeatedPD-v1", observation_format="flat")
    assert isinstance(make_vec(2, "LogitBertrand-v1"), OligopolyVectorEnv)
    assert isinstance(make_vec(6, "PublicGoods-v1", n_players=3, self_play=True),
                      PublicGoodsVectorEnv)


@pytest.mark.slow
def test_rllib_env_runner_samples_the_vector_env() -> None:
    """RLlib 2.60's PPO env runner builds the env with ``gymnasium.make_vec(id,
    vectorization_mode="vector_entry_point", **env_config)`` and samples it (NEXT_STEP is
    the autoreset it expects); every finished episode's rewards are the core's profits
    against the default opponent (``cournot_nash``: q = 40)."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.env.single_agent_env_runner import SingleAgentEnvRunner

    params = {"rounds": 3, "q_max": 60}
    config = (PPOConfig()
              .environment("agora/Cournot-v1",
                           env_config={"observation_format": "flat", **params})
              .env_runners(num_envs_per_env_runner=8,
                           gym_env_vectorize_mode="vector_entry_point"))
    runner = SingleAgentEnvRunner(config=config)
    assert isinstance(runner.env.unwrapped, OligopolyVectorEnv)
    episodes = [e for e in runner.sample(num_timesteps=48, random_actions=True) if e.is_done]
    game = make_game("Cournot-v1", params)[0]
    assert len(episodes) >= 8
    for e in episodes:
        profits = [game.outcome((int(a), 40)).profits[0] for a in e.get_actions()]
        assert len(e) == 3 and e.get_rewards().tolist() == profits
