"""LLM societies: cultural evolution of strategy texts (Vallinder & Hughes) against a scripted
OpenAI-compatible server (the real litellm path), selection rules, resume after a budget
stop, and the shipped config end to end on the embedded model."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from fake_openai import FakeOpenAI  # noqa: E402

from agora.envs import ConfigError, make_game  # noqa: E402
from agora.envs.seeding import episode_streams  # noqa: E402
from agora.experiments.population.culture import (  # noqa: E402
    assign_models,
    derived_seed,
    load_society_config,
    parse_society_config,
    run_society,
    select,
    text_measures,
)

CONFIGS = Path(__file__).parents[1] / "experiments" / "configs"
_DIGIT = re.compile(r"donate (\d) units")


def scripted(body: dict[str, Any]) -> str:
    """Strategy prompts get 'donate d units' (d from the request's seed); game turns donate
    the d of the agent's own strategy (read from its persona), or all it has if less."""
    messages = body["messages"]
    if "My strategy will be" in messages[-1]["content"]:
        return f"My strategy will be to donate {body['seed'] % 4} units to anyone."
    d = int(_DIGIT.search(messages[0]["content"]).group(1))
    have = int(re.search(r"You have (\d+)", messages[-1]["content"]).group(1))
    return json.dumps({"donate": min(d, have)})


def _cfg(server: FakeOpenAI, cache: Path, **over: Any) -> Any:
    model = {"model": "openai/fake", "api_base": server.url, "cache_dir": str(cache),
             "max_retries": 0, **over.pop("model", {})}
    data = {"name": "vh-fake", "agents": 6, "generations": 3, "seeds": [0, 1],
            "models": [model], "agent": {"memory": "none"}, **over}
    return parse_society_config(data)


@pytest.fixture(scope="module")
def server():
    with FakeOpenAI(content=scripted) as s:
        yield s


@pytest.fixture(scope="module")
def straight(server: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory):
    """One uninterrupted run (and the requests it sent)."""
    tmp = tmp_path_factory.mktemp("straight")
    before = server.count
    summary = run_society(_cfg(server, tmp / "cache"), tmp / "run", progress=False)
    return summary, server.count - before, tmp / "cache"


def test_a_run_records_every_generation_strategy_and_move(straight):
    summary, requests, _ = straight
    t = summary.tables
    assert summary.status == "ok" and summary.generations_done == 6
    gens, agents, calls = t["generations"], t["agents"], t["calls"]
    assert sorted(zip(gens.run_seed, gens.generation)) == [(s, g) for s in (0, 1)
                                                           for g in (1, 2, 3)]
    # 6 strategies in generation 1, then 3 newcomers; 6 rounds x 3 donors per generation
    per_seed = calls.groupby(["run_seed", "phase"]).size().unstack()
    assert per_seed["strategy"].tolist() == [6 + 3 + 3] * 2
    assert per_seed["game"].tolist() == [3 * 18] * 2
    assert requests == len(calls) and calls["cached"].sum() == 0
    assert (gens["newcomers"].tolist() == [6, 3, 3] * 2)
    assert agents["strategy"].str.startswith("My strategy will be").all()


def test_scores_are_the_cores_own_replay_and_survivors_the_top_half(straight):
    t = straight[0].tables
    game, _ = make_game("DonorGame-v1", {"n_agents": 6, "endowment": 10, "multiplier": 2.0,
                                         "trace_depth": 3})
    for (seed, gen), moves in t["events"].groupby(["run_seed", "generation"]):
        rng, _, _ = episode_streams(derived_seed(seed, gen, 0), 6)
        state = game.initial_state(rng)
        for a in moves.sort_values("step")["action"]:
            state = game.step(state, (int(a),), rng).state
        ag = t["agents"].query("run_seed == @seed and generation == @gen").sort_values("slot")
        assert ag["resources"].tolist() == list(state.resources)
        assert ag["score"].tolist() == [r - 10 for r in state.resources]
        top = ag.sort_values("score", ascending=False)["score"].iloc[:3].min()
        assert (ag.loc[ag.survived, "score"] >= top).all() and ag.survived.sum() == 3


def test_survivors_keep_their_strategies_and_newcomers_read_their_advice(straight):
    t = straight[0].tables
    a = t["agents"]
    for seed in (0, 1):
        for gen in (1, 2):
            mine = a[a.run_seed == seed]
            kept = mine[(mine.generation == gen) & mine.survived]
            nxt = mine[mine.generation == gen + 1]
            assert set(kept.agent) < set(nxt.agent)
            assert dict(zip(kept.agent, kept.strategy)) == {
                r.agent: r.strategy for r in nxt.itertuples() if r.agent in set(kept.agent)}
            assert (nxt.loc[~nxt.agent.isin(kept.agent), "born"] == gen + 1).all()
    prompt = t["calls"].query("phase == 'strategy' and generation == 2").messages.iloc[0]
    kept = a.query("run_seed == 0 and generation == 1 and survived")
    for r in kept.itertuples():
        assert f"{r.agent} (score {r.resources:g}): {r.strategy}" in json.loads(prompt)[1][
            "content"]


def test_generation_measures_follow_from_the_agents(straight):
    t = straight[0].tables
    g = t["generations"].set_index(["run_seed", "generation"])
    for (seed, gen), ag in t["agents"].groupby(["run_seed", "generation"]):
        row = g.loc[(seed, gen)]
        assert row["final_resources"] == pytest.approx(ag["resources"].mean())
        assert row["mean_score"] == pytest.approx(ag["score"].mean())
        assert row["strategy_words"] == pytest.approx(ag["strategy_words"].mean())
        ev = t["events"].query("run_seed == @seed and generation == @gen")
        assert row["mean_donation"] == pytest.approx(ev["action"].mean())


def test_a_budget_stop_resumes_to_the_same_records_with_no_call_repeated(
        server: FakeOpenAI, straight, tmp_path: Path):
    before = server.count
    stopped = run_society(_cfg(server, tmp_path / "cache", model={"max_calls": 60}),
                          tmp_path / "run", progress=False)
    assert stopped.status == "stopped" and "budget" in json.loads(
        (tmp_path / "run" / "manifest.json").read_text())["error"]
    assert 0 < stopped.generations_done < 6
    first = server.count - before
    assert first == 60
    done = run_society(_cfg(server, tmp_path / "cache"), tmp_path / "run", resume=True,
                       progress=False)
    assert done.status == "ok"
    assert first + (server.count - before - first) == straight[1]  # no call sent twice
    timing = ["latency_s", "duration_s", "cached", "requests", "cache_hits"]  # how, not what
    for name, table in straight[0].tables.items():
        again = done.tables[name].drop(columns=timing, errors="ignore")
        assert_frame = table.drop(columns=timing, errors="ignore")
        pd.testing.assert_frame_equal(again.reset_index(drop=True),
                                      assert_frame.reset_index(drop=True), check_dtype=False)


def test_a_mixture_keeps_its_model_shares(server: FakeOpenAI, tmp_path: Path):
    base = {"api_base": server.url, "cache_dir": str(tmp_path), "max_retries": 0}
    cfg = parse_society_config({
        "name": "mix", "agents": 6, "generations": 3, "agent": {"memory": "none"},
        "models": [{"model": {"model": "openai/fake-a", **base}, "share": 0.5},
                   {"model": {"model": "openai/fake-b", **base}, "share": 0.5}]})
    t = run_society(cfg, tmp_path / "run", progress=False).tables
    shares = t["agents"].groupby("generation")["model"].value_counts().unstack()
    assert (shares == 3).all().all()
    calls = t["calls"].merge(t["agents"][["generation", "agent", "model"]],
                             on=["generation", "agent"], suffixes=("", "_agent"))
    assert (calls["model"] == calls["model_agent"]).all()  # every call by the agent's model


def test_the_cli_replays_a_run_from_the_cache_and_plots_it(server: FakeOpenAI, straight,
                                                            tmp_path: Path):
    from agora.analysis.plots import plot_society
    from agora.experiments.cli import main
    from agora.experiments.population.society_store import read_society

    cfg = _cfg(server, straight[2]).model_dump()
    (tmp_path / "vh.yaml").write_text(yaml.safe_dump(cfg))
    before = server.count
    assert main(["society", str(tmp_path / "vh.yaml"), "--out", str(tmp_path / "run"),
                 "--quiet"]) == 0
    assert server.count == before  # every answer came from the straight run's cache
    tables = read_society(tmp_path / "run")
    assert tables["agents"]["strategy"].tolist() == straight[0].tables["agents"][
        "strategy"].tolist()
    png = plot_society(tables["generations"], tmp_path / "vh.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["society", str(tmp_path / "vh.yaml"), "--resume"]) == 2  # needs --out


# ----- pure parts -------------------------------------------------------------------
def test_assign_models_by_largest_remainder():
    assert assign_models([1], 3) == [0, 0, 0]
    assert assign_models([0.5, 0.25, 0.25], 6) == [0, 0, 0, 1, 1, 2]
    assert sorted(set(assign_models([1, 1, 1], 12))) == [0, 1, 2]


def test_top_k_keeps_the_best_and_breaks_ties_at_random():
    rng = np.random.default_rng(1)
    assert select([5, 1, 9, 3, 7, 2], 3, "top_k", rng) == [2, 4, 0]
    picks = {tuple(select([4, 4, 4, 1], 1, "top_k", rng)) for _ in range(60)}
    assert picks == {(0,), (1,), (2,)}


def test_proportional_selection_matches_its_probabilities():
    rng, n = np.random.default_rng(2), 6_000
    scores = [0.0, 1.0, 3.0]  # weights score - min + 1: 1, 2, 4
    hits = np.bincount([select(scores, 1, "proportional", rng)[0] for _ in range(n)],
                       minlength=3) / n
    p = np.array([1, 2, 4]) / 7
    assert np.all(np.abs(hits - p) < 4 * np.sqrt(p * (1 - p) / n))


def test_tournament_of_two_picks_the_better_of_a_random_pair():
    rng, n = np.random.default_rng(3), 6_000
    scores = [10.0, 20.0, 30.0, 40.0]  # rank r from the bottom wins r of the 6 pairs
    hits = np.bincount([select(scores, 1, "tournament", rng)[0] for _ in range(n)],
                       minlength=4) / n
    p = np.array([0, 1, 2, 3]) / 6
    assert np.all(np.abs(hits - p) <= 4 * np.sqrt(p * (1 - p) / n))
    assert sorted(select(scores, 3, "tournament", rng, size=4)) == [1, 2, 3]


def test_text_measures_count_words_by_stem():
    m = text_measures("My strategy will be to reciprocate, reward trust and punish defectors.")
    assert m == {"strategy_words": 11, "reciprocity_words": 3, "punishment_words": 2}


def test_config_errors_name_the_key_and_value():
    with pytest.raises(ConfigError, match="selection.keep"):
        parse_society_config({"name": "x", "models": ["openai/x"], "selection": {"keep": 1}})
    with pytest.raises(ConfigError, match="n_agents"):
        parse_society_config({"name": "x", "models": ["openai/x"], "agents": 5})
    with pytest.raises(ConfigError, match=r"\['persona'\]"):
        parse_society_config({"name": "x", "models": ["openai/x"], "agent": {"persona": "a"}})
    with pytest.raises(ConfigError, match="cooperation_metric='nope'"):
        parse_society_config({"name": "x", "models": ["openai/x"],
                              "cooperation_metric": "nope"})


def test_the_shipped_config_is_the_papers_protocol():
    cfg = load_society_config(CONFIGS / "vallinder_hughes.yaml")
    game, _ = make_game(cfg.env, cfg.game_params())
    p = game.params
    assert (cfg.agents, cfg.generations, cfg.survivors(), cfg.selection.rule) == (
        12, 10, 6, "top_k")
    assert (p.endowment, p.multiplier, p.trace_depth, game.num_rounds) == (10, 2.0, 3, 12)
    assert cfg.models[0].model.model == "local/gemma-3-270m"
    assert math.isclose(cfg.models[0].share, 1.0)


@pytest.mark.slow
def test_the_shipped_config_runs_end_to_end_on_the_embedded_model(tmp_path: Path):
    pytest.importorskip("llama_cpp")
    cfg = load_society_config(CONFIGS / "vallinder_hughes.yaml")
    small = parse_society_config({**cfg.model_dump(), "agents": 2, "generations": 2,
                                  "seeds": [0], "params": {**cfg.params, "rounds": 1},
                                  "strategy": {**cfg.strategy.model_dump(), "max_tokens": 16},
                                  "agent": {**cfg.agent, "max_tokens": 12},
                                  "models": [{"model": {**cfg.models[0].model.__dict__,
                                                        "cache_dir": str(tmp_path / "c")}}]})
    summary = run_society(small, tmp_path / "run", progress=False)
    t = summary.tables
    assert summary.status == "ok" and len(t["generations"]) == 2
    assert len(t["agents"]) == 4 and t["agents"]["strategy"].str.len().gt(0).all()
    assert len(t["events"]) == 2  # 1 round x 1 pair, 2 generations
    assert t["calls"].groupby("phase").size().to_dict() == {"game": 2, "strategy": 3}
