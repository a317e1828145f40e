"""How an episode draws its hidden graph (shared by the completion and query worlds).

Example:
    >>> from agora.envs.kg.params import SourceParams
    >>> draw = GraphDraw(SourceParams(num_entities=30))
    >>> draw.fixed is None, draw.shape, len(draw.rules)  # a fresh rule world per episode
    (True, (30, 10), 10)
    >>> draw(np.random.default_rng(0)).num_entities
    30
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agora.envs.kg.family import FAMILY_RELATIONS, FAMILY_RULES
from agora.envs.kg.graph import KnowledgeGraph, Rule
from agora.envs.kg.names import anonymise
from agora.envs.kg.params import SourceParams
from agora.envs.kg.sources import as_graph, load_source


class GraphDraw:
    """Draws the hidden graph of an episode.

    ``fixed`` is the graph shared by every episode (real KGs, networkx graphs, a given
    graph: a KnowledgeGraph, a networkx graph or a triples file, see
    :func:`~agora.envs.kg.sources.as_graph`; or a rule world drawn from
    ``instance_seed``), before renaming; ``None`` when each episode draws its own rule
    world. Names are anonymised per episode unless
    ``instance_seed >= 0`` fixes them too.
    """

    def __init__(self, params: SourceParams, graph: Any = None) -> None:
        self.params = params
        seed = np.random.default_rng(max(params.instance_seed, 0))
        self.fixed = None if graph is None else as_graph(graph)
        if graph is None and (params.source != "rule_world" or params.instance_seed >= 0):
            self.fixed = load_source(params.source, seed, params.num_entities, params.typed)
        self._named = (anonymise(self.fixed, seed, params.anonymise)
                       if self.fixed is not None and params.instance_seed >= 0 else None)
        self.shape = ((self.fixed.num_entities, self.fixed.num_relations) if self.fixed
                      else (params.num_entities, len(FAMILY_RELATIONS)))

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules planted in every drawn graph (rule worlds), else ``()``."""
        if self.fixed is not None:
            return self.fixed.rules
        return FAMILY_RULES if self.params.source == "rule_world" else ()

    def __call__(self, rng: np.random.Generator) -> KnowledgeGraph:
        if self._named is not None:
            return self._named
        g, names = rng.spawn(2)
        kg = self.fixed or load_source(self.params.source, g, self.params.num_entities,
                                       self.params.typed)
        return anonymise(kg, names, self.params.anonymise)

    def is_fixed(self, kg: KnowledgeGraph) -> bool:
        """Whether ``kg`` is (a renaming of) the fixed graph."""
        return self.fixed is not None and kg.triples is self.fixed.triples
