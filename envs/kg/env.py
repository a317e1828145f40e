"""Gymnasium faces of the graph worlds: fixed-size arrays with masks.

:class:`KGCompletionEnv` observes the known triples as a padded ``(max_triples, 3)`` int
array with a mask (rows past ``max_triples`` are left out, ``num_known`` still counts
them), the visible, queried and canonical ids, the last reveal and the budget; its action
is ``MultiDiscrete([6, E, R, E])`` = (kind index in
:data:`~agora.envs.kg.types.ACTION_KINDS`, head, relation, tail), where a ``merge``
reads the last component as ``other`` and ``query`` reads only the head.

:class:`KGQueryEnv` observes the query, the current node and its walkable edges (padded to
``max_edges`` with a mask); its action is ``Discrete(max_edges + 2)``: an edge index,
then ``stay``, then ``stop``.

Both step the world's own rules (``world.check`` and ``world.apply``, the ``info``-giving
face of ``world.step``) and play the world's declared answer to an illegal action
(``world.invalid_action``) (a masked edge, an invisible entity, ...) and count it in ``info``; so is
an action outside ``action_space`` (a negative or too large index, a wrong length, a
non-integer), which is never wrapped around or cast.

Example:
    >>> from agora.envs.kg.world import CompletionWorld
    >>> env = KGCompletionEnv(CompletionWorld({"num_entities": 20}))
    >>> obs, info = env.reset(seed=0)
    >>> sorted(obs)[:3], env.action_space.nvec.tolist()
    (['budget_left', 'canonical', 'known'], [6, 20, 10, 20])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from agora.envs.adapters import WorldEnv
from agora.envs.core import Status, is_int, is_real
from agora.envs.errors import ConfigError, IllegalActionError
from agora.envs.kg.types import ACTION_KINDS, KGAction, WalkAction

_I64 = np.int64
Obs = dict[str, np.ndarray]


def _rows(shape: tuple[int, int], high: list[int]) -> spaces.Box:
    top = np.broadcast_to(np.array(high, dtype=_I64), shape).copy()
    return spaces.Box(np.zeros(shape, dtype=_I64), top, dtype=_I64)


def _scalar(high: float, dtype: Any = _I64) -> spaces.Box:
    return spaces.Box(0, high, shape=(1,), dtype=dtype)


def _indices(action: Any, high: list[int]) -> list[int]:
    """The integers of an action in ``0 <= a[i] < high[i]`` (the ``action_space``), else
    :class:`IllegalActionError` (never wrapped around or cast from a fraction).

    Example:
        >>> _indices(np.array([5, 0]), [6, 3])
        [5, 0]
    """
    try:
        values = np.ravel(np.asarray(action, dtype=object)).tolist()
    except ValueError:  # ragged nesting
        values = []
    if len(values) != len(high) or np.ndim(action) > 1:
        raise IllegalActionError(f"an action is {len(high)} integer(s), got {action!r}")
    out = []
    for i, (v, top) in enumerate(zip(values, high)):
        if not (is_int(v) or (is_real(v) and float(v).is_integer())) or not 0 <= v < top:
            raise IllegalActionError(f"action component {i} = {v!r} is not an integer in "
                                     f"0..{top - 1}")
        out.append(int(v))
    return out


def _padded(rows: np.ndarray, cap: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    out = np.zeros((cap, width), dtype=_I64)
    mask = np.zeros(cap, dtype=np.int8)
    n = min(len(rows), cap)
    out[:n] = rows[:n]
    mask[:n] = 1
    return out, mask


class _GraphEnv(WorldEnv):
    """What the two graph envs share on top of :class:`~agora.envs.adapters.WorldEnv`: the
    world's split of the rules stream (``world.streams``), its status, and an invalid action
    under ``penalty`` playing the world's declared invalid move (its cost is the penalty)."""

    def __init__(self, world: Any, render_mode: str | None = None,
                 on_invalid_action: str = "penalty", max_invalid_actions: int = 100) -> None:
        super().__init__(world, render_mode, on_invalid_action,
                         max_invalid_actions=max_invalid_actions)
        self._step_rng = np.random.default_rng(0)

    def to_action(self, action: Any) -> Any:
        raise NotImplementedError

    def _ends(self) -> tuple[bool, bool]:
        """(terminated, truncated) now."""
        status = self.world.status(self.state_)
        return status is Status.TERMINATED, status is Status.TRUNCATED

    def _start(self, rules: np.random.Generator) -> dict[str, Any]:
        init_rng, self._step_rng = self.world.streams(rules)  # as the episode loop does
        self.state_ = self.world.initial_state(init_rng)
        return {}

    def _decode(self, action: Any) -> Any:
        return self.to_action(action)

    def _play(self, move: Any) -> tuple[float, bool, bool, dict[str, Any]]:
        self.state_, reward, info = self.world.apply(self.state_, move, self._step_rng)
        return self._outcome(reward, info)

    def _refuse(self, exc: IllegalActionError) -> tuple[float, bool, bool, dict[str, Any]]:
        _, capped, _ = self.invalid.penalise()
        move = self.world.invalid_action(self.state_, 0)
        self.state_, reward, info = self.world.apply(self.state_, move, self._step_rng)
        reward, terminated, truncated, info = self._outcome(
            reward, {**info, "invalid_action": True, "invalid_reason": str(exc)})
        return reward, terminated, truncated or capped, info

    def _outcome(self, reward: float, info: dict[str, Any]
                 ) -> tuple[float, bool, bool, dict[str, Any]]:
        if self._over():
            info = {**info, "metrics": self.world.metrics(self.state_)}
        return (float(reward), *self._ends(), info)

    def _over(self) -> bool:
        return self.world.status(self.state_) is not Status.RUNNING

    def _ansi(self) -> str:
        return str(self.world.text.render(self.state_))


