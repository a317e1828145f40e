"""Donor-game populations as arrays: the batched rules equal the core round by round, the
donor rules equal the heuristics (the vector engine's payoffs are the episode loop's),
closed forms, and what cannot be honoured is a ConfigError naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agora.agents import AgentSpec
from agora.agents.base import make_agent
from agora.agents.donor_rule import DonorRule, donations, donor_rule_of
from agora.envs import ConfigError
from agora.envs.core import Status
from agora.envs.errors import GameOverError, IllegalActionError
from agora.envs.games.donor import DONATE, PUNISH, REFUSE, DonorGame, build_trace
from agora.envs.games.donor_vec import DonorVec
from agora.envs.seeding import episode_streams
from agora.experiments.population.config import load_evolve_config, parse_evolve_config
from agora.experiments.population.donor_kernel import play_donor_groups
from agora.experiments.population.engine import PayoffEngine
from agora.experiments.population.evolve import run_evolve

KINDS = {DONATE: 0, PUNISH: 1, REFUSE: 2}
MIX = (AgentSpec("donor_defector"), AgentSpec("donor_cooperator"),
       AgentSpec("donor_cooperator", {"fraction": 0.3}),
       AgentSpec("donor_image_scoring"),
       AgentSpec("donor_image_scoring", {"fraction": 0.75, "threshold": 0.5}),
       AgentSpec("donor_standing"),
       AgentSpec("donor_standing", {"fraction": 0.45, "threshold": 0.1}))


def _core_round(game: DonorGame, states: list[Any], acts: np.ndarray) -> list[Any]:
    """Each game's pairs of the round, one core step each; the rewards summed per agent."""
    out = []
    for g, state in enumerate(states):
        total = np.zeros(game.num_players)
        for a in acts[g].tolist():
            step = game.step(state, (a,), None)
            state, total = step.state, total + np.array(step.rewards)
        out.append((state, total))
    return out


def _check_views(vec: DonorVec, game: DonorGame, state: Any, cores: list[Any]) -> None:
    view, depth = vec.view(state), vec.params.trace_depth
    for g, core in enumerate(cores):
        assert [list(p) for p in core.schedule[core.round]] == state.schedule[g, state.round
                                                                                ].tolist()
        for j, (_, rec) in enumerate(core.schedule[core.round]):
            trace = build_trace(core.history, rec, depth)
            assert view.trace_present[g, j].tolist() == [k < len(trace) for k in range(depth)]
            assert view.trace_kind[g, j, :len(trace)].tolist() == [KINDS[e.kind] for e in trace]
            assert view.trace_fraction[g, j, :len(trace)].tolist() == [e.fraction
                                                                       for e in trace]
            assert view.recipient_resources[g, j] == core.resources[rec]
            assert view.affordable[g, j] == game.affordable(core.resources[view.donor[g, j]])


@settings(max_examples=25, deadline=None)
@given(n=st.sampled_from([2, 4, 6, 7]), depth=st.integers(0, 3), gran=st.sampled_from([1, 3]),
       mult=st.sampled_from([0.5, 1.7, 2.0]), punish=st.booleans(), choice=st.booleans(),
       random=st.booleans(), seed=st.integers(0, 2**31))
def test_batched_rules_equal_the_core_round_by_round(n, depth, gran, mult, punish, choice,
                                                     random, seed):
    if n % 2 and not random:
        n += 1
    params = {"n_agents": n, "endowment": 5, "multiplier": mult, "trace_depth": depth,
              "granularity": gran, "max_donation": 4, "punishment": punish,
              "partner_choice": choice, "schedule": "random" if random else "round_robin",
              "rounds": n + 2}
    game, vec, groups = DonorGame(params), DonorVec(params), 6
    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, 2**62, groups).tolist()
    state = vec.reset(groups, seeds)
    cores = [game.initial_state(episode_streams(s, n).rules) for s in seeds]
    while state.status is Status.RUNNING:
        _check_views(vec, game, state, cores)
        view = vec.view(state)
        acts = np.array([[rng.choice(np.flatnonzero(game.legal_mask(c._replace(pair=j), d)))
                          for j, d in enumerate(row)]
                         for c, row in zip(cores, view.donor.tolist(), strict=True)
                         ]).reshape(view.donor.shape)  # the core's mask at each pair's turn
        state, rewards = vec.step(state, acts)
        done = _core_round(game, cores, acts)
        cores = [c for c, _ in done]
        assert rewards.tolist() == [t.tolist() for _, t in done]
        assert state.resources.tolist() == [list(c.resources) for c in cores]
    assert all(c.status is Status.TERMINATED for c in cores)
    core_metrics = [game.metrics(c) for c in cores]
    for name, values in vec.metrics(state).items():
        assert values.tolist() == [m[name] for m in core_metrics], name
    assert vec.returns(state).tolist() == [list(game.returns(c)) for c in cores]
    with pytest.raises(GameOverError):
        vec.step(state, acts)


