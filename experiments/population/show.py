"""What ``agora show`` and ``agora evolve --plot`` say about population and tournament runs.

Example:
    >>> import pandas as pd
    >>> print(shares_table(pd.DataFrame({"generation": [0, 0], "label": ["a", "b"],
    ...     "count": [3, 1], "share": [0.75, 0.25], "mean_payoff": [1.0, 2.0]})))
    label  count  share  mean_payoff
        a      3   0.75          1.0
        b      1   0.25          2.0
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml

from agora.analysis.records import GENERATION, GENERATIONS, LABEL
from agora.experiments.population.config import parse_evolve_config, setup_seed
from agora.experiments.population.matching import make_matching
from agora.experiments.population.population import Population
from agora.experiments.population.store import PopulationStore


def shares_table(generations: pd.DataFrame, digits: int = 3) -> str:
    """The last generation's rows (label, count, share, payoff, cooperation), largest first."""
    if generations.empty:
        return "(no generation committed yet)"
    last = generations[generations[GENERATION] == generations[GENERATION].max()]
    cols = [c for c in (LABEL, "count", "share", "mean_payoff", "coop_rate") if c in last]
    table = last[cols].sort_values(cols[1] if len(cols) > 1 else LABEL, ascending=False)
    table[LABEL] = table[LABEL].astype(str).str.slice(0, 40)
    return table.round(digits).to_string(index=False)


def _generations(root: Path) -> pd.DataFrame:
    final = root / f"{GENERATIONS}.parquet"
    manifest = json.loads((root / "manifest.json").read_text())
    if final.exists() and manifest.get("status") != "running":
        return pd.read_parquet(final)
    return PopulationStore(root).read_table(GENERATIONS)


def describe(root: str | Path) -> str:
    """A few lines about a population or tournament run directory."""
    root = Path(root)
    m = json.loads((root / "manifest.json").read_text())
    head = (f"{m.get('kind')} run {m.get('name')} on {m.get('env')}: status {m.get('status')}, "
            f"started {m.get('started')}, ended {m.get('ended')}, seed {m.get('seed')}")
    if m.get("kind") == "tournament":
        ranked = pd.read_parquet(root / "ranked.parquet") if (root / "ranked.parquet").exists() \
            else pd.DataFrame()
        return "\n".join([head, ranked.round(3).to_string(index=False)])
    gens = _generations(root)
    done = int(gens[GENERATION].max()) + 1 if len(gens) else 0
    return "\n".join([head, f"{done}/{m.get('generations_planned')} generations of "
                      f"{m.get('size')} agents", shares_table(gens)])


def write_plots(root: str | Path, plot_dir: str | Path) -> list[Path]:
    """Shares over generations, and the final population on its graph (graph matchings)."""
    from agora.analysis.plots import plot_population_graph, plot_shares

    root, plot_dir = Path(root), Path(plot_dir)
    plot_dir.mkdir(parents=True, exist_ok=True)
    written = [plot_shares(_generations(root), plot_dir / "shares.png")]
    cfg = parse_evolve_config(yaml.safe_load((root / "config.yaml").read_text()))
    final = root / "population.parquet"
    if cfg.matching.get("type") == "graph" and final.exists():
        pop = Population.load(final)
        game_players = 2  # graph matchings are pairwise
        graph = make_matching(cfg.matching, pop.size, game_players,
                              setup_seed(cfg.seed, 1)).graph
        labels = [pop.labels()[s] for s in pop.strategy]
        written.append(plot_population_graph(graph, labels, plot_dir / "graph.png"))
    return written
