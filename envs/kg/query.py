"""The query world (MINERVA-style): answer ``(head, relation, ?)`` by walking the graph.

**Description.** A true triple ``(h, r, t)`` of the hidden graph is drawn; the answers are
every ``t'`` with ``(h, r, t')`` true. Every ``r`` edge between ``h`` and an answer
(either way, and its inverse) is hidden; the agent starts at ``h`` and walks: ``move``
along an outgoing edge, ``stay``, or ``stop``. With ``inverse=True`` every edge can also
be walked backwards (relation ``r + R``, named ``"<r>^-1"``).

**Players.** One. **Observations.** :class:`~agora.envs.kg.types.WalkView`.

**Payoffs** (at the end only): ``reward="binary"``: 1 if the walker stands on an answer,
else 0; ``reward="deeppath"``: ``0.1 + 0.9 / moves`` on success, ``-0.05`` on failure.

**Invalid actions** (declared policy): ``check`` raises
:class:`~agora.envs.errors.IllegalActionError` for an unknown kind or an edge that is not
an outgoing edge of the current node; the world's answer
(:meth:`QueryWorld.invalid_action`, played by the episode loop and the shells) is
``WalkAction("invalid")``: counted, then played as ``stay`` (a wasted step).

**Episode end** (terminated). ``stop``, or ``max_steps`` steps. Queries are drawn so that
an answer is reachable within ``max_steps`` when ``require_reachable`` (up to 64 draws).
**Benchmark.** A shortest-path walker succeeds on every reachable query
(:meth:`QueryWorld.benchmark`).
**Reference.** Das et al. (2018), MINERVA; Xiong et al. (2017), DeepPath. **Version.** v0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, NamedTuple

import numpy as np

from agora.envs.core import (
    Benchmark,
    GameInfo,
    Status,
    StepResult,
    Timing,
    World,
    is_int,
    require,
)
from agora.envs.errors import GameOverError, IllegalActionError
from agora.envs.kg.draw import GraphDraw
from agora.envs.kg.graph import KnowledgeGraph, Rule
from agora.envs.kg.params import SourceParams
from agora.envs.kg.text import WalkText
from agora.envs.kg.types import WALK_KINDS, WalkAction, WalkView, episode_rngs

REWARDS = ("binary", "deeppath")


@dataclass(frozen=True)
class QueryParams(SourceParams):
    """Parameters of the query world (see the module docstring)."""

    max_steps: int = 3
    reward: str = "binary"
    inverse: bool = True
    require_reachable: bool = True

    def validate(self) -> None:
        super().validate()
        require(is_int(self.max_steps) and self.max_steps >= 1, "max_steps", self.max_steps,
                "an int >= 1")
        require(self.reward in REWARDS, "reward", self.reward, f"one of {REWARDS}")
        for name in ("inverse", "require_reachable"):
            require(isinstance(getattr(self, name), bool), name, getattr(self, name), "a bool")


@dataclass(frozen=True)
class WalkGraph:
    """A graph prepared for walking: outgoing ``(relation, tail)`` rows per node."""

    kg: KnowledgeGraph
    out: tuple[np.ndarray, ...]
    inverse: bool

    @property
    def relation_names(self) -> tuple[str, ...]:
        names = self.kg.relation_names
        return names + tuple(f"{n}^-1" for n in names) if self.inverse else names

    @classmethod
    def build(cls, kg: KnowledgeGraph, inverse: bool) -> WalkGraph:
        arr, R = kg.triples, kg.num_relations
        if inverse:
            arr = np.vstack([arr, np.stack([arr[:, 2], arr[:, 1] + R, arr[:, 0]], axis=1)])
        arr = arr[np.lexsort((arr[:, 2], arr[:, 1], arr[:, 0]))]
        cuts = np.searchsorted(arr[:, 0], np.arange(kg.num_entities + 1))
        out = tuple(arr[cuts[i]:cuts[i + 1], 1:].copy() for i in range(kg.num_entities))
        return cls(kg, out, inverse)


class WalkState(NamedTuple):
    """An episode of the query world (immutable)."""

    graph: WalkGraph
    head: int
    relation: int
    answers: frozenset[int]
    current: int
    path: tuple[tuple[int, int], ...] = ()
    stopped: bool = False
    invalid: int = 0
    shortest: int = -1
    total: float = 0.0


INVALID = WalkAction("invalid")
"""The world's declared answer to an invalid action (see the module docstring)."""


