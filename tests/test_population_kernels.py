"""Memory-one tables, the batched rules and the vectorised engine, held to the game's core.

Every number the engine produces is checked against the core's ``step`` (the trace
replayed), the heuristics through ``play_episode``, or another backend/shard exactly;
the random draws against binomial bounds.
"""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest

from agora.agents import make_agent
from agora.agents.memory_one import PRESETS, MemoryOne, memory_one_of
from agora.envs import ConfigError, Status, make_game
from agora.envs.games.repeated_matrix import PD_PAYOFFS, RepeatedMatrixGame
from agora.envs.games.repeated_matrix_vec import RepeatedMatrixVec
from agora.experiments.episode import play_episode
from agora.experiments.population.kernels import (
    play_pairs,
    play_pairs_parallel,
    trace_pairs,
)

PD = np.array(PD_PAYOFFS)
ODD = PD + np.array([[[0.1, 0.3], [0.7, -0.2]], [[1 / 3, 0.6], [0.05, 2.5]]])
"""Payoffs whose running sums are inexact in float64: totals must still match the core."""
FIELDS = ("row_payoff", "col_payoff", "row_coop", "col_coop", "rounds")
DETERMINISTIC = sorted(n for n, s in PRESETS.items() if s.deterministic)
MIX = [PRESETS[n] for n in ("tit_for_tat", "always_defect", "win_stay_lose_shift")] + [
    memory_one_of({"name": "generous_tit_for_tat", "generosity": 0.3}),
    memory_one_of({"name": "random", "p": 0.7}),
    MemoryOne("mixed", 0.6, (0.9, 0.2, 0.5, 0.05)),
]
PROBS = np.array([s.probabilities() for s in MIX])


def _same(a, b) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in FIELDS)


def _random_matches(m: int, s: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, s, m), rng.integers(0, s, m)


# ----- memory-one tables -----------------------------------------------------------------
def test_presets_are_the_heuristics_through_the_episode_loop() -> None:
    """Every pair of deterministic presets: heuristic agents (where registered), the
    ``memory_one`` agent and the engine earn the same returns."""
    rounds = 13
    game, text = make_game("RepeatedPD-v1", {"rounds": rounds})
    probs = np.array([PRESETS[n].probabilities() for n in DETERMINISTIC])
    pairs = list(itertools.product(range(len(DETERMINISTIC)), repeat=2))
    row, col = np.array(pairs).T
    fast = play_pairs(probs, row, col, PD, rounds, key=5)
    for k, (i, j) in enumerate(pairs):
        names = (DETERMINISTIC[i], DETERMINISTIC[j])
        tables = [{"name": "memory_one", "initial": PRESETS[n].initial,
                   "table": list(PRESETS[n].table)} for n in names]
        want = [fast.row_payoff[k], fast.col_payoff[k]]
        got = play_episode(game, text, [make_agent(t) for t in tables], seed=k).returns
        assert got == want, names
        if all(n not in ("suspicious_tit_for_tat", "alternator") for n in names):
            heuristic = play_episode(game, text, [make_agent(n) for n in names], seed=k)
            assert heuristic.returns == want, names


def test_memory_one_of_reads_specs_and_rejects_bad_ones() -> None:
    assert memory_one_of({"name": "generous_tit_for_tat", "generosity": 0.2}).table == (
        1.0, 0.2, 1.0, 0.2)
    assert memory_one_of("random").probabilities().tolist() == [0.5] * 5
    assert memory_one_of({"name": "memory_one", "initial": 0, "table": [1, 0, 0, 1]}) == (
        MemoryOne("memory_one", 0.0, (1.0, 0.0, 0.0, 1.0)))
    assert memory_one_of("fictitious_play") is None
    assert memory_one_of({"name": "llm", "model": "x"}) is None
    with pytest.raises(ConfigError, match="generosity=1.5"):
        memory_one_of({"name": "generous_tit_for_tat", "generosity": 1.5})
    with pytest.raises(ConfigError, match="tit_for_tat"):
        memory_one_of({"name": "tit_for_tat", "forgiveness": 0.1})
    with pytest.raises(ConfigError, match=r"table\[2\]=-0.1"):
        MemoryOne("bad", 1.0, (1.0, 0.0, -0.1, 0.0))
    with pytest.raises(ConfigError, match="table="):
        MemoryOne("short", 1.0, (1.0, 0.0))  # type: ignore[arg-type]


# ----- the batched rules --------------------------------------------------------------------
class _Draws:
    """Stands in for the core's generator: hands out given continuation draws."""

    def __init__(self, draws: np.ndarray) -> None:
        self.draws = iter(draws.tolist())

    def random(self) -> float:
        return next(self.draws)


