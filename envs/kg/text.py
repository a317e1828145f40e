"""Text faces of the graph worlds: rules, the known subgraph as triples, JSON actions.

Actions name entities and relations by *name*, never by id::

    {"action": "propose", "head": "bakoru", "relation": "parent_of", "tail": "tisema"}
    {"action": "query", "node": "bakoru"}      {"action": "merge", "head": "a", "other": "b"}
    {"action": "move", "relation": "child_of", "tail": "tisema"}      {"action": "stop"}

Names match exactly, then ignoring case and surrounding spaces (when that is unambiguous:
an alias may differ from its original only in case); ``"#12"`` names id 12
(what :meth:`format` writes without a state). :meth:`parse` raises
:class:`~agora.envs.errors.ActionParseError` when the reply cannot be read (no JSON, a
missing key, an unknown action) and :class:`~agora.envs.errors.IllegalActionError` when
it names an unknown entity or relation or an illegal move; it never guesses.

Example:
    >>> from agora.envs.kg.world import CompletionWorld
    >>> world = CompletionWorld({"num_entities": 20, "anonymise": "none"})
    >>> state = world.initial_state(np.random.default_rng(0))
    >>> action = world.text.parse('{"action": "query", "node": "e0003"}', state)
    >>> action
    KGAction(kind='query', head=3, relation=-1, tail=-1, other=-1)
    >>> world.text.format_action(action, state)
    '{"action": "query", "node": "e0003"}'
    >>> world.text.parse('{"action": "query", "node": "zz"}', state)
    Traceback (most recent call last):
    ...
    agora.envs.errors.IllegalActionError: unknown entity 'zz'
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from agora.envs.errors import ActionParseError, IllegalActionError
from agora.envs.kg.types import ACTION_KINDS, TRIPLE_KINDS, WALK_KINDS, KGAction, WalkAction
from agora.envs.text import extract_json_object

SHOW_TRIPLES = 30
SHOW_NAMES = 25
ENUM_MAX = 300


class _Names:
    """Name -> id lookup of one episode's names (cached on the tuple's identity)."""

    def __init__(self) -> None:
        self._key: tuple[int, int] | None = None
        self._maps: tuple[dict[str, int], dict[str, int]] = ({}, {})

    def resolve(self, names: tuple[str, ...], raw: Any, what: str, text: str) -> int:
        if not isinstance(raw, str):
            raise ActionParseError(f"the {what} must be a name (a string), got {raw!r}", text)
        if self._key != (id(names), len(names)):
            exact = {n: i for i, n in enumerate(names)}
            counts = Counter(n.strip().lower() for n in names)
            folded = {n.strip().lower(): i for i, n in enumerate(names)
                      if counts[n.strip().lower()] == 1}  # only unambiguous foldings
            self._key, self._maps = (id(names), len(names)), (exact, folded)
        exact, folded = self._maps
        if raw in exact:
            return exact[raw]
        if raw.strip().lower() in folded:
            return folded[raw.strip().lower()]
        s = raw.strip()
        if s.startswith("#") and s[1:].isdigit() and int(s[1:]) < len(names):
            return int(s[1:])
        raise IllegalActionError(f"unknown {what} {raw!r}")


def _kind(obj: dict[str, Any], kinds: Sequence[str], text: str) -> str:
    raw = obj.get("action")
    if not isinstance(raw, str) or raw.strip().lower() not in kinds:
        raise ActionParseError(f'"action" must be one of {list(kinds)}, got {raw!r}', text)
    return raw.strip().lower()


def _field(obj: dict[str, Any], key: str, text: str, *alts: str) -> Any:
    for k in (key, *alts):
        if k in obj:
            return obj[k]
    raise ActionParseError(f'this action needs the key "{key}"', text)


def _name(names: tuple[str, ...] | None, i: int) -> str:
    return names[i] if names is not None and 0 <= i < len(names) else f"#{i}"


def _schema(kinds: Sequence[str], fields: Mapping[str, Sequence[str] | None]) -> dict[str, Any]:
    """An object schema: ``action`` from ``kinds``; each field a string, from a list of
    names when one is given and it is at most :data:`ENUM_MAX` long (so a grammar-
    constrained model can only write names that exist)."""
    props: dict[str, Any] = {"action": {"type": "string", "enum": list(kinds)}}
    for name, values in fields.items():
        props[name] = ({"type": "string", "enum": list(values)}
                       if values is not None and 0 < len(values) <= ENUM_MAX
                       else {"type": "string"})
    return {"type": "object", "properties": props, "required": ["action"]}


class CompletionText:
    """Text face of :class:`~agora.envs.kg.world.CompletionWorld`."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self._entities, self._relations = _Names(), _Names()

    def rules(self, player: int = 0) -> str:
        c = self.world.costs
        return (
            "You are rebuilding a hidden knowledge graph of (head, relation, tail) facts. "
            "You start from a partial, possibly wrong copy and spend a budget on actions:\n"
            f'- query a node (cost {c["query"]:g}): reveals some true facts about it: '
            '{"action": "query", "node": NAME}\n'
            f'- propose a fact (cost {c["propose"]:g}): '
            '{"action": "propose", "head": NAME, "relation": RELATION, "tail": NAME}\n'
            f'- verify a fact exactly (cost {c["verify"]:g}; true facts are added, false '
            'ones removed): {"action": "verify", "head": ..., "relation": ..., "tail": ...}\n'
            f'- merge two names of one entity (cost {c["merge"]:g}): '
            '{"action": "merge", "head": NAME, "other": NAME}\n'
            f'- retract a fact from your graph (cost {c["retract"]:g}): '
            '{"action": "retract", "head": ..., "relation": ..., "tail": ...}\n'
            '- stop: {"action": "stop"}\n'
            "True new facts earn reward, false ones cost reward; at the end your graph is "
            "scored by precision and recall against the hidden graph. Names are made up: "
            "reason from the graph, not from memory. Use names exactly as shown.")

    def render(self, state: Any) -> str:
        w, g = self.world, state.graph
        ents, rels = state.start.entity_names, state.kg.relation_names
        rows = g.rows[:g.n]
        focus = state.focus if state.focus >= 0 else _busiest(rows, w.num_entities)
        lines = [f"Budget left: {state.budget_left:g} (step {state.steps}). Your graph has "
                 f"{g.n} facts; {int(state.visible.sum())} entities are known."]
        if len(state.revealed):
            lines.append("Your last query revealed: " + "; ".join(
                _fact(ents, rels, t) for t in state.revealed.tolist()))
        if focus >= 0:
            near = rows[(rows[:, 0] == focus) | (rows[:, 2] == focus)][:SHOW_TRIPLES]
            lines.append(f"Facts around {ents[focus]} ({state.start.entity_types[focus]}):")
            lines += [f"  {_fact(ents, rels, t)}" for t in near.tolist()] or ["  (none)"]
        unqueried = [ents[i] for i in np.flatnonzero(state.visible).tolist()
                     if i not in state.queried][:SHOW_NAMES]
        lines.append("Some entities not queried yet: " + ", ".join(unqueried))
        lines.append("Relations: " + ", ".join(rels))
        if unqueried:
            lines.append(f'For example: {{"action": "query", "node": "{unqueried[0]}"}}')
        lines.append("Answer with one JSON action.")
        return "\n".join(lines)

    def action_schema(self, state: Any = None) -> dict[str, Any]:
        """Entity fields list the visible names, ``relation`` the relation names."""
        if state is None:
            return _schema(ACTION_KINDS, dict.fromkeys(("node", "head", "relation", "tail",
                                                        "other")))
        ents = state.start.entity_names
        seen = [ents[i] for i in np.flatnonzero(state.visible).tolist()]
        return _schema(ACTION_KINDS, {"node": seen, "head": seen,
                                      "relation": state.kg.relation_names, "tail": seen,
                                      "other": seen})

    def parse(self, reply: str, state: Any) -> KGAction:
        obj = extract_json_object(reply)
        kind = _kind(obj, ACTION_KINDS, reply)
        ents, rels = state.start.entity_names, state.kg.relation_names

        def ent(key: str, *alts: str) -> int:
            return self._entities.resolve(ents, _field(obj, key, reply, *alts), "entity", reply)

        if kind == "query":
            action = KGAction.query(ent("node", "head"))
        elif kind == "merge":
            action = KGAction.merge(ent("head"), ent("other", "tail"))
        elif kind in TRIPLE_KINDS:
            r = self._relations.resolve(rels, _field(obj, "relation", reply), "relation", reply)
            action = KGAction(kind, ent("head"), r, ent("tail"))
        else:
            action = KGAction.stop()
        self.world.check(state, 0, action)
        return action

    def format_action(self, action: KGAction, state: Any = None) -> str:
        ents = state.start.entity_names if state is not None else None
        rels = state.kg.relation_names if state is not None else None
        out: dict[str, str] = {"action": action.kind}
        if action.kind == "query":
            out["node"] = _name(ents, action.head)
        elif action.kind == "merge":
            out |= {"head": _name(ents, action.head), "other": _name(ents, action.other)}
        elif action.kind in TRIPLE_KINDS:
            out |= {"head": _name(ents, action.head), "relation": _name(rels, action.relation),
                    "tail": _name(ents, action.tail)}
        return json.dumps(out)

    def random_action(self, state: Any, rng: np.random.Generator) -> KGAction:
        """A uniformly drawn legal action (stop with probability 1/50)."""
        w, g = self.world, state.graph
        seen = np.flatnonzero(state.visible)
        kinds = ["query", "propose", "verify"] + ["retract"] * (g.n > 0) + ["merge"] * (
            len(seen) > 1)
        kind = "stop" if rng.random() < 0.02 else kinds[int(rng.integers(len(kinds)))]
        if kind == "query":
            return KGAction.query(int(rng.choice(seen)))
        if kind == "merge":
            a, b = rng.choice(seen, size=2, replace=False).tolist()
            return KGAction.merge(a, b)
        if kind == "retract":
            h, r, t = g.rows[int(rng.integers(g.n))].tolist()
            return KGAction.retract(h, r, t)
        if kind == "stop":
            return KGAction.stop()
        h, t = rng.choice(seen, size=2).tolist()
        return KGAction(kind, h, int(rng.integers(w.num_relations)), t)


