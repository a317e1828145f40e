"""Speed and accuracy of posterior inference and EIG for the design worlds.

Speed (single thread: the BLAS/OpenMP thread counts are pinned to 1 before numpy loads):

* **eig**: one design's EIG at 1,000 outer x 1,000 inner samples (NMC with its PCE
  bound from the same draws) under a 4,096-particle posterior after 5 observations, for
  location finding (raw and log-intensity forms) and linear-Gaussian. Target <= 20 ms.
* **greedy**: :func:`eig_many` over 100 candidate designs, one greedy-EIG step. Target
  <= 1 s.
* **update**: one :func:`update` (the 11th observation, 4,096 particles) for every
  declared world; median and worst over seeds, wall and CPU time, and the same over all
  11 updates of each history (the first observations are the most informative). Target
  <= 50 ms median.

Accuracy, on linear-Gaussian against ``0.5 log(1 + phi' Sigma phi / sigma^2)``:

* at N = M = 1,000, repeated: mean reported standard error, mean and RMS gap of the
  NMC value to the closed form, and how often ``[PCE - 2 se, NMC + 2 se]`` covers it;
  once with exact posterior draws (the estimator alone) and once with the particle
  posterior (inference + estimator);
* the NMC / PCE bracket as the inner count M grows (N = 1,000): both close on the truth.

Every timing is the best and the median of ``--repeats`` runs (the machines are noisy).

Run::

    python benchmarks/bench_design.py [--repeats 7] [--seeds 3] [--json out.json]
        [--only eig greedy update accuracy inner] [--worlds lotka_volterra emotion] [--quick]

``--quick`` (several seconds): every section once, one seed, one accuracy repeat.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from functools import partial  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from _cli import parse_args  # noqa: E402

from agora.envs.design.eig import eig, eig_many  # noqa: E402
from agora.envs.design.inference import (  # noqa: E402
    Posterior,
    fit,
    prior_posterior,
    update,
)
from agora.envs.design.model import Model  # noqa: E402
from agora.envs.design.worlds import model_class, model_keys  # noqa: E402
from agora.envs.design.worlds.linear_gaussian import LinearGaussian  # noqa: E402

TARGET_EIG_MS = 20.0
TARGET_GREEDY_S = 1.0
TARGET_UPDATE_MS = 50.0
N_PARTICLES = 4096
QUICK = {"repeats": 1, "seeds": 1, "reps": 1}


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Best and median wall seconds of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times))


def history(model: Model, seed: int, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True parameters and ``t`` random experiments on them."""
    rng = np.random.default_rng(seed)
    model.instantiate(rng)
    theta = model.sample_prior(rng, 1)
    xs = model.sample_designs(rng, t)
    ys = np.stack([model.simulate(theta, x, rng)[0] for x in xs])
    return theta[0], xs, ys


def posterior_after(model: Model, seed: int, t: int) -> Posterior:
    _, xs, ys = history(model, seed, t)
    return fit(model, xs, ys, np.random.default_rng(seed + 1), N_PARTICLES)


def speed_worlds() -> list[tuple[str, Model]]:
    worlds: list[tuple[str, Model]] = []
    if "location_finding" in model_keys():
        cls = model_class("location_finding")
        worlds += [("location_finding (raw)", cls({"log_intensity": False})),
                   ("location_finding (log)", cls({"log_intensity": True}))]
    else:
        print("location_finding is not declared: timing linear-Gaussian only")
    worlds.append(("linear_gaussian", LinearGaussian()))
    return worlds


# ----- speed ---------------------------------------------------------------------------
def bench_eig(repeats: int) -> list[dict[str, Any]]:
    rows = []
    for name, model in speed_worlds():
        post = posterior_after(model, 0, 5)
        x = model.sample_designs(np.random.default_rng(1), 1)[0]
        call = partial(eig, model, post, x, np.random.default_rng(2), 1000, 1000, "nmc")
        best, med = timed(call, repeats)
        rows.append({"world": name, "best_ms": 1e3 * best, "median_ms": 1e3 * med,
                     "pass": 1e3 * best <= TARGET_EIG_MS})
    return rows


