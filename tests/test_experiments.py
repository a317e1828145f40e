"""The runner: configs, records, determinism across workers, resume after SIGKILL, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from agora.analysis import load_run, summarize
from agora.envs import ConfigError
from agora.experiments import episode_seed, load_config, parse_config, run_experiment
from agora.experiments.cli import main as cli_main
from agora.experiments.store import TIMING_COLUMNS

BASE = {
    "name": "t",
    "env": "RepeatedPD-v1",
    "params": {"rounds": 5},
    "agents": {"player_0": "tit_for_tat", "player_1": "random"},
    "sweep": {"agents.player_1": ["random", "always_defect"], "params.delta": [0.0, 0.8]},
    "episodes": 12,
    "seed": 7,
}


def _stable(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=[c for c in TIMING_COLUMNS if c in df.columns])


def test_records_have_the_promised_columns(tmp_path):
    s = run_experiment(parse_config(BASE), tmp_path / "run", progress=False)
    assert s.status == "completed" and s.episodes_done == 4 * 12
    ep = pd.read_parquet(tmp_path / "run" / "episodes.parquet")
    for col in ("cell", "episode", "seed", "param.rounds", "param.delta", "agent.player_0",
                "return.player_0", "return.player_1", "length", "metric.efficiency", "status"):
        assert col in ep.columns, col
    assert ep["seed"].tolist() == [episode_seed(7, c, e) for c, e in zip(ep.cell, ep.episode)]
    ev = pd.read_parquet(tmp_path / "run" / "events.parquet")
    assert set(ev.columns) >= {"cell", "episode", "step", "actor", "action", "reward", "reply"}
    # each episode's event rewards add up to its recorded returns
    sums = ev.groupby(["cell", "episode", "actor"])["reward"].sum().unstack()
    assert (sums[0].to_numpy() == ep["return.player_0"].to_numpy()).all()
    assert (sums[1].to_numpy() == ep["return.player_1"].to_numpy()).all()
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["status"] == "completed"
    assert manifest["packages"]["numpy"] and manifest["base_seed"] == 7
    snapshot = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert parse_config(snapshot).fingerprint() == parse_config(BASE).fingerprint()


def test_same_seed_same_records_and_new_seed_differs(tmp_path):
    a = run_experiment(parse_config(BASE), tmp_path / "a", progress=False).episodes
    b = run_experiment(parse_config(BASE), tmp_path / "b", progress=False).episodes
    c = run_experiment(parse_config({**BASE, "seed": 8}), tmp_path / "c", progress=False).episodes
    pd.testing.assert_frame_equal(_stable(a), _stable(b))
    assert not _stable(a).equals(_stable(c))


@pytest.mark.slow
def test_one_and_two_workers_give_identical_tables(tmp_path, ray_session):
    cfg = parse_config({**BASE, "episodes": 40})
    one = run_experiment(cfg, tmp_path / "one", workers=1, progress=False)
    two = run_experiment(cfg, tmp_path / "two", workers=2, progress=False)
    pd.testing.assert_frame_equal(_stable(one.episodes), _stable(two.episodes))
    ev1 = pd.read_parquet(tmp_path / "one" / "events.parquet")
    ev2 = pd.read_parquet(tmp_path / "two" / "events.parquet")
    pd.testing.assert_frame_equal(ev1, ev2)


def test_resume_after_lost_parts_replays_exactly_the_missing(tmp_path):
    cfg = parse_config({**BASE, "batch_size": 3})
    full = run_experiment(cfg, tmp_path / "full", progress=False).episodes
    run_experiment(cfg, tmp_path / "cut", progress=False)
    parts = sorted((tmp_path / "cut" / "parts").glob("*.episodes.parquet"))
    for p in parts[3:9]:  # as if the run had died before these batches were written
        p.unlink()
    # and one batch died half-written: events without episodes
    (tmp_path / "cut" / "manifest.json").write_text(json.dumps(
        {**json.loads((tmp_path / "cut" / "manifest.json").read_text()), "status": "running"}))
    resumed = run_experiment(cfg, tmp_path / "cut", resume=True, progress=False)
    assert resumed.episodes_done == len(full)
    pd.testing.assert_frame_equal(_stable(full), _stable(resumed.episodes))
    ev_full = pd.read_parquet(tmp_path / "full" / "events.parquet")
    ev_cut = pd.read_parquet(tmp_path / "cut" / "events.parquet")
    pd.testing.assert_frame_equal(ev_full, ev_cut)
    assert json.loads((tmp_path / "cut" / "manifest.json").read_text())["attempts"] == 2


def test_resume_refuses_a_different_config(tmp_path):
    run_experiment(parse_config(BASE), tmp_path / "r", progress=False)
    with pytest.raises(ConfigError, match="different config"):
        run_experiment(parse_config({**BASE, "seed": 1}), tmp_path / "r", resume=True,
                       progress=False)


def test_existing_run_is_never_overwritten(tmp_path):
    run_experiment(parse_config(BASE), tmp_path / "r", progress=False)
    before = (tmp_path / "r" / "episodes.parquet").read_bytes()
    with pytest.raises(ConfigError, match="already holds a run"):
        run_experiment(parse_config(BASE), tmp_path / "r", progress=False)
    assert (tmp_path / "r" / "episodes.parquet").read_bytes() == before


def test_failed_episodes_are_recorded_and_retried_on_resume(tmp_path, monkeypatch):
    from agora.agents import heuristics

    cfg = parse_config({**BASE, "sweep": {}, "agents": {"default": "tit_for_tat"},
                        "episodes": 8, "batch_size": 2})
    clean = run_experiment(cfg, tmp_path / "clean", progress=False).episodes
    original = heuristics.TitForTat.act

    def flaky(self, obs):  # a crashing agent in some episodes (e.g. a provider outage)
        if self.player == 1 and obs.view.round == 3 and self.rng.random() < 0.5:
            raise RuntimeError("provider outage")
        return original(self, obs)

    monkeypatch.setattr(heuristics.TitForTat, "act", flaky)
    first = run_experiment(cfg, tmp_path / "r", progress=False)
    assert 0 < first.failed < 8 and first.status == "completed_with_failures"
    bad = first.episodes[first.episodes.status == "failed"]
    assert bad["error"].str.contains("provider outage").all()
    monkeypatch.setattr(heuristics.TitForTat, "act", original)
    again = run_experiment(cfg, tmp_path / "r", resume=True, progress=False)
    assert again.failed == 0 and again.episodes_done == 8
    pd.testing.assert_frame_equal(_stable(clean), _stable(again.episodes))
    # read as a partial run (from the parts): superseded failed attempts are left out
    final_events = pd.read_parquet(tmp_path / "r" / "events.parquet")
    (tmp_path / "r" / "events.parquet").unlink()
    (tmp_path / "r" / "episodes.parquet").unlink()
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    (tmp_path / "r" / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    partial = load_run(tmp_path / "r")
    pd.testing.assert_frame_equal(_stable(partial.episodes), _stable(again.episodes))
    pd.testing.assert_frame_equal(partial.events(), final_events)


def test_text_agents_play_through_the_parser(tmp_path):
    cfg = parse_config({"name": "f", "env": "Bargaining-v1", "params": {"granularity": 4},
                        "agents": {"default": "random_text"}, "episodes": 6})
    s = run_experiment(cfg, tmp_path / "f", progress=False)
    assert s.failed == 0 and s.episodes_done == 6
    ev = pd.read_parquet(tmp_path / "f" / "events.parquet")
    assert ev["reply"].notna().all() and ev["reply"].str.startswith("{").all()
    assert (ev["invalid"] == False).all()  # noqa: E712


def test_invalid_action_policy_is_declared_and_counted(tmp_path, monkeypatch):
    from agora.agents import heuristics

    monkeypatch.setattr(heuristics.AlwaysDefect, "act", lambda self, obs: 7)
    base = {**BASE, "sweep": {}, "agents": {"default": "always_defect"}, "episodes": 3}
    failed = run_experiment(parse_config(base), tmp_path / "a", progress=False)
    assert failed.failed == 3 and failed.status == "completed_with_failures"
    assert failed.episodes["error"].str.contains("not a legal action").all()
    covered = run_experiment(parse_config({**base, "on_invalid_action": "random_legal"}),
                             tmp_path / "b", progress=False)
    assert covered.failed == 0
    assert (covered.episodes["invalid.player_0"] == 5).all()


@pytest.mark.parametrize("bad, key", [
    ({"episodes": 0}, "episodes"),
    ({"env": "Nope-v0"}, "Nope-v0"),
    ({"params": {"rounds": 0}}, "rounds=0"),
    ({"params": {"roundz": 3}}, "roundz"),
    ({"agents": {"player_0": "tit_for_tat"}, "sweep": {}}, "player_1"),
    ({"agents": {"default": "no_such_agent"}}, "no_such_agent"),
    ({"agents": {"default": {"name": "random", "p": 1}}}, "'p'"),
    ({"agents": {"default": "fixed_share"}}, "fixed_share"),
    ({"sweep": {"params.rounds": [3, -1]}}, "rounds=-1"),
    ({"sweep": {"params.rounds": []}}, "empty"),
    ({"sweep": {"nonsense.x": [1]}}, "nonsense.x"),
    ({"colour": "red"}, "colour"),
    ({"on_invalid_action": "ignore"}, "on_invalid_action"),
])
def test_config_errors_name_the_key(bad, key):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[")):
        parse_config({**BASE, **bad})


def test_yaml_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")
    p = tmp_path / "bad.yaml"
    p.write_text("name: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(p)


def test_shipped_configs_validate():
    from agora.experiments.config import read_yaml
    from agora.experiments.growth import load_growth_config
    from agora.experiments.population.archetypes import parse_archetype_config
    from agora.experiments.population.config import load_evolve_config, load_tournament_config
    from agora.experiments.population.culture import parse_society_config
    from agora.experiments.train import load_train_config

    configs = sorted((Path(__file__).parents[1] / "experiments" / "configs").glob("*.yaml"))
    assert configs
    for path in configs:
        if path.name.startswith("graph_growth"):  # `agora grow` configs
            assert load_growth_config(path).iterations >= 1
        elif path.name.startswith("evolve_"):  # `agora evolve` configs
            assert load_evolve_config(path).generations >= 1
        elif path.name.startswith("tournament_"):  # `agora tournament` configs
            assert len(load_tournament_config(path).strategies) >= 2
        elif read_yaml(path).get("kind") == "culture":  # `agora society` configs
            assert parse_society_config(read_yaml(path)).generations >= 1
        elif read_yaml(path).get("kind") == "archetypes":
            assert parse_archetype_config(read_yaml(path)).steps >= 1
        elif path.name.startswith("train_"):  # `agora train` configs
            assert load_train_config(path).total_timesteps >= 1
        else:
            assert load_config(path).cells()


def test_summary_confidence_intervals(tmp_path):
    s = run_experiment(parse_config(BASE), tmp_path / "r", progress=False)
    table = summarize(load_run(tmp_path / "r").episodes)
    assert len(table) == 4 and (table["episodes"] == 12).all()
    row = table.iloc[0]
    assert row["return.player_0.lo"] <= row["return.player_0.mean"] <= row["return.player_0.hi"]
    assert row["return.player_0.mean"] == pytest.approx(
        s.episodes[s.episodes.cell == 0]["return.player_0"].mean())


def test_cli_list_run_show(tmp_path, capsys):
    assert cli_main(["list"]) == 0
    out = capsys.readouterr().out
    assert "RepeatedPD-v1" in out and "tit_for_tat" in out and "simultaneous" in out
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(BASE))
    assert cli_main(["run", str(cfg), "--out", str(tmp_path / "r"), "--quiet"]) == 0
    assert "48/48 episodes" in capsys.readouterr().out
    assert cli_main(["show", str(tmp_path / "r")]) == 0
    assert "status completed, 48/48" in capsys.readouterr().out
    png = tmp_path / "returns.png"
    assert cli_main(["show", str(tmp_path / "r"), "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    cfg.write_text(yaml.safe_dump({**BASE, "episodes": -1}))
    assert cli_main(["run", str(cfg), "--quiet"]) == 2
    assert "episodes" in capsys.readouterr().err


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_loses_nothing(tmp_path):
    """A real `agora run` killed with SIGKILL, resumed, equals an uninterrupted run."""
    cfg = {**BASE, "params": {"rounds": 400}, "episodes": 150, "batch_size": 5,
           "sweep": {"agents.player_1": ["random", "win_stay_lose_shift"]}}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    cmd = [sys.executable, "-m", "agora.experiments.cli", "run", str(path), "--quiet"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen([*cmd, "--out", str(killed)], env={**os.environ})
    parts = killed / "parts"
    deadline = time.time() + 120
    while time.time() < deadline:
        if parts.exists() and len(list(parts.glob("*.episodes.parquet"))) >= 4:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = load_run(killed)
    assert partial.manifest["status"] == "running"
    assert 0 < len(partial.episodes) < 300, "the kill should land mid-run"
    assert subprocess.run([*cmd, "--out", str(killed), "--resume"]).returncode == 0
    assert subprocess.run([*cmd, "--out", str(tmp_path / "whole")]).returncode == 0
    a = pd.read_parquet(killed / "episodes.parquet")
    b = pd.read_parquet(tmp_path / "whole" / "episodes.parquet")
    assert len(a) == 300 and not a.duplicated(["cell", "episode"]).any()
    pd.testing.assert_frame_equal(_stable(a), _stable(b))
    pd.testing.assert_frame_equal(pd.read_parquet(killed / "events.parquet"),
                                  pd.read_parquet(tmp_path / "whole" / "events.parquet"))


def test_cli_output_into_a_closed_pipe_is_not_an_error():
    """`agora list | head -1` must not print a traceback."""
    proc = subprocess.run(f"{sys.executable} -m agora.experiments.cli list | head -1",
                          shell=True, capture_output=True, text=True, timeout=120)
    assert proc.stdout.startswith("Environments")
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_resume_of_a_directory_without_a_run_is_an_error(tmp_path):
    """A mistyped --out with --resume must not silently start a new run."""
    with pytest.raises(ConfigError, match="holds no run"):
        run_experiment(parse_config(BASE), tmp_path / "typo", resume=True, progress=False)
    assert not (tmp_path / "typo" / "manifest.json").exists()
