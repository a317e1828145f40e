"""Memory-one strategies of repeated 2x2 games as data: a first move and a 4-entry table.

A memory-one strategy decides from the previous round only: it plays action 0 (cooperate,
the :mod:`~agora.envs.games.repeated_matrix` convention) in round 1 with probability
``initial``, and afterwards with probability ``table[2 * my_last + their_last]``. As plain
numbers these strategies cross process boundaries cheaply and a vectorised engine plays
millions of them at once (:mod:`agora.experiments.population.kernels`); the registered agent
``memory_one`` plays any of them through the normal episode loop.

:func:`memory_one_of` reads the registered matrix heuristics (with their parameters) as
tables, so a population config may name ``tit_for_tat`` and get the fast engine.

Example:
    >>> memory_one_of("tit_for_tat").probabilities().tolist()
    [1.0, 0.0, 1.0, 0.0, 1.0]
    >>> memory_one_of({"name": "generous_tit_for_tat", "generosity": 0.25}).table
    (1.0, 0.25, 1.0, 0.25)
    >>> memory_one_of("llm") is None
    True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from agora.agents.base import Agent, AgentSpec, register_agent, table_of
from agora.envs import ConfigError, Observation
from agora.envs.core import is_real
from agora.envs.games.repeated_matrix import RepeatedMatrixGame

__all__ = ["PRESETS", "MemoryOne", "MemoryOneAgent", "memory_one_of"]


def _probability(key: str, value: Any) -> float:
    if isinstance(value, bool) or not (is_real(value) and 0.0 <= value <= 1.0):
        raise ConfigError(f"{key}={value!r} must be a probability in [0, 1]")
    return float(value)


@dataclass(frozen=True)
class MemoryOne:
    """A memory-one strategy: P(action 0) in round 1 and after each previous joint action.

    Attributes:
        name: a label (the preset's name, or any name the user gives).
        initial: probability of action 0 in round 1.
        table: probability of action 0 after (my_last, their_last) = (0,0), (0,1), (1,0),
            (1,1), i.e. at index ``2 * my_last + their_last``.

    Raises:
        ConfigError: a probability is outside [0, 1] or the table has not 4 entries.

    Example:
        >>> wsls = MemoryOne("wsls", 1.0, (1.0, 0.0, 0.0, 1.0))
        >>> wsls.deterministic, float(wsls.probabilities()[4])
        (True, 1.0)
    """

    name: str
    initial: float
    table: tuple[float, float, float, float]

    def __post_init__(self) -> None:
        object.__setattr__(self, "initial", _probability("initial", self.initial))
        table = self.table
        if isinstance(table, (str, bytes)) or not hasattr(table, "__len__") or len(table) != 4:
            raise ConfigError(f"table={table!r} must hold 4 probabilities: P(action 0) after "
                              "(0,0), (0,1), (1,0), (1,1)")
        checked = tuple(_probability(f"table[{i}]", p) for i, p in enumerate(table))
        object.__setattr__(self, "table", checked)

    def probabilities(self) -> np.ndarray:
        """``[p00, p01, p10, p11, initial]``: index ``2 * mine + theirs``, 4 = round 1."""
        return np.array([*self.table, self.initial], dtype=np.float64)

    @property
    def deterministic(self) -> bool:
        """Whether every probability is 0 or 1 (the strategy never randomises)."""
        return all(p in (0.0, 1.0) for p in (*self.table, self.initial))


def _fixed(name: str, initial: float, table: tuple[float, float, float, float]
           ) -> Callable[[], MemoryOne]:
    return lambda: MemoryOne(name, initial, table)


def _generous(generosity: float = 1 / 3) -> MemoryOne:
    g = _probability("generosity", generosity)
    return MemoryOne("generous_tit_for_tat", 1.0, (1.0, g, 1.0, g))


def _random(p: float = 0.5) -> MemoryOne:
    p = _probability("p", p)
    return MemoryOne("random", p, (p, p, p, p))


_FACTORIES: dict[str, Callable[..., MemoryOne]] = {
    "always_cooperate": _fixed("always_cooperate", 1.0, (1.0, 1.0, 1.0, 1.0)),
    "always_defect": _fixed("always_defect", 0.0, (0.0, 0.0, 0.0, 0.0)),
    "tit_for_tat": _fixed("tit_for_tat", 1.0, (1.0, 0.0, 1.0, 0.0)),
    "generous_tit_for_tat": _generous,
    # grim as memory one: cooperate only after mutual cooperation. Without noise this is the
    # heuristic exactly (it never defects first, so "I defected last round" means "it was
    # triggered"); with noise it differs: an own accidental defection triggers it too.
    "grim_trigger": _fixed("grim_trigger", 1.0, (1.0, 0.0, 0.0, 0.0)),
    "win_stay_lose_shift": _fixed("win_stay_lose_shift", 1.0, (1.0, 0.0, 0.0, 1.0)),
    "suspicious_tit_for_tat": _fixed("suspicious_tit_for_tat", 0.0, (1.0, 0.0, 1.0, 0.0)),
    "alternator": _fixed("alternator", 1.0, (0.0, 0.0, 1.0, 1.0)),
    "random": _random,
}

PRESETS: dict[str, MemoryOne] = {name: make() for name, make in _FACTORIES.items()}
"""The named strategies with their default parameters (``generous_tit_for_tat``:
generosity 1/3; ``random``: p = 1/2, which is the registered ``random`` agent on a 2x2
game). :func:`memory_one_of` builds them with other parameters.

``grim_trigger`` is the heuristic exactly only without noise (see :func:`memory_one_of`)."""


def memory_one_of(spec: MemoryOne | AgentSpec | str | Mapping[str, Any]) -> MemoryOne | None:
    """The memory-one table of a strategy spec, or None when it is not memory-one.

    Accepted: a :class:`MemoryOne`; a preset name or agent spec (``tit_for_tat``,
    ``{"name": "generous_tit_for_tat", "generosity": 0.1}``, ``{"name": "random", "p":
    0.3}``); a ``memory_one`` agent spec (``initial``, ``table``). Anything else (a language
    model agent, a learner) gives None.

    ``grim_trigger`` becomes "cooperate only after mutual cooperation", which plays exactly
    as the heuristic without noise; under noise an own accidental defection triggers the
    table but not the heuristic.

    Raises:
        ConfigError: a memory-one name with an unknown or invalid parameter.

    Example:
        >>> memory_one_of({"name": "memory_one", "initial": 0, "table": [1, 0, 1, 0]}).initial
        0.0
    """
    if isinstance(spec, MemoryOne):
        return spec
    parsed = AgentSpec.parse(spec)
    if parsed.name == "memory_one":
        params = dict(parsed.params)
        unknown = sorted(set(params) - {"initial", "table"})
        if unknown or "table" not in params:
            raise ConfigError(f"memory_one spec {parsed.params!r} needs 'table' (and "
                              f"optionally 'initial'); unknown: {unknown}")
        table = params["table"]
        if isinstance(table, (str, bytes)) or not hasattr(table, "__iter__"):
            raise ConfigError(f"table={table!r} must hold 4 probabilities")
        return MemoryOne("memory_one", params.get("initial", 1.0), tuple(table))
    return table_of(parsed, _FACTORIES)


@register_agent("memory_one")
class MemoryOneAgent(Agent):
    """Any memory-one strategy of a repeated 2x2 game: a first move and a 4-entry table.

    Plays action 0 in round 1 with probability ``initial``, then with probability
    ``table[2 * my_last + their_last]``; deterministic entries (0 or 1) draw nothing.

    Example:
        >>> from agora.envs import make_game
        >>> from agora.experiments.episode import play_episode
        >>> game, text = make_game("RepeatedPD-v1", {"rounds": 3})
        >>> wsls = {"name": "memory_one", "table": [1, 0, 0, 1]}
        >>> from agora.agents import make_agent
        >>> play_episode(game, text, [make_agent(wsls), make_agent("always_defect")], 0).returns
        [1.0, 11.0]
    """

    games = (RepeatedMatrixGame,)

    def __init__(self, initial: float = 1.0,
                 table: tuple[float, ...] | list[float] = (1.0, 0.0, 1.0, 0.0)) -> None:
        super().__init__()
        self.strategy = MemoryOne("memory_one", initial, tuple(table))  # type: ignore[arg-type]
        self._probs = self.strategy.probabilities().tolist()

    def act(self, obs: Observation[Any]) -> int:
        v = obs.view
        p = self._probs[4] if v.my_last < 0 else self._probs[2 * v.my_last + v.their_last]
        if p >= 1.0:
            return 0
        if p <= 0.0:
            return 1
        return 0 if self.rng.random() < p else 1
