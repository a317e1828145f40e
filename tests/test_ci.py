""".ci/run: the README's test command verbatim, and a failure anywhere fails CI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FAKE_PYTHON = """#!/usr/bin/env bash
echo "$*" >> "$CALLS"
[[ "$*" == "$FAIL" ]] && exit 3
exit 0
"""


def readme_test_command() -> str:
    """The one command line in the README's block after "Install and run the tests"."""
    text = (ROOT / "README.md").read_text()
    match = re.search(r"Install and run the tests.*?```bash\n(.+?)\n```", text, re.S)
    assert match is not None, "README: no test command block"
    return match.group(1)


def test_ci_runs_the_readme_test_command_verbatim_under_strict_bash() -> None:
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_test_command() in lines
    assert "set -euo pipefail" in lines


def run_ci(tmp_path: Path, fail: str) -> tuple[int, list[str]]:
    """Runs a copy of .ci/run with a fake ``python3`` that fails (exit 3) on ``fail``."""
    (tmp_path / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    shutil.copytree(ROOT / "benchmarks", tmp_path / "benchmarks")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python3"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    calls = tmp_path / "calls.txt"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(calls),
           "FAIL": fail}
    done = subprocess.run(["bash", str(tmp_path / ".ci" / "run")], env=env,
                          capture_output=True, text=True, timeout=60)
    return done.returncode, calls.read_text().splitlines() if calls.exists() else []


@pytest.mark.parametrize("fail", ['-m pip install -e .[test,local]', "-m pytest",
                                  "-m mypy envs agents experiments analysis",
                                  "benchmarks/bench_envs.py --quick"])
def test_a_failing_step_fails_ci_and_stops_it(tmp_path: Path, fail: str) -> None:
    code, calls = run_ci(tmp_path, fail)
    assert code == 3
    assert calls[-1] == fail  # nothing ran after the failing step


def test_ci_runs_every_benchmark_in_quick_mode_after_the_tests(tmp_path: Path) -> None:
    code, calls = run_ci(tmp_path, fail="none")
    benches = sorted(p.name for p in (ROOT / "benchmarks").glob("bench_*.py"))
    assert code == 0
    assert calls[:4] == ['-m pip install -e .[test,local]', "-m pytest",
                         "-m ruff check envs agents experiments analysis tests benchmarks",
                         "-m mypy envs agents experiments analysis"]
    assert calls[4:] == [f"benchmarks/{b} --quick" for b in benches]
