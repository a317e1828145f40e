"""Agent-steps per second of the vector envs, beside the per-game shells, game by game.

For each of ``--games`` (the repeated PD, public goods with 4 players, Cournot duopoly by
default; also the sealed-bid auctions and the donor game), measured side by side in one
run (interleaved over ``--repeats`` rounds, best kept):

* ``vector``: ``gymnasium.make_vec("agora/<id>", ...)``, the learner in seat 0 against
  the id's default opponent (the PD: :class:`~agora.envs.vector.MatrixVectorEnv` against
  tit for tat; public goods and Cournot: :mod:`agora.envs.vector_repeated`) at each
  ``--sizes`` B, numpy and, for the PD when installed, torch on the CPU; ``self-play``
  (the PD only): :class:`MatrixSelfPlayVectorEnv` (B games, 2B learner rows), numpy.
* ``parallel``: the PettingZoo Parallel shell, one ``step(dict)`` per game step (``aec``
  for the donor game, which is sequential: one ``step`` per donor decision).
* ``gym``: the Gymnasium single env (``gymnasium.make(...).unwrapped``), player 0, against
  the same default opponent.

An agent-step is one agent's action applied: a game step is ``n_players`` agent-steps in
every row (the fixed opponents' actions count as the learner's does), so within a game the
ratios are ratios of game steps too. In the donor game a learner step covers every donor
decision up to its next turn (12 on average for seat 0 of the default 12 agents); learners
there give 0..2 units, the AEC shell's movers as much up to what they can afford. Actions
are drawn in advance and cycled. Target for the PD: >= 10M agent-steps/s.

Run::

    python benchmarks/bench_vecenv.py [--sizes 1000 10000 100000 1000000] [--seconds 1]
        [--repeats 3] [--games RepeatedPD-v1 PublicGoods-v1 Cournot-v1] [--json out.json]
        [--quick]
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


def per_step(game: Any) -> float:
    """Agent-steps in one learner step (player 0) of a game's Gymnasium env or vector row:
    every player's action in a simultaneous game; in the donor game every donor decision
    of the rounds it covers (one episode's decisions over the learner's turns)."""
    if game.info.name != "DonorGame":
        return float(game.num_players)
    schedule = game.initial_state(None).schedule
    turns = sum(any(d == 0 for d, _ in pairs) for pairs in schedule)
    return sum(len(pairs) for pairs in schedule) / turns


def top_action(env_id: str, n_actions: int) -> int:
    """The largest action drawn: donor-game learners give 0..2 units (almost always
    affordable, so the rules are timed, not the invalid-action penalty)."""
    return 2 if env_id.startswith("DonorGame") else n_actions - 1


def vector_runner(env_id: str, b: int, backend: str, self_play: bool) -> tuple[Runner, int]:
    """A vector env's step loop and its agent-steps per call."""
    envs: Any = gymnasium.make_vec(f"agora/{env_id}", num_envs=2 * b if self_play else b,
                                   vectorization_mode="vector_entry_point", backend=backend,
                                   self_play=self_play)
    envs.reset(seed=0)
    n = per_step(envs.game)
    top = top_action(env_id, envs.single_action_space.n)
    pool = [np.random.default_rng(i).integers(0, top + 1, envs.num_envs)
            for i in range(POOL)]
    if backend == "torch":
        import torch

        pool = [torch.as_tensor(a) for a in pool]
    i = 0

    def run(calls: int) -> None:
        nonlocal i
        for _ in range(calls):
            envs.step(pool[i])
            i = (i + 1) % POOL

    return run, round(n * b)


def parallel_runner(env_id: str = "RepeatedPD-v1") -> tuple[Runner, int]:
    """The PettingZoo Parallel shell's step loop (random actions of every player)."""
    env = make(env_id)
    env.reset(seed=0)
    n = len(env.possible_agents)
    draws = np.random.default_rng(0).integers(0, env.action_space("player_0").n, (4096, n))
    pool = [{f"player_{j}": int(x) for j, x in enumerate(row)} for row in draws.tolist()]
    i = 0

    def run(calls: int) -> None:
        nonlocal i
        for _ in range(calls):
            for _ in range(1000):
                env.step(pool[i])
                i = (i + 1) & 4095
                if not env.agents:
                    env.reset()

    return run, n * 1000


