"""Population runs: closed-form payoffs, engines that agree, resume, workers, the CLI,
the records' schema, every shipped example, and config errors that name the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from agora.analysis import records as rec
from agora.envs import ConfigError
from agora.experiments.cli import main as cli_main
from agora.experiments.population import evolve as evolve_mod
from agora.experiments.population.config import (
    load_evolve_config,
    load_tournament_config,
    parse_evolve_config,
)
from agora.experiments.population.engine import PayoffEngine
from agora.experiments.population.evolve import run_evolve
from agora.experiments.population.matching import make_matching
from agora.experiments.population.population import Population
from agora.experiments.population.tournament_run import run_tournament

CONFIGS = Path(__file__).parents[1] / "experiments" / "configs"
BASE: dict[str, Any] = {
    "name": "t", "env": "RepeatedPD-v1", "params": {"rounds": 8}, "generations": 6, "seed": 3,
    "population": {"size": 24, "shares": {"tit_for_tat": 0.25, "always_defect": 0.25,
                                          "win_stay_lose_shift": 0.25, "grim_trigger": 0.25}},
    "dynamics": {"rule": "fermi", "beta": 2.0, "mutation": 0.05, "updates": 6},
    "reporters": {"agents": {"every": 2}},
}


def _cfg(**changes: Any) -> Any:
    return parse_evolve_config({**BASE, **changes})


def _tables(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (pd.read_parquet(root / "generations.parquet"),
            pd.read_parquet(root / "agents.parquet"))


def test_generation_zero_payoffs_are_the_closed_form():
    """Round robin of a TFT and d ALLD agents over R rounds, payoffs per round."""
    a, d, r = 5, 3, 10
    cfg = _cfg(params={"rounds": r}, matching={"type": "round_robin"},
               population={"counts": {"tit_for_tat": a, "always_defect": d}},
               dynamics={"rule": "truncation", "keep": 1.0})
    setup = evolve_mod.prepare(cfg)
    _, rows, _ = evolve_mod.play_generation(setup, setup.population, 0)
    got = rows.to_pandas().set_index(rec.LABEL)
    n = a + d
    tft = ((a - 1) * 3 + d * (r - 1) / r) / (n - 1)
    alld = (a * (r + 4) / r + (d - 1) * 1) / (n - 1)
    assert got.loc["tit_for_tat", "mean_payoff"] == pytest.approx(tft, abs=1e-12)
    assert got.loc["always_defect", "mean_payoff"] == pytest.approx(alld, abs=1e-12)
    assert got.loc["tit_for_tat", "coop_rate"] == pytest.approx(
        ((a - 1) * r + d) / ((n - 1) * r), abs=1e-12)
    assert got.loc["always_defect", "coop_rate"] == 0.0
    assert got["count"].tolist() == [a, d]


def test_vector_and_episode_engines_give_identical_payoffs():
    pop = Population.from_shares({"tit_for_tat": 0.3, "always_defect": 0.2,
                                  "win_stay_lose_shift": 0.2, "grim_trigger": 0.2,
                                  "always_cooperate": 0.1}, 30)
    matches = make_matching({"type": "round_robin"}, 30, 2, 0).matches(None)
    outs = [PayoffEngine("RepeatedPD-v1", {"rounds": 12}, pop.strategies, engine=e).play(
        pop.strategy, matches, seed=1, generation=4) for e in ("vector", "episodes")]
    assert np.array_equal(outs[0].payoffs, outs[1].payoffs)
    assert np.array_equal(outs[0].coop, outs[1].coop)
    assert np.array_equal(outs[0].rounds, outs[1].rounds)


def test_vector_and_episode_engines_give_the_same_whole_run(tmp_path):
    runs = [run_evolve(_cfg(engine=e), tmp_path / e, progress=False) for e in
            ("vector", "episodes")]
    pd.testing.assert_frame_equal(runs[0].generations, runs[1].generations)
    assert np.array_equal(runs[0].population.strategy, runs[1].population.strategy)


def test_resume_after_an_interrupt_gives_the_uninterrupted_run(tmp_path, monkeypatch):
    cfg = _cfg()
    whole = run_evolve(cfg, tmp_path / "whole", progress=False)
    real = evolve_mod.play_generation

    def interrupted(setup: Any, pop: Any, generation: int, executor: Any = None) -> Any:
        if generation == 4:
            raise KeyboardInterrupt
        return real(setup, pop, generation, executor)

    monkeypatch.setattr(evolve_mod, "play_generation", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_evolve(cfg, tmp_path / "cut", progress=False)
    monkeypatch.setattr(evolve_mod, "play_generation", real)
    assert sorted(p.name for p in (tmp_path / "cut" / "state").iterdir()) == [
        "population_000000.parquet", "strategy_000004.npy"]
    resumed = run_evolve(cfg, tmp_path / "cut", resume=True, progress=False)
    for a, b in zip(_tables(tmp_path / "whole"), _tables(tmp_path / "cut"), strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert np.array_equal(whole.population.strategy, resumed.population.strategy)


def test_resume_with_more_generations_extends_the_run(tmp_path):
    run_evolve(_cfg(generations=3), tmp_path / "r", progress=False)
    longer = run_evolve(_cfg(), tmp_path / "r", resume=True, progress=False)
    whole = run_evolve(_cfg(), tmp_path / "w", progress=False)
    pd.testing.assert_frame_equal(longer.generations, whole.generations)


def test_resume_refuses_another_config(tmp_path):
    run_evolve(_cfg(generations=2), tmp_path / "r", progress=False)
    with pytest.raises(ConfigError, match="different config"):
        run_evolve(_cfg(seed=4), tmp_path / "r", resume=True, progress=False)


def test_the_same_seed_gives_the_same_run_and_another_seed_another(tmp_path):
    a = run_evolve(_cfg(), tmp_path / "a", progress=False).generations
    b = run_evolve(_cfg(), tmp_path / "b", progress=False).generations
    c = run_evolve(_cfg(seed=4), tmp_path / "c", progress=False).generations
    pd.testing.assert_frame_equal(a, b)
    assert not a["count"].equals(c["count"])


def _check_schema(root: Path) -> None:
    for kind in rec.POPULATION_TABLES:
        table = pq.read_table(root / f"{kind}.parquet")
        for f in table.schema:
            declared = rec.column_type(kind, f.name)
            assert declared is not None, f"{kind}.{f.name} is not in analysis/records.py"
            assert f.type == declared, (kind, f.name)
        keys = rec.GENERATION_KEY if kind == rec.GENERATIONS else rec.AGENT_KEY
        assert tuple(table.column_names[:len(keys)]) == keys


def test_cli_evolve_show_and_plot_end_to_end(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({**BASE, "matching": {"type": "graph", "graph": "cycle"},
                                    "population": {**BASE["population"], "size": 20}}))
    out = tmp_path / "run"
    assert cli_main(["evolve", str(path), "--out", str(out), "--quiet",
                     "--plot", str(tmp_path / "plots")]) == 0
    printed = capsys.readouterr().out
    assert "evolve completed: 6/6 generations of 20 agents" in printed
    gens, agents = _tables(out)
    assert gens.groupby(rec.GENERATION)["share"].sum().tolist() == pytest.approx([1.0] * 6)
    assert (gens.groupby(rec.GENERATION)["count"].sum() == 20).all()
    assert sorted(agents[rec.GENERATION].unique().tolist()) == [0, 2, 4]
    assert len(agents) == 3 * 20
    _check_schema(out)
    assert (tmp_path / "plots" / "shares.png").stat().st_size > 0
    assert (tmp_path / "plots" / "graph.png").stat().st_size > 0
    assert Population.load(out / "population.parquet").size == 20
    assert cli_main(["show", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "population run t on RepeatedPD-v1: status completed" in shown
    assert "6/6 generations of 20 agents" in shown and "tit_for_tat" in shown
    assert cli_main(["evolve", str(path), "--out", str(out), "--quiet"]) == 2  # no overwrite


def test_cli_tournament_ranks_and_writes_parquet(tmp_path, capsys):
    out = tmp_path / "t"
    assert cli_main(["tournament", str(CONFIGS / "tournament_memory_one.yaml"),
                     "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    ranked = pd.read_parquet(out / "ranked.parquet")
    assert ranked["rank"].tolist() == list(range(1, 8))
    assert (ranked["ci_low"] <= ranked["mean"]).all()
    assert (ranked["mean"] <= ranked["ci_high"]).all()
    assert ranked["strategy"].iloc[0] in printed
    scores = pd.read_parquet(out / "scores.parquet")
    assert len(scores) == 10 * 7
    assert cli_main(["show", str(out)]) == 0
    assert "tournament run tournament-memory-one" in capsys.readouterr().out


def test_a_tournament_of_deterministic_strategies_scores_the_closed_form(tmp_path):
    cfg = load_tournament_config(CONFIGS / "tournament_memory_one.yaml").model_copy(
        update={"strategies": ["tit_for_tat", "always_defect"], "noise": 0.0, "turns": 10,
                "repetitions": 2})
    run = run_tournament(cfg, tmp_path / "t")
    by = run.scores.groupby("strategy")["score"].mean()
    assert by["tit_for_tat"] == 9.0 and by["always_defect"] == 14.0


@pytest.mark.parametrize(("changes", "message"), [
    ({"population": {"size": 10, "shares": {"tit_for_tat": 0.5}}}, "add up to 0.5"),
    ({"population": {"size": 10, "shares": {"nobody": 1.0}}}, "unknown agent 'nobody'"),
    ({"population": {"shares": {"tit_for_tat": 1.0}}}, "population.size is needed"),
    ({"population": {"size": 4, "counts": {"tit_for_tat": 4}}}, "population.size=4"),
    ({"population": {"size": 4, "shares": {"tit_for_tat": 1.0}, "list": ["random"]}},
     "exactly one of"),
    ({"population": {"size": 4, "shares": {"tit_for_tat": 1.0}, "placement": "grid"}},
     "population.placement='grid'"),
    ({"population": {"size": 4, "mixture": {"k": 0}}}, "population.mixture.k=0"),
    ({"dynamics": {"rule": "darwin"}}, "dynamics: rule=.darwin. is unknown"),
    ({"matching": {"type": "groups", "k": 3}}, "game has 2 players"),
    ({"engine": "vector", "population": {"size": 4, "shares": {"fictitious_play": 1.0}}},
     "engine=vector: strategies \\['fictitious_play'\\]"),
    ({"engine": "episodes", "noise": 0.1}, "noise=0.1 needs the vector engine"),
    ({"reporters": {"model": ["share", "metric.efficiency"]}},
     "reporters.model: 'metric.efficiency' needs the episodes engine"),
    ({"engine": "episodes", "reporters": {"model": ["metric.nope"]}},
     "unknown metric 'metric.nope'"),
    ({"reporters": {"model": ["shares"]}}, "unknown reporter 'shares'"),
    ({"reporters": {"agents": {"every": 1, "columns": ["attr.age"]}}}, "no attribute 'attr.age'"),
    ({"generations": 0}, "generations: Input should be greater than or equal to 1"),
    ({"engine": "gpu"}, "engine: Input should be"),
    ({"env": "NoSuchGame-v1"}, "env: unknown env id 'NoSuchGame-v1'"),
    ({"params": {"rounds": 0}}, "params: .*rounds"),
    ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
])
def test_bad_configs_are_config_errors_naming_the_key(changes, message):
    with pytest.raises(ConfigError, match=message):
        parse_evolve_config({**BASE, **changes})


def test_episode_metrics_are_reported_per_strategy(tmp_path):
    cfg = load_evolve_config(CONFIGS / "evolve_public_goods.yaml")
    cfg = parse_evolve_config({**cfg.model_dump(), "generations": 2})
    gens = run_evolve(cfg, tmp_path / "pg", progress=False).generations
    free = gens[(gens[rec.GENERATION] == 0) & gens[rec.LABEL].str.contains('"fraction": 0.0')]
    assert free["coop_rate"].between(0, 1).all() and free["metric.efficiency"].between(0, 1).all()
    _check_schema_generations_only(tmp_path / "pg")


def _check_schema_generations_only(root: Path) -> None:
    table = pq.read_table(root / "generations.parquet")
    assert all(f.type == rec.column_type(rec.GENERATIONS, f.name) for f in table.schema)


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(CONFIGS.glob("evolve_*.yaml")), ids=lambda p: p.stem)
def test_every_example_config_runs(path, tmp_path):
    cfg = load_evolve_config(path)
    summary = run_evolve(cfg, tmp_path / "run", progress=False)
    shares = summary.generations.groupby(rec.GENERATION)["share"].sum()
    assert len(shares) == cfg.generations and np.allclose(shares, 1.0)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["vector", "episodes"])
def test_one_and_two_workers_give_identical_runs(engine, tmp_path):
    cfg = _cfg(engine=engine, generations=3)
    one = run_evolve(cfg, tmp_path / "one", workers=1, progress=False)
    two = run_evolve(cfg, tmp_path / "two", workers=2, progress=False)
    pd.testing.assert_frame_equal(one.generations, two.generations)
    assert np.array_equal(one.population.strategy, two.population.strategy)
