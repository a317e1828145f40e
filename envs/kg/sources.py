"""Hidden ground-truth graphs: one entry point over shipped real KGs, networkx graphs and
generated rule worlds.

A source name picks the graph:

* ``"nations"``, ``"kinships"``, ``"umls"``: the small real KGs shipped in ``data/``
  (read with :mod:`importlib.resources`, never through pykeen);
* ``"networkx:<name>"``: a networkx social graph (:data:`NX_GRAPHS`), every undirected edge
  as two triples, with one relation (``typed=False``) or relations named after the node
  attribute of both ends (``typed=True``);
* ``"rule_world"``: a family tree drawn from an rng (:func:`~agora.envs.kg.family.
  rule_world`), closed under the planted :data:`~agora.envs.kg.family.FAMILY_RULES`.

The graph type lives in :mod:`~agora.envs.kg.graph`; :mod:`~agora.envs.kg.names`
anonymises names so that a language model cannot answer from memory.

Example:
    >>> kg = load_source("networkx:karate_club", np.random.default_rng(0))
    >>> kg.num_entities, sorted(set(kg.relation_names))[:2]
    (34, ['Mr. Hi-Mr. Hi', 'Mr. Hi-Officer'])
"""

from __future__ import annotations

import functools
import gzip
from collections.abc import Callable
from importlib import resources

import networkx as nx
import numpy as np

from agora.envs.errors import ConfigError
from agora.envs.kg.family import rule_world
from agora.envs.kg.graph import KnowledgeGraph

REAL_KGS = ("nations", "kinships", "umls")
"""The real KGs shipped in ``data/``."""


# ----- real KGs and networkx graphs ------------------------------------------------
@functools.cache
def load_real(name: str) -> KnowledgeGraph:
    """One of :data:`REAL_KGS`, read from the shipped ``data/<name>.tsv.gz``."""
    if name not in REAL_KGS:
        raise ConfigError(f"unknown real KG {name!r}; shipped: {REAL_KGS}")
    raw = resources.files("agora.envs.kg").joinpath("data", f"{name}.tsv.gz").read_bytes()
    lines = gzip.decompress(raw).decode("utf-8").splitlines()
    return KnowledgeGraph.from_named(name, [ln.split("\t") for ln in lines if ln.strip()])


def _karate() -> nx.Graph:
    return nx.relabel_nodes(nx.karate_club_graph(), lambda n: f"member{n}")


def _davis() -> nx.Graph:
    g = nx.davis_southern_women_graph()
    for _, d in g.nodes(data=True):
        d["kind"] = "woman" if d["bipartite"] == 0 else "event"
    return g


NX_GRAPHS: dict[str, tuple[Callable[[], nx.Graph], str | None]] = {
    "karate_club": (_karate, "club"),
    "les_miserables": (nx.les_miserables_graph, None),
    "florentine_families": (nx.florentine_families_graph, None),
    "davis_southern_women": (_davis, "kind"),
}
"""Supported ``networkx:<name>`` graphs and the node attribute that types them."""


@functools.cache
def load_networkx(name: str, typed: bool = True) -> KnowledgeGraph:
    """A networkx graph as a KG (both directions of each edge)."""
    if name not in NX_GRAPHS:
        raise ConfigError(f"unknown networkx graph {name!r}; known: {sorted(NX_GRAPHS)}")
    build, attr = NX_GRAPHS[name]
    g = build()
    kind = {str(n): str(d.get(attr, "entity")) if attr else "entity"
            for n, d in g.nodes(data=True)}
    rows = []
    for u, v in g.edges():
        a, b = str(u), str(v)
        for h, t in ((a, b), (b, a)):
            rel = f"{kind[h]}-{kind[t]}" if typed and attr else "linked"
            rows.append((h, rel, t))
    return KnowledgeGraph.from_named(f"networkx:{name}", rows, types=kind)


# ----- one entry point -------------------------------------------------------------
def check_source(source: str) -> None:
    """Raise :class:`ConfigError` unless ``source`` names a known source."""
    if source == "rule_world" or source in REAL_KGS:
        return
    if source.startswith("networkx:") and source.split(":", 1)[1] in NX_GRAPHS:
        return
    raise ConfigError(f"parameter source={source!r} is invalid: use 'rule_world', one of "
                      f"{REAL_KGS}, or 'networkx:<name>' with name in {sorted(NX_GRAPHS)}")


def load_source(source: str, rng: np.random.Generator, num_entities: int = 100,
                typed: bool = True) -> KnowledgeGraph:
    """The graph a source names (a rule world is drawn from ``rng``; others are fixed)."""
    check_source(source)
    if source == "rule_world":
        return rule_world(num_entities, rng)
    if source in REAL_KGS:
        return load_real(source)
    return load_networkx(source.split(":", 1)[1], typed)
