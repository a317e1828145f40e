"""The registered graph task ids (auto-discovered by :mod:`agora.envs.tasks`).

Example:
    >>> sorted(s.id for s in TASKS)[:2]
    ['KGCompletion-v1', 'KGCompletionER-v1']
"""

from __future__ import annotations

from agora.envs.tasks import TaskSpec

_WORLD = "agora.envs.kg.world:CompletionWorld"
_ENV = "agora.envs.kg.env:KGCompletionEnv"
_QWORLD = "agora.envs.kg.query:QueryWorld"
_QENV = "agora.envs.kg.env:KGQueryEnv"

TASKS = (
    TaskSpec("KGCompletion-v1", "graph", _WORLD, _ENV,
             {"source": "rule_world", "num_entities": 120, "corruption": "missing_edges"},
             "complete a family-tree rule world (half its facts missing) on a budget"),
    TaskSpec("KGCompletionER-v1", "graph", _WORLD, _ENV,
             {"source": "rule_world", "num_entities": 120,
              "corruption": "missing_edges+extra_edges+duplicates"},
             "rule world with missing and false facts and aliased entities to merge"),
    TaskSpec("KGNations-v1", "graph", _WORLD, _ENV,
             {"source": "nations", "corruption": "missing_edges"},
             "complete the Nations KG (14 countries, 55 relations), names anonymised"),
    TaskSpec("KGKinships-v1", "graph", _WORLD, _ENV,
             {"source": "kinships", "corruption": "missing_edges"},
             "complete the Kinships KG (104 people, 25 kin terms)"),
    TaskSpec("KGUmls-v1", "graph", _WORLD, _ENV,
             {"source": "umls", "corruption": "partial_subgraph", "partial_hops": 1},
             "grow the UMLS KG (135 concepts, 46 relations) from a partial subgraph"),
    TaskSpec("KGKarate-v1", "graph", _WORLD, _ENV,
             {"source": "networkx:karate_club", "corruption": "missing_edges+wrong_relations"},
             "repair Zachary's karate club, relations typed by the members' clubs"),
    TaskSpec("KGQuery-v1", "graph", _QWORLD, _QENV,
             {"source": "rule_world", "num_entities": 120, "max_steps": 3},
             "MINERVA-style (head, relation, ?) walks on a rule world"),
    TaskSpec("KGQueryUmls-v1", "graph", _QWORLD, _QENV,
             {"source": "umls", "max_steps": 3, "reward": "deeppath"},
             "MINERVA-style walks on UMLS with DeepPath's reward shaping"),
)
