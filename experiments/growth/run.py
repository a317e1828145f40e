"""Run (or resume) a graph-growth loop into a run directory.

Each iteration is written and committed before the next starts (see
:mod:`~agora.experiments.growth.store`), so a killed run resumes from its last committed
iteration: the graph is read back from GraphML, the next question from the iterations
table, and the randomness is re-seeded per iteration. With greedy decoding (the default)
and the model's response cache, a resumed run repeats what a straight run would do.
"""

from __future__ import annotations

import importlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agora.agents.llm.factory import build_model
from agora.agents.llm.model import LanguageModel, ModelError
from agora.experiments.growth.config import GrowthConfig
from agora.experiments.growth.embedders import Embedder, LiteLLMEmbedder
from agora.experiments.growth.graph import empty_graph, prune_small_components
from agora.experiments.growth.iteration import IterationResult, Step, grow_once
from agora.experiments.growth.store import GrowthStore

COUNTS = ("triples_valid", "triples_rejected", "new_nodes", "new_edges", "model_errors",
          "tokens_in", "tokens_out")


@dataclass(frozen=True)
class GrowthSummary:
    """How a run ended and what it holds."""

    run_dir: Path
    status: str
    iterations_done: int
    nodes: int
    edges: int
    counts: dict[str, int]
    """Totals over all iterations (plus ``parse_errors`` and ``question_fallbacks``)."""


def make_embedder(cfg: GrowthConfig) -> Embedder | None:
    """The configured embedder (None when the config has no ``embedding``)."""
    e = cfg.embedding
    return None if e is None else LiteLLMEmbedder(e.model, e.api_base, e.api_key_env,
                                                  cfg.timeout)


def _start(store: GrowthStore, cfg: GrowthConfig, resume: bool) -> tuple[int, Step]:
    fresh = Step(empty_graph(), cfg.seed_question)
    if not resume:
        store.create(cfg)
        return 0, fresh
    last = store.open_for_resume(cfg)
    record = store.last_record()
    if record is None:
        return 0, fresh
    focus = json.loads(record["focus_nodes"])
    return last, Step(store.load_graph(last), str(record["next_question"]),
                      focus[0] if focus else None)


def _save(store: GrowthStore, cfg: GrowthConfig, iteration: int, r: IterationResult) -> None:
    g = r.step.graph
    saved = prune_small_components(g, cfg.min_component) if cfg.min_component else g
    store.write_iteration(iteration, saved, g if cfg.min_component else None,
                          {"calls": r.calls, "triples": r.triples, "iterations": [r.record]})


def _line(r: dict[str, Any], total: int) -> str:
    return (f"iteration {r['iteration']}/{total}: {r['triples_valid']} triples, "
            f"+{r['new_nodes']} nodes, +{r['new_edges']} edges -> {r['nodes']} nodes, "
            f"{r['edges']} edges ({r['duration_s']:.1f} s)")


def optional_panel(graph: Any, seed: int) -> dict[str, Any] | None:
    """``agora.analysis.graphs.metric_panel`` of ``graph`` when that module exists.

    Imported on first use: runs that end before a panel never load the graph metrics.
    """
    try:
        module = importlib.import_module("agora.analysis.graphs")
    except ImportError:
        return None
    panel = module.metric_panel(graph, seed=seed)
    data = panel.to_dict() if hasattr(panel, "to_dict") else dict(panel)
    return {str(k): v for k, v in data.items()}


def _finish(store: GrowthStore, cfg: GrowthConfig, status: str, step: Step,
            extra: dict[str, Any]) -> GrowthSummary:
    tables = store.consolidate()
    it = tables["iterations"]
    counts = {k: int(it[k].sum()) if len(it) else 0 for k in COUNTS}
    counts["parse_errors"] = int(it["parse_error"].notna().sum()) if len(it) else 0
    counts["question_fallbacks"] = int(it["question_fallback"].sum()) if len(it) else 0
    if status == "ok":
        final = (prune_small_components(step.graph, cfg.min_component) if cfg.min_component
                 else step.graph)
        try:
            panel = optional_panel(final, cfg.seed)
        except Exception as exc:  # an optional extra must not lose a finished run
            extra["panel_error"] = f"{type(exc).__name__}: {exc}"
            panel = None
        if panel is not None:
            (store.root / "panel.json").write_text(json.dumps(panel, indent=2, default=_plain))
    store.finish(status, iterations_done=len(it), counts=counts, **extra)
    return GrowthSummary(store.root, status, len(it), step.graph.number_of_nodes(),
                         step.graph.number_of_edges(), counts)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else str(value)


def run_growth(cfg: GrowthConfig, out: str | Path, *, model: LanguageModel | None = None,
               embedder: Embedder | None = None, resume: bool = False,
               progress: bool = True) -> GrowthSummary:
    """Grow a graph for ``cfg.iterations`` iterations (continuing a run with ``resume``).

    Args:
        cfg: the validated config.
        out: the run directory (created; with ``resume``, the run to continue).
        model: the language model (default: ``build_model(cfg.model)``).
        embedder: the label embedder (default: from ``cfg.embedding``, or none).
        resume: continue the run in ``out`` after its last committed iteration.
        progress: print one line per iteration to stderr.
    """
    store = GrowthStore(out)
    last, step = _start(store, cfg, resume)
    model = model if model is not None else build_model(cfg.model)
    embedder = embedder if embedder is not None else make_embedder(cfg)
    vectors: dict[str, np.ndarray] = {}
    try:
        for iteration in range(last + 1, cfg.iterations + 1):
            result = grow_once(model, cfg, step, iteration, embedder, vectors)
            _save(store, cfg, iteration, result)
            step = result.step
            if progress:
                print(_line(result.record, cfg.iterations), file=sys.stderr, flush=True)
    except ModelError as exc:
        return _finish(store, cfg, "stopped", step, {"error": str(exc)})
    except KeyboardInterrupt:
        _finish(store, cfg, "interrupted", step, {})
        raise
    return _finish(store, cfg, "ok", step, {})
