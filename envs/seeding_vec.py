"""The rules streams of many episodes at once: numpy's generator replayed over lanes.

:func:`~agora.envs.seeding.episode_streams` gives each episode a
:class:`numpy.random.Generator` (PCG64 seeded by a :class:`~numpy.random.SeedSequence`).
Making a million of them, and drawing from each in turn, costs more than the rules they
serve. :class:`RulesLanes` is the same arithmetic over arrays, one lane per episode:
SeedSequence's hash and mix (uint32), PCG64's 128-bit LCG with its XSL-RR output (two
uint64 halves), the 32-bit half-word buffer, and Lemire's bounded integers with numpy's
rejection rule, so lane ``i`` draws exactly what ``episode_streams(seeds[i], n).rules``
draws with ``integers(0, high, size=k)`` or ``integers(high)`` (tested against numpy).

Example:
    >>> from agora.envs.seeding import episode_seed, episode_streams
    >>> seeds = episode_seeds(3, 1, np.arange(2))
    >>> seeds.tolist() == [episode_seed(3, 1, m) for m in range(2)]
    True
    >>> lanes = RulesLanes(seeds)
    >>> draws = lanes.integers(101, 3)
    >>> draws[1].tolist() == episode_streams(int(seeds[1]), 3).rules.integers(0, 101, 3).tolist()
    True
"""

from __future__ import annotations

import numpy as np

from agora.envs.errors import ConfigError

__all__ = ["RulesLanes", "episode_seeds", "seed_sequence_state"]

_U32, _U64 = np.uint32, np.uint64
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R, _POOL = 0xCA01F9DD, 0x4973F715, 4
_MULT = 0x2360ED051FC65DA44385DF649FCCF645  # PCG64's 128-bit multiplier
_M32 = _U64(0xFFFFFFFF)


def _words(value: int) -> list[int]:
    """SeedSequence's uint32 words of a non-negative int (little end first)."""
    out = [value & 0xFFFFFFFF]
    while value > 0xFFFFFFFF:
        value >>= 32
        out.append(value & 0xFFFFFFFF)
    return out


def seed_sequence_state(entropy: np.ndarray, n_words: int) -> np.ndarray:
    """``SeedSequence(words).generate_state(n_words, uint64)`` for every column.

    Args:
        entropy: ``(L, G)`` uint32, lane ``g``'s assembled entropy words in order.
        n_words: uint64 words per lane.

    Returns:
        ``(n_words, G)`` uint64.
    """
    with np.errstate(over="ignore"):
        const = [_INIT_A]

        def hashmix(value: np.ndarray) -> np.ndarray:
            value = value ^ _U32(const[0])
            const[0] = (const[0] * _MULT_A) & 0xFFFFFFFF
            value = value * _U32(const[0])
            return value ^ (value >> _U32(16))

        def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            r: np.ndarray = _U32(_MIX_L) * x - _U32(_MIX_R) * y  # uint32 lanes, wrapping
            return r ^ (r >> _U32(16))

        zero = np.zeros(entropy.shape[1], _U32)
        pool = [hashmix(entropy[i] if i < len(entropy) else zero) for i in range(_POOL)]
        for src in range(_POOL):
            for dst in range(_POOL):
                if src != dst:
                    pool[dst] = mix(pool[dst], hashmix(pool[src]))
        for src in range(_POOL, len(entropy)):
            for dst in range(_POOL):
                pool[dst] = mix(pool[dst], hashmix(entropy[src]))
        out, h = [], _INIT_B
        for i in range(2 * n_words):
            v = pool[i % _POOL] ^ _U32(h)
            h = (h * _MULT_B) & 0xFFFFFFFF
            v = v * _U32(h)
            out.append(v ^ (v >> _U32(16)))
    halves = np.stack(out).astype(_U64)
    return halves[0::2] | (halves[1::2] << _U64(32))


def episode_seeds(base: int, cell: int, episodes: np.ndarray) -> np.ndarray:
    """:func:`~agora.envs.seeding.episode_seed` of every episode index (uint64)."""
    e = np.asarray(episodes, dtype=np.int64)
    if e.size and (e.min() < 0 or e.max() > 0xFFFFFFFF):
        raise ConfigError(f"episodes: indices must lie in [0, 2**32); got {e.min()}.."
                          f"{e.max()}")
    head = [np.full(e.shape, w, _U32) for w in _words(base) + _words(cell)]
    return seed_sequence_state(np.stack([*head, e.astype(_U32)]), 1)[0] >> _U64(1)