def aec_runner(env_id: str) -> tuple[Runner, int]:
    """The PettingZoo AEC shell's step loop, for sequential games (the donor game): each
    mover gives a random affordable amount up to ``top_action``."""
    env = make(env_id)
    env.reset(seed=0)
    draws = np.random.default_rng(0).integers(0, top_action(env_id, 3) + 1, 4096).tolist()
    i = 0

    def run(calls: int) -> None:
        nonlocal i
        for _ in range(calls):
            decisions = 0
            while decisions < 1000:
                agent = env.agent_selection
                if env.terminations[agent] or env.truncations[agent]:
                    env.step(None)  # the episode is over: each agent leaves (not counted)
                else:
                    mask = env.observe(agent)["action_mask"]
                    env.step(min(draws[i], int(np.flatnonzero(mask)[-1])))
                    i, decisions = (i + 1) & 4095, decisions + 1
                if not env.agents:
                    env.reset()

    return run, 1000


def shell_runner(env_id: str) -> tuple[str, tuple[Runner, int]]:
    """The PettingZoo row of a game: its Parallel shell, or its AEC shell when the game is
    sequential."""
    if env_id.startswith("DonorGame"):
        return f"{env_id} aec", aec_runner(env_id)
    return f"{env_id} parallel", parallel_runner(env_id)


def gym_runner(env_id: str = "RepeatedPD-v1") -> tuple[Runner, int]:
    """The Gymnasium single env's step loop (player 0 against the id's opponent)."""
    env = gymnasium.make(f"agora/{env_id}").unwrapped
    env.reset(seed=0)
    top = top_action(env_id, env.action_space.n)
    pool = np.random.default_rng(0).integers(0, top + 1, 4096).tolist()
    i = 0

    def run(calls: int) -> None:
        nonlocal i
        for _ in range(calls):
            for _ in range(1000):
                _, _, term, trunc, _ = env.step(pool[i])
                i = (i + 1) & 4095
                if term or trunc:
                    env.reset()

    return run, round(per_step(env.game) * 1000)


def game_runners(env_id: str, sizes: list[int], backends: list[str]
                 ) -> dict[str, tuple[Runner, int]]:
    """One game's rows: its shells, then its vector envs at every size."""
    shell, runner = shell_runner(env_id)
    runners = {shell: runner, f"{env_id} gym": gym_runner(env_id)}
    pd = env_id == "RepeatedPD-v1"
    for b in sizes:
        for backend in backends if pd else ["numpy"]:
            runners[f"{env_id} vector {backend} B={b}"] = vector_runner(env_id, b, backend,
                                                                        False)
        if pd:
            runners[f"{env_id} self-play numpy B={b}"] = vector_runner(env_id, b, "numpy", True)
    return runners


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000, 1_000_000])
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--games", nargs="+",
                    default=["RepeatedPD-v1", "PublicGoods-v1", "Cournot-v1"])
    ap.add_argument("--json", default=None)
    args = parse_args(ap, QUICK, argv)
    backends = ["numpy"]
    try:
        import torch

        torch.set_num_threads(1)  # the shared 2-core machine: one thread, as numpy
        backends.append("torch")
    except ImportError:
        print("torch not installed: numpy only")
    runners: dict[str, tuple[Runner, int]] = {}
    for env_id in args.games:
        runners.update(game_runners(env_id, args.sizes, backends))
    best = dict.fromkeys(runners, 0.0)
    cpu = dict.fromkeys(runners, 0.0)
    for _ in range(args.repeats):
        for name, (run, per_call) in runners.items():
            wall_rate, cpu_rate = measure(run, args.seconds)
            best[name] = max(best[name], wall_rate * per_call)
            cpu[name] = max(cpu[name], cpu_rate * per_call)
    print(f"{'':43s} {'agent-steps/s':>14s} {'per CPU-s':>12s} {'x parallel':>11s} "
          f"{'x gym':>8s}")
    for name, rate in best.items():
        game = name.split()[0]
        shell = best.get(f"{game} parallel") or best[f"{game} aec"]
        print(f"{name:43s} {rate:14,.0f} {cpu[name]:12,.0f} "
              f"{rate / shell:11.1f} {rate / best[f'{game} gym']:8.1f}")
    vec = [k for k in best if " vector " in k or " self-play " in k]
    vec = [k for k in vec if k.startswith("RepeatedPD")] or vec  # the target is the PD's
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
