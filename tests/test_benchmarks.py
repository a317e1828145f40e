"""The benchmark scripts' own helpers (the scripts themselves run in ``.ci/run --quick``)."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
ROCK, PAPER, SCISSORS = 0, 1, 2


def load_benchmark(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Imports ``benchmarks/<name>.py`` as a module (the folder is not a package).

    The folder goes on ``sys.path`` for the test's duration, as it is when a script runs.
    """
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pettingzoo_rps_yardstick_plays_without_pygame(monkeypatch: pytest.MonkeyPatch) -> None:
    bench = load_benchmark("bench_envs", monkeypatch)
    monkeypatch.setitem(sys.modules, "pygame", None)  # a fresh machine: pygame not installed
    for name in ("pettingzoo.classic.rps.rps", "pettingzoo.classic.rps_v2"):
        monkeypatch.delitem(sys.modules, name, raising=False)

    env = bench.pettingzoo_rps()
    env.reset(seed=0)
    p0, p1 = env.possible_agents
    for a0, a1, winner in [(PAPER, ROCK, p0), (ROCK, SCISSORS, p0), (PAPER, SCISSORS, p1)]:
        _, rewards, *_ = env.step({p0: a0, p1: a1})
        loser = p1 if winner == p0 else p0
        assert (rewards[winner], rewards[loser]) == (1, -1)
    _, rewards, *_ = env.step({p0: ROCK, p1: ROCK})
    assert rewards == {p0: 0, p1: 0}
    assert sys.modules["pygame"] is None  # the stand-in did not leak into the process


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    return ap


def test_quick_replaces_defaults_but_explicit_options_win(
        monkeypatch: pytest.MonkeyPatch) -> None:
    cli = load_benchmark("_cli", monkeypatch)
    quick = {"n": 2001, "repeats": 1}
    full = cli.parse_args(_parser(), quick, [])
    assert (full.n, full.repeats, full.quick) == (10_000, 3, False)
    fast = cli.parse_args(_parser(), quick, ["--quick"])
    assert (fast.n, fast.repeats, fast.quick) == (2001, 1, True)
    mixed = cli.parse_args(_parser(), quick, ["--repeats", "5", "--quick"])
    assert (mixed.n, mixed.repeats) == (2001, 5)


def test_quick_defaults_must_name_options(monkeypatch: pytest.MonkeyPatch) -> None:
    cli = load_benchmark("_cli", monkeypatch)
    with pytest.raises(KeyError, match="entities"):
        cli.parse_args(_parser(), {"entities": 100}, [])


def test_skip_prints_its_reason_and_exits_zero(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    cli = load_benchmark("_cli", monkeypatch)
    assert cli.skip("no model here") == 0
    assert capsys.readouterr().out == "SKIPPED: no model here\n"