@pytest.mark.parametrize(("delta", "backend"), [(0.0, "numpy"), (0.8, "numpy"),
                                                (0.8, "torch")])
def test_batched_rules_equal_the_core_step_by_step(delta: float, backend: str) -> None:
    params = {"payoffs": ODD.tolist(), "rounds": 9, "delta": delta}
    core, vec = RepeatedMatrixGame(params), RepeatedMatrixVec(params)
    b, rng = 12, np.random.default_rng(3)
    actions = rng.integers(0, 2, (9, b, 2))
    draws = rng.random((9, b))
    state = vec.reset(b, backend)
    cores = [core.initial_state(rng) for _ in range(b)]
    for t in range(9):
        a0, a1, u = actions[t, :, 0], actions[t, :, 1], draws[t]
        if backend == "torch":
            import torch

            a0, a1, u = torch.as_tensor(a0), torch.as_tensor(a1), torch.as_tensor(u)
        state, rewards = vec.step(state, a0, a1, u=u)
        rewards = np.asarray(rewards)
        for g in range(b):
            if cores[g].status is not Status.RUNNING:
                assert rewards[g].tolist() == [0.0, 0.0]
                continue
            step = core.step(cores[g], tuple(int(a) for a in actions[t, g]),
                             _Draws(draws[t, g:g + 1]))  # type: ignore[arg-type]
            cores[g] = step.state
            assert rewards[g].tolist() == list(step.rewards)
    for g, s in enumerate(cores):
        assert np.asarray(state.totals)[g].tolist() == list(s.totals)
        assert np.asarray(state.zeros)[g].tolist() == list(s.zeros)
        assert int(state.round[g]) == s.round and int(state.mutual_zero[g]) == s.mutual_zero
        assert int(state.status[g]) == int(s.status)
        assert np.asarray(state.last)[g].tolist() == list(s.last)
    if delta:
        assert 0 < int(np.asarray(state.done).sum()) <= b


# ----- the engine --------------------------------------------------------------------------
@pytest.mark.parametrize(("noise", "delta"), [(0.0, 0.0), (0.05, 0.0), (0.0, 0.9),
                                              (0.1, 0.95)])
def test_backends_and_shards_give_identical_numbers(noise: float, delta: float) -> None:
    row, col = _random_matches(3000, len(MIX))
    args = (PROBS, row, col, ODD, 40, 2**64 - 17)
    whole = play_pairs(*args, noise=noise, delta=delta, backend="numba")
    for backend in ("numpy", "torch"):
        assert _same(whole, play_pairs(*args, noise=noise, delta=delta, backend=backend))
    cut = 1234
    head = play_pairs(PROBS, row[:cut], col[:cut], ODD, 40, 2**64 - 17, noise=noise,
                      delta=delta)
    tail = play_pairs(PROBS, row[cut:], col[cut:], ODD, 40, 2**64 - 17, noise=noise,
                      delta=delta, first=cut, backend="numpy")
    for f in FIELDS:
        assert np.array_equal(getattr(whole, f),
                              np.concatenate([getattr(head, f), getattr(tail, f)]))
    if delta:
        assert whole.rounds.min() >= 1 and whole.rounds.max() <= 40
        assert abs(whole.rounds.mean() - (1 - delta**40) / (1 - delta)) < 0.6


@pytest.mark.parametrize(("noise", "delta"), [(0.0, 0.0), (0.1, 0.9)])
def test_trace_replayed_through_the_core_gives_the_engines_numbers(noise: float,
                                                                   delta: float) -> None:
    row, col = _random_matches(200, len(MIX), seed=1)
    res = play_pairs(PROBS, row, col, ODD, 25, 11, noise=noise, delta=delta)
    trace = trace_pairs(PROBS, row, col, ODD, 25, 11, noise=noise, delta=delta)
    core = RepeatedMatrixGame({"payoffs": ODD.tolist(), "rounds": 25})
    for i in range(len(row)):
        state = core.initial_state(np.random.default_rng())
        played = trace[i][trace[i, :, 0] >= 0]
        assert (trace[i, len(played):] == -1).all() and len(played) == res.rounds[i]
        for a0, a1 in played:
            state = core.step(state, (int(a0), int(a1)), np.random.default_rng()).state
        assert list(state.totals) == [res.row_payoff[i], res.col_payoff[i]]
        assert list(state.zeros) == [res.row_coop[i], res.col_coop[i]]


