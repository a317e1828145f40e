"""The vectorised engine: many repeated 2x2 matches between memory-one strategies at once.

:func:`play_pairs` plays ``M`` matches, match ``i`` between strategy ``row[i]`` (seat 0,
the row player) and ``col[i]`` (seat 1), each strategy a row ``[p00, p01, p10, p11,
initial]`` of P(action 0) (:meth:`agora.agents.memory_one.MemoryOne.probabilities`). The
rules are exactly :class:`~agora.envs.games.repeated_matrix.RepeatedMatrixGame`'s: each
round both choose, are paid ``payoffs[a0][a1]`` (totals summed round by round, in the
core's order), and with ``delta > 0`` the match goes on after a round iff a uniform draw is
below ``delta`` (``rounds`` is then the cap). ``noise`` flips each intended action with
that probability (the axelrod convention: both players remember the flipped actions).

Randomness is a counter-based hash, not a stream: the draw of seat ``s`` in round ``t`` of
match ``first + i`` for purpose ``k`` (0/1 action, 2/3 noise, 4 continuation) is
``mix(base + (5 t + k + 1) * GAMMA) >> 11`` with ``base = mix(mix(key) + (first + i) *
GAMMA)``, ``mix`` the splitmix64 finaliser. An action is 0 iff its 53-bit draw is below
``ceil(p * 2**53)``. So a match's numbers depend only on (key, its global index, the
strategies), never on sharding, batch size or backend: the numba kernel (uint64), numpy and
torch (int64 with wrapping products and masked shifts) give identical results.

On a GPU (``device="cuda"``) numba compiles the same ``_pair`` as one CUDA thread per match
(it needs the ``numba-cuda`` package; numba-cuda 0.30 does not load with numpy >= 2.5, and
``backend="auto"`` then falls back to torch, whose lanes run on any torch device). On an
H200 the CUDA kernel played 10M agents' 200-round matches in 0.12 s, 4-7x faster than 16 CPU
cores (``benchmarks/bench_population.py --sections g``).

Example:
    >>> import numpy as np
    >>> from agora.envs.games.repeated_matrix import PD_PAYOFFS
    >>> tft, alld = [1, 0, 1, 0, 1], [0, 0, 0, 0, 0]
    >>> res = play_pairs(np.array([tft, alld], float), np.array([0, 0]), np.array([0, 1]),
    ...                  np.array(PD_PAYOFFS), rounds=10, key=7)
    >>> res.row_payoff.tolist(), res.col_payoff.tolist(), res.row_coop.tolist()
    ([30.0, 9.0], [30.0, 14.0], [10.0, 1.0])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from agora.envs import ConfigError
from agora.envs.core import is_int, is_real

__all__ = ["BACKENDS", "PairResult", "play_pairs", "play_pairs_parallel", "trace_pairs"]

BACKENDS = ("auto", "numba", "numpy", "torch")
GAMMA, M1, M2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_TWO64, ONE = 1 << 64, 1 << 53  # ONE: a threshold every 53-bit draw is below (p = 1)
_NOISE, _CONT = 2, 4  # purpose offsets of the noise and continuation draws


@dataclass(frozen=True)
class PairResult:
    """What ``M`` matches produced, one entry per match (numpy arrays).

    Attributes:
        row_payoff: seat 0's total over the rounds played (float64).
        col_payoff: seat 1's total (float64).
        row_coop: rounds in which seat 0 played action 0 (float64).
        col_coop: rounds in which seat 1 played action 0 (float64).
        rounds: rounds played (int64; ``rounds`` unless ``delta > 0``).
    """

    row_payoff: np.ndarray
    col_payoff: np.ndarray
    row_coop: np.ndarray
    col_coop: np.ndarray
    rounds: np.ndarray


# ----- the hash, on Python ints (setup) -------------------------------------------------
def _mix_int(z: int) -> int:
    z %= _TWO64
    z = ((z ^ (z >> 30)) * M1) % _TWO64
    z = ((z ^ (z >> 27)) * M2) % _TWO64
    return z ^ (z >> 31)


def _signed(z: int) -> int:
    z %= _TWO64
    return z - _TWO64 if z >= 1 << 63 else z


def threshold(p: float) -> int:
    """``ceil(p * 2**53)``: a 53-bit draw ``u`` means "yes" iff ``u < threshold(p)``."""
    return math.ceil(p * ONE)


# ----- validation -----------------------------------------------------------------------
@dataclass(frozen=True)
class _Job:
    thr: np.ndarray  # (S, 5) int64 thresholds
    stochastic: np.ndarray  # (S,) bool: some threshold is neither 0 nor ONE
    row: np.ndarray
    col: np.ndarray
    pay: np.ndarray  # (2, 2, 2) float64
    rounds: int
    khash: int  # mix(key), as an unsigned 64-bit Python int
    first: int
    noise: int  # thresholds
    delta: int


def _job(probs: Any, row: Any, col: Any, payoffs: Any, rounds: Any, key: Any, noise: Any,
         delta: Any, first: Any) -> _Job:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 5 or not np.all((p >= 0) & (p <= 1)):
        raise ConfigError(f"probs (shape {p.shape}) must be an (S, 5) array of probabilities")
    r, c = np.asarray(row), np.asarray(col)
    for name, a in (("row", r), ("col", c)):
        if a.ndim != 1 or a.shape != r.shape or (a.size and (
                not np.issubdtype(a.dtype, np.integer) or a.min() < 0 or a.max() >= len(p))):
            raise ConfigError(f"{name} must be a 1-d int array of strategy indices in "
                              f"[0, {len(p)}) of the same length as row; got {a!r:.80}")
    pay = np.asarray(payoffs, dtype=np.float64)
    if pay.shape != (2, 2, 2) or not np.all(np.isfinite(pay)):
        raise ConfigError(f"payoffs={payoffs!r} must be a finite (2, 2, 2) array")
    if not (is_int(rounds) and rounds >= 1):
        raise ConfigError(f"rounds={rounds!r} must be a positive integer")
    if not is_int(key):
        raise ConfigError(f"key={key!r} must be an integer")
    if not (is_real(noise) and 0.0 <= noise <= 1.0):
        raise ConfigError(f"noise={noise!r} must be a probability in [0, 1]")
    if not (is_real(delta) and 0.0 <= delta < 1.0):
        raise ConfigError(f"delta={delta!r} must be a number in [0, 1)")
    if not (is_int(first) and first >= 0):
        raise ConfigError(f"first={first!r} must be an integer >= 0")
    thr = np.ceil(p * ONE).astype(np.int64)
    stochastic = np.any((thr != 0) & (thr != ONE), axis=1)
    return _Job(thr, stochastic, r.astype(np.int64, copy=False), c.astype(np.int64, copy=False),
                pay, int(rounds), _mix_int(int(key)), int(first), threshold(float(noise)),
                threshold(float(delta)))


def _result(pay0: Any, pay1: Any, coop0: Any, coop1: Any, played: Any) -> PairResult:
    def f64(x: Any) -> np.ndarray:
        return np.asarray(x, dtype=np.float64)

    return PairResult(f64(pay0), f64(pay1), f64(coop0), f64(coop1),
                      np.asarray(played, dtype=np.int64))


# ----- numba: one thread per block of matches, uint64 arithmetic ------------------------
_U = np.uint64
_G, _M1, _M2 = _U(GAMMA), _U(M1), _U(M2)
_S30, _S27, _S31, _S11 = _U(30), _U(27), _U(31), _U(11)


@numba.njit(cache=True, inline="always")
def _mix(z: np.uint64) -> np.uint64:  # pragma: no cover (compiled)
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@numba.njit(cache=True, inline="always")
def _draw(base: np.uint64, counter: int) -> np.uint64:  # pragma: no cover (compiled)
    return _mix(base + _U(counter) * _G) >> _S11


@numba.njit(cache=True, inline="always")
def _act(sto, mask, thr, strategy, state, base, counter):  # pragma: no cover (compiled)
    """1 (action 1) or 0: a draw against the threshold, or for a strategy that never
    randomises the bit of its defection mask (what any draw would give)."""
    if sto:
        return np.int64(_draw(base, counter) >= thr[strategy, state])
    return (mask >> state) & 1


@numba.njit(cache=True, inline="always")
def _match(thr, mask, sto, r, c, pay, rounds, base, nthr, dthr):  # pragma: no cover
    """One match: (total 0, total 1, action-0 count 0, action-0 count 1, rounds)."""
    zero = _U(0)
    x0 = x1 = z0 = z1 = 0
    tot0 = tot1 = 0.0
    played = rounds
    for t in range(rounds):
        k = 5 * t + 1
        s0, s1 = (4, 4) if t == 0 else (2 * x0 + x1, 2 * x1 + x0)
        x0 = _act(sto[r], mask[r], thr, r, s0, base, k)
        x1 = _act(sto[c], mask[c], thr, c, s1, base, k + 1)
        if nthr > zero:
            x0 ^= np.int64(_draw(base, k + _NOISE) < nthr)
            x1 ^= np.int64(_draw(base, k + _NOISE + 1) < nthr)
        tot0 += pay[x0, x1, 0]
        tot1 += pay[x0, x1, 1]
        z0 += 1 - x0
        z1 += 1 - x1
        if dthr > zero and _draw(base, k + _CONT) >= dthr:
            played = t + 1
            break
    return tot0, tot1, z0, z1, played


@numba.njit(cache=True, inline="always")
def _pair(i, thr, mask, sto, lut, table, row, col, pay, rounds, khash, first, nthr, dthr,
          out0, out1, coop0, coop1, played):  # pragma: no cover (compiled)
    r, c = row[i], col[i]
    j = lut[r, c]
    if j >= 0:  # a pair that never randomises, without noise: its one outcome
        out0[i], out1[i], coop0[i], coop1[i] = table[j, 0], table[j, 1], table[j, 2], \
            table[j, 3]
        played[i] = rounds
        return
    base = _mix(khash + _U(first + i) * _G)
    out0[i], out1[i], coop0[i], coop1[i], played[i] = _match(
        thr, mask, sto, r, c, pay, rounds, base, nthr, dthr)


@numba.njit(parallel=True, cache=True)
def _numba_pairs(thr, mask, sto, lut, table, row, col, pay, rounds, khash, first, nthr, dthr,
                 out0, out1, coop0, coop1, played):  # pragma: no cover
    for i in numba.prange(row.shape[0]):
        _pair(i, thr, mask, sto, lut, table, row, col, pay, rounds, khash, first, nthr, dthr,
              out0, out1, coop0, coop1, played)


@numba.njit(cache=True)
def _numba_pairs_serial(thr, mask, sto, lut, table, row, col, pay, rounds, khash, first,
                        nthr, dthr, out0, out1, coop0, coop1, played):  # pragma: no cover
    for i in range(row.shape[0]):
        _pair(i, thr, mask, sto, lut, table, row, col, pay, rounds, khash, first, nthr, dthr,
              out0, out1, coop0, coop1, played)


_SERIAL_BELOW = 2_000_000
"""Match-rounds under which one thread is faster than waking the thread pool."""


def _play_numba(job: _Job, on_gpu: bool = False) -> PairResult:
    thr = job.thr.astype(np.uint64)
    mask = ((job.thr == 0) << np.arange(5)).sum(axis=1)  # bit s: action 1 in state s
    s = len(thr)
    lut = np.full((s, s), -1, dtype=np.int64)
    table = np.zeros((0, 4))
    det = np.flatnonzero(~job.stochastic)
    if job.noise == 0 and job.delta == 0 and det.size:
        # Deterministic pairs are periodic; play each once (no draw is made, the key and
        # match index do not matter) and look the outcome up for every match of the pair.
        r, c = np.repeat(det, det.size), np.tile(det, det.size)
        pairs = _run_numba(thr, mask, job, lut, table, r, c, 0)
        table = np.stack([pairs.row_payoff, pairs.col_payoff, pairs.row_coop,
                          pairs.col_coop], axis=1)
        lut[r, c] = np.arange(r.size)
    run = _run_cuda if on_gpu else _run_numba
    return run(thr, mask, job, lut, table, job.row, job.col, job.first)


def _run_numba(thr: np.ndarray, mask: np.ndarray, job: _Job, lut: np.ndarray,
               table: np.ndarray, row: np.ndarray, col: np.ndarray, first: int) -> PairResult:
    m = len(row)
    out = [np.empty(m) for _ in range(4)]
    played = np.empty(m, dtype=np.int64)
    kernel: Any = _numba_pairs if m * job.rounds >= _SERIAL_BELOW else _numba_pairs_serial
    kernel(thr, mask, job.stochastic, lut, table, row, col, job.pay, job.rounds,
                 _U(job.khash), first, _U(job.noise), _U(job.delta), *out, played)
    return _result(out[0], out[1], out[2], out[3], played)


# ----- numba on a CUDA GPU: one thread per match, the same compiled match -------------
_CUDA_KERNEL: Any = None
_CUDA_BLOCK = 128
cuda: Any = None  # numba.cuda, imported on first use (importing it costs time)


def _pairs_on_gpu(thr, mask, sto, lut, table, row, col, pay, rounds, khash, first, nthr,
                  dthr, out0, out1, coop0, coop1, played):  # pragma: no cover (device)
    """A CUDA thread per match, calling the very ``_pair`` the CPU kernel runs (numba
    compiles ``@njit`` functions called from a kernel as device functions)."""
    i = cuda.grid(1)
    if i < row.shape[0]:
        _pair(i, thr, mask, sto, lut, table, row, col, pay, rounds, khash, first, nthr,
              dthr, out0, out1, coop0, coop1, played)


def _cuda_kernel() -> Any:
    """:func:`_pairs_on_gpu` compiled for CUDA, once per process."""
    global _CUDA_KERNEL, cuda
    if _CUDA_KERNEL is None:
        from numba import cuda as module

        cuda = module
        _CUDA_KERNEL = cuda.jit(_pairs_on_gpu)
    return _CUDA_KERNEL


def _run_cuda(thr: np.ndarray, mask: np.ndarray, job: _Job, lut: np.ndarray,
              table: np.ndarray, row: np.ndarray, col: np.ndarray, first: int) -> PairResult:
    kernel = _cuda_kernel()
    m = len(row)
    if m == 0:
        empty = np.empty(0)
        return _result(empty, empty, empty, empty, np.empty(0, np.int64))

    def put(a: np.ndarray) -> Any:  # a strided view (a column of seats) copies once
        return cuda.to_device(np.ascontiguousarray(a))

    out = [cuda.device_array(m) for _ in range(4)]
    played = cuda.device_array(m, dtype=np.int64)
    kernel[(m + _CUDA_BLOCK - 1) // _CUDA_BLOCK, _CUDA_BLOCK](
        put(thr), put(mask), put(job.stochastic), put(lut), put(table), put(row), put(col),
        put(job.pay), job.rounds, _U(job.khash), first, _U(job.noise), _U(job.delta), *out,
        played)
    host = [x.copy_to_host() for x in out]
    return _result(host[0], host[1], host[2], host[3], played.copy_to_host())


# ----- numpy and torch: all matches as lanes, int64 with wrapping products ---------------
_LOW = {n: (1 << n) - 1 for n in (33, 34, 37, 53)}
_SM1, _SM2 = _signed(M1), _signed(M2)


def _mix_lanes(z: Any) -> Any:
    """splitmix64's finaliser on int64 lanes: a logical shift is a masked arithmetic one."""
    z = (z ^ ((z >> 30) & _LOW[34])) * _SM1
    z = (z ^ ((z >> 27) & _LOW[37])) * _SM2
    return z ^ ((z >> 31) & _LOW[33])


