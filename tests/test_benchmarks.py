"""The benchmark scripts' own helpers (the scripts themselves run in ``.ci/run --quick``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
ROCK, PAPER, SCISSORS = 0, 1, 2


def load_benchmark(name: str) -> ModuleType:
    """Imports ``benchmarks/<name>.py`` as a module (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pettingzoo_rps_yardstick_plays_without_pygame(monkeypatch: pytest.MonkeyPatch) -> None:
    bench = load_benchmark("bench_envs")
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
