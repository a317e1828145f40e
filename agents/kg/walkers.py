"""Heuristic agents for the knowledge-graph query world (MINERVA-style walks).

``random_walker`` walks at random; ``rule_walker`` follows the bodies of the world's planted
rules (:attr:`~agora.envs.kg.query.QueryWorld.rules`) for the query relation.

Example:
    >>> from agora.agents import make_agent
    >>> from agora.envs.kg.query import QueryWorld
    >>> world = QueryWorld({"num_entities": 40})
    >>> agent = make_agent("rule_walker", world)
    >>> agent.reset(seed=0, player=0)
    >>> len(agent.rules)
    10
"""

from __future__ import annotations

from agora.agents.base import Agent, register_agent
from agora.envs.kg.graph import Rule
from agora.envs.kg.query import QueryWorld
from agora.envs.kg.types import WalkAction, WalkView


@register_agent("random_walker")
class RandomWalker(Agent):
    """Uniformly random walk on the query world: each outgoing edge or stop alike."""

    games = (QueryWorld,)

    def act(self, obs: WalkView) -> WalkAction:
        i = int(self.rng.integers(len(obs.edges) + 1))
        if i == len(obs.edges):
            return WalkAction.stop()
        r, t = obs.edges[i].tolist()
        return WalkAction.move(r, t)


@register_agent("rule_walker")
class RuleWalker(Agent):
    """Walks the body of a planted rule whose head is the query relation, then stops.

    ``r1(x,y) & r2(y,z) => q(x,z)`` walks ``r1`` then ``r2``; an inverse rule
    ``r(x,y) => h(y,x)`` is read both ways (the closure makes it an equivalence): a query
    on ``h`` walks ``r`` backwards and one on ``r`` walks ``h`` backwards (needs the
    world's inverse edges). Among applicable rules the shortest wins (ties drawn from
    ``self.rng``); with none it walks at random. Rules come from
    :attr:`QueryWorld.rules <agora.envs.kg.query.QueryWorld.rules>` (none for real KGs).
    """

    games = (QueryWorld,)

    def __init__(self) -> None:
        super().__init__()
        self.rules: tuple[Rule, ...] = ()
        self.plan: list[int] = []
        self.fallback = RandomWalker()

    def setup(self, game: QueryWorld) -> None:
        self.rules = game.rules

    def reset(self, seed: int, player: int) -> None:
        super().reset(seed, player)
        self.fallback.reset(seed, player)
        self.plan = []

    def bodies(self, obs: WalkView) -> list[list[int]]:
        base, q, out = obs.num_base_relations, obs.query_relation, []
        for rule in self.rules:
            if rule.kind == "compose" and rule.head == q:
                out.append(list(rule.body))
            elif rule.kind == "inverse" and obs.num_relations > base:
                pair = (rule.body[0], rule.head)
                if q in pair:  # r(x,y) <=> h(y,x): walk the other one backwards
                    out.append([pair[q == pair[0]] + base])
        first = set(obs.edges[:, 0].tolist())
        return [b for b in out if b[0] in first]

    def act(self, obs: WalkView) -> WalkAction:
        if not obs.path:
            plans = self.bodies(obs)
            if not plans:
                self.plan = [-1]  # no rule: random walk
            else:
                short = min(len(p) for p in plans)
                plans = [p for p in plans if len(p) == short]
                self.plan = list(plans[int(self.rng.integers(len(plans)))])
        if self.plan[:1] == [-1]:
            return self.fallback.act(obs)
        if not self.plan:
            return WalkAction.stop()
        rel = self.plan.pop(0)
        rows = obs.edges[obs.edges[:, 0] == rel]
        if self.plan == [] and len(rows) > 1:
            rows = rows[rows[:, 1] != obs.query_head]
        if not len(rows):
            return WalkAction.stop()
        r, t = rows[int(self.rng.integers(len(rows)))].tolist()
        return WalkAction.move(r, t)
