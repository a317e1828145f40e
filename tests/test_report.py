"""`agora report`: a page for every kind of run (each shipped config, run small), runs side
by side aligned on shared parameters, and clear errors for what cannot be reported."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from agora.agents.llm import agent as agent_module
from agora.agents.llm.model import Completion, LanguageModel, Sampling
from agora.analysis.report import build_report, load_report_run, render_report
from agora.analysis.report.compare import aligned
from agora.experiments import cli, parse_config, run_experiment

ROOT = Path(__file__).parents[1]
# `agora train` configs train first; tests/test_train.py reports a training run
CONFIGS = sorted(p for p in (ROOT / "experiments" / "configs").glob("*.yaml")
                 if not p.name.startswith("train_"))
FAST_DESIGN = {"budget": 2, "checkpoints": [0, 2], "n_eval": 2, "n_particles": 256,
               "eig_outer": 64, "eig_inner": 64, "n_candidates": 8}


class Mumbler(LanguageModel):
    """A model whose answers no parser accepts: every turn is re-asked, then the declared
    fallback plays (so the page's re-ask and fallback counts are known)."""

    name = "mumbler"

    def complete(self, messages: Any, sampling: Sampling) -> Completion:
        return Completion(text="hmm", model="mumbler", tokens_in=11, tokens_out=1,
                          latency_s=0.002, cost=0.0)


def _small(raw: dict[str, Any]) -> dict[str, Any]:
    """The config with one episode per cell and two values per swept key."""
    cfg = {**raw, "episodes": 1, "sweep": {k: _two(v) for k, v in raw.get("sweep", {}).items()}}
    if raw["env"] == "Discovery-v1":
        cfg["params"] = {**raw["params"], **FAST_DESIGN}
        llm = [a for a in raw["sweep"]["agents.player_0"] if isinstance(a, dict)
               and a["name"] == "llm"]
        cfg["sweep"]["agents.player_0"] = ["random_designer", {"name": "greedy_eig",
                                           "n_candidates": 8, "n_outer": 32, "n_inner": 32},
                                           *llm]
    return cfg


def _two(values: list[Any]) -> list[Any]:
    """The first value and a language-model agent if the sweep has one, else two values."""
    llm = [v for v in values if isinstance(v, dict) and v.get("name") == "llm"]
    return [values[0], *llm[:1]] if llm and values[0] not in llm else values[:2]


def _figures(page: str) -> int:
    return len(re.findall(r'<div class="plot" id=', page))


def _run_config(path: Path, out: Path, monkeypatch) -> Path:
    monkeypatch.setattr(agent_module, "build_model", lambda spec: Mumbler())
    raw = yaml.safe_load(path.read_text())
    if path.name.startswith("graph_growth"):
        from agora.experiments.growth import parse_growth_config, run_growth

        cfg = parse_growth_config({**raw, "iterations": 2})
        run_growth(cfg, out, model=GrowthScript(), progress=False)
        return out
    if path.name.startswith("evolve_"):
        from agora.experiments.population.config import parse_evolve_config
        from agora.experiments.population.evolve import run_evolve

        run_evolve(parse_evolve_config({**raw, "generations": 3}), out, progress=False)
        return out
    if path.name.startswith("tournament_"):
        from agora.experiments.config import validate_model
        from agora.experiments.population.config import TournamentConfig
        from agora.experiments.population.tournament_run import run_tournament

        run_tournament(validate_model(TournamentConfig, {**raw, "repetitions": 2}, "t"), out)
        return out
    if raw.get("kind") == "archetypes":
        from agora.experiments.population.archetypes import (
            parse_archetype_config,
            run_archetypes,
        )

        cfg = parse_archetype_config({**raw, "agents": 500, "steps": 2, "samples": 2})
        run_archetypes(cfg, out, model=Mumbler())
        return out
    if raw.get("kind") == "culture":
        from agora.experiments.population import culture

        monkeypatch.setattr(culture, "build_model", lambda spec: Mumbler())
        cfg = culture.parse_society_config({**raw, "agents": 4, "generations": 2,
                                            "seeds": [0]})
        culture.run_society(cfg, out, progress=False)
        return out
    run_experiment(parse_config(_small(raw)), out, progress=False)
    return out


class GrowthScript(LanguageModel):
    """Canned growth answers: free text, then triples over a small vocabulary."""

    name = "growth-script"
    words = ("silk", "protein", "fiber", "water", "strength", "spider")

    def complete(self, messages: Any, sampling: Sampling) -> Completion:
        keys = set(sampling.schema["properties"]) if sampling.schema else set()
        if "triples" in keys:
            n = len(messages[-1]["content"]) % 4
            w = self.words
            text = json.dumps({"triples": [
                {"source": w[n], "relation": "has", "target": w[n + 1]},
                {"source": w[n + 1], "relation": "needs", "target": w[n + 2]},
                {"source": w[0], "relation": "makes", "target": w[n + 2]}]})
        elif keys:
            text = json.dumps({"question": "What is silk made of?"})
        else:
            text = "Silk is a protein fiber; spider silk has strength and takes up water."
        return Completion(text=text, model=self.name, tokens_in=20, tokens_out=12,
                          latency_s=0.001)


EXPECTED = {"games": ["Mean return per cell", "Metric per cell"],
            "design": ["Error against budget", "Prediction error z"],
            "graph": ["F1 against steps", "Mean F1 after each step"],
            "graph_growth": ["Metric panel over iterations", "Degree distribution"],
            "population": ["Strategy shares over generations", "Mean payoff per strategy"],
            "tournament": ["Mean score per strategy", "Score per repetition"],
            "society": ["Society over generations", "Society measure"],
            "archetypes": ["Action shares of the population", "Payoff and cooperation"]}


@pytest.mark.slow
@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_every_example_config_reports(path: Path, tmp_path: Path, monkeypatch):
    run = load_report_run(_run_config(path, tmp_path / "run", monkeypatch))
    page, figures = render_report([run])
    for text in [*EXPECTED[run.kind.value], "config and provenance", "git_commit"]:
        assert text in page, text
    assert figures == _figures(page) >= 2
    assert page.count("Plotly.newPlot(") == figures
    assert page.count("<script>") == figures + 1  # plotly.js inlined once
    llm_config = "name: llm" in path.read_text() or "{name: llm" in path.read_text()
    if llm_config and run.kind.value in ("games", "design", "graph"):
        # every answer was re-asked, then the fallback played: both are counted
        eps = run.episodes
        assert eps.filter(regex=r"\.reasks$").sum().sum() > 0
        assert "Language-model cost and calls" in page and "reasks" in page
    if run.kind.value == "graph_growth":
        assert "Language-model cost and calls" in page and "local/gemma-3-270m" in page


def _pd_run(tmp_path: Path, name: str, player_0: str, seed: int = 0) -> Path:
    cfg = parse_config({"name": name, "env": "RepeatedPD-v1", "params": {"rounds": 5},
                        "agents": {"player_0": player_0, "player_1": "random"},
                        "sweep": {"params.rounds": [5, 10], "agents.player_1":
                                  ["random", "tit_for_tat"]},
                        "episodes": 6, "seed": seed})
    return run_experiment(cfg, tmp_path / name, progress=False).run_dir


def test_runs_align_on_shared_parameters_and_pair_by_episode(tmp_path: Path):
    dirs = [_pd_run(tmp_path, "tft", "tit_for_tat"), _pd_run(tmp_path, "alld", "always_defect")]
    runs = [load_report_run(d) for d in dirs]
    both, varying, dropped = aligned(runs)
    # the swept opponent is shared, player_0 (what differs) is not a key
    assert varying == ["param.rounds", "agent.player_1"] and dropped == 0
    assert both["key"].nunique() == 4 and len(both) == 2 * 4 * 6
    page, _ = render_report(runs)
    assert "Comparison of runs" in page and "Paired comparisons with tft" in page
    # against tit-for-tat, always-defect gains T - R = 2 in round one, then P - R = -2
    table = page.split("Paired comparisons with tft")[1]
    assert "alld" in table


def test_population_and_training_sections_from_hand_made_directories(tmp_path: Path):
    pop = tmp_path / "pop"
    pop.mkdir()
    (pop / "manifest.json").write_text(json.dumps({"name": "pop", "kind": "population",
                                                   "status": "ok", "seed": 3}))
    rows = [{"generation": g, "strategy": s, "count": c, "share": c / 10,
             "mean_payoff": p, "coop_rate": r}
            for g in range(4) for s, c, p, r in (("tft", 4 + g, 2.5, 1.0),
                                                  ("alld", 6 - g, 1.5, 0.0))]
    pd.DataFrame(rows).to_parquet(pop / "generations.parquet")
    run = load_report_run(pop)
    assert run.kind.value == "population"
    page, figures = render_report([run])
    assert figures == 3 and "Strategy shares over generations" in page
    assert '"stackgroup":"shares"' in page
    train = tmp_path / "train"
    train.mkdir()
    (train / "manifest.json").write_text(json.dumps({"name": "ppo", "status": "ok"}))
    pd.DataFrame({"step": [0, 100, 200] * 2, "metric": ["return"] * 3 + ["loss"] * 3,
                  "value": [0.0, 1.0, 2.0, 3.0, 2.0, 1.0]}).to_parquet(
        train / "learning_curves.parquet")
    page, figures = render_report([load_report_run(train)])
    assert figures == 1 and "Learning curve" in page


def test_cli_writes_the_page_and_refuses_bad_inputs(tmp_path: Path, capsys):
    run = _pd_run(tmp_path, "pd", "tit_for_tat")
    out = tmp_path / "r.html"
    assert cli.main(["report", str(run), "--out", str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert cli.main(["report", str(tmp_path / "nothing")]) == 2
    assert "nothing is not a run directory (no manifest.json)" in capsys.readouterr().err
    pop = tmp_path / "pop"
    pop.mkdir()
    (pop / "manifest.json").write_text(json.dumps({"name": "pop", "kind": "population"}))
    pd.DataFrame({"generation": [0], "strategy": ["a"], "count": [1], "share": [1.0],
                  "mean_payoff": [0.0], "coop_rate": [0.0]}).to_parquet(pop / "generations.parquet")
    assert cli.main(["report", str(run), str(pop)]) == 2
    assert "cannot compare runs of different kinds" in capsys.readouterr().err
    assert build_report([run]) == run / "report.html"