class KGCompletionEnv(_GraphEnv):
    """The completion world as a Gymnasium env (see the module docstring)."""

    def __init__(self, world: Any, max_triples: int | None = None,
                 render_mode: str | None = None, on_invalid_action: str = "penalty") -> None:
        super().__init__(world, render_mode, on_invalid_action)
        E, R = world.num_entities, world.num_relations
        fixed = world.draw.fixed
        self.max_triples = int(max_triples or (2 * len(fixed.triples) + 64 if fixed is not None
                                               else 24 * world.num_true_entities))
        k = world.params.reveal_k
        self.observation_space = spaces.Dict({
            "known": _rows((self.max_triples, 3), [E - 1, R - 1, E - 1]),
            "known_mask": spaces.MultiBinary(self.max_triples),
            "num_known": _scalar(E * R * E),
            "visible": spaces.MultiBinary(E),
            "queried": spaces.MultiBinary(E),
            "canonical": _rows((E, 1), [E - 1]),
            "revealed": _rows((k, 3), [E - 1, R - 1, E - 1]),
            "revealed_mask": spaces.MultiBinary(k),
            "budget_left": _scalar(float(world.params.budget), np.float32),
        })
        self.action_space = spaces.MultiDiscrete([len(ACTION_KINDS), E, R, E])

    def to_action(self, vec: Any) -> KGAction:
        """The world action of an ``action_space`` vector (:class:`IllegalActionError`
        for a vector outside it)."""
        kind, h, r, t = _indices(vec, self.action_space.nvec.tolist())
        name = ACTION_KINDS[kind]
        if name == "merge":
            return KGAction.merge(h, t)
        if name == "query":
            return KGAction.query(h)
        return KGAction.stop() if name == "stop" else KGAction(name, h, r, t)

    @staticmethod
    def from_action(action: KGAction) -> np.ndarray:
        """The ``action_space`` vector of a world action (the inverse of :meth:`to_action`).

        Example:
            >>> KGCompletionEnv.from_action(KGAction.merge(2, 5)).tolist()
            [3, 2, 0, 5]
        """
        kind = ACTION_KINDS.index(action.kind)
        if action.kind == "merge":
            return np.array([kind, action.head, 0, action.other], dtype=_I64)
        if action.kind == "query":
            return np.array([kind, action.head, 0, 0], dtype=_I64)
        if action.kind == "stop":
            return np.array([kind, 0, 0, 0], dtype=_I64)
        return np.array([kind, *action.triple], dtype=_I64)

    def _obs(self) -> Obs:
        s, g, E = self.state_, self.state_.graph, self.world.num_entities
        known, known_mask = _padded(g.rows[:g.n], self.max_triples, 3)
        revealed, revealed_mask = _padded(s.revealed, self.world.params.reveal_k, 3)
        return {"known": known, "known_mask": known_mask,
                "num_known": np.array([g.n], dtype=_I64),
                "visible": s.visible.astype(np.int8), "queried": s.queried_mask.copy(),
                "canonical": g.rep_arr.reshape(E, 1).copy(),
                "revealed": revealed, "revealed_mask": revealed_mask,
                "budget_left": np.array([s.budget_left], dtype=np.float32)}


