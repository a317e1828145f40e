"""Hidden ground-truth graphs: one entry point over shipped real KGs, networkx graphs and
generated rule worlds.

A source name picks the graph:

* ``"nations"``, ``"kinships"``, ``"umls"``: the small real KGs shipped in ``data/``
  (read with :mod:`importlib.resources`, never through pykeen);
* ``"networkx:<name>"``: a networkx social graph (:data:`NX_GRAPHS`), every undirected edge
  as two triples, with one relation (``typed=False``) or relations named after the node
  attribute of both ends (``typed=True``);
* ``"rule_world"``: a family tree drawn from an rng (:func:`~agora.envs.kg.family.
  rule_world`), closed under the planted :data:`~agora.envs.kg.family.FAMILY_RULES`;
* a path to the user's own triples file (:data:`FILE_SUFFIXES`; relative to the working
  directory), read by :func:`load_file`. In Python a world also takes ``graph=`` a
  :class:`~agora.envs.kg.graph.KnowledgeGraph`, a networkx graph (:func:`from_networkx`)
  or such a path.

A user graph must have at least one triple, no empty names and no self-loops (no world
can use ``(x, r, x)``: it is an error, never dropped); a triple listed twice is one
triple (a graph is a set).

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
from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

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


# ----- the user's own graphs --------------------------------------------------------
FILE_SUFFIXES = (".tsv", ".csv", ".parquet")
"""Triples files a ``source`` may name: a header row (or Parquet columns) with ``head``,
``relation`` and ``tail``; other columns are ignored."""
COLUMNS = ("head", "relation", "tail")


def checked_graph(name: str, rows: Iterable[Sequence[Any]],
                  types: dict[str, str] | None = None) -> KnowledgeGraph:
    """A user graph from name triples, or a :class:`ConfigError` saying what is wrong
    (no triples, an empty name, a self-loop); repeated triples count once."""
    triples = [(str(h), str(r), str(t)) for h, r, t in rows]
    if not triples:
        raise ConfigError(f"graph {name!r} has no triples")
    for i, triple in enumerate(triples):
        if any(not part.strip() for part in triple):
            raise ConfigError(f"graph {name!r}: triple {i} {triple} has an empty name")
    loops = [t for t in triples if t[0] == t[2]]
    if loops:
        raise ConfigError(f"graph {name!r} has {len(loops)} self-loop(s), e.g. {loops[0]}; "
                          "no world can use (x, r, x): remove them")
    return KnowledgeGraph.from_named(name, triples, types=types)


def load_file(path: str | Path) -> KnowledgeGraph:
    """The triples file at ``path`` (:data:`FILE_SUFFIXES`) as a graph, checked.

    Example:
        >>> import pathlib, tempfile
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "kg.csv"
        >>> _ = f.write_text("head,relation,tail" + chr(10) + "ann,knows,bob" + chr(10))
        >>> load_file(f).relation_names
        ('knows',)
    """
    p = Path(path)
    if p.suffix not in FILE_SUFFIXES:
        raise ConfigError(f"graph file {str(p)!r}: want a name ending in {FILE_SUFFIXES}")
    if not p.is_file():
        raise ConfigError(f"graph file {str(p)!r} does not exist")
    stat = p.stat()
    return _load_file(str(p.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.cache
def _load_file(path: str, mtime_ns: int, size: int) -> KnowledgeGraph:
    """Read once per file version (``mtime_ns`` and ``size`` key the cache)."""
    try:
        if path.endswith(".parquet"):
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, sep="\t" if path.endswith(".tsv") else ",", dtype=str,
                             keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"graph file {path!r} cannot be read: {exc}") from None
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ConfigError(f"graph file {path!r} lacks column(s) {missing}; it has "
                          f"{[str(c) for c in df.columns]} (the first row names the columns)")
    if df[list(COLUMNS)].isna().any().any():
        raise ConfigError(f"graph file {path!r} has empty cells in {list(COLUMNS)}")
    return checked_graph(Path(path).name, df[list(COLUMNS)].itertuples(index=False))


def from_networkx(graph: nx.Graph, name: str = "networkx") -> KnowledgeGraph:
    """A networkx graph as a KG: an undirected edge gives both directions, a directed one
    its own; the relation is the edge's ``relation`` attribute (else ``"linked"``) and an
    entity's type its node's ``type`` attribute (else ``"entity"``)."""
    types = {str(n): str(d.get("type", "entity")) for n, d in graph.nodes(data=True)}
    rows = []
    for u, v, d in graph.edges(data=True):
        rel = str(d.get("relation", "linked"))
        rows.append((str(u), rel, str(v)))
        if not graph.is_directed():
            rows.append((str(v), rel, str(u)))
    return checked_graph(name, rows, types)


def as_graph(graph: Any) -> KnowledgeGraph:
    """A world's ``graph=`` argument as a KG: a :class:`KnowledgeGraph`, a networkx graph
    or a triples file path."""
    if isinstance(graph, KnowledgeGraph):
        return graph
    if isinstance(graph, nx.Graph):
        return from_networkx(graph)
    if isinstance(graph, (str, Path)):
        return load_file(graph)
    raise ConfigError(f"graph={type(graph).__name__} is invalid: want a KnowledgeGraph, a "
                      f"networkx graph or a path ending in {FILE_SUFFIXES}")


# ----- one entry point -------------------------------------------------------------
def is_file_source(source: str) -> bool:
    """Whether ``source`` names a triples file (by its suffix) rather than a shipped graph."""
    return source.endswith(FILE_SUFFIXES)


def check_source(source: str) -> None:
    """Raise :class:`ConfigError` unless ``source`` names a known source or an existing
    triples file."""
    if source == "rule_world" or source in REAL_KGS:
        return
    if source.startswith("networkx:") and source.split(":", 1)[1] in NX_GRAPHS:
        return
    if is_file_source(source):
        if not Path(source).is_file():
            raise ConfigError(f"parameter source={source!r} is invalid: no such file")
        return
    raise ConfigError(f"parameter source={source!r} is invalid: use 'rule_world', one of "
                      f"{REAL_KGS}, 'networkx:<name>' with name in {sorted(NX_GRAPHS)}, or "
                      f"a path to a triples file ending in {FILE_SUFFIXES}")


def load_source(source: str, rng: np.random.Generator, num_entities: int = 100,
                typed: bool = True) -> KnowledgeGraph:
    """The graph a source names (a rule world is drawn from ``rng``; others are fixed)."""
    check_source(source)
    if source == "rule_world":
        return rule_world(num_entities, rng)
    if source in REAL_KGS:
        return load_real(source)
    if is_file_source(source):
        return load_file(source)
    return load_networkx(source.split(":", 1)[1], typed)
