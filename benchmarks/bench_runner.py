"""Episodes per second through the real runner, in-process (1 worker) and on Ray (2 workers).

The workload is a 2,000-episode sweep: ``RepeatedPD-v1`` with ``tit_for_tat`` as
player_0 against 4 heuristics as player_1 (``agents.player_1`` swept), 500 episodes each,
``--rounds`` rounds per episode. It runs through ``agora.experiments.run_experiment``
exactly as the CLI does (Parquet parts, consolidation, manifest), into temporary
directories.

Ray is started once by this script (its start-up cost is reported on its own line) and
warmed with a small throw-away experiment before anything is timed; ``run_experiment``
reuses the running Ray. The 1-worker and 2-worker runs alternate over ``--repeats``
rounds and the fastest of each is kept.

The runner's phases are timed by wrapping (in this process only, the library is not
changed) ``runner.make_executor`` (start of the execution phase), ``RunStore.write_part``
(driver time spent writing parts) and ``RunStore.consolidate`` (end of execution; the
final tables). On Linux the script also reads ``/proc`` to report how much CPU other
processes on the machine (and the hypervisor, as steal) took during each run, a sign of a
noisy measurement, and it measures the machine's own ceiling side by side: how much more
work 2 plain processes (multiprocessing, the same batches, no Ray, no I/O) do than 1.

It also checks the determinism guarantee: the two runs' episodes tables (without the
``duration_s`` timing column) and events tables must be identical.

Run::

    python benchmarks/bench_runner.py [--rounds 100] [--repeats 3] [--batch-size N]
        [--no-events] [--json PATH] [--quick]

``--quick`` (Ray's start-up plus a few seconds): 4 cells x 5 episodes of 10 rounds, once.
The exit status is 1 when the 1-worker and 2-worker results differ (in every mode).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

import pandas as pd  # noqa: E402
import ray  # noqa: E402
from _cli import parse_args  # noqa: E402

import agora.experiments.runner as runner_mod  # noqa: E402
from agora.experiments import parse_config, run_experiment  # noqa: E402
from agora.experiments.runner import plan_batches  # noqa: E402
from agora.experiments.store import TIMING_COLUMNS, RunStore  # noqa: E402

TARGET_SPEEDUP = 1.7
OPPONENTS = ["always_defect", "grim_trigger", "win_stay_lose_shift", "random"]
QUICK = {"rounds": 10, "episodes": 5, "repeats": 1}


def make_config(episodes: int, rounds: int, batch_size: int | None, events: bool,
                name: str = "bench-runner") -> Any:
    data: dict[str, Any] = {
        "name": name,
        "env": "RepeatedPD-v1",
        "params": {"rounds": rounds},
        "agents": {"player_0": "tit_for_tat", "player_1": OPPONENTS[0]},
        "sweep": {"agents.player_1": OPPONENTS},
        "episodes": episodes,
        "seed": 0,
        "record_events": events,
    }
    if batch_size:
        data["batch_size"] = batch_size
    return parse_config(data)


# ----- CPU accounting from /proc (Linux; empty elsewhere) ---------------------------------
_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _machine_cpu_s() -> tuple[float, float] | None:
    """(busy, steal) CPU-seconds of the whole machine so far (all cores), from /proc/stat.

    ``busy`` excludes idle, iowait and steal; ``steal`` is time the hypervisor gave to
    other guests while this machine wanted to run.
    """
    try:
        with open("/proc/stat") as fh:
            vals = [int(x) for x in fh.readline().split()[1:]]
    except OSError:
        return None
    vals += [0] * (10 - len(vals))
    user, nice, system, _idle, _iowait, irq, softirq, steal = vals[:8]
    return (user + nice + system + irq + softirq) / _HZ, steal / _HZ


def _descendants_cpu_s() -> float:
    """CPU-seconds used so far by this process's live descendants (Ray's raylet, GCS and
    workers that this script started), from /proc."""
    me = os.getpid()
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                stat = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[pid] = int(stat[1])
        cpu[pid] = (int(stat[11]) + int(stat[12])) / _HZ  # utime + stime
    total = 0.0
    for pid, used in cpu.items():
        p, seen = parent.get(pid), 0
        while p and p != me and seen < 64:
            p, seen = parent.get(p), seen + 1
        if p == me and pid != me:
            total += used
    return total


def _pool_work(tasks: list[Any]) -> float:
    from agora.experiments.batch import run_batch

    start = time.perf_counter()
    for task in tasks:
        run_batch(task)
    return time.perf_counter() - start


def machine_ceiling(pool: Any, tasks: list[Any]) -> tuple[float, float]:
    """Wall times of 1 plain process doing ``tasks`` and of 2 processes doing them twice.

    ``2 * one / two`` is how much more work 2 processes get done than 1 right now, with no
    Ray and no I/O: the most a 2-worker run can hope for on this machine.
    """
    start = time.perf_counter()
    pool.map(_pool_work, [tasks], chunksize=1)
    one = time.perf_counter() - start
    start = time.perf_counter()
    pool.map(_pool_work, [tasks, tasks], chunksize=1)
    two = time.perf_counter() - start
    return one, two


# ----- phase probes ----------------------------------------------------------------------
@dataclass
class Probe:
    t_exec: float = 0.0
    t_cons0: float = 0.0
    t_cons1: float = 0.0
    cpu_exec0: float = 0.0
    cpu_exec1: float = 0.0
    write_s: float = 0.0
    parts: int = 0


PROBE = Probe()


@contextlib.contextmanager
def probes() -> Iterator[None]:
    """Wrap the runner's phase boundaries (in this process only) to time them."""
    make_executor = runner_mod.make_executor
    consolidate = RunStore.consolidate
    write_part = RunStore.write_part

    def timed_make_executor(*args: Any, **kwargs: Any) -> Any:
        PROBE.t_exec = time.perf_counter()
        PROBE.cpu_exec0 = time.process_time()
        return make_executor(*args, **kwargs)

    def timed_consolidate(self: RunStore) -> Any:
        PROBE.t_cons0 = time.perf_counter()
        PROBE.cpu_exec1 = time.process_time()
        out = consolidate(self)
        PROBE.t_cons1 = time.perf_counter()
        return out

    def timed_write_part(self: RunStore, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        out = write_part(self, *args, **kwargs)
        PROBE.write_s += time.perf_counter() - start
        PROBE.parts += 1
        return out

    runner_mod.make_executor = timed_make_executor  # type: ignore[assignment]
    RunStore.consolidate = timed_consolidate  # type: ignore[method-assign]
    RunStore.write_part = timed_write_part  # type: ignore[method-assign]
    try:
        yield
    finally:
        runner_mod.make_executor = make_executor  # type: ignore[assignment]
        RunStore.consolidate = consolidate  # type: ignore[method-assign]
        RunStore.write_part = write_part  # type: ignore[method-assign]


@dataclass
class Run:
    workers: int
    total_s: float
    setup_s: float
    exec_s: float
    consolidate_s: float
    finish_s: float
    write_s: float
    parts: int
    driver_cpu_exec_s: float
    play_s: float  # sum of the episodes' own duration_s (time inside play_episode)
    episodes: int
    child_cpu_s: float | None = None  # CPU of this script's child processes (Ray)
    other_cpu_s: float | None = None  # CPU of every other process on the machine
    steal_s: float | None = None  # hypervisor steal time, all cores
    frames: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def eps_total(self) -> float:
        return self.episodes / self.total_s

    @property
    def eps_exec(self) -> float:
        return self.episodes / self.exec_s


def timed_run(cfg: Any, workers: int, root: Path, keep_frames: bool) -> Run:
    global PROBE
    PROBE = Probe()
    out = Path(tempfile.mkdtemp(prefix=f"w{workers}-", dir=root))
    mach0, ray0, cpu0 = _machine_cpu_s(), _descendants_cpu_s(), time.process_time()
    start = time.perf_counter()
    summary = run_experiment(cfg, out, workers=workers, progress=False)
    end = time.perf_counter()
    mach1, ray1, cpu1 = _machine_cpu_s(), _descendants_cpu_s(), time.process_time()
    if summary.failed or summary.episodes_done != summary.episodes_planned:
        raise RuntimeError(f"run failed: {summary.failed} failed, "
                           f"{summary.episodes_done}/{summary.episodes_planned} done")
    other = steal = None
    if mach0 is not None and mach1 is not None:
        other = max(0.0, (mach1[0] - mach0[0]) - (cpu1 - cpu0) - (ray1 - ray0))
        steal = mach1[1] - mach0[1]
    run = Run(
        workers=workers,
        total_s=end - start,
        setup_s=PROBE.t_exec - start,
        exec_s=PROBE.t_cons0 - PROBE.t_exec,
        consolidate_s=PROBE.t_cons1 - PROBE.t_cons0,
        finish_s=end - PROBE.t_cons1,
        write_s=PROBE.write_s,
        parts=PROBE.parts,
        driver_cpu_exec_s=PROBE.cpu_exec1 - PROBE.cpu_exec0,
        play_s=float(summary.episodes["duration_s"].sum()),
        episodes=summary.episodes_done,
        child_cpu_s=(ray1 - ray0) if mach0 is not None else None,
        other_cpu_s=other,
        steal_s=steal,
    )
    if keep_frames:
        run.frames["episodes"] = summary.episodes
        events_path = summary.run_dir / "events.parquet"
        if events_path.exists():
            run.frames["events"] = pd.read_parquet(events_path)
    shutil.rmtree(out, ignore_errors=True)
    return run


def same_table(a: pd.DataFrame, b: pd.DataFrame, drop: tuple[str, ...] = ()) -> bool:
    a = a.drop(columns=[c for c in drop if c in a.columns]).reset_index(drop=True)
    b = b.drop(columns=[c for c in drop if c in b.columns]).reset_index(drop=True)
    return list(a.columns) == list(b.columns) and a.equals(b)


def start_ray(workers: int) -> float:
    start = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
             logging_level="ERROR")
    return time.perf_counter() - start


