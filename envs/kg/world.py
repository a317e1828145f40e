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
shells then call :meth:`CompletionWorld.invalid_step`: no effect, ``invalid_cost`` is
charged and the invalid counter grows.

**Episode end.** ``stop``; an action dearer than the budget left (no effect); no budget
for the cheapest action; ``max_steps``. **Metrics.** precision, recall, F1 (and at the
start), entity-resolution precision, recall and accuracy (pairwise), action counts.

**Benchmark.** A perfect oracle reaches F1 = 1 with ``|missing|`` proposals.
**Reference.** graph completion rewards of graph-preflexor-grpo (2026). **Version.** v0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from agora.envs.core import GameInfo, Timing, is_int
from agora.envs.errors import GameOverError, IllegalActionError
from agora.envs.kg import scoring
from agora.envs.kg.corruption import corrupt
from agora.envs.kg.draw import GraphDraw
from agora.envs.kg.graph import KnowledgeGraph, Rule
from agora.envs.kg.params import KGParams
from agora.envs.kg.state import KGState, apply_action
from agora.envs.kg.text import CompletionText
from agora.envs.kg.types import ACTION_KINDS, KGAction, KGView


class CompletionWorld:
    """Knowledge-graph completion on a budget (see the module docstring).

    Example:
        >>> world = CompletionWorld({"num_entities": 30, "budget": 5.0})
        >>> state = world.initial_state(np.random.default_rng(0))
        >>> h, r, t = state.kg.triples[0].tolist()  # a true triple (ids not aliased here)
        >>> state, reward, info = world.step(state, KGAction.propose(h, r, t),
        ...                                  np.random.default_rng(1))
        >>> info["new_true"] in (0, 1), world.done(world.step(state, KGAction.stop(),
        ...                                                   np.random.default_rng(2))[0])
        (True, True)
    """

    info: ClassVar[GameInfo] = GameInfo(
        name="KGCompletion", timing=Timing.SEQUENTIAL, family="graph",
        description="Recover a hidden knowledge graph from a corrupted copy on a budget.",
        action_kind="structured", observation_kind="graph",
        reference="graph-preflexor-grpo (2026) completion rewards")
    num_players = 1

    def __init__(self, params: Mapping[str, Any] | KGParams | None = None,
                 graph: KnowledgeGraph | Any = None) -> None:
        self.params = params if isinstance(params, KGParams) else KGParams.from_dict(params)
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

    # ----- episode ---------------------------------------------------------------
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

    def view(self, state: KGState) -> KGView:
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

    def done(self, state: KGState) -> bool:
        return (state.stopped or state.steps >= self.params.max_steps
                or state.budget_left + 1e-9 < self.min_cost)

    def check(self, state: KGState, action: KGAction) -> None:
        """Raise :class:`IllegalActionError` unless ``action`` is legal now."""
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

    def step(self, state: KGState, action: KGAction,
             rng: np.random.Generator) -> tuple[KGState, float, dict[str, Any]]:
        """Apply a legal action (see :meth:`check`); returns (state, reward, info)."""
        if self.done(state):
            raise GameOverError("the episode is over")
        self.check(state, action)
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
        return state, reward, {"kind": action.kind, "new_true": g.tp - tp,
                               "new_false": g.fp - fp, "cost": cost}

    def invalid_step(self, state: KGState) -> tuple[KGState, float, dict[str, Any]]:
        """The declared invalid-action policy: no effect, ``invalid_cost`` charged, counted."""
        cost = min(self.costs["invalid"], state.budget_left)
        state.budget_left -= cost
        state.steps += 1
        state.counts["invalid"] += 1
        return state, -self.params.cost_weight * cost, {"kind": "invalid", "cost": cost}

    def progress(self, state: KGState) -> dict[str, float]:
        """The score so far, recorded with every step (F1 against steps in reports)."""
        g = state.graph
        return {"f1": scoring.prf(g.tp, g.fp, len(g.target), "")["f1"]}

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