def test_a_memory_one_trace_follows_its_table() -> None:
    """Without noise each action is a deterministic entry or a draw; deterministic
    entries of the stochastic mix are always obeyed."""
    row, col = _random_matches(300, len(MIX), seed=2)
    trace = trace_pairs(PROBS, row, col, PD, 30, 4)
    for i in range(len(row)):
        for seat, s in ((0, row[i]), (1, col[i])):
            mine, theirs = trace[i, :, seat], trace[i, :, 1 - seat]
            states = np.concatenate([[4], 2 * mine[:-1] + theirs[:-1]])
            p = PROBS[s][states]
            assert (mine[p == 1.0] == 0).all() and (mine[p == 0.0] == 1).all()


def _binomial_ok(k: float, n: int, p: float) -> bool:
    return abs(k - n * p) <= 5 * np.sqrt(n * p * (1 - p))  # 5 sigma: one false alarm in 10^6


def test_random_cooperates_at_rate_p_and_noise_flips_at_rate_noise() -> None:
    probs = np.array([[0.3] * 5, [1.0] * 5, [0.0] * 5])
    m, rounds = 4000, 50
    res = play_pairs(probs, np.zeros(m, int), np.full(m, 1), PD, rounds, 21)
    assert _binomial_ok(res.row_coop.sum(), m * rounds, 0.3)
    assert (res.col_coop == rounds).all()
    noisy = play_pairs(probs, np.full(m, 1), np.full(m, 2), PD, rounds, 21, noise=0.07)
    assert _binomial_ok(m * rounds - noisy.row_coop.sum(), m * rounds, 0.07)  # C -> D
    assert _binomial_ok(noisy.col_coop.sum(), m * rounds, 0.07)  # D -> C
    other_key = play_pairs(probs, np.zeros(m, int), np.full(m, 1), PD, rounds, 22)
    assert not np.array_equal(other_key.row_coop, res.row_coop)


def test_bad_arguments_raise_config_errors_naming_them() -> None:
    row = np.zeros(3, int)
    with pytest.raises(ConfigError, match="probs"):
        play_pairs(np.full((2, 4), 0.5), row, row, PD, 5, 0)
    with pytest.raises(ConfigError, match="col"):
        play_pairs(PROBS, row, np.full(3, 99), PD, 5, 0)
    with pytest.raises(ConfigError, match="noise=1.5"):
        play_pairs(PROBS, row, row, PD, 5, 0, noise=1.5)
    with pytest.raises(ConfigError, match="backend='jax'"):
        play_pairs(PROBS, row, row, PD, 5, 0, backend="jax")
    with pytest.raises(ConfigError, match="device='cuda'"):
        play_pairs(PROBS, row, row, PD, 5, 0, backend="numba", device="cuda")
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA"):
            play_pairs(PROBS, row, row, PD, 5, 0, device="cuda")


@pytest.mark.slow
def test_one_and_two_ray_workers_give_play_pairs_numbers() -> None:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    row, col = _random_matches(5001, len(MIX), seed=4)
    args = (PROBS, row, col, ODD, 30, 99)
    want = play_pairs(*args, noise=0.02, delta=0.97, first=7)
    for workers in (1, 2):
        got = play_pairs_parallel(*args, noise=0.02, delta=0.97, first=7, workers=workers)
        assert _same(want, got), workers


_ON_SIMULATED_GPU = """
import warnings, numpy as np
warnings.simplefilter("ignore", RuntimeWarning)  # uint64 scalars wrap, as they must
from agora.experiments.population import kernels
from agora.experiments.population.kernels import play_pairs
probs = np.array({probs})
rng = np.random.default_rng(3)
row, col = rng.integers(0, len(probs), 120), rng.integers(0, len(probs), 120)
pay = np.array({pay})
for noise, delta in ((0.0, 0.0), (0.03, 0.0), (0.03, 0.9)):
    want = play_pairs(probs, row, col, pay, 12, 41, noise=noise, delta=delta, first=5,
                      backend="numpy")
    got = play_pairs(probs, row, col, pay, 12, 41, noise=noise, delta=delta, first=5,
                     device="cuda")
    for f in {fields}:
        assert np.array_equal(getattr(want, f), getattr(got, f)), (noise, delta, f)
assert kernels._backend("auto", "cuda") == ("numba_cuda", None)
print("same")
"""


def test_the_numba_cuda_kernel_gives_the_cpu_numbers_on_numbas_gpu_simulator() -> None:
    """``device="cuda"`` runs the CPU kernel's own ``_pair`` as one CUDA thread per match.
    Here numba's CUDA simulator (with the JIT off, so the simulated threads can call it)
    checks the launch, the transfers and the grid indexing; a GPU run of
    ``benchmarks/bench_population.py --sections g`` checks the compiled kernel."""
    import subprocess
    import sys

    code = _ON_SIMULATED_GPU.format(probs=PROBS.tolist(), pay=ODD.tolist(), fields=FIELDS)
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1", "NUMBA_DISABLE_JIT": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "same"
