"""The global concept graph: merging triples with deduplication and provenance.

The graph is a :class:`networkx.MultiDiGraph` whose node ids are normalised labels and
whose edge keys are normalised relations, so one (source, relation, target) is one edge
and two relations between the same concepts are two edges.

* Node attributes: ``label`` (as first written), ``iteration`` and ``call_id`` (where it
  first appeared), ``mentions``, ``asked`` (times chosen as a question's focus) and
  ``aliases`` (JSON list of the labels merged into it).
* Edge attributes: ``relation`` (as first written), ``iteration``, ``call_id`` (the model
  call that first produced it) and ``count`` (how many extractions repeated it).
* ``graph["aliases"]``: merged-away label -> the node that absorbed it.

Every function here returns a new graph and never mutates its input.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from agora.experiments.growth.triples import Triple


@dataclass(frozen=True)
class TripleOutcome:
    """What merging one triple did: the node ids it landed on and what was new."""

    triple: Triple
    source: str
    relation: str
    target: str
    new_source: bool
    new_target: bool
    new_edge: bool


@dataclass(frozen=True)
class NodeMerge:
    """Two nodes merged for similar embeddings: ``removed`` was folded into ``kept``."""

    removed: str
    kept: str
    cosine: float


def empty_graph() -> nx.MultiDiGraph:
    """A graph with no concepts yet."""
    g = nx.MultiDiGraph()
    g.graph["aliases"] = {}
    return g


def _copy(g: nx.MultiDiGraph) -> nx.MultiDiGraph:
    out = g.copy()
    out.graph["aliases"] = dict(g.graph.get("aliases", {}))
    return out


def resolve(g: nx.MultiDiGraph, label: str) -> str:
    """The node id a normalised label stands for (itself unless merged away)."""
    return str(g.graph.get("aliases", {}).get(label, label))


def _touch_node(g: nx.MultiDiGraph, node: str, label: str, iteration: int,
                call_id: str) -> bool:
    if node in g:
        g.nodes[node]["mentions"] += 1
        return False
    g.add_node(node, label=label, iteration=iteration, call_id=call_id, mentions=1, asked=0,
               aliases="[]")
    return True


def merge_triples(g: nx.MultiDiGraph, triples: Iterable[Triple], *, iteration: int,
                  call_id: str) -> tuple[nx.MultiDiGraph, tuple[TripleOutcome, ...]]:
    """Add triples under normalised labels; a repeated triple only raises its ``count``.

    Example:
        >>> g, out = merge_triples(empty_graph(), [Triple("Silk", "made of", "Proteins"),
        ...                                        Triple("silk", "Made of", "protein")],
        ...                        iteration=1, call_id="it0001-extract")
        >>> sorted(g.nodes), [o.new_edge for o in out], g.edges["silk", "protein", "made of"]
        (['protein', 'silk'], [True, False], {'relation': 'made of', 'iteration': 1, \
'call_id': 'it0001-extract', 'count': 2})
    """
    out = _copy(g)
    outcomes = []
    for t in triples:
        s_norm, rel, t_norm = t.key()
        source, target = resolve(out, s_norm), resolve(out, t_norm)
        new_s = _touch_node(out, source, t.source, iteration, call_id)
        new_t = _touch_node(out, target, t.target, iteration, call_id)
        new_edge = source != target and not out.has_edge(source, target, rel)
        if new_edge:
            out.add_edge(source, target, key=rel, relation=t.relation, iteration=iteration,
                         call_id=call_id, count=1)
        elif source != target:
            out.edges[source, target, rel]["count"] += 1
        outcomes.append(TripleOutcome(t, source, rel, target, new_s, new_t, new_edge))
    return out, tuple(outcomes)


def _keeps(g: nx.MultiDiGraph, a: str, b: str) -> tuple[str, str]:
    """(kept, removed): the higher-degree node stays; ties keep the older, then the smaller."""
    def rank(n: str) -> tuple[int, int, str]:
        return (-int(g.degree(n)), int(g.nodes[n].get("iteration", 0)), n)

    kept, removed = sorted((a, b), key=rank)
    return kept, removed


def _move_edges(g: nx.MultiDiGraph, kept: str, removed: str) -> None:
    edges = [(u, v, k, d) for u, v, k, d in g.in_edges(removed, keys=True, data=True)]
    edges += [(u, v, k, d) for u, v, k, d in g.out_edges(removed, keys=True, data=True)]
    for u, v, k, d in edges:
        u2, v2 = (kept if u == removed else u), (kept if v == removed else v)
        if u2 == v2:
            continue
        if g.has_edge(u2, v2, k):
            g.edges[u2, v2, k]["count"] += d["count"]
        else:
            g.add_edge(u2, v2, key=k, **d)


def contract(g: nx.MultiDiGraph, kept: str, removed: str) -> nx.MultiDiGraph:
    """Fold node ``removed`` into ``kept``: edges move over (no self-loops), counts add.

    Example:
        >>> g, _ = merge_triples(empty_graph(), [Triple("a", "r", "b"), Triple("c", "r", "b")],
        ...                      iteration=1, call_id="x")
        >>> h = contract(g, "a", "c")
        >>> list(h.edges(keys=True, data="count")), resolve(h, "c")
        ([('a', 'b', 'r', 2)], 'a')
    """
    out = _copy(g)
    _move_edges(out, kept, removed)
    k, r = out.nodes[kept], out.nodes[removed]
    k["mentions"] += r["mentions"]
    k["asked"] += r["asked"]
    k["iteration"] = min(k["iteration"], r["iteration"])
    k["aliases"] = json.dumps(json.loads(k["aliases"]) + [removed] + json.loads(r["aliases"]))
    out.remove_node(removed)
    aliases = out.graph["aliases"]
    for alias, target in list(aliases.items()):
        if target == removed:
            aliases[alias] = kept
    aliases[removed] = kept
    return out


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    v = np.asarray(vectors, dtype=float)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)


def merge_similar(g: nx.MultiDiGraph, vectors: Mapping[str, np.ndarray],
                  candidates: Sequence[str], threshold: float
                  ) -> tuple[nx.MultiDiGraph, tuple[NodeMerge, ...]]:
    """Merge each candidate with its most similar other node when cosine >= ``threshold``.

    Candidates are taken in order; the higher-degree node of a pair is kept. Nodes without
    a vector are left alone.
    """
    out = _copy(g)
    merges = []
    for cand in candidates:
        cand = resolve(out, cand)
        others = sorted(n for n in out if n != cand and n in vectors)
        if cand not in out or cand not in vectors or not others:
            continue
        unit = unit_rows(np.stack([vectors[cand], *(vectors[n] for n in others)]))
        cos = unit[1:] @ unit[0]
        best = int(np.argmax(cos))
        if cos[best] >= threshold:
            kept, removed = _keeps(out, cand, others[best])
            out = contract(out, kept, removed)
            merges.append(NodeMerge(removed, kept, float(cos[best])))
    return out, tuple(merges)


def prune_small_components(g: nx.MultiDiGraph, min_size: int) -> nx.MultiDiGraph:
    """A copy without the weakly connected components of fewer than ``min_size`` nodes."""
    out = _copy(g)
    small = [c for c in nx.weakly_connected_components(g) if len(c) < min_size]
    out.remove_nodes_from(n for c in small for n in c)
    return out


def write_graph(g: nx.MultiDiGraph, path: str | Path, **graph_attrs: Any) -> Path:
    """Write GraphML atomically (aliases stored as a JSON graph attribute)."""
    path = Path(path)
    h = g.copy()
    h.graph = {**{k: v for k, v in g.graph.items() if k != "aliases"}, **graph_attrs,
               "aliases": json.dumps(g.graph.get("aliases", {}), sort_keys=True)}
    tmp = path.with_name(path.name + ".tmp")
    nx.write_graphml(h, tmp)
    os.replace(tmp, path)
    return path


def read_graph(path: str | Path) -> nx.MultiDiGraph:
    """Read a graph written by :func:`write_graph`."""
    g = nx.read_graphml(path, node_type=str, edge_key_type=str, force_multigraph=True)
    g.graph["aliases"] = json.loads(g.graph.get("aliases", "{}"))
    return g