def _busiest(rows: np.ndarray, n: int) -> int:
    if not len(rows):
        return -1
    return int(np.argmax(np.bincount(rows[:, [0, 2]].ravel(), minlength=n)))


def _fact(ents: tuple[str, ...], rels: tuple[str, ...], t: Sequence[int]) -> str:
    return f"({ents[t[0]]}, {rels[t[1]]}, {ents[t[2]]})"


class WalkText:
    """Text face of :class:`~agora.envs.kg.query.QueryWorld`."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self._entities, self._relations = _Names(), _Names()

    def rules(self, player: int = 0) -> str:
        p = self.world.params
        return (
            "Answer a query (head, relation, ?) about a knowledge graph by walking it. You "
            "start at the head; the direct answer edges are hidden. Each step, move along "
            'one outgoing edge: {"action": "move", "relation": RELATION, "tail": NAME}, or '
            'stay: {"action": "stay"}, or stop here: {"action": "stop"}. '
            f"After at most {p.max_steps} steps, you score if you stand on a correct answer. "
            "A relation ending in ^-1 walks an edge backwards. Names are made up: reason "
            "from the graph, not from memory.")

    def render(self, state: Any) -> str:
        g = state.graph
        ents, rels = g.kg.entity_names, g.relation_names
        rows = self.world.edges(state)
        lines = [f"Query: ({ents[state.head]}, {rels[state.relation]}, ?)",
                 f"You are at {ents[state.current]}; "
                 f"{self.world.params.max_steps - len(state.path)} steps left."]
        if state.path:
            lines.append("Path so far: " + " -> ".join(
                [ents[state.head]] + [f"[{rels[r]}] {ents[n]}" if r >= 0 else "(stay)"
                                      for r, n in state.path]))
        lines.append(f"Outgoing edges ({len(rows)}):")
        lines += [f"  {rels[r]} -> {ents[t]}" for r, t in rows[:SHOW_TRIPLES].tolist()]
        if len(rows) > SHOW_TRIPLES:
            lines.append(f"  ... and {len(rows) - SHOW_TRIPLES} more")
        lines.append("Answer with one JSON action.")
        return "\n".join(lines)

    def action_schema(self, state: Any = None) -> dict[str, Any]:
        """``relation`` and ``tail`` list those of the current node's edges."""
        if state is None:
            return _schema(WALK_KINDS, dict.fromkeys(("relation", "tail")))
        g, rows = state.graph, self.world.edges(state)
        rels = [g.relation_names[r] for r in sorted(set(rows[:, 0].tolist()))]
        tails = [g.kg.entity_names[t] for t in sorted(set(rows[:, 1].tolist()))]
        return _schema(WALK_KINDS, {"relation": rels, "tail": tails})

    def parse(self, reply: str, state: Any) -> WalkAction:
        obj = extract_json_object(reply)
        kind = _kind(obj, WALK_KINDS, reply)
        if kind == "move":
            g = state.graph
            r = self._relations.resolve(g.relation_names, _field(obj, "relation", reply),
                                        "relation", reply)
            t = self._entities.resolve(g.kg.entity_names, _field(obj, "tail", reply),
                                       "entity", reply)
            action = WalkAction.move(r, t)
        else:
            action = WalkAction(kind)
        self.world.check(state, 0, action)
        return action

    def format_action(self, action: WalkAction, state: Any = None) -> str:
        if action.kind != "move":
            return json.dumps({"action": action.kind})
        g = state.graph if state is not None else None
        return json.dumps({
            "action": "move",
            "relation": _name(g.relation_names if g else None, action.relation),
            "tail": _name(g.kg.entity_names if g else None, action.tail)})

    def random_action(self, state: Any, rng: np.random.Generator) -> WalkAction:
        """A random outgoing edge (stay if there is none; stop with probability 1/10)."""
        rows = self.world.edges(state)
        if rng.random() < 0.1:
            return WalkAction.stop()
        if not len(rows):
            return WalkAction.stay()
        r, t = rows[int(rng.integers(len(rows)))].tolist()
        return WalkAction.move(r, t)