def bench_greedy(repeats: int) -> list[dict[str, Any]]:
    worlds = speed_worlds()
    if "death_process" in model_keys():
        worlds.append(("death_process (exact)", model_class("death_process")()))
    rows = []
    for name, model in worlds:
        post = posterior_after(model, 0, 5)
        cands = model.sample_designs(np.random.default_rng(3), 100)
        call = partial(eig_many, model, post, cands, np.random.default_rng(4))
        best, med = timed(call, max(1, repeats // 2))
        rows.append({"world": name, "best_s": best, "median_s": med,
                     "pass": best <= TARGET_GREEDY_S})
    return rows


def bench_update(seeds: int, worlds: list[str] | None = None) -> list[dict[str, Any]]:
    """Wall and CPU time of the 11th update per world (CPU time is the steadier number
    on a shared machine: the thread count is pinned to 1), and of all 11 updates of a
    history (``seq_*``: the first observations are the most informative ones)."""
    rows = []
    for key in worlds or model_keys():
        model = model_class(key)()
        wall, cpu, seq, finite = [], [], [], True  # finite: no NaN, weights sum to 1
        try:
            for seed in range(seeds):
                _, xs, ys = history(model, seed, 11)
                rng = np.random.default_rng(seed)
                post = prior_posterior(model, rng, N_PARTICLES)
                for i, (x, y) in enumerate(zip(xs, ys)):
                    if i == 10:  # as after fit(xs[:10]) with this seed
                        rng = np.random.default_rng(seed + 100)
                    w0, c0 = time.perf_counter(), time.process_time()
                    post = update(model, post, x, y, rng)
                    seq.append(time.perf_counter() - w0)
                    last_cpu = time.process_time() - c0
                    finite &= bool(not np.isnan(post.log_weights).any()
                                   and np.isclose(post.weights.sum(), 1.0))
                wall.append(seq[-1])
                cpu.append(last_cpu)
        except Exception as exc:  # a world still being written must not stop the table
            rows.append({"world": key, "error": f"{type(exc).__name__}: {exc}"[:80]})
            continue
        med = 1e3 * float(np.median(wall))
        rows.append({"world": key, "median_ms": med, "worst_ms": 1e3 * max(wall),
                     "cpu_median_ms": 1e3 * float(np.median(cpu)),
                     "cpu_worst_ms": 1e3 * max(cpu),
                     "seq_median_ms": 1e3 * float(np.median(seq)),
                     "seq_worst_ms": 1e3 * max(seq),
                     "finite": finite, "pass": med <= TARGET_UPDATE_MS})
    return rows


# ----- accuracy --------------------------------------------------------------------------
def exact_draws(mean: np.ndarray, cov: np.ndarray, seed: int) -> Posterior:
    draws = np.random.default_rng(seed).multivariate_normal(mean, cov, size=N_PARTICLES)
    return Posterior(draws, np.full(N_PARTICLES, -np.log(N_PARTICLES)), np.zeros((0, 1)),
                     np.zeros(0))


def accuracy_1000(reps: int) -> list[dict[str, Any]]:
    model = LinearGaussian()
    rows = []
    for source in ("exact draws", "particle posterior"):
        gaps, ses, covered = [], [], 0
        for r in range(reps):
            _, xs, ys = history(model, 1000 + r, 5)
            mean, cov = model.exact_posterior(xs, ys)
            post = (exact_draws(mean, cov, r) if source == "exact draws"
                    else fit(model, xs, ys, np.random.default_rng(r), N_PARTICLES))
            x = model.sample_designs(np.random.default_rng(2000 + r), 1)[0]
            truth = model.exact_eig(x, cov)
            est = eig(model, post, x, np.random.default_rng(3000 + r), 1000, 1000)
            gaps.append(est.value - truth)
            ses.append(est.stderr)
            covered += est.lower - 2 * est.stderr <= truth <= est.upper + 2 * est.stderr
        g = np.array(gaps)
        rows.append({"posterior": source, "reps": reps, "mean_stderr": float(np.mean(ses)),
                     "mean_gap": float(g.mean()), "rms_gap": float(np.sqrt(np.mean(g**2))),
                     "coverage": covered / reps})
    return rows


def accuracy_vs_inner(reps: int) -> list[dict[str, Any]]:
    model = LinearGaussian()
    _, xs, ys = history(model, 7, 3)
    mean, cov = model.exact_posterior(xs, ys)
    x = np.array([1.0])
    truth = model.exact_eig(x, cov)
    rows = []
    for m_inner in (1, 10, 100, 1000, 10_000):
        nmc, pce, se = [], [], []
        for r in range(reps):
            est = eig(model, exact_draws(mean, cov, r), x, np.random.default_rng(r),
                      1000, m_inner)
            nmc.append(est.upper)
            pce.append(est.lower)
            se.append(est.stderr)
        rows.append({"M": m_inner, "truth": truth, "pce_gap": float(np.mean(pce)) - truth,
                     "nmc_gap": float(np.mean(nmc)) - truth,
                     "stderr_of_mean": float(np.mean(se) / np.sqrt(reps))})
    return rows


# ----- report --------------------------------------------------------------------------
def table(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    if not rows:
        return
    keys = list(dict.fromkeys(k for row in rows for k in row))
    print("  " + " | ".join(f"{k:>22}" for k in keys))
    for row in rows:
        cells = []
        for k in keys:
            v = row.get(k, "")
            if isinstance(v, bool):
                v = "PASS" if v else "FAIL"
            elif isinstance(v, float):
                v = f"{v:.4g}"
            cells.append(f"{v!s:>22}")
        print("  " + " | ".join(cells))


SECTIONS = {
    "eig": f"EIG of one design, N = M = 1000 (target <= {TARGET_EIG_MS:g} ms)",
    "greedy": f"greedy step: eig_many over 100 candidates (target <= {TARGET_GREEDY_S:g} s)",
    "update": f"posterior update, 11th observation, {N_PARTICLES} particles (target <= "
              f"{TARGET_UPDATE_MS:g} ms median); seq_*: all 11 updates of each history",
    "accuracy": "linear-Gaussian accuracy at N = M = 1000 (gap = NMC - closed form)",
    "inner": "linear-Gaussian bracket vs inner samples M (N = 1000, x = 1)",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--seeds", type=int, default=3, help="seeds per world for update")
    ap.add_argument("--reps", type=int, default=20, help="repeats for accuracy")
    ap.add_argument("--json", default=None)
    ap.add_argument("--only", nargs="*", choices=SECTIONS, default=list(SECTIONS),
                    help="sections to run (default: all)")
    ap.add_argument("--worlds", nargs="*", default=None, help="worlds for update")
    args = parse_args(ap, QUICK)
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"{platform.processor() or platform.machine()}, single thread")
    runs = {
        "eig": lambda: bench_eig(args.repeats),
        "greedy": lambda: bench_greedy(args.repeats),
        "update": lambda: bench_update(args.seeds, args.worlds),
        "accuracy": lambda: accuracy_1000(args.reps),
        "inner": lambda: accuracy_vs_inner(max(3, args.reps // 4)),
    }
    results = {}
    for section in args.only:
        results[section] = rows = runs[section]()
        table(SECTIONS[section], rows)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
