"""Archetype-batched populations: calls scale with archetypes, not agents; the population's
action shares match the archetypes' answer distributions; payoffs equal the core's."""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agora.agents.llm.model import Completion, LanguageModel, Message, Sampling
from agora.envs import ConfigError, make_game
from agora.experiments.population.archetypes import (
    load_archetype_config,
    parse_archetype_config,
    pay_pairs,
    run_archetypes,
    sample_actions,
)

CONFIGS = Path(__file__).parents[1] / "experiments" / "configs"
P_COOP = {("young", "often"): 0.9, ("young", "rarely"): 0.4, ("old", "often"): 0.7,
          ("old", "rarely"): 0.1}


class Scripted(LanguageModel):
    """Cooperates with the archetype's probability in P_COOP (the call's seed decides),
    answering ``garbage`` for a seed divisible by 13 (an invalid answer)."""

    name = "scripted"

    def __init__(self) -> None:
        self.calls = 0

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        self.calls += 1
        age, trust = re.search(r"You are (\w+) and (\w+) trust", messages[0]["content"]
                               ).groups()
        if sampling.seed % 13 == 0:
            return Completion("no idea", "scripted")
        coop = (sampling.seed % 1000) / 1000 < P_COOP[(age, trust)]
        return Completion(json.dumps({"action": "cooperate" if coop else "defect"}),
                          "scripted", tokens_in=10, tokens_out=4)


def _cfg(agents: int, steps: int = 2, samples: int = 40) -> dict:
    return {"name": "arch", "model": "openai/scripted", "agents": agents, "steps": steps,
            "samples": samples, "persona": "You are {age} and {trust} trust strangers.",
            "attributes": {"age": {"values": ["young", "old"], "shares": [0.7, 0.3]},
                           "trust": {"values": ["often", "rarely"]}}}


@pytest.mark.parametrize("agents", [10, 2_000, 200_000])
def test_calls_are_archetypes_times_samples_times_steps(agents: int):
    model = Scripted()
    res = run_archetypes(parse_archetype_config(_cfg(agents, steps=3, samples=5)),
                         model=model)
    assert model.calls == len(res.calls) == 4 * 5 * 3
    assert res.population["calls"].tolist() == [20, 20, 20]
    assert res.steps.groupby("step")["agents"].sum().tolist() == [agents] * 3


def test_population_shares_match_the_archetype_distributions():
    res = run_archetypes(parse_archetype_config(_cfg(100_000)), model=Scripted())
    for row in res.steps.itertuples():
        seeds = res.calls.query("step == @row.step and archetype == @row.archetype")
        valid = seeds[seeds["error"].isna()]
        coop = (valid["completion"] == '{"action": "cooperate"}').mean()
        assert row.p_action[0] == pytest.approx(coop)  # the answers' own shares
        assert row.invalid == len(seeds) - len(valid)
        p, n = row.p_action[0], row.agents
        assert abs(row.share_action[0] - p) <= 4 * np.sqrt(p * (1 - p) / n) + 1e-12
    young = np.mean(res.archetype < 2)  # archetype index = age * 2 + trust
    assert abs(young - 0.7) < 4 * np.sqrt(0.21 / 100_000)


def test_vectorised_payoffs_equal_the_cores():
    game, _ = make_game("RepeatedPD-v1", {"rounds": 1})
    table = np.asarray(game.params.payoffs, dtype=float)
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 2, 1001)
    partner, pay = pay_pairs(table, actions, np.random.default_rng(1))
    assert (partner == -1).sum() == 1 and pay[partner == -1].tolist() == [0.0]
    order = np.random.default_rng(1).permutation(1001)
    for r, c in zip(order[0:1000:2], order[1::2]):
        _, rewards = game.step(game.initial_state(rng), (int(actions[r]), int(actions[c])),
                               rng)
        assert (pay[r], pay[c]) == rewards and partner[r] == c and partner[c] == r
    for a0, a1 in itertools.product((0, 1), repeat=2):
        _, rewards = game.step(game.initial_state(rng), (a0, a1), rng)
        assert tuple(table[a0, a1]) == rewards