def fmt_s(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=100, help="rounds per episode (default 100)")
    ap.add_argument("--episodes", type=int, default=500, help="episodes per cell (x4 cells)")
    ap.add_argument("--repeats", type=int, default=3, help="rounds of (1 worker, 2 workers)")
    ap.add_argument("--batch-size", type=int, default=None,
                    help="config batch_size (default: the runner's own choice)")
    ap.add_argument("--no-events", action="store_true", help="record_events: false")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parse_args(ap, QUICK, argv)

    cfg = make_config(args.episodes, args.rounds, args.batch_size, not args.no_events)
    warm_cfg = make_config(8, args.rounds, None, not args.no_events, name="bench-warmup")
    n_eps = len(cfg.cells()) * cfg.episodes
    print(f"workload: {cfg.env} rounds={args.rounds}, player_0=tit_for_tat, "
          f"player_1 in {OPPONENTS}")
    print(f"          {len(cfg.cells())} cells x {cfg.episodes} episodes = {n_eps} episodes, "
          f"record_events={cfg.record_events}, batch_size={cfg.batch_size or 'auto'}, "
          f"best of {args.repeats}; Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load avg {os.getloadavg()[0]:.2f}")

    root = Path(tempfile.mkdtemp(prefix="agora-bench-runner-"))
    runs: dict[int, list[Run]] = {1: [], 2: []}
    ceilings: list[tuple[float, float]] = []
    identical: dict[str, bool] = {}
    all_tasks = plan_batches(cfg, cfg.cells(), set(), 1)
    ceiling_tasks = all_tasks[:: max(1, len(all_tasks) // 5)][:5]  # ~1/8 of the work
    pool = multiprocessing.get_context("forkserver").Pool(2)
    try:
        pool.map(_pool_work, [ceiling_tasks[:1]] * 2, chunksize=1)  # warm both processes
        with probes():
            timed_run(warm_cfg, 1, root, keep_frames=False)  # imports, caches
            ray_start = start_ray(2)
            t = time.perf_counter()
            timed_run(warm_cfg, 2, root, keep_frames=False)  # Ray workers import agora
            warm_ray = time.perf_counter() - t
            for rep in range(args.repeats):
                ceilings.append(machine_ceiling(pool, ceiling_tasks))
                for workers in (1, 2):
                    runs[workers].append(timed_run(cfg, workers, root, keep_frames=rep == 0))
        t = time.perf_counter()
        ray.shutdown()
        ray_stop = time.perf_counter() - t
        first1, first2 = runs[1][0].frames, runs[2][0].frames
        identical["episodes"] = same_table(first1["episodes"], first2["episodes"],
                                           TIMING_COLUMNS)
        if "events" in first1:
            identical["events"] = same_table(first1["events"], first2["events"])
        for rs in runs.values():
            for r in rs:
                r.frames.clear()
    finally:
        if ray.is_initialized():  # only after an error
            ray.shutdown()
        pool.terminate()
        pool.join()
        shutil.rmtree(root, ignore_errors=True)

    best = {w: min(rs, key=lambda r: r.total_s) for w, rs in runs.items()}
    b1, b2 = best[1], best[2]
    print()
    head = (f"{'run (best of ' + str(args.repeats) + ')':<24} {'total s':>7} {'setup':>6} "
            f"{'exec':>6} {'consol':>6} {'ep/s':>6} {'ep/s exec':>9} {'parts':>5} "
            f"{'write s':>7} {'drv cpu':>7} {'play s':>6} {'other':>6} {'steal':>6}")
    print(head)
    print("-" * len(head))
    for label, r in (("1 worker (in-process)", b1), ("2 workers (Ray)", b2)):
        print(f"{label:<24} {r.total_s:>7.2f} {r.setup_s:>6.2f} {r.exec_s:>6.2f} "
              f"{r.consolidate_s:>6.2f} {r.eps_total:>6,.0f} {r.eps_exec:>9,.0f} {r.parts:>5} "
              f"{r.write_s:>7.2f} {r.driver_cpu_exec_s:>7.2f} {r.play_s:>6.2f} "
              f"{fmt_s(r.other_cpu_s):>6} {fmt_s(r.steal_s):>6}")
    with_start = b2.total_s + ray_start
    print(f"{'2 workers + Ray start':<24} {with_start:>7.2f} {'':>6} {'':>6} {'':>6} "
          f"{n_eps / with_start:>6,.0f}")
    print("  total = run_experiment wall time (Ray already running); setup = config check, "
          "run dir, manifest;\n  exec = batches played + parts written; consol = final "
          "episodes/events tables; drv cpu = driver CPU-s in exec;\n  play s = sum of the "
          "episodes' duration_s; other/steal = CPU-s taken by other processes / the "
          "hypervisor (noise)")
    print()
    print(f"Ray start-up (ray.init, 2 CPUs): {ray_start:.2f} s; first Ray experiment "
          f"(worker warm-up, {len(warm_cfg.cells()) * warm_cfg.episodes} episodes): "
          f"{warm_ray:.2f} s; ray.shutdown: {ray_stop:.2f} s")
    pairs = [r1.total_s / r2.total_s for r1, r2 in zip(runs[1], runs[2], strict=True)]
    print("runs, total s (1 worker / 2 workers = side-by-side ratio): " + "; ".join(
        f"{r1.total_s:.2f} / {r2.total_s:.2f} = {q:.2f}x"
        for r1, r2, q in zip(runs[1], runs[2], pairs, strict=True)))
    speedup = b1.total_s / b2.total_s
    speedup_exec = b1.exec_s / b2.exec_s
    speedup_start = b1.total_s / with_start
    median_pair = statistics.median(pairs)
    print(f"speed-up 2 workers / 1 worker (best of each): {speedup:.2f}x end to end, "
          f"{speedup_exec:.2f}x execution phase only, {speedup_start:.2f}x counting Ray "
          f"start; median side-by-side pair: {median_pair:.2f}x")
    ceiling = 2 * min(c[0] for c in ceilings) / min(c[1] for c in ceilings)
    print(f"machine ceiling: 2 plain processes (multiprocessing, same batches, no Ray, no I/O) "
          f"do {ceiling:.2f}x the work of 1 (best of each; per repeat: "
          f"{', '.join(f'{2 * one / two:.2f}' for one, two in ceilings)})")
    serial = b1.setup_s + b1.consolidate_s + b1.finish_s
    bound = b1.total_s / (serial + b1.exec_s / 2)
    print(f"Amdahl bound from the 1-worker run: serial phases {serial:.2f} s of "
          f"{b1.total_s:.2f} s, so even a perfect 2x execution phase gives {bound:.2f}x")
    print(f"episode time inside play_episode, 2 workers vs 1: "
          f"{b2.play_s / b1.play_s:.2f}x (1.00 = no slow-down from sharing the 2 cores)")
    for name, ok in identical.items():
        print(f"determinism: {name} tables of the 1-worker and 2-worker runs identical"
              f"{' (without duration_s)' if name == 'episodes' else ''}: "
              f"{'yes' if ok else 'NO'}")
    print("targets:")
    print(f"  [{'PASS' if speedup >= TARGET_SPEEDUP else 'FAIL'}] speed-up 2 workers / "
          f"1 worker >= {TARGET_SPEEDUP}x (best of each, Ray started beforehand): "
          f"{speedup:.2f}x")
    print(f"  [{'PASS' if all(identical.values()) else 'FAIL'}] identical results "
          "for 1 and 2 workers")

    if args.json:
        result = {
            "benchmark": "bench_runner",
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "config": cfg.model_dump(),
            "episodes": n_eps,
            "ray_start_s": ray_start,
            "ray_warmup_s": warm_ray,
            "ray_shutdown_s": ray_stop,
            "runs": {w: [{k: v for k, v in asdict(r).items() if k != "frames"} for r in rs]
                     for w, rs in runs.items()},
            "machine_ceiling": ceiling,
            "machine_ceiling_times": ceilings,
            "speedup_total": speedup,
            "speedup_pairs": pairs,
            "speedup_exec": speedup_exec,
            "speedup_with_ray_start": speedup_start,
            "identical": identical,
            "target_speedup": TARGET_SPEEDUP,
            "target_pass": speedup >= TARGET_SPEEDUP,
        }
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2, default=str)
        print(f"wrote {args.json}")
    return 0 if all(identical.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
