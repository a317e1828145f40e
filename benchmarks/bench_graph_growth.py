"""Seconds per graph-growth iteration: on the embedded model, and the loop's own overhead.

Two measurements:

* **embedded**: ``run_growth`` with ``local/gemma-3-270m`` (response cache off, the shipped
  config ``experiments/configs/graph_growth_local.yaml``) for ``--iterations`` iterations.
  Reported per iteration: wall seconds, model seconds per call purpose (answer, extract,
  question), completion tokens, and what is left for the loop (merge, rewards, Louvain,
  writing GraphML and Parquet).
* **overhead**: the same loop with an instant scripted model that returns five random
  triples over a 3,000-concept vocabulary, for ``--overhead-iterations`` iterations, so the
  graph reaches the sizes of long runs. Reported: loop milliseconds per iteration over the
  last tenth of the run, and the graph size there.

Target: at the largest graph measured, the loop's overhead per iteration stays below 10%
of an embedded-model iteration.

Run::

    python benchmarks/bench_graph_growth.py [--iterations 3] [--overhead-iterations 300]
        [--max-tokens N] [--json out.json] [--quick]

``--quick`` (tens of seconds): 20 overhead iterations, one embedded iteration of at most 32
tokens per call. Without the ``local`` extra the embedded part is skipped (the reason is
printed) and the script exits 0 after the overhead part.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _cli import parse_args, skip

from agora.agents import llm_local
from agora.agents.llm.model import Completion, LanguageModel, Message, Sampling
from agora.experiments.growth import load_growth_config, parse_growth_config, run_growth

CONFIG = Path(__file__).parents[1] / "experiments" / "configs" / "graph_growth_local.yaml"
TARGET = 0.10
QUICK = {"iterations": 1, "overhead_iterations": 20, "max_tokens": 32}


class InstantModel(LanguageModel):
    """Five random triples per extraction over a fixed vocabulary, seeded by the prompt."""

    name = "instant"

    def __init__(self, vocabulary: int = 3000) -> None:
        self.words = [f"concept {i}" for i in range(vocabulary)]

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        user = messages[-1]["content"]
        rng = np.random.default_rng(zlib.crc32(user.encode()))
        keys = set(sampling.schema["properties"]) if sampling.schema else set()
        if "triples" in keys:
            picks = rng.choice(len(self.words), size=(5, 2))
            body: dict[str, Any] = {"triples": [
                {"source": self.words[a], "relation": "relates to", "target": self.words[b]}
                for a, b in picks]}
        elif sampling.schema is None:
            return Completion(text=f"About {user[:80]}.", model=self.name, tokens_out=20)
        else:
            body = {"question": f"What about {user[-60:]}?"}
        return Completion(text=json.dumps(body), model=self.name, tokens_out=20)


def embedded(iterations: int, out: Path, max_tokens: int | None = None) -> dict[str, Any]:
    cfg = load_growth_config(CONFIG)
    data = {**cfg.model_dump(), "iterations": iterations,
            "model": {"model": "local/gemma-3-270m", "cache": "off"}}
    if max_tokens is not None:
        data["max_tokens"] = max_tokens
    cfg = parse_growth_config(data)
    run_growth(cfg, out / "embedded", progress=True)
    its = pd.read_parquet(out / "embedded" / "iterations.parquet")
    calls = pd.read_parquet(out / "embedded" / "calls.parquet")
    by = calls.groupby("purpose").agg(seconds=("latency_s", "mean"),
                                      tokens_out=("tokens_out", "mean"),
                                      tokens_in=("tokens_in", "mean"))
    model_s = calls.groupby("iteration")["latency_s"].sum()
    return {"iterations": iterations,
            "seconds_per_iteration": float(its["duration_s"].mean()),
            "seconds_per_iteration_all": [round(float(x), 2) for x in its["duration_s"]],
            "loop_seconds_per_iteration": float((its["duration_s"].values - model_s.values).mean()),
            "per_call": by.round(2).to_dict("index"),
            "triples_valid": int(its["triples_valid"].sum()),
            "parse_errors": int(its["parse_error"].notna().sum()),
            "question_fallbacks": int(its["question_fallback"].sum()),
            "nodes": int(its["nodes"].iloc[-1]), "edges": int(its["edges"].iloc[-1])}


def overhead(iterations: int, out: Path) -> dict[str, Any]:
    cfg = parse_growth_config({"name": "overhead", "seed_question": "Start here?",
                               "iterations": iterations, "strategy": "frontier",
                               "grounded": False})
    started = time.perf_counter()
    run_growth(cfg, out / "overhead", model=InstantModel(), progress=False)
    total = time.perf_counter() - started
    its = pd.read_parquet(out / "overhead" / "iterations.parquet")
    tail = its.iloc[-max(1, iterations // 10):]
    return {"iterations": iterations, "total_s": round(total, 2),
            "ms_per_iteration_last_tenth": round(1000 * float(tail["duration_s"].mean()), 1),
            "nodes": int(its["nodes"].iloc[-1]), "edges": int(its["edges"].iloc[-1])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=3, help="embedded-model iterations")
    ap.add_argument("--overhead-iterations", type=int, default=300)
    ap.add_argument("--max-tokens", type=int, default=None,
                    help="embedded run's max_tokens (default: the shipped config's)")
    ap.add_argument("--json", default=None, help="save the results here")
    args = parse_args(ap, QUICK)
    missing = llm_local.missing_packages()
    with tempfile.TemporaryDirectory() as tmp:
        over = overhead(args.overhead_iterations, Path(tmp))
        print(f"overhead: {over}")
        if missing:
            return skip(f"the embedded part: the embedded model needs {', '.join(missing)} "
                        "(the 'local' extra)")
        emb = embedded(args.iterations, Path(tmp), args.max_tokens)
    print(f"embedded: {json.dumps(emb, indent=2)}")
    ratio = over["ms_per_iteration_last_tenth"] / 1000 / emb["seconds_per_iteration"]
    verdict = "PASS" if ratio < TARGET else "FAIL"
    print(f"loop overhead at {over['nodes']} nodes = {100 * ratio:.1f}% of an embedded-model "
          f"iteration ({emb['seconds_per_iteration']:.1f} s): {verdict} (target < "
          f"{100 * TARGET:.0f}%)")
    if args.json:
        Path(args.json).write_text(json.dumps({"embedded": emb, "overhead": over,
                                               "ratio": ratio, "verdict": verdict}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