class KGQueryEnv(_GraphEnv):
    """The query world as a Gymnasium env (see the module docstring)."""

    def __init__(self, world: Any, max_edges: int | None = None,
                 render_mode: str | None = None, on_invalid_action: str = "penalty") -> None:
        super().__init__(world, render_mode, on_invalid_action)
        E, R = world.num_entities, world.num_relations
        self.max_edges = world.max_degree if max_edges is None else max_edges
        if not is_int(self.max_edges) or self.max_edges < world.max_degree:
            raise ConfigError(f"max_edges={max_edges!r} is invalid: a node may have "
                              f"{world.max_degree} walkable edges, and each needs an index")
        self.observation_space = spaces.Dict({
            "query": _rows((1, 2), [E - 1, R - 1]),
            "current": _scalar(E - 1),
            "edges": _rows((self.max_edges, 2), [R - 1, E - 1]),
            "edge_mask": spaces.MultiBinary(self.max_edges),
            "steps_left": _scalar(world.params.max_steps),
        })
        self.action_space: spaces.Discrete = spaces.Discrete(self.max_edges + 2)

    def to_action(self, index: Any) -> WalkAction:
        """The world action of a ``Discrete`` index (a masked edge index or an index
        outside ``action_space`` is an :class:`IllegalActionError`)."""
        i, = _indices(index, [self.max_edges + 2])
        if i == self.max_edges:
            return WalkAction.stay()
        if i == self.max_edges + 1:
            return WalkAction.stop()
        rows = self.world.edges(self.state_)
        if i >= len(rows):
            raise IllegalActionError(f"edge index {i} is masked: node {self.state_.current} "
                                     f"has {len(rows)} walkable edges")
        return WalkAction.move(*rows[i].tolist())

    def from_action(self, action: WalkAction) -> int:
        """The ``Discrete`` index of a world action now (the inverse of :meth:`to_action`).

        Raises:
            IllegalActionError: the move is not along an edge the observation lists.
        """
        if action.kind == "stay":
            return self.max_edges
        if action.kind == "stop":
            return self.max_edges + 1
        rows = self.world.edges(self.state_)[: self.max_edges]
        hits = np.flatnonzero((rows[:, 0] == action.relation) & (rows[:, 1] == action.tail))
        if not len(hits):
            raise IllegalActionError(f"{action} is not an edge of the current node")
        return int(hits[0])

    def _obs(self) -> Obs:
        s = self.state_
        edges, mask = _padded(self.world.edges(s), self.max_edges, 2)
        return {"query": np.array([[s.head, s.relation]], dtype=_I64),
                "current": np.array([s.current], dtype=_I64), "edges": edges,
                "edge_mask": mask,
                "steps_left": np.array([self.world.params.max_steps - len(s.path)], dtype=_I64)}
