"""The one world contract: rules over (params, state, actions, rng), nothing else.

:class:`World` is the contract of every world, generic over its action type; a
:class:`Game` is a world with integer actions and legal masks (the economic games), and the
design and graph worlds are one-player worlds with structured actions. A world imports
neither gymnasium nor pettingzoo. The adapters in
:mod:`agora.envs.adapters` turn any game into PettingZoo and Gymnasium environments, and
the episode runner plays games directly through this interface. Both therefore share one
set of rules.

Conventions every game follows:

* Players are ``0..n-1``; actions are integers in ``range(num_actions)``; a boolean mask
  says which are legal (games whose actions are always legal set ``always_legal``).
* :meth:`Game.to_move` names the players who act now: one player in sequential games,
  all live players in simultaneous games, ``()`` once the game is over.
* :meth:`Game.step` takes one action per mover (in ``to_move`` order) and returns the new
  state and the reward of *every* player for this step. It never mutates its input.
* States are immutable (``NamedTuple``) and carry everything needed to continue, so
  a state can be stored, compared and replayed.
"""

from __future__ import annotations

import functools
import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar

import numpy as np

from agora.envs.errors import ConfigError, IllegalActionError


class Timing(str, Enum):
    """Whether players move one at a time or together."""

    SEQUENTIAL = "sequential"
    SIMULTANEOUS = "simultaneous"


class Status(int, Enum):
    """Where an episode stands. Truncation is a cap, termination is the game's own end."""

    RUNNING = 0
    TERMINATED = 1
    TRUNCATED = 2


@dataclass(frozen=True)
class GameInfo:
    """Metadata a game declares up front (read by the registry and ``agora list``)."""

    name: str
    timing: Timing
    description: str
    family: str
    action_kind: str = "discrete"
    observation_kind: str = "vector+mask"
    reference: str = ""


@dataclass(frozen=True)
class Benchmark:
    """A theoretical benchmark that a game computes from its parameters.

    Attributes:
        concept: the solution concept, e.g. ``"subgame-perfect equilibrium"``.
        values: named numbers the theory predicts (payoffs, shares, thresholds).
        note: one or two sentences on when the prediction holds.
    """

    concept: str
    values: Mapping[str, float]
    note: str = ""


