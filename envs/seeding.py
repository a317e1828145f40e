"""The one seeding rule: what a seed means, for the runner and every API shell alike.

One integer seeds one episode. :func:`episode_streams` spawns, with
:class:`numpy.random.SeedSequence`, the independent streams that episode uses:

* ``rules``: the world's own chance (initial state, chance moves, outcomes). A world may
  split it further, always in its own fixed way, so every caller splits it the same way;
* one integer seed per player, for the agent (or fixed opponent) in that seat;
* ``referee``: draws made *about* the episode rather than inside it (a random legal
  action replacing an invalid one), so replaying the recorded actions never needs them.

``agora run`` plays an episode from its recorded seed with these streams, and the
PettingZoo and Gymnasium shells' ``reset(seed=...)`` use the very same ones, so the seed
stored in a record, given to ``reset`` and replayed with the recorded actions, gives the
recorded episode.

Example:
    >>> s = episode_streams(7, 2)
    >>> t = episode_streams(7, 2)
    >>> s.agent_seeds == t.agent_seeds, s.rules.random() == t.rules.random()
    (True, True)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import numpy as np
from numpy.random.bit_generator import ISpawnableSeedSequence

from agora.envs.errors import ConfigError

_HALF = np.uint64(1)


class EpisodeStreams:
    """The random streams of one episode (see the module doc). The seats' seeds and the
    referee are made on first use, so a shell that needs only the rules stream pays for
    one generator per reset."""

    __slots__ = ("_agent_seeds", "_n", "_referee", "_root", "_seed", "rules")

    def __init__(self, seed: int, n_players: int) -> None:
        self._seed, self._n = seed, n_players
        self._root: list[int] | None | bool = False  # made when a child is first needed
        self.rules: np.random.Generator = cast(np.random.Generator, _OnFirstUse(self))
        self._agent_seeds: list[int] | None = None
        self._referee: np.random.Generator | None = None

    @property
    def seed(self) -> int:
        """The episode seed."""
        return self._seed

    @property
    def agent_seeds(self) -> list[int]:
        """One integer seed per seat, for the agent or fixed opponent in it."""
        if self._agent_seeds is None:
            self._agent_seeds = [self.agent_seed(i) for i in range(self._n)]
        return self._agent_seeds

    def agent_seed(self, seat: int) -> int:
        """Seat ``seat``'s seed alone (a shell whose learner takes no seed skips its own).

        Example:
            >>> episode_streams(3, 2).agent_seed(1) == episode_streams(3, 2).agent_seeds[1]
            True
        """
        if self._agent_seeds is not None:
            return self._agent_seeds[seat]
        root = self._parent_pool()
        if root is None:
            return _as_int(_child(self._seed, 1 + seat))
        return _seat_seed(root, 1 + seat)

    def _parent_pool(self) -> list[int] | None:
        """The pool every child starts from (:func:`_root`), mixed once per episode."""
        if self._root is False:
            self._root = _root(self._seed)
        return cast("list[int] | None", self._root)

    def _child_pool(self, index: int) -> list[int]:
        """The pool of child ``index`` of ``SeedSequence(seed)``; the part shared by all
        children is mixed once per episode."""
        root = self._parent_pool()
        if root is None or index > _M32:
            return _pool(self._seed, (index,))
        return _spawned(root, index)

    def child_generator(self, index: int) -> np.random.Generator:
        """``default_rng`` of child ``index`` of ``SeedSequence(seed)``."""
        return _hashed_generator(self._seed, (index,), _state(self._child_pool(index), 4))

    @property
    def referee(self) -> np.random.Generator:
        """Draws about the episode (random replacements of invalid actions)."""
        if self._referee is None:
            self._referee = self.child_generator(1 + self._n)
        return self._referee

    def __iter__(self) -> Iterator[Any]:
        """``rules, agent_seeds, referee = episode_streams(...)``."""
        return iter((self.rules, self.agent_seeds, self.referee))


class _OnFirstUse:
    """The rules generator, made when the world first draws from it: a game without
    chance (most repeated games) never pays for a generator, so an unseeded ``reset``
    stays as cheap as it was before the rule. It forwards every attribute to the
    generator, so a world uses it exactly as a :class:`numpy.random.Generator`."""

    __slots__ = ("_gen", "_streams")

    def __init__(self, streams: EpisodeStreams) -> None:
        self._streams = streams
        self._gen: np.random.Generator | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.generator(), name)

    def generator(self) -> np.random.Generator:
        """The generator itself (made now if no draw has made it yet)."""
        if self._gen is None:
            self._gen = self._streams.child_generator(0)
        return self._gen

    def __repr__(self) -> str:
        return f"<rules stream of seed {self._streams.seed}>"


def as_generator(rng: np.random.Generator) -> np.random.Generator:
    """A stream as a plain :class:`numpy.random.Generator` (for APIs that promise one,
    such as Gymnasium's ``env.np_random``); the same stream, not a copy."""
    return rng.generator() if isinstance(rng, _OnFirstUse) else rng


def _child(seed: int, index: int) -> np.random.SeedSequence:
    """Child ``index`` of ``SeedSequence(seed)``, as ``spawn`` would make it."""
    return np.random.SeedSequence(seed, spawn_key=(index,))


def _as_int(ss: np.random.SeedSequence) -> int:
    return int(ss.generate_state(1, np.uint64)[0] >> _HALF)


# ----- SeedSequence, the fast way ---------------------------------------------------------
# numpy's SeedSequence mixes its entropy in C, but its spawn-key assembly and
# ``generate_state`` (an errstate wrapper and a Python-level loop) cost most of the tens of
# microseconds it takes, and a seeded reset makes several. Here the assembled entropy
# goes to SeedSequence as uint32 words (the same pool), and the few output words are
# hashed from the pool on Python ints: the very same words (tested against numpy).
_M32 = 0xFFFFFFFF


def _consts(init: int, mult: int, n: int) -> tuple[int, ...]:
    """The output hash's constant before each of ``n`` words (it ignores the data)."""
    out, h = [], init
    for _ in range(n + 1):
        out.append(h)
        h = (h * mult) & _M32
    return tuple(out)


_HASH_A = _consts(0x43B0D7E5, 0x931E8875, 20)  # mixing: calls 16..19 mix a 5th word
_HASH_B = _consts(0x8B51F9DD, 0x58F38DED, 8)  # output
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715


def _words(value: int) -> list[int]:
    """SeedSequence's uint32 words of a non-negative int (low word first)."""
    out = [value & _M32]
    while value > _M32:
        value >>= 32
        out.append(value & _M32)
    return out


def _pool(seed: int, spawn_key: tuple[int, ...]) -> list[int]:
    """The pool of ``SeedSequence(seed, spawn_key=spawn_key)`` (non-negative ints)."""
    words = _words(seed)
    if spawn_key:  # numpy pads the seed's words to the pool size before a spawn key
        words += [0] * (4 - len(words))
        for key in spawn_key:
            words += _words(key)
    return cast("list[int]", np.random.SeedSequence(np.array(words, np.uint32)).pool.tolist())


def _root(seed: int) -> list[int] | None:
    """The pool that every child of ``SeedSequence(seed)`` starts from, before its spawn
    key is mixed in (``None`` for seeds of more than four words: use :func:`_pool`)."""
    return None if len(_words(seed)) > 4 else _pool(seed, ())


def _mixed(word: int, index: int, k: int) -> int:
    """Pool word ``k`` of a parent mixed with the spawn key ``index`` (below 2**32), a
    fifth entropy word (calls 16..19 of the hash)."""
    v = (index ^ _HASH_A[16 + k]) * _HASH_A[17 + k] & _M32
    r = (_MIX_L * word - _MIX_R * (v ^ (v >> 16))) & _M32
    return r ^ (r >> 16)


def _spawned(root: list[int], index: int) -> list[int]:
    """The pool of child ``index`` (below 2**32) from its parent's :func:`_root`."""
    return [_mixed(root[k], index, k) for k in range(4)]


def _seat_seed(root: list[int], index: int) -> int:
    """``int(generate_state(1, uint64)[0]) >> 1`` of child ``index`` (below 2**32): one
    output word reads pool words 0 and 1 only, so only they are mixed with the key."""
    return _state([_mixed(root[0], index, 0), _mixed(root[1], index, 1)], 1)[0] >> 1


def _state(pool: list[int], n_words: int) -> list[int]:
    """``generate_state(n_words, uint64)`` of a pool, as Python ints (word ``i`` of the
    output reads pool word ``i mod 4``)."""
    hb = _HASH_B
    half = []
    for i in range(2 * n_words):
        v = (pool[i & 3] ^ hb[i]) * hb[i + 1] & _M32
        half.append(v ^ (v >> 16))
    return [half[i] | half[i + 1] << 32 for i in range(0, 2 * n_words, 2)]


class _Hashed(ISpawnableSeedSequence):
    """``SeedSequence(entropy, spawn_key=spawn_key)`` whose PCG64 seed words were hashed
    in Python: a bit generator reads them once; anything else (spawning, other sizes)
    goes to the real SeedSequence, made then, so the generator behaves as numpy's."""

    __slots__ = ("_real", "_words64", "entropy", "spawn_key")

    def __init__(self, entropy: int, spawn_key: tuple[int, ...], words64: list[int]) -> None:
        self.entropy, self.spawn_key, self._words64 = entropy, spawn_key, words64
        self._real: np.random.SeedSequence | None = None

    def real(self) -> np.random.SeedSequence:
        """numpy's own SeedSequence of the same entropy and spawn key."""
        if self._real is None:
            self._real = np.random.SeedSequence(self.entropy, spawn_key=self.spawn_key)
        return self._real

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray:
        if n_words == 4 and dtype is np.uint64:
            return np.array(self._words64, np.uint64)
        return self.real().generate_state(n_words, dtype)

    def spawn(self, n_children: int) -> list[np.random.SeedSequence]:  # type: ignore[override]
        return self.real().spawn(n_children)  # numpy's own children, as numpy spawns them

    @property
    def n_children_spawned(self) -> int:
        return self.real().n_children_spawned


def _hashed_generator(seed: int, spawn_key: tuple[int, ...], words: list[int]
                      ) -> np.random.Generator:
    """The PCG64 generator of ``SeedSequence(seed, spawn_key=spawn_key)``, given the
    four seed words that sequence would generate."""
    seq = cast(np.random.SeedSequence, _Hashed(seed, spawn_key, words))
    return np.random.Generator(np.random.PCG64(seq))


def generator(seed: int) -> np.random.Generator:
    """``numpy.random.default_rng(seed)`` for a non-negative int seed: the same generator
    (same state, same draws, same children), made faster.

    Example:
        >>> generator(7).integers(100, size=3).tolist() == np.random.default_rng(7).integers(
        ...     100, size=3).tolist()
        True
    """
    if type(seed) is not int or seed < 0:
        return np.random.default_rng(seed)
    return _hashed_generator(seed, (), _state(_pool(seed, ()), 4))


def episode_streams(seed: int, n_players: int) -> EpisodeStreams:
    """The rules stream, one seed per player and the referee stream of ``seed``.

    They are the children ``0`` (rules), ``1..n`` (seats) and ``n + 1`` (referee) of
    ``SeedSequence(seed)``, so the rules stream and the seats' seeds do not depend on
    whether the referee is used.
    """
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"an episode seed is a non-negative integer, got {seed!r}")
    return EpisodeStreams(int(seed), n_players)


