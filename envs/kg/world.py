"""The completion world: recover a hidden knowledge graph from a corrupted copy on a budget.

**Description.** A hidden target graph (:mod:`~agora.envs.kg.sources`) is corrupted
(:mod:`~agora.envs.kg.corruption`) into the agent's start graph. The agent spends cost
units on :class:`~agora.envs.kg.types.KGAction` s until it stops or the budget runs out.

**Players.** One. **Observations.** :class:`~agora.envs.kg.types.KGView`.

**Actions** (costs are :class:`~agora.envs.kg.params.KGParams`, whose defaults make a
triple revealed by a query 2.5x as dear as a right proposal; effects in
:mod:`~agora.envs.kg.state`): ``query(x)`` adds up to ``reveal_k`` unknown true triples at
``x`` (each replaced by a false one with probability ``reveal_noise``); ``propose(h, r,
t)`` adds a triple; ``verify(h, r, t)`` checks it exactly (true: added; false: removed);
``merge(a, b)`` declares two ids one entity (b's triples move to a); ``retract(h, r, t)``
removes a known triple; ``stop``.

**Payoffs.** With ``score = true_reward * TP - false_penalty * FP`` over the agent's graph
mapped to true entities (distinct triples), a step earns ``delta score`` plus
``merge_reward`` for a right merge (minus it for a wrong one), ``bridge_bonus`` for a
new true triple whose ends were ``>= bridge_distance`` apart (or disconnected) in the
known graph, minus ``cost_weight * cost``.

**Invalid actions** (declared policy): ``check`` raises
:class:`~agora.envs.errors.IllegalActionError` for an unknown kind, an id out of range,
an invisible entity, retracting a triple not in the graph, or merging an id with itself;
the world's answer (:meth:`CompletionWorld.invalid_action`, played by the episode loop
and the shells) is ``KGAction("invalid")``: no effect, ``invalid_cost`` is charged and the
invalid counter grows.

**Episode end.** ``stop``; an action dearer than the budget left (no effect); no budget
for the cheapest action (all three: terminated); ``max_steps`` (truncated).
**Metrics.** precision, recall, F1 (and at the start), entity-resolution precision,
recall and accuracy (pairwise), action counts.

**Benchmark.** A perfect oracle reaches F1 = 1 with ``|missing|`` proposals; stopping
at once returns 0 (:meth:`CompletionWorld.benchmark`).
**Reference.** graph completion rewards of graph-preflexor-grpo (2026). **Version.** v0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from agora.envs.core import Benchmark, GameInfo, Status, StepResult, Timing, World, is_int
from agora.envs.errors import GameOverError, IllegalActionError
from agora.envs.kg import scoring
from agora.envs.kg.corruption import corrupt
from agora.envs.kg.draw import GraphDraw
from agora.envs.kg.graph import KnowledgeGraph, Rule
from agora.envs.kg.params import KGParams
from agora.envs.kg.state import KGState, apply_action
from agora.envs.kg.text import CompletionText
from agora.envs.kg.types import ACTION_KINDS, KGAction, KGView, episode_rngs

INVALID = KGAction("invalid")
"""The world's declared answer to an invalid action (see the module docstring)."""


