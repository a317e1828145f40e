"""Culture societies of a 2-player game: agents paired each generation (round robin or a
random matching), scores the sums of their episodes' payoffs replayed through the core."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from fake_openai import FakeOpenAI  # noqa: E402

from agora.envs import ConfigError, make_game  # noqa: E402
from agora.envs.seeding import episode_streams  # noqa: E402
from agora.experiments.population.culture import (  # noqa: E402
    derived_seed,
    matches,
    parse_society_config,
    run_society,
)

ROUNDS = 1


def scripted(body: dict[str, Any]) -> str:
    """Strategy prompts: cooperate for an even request seed, else defect; game turns play
    what the agent's own strategy (in its persona) says."""
    messages = body["messages"]
    if "My strategy will be" in messages[-1]["content"]:
        move = "cooperate" if body["seed"] % 2 == 0 else "defect"
        return f"My strategy will be to {move} always."
    move = "defect" if "to defect always" in messages[0]["content"] else "cooperate"
    return json.dumps({"action": move})


@pytest.fixture(scope="module")
def server():
    with FakeOpenAI(content=scripted) as s:
        yield s


def _cfg(server: FakeOpenAI, tmp: Path, pairing: str, **over: Any) -> Any:
    model = {"model": "openai/fake", "api_base": server.url, "cache_dir": str(tmp / "c"),
             "max_retries": 0}
    return parse_society_config({
        "name": "pd", "env": "RepeatedPD-v1", "params": {"rounds": ROUNDS}, "agents": 4,
        "generations": 2, "seeds": [0], "models": [model], "pairing": pairing,
        "agent": {"memory": "none"}, "cooperation_metric": "mutual_action0_rate", **over})


def _replayed_scores(t: dict[str, Any]) -> dict[tuple[int, int, str], float]:
    """Each agent's score per generation: its episodes' recorded moves through the core."""
    game, _ = make_game("RepeatedPD-v1", {"rounds": ROUNDS})
    calls = t["calls"].query("phase == 'game'")
    seat = {(r.run_seed, r.generation, r.match, r.actor): r.agent for r in calls.itertuples()}
    out: dict[tuple[int, int, str], float] = {}
    for (s, g, m), ev in t["events"].groupby(["run_seed", "generation", "match"]):
        rng, _, _ = episode_streams(derived_seed(s, g, 2, m), 2)
        state, total = game.initial_state(rng), [0.0, 0.0]
        for _, step in ev.sort_values(["step", "actor"]).groupby("step"):
            res = game.step(state, tuple(int(a) for a in step["action"]), rng)
            state, total = res.state, [x + r for x, r in zip(total, res.rewards, strict=True)]
        for j in (0, 1):
            key = (s, g, seat[(s, g, m, j)])
            out[key] = out.get(key, 0.0) + total[j]
    return out


def test_round_robin_plays_every_ordered_pair_and_scores_are_the_cores(
        server: FakeOpenAI, tmp_path: Path):
    before = server.count
    summary = run_society(_cfg(server, tmp_path, "round_robin"), tmp_path / "r",
                          progress=False)
    t = summary.tables
    assert summary.status == "ok" and summary.generations_done == 2
    per = t["calls"].groupby(["run_seed", "generation", "phase"]).size()
    # 4 strategies, then 2 newcomers; 12 ordered pairs x ROUNDS x 2 players
    assert per.xs("strategy", level="phase").tolist() == [4, 2]
    assert per.xs("game", level="phase").tolist() == [12 * ROUNDS * 2] * 2
    assert server.count - before == len(t["calls"])
    games = t["calls"].query("phase == 'game'")
    assert (games.groupby(["run_seed", "generation", "agent"]).size() == 6 * ROUNDS).all()
    replay = _replayed_scores(t)
    assert {(r.run_seed, r.generation, r.agent): r.score
            for r in t["agents"].itertuples()} == replay
    for r in t["agents"].itertuples():  # a cooperator's moves follow its strategy text
        mine = games.query("run_seed == @r.run_seed and generation == @r.generation "
                           "and agent == @r.agent")
        want = "defect" if "defect" in r.strategy else "cooperate"
        assert set(mine["completion"]) == {json.dumps({"action": want})}


def test_random_pairs_play_one_match_each_and_survivors_are_the_best(
        server: FakeOpenAI, tmp_path: Path):
    t = run_society(_cfg(server, tmp_path, "random", generations=3), tmp_path / "r",
                    progress=False).tables
    games = t["calls"].query("phase == 'game'")
    assert games.groupby(["run_seed", "generation"]).size().tolist() == [2 * ROUNDS * 2] * 3
    assert (games.groupby(["run_seed", "generation", "agent"]).size() == ROUNDS).all()
    assert {(r.run_seed, r.generation, r.agent): r.score
            for r in t["agents"].itertuples()} == _replayed_scores(t)
    for _, ag in t["agents"].groupby(["run_seed", "generation"]):
        assert ag.survived.sum() == 2
        assert ag.loc[ag.survived, "score"].min() >= ag.loc[~ag.survived, "score"].max()


def test_matches_cover_the_population():
    import numpy as np

    rr = matches("round_robin", 4, np.random.default_rng(0))
    assert len(rr) == 12 and len(set(rr)) == 12
    pairs = matches("random", 6, np.random.default_rng(1))
    assert sorted(i for p in pairs for i in p) == list(range(6))


def test_pairing_needs_a_two_player_game_and_an_even_population(tmp_path: Path):
    with pytest.raises(ConfigError, match="pairing='round_robin'.*DonorGame-v1 has 12"):
        parse_society_config({"name": "x", "models": ["openai/x"], "pairing": "round_robin"})
    with pytest.raises(ConfigError, match="agents=5"):
        parse_society_config({"name": "x", "models": ["openai/x"], "env": "RepeatedPD-v1",
                              "params": {}, "agents": 5, "pairing": "random",
                              "cooperation_metric": "efficiency"})
    cfg = parse_society_config({"name": "x", "models": ["openai/x"], "env": "Ultimatum-v1",
                                "params": {}, "agents": 4, "pairing": "round_robin",
                                "cooperation_metric": "efficiency"})
    assert cfg.game_params() == {}
