"""Env steps per second of *training* with SB3 PPO and RLlib PPO, side by side.

One learner (player 0) against the id's default opponent, trained through ``agora train``
(:func:`~agora.experiments.train.run_training`, no evaluation) on ``RepeatedPD-v1`` and
``Cournot-v1`` (their default params), with the same PPO shape in both backends: rollouts
of 1,024 env steps, minibatches of 64, 10 epochs, one torch thread. Rows:

* ``sb3 1 env`` and ``sb3 8 envs``: SB3 PPO on ``DummyVecEnv`` copies of the Gymnasium view.
* ``sb3 vector 256 rows``: SB3 PPO on 256 rows of the id's vector env behind
  :class:`~agora.experiments.sb3_vec.SB3VectorEnv` (``vectorized: true``; the PD's 2x2
  vector shell gives dict observations and unscaled rewards only, so that row uses them).
* ``rllib 0 runners`` and ``rllib 1 runner``: RLlib PPO (new API stack), sampling in the
  driver or in one env-runner actor; Ray is started once, before the first row.

Each row reports env (game) steps trained, wall seconds, env steps per wall second and
the CPU seconds of this process (an RLlib env runner's CPU is another process's, so that
row undercounts). For context, the pure env-stepping rate of each env view without any
learning: the Gymnasium single env and the PettingZoo Parallel shell (both games), and
``MatrixVectorEnv`` at B=1,024 (the PD only), measured with ``bench_vecenv``'s runners.

Run::

    python benchmarks/bench_train_throughput.py [--steps 4096] [--rllib-steps 2048]
        [--envs RepeatedPD-v1 Cournot-v1] [--backends sb3 rllib] [--json out.json]
    python benchmarks/bench_train_throughput.py --quick   # ~1,000 steps each
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from _cli import parse_args
from bench_vecenv import gym_runner, measure, parallel_runner, vector_runner

from agora.experiments.train import parse_train_config, run_training

QUICK = {"steps": 1024, "rllib_steps": 1024, "seconds": 0.2, "envs": ["RepeatedPD-v1"],
         "backends": ["sb3"]}  # RLlib's rows take minutes; tests/test_train.py covers it
SB3 = {"n_steps": 1024, "batch_size": 64, "n_epochs": 10}
RLLIB = {"train_batch_size_per_learner": 1024, "minibatch_size": 64, "num_epochs": 10}
REWARD_SCALE = {"RepeatedPD-v1": 0.2, "Cournot-v1": 1 / 800}


def config(env_id: str, backend: str, steps: int, n_envs: int, runners: int,
           vectorized: bool = False) -> Any:
    """The ``agora train`` config of one row."""
    hyper = dict(SB3, n_steps=SB3["n_steps"] // n_envs) if backend == "sb3" else RLLIB
    matrix = vectorized and env_id == "RepeatedPD-v1"  # the 2x2 shell: dict, unscaled
    return parse_train_config({
        "name": f"throughput-{backend}", "env": env_id, "backend": backend,
        "hyperparameters": hyper, "reward_scale": 1.0 if matrix else REWARD_SCALE.get(
            env_id, 1.0), "observation_format": "dict" if matrix else "flat",
        "n_envs": n_envs, "vectorized": vectorized, "num_env_runners": runners,
        "total_timesteps": steps, "seeds": [0], "eval_episodes": 0, "threads": 1})


def train_row(cfg: Any) -> dict[str, float]:
    """Train ``cfg`` once: steps trained, wall and CPU seconds, steps per second."""
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        summary = run_training(cfg, Path(tmp) / "run", progress=False)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    steps = int(summary.curves["step"].max()) if len(summary.curves) else cfg.total_timesteps
    steps = max(steps, cfg.total_timesteps) if cfg.backend == "sb3" else steps
    return {"steps": steps, "wall_s": wall, "cpu_s": cpu, "steps_per_s": steps / wall}


def training(envs: list[str], steps: int, rllib_steps: int, backends: list[str]
             ) -> dict[str, dict[str, float]]:
    """Every training row, SB3 first, then RLlib after one ``ray.init``."""
    rows = {}
    for env_id in envs if "sb3" in backends else []:
        rows[f"{env_id} sb3 1 env"] = train_row(config(env_id, "sb3", steps, 1, 0))
        rows[f"{env_id} sb3 8 envs"] = train_row(config(env_id, "sb3", steps, 8, 0))
        rows[f"{env_id} sb3 vector 256 rows"] = train_row(
            config(env_id, "sb3", steps, 256, 0, vectorized=True))
    if "rllib" not in backends:
        return rows
    import ray

    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    print(f"ray.init: {time.perf_counter() - t0:.1f} s (not in the rows)")
    try:
        for env_id in envs:
            for runners in (0, 1):
                name = f"{env_id} rllib {runners} runner{'s' if runners != 1 else ''}"
                rows[name] = train_row(config(env_id, "rllib", rllib_steps, 1, runners))
    finally:
        ray.shutdown()
    return rows


def stepping(envs: list[str], seconds: float) -> dict[str, tuple[float, float]]:
    """Env (game) steps per wall and per CPU second of each env view, no learning."""
    runners = {}
    for env_id in envs:
        runners[f"{env_id} gymnasium env"] = gym_runner(env_id)
        runners[f"{env_id} parallel shell"] = parallel_runner(env_id)
    if "RepeatedPD-v1" in envs:
        runners["RepeatedPD-v1 MatrixVectorEnv B=1024"] = vector_runner("RepeatedPD-v1", 1024,
                                                                        "numpy", False)
    # bench_vecenv counts agent-steps: two per game step in these two-player games
    rates = {name: measure(run, seconds) for name, (run, per_call) in runners.items()}
    return {name: (wall * runners[name][1] / 2, cpu * runners[name][1] / 2)
            for name, (wall, cpu) in rates.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=4096, help="SB3 env steps per row")
    ap.add_argument("--rllib-steps", type=int, default=2048, help="RLlib env steps per row")
    ap.add_argument("--envs", nargs="+", default=["RepeatedPD-v1", "Cournot-v1"])
    ap.add_argument("--seconds", type=float, default=1.0, help="per env-stepping rate")
    ap.add_argument("--backends", nargs="+", default=["sb3", "rllib"], choices=["sb3", "rllib"])
    ap.add_argument("--json", default=None)
    args = parse_args(ap, QUICK, argv)
    rows = training(args.envs, args.steps, args.rllib_steps, args.backends)
    print("| training | env steps | wall s | env steps/s | CPU s (this process) |")
    print("|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['steps']:,} | {r['wall_s']:.1f} | {r['steps_per_s']:,.0f} "
              f"| {r['cpu_s']:.1f} |")
    rates = stepping(args.envs, args.seconds)
    print("\n| env stepping only | env steps/s | per CPU s |\n|---|---|---|")
    for name, (rate, cpu) in rates.items():
        print(f"| {name} | {rate:,.0f} | {cpu:,.0f} |")
    if args.quick:
        print("(quick: not a measurement)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"training": rows, "stepping": rates}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