class CompletionWorld(World[KGParams, KGState, KGView, KGAction]):
    """Knowledge-graph completion on a budget (see the module docstring): a one-player
    :class:`~agora.envs.core.World` whose actions are :class:`KGAction` s.

    Example:
        >>> world = CompletionWorld({"num_entities": 30, "budget": 5.0})
        >>> state = world.initial_state(np.random.default_rng(0))
        >>> h, r, t = state.kg.triples[0].tolist()  # a true triple (ids not aliased here)
        >>> state, (reward,) = world.step(state, (KGAction.propose(h, r, t),),
        ...                               np.random.default_rng(1))
        >>> state, _ = world.step(state, (KGAction.stop(),), np.random.default_rng(2))
        >>> world.status(state).name, world.returns(state) == (reward,)
        ('TERMINATED', True)
    """

    info: ClassVar[GameInfo] = GameInfo(
        name="KGCompletion", timing=Timing.SEQUENTIAL, family="graph",
        description="Recover a hidden knowledge graph from a corrupted copy on a budget.",
        action_kind="structured", observation_kind="graph",
        reference="graph-preflexor-grpo (2026) completion rewards")
    params_type = KGParams

    def __init__(self, params: Mapping[str, Any] | KGParams | None = None,
                 graph: KnowledgeGraph | Any = None) -> None:
        super().__init__(params)
        self.draw = GraphDraw(self.params, graph)
        self.corruption = self.params.corruption_params()
        n, relations = self.draw.shape
        self.num_relations: int = relations
        self.num_true_entities = n
        self.num_entities = n + self.corruption.num_aliases(n)
        self.costs = self.params.costs()
        self._truth = scoring.Truth.of(self.draw.fixed) if self.draw.fixed else None
        self.min_cost = min(v for k, v in self.costs.items() if k not in ("stop", "invalid"))
        self.text = CompletionText(self)

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The planted rules (rule worlds) in relation ids; ``()`` for other sources."""
        return self.draw.rules

    @property
    def num_players(self) -> int:
        return 1

    # ----- episode ---------------------------------------------------------------
    def streams(self, rng: np.random.Generator
                ) -> tuple[np.random.Generator, np.random.Generator]:
        return episode_rngs(rng)

    def initial_state(self, rng: np.random.Generator) -> KGState:
        """Draw the hidden graph, the corruption and the start graph."""
        g, c = rng.spawn(2)
        kg = self.draw(g)
        start = corrupt(kg, self.corruption, c)
        p = self.params
        truth = self._truth if self.draw.is_fixed(kg) else scoring.Truth.of(kg)
        graph = scoring.GraphScore(truth, start.alias_of, bridge=p.bridge_bonus > 0)
        for h, r, t in start.initial.tolist():
            graph.add(h, r, t)
        return KGState(kg, start, graph, start.visible.copy(), float(p.budget),
                       queried_mask=np.zeros(self.num_entities, np.int8),
                       initial=(graph.tp, graph.fp))

    def view(self, state: KGState, player: int = 0) -> KGView:
        g = state.graph
        rep = g.rep_arr.copy()
        canon = {(g.rep[h], r, g.rep[t]) for h, r, t in state.verified_true}
        false = {(g.rep[h], r, g.rep[t]) for h, r, t in state.verified_false}
        return KGView(g.rows[:g.n].copy(), self.num_entities, self.num_relations,
                      state.start.entity_names, state.kg.relation_names,
                      state.start.entity_types, rep, state.visible.copy(),
                      frozenset(state.queried), frozenset(canon), frozenset(false),
                      state.revealed.copy(), state.budget_left, dict(self.costs),
                      state.steps, state.focus)

    def status(self, state: KGState) -> Status:
        if state.stopped:
            return Status.TERMINATED
        if state.steps >= self.params.max_steps:
            return Status.TRUNCATED
        return Status.TERMINATED if state.budget_left + 1e-9 < self.min_cost else Status.RUNNING

    def check(self, state: KGState, player: int, action: Any) -> None:
        """Raise :class:`IllegalActionError` unless ``action`` is legal now."""
        if not isinstance(action, KGAction):
            raise IllegalActionError(f"the agent returned {action!r}, not a graph action")
        kind = action.kind
        if kind not in ACTION_KINDS:
            raise IllegalActionError(f"unknown action kind {kind!r}; kinds: {ACTION_KINDS}")
        ids = {"query": (action.head,), "merge": (action.head, action.other),
               "stop": ()}.get(kind, (action.head, action.tail))
        for e in ids:
            if not (is_int(e) and 0 <= e < self.num_entities):
                raise IllegalActionError(f"entity id {e!r} is not in 0..{self.num_entities - 1}")
            if not state.visible[e]:
                raise IllegalActionError(f"entity {e} is not visible yet (query its neighbours)")
        if kind in ("propose", "verify", "retract") and not (
                is_int(action.relation) and 0 <= action.relation < self.num_relations):
            raise IllegalActionError(
                f"relation id {action.relation!r} is not in 0..{self.num_relations - 1}")
        if kind == "retract" and not state.graph.has(action.head, action.relation, action.tail):
            raise IllegalActionError("cannot retract a triple that is not in your graph")
        if kind == "merge" and action.head == action.other:
            raise IllegalActionError("cannot merge an entity with itself")

    def invalid_action(self, state: KGState, player: int) -> KGAction:
        """The declared invalid move: no effect, ``invalid_cost`` charged, counted."""
        return INVALID

    def step(self, state: KGState, actions: tuple[KGAction, ...],
             rng: np.random.Generator) -> StepResult:
        """Apply the player's legal action (see :meth:`check`) or :meth:`invalid_action`."""
        state, reward, _ = self.apply(state, actions[0], rng)
        return StepResult(state, (reward,))

    def apply(self, state: KGState, action: KGAction,
              rng: np.random.Generator) -> tuple[KGState, float, dict[str, Any]]:
        """:meth:`step` with the shells' ``info``: (state, reward, info)."""
        if self.status(state) is not Status.RUNNING:
            raise GameOverError("the episode is over")
        if action.kind == "invalid":
            return self._invalid(state)
        self.check(state, 0, action)
        cost = self.costs[action.kind]
        if cost > state.budget_left + 1e-9:
            state.budget_left, state.stopped = 0.0, True
            return state, 0.0, {"kind": action.kind, "exhausted": True}
        g = state.graph
        tp, fp = g.tp, g.fp
        extra = apply_action(state, action, self.params, rng)
        state.budget_left -= cost
        state.steps += 1
        state.counts[action.kind] += 1
        p = self.params
        reward = (p.true_reward * (g.tp - tp) - p.false_penalty * (g.fp - fp) + extra
                  - p.cost_weight * cost)
        state.total += reward
        return state, reward, {"kind": action.kind, "new_true": g.tp - tp,
                               "new_false": g.fp - fp, "cost": cost}

    def _invalid(self, state: KGState) -> tuple[KGState, float, dict[str, Any]]:
        cost = min(self.costs["invalid"], state.budget_left)
        state.budget_left -= cost
        state.steps += 1
        state.counts["invalid"] += 1
        reward = -self.params.cost_weight * cost
        state.total += reward
        return state, reward, {"kind": "invalid", "cost": cost}

    def returns(self, state: KGState) -> tuple[float, ...]:
        return (state.total,)

    def progress(self, state: KGState) -> dict[str, float]:
        """The score so far, recorded with every step (F1 against steps in reports)."""
        g = state.graph
        return {"f1": scoring.prf(g.tp, g.fp, len(g.target), "")["f1"]}

    def benchmark(self) -> Benchmark:
        """What the task is scored against: the hidden graph itself.

        Example:
            >>> values = CompletionWorld({"num_entities": 30}).benchmark().values
            >>> values["oracle_f1"], values["stop_now_return"], "true_graph_score" in values
            (1.0, 0.0, False)
        """
        values = {"oracle_f1": 1.0, "oracle_precision": 1.0, "oracle_recall": 1.0,
                  "stop_now_return": 0.0}
        if self._truth is not None:  # a fixed graph: its score is known up front
            values["true_graph_score"] = self.params.true_reward * len(self._truth.target)
        return Benchmark(
            "the hidden graph", values,
            "An oracle that adds every missing true triple and removes every false one "
            "ends with the hidden graph (F1 = 1); stopping at once costs nothing and "
            "returns 0. A fixed source also states the true graph's score.")

    def metrics(self, state: KGState) -> dict[str, float]:
        g = state.graph
        out = scoring.prf(g.tp, g.fp, len(g.target), "")
        out |= scoring.prf(*state.initial, len(g.target), "initial_")
        out |= scoring.er_scores(g.rep, state.start.alias_of)
        out |= {f"n_{k}": float(v) for k, v in state.counts.items()}
        out |= {"f1_gain": out["f1"] - out["initial_f1"], "known": float(g.tp + g.fp),
                "target": float(len(g.target)), "steps": float(state.steps),
                "budget_spent": self.params.budget - state.budget_left}
        return out
