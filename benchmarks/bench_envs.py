"""Steps per second of every registered env through each of its faces.

For every id in ``agora.envs.specs()`` (new games appear automatically) this measures:

* structured: the PettingZoo API that fits the game -- Parallel ``env.step(dict)`` for
  simultaneous games, AEC ``env.last()`` + ``env.step(a)`` for sequential ones -- with
  actions drawn in advance (random numbers taken modulo the legal-action list of the
  current mask); the env is reset when the episode ends; each ``step`` call is one step.
* text: the cost a language agent's turn adds, without the model: per game step, for
  every player to move, ``text.render(obs)`` of its typed observation and
  ``text.parse(answer, obs)`` of a canonical answer (``text.format_action``, prepared in
  advance from the legal actions), then ``game.step`` on the pure game. "turns/s" counts
  one render + parse per player to move.
* gym: ``gymnasium.make("agora/<id>", opponents=<random>).unwrapped`` (player 0 against
  random opponents; the default opponents differ per game).

PettingZoo's own ``classic.rps_v2.parallel_env()`` runs side by side in the same process
as a yardstick. Measurements are interleaved round-robin over ``--repeats`` rounds and
the best rate of each is kept (these machines are noisy).

Run::

    python benchmarks/bench_envs.py [--seconds 1.5] [--repeats 3] [--text-steps 4096]
        [--json out.json] [--quick]

``--quick`` (a few seconds) runs every face of every env at tiny sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import types
import warnings
from collections.abc import Callable
from typing import Any

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import gymnasium  # noqa: E402
import numpy as np  # noqa: E402
from _cli import parse_args  # noqa: E402

import agora.envs  # noqa: E402
from agora.envs import Status, Timing, make, make_game, specs  # noqa: E402

# Targets printed next to the numbers (steps per second).
TARGET_PD_PARALLEL = 150_000
TARGET_TEXT = 15_000
"""Text face target, per render + parse of one turn (the issue's definition: "render an
observation and parse an action"); the table also shows whole game steps."""
POOL = 4096  # pre-drawn actions / random numbers, cycled (a power of two)
QUICK = {"seconds": 0.01, "repeats": 1, "text_steps": 64}

Runner = Callable[[int], None]  # performs n steps


# ----- helpers ---------------------------------------------------------------------------
class LegalPicker:
    """``legal[r % len(legal)]`` for a mask, the legal list cached by the mask's bytes."""

    def __init__(self, seed: int) -> None:
        self.rand = np.random.default_rng(seed).integers(0, 2**31, POOL).tolist()
        self.i = 0
        self.cache: dict[bytes, list[int]] = {}

    def __call__(self, mask: np.ndarray) -> int:
        key = mask.tobytes()
        legal = self.cache.get(key)
        if legal is None:
            legal = self.cache[key] = np.flatnonzero(mask).tolist()
        self.i = (self.i + 1) & (POOL - 1)
        return legal[self.rand[self.i] % len(legal)]


def measure(run: Runner, seconds: float) -> float:
    """Steps per second of ``run`` over about ``seconds`` (chunked to keep clock reads rare)."""
    run(64)  # warm up (caches, first reset)
    chunk = 64
    target = min(0.02, seconds)
    while True:  # calibrate a chunk of about 20 ms (or the whole measurement, if shorter)
        start = time.perf_counter()
        run(chunk)
        if time.perf_counter() - start > target or chunk >= 1 << 20:
            break
        chunk *= 2
    steps = 0
    t0 = time.perf_counter()
    while True:
        run(chunk)
        steps += chunk
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return steps / elapsed


# ----- structured faces ------------------------------------------------------------------
def parallel_runner(env: Any, seed: int) -> Runner:
    """Parallel API: ``env.step({agent: action})``; reset when ``env.agents`` empties."""
    obs, _ = env.reset(seed=seed)
    game = getattr(env, "game", None)
    agents = list(env.possible_agents)
    if game is None or game.always_legal:
        # every action is always legal: whole joint actions drawn in advance
        n = env.action_space(agents[0]).n
        draws = np.random.default_rng(seed).integers(0, n, (POOL, len(agents))).tolist()
        pool = [dict(zip(agents, row, strict=True)) for row in draws]
        i = 0

        def run(steps: int) -> None:
            nonlocal i
            step = env.step
            for _ in range(steps):
                step(pool[i])
                i = (i + 1) & (POOL - 1)
                if not env.agents:
                    env.reset()

        return run

    pick = LegalPicker(seed)
    current = obs

    def run_masked(steps: int) -> None:
        nonlocal current
        step = env.step
        for _ in range(steps):
            current, *_ = step({a: pick(current[a]["action_mask"]) for a in env.agents})
            if not env.agents:
                current, _ = env.reset()

    return run_masked


def aec_runner(env: Any, seed: int) -> Runner:
    """AEC API: ``env.last()`` then ``env.step(a)``; reset when the episode ends."""
    env.reset(seed=seed)
    pick = LegalPicker(seed)

    def run(steps: int) -> None:
        last, step = env.last, env.step
        for _ in range(steps):
            obs, _, term, trunc, _ = last()
            if term or trunc:
                env.reset()
                obs = last()[0]
            step(pick(obs["action_mask"]))

    return run


def gym_runner(env: Any, seed: int) -> Runner:
    """Gymnasium single-player env, random opponents; reset on termination/truncation."""
    obs, _ = env.reset(seed=seed)
    pick = LegalPicker(seed)
    current = obs

    def run(steps: int) -> None:
        nonlocal current
        step = env.step
        for _ in range(steps):
            current, _, term, trunc, _ = step(pick(current["action_mask"]))
            if term or trunc:
                current, _ = env.reset()

    return run


# ----- text face -------------------------------------------------------------------------
def text_runner(env_id: str, seed: int, length: int = POOL) -> tuple[Runner, float]:
    """Render + parse for each player to move, then ``game.step``; returns turns per step.

    An untimed pass records a trajectory of canonical answers (random legal actions,
    checked to parse back); the timed loop replays it from the same seed, feeding the
    *parsed* actions to the game, so it follows the recorded states exactly.
    """
    game, text = make_game(env_id)
    running = Status.RUNNING
    rng = np.random.default_rng(seed)
    pick = np.random.default_rng(seed + 1)
    state = game.initial_state(rng)
    script: list[tuple[str, ...]] = []
    turns = 0
    while len(script) < length or game.status(state) is running:
        if game.status(state) is not running:
            state = game.initial_state(rng)
        answers, joint = [], []
        for p in game.to_move(state):
            obs = game.observe(state, p)
            legal = obs.legal_actions
            action = int(legal[pick.integers(len(legal))])
            answer = text.format_action(action, obs)
            if text.parse(answer, obs) != action:
                raise AssertionError(f"{env_id}: {answer!r} does not parse back to {action}")
            answers.append(answer)
            joint.append(action)
        script.append(tuple(answers))
        turns += len(answers)
        state, _ = game.step(state, tuple(joint), rng)

    size = len(script)
    j = size  # the first call starts a fresh cycle

    def run(steps: int) -> None:
        nonlocal state, rng, j
        status, to_move, observe = game.status, game.to_move, game.observe
        render, parse, gstep = text.render, text.parse, game.step
        for _ in range(steps):
            if j == size:
                j = 0
                rng = np.random.default_rng(seed)
                state = game.initial_state(rng)
            elif status(state) is not running:
                state = game.initial_state(rng)
            joint = []
            for p, answer in zip(to_move(state), script[j], strict=True):
                obs = observe(state, p)
                render(obs)
                joint.append(parse(answer, obs))
            j += 1
            state, _ = gstep(state, tuple(joint), rng)

    return run, turns / size


# ----- PettingZoo yardstick ----------------------------------------------------------------
_MISSING = object()


class _InertSurface:
    """Stands in for ``pygame.Surface``: accepts any arguments and is never drawn on."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass


def _pygame_stand_in() -> types.ModuleType:
    """The part of pygame that PettingZoo's ``rps`` touches when nothing is rendered.

    ``rps.py`` imports pygame at module level, and its ``reset`` builds an off-screen
    ``pygame.Surface`` even with ``render_mode=None``; nothing else outside its renderer
    uses pygame, so an inert ``Surface`` leaves ``reset`` and ``step`` as they are.
    """
    module = types.ModuleType("pygame")
    module.Surface = _InertSurface  # type: ignore[attr-defined]
    return module


def pettingzoo_rps() -> Any:
    """PettingZoo's classic rock-paper-scissors parallel env, with or without pygame.

    Without pygame installed, ``rps`` is imported against :func:`_pygame_stand_in`; the
    stand-in is bound in the ``rps`` module only and taken out of ``sys.modules`` again, so
    nothing else in the process mistakes it for pygame.
    """
    try:
        with warnings.catch_warnings():  # pygame's pkg_resources import warns
            warnings.simplefilter("ignore")
            import pygame  # noqa: F401
    except ImportError:
        saved = sys.modules.get("pygame", _MISSING)  # None there also blocks an import
        sys.modules["pygame"] = _pygame_stand_in()
        try:
            from pettingzoo.classic.rps import rps
        finally:
            if saved is _MISSING:
                del sys.modules["pygame"]
            else:
                sys.modules["pygame"] = saved  # type: ignore[assignment]
    else:
        from pettingzoo.classic.rps import rps
    return rps.parallel_env()


# ----- main ------------------------------------------------------------------------------
def build(seed: int, text_steps: int = POOL) -> tuple[list[dict[str, Any]], dict[str, Runner]]:
    """Rows of metadata and a runner per measurement key ``"<id>|<face>"``.

    Args:
        seed: Seeds every runner.
        text_steps: Game steps each text runner records (untimed) and then replays.
    """
    rows: list[dict[str, Any]] = []
    runners: dict[str, Runner] = {}
    for s in specs():
        game, _ = make_game(s.id)
        sequential = s.timing is Timing.SEQUENTIAL
        env = make(s.id)
        runners[f"{s.id}|structured"] = (aec_runner(env, seed) if sequential
                                         else parallel_runner(env, seed))
        text_run, turns_per_step = text_runner(s.id, seed, text_steps)
        runners[f"{s.id}|text"] = text_run
        randoms = {j: "random" for j in range(1, game.num_players)}  # as before issue 14
        runners[f"{s.id}|gym"] = gym_runner(
            gymnasium.make(s.gym_id, opponents=randoms).unwrapped, seed)
        rows.append({"id": s.id, "api": "AEC" if sequential else "Parallel",
                     "players": game.num_players, "turns_per_step": turns_per_step})
    runners["pettingzoo rps_v2|structured"] = parallel_runner(pettingzoo_rps(), seed)
    rows.append({"id": "pettingzoo rps_v2", "api": "Parallel", "players": 2,
                 "turns_per_step": None})
    return rows, runners


def fmt(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:,.0f}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=1.5, help="seconds per measurement")
    ap.add_argument("--repeats", type=int, default=3, help="rounds; the best rate is kept")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--text-steps", type=int, default=POOL,
                    help="game steps recorded (untimed) for each text-face replay")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parse_args(ap, QUICK, argv)

    rows, runners = build(args.seed, args.text_steps)
    best: dict[str, float] = {}
    all_rates: dict[str, list[float]] = {k: [] for k in runners}
    total = len(runners) * args.repeats
    done = 0
    for _ in range(args.repeats):  # interleaved, so every measurement sees the same noise
        for key, run in runners.items():
            rate = measure(run, args.seconds)
            all_rates[key].append(rate)
            best[key] = max(best.get(key, 0.0), rate)
            done += 1
            if sys.stderr.isatty():
                print(f"\r  measuring {done}/{total} ...", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print("\r" + " " * 40 + "\r", end="", file=sys.stderr)

    print(f"agora env throughput (steps/s, best of {args.repeats} x {args.seconds:g} s; "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs)")
    head = (f"{'env':<19} {'API':<8} {'n':>2} {'structured':>11} {'text':>9} "
            f"{'text turns':>10} {'gym':>9}  turns>={TARGET_TEXT // 1000}k")
    print(head)
    print("-" * len(head))
    checks: list[tuple[str, bool]] = []
    for row in rows:
        rid = row["id"]
        structured = best.get(f"{rid}|structured")
        text = best.get(f"{rid}|text")
        gym = best.get(f"{rid}|gym")
        turns = None if text is None else text * row["turns_per_step"]
        mark = ""
        if turns is not None:
            ok = turns >= TARGET_TEXT
            mark = verdict(ok)
            checks.append((f"text face {rid} >= {TARGET_TEXT:,} render+parse turns/s", ok))
        row.update(structured=structured, text=text, text_turns=turns, gym=gym)
        print(f"{rid:<19} {row['api']:<8} {row['players']:>2} {fmt(structured):>11} "
              f"{fmt(text):>9} {fmt(turns):>10} {fmt(gym):>9}  {mark}")

    print("  structured = PettingZoo API steps (Parallel step(dict) / AEC last()+step(a)); "
          "text = game steps with\n  render + parse for every player to move; text turns = "
          "render + parse pairs; gym = player 0 vs random opponents")
    pd_rate = best.get("RepeatedPD-v1|structured")
    rps_rate = best["pettingzoo rps_v2|structured"]
    print()
    ratio = None
    if pd_rate is not None:
        ratio = pd_rate / rps_rate
        print(f"ratio agora RepeatedPD-v1 Parallel / pettingzoo rps_v2 parallel: {ratio:.1f}x "
              f"({fmt(pd_rate)} vs {fmt(rps_rate)} steps/s, same run)")
        checks.insert(0, (f"RepeatedPD-v1 Parallel API >= {TARGET_PD_PARALLEL:,} steps/s",
                          pd_rate >= TARGET_PD_PARALLEL))
    print("targets:")
    for name, ok in checks:
        print(f"  [{verdict(ok)}] {name}")

    if args.json:
        result = {
            "benchmark": "bench_envs",
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "agora_version": agora.envs.__version__,
            "seconds": args.seconds,
            "repeats": args.repeats,
            "rows": rows,
            "all_rates": all_rates,
            "ratio_pd_over_pettingzoo_rps": ratio,
            "targets": [{"name": n, "pass": ok} for n, ok in checks],
        }
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
