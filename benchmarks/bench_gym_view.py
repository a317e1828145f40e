"""Steps per CPU second of the Gymnasium single-player view, seeded per episode.

For each name (the newest ``-vN`` registered) this times ``gymnasium.make("agora/<id>",
<random opponents>).unwrapped``: ``env.step`` with a uniformly random legal action taken
from the observation's action mask (pre-drawn random numbers modulo the legal list), and
``env.reset(seed=k)`` with a fresh integer seed ``k`` for every episode, player 0 against
uniformly random opponents. The rate is steps per CPU second (``time.process_time``, so
other processes on a shared machine count less), the best of ``--repeats`` short rounds,
interleaved over the ids.

It uses only the public Gymnasium API, so the same script runs under an older checkout's
environment too (issue 10's "no env slower"): where ``agora.envs.opponents`` exists, the
random opponent is asked for by name (``opponents={j: "random"}``); before it, a seat
given no opponent played uniformly random legal actions. ``--ratio`` compares saved runs::

    python benchmarks/bench_gym_view.py [--names StagHunt Trust ...] [--seconds 0.3]
        [--repeats 5] [--json out.json] [--quick]
    python benchmarks/bench_gym_view.py --ratio before1.json,before2.json after1.json,after2.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import time
from collections.abc import Callable
from typing import Any

import gymnasium
import numpy as np
from _cli import parse_args

import agora.envs

NAMES = ("StagHunt", "Ultimatum", "RepeatedPD", "Cournot", "Trust", "Bargaining",
         "PublicGoods", "DonorGame", "AllPayAuction", "GleeBargaining")
POOL = 4096  # pre-drawn random numbers, cycled (a power of two)
QUICK = {"seconds": 0.01, "repeats": 1}

Runner = Callable[[int], None]  # performs n steps


def newest_ids(names: list[str]) -> list[str]:
    """The newest registered ``<name>-vN`` of each name."""
    versions: dict[str, list[tuple[int, str]]] = {}
    for s in agora.envs.specs():
        name, _, v = s.id.rpartition("-v")
        versions.setdefault(name, []).append((int(v), s.id))
    missing = [n for n in names if n not in versions]
    if missing:
        raise SystemExit(f"no registered id for {missing}")
    return [max(versions[n])[1] for n in names]


def random_opponents(num_players: int) -> dict[str, Any]:
    """The keyword that seats uniformly random opponents in this checkout."""
    if importlib.util.find_spec("agora.envs.opponents") is None:
        return {}  # the older view: a seat given no opponent plays random legal actions
    return {"opponents": {j: "random" for j in range(1, num_players)}}


def gym_runner(env_id: str, seed: int) -> Runner:
    """Steps of one env; a new episode, ``reset(seed=k)`` with a fresh ``k``, on each end."""
    game, _ = agora.envs.make_game(env_id)
    env = gymnasium.make(f"agora/{env_id}", **random_opponents(game.num_players)).unwrapped
    rand = np.random.default_rng(seed).integers(0, 2**31, POOL).tolist()
    legal_of: dict[bytes, list[int]] = {}
    episode = seed * 1_000_003
    obs, _ = env.reset(seed=episode)
    i = 0

    def run(steps: int) -> None:
        nonlocal obs, i, episode
        step, reset = env.step, env.reset
        for _ in range(steps):
            mask = obs["action_mask"]
            key = mask.tobytes()
            legal = legal_of.get(key)
            if legal is None:
                legal = legal_of[key] = np.flatnonzero(mask).tolist()
            i = (i + 1) & (POOL - 1)
            obs, _, term, trunc, _ = step(legal[rand[i] % len(legal)])
            if term or trunc:
                episode += 1
                obs, _ = reset(seed=episode)

    return run


def measure(run: Runner, seconds: float) -> float:
    """Steps per CPU second of ``run`` over about ``seconds`` of CPU time."""
    run(32)  # warm up (caches, first episodes)
    chunk = 32
    while True:  # a chunk of about 10 ms, so the clock is read rarely
        start = time.process_time()
        run(chunk)
        if time.process_time() - start > min(0.01, seconds) or chunk >= 1 << 20:
            break
        chunk *= 2
    steps, t0 = 0, time.process_time()
    while True:
        run(chunk)
        steps += chunk
        elapsed = time.process_time() - t0
        if elapsed >= seconds:
            return steps / elapsed


def ratio_table(before: list[str], after: list[str]) -> None:
    """Prints after / before of the best rate per name, over several saved runs each."""

    def best(paths: list[str]) -> dict[str, float]:
        rates: dict[str, float] = {}
        for path in paths:
            with open(path) as fh:
                for row in json.load(fh)["rows"]:
                    rates[row["name"]] = max(rates.get(row["name"], 0.0), row["rate"])
        return rates

    b, a = best(before), best(after)
    print(f"{'env':<16} {'before':>9} {'after':>9} {'ratio':>6}")
    for name in [n for n in b if n in a]:
        print(f"{name:<16} {b[name]:>9,.0f} {a[name]:>9,.0f} {a[name] / b[name]:>6.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--names", nargs="+", default=list(NAMES), help="game names (no -vN)")
    ap.add_argument("--seconds", type=float, default=0.3, help="CPU seconds per measurement")
    ap.add_argument("--repeats", type=int, default=5, help="rounds; the best rate is kept")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    ap.add_argument("--ratio", nargs=2, metavar=("BEFORE", "AFTER"),
                    help="comma-separated JSON files of two checkouts: print after/before")
    args = parse_args(ap, QUICK, argv)
    if args.ratio:
        ratio_table(args.ratio[0].split(","), args.ratio[1].split(","))
        return 0

    ids = newest_ids(args.names)
    runners = {env_id: gym_runner(env_id, args.seed) for env_id in ids}
    best: dict[str, float] = {}
    for _ in range(args.repeats):  # interleaved, so every id sees the same noise
        for env_id, run in runners.items():
            best[env_id] = max(best.get(env_id, 0.0), measure(run, args.seconds))

    print(f"Gymnasium view, seeded reset per episode, random opponents (steps per CPU s, "
          f"best of {args.repeats} x {args.seconds:g} s; agora {agora.envs.__version__}, "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs)")
    rows = [{"name": env_id.rpartition("-v")[0], "id": env_id, "rate": best[env_id]}
            for env_id in ids]
    for row in rows:
        print(f"{row['id']:<20} {row['rate']:>9,.0f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"benchmark": "bench_gym_view", "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                       "agora_version": agora.envs.__version__, "seconds": args.seconds,
                       "repeats": args.repeats, "rows": rows}, fh, indent=2)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
