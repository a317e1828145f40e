"""The registered graph task ids (auto-discovered by :mod:`agora.envs.tasks`).

Example:
    >>> sorted(s.id for s in TASKS)[:2]
    ['KGCompletion-v1', 'KGCompletionER-v1']
"""

from __future__ import annotations

from typing import Any

from agora.envs.spec import EnvSpec

_WORLD = "agora.envs.kg.world:CompletionWorld"
_ENV = "agora.envs.kg.env:KGCompletionEnv"
_QWORLD = "agora.envs.kg.query:QueryWorld"
_QENV = "agora.envs.kg.env:KGQueryEnv"
BENCHMARK = "the hidden graph (completion F1; query answer hits)"


def _task(task_id: str, world: str, env: str, defaults: dict[str, Any],
          summary: str) -> EnvSpec:
    # no player: the worlds are one-player agora Worlds, played by the one episode loop
    return EnvSpec(task_id, world, defaults=defaults, summary=summary, family="graph", env=env,
                   benchmark=BENCHMARK)


TASKS = (
    _task("KGCompletion-v1", _WORLD, _ENV,
          {"source": "rule_world", "num_entities": 120, "corruption": "missing_edges"},
          "complete a family-tree rule world (half its facts missing) on a budget"),
    _task("KGCompletionER-v1", _WORLD, _ENV,
          {"source": "rule_world", "num_entities": 120,
           "corruption": "missing_edges+extra_edges+duplicates"},
          "rule world with missing and false facts and aliased entities to merge"),
    _task("KGNations-v1", _WORLD, _ENV,
          {"source": "nations", "corruption": "missing_edges"},
          "complete the Nations KG (14 countries, 55 relations), names anonymised"),
    _task("KGKinships-v1", _WORLD, _ENV,
          {"source": "kinships", "corruption": "missing_edges"},
          "complete the Kinships KG (104 people, 25 kin terms)"),
    _task("KGUmls-v1", _WORLD, _ENV,
          {"source": "umls", "corruption": "partial_subgraph", "partial_hops": 1},
          "grow the UMLS KG (135 concepts, 46 relations) from a partial subgraph"),
    _task("KGKarate-v1", _WORLD, _ENV,
          {"source": "networkx:karate_club", "corruption": "missing_edges+wrong_relations"},
          "repair Zachary's karate club, relations typed by the members' clubs"),
    _task("KGQuery-v1", _QWORLD, _QENV,
          {"source": "rule_world", "num_entities": 120, "max_steps": 3},
          "MINERVA-style (head, relation, ?) walks on a rule world"),
    _task("KGQueryUmls-v1", _QWORLD, _QENV,
          {"source": "umls", "max_steps": 3, "reward": "deeppath"},
          "MINERVA-style walks on UMLS with DeepPath's reward shaping"),
)