def test_sample_actions_follows_each_row():
    dist = np.array([[0.25, 0.75], [1.0, 0.0]])
    arch = np.repeat([0, 1], 50_000)
    acts = sample_actions(dist, arch, np.random.default_rng(5))
    assert acts[50_000:].tolist() == [0] * 50_000
    assert abs(acts[:50_000].mean() - 0.75) < 4 * np.sqrt(0.75 * 0.25 / 50_000)


def test_config_errors_name_the_key():
    with pytest.raises(ConfigError, match="persona uses"):
        parse_archetype_config({**_cfg(10), "persona": "You are {age}."})
    with pytest.raises(ConfigError, match="env='DonorGame-v1'"):
        parse_archetype_config({**_cfg(10), "env": "DonorGame-v1", "params": {}})
    with pytest.raises(ConfigError, match=r"attributes.age: .*shares \[1.0, 2.0\]"):
        parse_archetype_config({**_cfg(10), "attributes": {
            "age": {"values": ["a"], "shares": [1, 2]}, "trust": {"values": ["b"]}}})


@pytest.mark.slow
def test_the_shipped_config_runs_on_the_embedded_model(tmp_path: Path):
    pytest.importorskip("llama_cpp", reason="the embedded model needs the 'local' extra")
    cfg = load_archetype_config(CONFIGS / "archetypes_pd.yaml")
    small = parse_archetype_config({**cfg.model_dump(), "steps": 1, "samples": 1,
                                    "max_tokens": 12,
                                    "model": {**cfg.model.__dict__,
                                              "cache_dir": str(tmp_path / "c")}})
    res = run_archetypes(small, tmp_path / "run")
    n_arch = len(small.archetypes())
    assert res.status == "ok" and len(res.calls) == n_arch * 1 * 1
    assert res.population["agents"].tolist() == [small.agents]
    assert (tmp_path / "run" / "population.parquet").exists()


class Kill(Exception):
    """The process dying (a stand-in for SIGKILL in one process)."""


class Killed(Scripted):
    """Answers like :class:`Scripted` until ``after`` answers, then every call dies (the
    process is killed mid-step: nothing of that step is committed)."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after
        self._lock = threading.Lock()

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        with self._lock:
            if self.calls >= self.after:
                raise Kill("killed")
            return super().complete(messages, sampling)


def test_a_killed_run_resumes_at_the_next_step_with_no_call_repeated(tmp_path: Path):
    cfg = parse_archetype_config(_cfg(3_000, steps=4, samples=5))
    whole = Scripted()
    straight = run_archetypes(cfg, tmp_path / "straight", model=whole)
    killed = Killed(after=2 * 20)  # 4 archetypes x 5 samples per step: dies in step 2
    with pytest.raises(Kill):
        run_archetypes(cfg, tmp_path / "run", model=killed)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert sorted(p.name for p in (tmp_path / "run" / "parts").iterdir())[-1].startswith(
        "step_00001.")
    rest = Scripted()
    resumed = run_archetypes(cfg, tmp_path / "run", model=rest)
    assert resumed.status == "ok" and rest.calls == 2 * 20  # steps 2 and 3 only
    assert killed.calls + rest.calls == whole.calls == 4 * 20
    for name in ("steps", "population", "calls"):
        a, b = getattr(resumed, name), getattr(straight, name)
        drop = [c for c in ("duration_s", "latency_s") if c in a.columns]
        pd.testing.assert_frame_equal(a.drop(columns=drop), b.drop(columns=drop))
    again = pd.read_parquet(tmp_path / "run" / "calls.parquet")
    assert again["step"].tolist() == straight.calls["step"].tolist()
