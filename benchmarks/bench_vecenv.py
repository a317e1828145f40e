"""Agent-steps per second of the repeated PD's vector envs, beside the per-game shells.

Measured side by side in one run (interleaved over ``--repeats`` rounds, best kept):

* ``vector``: :class:`~agora.envs.vector.MatrixVectorEnv` (the learner against tit for tat,
  ``gymnasium.make_vec("agora/RepeatedPD-v1", ...)``) at each ``--sizes`` B, numpy and,
  when installed, torch on the CPU; ``self-play``: :class:`MatrixSelfPlayVectorEnv` (B games,
  2B learner rows), numpy.
* ``parallel``: the PettingZoo Parallel shell, one ``step(dict)`` per game step.
* ``gym``: the Gymnasium single env (``gymnasium.make(...).unwrapped``), player 0.

An agent-step is one agent's action applied: a game step of the PD is 2 agent-steps in every
row (the fixed opponent's action counts as the learner's does), so the ratios are ratios of
game steps too. Actions are drawn in advance and cycled. Target: >= 10M agent-steps/s.

Run::

    python benchmarks/bench_vecenv.py [--sizes 1000 10000 100000 1000000] [--seconds 1]
        [--repeats 3] [--json out.json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import gymnasium
import numpy as np
from _cli import parse_args

import agora.envs  # noqa: F401  (registers the agora/ ids with gymnasium)
from agora.envs import make

TARGET = 10_000_000
POOL = 8
QUICK = {"sizes": [64, 1024], "seconds": 0.02, "repeats": 1}
Runner = Callable[[int], None]


def measure(run: Runner, seconds: float) -> tuple[float, float]:
    """Calls of ``run(1)`` per wall-clock second and per CPU second of this process, over
    about ``seconds`` (after one warm-up call). The CPU rate is what the code costs when
    other processes share the cores; the wall rate is what this run saw."""
    run(1)
    calls, t0, c0 = 0, time.perf_counter(), time.process_time()
    while True:
        run(1)
        calls += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return calls / elapsed, calls / max(time.process_time() - c0, 1e-9)


def vector_runner(b: int, backend: str, self_play: bool) -> tuple[Runner, int]:
    """A vector env's step loop and its agent-steps per call."""
    envs: Any = gymnasium.make_vec("agora/RepeatedPD-v1", num_envs=2 * b if self_play else b,
                                   vectorization_mode="vector_entry_point", backend=backend,
                                   self_play=self_play)
    envs.reset(seed=0)
    pool = [np.random.default_rng(i).integers(0, 2, envs.num_envs) for i in range(POOL)]
    if backend == "torch":
        import torch

        pool = [torch.as_tensor(a) for a in pool]
    i = 0

    def run(calls: int) -> None:
        nonlocal i
        for _ in range(calls):
            envs.step(pool[i])
            i = (i + 1) % POOL

    return run, 2 * b


def parallel_runner(env_id: str = "RepeatedPD-v1") -> tuple[Runner, int]:
    """The PettingZoo Parallel shell's step loop (two players, actions 0 and 1)."""
    env = make(env_id)
    env.reset(seed=0)
    draws = np.random.default_rng(0).integers(0, 2, (4096, 2)).tolist()
    pool = [{"player_0": a, "player_1": b} for a, b in draws]
    i = 0

    def run(calls: int) -> None:
        nonlocal i
        for _ in range(calls):
            for _ in range(1000):
                env.step(pool[i])
                i = (i + 1) & 4095
                if not env.agents:
                    env.reset()

    return run, 2 * 1000


def gym_runner(env_id: str = "RepeatedPD-v1") -> tuple[Runner, int]:
    """The Gymnasium single env's step loop (player 0 against the id's opponent)."""
    env = gymnasium.make(f"agora/{env_id}").unwrapped
    env.reset(seed=0)
    pool = np.random.default_rng(0).integers(0, 2, 4096).tolist()
    i = 0

    def run(calls: int) -> None:
        nonlocal i
        for _ in range(calls):
            for _ in range(1000):
                _, _, term, trunc, _ = env.step(pool[i])
                i = (i + 1) & 4095
                if term or trunc:
                    env.reset()

    return run, 2 * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000, 1_000_000])
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", default=None)
    args = parse_args(ap, QUICK, argv)
    backends = ["numpy"]
    try:
        import torch

        torch.set_num_threads(1)  # the shared 2-core machine: one thread, as numpy
        backends.append("torch")
    except ImportError:
        print("torch not installed: numpy only")
    runners: dict[str, tuple[Runner, int]] = {
        "parallel": parallel_runner(), "gym": gym_runner()}
    for b in args.sizes:
        for backend in backends:
            runners[f"vector {backend} B={b}"] = vector_runner(b, backend, False)
        runners[f"self-play numpy B={b}"] = vector_runner(b, "numpy", True)
    best = dict.fromkeys(runners, 0.0)
    cpu = dict.fromkeys(runners, 0.0)
    for _ in range(args.repeats):
        for name, (run, per_call) in runners.items():
            wall_rate, cpu_rate = measure(run, args.seconds)
            best[name] = max(best[name], wall_rate * per_call)
            cpu[name] = max(cpu[name], cpu_rate * per_call)
    print(f"{'':28s} {'agent-steps/s':>14s} {'per CPU-s':>12s} {'x parallel':>11s} "
          f"{'x gym':>8s}")
    for name, rate in best.items():
        print(f"{name:28s} {rate:14,.0f} {cpu[name]:12,.0f} {rate / best['parallel']:11.1f} "
              f"{rate / best['gym']:8.1f}")
    vec = [k for k in best if k.startswith(("vector", "self-play"))]
    top, top_cpu = max(best[k] for k in vec), max(cpu[k] for k in vec)
    verdict = "PASS" if top >= TARGET else "FAIL"
    note = " (quick: not a measurement)" if args.quick else ""
    print(f"{verdict}: best vector {top:,.0f} agent-steps/s wall-clock ({top_cpu:,.0f} per "
          f"CPU second), target {TARGET:,}{note}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"agent_steps_per_s": best, "agent_steps_per_cpu_s": cpu,
                       "target": TARGET}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
