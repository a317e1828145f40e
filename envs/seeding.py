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

from agora.envs.errors import ConfigError

_HALF = np.uint64(1)


class EpisodeStreams:
    """The random streams of one episode (see the module doc). The seats' seeds and the
    referee are made on first use, so a shell that needs only the rules stream pays for
    one generator per reset."""

    __slots__ = ("_agent_seeds", "_n", "_referee", "_seed", "rules")

    def __init__(self, seed: int, n_players: int) -> None:
        self._seed, self._n = seed, n_players
        self.rules: np.random.Generator = cast(np.random.Generator, _OnFirstUse(seed))
        self._agent_seeds: list[int] | None = None
        self._referee: np.random.Generator | None = None

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
        return _as_int(_child(self._seed, 1 + seat))

    @property
    def referee(self) -> np.random.Generator:
        """Draws about the episode (random replacements of invalid actions)."""
        if self._referee is None:
            self._referee = np.random.default_rng(_child(self._seed, 1 + self._n))
        return self._referee

    def __iter__(self) -> Iterator[Any]:
        """``rules, agent_seeds, referee = episode_streams(...)``."""
        return iter((self.rules, self.agent_seeds, self.referee))


class _OnFirstUse:
    """The rules generator, made when the world first draws from it: a game without
    chance (most repeated games) never pays for a generator, so an unseeded ``reset``
    stays as cheap as it was before the rule. It forwards every attribute to the
    generator, so a world uses it exactly as a :class:`numpy.random.Generator`."""

    __slots__ = ("_gen", "_seed")

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._gen: np.random.Generator | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.generator(), name)

    def generator(self) -> np.random.Generator:
        """The generator itself (made now if no draw has made it yet)."""
        if self._gen is None:
            self._gen = np.random.default_rng(_child(self._seed, 0))
        return self._gen

    def __repr__(self) -> str:
        return f"<rules stream of seed {self._seed}>"


def as_generator(rng: np.random.Generator) -> np.random.Generator:
    """A stream as a plain :class:`numpy.random.Generator` (for APIs that promise one,
    such as Gymnasium's ``env.np_random``); the same stream, not a copy."""
    return rng.generator() if isinstance(rng, _OnFirstUse) else rng


def _child(seed: int, index: int) -> np.random.SeedSequence:
    """Child ``index`` of ``SeedSequence(seed)``, as ``spawn`` would make it."""
    return np.random.SeedSequence(seed, spawn_key=(index,))


def _as_int(ss: np.random.SeedSequence) -> int:
    return int(ss.generate_state(1, np.uint64)[0] >> _HALF)


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