@settings(max_examples=20, deadline=None)
@given(depth=st.sampled_from([0, 1, 3]), gran=st.sampled_from([1, 4]),
       seed=st.integers(0, 2**31))
def test_donor_rules_decide_as_the_heuristics_on_random_states(depth, gran, seed):
    """Random play makes varied traces; at every turn every rule gives the agent's act."""
    params = {"n_agents": 6, "endowment": 7, "multiplier": 1.5, "trace_depth": depth,
              "granularity": gran, "rounds": 9}
    game, vec, groups = DonorGame(params), DonorVec(params), 4
    agents = [make_agent(s, game) for s in MIX]
    rows = np.stack([donor_rule_of(s).row() for s in MIX])
    rng = np.random.default_rng(seed)
    state, cores = vec.reset(groups), [game.initial_state(None)] * groups
    while state.status is Status.RUNNING:
        view = vec.view(state)
        decided = [donations(np.broadcast_to(r, (*view.donor.shape, 3)), view, gran)
                   for r in rows]
        acts = rng.integers(0, view.affordable + 1)
        for g in range(groups):
            for j in range(vec.pairs):
                donor = cores[g].schedule[cores[g].round][j][0]
                obs = game.observe(cores[g], donor)
                assert [a.act(obs) for a in agents] == [int(d[g, j]) for d in decided]
                cores[g] = game.step(cores[g], (int(acts[g, j]),), None).state
        state, _ = vec.step(state, acts)
    assert state.resources.tolist() == [list(c.resources) for c in cores]


def _engines(params: dict[str, Any], size: int, seed: int, mix=MIX):
    rng = np.random.default_rng(seed)
    strategy = rng.integers(0, len(mix), size)
    k = DonorGame(params).num_players
    matches = rng.permutation(size).reshape(-1, k)
    engines = [PayoffEngine("DonorGame-v1", params, mix, engine=e) for e in ("auto", "episodes")]
    outs = [e.play(strategy, matches, seed=seed, generation=3) for e in engines]
    return engines, outs, strategy[matches]


@pytest.mark.parametrize("params", [
    {"n_agents": 12, "endowment": 10, "multiplier": 2.0, "trace_depth": 3},
    {"n_agents": 4, "endowment": 7, "multiplier": 1.3, "trace_depth": 1, "rounds": 9},
    {"n_agents": 6, "endowment": 3, "multiplier": 3.0, "trace_depth": 3, "granularity": 4,
     "max_donation": 2, "punishment": True, "partner_choice": True},
    {"n_agents": 5, "endowment": 10, "multiplier": 2.5, "trace_depth": 2,
     "schedule": "random", "rounds": 7},
])
def test_vector_and_episode_engines_give_identical_payoffs(params):
    engines, (vec, eps), seats = _engines(params, 10 * params["n_agents"], 11)
    assert [e.kind for e in engines] == ["vector", "episodes"]
    assert np.array_equal(vec.payoffs, eps.payoffs)
    assert np.array_equal(vec.rounds, eps.rounds)
    assert len({tuple(sorted(set(r))) for r in seats.tolist()}) > 5  # mixed groups
    assert vec.payoffs.any()  # somebody gave something


def test_vector_and_episode_engines_give_the_same_whole_run(tmp_path):
    """The shipped example, shrunk: engine auto picks the vector engine, and every
    generation's table (but the per-seat coop_rate) and the final population equal the
    episodes engine's."""
    cfg = load_evolve_config(Path(__file__).parents[1] / "experiments/configs/evolve_donor.yaml")
    base = {**cfg.model_dump(), "generations": 3, "population": {
        **cfg.model_dump()["population"], "size": 48}}
    runs = [run_evolve(parse_evolve_config({**base, "engine": e}), tmp_path / e,
                       progress=False) for e in ("auto", "episodes")]
    same = [c for c in runs[0].generations.columns if c != "coop_rate"]
    pd.testing.assert_frame_equal(runs[0].generations[same], runs[1].generations[same])
    assert np.array_equal(runs[0].population.strategy, runs[1].population.strategy)
    assert runs[0].generations["mean_payoff"].abs().sum() > 0