def episode_seed(base: int, cell: int, episode: int) -> int:
    """The seed of one episode of a run (a non-negative int63).

    It depends only on the run's base seed and the episode's cell and index, so an episode
    gets the same seed however the run is split across workers or resumed.

    Example:
        >>> episode_seed(0, 0, 0) == episode_seed(0, 0, 0) != episode_seed(0, 0, 1)
        True
    """
    return _as_int(np.random.SeedSequence([base, cell, episode]))


def fresh_seed(rng: np.random.Generator) -> int:
    """A new episode seed drawn from ``rng`` (for ``reset(seed=None)`` after a seeded one)."""
    return int(rng.bit_generator.random_raw()) >> 1


class Seeder:
    """``reset(seed=...)`` under the one rule, for the API shells.

    * ``reset(seed=S)``: the episode of seed ``S``, exactly as ``agora run`` plays it.
    * ``reset()`` after that: Gymnasium's convention, the next episode *continues* the
      streams of the last one (so a seeded sequence of resets is reproducible and costs no
      new generator); :meth:`reset` returns ``None`` and :attr:`seed` is ``None``, since no
      single seed names such an episode.
    * ``reset()`` before any seed: a fresh seed from entropy, then as ``reset(seed=S)``, so
      even the first unseeded episode is named by its ``info["seed"]``.

    Example:
        >>> a = Seeder()
        >>> a.reset(5, 2).agent_seeds == episode_streams(5, 2).agent_seeds
        True
        >>> a.reset(None, 2) is None and a.seed is None
        True
        >>> b = Seeder(); _ = b.reset(None, 2); b.seed is not None
        True
    """

    _NEXT = 2**32 - 1  # a spawn key no episode stream uses

    def __init__(self) -> None:
        self._base: int | None = None  # the last seeded episode's seed
        self._stream: np.random.Generator | None = None  # made from it on first use
        self.seed: int | None = None

    def reset(self, seed: int | None, n_players: int) -> EpisodeStreams | None:
        """The streams of the next episode, or ``None``: continue the current ones (see
        the class doc)."""
        if seed is None and self._base is not None:
            self.seed = None
            return None
        if seed is None:
            seed = fresh_seed(np.random.default_rng())
        streams = episode_streams(seed, n_players)  # validates the seed first
        self._base, self._stream = int(seed), None
        self.seed = int(seed)
        return streams

    @property
    def _source(self) -> np.random.Generator | None:
        """The stream that seeds agents within continued episodes, made when first asked
        for (most seeded resets never need it)."""
        if self._stream is None and self._base is not None:
            self._stream = np.random.default_rng(
                np.random.SeedSequence(self._base, spawn_key=(self._NEXT,)))
        return self._stream

    @property
    def continuing(self) -> bool:
        """Whether the current episode continues an earlier one's streams (so another
        unseeded reset would only continue them again)."""
        return self._base is not None and self.seed is None

    def next_seed(self) -> int:
        """A seed for an agent that must be reset within continued streams (drawn from a
        stream of the last episode seed, so it repeats with the sequence)."""
        source = self._source
        if source is None:
            raise RuntimeError("next_seed() before the first reset")
        return fresh_seed(source)