def _draw_lanes(base: Any, counter: int) -> Any:
    return (_mix_lanes(base + _signed(counter * GAMMA)) >> 11) & _LOW[53]


class _Lanes:
    """The few array operations that differ between numpy and torch."""

    def __init__(self, torch: Any = None, device: Any = None) -> None:
        self.torch, self.device = torch, device

    def array(self, x: np.ndarray) -> Any:
        return x if self.torch is None else self.torch.as_tensor(x, device=self.device)

    def as_int(self, b: Any) -> Any:
        return b.astype(np.int64) if self.torch is None else b.long()

    def numpy(self, x: Any) -> np.ndarray:
        return x if self.torch is None else x.cpu().numpy()


def _play_lanes(job: _Job, lanes: _Lanes, trace: np.ndarray | None = None) -> PairResult:
    """Round by round over all matches at once; ``trace`` (M, rounds, 2) gets the actions."""
    m = len(job.row)
    thr, pay = lanes.array(job.thr), lanes.array(job.pay)
    row, col = lanes.array(job.row), lanes.array(job.col)
    index = lanes.array(np.arange(job.first, job.first + m, dtype=np.int64))
    base = _mix_lanes(_signed(job.khash) + index * _signed(GAMMA))
    hashed = bool(job.stochastic[np.union1d(job.row, job.col)].any()) if m else False
    zero = lanes.array(np.zeros(m, dtype=np.int64))
    x0, x1 = zero + 4, zero + 4  # state index 4: round 1; afterwards 2 * mine + theirs
    tot0, tot1 = zero * 0.0, zero * 0.0
    z0, z1 = zero, zero
    played, alive = zero, zero == 0
    for t in range(job.rounds):
        k = 5 * t + 1
        s0, s1 = (x0, x1) if t == 0 else (2 * x0 + x1, 2 * x1 + x0)
        u0, u1 = (_draw_lanes(base, k), _draw_lanes(base, k + 1)) if hashed else (zero, zero)
        x0, x1 = lanes.as_int(u0 >= thr[row, s0]), lanes.as_int(u1 >= thr[col, s1])
        if job.noise:
            x0 = x0 ^ lanes.as_int(_draw_lanes(base, k + _NOISE) < job.noise)
            x1 = x1 ^ lanes.as_int(_draw_lanes(base, k + _NOISE + 1) < job.noise)
        live = lanes.as_int(alive)
        tot0 = tot0 + pay[x0, x1, 0] * live  # + 0.0 leaves a finished match's total as is
        tot1 = tot1 + pay[x0, x1, 1] * live
        z0, z1, played = z0 + (1 - x0) * live, z1 + (1 - x1) * live, played + live
        if trace is not None:
            trace[:, t, 0] = np.where(lanes.numpy(alive), lanes.numpy(x0), -1)
            trace[:, t, 1] = np.where(lanes.numpy(alive), lanes.numpy(x1), -1)
        if job.delta:
            alive = alive & (_draw_lanes(base, k + _CONT) < job.delta)
            if t % 8 == 7 and not bool(alive.any()):  # (a device sync: not every round)
                if trace is not None:
                    trace[:, t + 1:] = -1
                break
    return _result(*(lanes.numpy(x) for x in (tot0, tot1, z0, z1, played)))