def _mul_hi(a: np.ndarray, b: int) -> np.ndarray:
    """High 64 bits of ``a * b`` (uint64 lanes times a 64-bit constant)."""
    a0, a1 = a & _M32, a >> _U64(32)
    b0, b1 = _U64(b & 0xFFFFFFFF), _U64(b >> 32)
    p00, p01, p10 = a0 * b0, a0 * b1, a1 * b0
    mid = (p00 >> _U64(32)) + (p01 & _M32) + (p10 & _M32)
    return a1 * b1 + (p01 >> _U64(32)) + (p10 >> _U64(32)) + (mid >> _U64(32))


class RulesLanes:
    """The rules streams of ``episode_streams(seed)`` for many seeds, drawn in lockstep.

    Args:
        seeds: ``(G,)`` episode seeds (non-negative, below 2**63).
    """

    def __init__(self, seeds: np.ndarray) -> None:
        s = np.asarray(seeds, dtype=_U64)
        entropy = np.stack([(s & _M32).astype(_U32), (s >> _U64(32)).astype(_U32),
                            *[np.zeros(len(s), _U32)] * 3])  # words, padded, spawn key 0
        init = seed_sequence_state(entropy, 4)
        self.hi = np.zeros(len(s), _U64)
        self.lo = np.zeros(len(s), _U64)
        self.inc_hi = (init[2] << _U64(1)) | (init[3] >> _U64(63))
        self.inc_lo = (init[3] << _U64(1)) | _U64(1)
        self._step(slice(None))
        with np.errstate(over="ignore"):
            lo = self.lo + init[1]
            self.hi = self.hi + init[0] + (lo < self.lo)
            self.lo = lo
        self._step(slice(None))
        self.has32 = np.zeros(len(s), bool)
        self.buf32 = np.zeros(len(s), _U64)

    def __len__(self) -> int:
        return len(self.lo)

    def _step(self, at: np.ndarray | slice) -> None:
        hi, lo = self.hi[at], self.lo[at]
        m_hi, m_lo = _MULT >> 64, _MULT & 0xFFFFFFFFFFFFFFFF
        with np.errstate(over="ignore"):
            new_hi = hi * _U64(m_lo) + lo * _U64(m_hi) + _mul_hi(lo, m_lo)
            new_lo = lo * _U64(m_lo)
            lo2 = new_lo + self.inc_lo[at]
            self.hi[at] = new_hi + self.inc_hi[at] + (lo2 < new_lo)
            self.lo[at] = lo2

    def _next32(self, at: np.ndarray) -> np.ndarray:
        """One 32-bit draw (as uint64) for each lane index in ``at``."""
        buffered = self.has32[at]
        out = self.buf32[at].copy()
        fresh = at[~buffered]
        self._step(fresh)
        hi, lo = self.hi[fresh], self.lo[fresh]
        x, rot = hi ^ lo, hi >> _U64(58)
        word = (x >> rot) | (x << ((_U64(64) - rot) & _U64(63)))
        out[~buffered] = word & _M32
        self.buf32[fresh] = word >> _U64(32)
        self.has32[at] = ~buffered
        return out

    def _bounded(self, at: np.ndarray, high: np.ndarray) -> np.ndarray:
        """One draw in ``0..high-1`` per lane in ``at`` (numpy's buffered Lemire rule)."""
        excl = high.astype(_U64)
        m = self._next32(at) * excl
        threshold = (_U64(0xFFFFFFFF) - (excl - _U64(1))) % excl
        redo = (m & _M32) < threshold
        while redo.any():
            idx = np.flatnonzero(redo)
            m[idx] = self._next32(at[idx]) * excl[idx]
            redo[idx] = (m[idx] & _M32) < threshold[idx]
        return (m >> _U64(32)).astype(np.int64)

    def integers(self, high: int, size: int, at: np.ndarray | None = None) -> np.ndarray:
        """``(len(at), size)``: each lane's ``integers(0, high, size=size)``."""
        lanes = np.arange(len(self)) if at is None else np.asarray(at)
        out = np.zeros((len(lanes), size), np.int64)
        if high > 1:
            bound = np.full(len(lanes), high)
            for j in range(size):
                out[:, j] = self._bounded(lanes, bound)
        return out

    def choice_index(self, counts: np.ndarray, at: np.ndarray) -> np.ndarray:
        """Each lane's ``int(integers(counts[i]))`` for the lanes in ``at`` (counts >= 2)."""
        return self._bounded(np.asarray(at), np.asarray(counts))