def test_the_seats_rates_average_to_the_games_donation_rate():
    """Round robin over a whole schedule: each seat donates n/2 times, so the mean of the
    seats' rates (vector) is the game's donation_rate (episodes)."""
    _, (vec, eps), _ = _engines({"n_agents": 8, "trace_depth": 2}, 64, 2)
    assert np.allclose(vec.coop.mean(axis=1), eps.coop[:, 0], rtol=0, atol=1e-12)
    assert (vec.coop >= 0).all() and (vec.coop <= vec.rounds[:, None]).all()


def test_full_cooperators_reach_the_games_full_cooperation_benchmark():
    params = {"n_agents": 12, "endowment": 10, "multiplier": 2.0}
    res = play_donor_groups(donor_rule_of("donor_cooperator").row()[None],
                            np.zeros((3, 12), np.int64), params)
    values = DonorGame(params).benchmark().values
    assert res.payoffs.sum(axis=1).tolist() == [values["full_cooperation_welfare"] - 120] * 3
    assert res.turns.tolist() == [[6] * 12] * 3 and res.rate().tolist() == [[1.0] * 12] * 3


def test_defectors_keep_the_endowment_and_image_scorers_shun_them():
    """Among image scorers with trace depth 1, a defector is refused once it has withheld:
    with two agents, 0 (defector) then 1 (scorer) alternate as donors."""
    rules = np.stack([donor_rule_of(s).row() for s in ("donor_defector",
                                                        "donor_image_scoring")])
    res = play_donor_groups(rules, np.array([[0, 1], [1, 1], [0, 0]]),
                            {"n_agents": 2, "endowment": 8, "trace_depth": 1})
    # [0,1]: round 1 the defector gives 0; round 2 the scorer sees it and gives nothing.
    # [1,1]: 0 gives 4 (8 -> 4, 1 -> 16), then 1 gives round(0.5 * 16) = 8 (0 -> 20).
    assert res.payoffs.tolist() == [[0.0, 0.0], [12.0, 0.0], [0.0, 0.0]]


def test_engine_auto_falls_back_to_episodes_without_rules():
    mix = (AgentSpec("donor_standing"), AgentSpec("donor_random"))
    assert PayoffEngine("DonorGame-v1", {}, mix).kind == "episodes"
    with pytest.raises(ConfigError, match="engine=vector: strategies \\['donor_random'\\] "
                                          "have no donor rule"):
        PayoffEngine("DonorGame-v1", {}, mix, engine="vector")
    with pytest.raises(ConfigError, match="backend='torch'.*numpy"):
        PayoffEngine("DonorGame-v1", {}, MIX, backend="torch")


@pytest.mark.parametrize("spec, key", [
    ({"name": "donor_cooperator", "fraction": 1.5}, "fraction=1.5"),
    ({"name": "donor_standing", "threshold": True}, "threshold=True"),
    ({"name": "donor_image_scoring", "generosity": 2}, "generosity"),
    ({"name": "donor_defector", "fraction": 0.5}, "fraction"),
])
def test_bad_rule_specs_are_config_errors_naming_the_key(spec, key):
    with pytest.raises(ConfigError, match=key):
        donor_rule_of(spec)


def test_bad_rules_seats_seeds_and_actions_are_typed_errors():
    with pytest.raises(ConfigError, match="kind=7"):
        DonorRule("x", 7, 0.5, 0.5)
    params = {"n_agents": 4}
    rules = np.zeros((2, 3))
    with pytest.raises(ConfigError, match="seats must be a \\(G, 4\\)"):
        play_donor_groups(rules, np.zeros((3, 2), np.int64), params)
    with pytest.raises(ConfigError, match="strategy indices in \\[0, 2\\)"):
        play_donor_groups(rules, np.full((3, 4), 2), params)
    with pytest.raises(ConfigError, match="rules"):
        play_donor_groups(np.zeros((2, 5)), np.zeros((3, 4), np.int64), params)
    with pytest.raises(ConfigError, match="schedule='random' draws .* give 3 seeds"):
        play_donor_groups(rules, np.zeros((3, 4), np.int64), {**params, "schedule": "random"})
    with pytest.raises(ConfigError, match="n_agents=5"):
        DonorVec({"n_agents": 5})
    vec = DonorVec({"n_agents": 4, "endowment": 3, "max_donation": 2})
    with pytest.raises(IllegalActionError, match="illegal donor actions \\[3\\]"):
        vec.step(vec.reset(1), np.array([[0, 3]]))  # 3 > max_donation, no punishment
    with pytest.raises(IllegalActionError, match="int array"):
        vec.step(vec.reset(1), np.array([[0.0, 1.0]]))