# ----- the entry points ------------------------------------------------------------------
def _numba_cuda_problem(device: Any) -> str | None:
    """Why numba cannot run kernels on ``device`` (``"cuda"``/``"cuda:0"``), or None."""
    if str(device) not in ("cuda", "cuda:0"):
        return f"numba runs on 'cuda' (device 0) only, not {device!r}"
    try:
        from numba import cuda

        if not cuda.is_available():
            return "numba finds no CUDA GPU (numba.cuda needs numba-cuda and a driver)"
        if not getattr(numba.config, "ENABLE_CUDASIM", 0):  # pragma: no cover (a GPU)
            # Loads the CUDA target's lowering: numba-cuda <= 0.30 fails here on numpy
            # >= 2.5 (np.row_stack is gone), before any kernel could compile.
            from numba.cuda import cudaimpl  # noqa: F401
    except Exception as exc:  # a broken CUDA install is "cannot run here", not a crash
        return f"numba's CUDA target does not load ({type(exc).__name__}: {exc})"
    return None


def _backend(backend: str, device: Any) -> tuple[str, Any]:
    """The backend to run and, for torch, the module; a clear error for what cannot run."""
    if backend not in BACKENDS:
        raise ConfigError(f"backend={backend!r} must be one of {BACKENDS}")
    on_gpu = device is not None and str(device) != "cpu"
    problem = _numba_cuda_problem(device) if on_gpu and backend in ("auto", "numba") else None
    if backend == "auto":
        backend = "torch" if problem else "numba"
    if backend == "numba" and on_gpu:
        if problem:
            raise ConfigError(f"device={device!r}: {problem}; use backend='torch' (or "
                              "'auto') or device='cpu'")
        return "numba_cuda", None
    if backend != "torch":
        if on_gpu:
            raise ConfigError(f"device={device!r}: backend {backend!r} runs on the CPU only; "
                              "use backend='numba' or 'torch' (or 'auto')")
        return backend, None
    try:
        import torch
    except ImportError as exc:
        raise ConfigError("backend='torch' needs torch (pip install 'agora-sim[torch]')"
                          ) from exc
    if on_gpu and str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device={device!r}: this torch ({torch.__version__}) has no CUDA "
                          "device; use device='cpu' or the numba backend")
    return backend, torch