@dataclass(frozen=True)
class Params:
    """Base of every game's parameters: frozen, sweepable, validated on construction.

    Subclasses add fields and override :meth:`validate`, raising :class:`ConfigError`
    that names the parameter and its value.
    """

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ConfigError` if a value is out of range."""

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None = None) -> Params:
        """Build params from a plain mapping, naming unknown keys in the error.

        Example:
            >>> from agora.envs.games.repeated_matrix import MatrixParams
            >>> MatrixParams.from_dict({"rounds": 5}).rounds
            5
        """
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"unknown parameter(s) {unknown} for {cls.__name__}; known: {sorted(known)}"
            )
        try:
            return cls(**{k: _tupleize(v) for k, v in values.items()})
        except TypeError as exc:  # wrong shapes/types in a field
            raise ConfigError(f"{cls.__name__}: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """The params as plain data (tuples become lists), for records and configs."""
        return {f.name: _listify(getattr(self, f.name)) for f in fields(self)}


def _tupleize(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_tupleize(v) for v in value)
    if isinstance(value, np.generic):  # numpy scalars from sweeps become Python numbers
        return value.item()
    return value


def _listify(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_listify(v) for v in value]
    return value


def is_int(value: Any) -> bool:
    """An integer (Python or numpy), but not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def is_real(value: Any) -> bool:
    """A finite real number (int or float, Python or numpy), but not a bool."""
    return (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
            and math.isfinite(value))


def require(condition: bool, name: str, value: Any, why: str) -> None:
    """Raise a :class:`ConfigError` naming ``name=value`` unless ``condition`` holds.

    Guard type checks first (``is_int(x) and x >= 1``) so a wrong type never raises a
    bare ``TypeError`` from the comparison.
    """
    if not condition:
        raise ConfigError(f"parameter {name}={value!r} is invalid: {why}")


def merge_params(params: Mapping[str, Any] | None, keywords: Mapping[str, Any],
                 where: str) -> dict[str, Any]:
    """Parameters given as ``params={...}``, as keywords, or both (one key once only).

    Example:
        >>> merge_params({"rounds": 3}, {"delta": 0.5}, "RepeatedPD-v1")
        {'rounds': 3, 'delta': 0.5}
    """
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise ConfigError(f"{where}: params={params!r} is invalid: want a mapping")
    twice = sorted(set(params) & set(keywords))
    if twice:
        raise ConfigError(f"{where}: parameter(s) {twice} given both in params= and as "
                          "keywords")
    return {**params, **keywords}


P = TypeVar("P", bound=Params)
S = TypeVar("S")  # a NamedTuple, or a dataclass advanced in place (graph worlds)
V = TypeVar("V")  # a NamedTuple or a frozen dataclass


class StepResult(NamedTuple):
    """What :meth:`Game.step` returns: the next state and every player's reward."""

    state: Any
    rewards: tuple[float, ...]


@dataclass(frozen=True)
class Observation(Generic[V]):
    """The typed face of an observation, given to heuristic agents and fixed opponents.

    Attributes:
        player: index of the observing player.
        view: the game's typed view (a ``NamedTuple`` of the game).
        action_mask: boolean array of legal actions now (all False when not to move).
    """

    player: int
    view: V
    action_mask: np.ndarray = field(repr=False)

    @property
    def legal_actions(self) -> np.ndarray:
        """Indices of the legal actions."""
        return np.flatnonzero(self.action_mask)


def fairness(values: tuple[float, ...] | list[float]) -> float:
    """Equality of outcomes in [0, 1]: ``1 - Gini`` of the payoffs (shifted to be >= 0).

    1 when everyone gets the same, 0 when one player gets everything.

    Example:
        >>> fairness([5.0, 5.0]), fairness([0.0, 10.0]), round(fairness([1.0, 3.0]), 3)
        (1.0, 0.0, 0.5)
    """
    x = np.asarray(values, dtype=float)
    x = x - min(0.0, float(x.min()))
    total = float(x.sum())
    n = len(x)
    if total == 0.0 or n < 2:
        return 1.0
    gini = float(np.abs(x[:, None] - x[None, :]).sum()) / (2 * n * total)
    return 1.0 - gini * n / (n - 1)


def fairness_rows(values: np.ndarray) -> np.ndarray:
    """:func:`fairness` of every row of a ``(G, n)`` array, for batched rules.

    Example:
        >>> fairness_rows(np.array([[5.0, 5.0], [0.0, 10.0], [1.0, 3.0]])).round(3).tolist()
        [1.0, 0.0, 0.5]
    """
    x = np.asarray(values, dtype=float)
    x = x - np.minimum(0.0, x.min(axis=1, keepdims=True))
    total, n = x.sum(axis=1), x.shape[1]
    gini = np.abs(x[:, :, None] - x[:, None, :]).sum(axis=(1, 2)) / (
        2 * n * np.where(total == 0.0, 1.0, total))
    return np.where((total == 0.0) | (n < 2), 1.0, 1.0 - gini * n / max(n - 1, 1))


def gains(returns: tuple[float, ...]) -> dict[str, float]:
    """``{"gain_0": ..., "gain_1": ...}``: each player's payoff, the suite's common metric."""
    return {f"gain_{i}": float(r) for i, r in enumerate(returns)}


_LEGAL_OF: dict[int, tuple[np.ndarray, np.ndarray]] = {}
"""Legal-action lists of the read-only masks games keep (an always-legal game's one mask),
by the mask's id; the mask is held, so its id is not reused while it is here."""


def _legal_actions(mask: np.ndarray) -> np.ndarray:
    """``np.flatnonzero(mask)``, remembered for read-only masks that own their data."""
    if mask.flags.writeable or mask.base is not None:
        return np.flatnonzero(mask)
    hit = _LEGAL_OF.get(id(mask))
    if hit is not None and hit[0] is mask:
        return hit[1]
    if len(_LEGAL_OF) >= 256:  # a bound, should a game make read-only masks per state
        _LEGAL_OF.clear()
    legal = np.flatnonzero(mask)
    _LEGAL_OF[id(mask)] = (mask, legal)
    return legal


def uniform_legal(rng: np.random.Generator, obs: Observation[Any]) -> int:
    """A uniformly random legal action (three times faster than ``rng.choice``)."""
    legal = _legal_actions(obs.action_mask)
    return int(legal[rng.integers(len(legal))])


A = TypeVar("A")


class World(ABC, Generic[P, S, V, A]):
    """The one contract of every world: rules as pure functions of (params, state,
    actions, rng), generic over the action type ``A``.

    A :class:`Game` is a world whose actions are integers with legal masks. The design and
    graph worlds are one-player worlds whose actions are structured (a design, a graph
    edit): they validate an action with :meth:`check` instead of a mask, and keep their
    phases (experiments, then questions) in their state. Every world has the same episode:
    ``initial_state``, then while :meth:`status` is ``RUNNING`` the players of
    :meth:`to_move` act and :meth:`step` returns the next state and every player's reward.

    Subclasses set ``info`` and ``params_type`` and implement the abstract methods. A
    world whose turn is more than one act (the design worlds: a design, or a checkpoint's
    questions, then an explanation test once the episode ends) names its seats in the one
    episode loop as ``loop_seats``, a ``"module:Class"`` path that only :mod:`agora.experiments`
    imports (this layer never does).

    Example:
        >>> from agora.envs import World, make_game
        >>> game, _ = make_game("RepeatedPD-v1", {"rounds": 1})
        >>> isinstance(game, World), game.check(game.initial_state(None), 0, 1) is None
        (True, True)
    """

    info: ClassVar[GameInfo]
    params_type: ClassVar[type[Params]]
    loop_seats: ClassVar[str] = ""
    """The episode loop's seats for this world (``"module:Class"``); empty: the loop's own
    (a game's, or a structured world's one act per turn)."""

    def __init__(self, params: P | Mapping[str, Any] | None = None) -> None:
        if params is None or isinstance(params, Mapping):
            params = self.params_type.from_dict(params)  # type: ignore[assignment]
        if not isinstance(params, self.params_type):
            raise ConfigError(
                f"{type(self).__name__} takes {self.params_type.__name__}, got {type(params)}"
            )
        self.params: P = params  # type: ignore[assignment]

    # ----- structure -------------------------------------------------------------
    @property
    @abstractmethod
    def num_players(self) -> int:
        """Number of players (1 for the single-agent worlds)."""

    # ----- dynamics --------------------------------------------------------------
    @abstractmethod
    def initial_state(self, rng: np.random.Generator) -> S:
        """A fresh state; chance moves draw from ``rng``."""

    @functools.cached_property
    def _everyone(self) -> tuple[int, ...]:
        return tuple(range(self.num_players))

    def to_move(self, state: S) -> tuple[int, ...]:
        """Players who act now, ``()`` when over.

        The default fits simultaneous games and one-player worlds: every player, until the
        episode ends. Turn-based games override it.
        """
        return self._everyone if self.status(state) is Status.RUNNING else ()

    @abstractmethod
    def step(self, state: S, actions: tuple[A, ...], rng: np.random.Generator) -> StepResult:
        """Apply one action per mover (in ``to_move`` order). Inputs are assumed legal
        (:meth:`check` them first)."""

    def streams(self, rng: np.random.Generator) -> tuple[Any, np.random.Generator]:
        """How an episode splits its rules stream: (what :meth:`initial_state` is dealt
        from, what every :meth:`step` draws from). The default is one stream for both (the
        games); a world may deal from several (the design worlds' ``DesignStreams``, whose
        policy streams the episode loop's seats use too). The episode loop and the
        Gymnasium shells both split it here."""
        return rng, rng

    def status(self, state: S) -> Status:
        """RUNNING, TERMINATED (the world's own end) or TRUNCATED (a cap was hit).

        The default reads the state's ``status`` field, which most worlds keep.
        """
        return state.status  # type: ignore[attr-defined, no-any-return]

    # ----- faces -----------------------------------------------------------------
    @abstractmethod
    def view(self, state: S, player: int) -> V:
        """What ``player`` observes, as a typed ``NamedTuple``."""

    # ----- outcomes --------------------------------------------------------------
    @abstractmethod
    def returns(self, state: S) -> tuple[float, ...]:
        """Total payoff of every player so far (undiscounted sum of step rewards)."""

    @abstractmethod
    def metrics(self, state: S) -> dict[str, float]:
        """Outcome metrics of a finished (or current) episode, flat name -> number."""

    @abstractmethod
    def benchmark(self) -> Benchmark:
        """The theory's prediction for these parameters (what the world is scored
        against)."""

    # ----- the validator the shells and the loop use -------------------------------
    @abstractmethod
    def check(self, state: S, player: int, action: Any) -> None:
        """Raise :class:`IllegalActionError` saying why ``action`` is not legal now (a
        world with structured actions gives the precise reason; a game's mask says it)."""

    def is_legal(self, state: S, player: int, action: Any) -> bool:
        """Whether ``action`` is a legal action of ``player`` now (:meth:`check` passes)."""
        try:
            self.check(state, player, action)
        except IllegalActionError:
            return False
        return True

    def invalid_action(self, state: S, player: int) -> A | None:
        """The world's declared answer to an invalid action of ``player`` now: the action
        its rules play instead (e.g. a charged no-op), which :meth:`step` accepts though
        :meth:`check` refuses it; ``None`` (the default, the games): the world declares
        none, so the caller's policy decides (fail, or a random legal action)."""
        return None

    def progress(self, state: S) -> dict[str, float]:
        """The running score recorded with every event of an episode (e.g. a completion
        world's F1 so far); the default records none."""
        return {}


class Game(World[P, S, V, int]):
    """A world with integer actions and legal masks: the economic games.

    Subclasses set ``info`` and ``params_type`` and implement the abstract methods.
    """

    #: True when every action in ``range(num_actions)`` is always legal for a mover.
    always_legal: ClassVar[bool] = False

    def __init__(self, params: P | Mapping[str, Any] | None = None) -> None:
        super().__init__(params)
        mask = np.ones(self.num_actions, dtype=bool)
        mask.flags.writeable = False
        self._all_legal = mask
        none = np.zeros(self.num_actions, dtype=bool)
        none.flags.writeable = False
        self._none_legal = none

    # ----- structure -------------------------------------------------------------
    @property
    @abstractmethod
    def num_actions(self) -> int:
        """Size of the (discrete) action set; masks say which are legal."""

    @property
    @abstractmethod
    def observation_shape(self) -> tuple[int, ...]:
        """Shape of the tensor observation from :meth:`encode`."""

    def observation_bounds(self) -> tuple[float, float]:
        """Lower and upper bound of every entry of the tensor observation."""
        return 0.0, 1.0

    # ----- dynamics --------------------------------------------------------------
    @abstractmethod
    def step(self, state: S, actions: tuple[int, ...], rng: np.random.Generator) -> StepResult:
        """Apply one action per mover (in ``to_move`` order). Inputs are assumed legal."""

    def legal_mask(self, state: S, player: int) -> np.ndarray:
        """Boolean mask of legal actions for ``player`` (read-only array)."""
        if self.always_legal:
            return self._all_legal if player in self.to_move(state) else self._none_legal
        raise NotImplementedError(f"{type(self).__name__} must implement legal_mask")

    # ----- faces -----------------------------------------------------------------
    @abstractmethod
    def encode(self, state: S, player: int) -> np.ndarray:
        """What ``player`` observes, as a float32 vector of ``observation_shape``."""

    def observe(self, state: S, player: int) -> Observation[V]:
        """The typed observation (view plus legal-action mask)."""
        return Observation(player, self.view(state, player), self.legal_mask(state, player))

    # ----- checks the shells use -------------------------------------------------
    def is_legal(self, state: S, player: int, action: Any) -> bool:
        """Whether ``action`` is a legal integer action for ``player`` now."""
        if not isinstance(action, (int, np.integer)) or isinstance(action, (bool, np.bool_)):
            return False
        a = int(action)
        return 0 <= a < self.num_actions and bool(self.legal_mask(state, player)[a])

    def check(self, state: S, player: int, action: Any) -> None:
        """Raise :class:`IllegalActionError` unless ``action`` is legal (the mask)."""
        if not self.is_legal(state, player, action):
            raise IllegalActionError(f"player {player} chose {action!r}, not a legal action")


def last_moves(last: tuple[int, ...], player: int) -> tuple[int, tuple[int, ...]]:
    """``(my_last, others_last)`` of a repeated simultaneous game from last round's joint
    action: ``(-1, ())`` before the first round.

    Example:
        >>> last_moves((3, 5, 7), 1), last_moves((), 0)
        ((5, (3, 7)), (-1, ()))
    """
    if not last:
        return -1, ()
    return last[player], last[:player] + last[player + 1:]


def add_up(totals: tuple[float, ...], rewards: tuple[float, ...]) -> tuple[float, ...]:
    """Running totals plus one round's rewards (player by player)."""
    return tuple([t + r for t, r in zip(totals, rewards, strict=True)])


class RepeatedGame(Game[P, S, V]):
    """Base of repeated simultaneous games played for ``params.rounds`` rounds.

    Their states keep ``round`` (rounds played), ``last`` (last round's joint action, ``()``
    before the first), ``totals`` (each player's payoff so far) and ``status``; the base
    reads them, so a game writes only its stage rules, view, encoding and benchmark.
    """

    def returns(self, state: S) -> tuple[float, ...]:
        return tuple(state.totals)  # type: ignore[attr-defined]

    def next_round(self, state: S) -> tuple[int, Status]:
        """The round count after this round and whether the game ends with it."""
        played = state.round + 1  # type: ignore[attr-defined]
        over = played >= self.params.rounds  # type: ignore[attr-defined]
        return played, Status.TERMINATED if over else Status.RUNNING