class QueryWorld(World[QueryParams, WalkState, WalkView, WalkAction]):
    """MINERVA-style query answering by walks (see the module docstring): a one-player
    :class:`~agora.envs.core.World` whose actions are :class:`WalkAction` s.

    Example:
        >>> world = QueryWorld({"num_entities": 40})
        >>> s = world.initial_state(np.random.default_rng(0))
        >>> s, (reward,) = world.step(s, (WalkAction.stop(),), np.random.default_rng(1))
        >>> world.status(s).name, reward in (0.0, 1.0), world.returns(s) == (reward,)
        ('TERMINATED', True, True)
    """

    info: ClassVar[GameInfo] = GameInfo(
        name="KGQuery", timing=Timing.SEQUENTIAL, family="graph",
        description="Answer (head, relation, ?) by walking a knowledge graph.",
        action_kind="structured", observation_kind="graph",
        reference="MINERVA (Das et al. 2018); DeepPath (Xiong et al. 2017)")
    params_type = QueryParams

    def __init__(self, params: Mapping[str, Any] | QueryParams | None = None,
                 graph: KnowledgeGraph | Any = None) -> None:
        super().__init__(params)
        self.draw = GraphDraw(self.params, graph)
        self.num_entities, base = self.draw.shape
        self.num_base_relations = base
        self.num_relations = base * (2 if self.params.inverse else 1)
        self._fixed = (WalkGraph.build(self.draw.fixed, self.params.inverse)
                       if self.draw.fixed is not None else None)
        # The most walkable edges a node can have: the fixed graph's largest out-degree,
        # else one per (relation, tail) pair, since a graph drawn per episode has no
        # smaller known bound (a rule world's town links every resident, twice).
        self.max_degree = (max(len(o) for o in self._fixed.out) if self._fixed
                           else self.num_relations * self.num_entities)
        self.text = WalkText(self)

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules planted in the hidden graph, over base relation ids (an inverse edge
        ``r + num_base_relations`` walks ``r`` backwards): the family rules of a rule
        world, a given graph's own ``rules``, and ``()`` for real KGs and networkx graphs
        (rules an agent mines from what it sees are its own business, not the world's).

        Example:
            >>> len(QueryWorld({"num_entities": 30}).rules), QueryWorld({"source": "umls"}).rules
            (10, ())
        """
        return self.draw.rules

    @property
    def num_players(self) -> int:
        return 1

    def streams(self, rng: np.random.Generator
                ) -> tuple[np.random.Generator, np.random.Generator]:
        return episode_rngs(rng)

    def initial_state(self, rng: np.random.Generator) -> WalkState:
        """Draw the graph (rule worlds) and a query, reachable if required."""
        g, q = rng.spawn(2)
        kg = self.draw(g)
        graph = (replace(self._fixed, kg=kg) if self._fixed is not None and self.draw.is_fixed(kg)
                 else WalkGraph.build(kg, self.params.inverse))
        triples = graph.kg.triples
        state = None
        for _ in range(64):
            h, r, _t = triples[int(q.integers(len(triples)))].tolist()
            answers = frozenset(triples[(triples[:, 0] == h) & (triples[:, 1] == r), 2].tolist())
            state = WalkState(graph, h, r, answers, h)
            state = state._replace(shortest=self._distance(state))
            if not self.params.require_reachable or 0 <= state.shortest <= self.params.max_steps:
                break
        assert state is not None
        return state

    def edges(self, state: WalkState, node: int | None = None) -> np.ndarray:
        """Outgoing ``(relation, tail)`` rows of ``node`` (default: current) that may be
        walked. Hidden: every edge of the query relation (either direction) between the
        head and an answer, so a symmetric relation gives no shortcut."""
        node = state.current if node is None else node
        rows = state.graph.out[node]
        direct = (rows[:, 0] == state.relation) | (
            rows[:, 0] == state.relation + self.num_base_relations)
        if node == state.head:
            rows = rows[~(direct & np.isin(rows[:, 1], list(state.answers)))]
        elif node in state.answers:
            rows = rows[~(direct & (rows[:, 1] == state.head))]
        return rows

    def _distance(self, state: WalkState, limit: int = 16) -> int:
        """Moves from the head to the nearest answer (-1 if none within ``limit``)."""
        frontier, seen = {state.head}, {state.head}
        for d in range(limit + 1):
            if frontier & state.answers:
                return d
            frontier = {int(t) for u in frontier for t in self.edges(state, u)[:, 1]} - seen
            seen |= frontier
        return -1

    def view(self, state: WalkState, player: int = 0) -> WalkView:
        g = state.graph
        return WalkView(state.head, state.relation, state.current, self.edges(state),
                        state.path, self.params.max_steps - len(state.path),
                        self.num_entities, self.num_relations, self.num_base_relations,
                        g.kg.entity_names, g.relation_names)

    def status(self, state: WalkState) -> Status:
        over = state.stopped or len(state.path) >= self.params.max_steps
        return Status.TERMINATED if over else Status.RUNNING

    def _done(self, state: WalkState) -> bool:
        return self.status(state) is not Status.RUNNING

    def check(self, state: WalkState, player: int, action: Any) -> None:
        """Raise :class:`IllegalActionError` unless ``action`` is legal now."""
        if not isinstance(action, WalkAction):
            raise IllegalActionError(f"the agent returned {action!r}, not a graph action")
        if action.kind not in WALK_KINDS:
            raise IllegalActionError(f"unknown action kind {action.kind!r}; kinds: {WALK_KINDS}")
        if action.kind == "move":
            rows = self.edges(state)
            if not ((rows[:, 0] == action.relation) & (rows[:, 1] == action.tail)).any():
                raise IllegalActionError(f"({action.relation}, {action.tail}) is not an "
                                         f"outgoing edge of node {state.current}")

    def invalid_action(self, state: WalkState, player: int) -> WalkAction:
        """The declared invalid move: counted, then played as ``stay``."""
        return INVALID

    def step(self, state: WalkState, actions: tuple[WalkAction, ...],
             rng: np.random.Generator) -> StepResult:
        """Apply the player's legal action (see :meth:`check`) or :meth:`invalid_action`."""
        state, reward, _ = self.apply(state, actions[0], rng)
        return StepResult(state, (reward,))

    def apply(self, state: WalkState, action: WalkAction, rng: np.random.Generator | None
              ) -> tuple[WalkState, float, dict[str, Any]]:
        """:meth:`step` with the shells' ``info``: (state, reward, info). A walk draws
        nothing at random, so ``rng`` is unused."""
        if self._done(state):
            raise GameOverError("the episode is over")
        kind = action.kind
        if kind == "invalid":
            state, action = state._replace(invalid=state.invalid + 1), WalkAction.stay()
        else:
            self.check(state, 0, action)
        if action.kind == "move":
            state = state._replace(current=int(action.tail),
                                   path=(*state.path, (int(action.relation), int(action.tail))))
        elif action.kind == "stay":
            state = state._replace(path=(*state.path, (-1, state.current)))
        else:
            state = state._replace(stopped=True)
        reward = self._final(state)
        return state._replace(total=state.total + reward), reward, {"kind": kind}

    def returns(self, state: WalkState) -> tuple[float, ...]:
        return (state.total,)

    def benchmark(self) -> Benchmark:
        """What the task is scored against: a shortest-path walker (it knows the answers).

        Example:
            >>> QueryWorld({"num_entities": 30, "reward": "deeppath"}).benchmark().values
            {'oracle_success': 1.0, 'oracle_return_one_move': 1.0}
        """
        binary = self.params.reward == "binary"
        values = {"oracle_success": 1.0,
                  "oracle_return" if binary else "oracle_return_one_move": 1.0}
        return Benchmark(
            "shortest-path walker", values,
            "On a query whose answer is reachable within max_steps (every query, when "
            "require_reachable finds one in 64 draws), walking a shortest path and stopping "
            "succeeds; deeppath pays 0.1 + 0.9 / moves, 1 for a one-move path.")

    def _final(self, state: WalkState) -> float:
        if not self._done(state):
            return 0.0
        success = state.current in state.answers
        if self.params.reward == "binary":
            return float(success)
        return 0.1 + 0.9 / max(1, _moves(state)) if success else -0.05

    def metrics(self, state: WalkState) -> dict[str, float]:
        return {"success": float(state.current in state.answers), "moves": float(_moves(state)),
                "steps": float(len(state.path)), "shortest": float(state.shortest),
                "answers": float(len(state.answers)), "invalid": float(state.invalid),
                "reward": self._final(state) if self._done(state) else 0.0}


def _moves(state: WalkState) -> int:
    return sum(r >= 0 for r, _ in state.path)