def play_pairs(probs: Any, row: Any, col: Any, payoffs: Any, rounds: int, key: int, *,
               noise: float = 0.0, delta: float = 0.0, first: int = 0, backend: str = "auto",
               device: Any = None) -> PairResult:
    """Play ``M`` repeated 2x2 matches between memory-one strategies (see the module doc).

    Args:
        probs: (S, 5) P(action 0) after (0,0), (0,1), (1,0), (1,1) and in round 1.
        row, col: (M,) strategy indices of seat 0 and seat 1 of each match.
        payoffs: (2, 2, 2) with ``payoffs[a0][a1] == (u0, u1)``.
        rounds: rounds per match (the cap when ``delta > 0``).
        key: the randomness key (any 64-bit integer).
        noise: probability that each intended action is flipped.
        delta: continuation probability after each round (0: exactly ``rounds``).
        first: global index of match 0 (a shard passes its offset: same numbers).
        backend: ``"numba"`` (all CPU cores; with ``device="cuda"`` the same compiled
            match as one CUDA thread per match), ``"numpy"``, ``"torch"`` (array lanes on
            any torch device), or ``"auto"`` (numba, on the GPU when ``device`` is one and
            numba finds it, else torch). All give identical numbers.
        device: ``None``/``"cpu"``, or a GPU: ``"cuda"`` (numba or torch) or any torch
            device (torch).

    Returns:
        The matches' totals, action-0 counts and lengths, as numpy arrays.

    Raises:
        ConfigError: an argument is invalid, or the backend cannot run on ``device``.

    Example:
        >>> import numpy as np
        >>> rnd = play_pairs(np.full((1, 5), 0.5), np.zeros(2, int), np.zeros(2, int),
        ...                  np.zeros((2, 2, 2)), rounds=200, key=1, backend="numpy")
        >>> bool(80 < rnd.row_coop[0] < 120), rnd.rounds.tolist()
        (True, [200, 200])
    """
    job = _job(probs, row, col, payoffs, rounds, key, noise, delta, first)
    name, torch = _backend(backend, device)
    if name in ("numba", "numba_cuda"):
        return _play_numba(job, on_gpu=name == "numba_cuda")
    return _play_lanes(job, _Lanes(torch, device or "cpu") if torch else _Lanes())


