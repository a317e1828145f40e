"""``agora society CONFIG.yaml``: run a cultural-evolution or an archetype config."""

from __future__ import annotations

import time
from pathlib import Path

from agora.envs import ConfigError
from agora.experiments.config import read_yaml


def _out(out: str | None, name: str, resume: bool) -> Path:
    if resume and not out:
        raise ConfigError("--resume needs --out RUN_DIR (the run to continue)")
    if out and Path(out).exists() and not Path(out).is_dir():
        raise ConfigError(f"--out {out!r} is a file, not a run directory")
    return Path(out) if out else Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def society(config: str, out: str | None, resume: bool, quiet: bool,
            workers: int | None = None) -> int:
    """Run the config (its ``kind`` says which); 0 when finished, 3 when stopped.
    ``workers`` overrides the config's ``workers`` (Ray when above 1)."""
    data = read_yaml(config)
    kind = data.get("kind", "culture") if isinstance(data, dict) else None
    if kind == "archetypes":
        from agora.experiments.population.archetypes import (
            parse_archetype_config,
            run_archetypes,
        )

        acfg = parse_archetype_config(data if workers is None else {**data, "workers": workers})
        where = _out(out, acfg.name, resume)
        res = run_archetypes(acfg, where, progress=not quiet)
        print(f"archetypes {res.status}: {len(res.population)}/{acfg.steps} steps, "
              f"{len(res.calls)} model calls for {acfg.agents} agents in {where}")
        return 0 if res.status == "ok" else 3
    if kind != "culture":
        raise ConfigError(f"kind={kind!r}: want 'culture' or 'archetypes'")
    from agora.experiments.population.culture import parse_society_config, run_society

    cfg = parse_society_config(data if workers is None else {**data, "workers": workers})
    where = _out(out, cfg.name, resume)
    summary = run_society(cfg, where, resume=resume, progress=not quiet)
    gens = summary.tables["generations"]
    print(f"society {summary.status}: {summary.generations_done}/"
          f"{cfg.generations * len(cfg.seeds)} generations in {summary.run_dir}")
    if len(gens):
        cols = ["run_seed", "generation", "mean_donation", "final_resources",
                "cooperation_rate", "strategy_words"]
        print(gens[cols].to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    if summary.status != "ok":
        print(f"stopped: finish with agora society {config} --out {where} --resume")
    return 0 if summary.status == "ok" else 3
