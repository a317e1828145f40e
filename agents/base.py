"""The agent protocol, agent specs and the agent registry.

An agent sees one *face* of the game:

* ``Face.GAME``: the typed :class:`~agora.envs.Observation` (view + legal mask); returns an
  int action. Heuristics use this face.
* ``Face.TENSOR``: the PettingZoo observation dict (``observation``, ``action_mask``);
  returns an int action. Trained RL policies use this face.
* ``Face.TEXT``: a :class:`TextTurn` (rules, prose, action schema); returns text that the
  game's parser turns into an action. Language-model agents use this face.

Agents are built from :class:`AgentSpec` data (a registered name plus parameters), so only
data crosses process boundaries, and all their randomness comes from the seed given to
:meth:`Agent.reset`.
"""

from __future__ import annotations

import inspect
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from agora.envs import ConfigError, UnknownIdError
from agora.envs.seeding import generator
from agora.envs.turns import Face
from agora.envs.turns import TextTurn as TextTurn  # re-exported: agents take TextTurns


class Agent(ABC):
    """Base class of every agent.

    Subclasses set ``face`` (default :attr:`Face.GAME`) and, when they only make sense
    for some games, ``games`` (game classes they accept). Constructor keyword arguments are
    the agent's parameters; they must be plain data.
    """

    face: ClassVar[Face] = Face.GAME
    games: ClassVar[tuple[type, ...]] = ()
    """Game (or task world) classes this agent accepts; empty = any."""

    agent_spec: AgentSpec | None = None
    """The spec :func:`make_agent` built this agent from (None when built directly)."""

    _rng_seed: int = 0
    _rng_gen: np.random.Generator | None = None

    def __init__(self) -> None:
        self._rng_seed, self._rng_gen = 0, None
        self.player = 0

    @property
    def rng(self) -> np.random.Generator:
        """The agent's generator: ``numpy.random.default_rng`` of the seed of the last
        :meth:`reset` (0 before any), made on first use, so an agent that never draws
        costs no generator per episode."""
        if self._rng_gen is None:
            self._rng_gen = generator(self._rng_seed)
        return self._rng_gen

    @rng.setter
    def rng(self, value: np.random.Generator) -> None:
        self._rng_gen = value

    def setup(self, game: Any) -> None:  # noqa: B027  (optional hook)
        """Optional hook: called once with the game (e.g. learners that know the payoffs)."""

    def reset(self, seed: int, player: int) -> None:
        """Start an episode as ``player``; every random draw must come from ``seed``."""
        self._rng_seed, self._rng_gen = seed, None
        self.player = player

    @abstractmethod
    def act(self, obs: Any) -> Any:
        """Choose an action (an int, or text for ``Face.TEXT``) from this face's input."""

    async def aact(self, obs: Any) -> Any:
        """Async ``act``: agents that wait on I/O (language models) override it so that
        simultaneous players and concurrent episodes overlap their waiting."""
        return self.act(obs)

    def observe(self, reward: float, done: bool) -> None:  # noqa: B027  (optional hook)
        """Optional hook: this agent's reward after each step it took part in."""

    def stats(self) -> dict[str, float]:
        """Counters to store with the episode record (e.g. re-asks, fallbacks)."""
        return {}


@dataclass(frozen=True)
class AgentSpec:
    """A registered agent name plus parameters: plain data that builds an agent.

    Example:
        >>> AgentSpec.parse({"name": "fixed_share", "share": 0.6}).params
        {'share': 0.6}
        >>> AgentSpec.parse("tit_for_tat").name
        'tit_for_tat'
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: AgentSpec | str | Mapping[str, Any]) -> AgentSpec:
        if isinstance(raw, AgentSpec):
            return raw
        if isinstance(raw, str):
            return cls(raw)
        if isinstance(raw, Mapping) and isinstance(raw.get("name"), str):
            params = {k: v for k, v in raw.items() if k != "name"}
            return cls(raw["name"], params)
        raise ConfigError(f"an agent spec is a name or a mapping with 'name', got {raw!r}")

    def to_json(self) -> str:
        """Canonical JSON (sorted keys), used in records."""
        return json.dumps({"name": self.name, **self.params}, sort_keys=True)


@dataclass(frozen=True)
class AgentEntry:
    """A registered agent class and its documentation."""

    name: str
    cls: type[Agent]
    summary: str

    def parameters(self) -> dict[str, Any]:
        """Constructor parameters and their defaults (``inspect.Parameter.empty`` if none)."""
        sig = inspect.signature(self.cls.__init__)
        kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        return {n: p.default for n, p in sig.parameters.items()
                if n != "self" and p.kind in kinds}


_AGENTS: dict[str, AgentEntry] = {}


def register_agent(name: str) -> Callable[[type[Agent]], type[Agent]]:
    """Class decorator that registers an agent under ``name``."""

    def deco(cls: type[Agent]) -> type[Agent]:
        if name in _AGENTS:
            raise ConfigError(f"agent name {name!r} is already registered")
        doc = (cls.__doc__ or "").strip().splitlines()
        _AGENTS[name] = AgentEntry(name, cls, doc[0] if doc else "")
        return cls

    return deco


def agent_entries() -> list[AgentEntry]:
    """Every registered agent, sorted by name."""
    return [_AGENTS[k] for k in sorted(_AGENTS)]


def _name(cls: type) -> str:
    info = getattr(cls, "info", None)
    return str(getattr(info, "name", cls.__name__))


def make_agent(spec: AgentSpec | str | Mapping[str, Any],
               game: Any = None) -> Agent:
    """Build an agent from a spec, checking its parameters and (if given) the game.

    Raises:
        UnknownIdError: the name is not registered.
        ConfigError: a parameter is unknown or invalid, or the agent cannot play ``game``.
    """
    spec = AgentSpec.parse(spec)
    entry = _AGENTS.get(spec.name)
    if entry is None:
        raise UnknownIdError(
            f"unknown agent {spec.name!r}; registered: {', '.join(sorted(_AGENTS))}")
    known = entry.parameters()
    unknown = sorted(set(spec.params) - set(known))
    if unknown:
        raise ConfigError(f"agent {spec.name!r} has no parameter(s) {unknown}; "
                          f"parameters: {sorted(known) or 'none'}")
    try:
        agent = entry.cls(**spec.params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"agent {spec.name!r}: {exc}") from exc
    if game is not None and entry.cls.games and not isinstance(game, entry.cls.games):
        names = ", ".join(_name(g) for g in entry.cls.games)
        raise ConfigError(f"agent {spec.name!r} plays {names}, not {_name(type(game))}")
    agent.agent_spec = spec  # so a runner can build a fresh agent of the same spec
    if game is not None:
        try:
            agent.setup(game)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"agent {spec.name!r} cannot play {game.info.name}: {exc}") from exc
    return agent


def table_of(spec: AgentSpec, factories: Mapping[str, Callable[..., Any]]) -> Any | None:
    """The strategy as data (a table) that ``factories`` build for ``spec``'s name with its
    parameters, or None when the name has no table (a language model, a learner).

    Raises:
        ConfigError: the name is known but a parameter is not accepted.

    Example:
        >>> table_of(AgentSpec("fixed", {"x": 1}), {"fixed": lambda x: (x, x)})
        (1, 1)
    """
    make = factories.get(spec.name)
    if make is None:
        return None
    try:
        return make(**spec.params)
    except TypeError as exc:
        raise ConfigError(f"strategy {spec.name!r}: parameters {spec.params!r} "
                          f"not accepted ({exc})") from exc