def trace_pairs(probs: Any, row: Any, col: Any, payoffs: Any, rounds: int, key: int, *,
                noise: float = 0.0, delta: float = 0.0, first: int = 0) -> np.ndarray:
    """The actions :func:`play_pairs` plays: (M, rounds, 2) int8, -1 after a match ended.

    Example:
        >>> tft, alld = [1, 0, 1, 0, 1], [0, 0, 0, 0, 0]
        >>> trace_pairs(np.array([tft, alld], float), [0], [1], np.zeros((2, 2, 2)), 3,
        ...             key=0)[0].tolist()
        [[0, 1], [1, 1], [1, 1]]
    """
    job = _job(probs, row, col, payoffs, rounds, key, noise, delta, first)
    trace = np.empty((len(job.row), job.rounds, 2), dtype=np.int8)
    _play_lanes(job, _Lanes(), trace)
    return trace


def _shard(probs: np.ndarray, row: np.ndarray, col: np.ndarray, payoffs: np.ndarray,
           rounds: int, key: int, noise: float, delta: float, first: int) -> PairResult:
    """One contiguous block on one core (the unit of work of a Ray task)."""
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return play_pairs(probs, row, col, payoffs, rounds, key, noise=noise, delta=delta,
                          first=first, backend="numba")
    finally:
        numba.set_num_threads(threads)


