"""Steps per second of the knowledge-graph completion world (issue 6 target: >= 10k/s).

A 1,000-entity rule world (``missing_edges`` corruption, about 14,600 true triples) with
an unlimited budget. Actions are drawn in advance; each row times one action kind:

* ``query``: a random entity (reveals up to ``reveal_k=5`` unknown true triples);
* ``propose``: half true triples (from the target), half random ones;
* ``mixed``: query / propose / verify / retract (of a known triple) in turn.

Each is timed on the pure world (``world.step``) and through the Gymnasium env
(``KGCompletionEnv.step``, which also builds the padded array observation), plus the text
face (render + parse of a canonical JSON answer). Measurements are interleaved over
``--repeats`` rounds and the best rate is kept (the machines are noisy).

Run::

    python benchmarks/bench_kg_env.py [--entities 1000] [--steps 20000] [--repeats 3]
        [--json PATH] [--quick]

``--quick`` (a few seconds): a 100-entity world, 400 steps per row, once.
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import time
from collections.abc import Callable

import numpy as np
from _cli import parse_args

from agora.envs.kg.env import KGCompletionEnv
from agora.envs.kg.types import ACTION_KINDS, KGAction
from agora.envs.kg.world import CompletionWorld

TARGET = 10_000
QUICK = {"entities": 100, "steps": 400, "repeats": 1}


def make_world(entities: int) -> CompletionWorld:
    return CompletionWorld({"source": "rule_world", "num_entities": entities,
                            "instance_seed": 0, "budget": 1e12, "max_steps": 10**12})


def draw_actions(world: CompletionWorld, kind: str, n: int, seed: int) -> list[KGAction]:
    rng = np.random.default_rng(seed)
    state = world.initial_state(np.random.default_rng(seed))
    E, R = world.num_entities, world.num_relations
    truth = state.kg.triples
    out: list[KGAction] = []
    for i in range(n):
        k = kind if kind != "mixed" else ("query", "propose", "verify", "retract")[i % 4]
        if k == "query":
            out.append(KGAction.query(int(rng.integers(E))))
        elif i % 2 and k in ("propose", "verify"):
            h, r, t = truth[int(rng.integers(len(truth)))].tolist()
            out.append(KGAction(k, h, r, t))
        else:
            out.append(KGAction("propose" if k == "retract" else k, int(rng.integers(E)),
                                int(rng.integers(R)), int(rng.integers(E))))
    return out


def time_world(world: CompletionWorld, actions: list[KGAction]) -> float:
    rng = np.random.default_rng(1)
    state = world.initial_state(np.random.default_rng(0))
    step = world.step
    t0 = time.perf_counter()
    for a in actions:
        if a.kind == "propose" and a.head % 7 == 0 and state.graph.n:  # some retracts
            h, r, t = state.graph.rows[state.graph.n - 1].tolist()
            a = KGAction.retract(h, r, t)
        state, _ = step(state, (a,), rng)
    return len(actions) / (time.perf_counter() - t0)


def time_gym(world: CompletionWorld, actions: list[KGAction], n: int) -> float:
    env = KGCompletionEnv(world)
    env.reset(seed=0)
    vecs = [np.array([ACTION_KINDS.index(a.kind), a.head, max(a.relation, 0),
                      max(a.tail, 0)]) for a in actions[:n]]
    t0 = time.perf_counter()
    for v in vecs:
        env.step(v)
    return len(vecs) / (time.perf_counter() - t0)


def time_text(world: CompletionWorld, actions: list[KGAction], n: int) -> float:
    state = world.initial_state(np.random.default_rng(0))
    answers = [world.text.format_action(a, state) for a in actions[:n]]
    t0 = time.perf_counter()
    for s in answers:
        world.text.render(state)
        world.text.parse(s, state)
    return len(answers) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entities", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", default=None)
    args = parse_args(ap, QUICK)
    world = make_world(args.entities)
    kinds = ("query", "propose", "mixed")
    actions = {k: draw_actions(world, k, args.steps, i) for i, k in enumerate(kinds)}
    runs: dict[str, Callable[[], float]] = {}
    for k in kinds:
        runs[f"world {k}"] = functools.partial(time_world, world, actions[k])
        runs[f"gym {k}"] = functools.partial(time_gym, world, actions[k], args.steps // 4)
    runs["text render+parse"] = functools.partial(time_text, world, actions["mixed"], 500)
    best = dict.fromkeys(runs, 0.0)
    for _ in range(args.repeats):
        for name, run in runs.items():
            best[name] = max(best[name], run())
    state = world.initial_state(np.random.default_rng(0))
    print(f"KG completion world: {world.num_entities} entities, {world.num_relations} "
          f"relations, {len(state.kg.triples)} true triples, {state.graph.n} known at start; "
          f"python {platform.python_version()}, best of {args.repeats}")
    print(f"{'path':<22}{'steps/s':>12}  target")
    for name, rate in best.items():
        verdict = (("PASS" if rate >= TARGET else "FAIL") + f" (>= {TARGET:,})"
                   if name.startswith("world ") and name != "world mixed" else "")
        print(f"{name:<22}{rate:>12,.0f}  {verdict}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"entities": world.num_entities, "steps_per_s": best}, f, indent=2)


if __name__ == "__main__":
    main()