def play_pairs_parallel(probs: Any, row: Any, col: Any, payoffs: Any, rounds: int, key: int,
                        *, workers: int, noise: float = 0.0, delta: float = 0.0,
                        first: int = 0) -> PairResult:
    """:func:`play_pairs` (numba) over ``workers`` contiguous blocks of matches on Ray.

    Each block is a Ray task on one core with its global offset, so the numbers are those
    of :func:`play_pairs` for any ``workers``. A Ray already initialised in this process, or
    the cluster at ``RAY_ADDRESS``, is used as it is; otherwise a local Ray with
    ``workers`` CPUs is started for the call and shut down after it (initialise Ray
    yourself to keep it across calls). One worker without a running Ray plays in-process
    on one core.

    Raises:
        ConfigError: an argument is invalid (as for :func:`play_pairs`), or ``workers < 1``.

    Example:
        >>> probs = np.array([[1, 0, 1, 0, 1], [0.5] * 5])
        >>> one = play_pairs_parallel(probs, [0, 1], [1, 1], np.ones((2, 2, 2)), 5, key=3,
        ...                           workers=1)
        >>> one.row_payoff.tolist()
        [5.0, 5.0]
    """
    import os

    if not (is_int(workers) and workers >= 1):
        raise ConfigError(f"workers={workers!r} must be an integer >= 1")
    job = _job(probs, row, col, payoffs, rounds, key, noise, delta, first)
    args = (np.asarray(probs, np.float64), job.pay, job.rounds, int(key), float(noise),
            float(delta))
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray

    address = os.environ.get("RAY_ADDRESS")
    if workers == 1 and not ray.is_initialized() and not address:
        return _shard(args[0], job.row, job.col, *args[1:], job.first)
    owns = not ray.is_initialized()
    if owns:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(address="local", num_cpus=workers, include_dashboard=False,
                     log_to_driver=False, logging_level="ERROR")
    try:
        remote = ray.remote(num_cpus=1)(_shard)
        cuts = np.linspace(0, len(job.row), workers + 1).astype(int)
        futures = [remote.remote(args[0], job.row[a:b], job.col[a:b], *args[1:], job.first + a)
                   for a, b in zip(cuts[:-1], cuts[1:]) if b > a]
        parts = ray.get(futures)
    finally:
        if owns:
            ray.shutdown()
    if not parts:
        return _play_numba(job)
    return PairResult(*(np.concatenate([getattr(x, f) for x in parts])
                        for f in ("row_payoff", "col_payoff", "row_coop", "col_coop",
                                  "rounds")))
