"""The ``agora`` command: list environments and agents, run configs, show runs.

Usage::

    agora list
    agora run CONFIG.yaml [--workers N] [--out DIR] [--resume]
    agora show RUN_DIR [--plot PNG|DIR]
    agora report RUN_DIR [RUN_DIR ...] [--out report.html]
    agora evolve CONFIG.yaml [--out DIR] [--resume] [--workers N] [--generations N] [--quiet]
                             [--plot DIR]
    agora tournament CONFIG.yaml [--out DIR]
    agora grow CONFIG.yaml [--out DIR] [--iterations N] [--resume] [--quiet]
    agora society CONFIG.yaml [--out DIR] [--resume] [--quiet] [--workers N]
    agora train CONFIG.yaml [--out DIR] [--quiet]
    agora design-constants [--check]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

from agora.agents import agent_entries  # noqa: E402
from agora.analysis import format_summary, load_run, summarize  # noqa: E402
from agora.analysis.records import OK, STATUS  # noqa: E402
from agora.envs import AgoraError, ConfigError, EnvSpec, all_specs  # noqa: E402
from agora.experiments.config import count_arg, load_config  # noqa: E402
from agora.experiments.runner import run_experiment  # noqa: E402


def _table(rows: list[dict[str, str]]) -> str:
    if not rows:
        return ""
    cols = list(rows[0])
    width = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    line = "  ".join(c.ljust(width[c]) for c in cols)
    body = ["  ".join(str(r[c]).ljust(width[c]) for c in cols) for r in rows]
    return "\n".join([line, "  ".join("-" * width[c] for c in cols), *body])


def _game_row(s: EnvSpec) -> dict[str, str]:
    game = s.make_game()
    return {"id": s.id, "family": s.family, "players": str(game.num_players),
            "moves": s.timing.value,
            "actions": f"{game.info.action_kind}({game.num_actions})",
            "observations": f"{game.info.observation_kind}{list(game.observation_shape)}",
            "benchmark": game.benchmark().concept, "default opponent": _opponents(s),
            "summary": s.summary}


def _opponents(s: EnvSpec) -> str:
    """The default opponent, or ``player_i: name`` per seat when the seats differ."""
    d = s.default_opponent
    return d if isinstance(d, str) else ", ".join(f"player_{i}: {n}" for i, n in enumerate(d))


def _task_row(t: EnvSpec) -> dict[str, str]:
    info = t.world.info
    return {"id": t.id, "family": t.family, "players": "1", "moves": info.timing.value,
            "actions": info.action_kind, "observations": info.observation_kind,
            "benchmark": t.benchmark or "-", "default opponent": "-",
            "summary": t.summary}


def cmd_list(args: argparse.Namespace) -> int:
    envs = [_task_row(s) if s.is_task else _game_row(s) for s in all_specs()]
    agents = []
    for e in agent_entries():
        params = ", ".join(f"{k}={v!r}" for k, v in e.parameters().items()) or "-"
        games = ", ".join(getattr(getattr(g, "info", None), "name", g.__name__)
                          for g in e.cls.games) or "any"
        agents.append({"agent": e.name, "face": e.cls.face.value, "games": games,
                       "parameters": params, "summary": e.summary})
    if args.json:
        print(json.dumps({"envs": envs, "agents": agents}, indent=2))
        return 0
    print("Environments (Gymnasium: gymnasium.make('agora/'+id); games also PettingZoo: "
          "agora.envs.make(id))")
    print(_table(envs))
    print("\nAgents (use in configs by name, with parameters as keys)")
    print(_table(agents))
    return 0


def model_faults(episodes: Any) -> str | None:
    """A warning line when language-model turns fell back or calls failed (a run of
    fallbacks is not a run of model moves, whatever its exit status), else None."""
    totals = {what: float(episodes.filter(regex=rf"^stat\..*\.{what}$").to_numpy().sum())
              for what in ("fallbacks", "model_errors", "requests")} if len(episodes) else {}
    if not totals or not (totals["fallbacks"] or totals["model_errors"]):
        return None
    return (f"agora: warning: {totals['fallbacks']:.0f} model turns were played by the "
            f"fallback and {totals['model_errors']:.0f} model calls failed "
            f"({totals['requests']:.0f} requests sent); see calls.parquet")


def _out_dir(args: argparse.Namespace, name: str, what: str) -> Path:
    """The run directory: ``--out`` (checked), else ``runs/<name>-<time>``."""
    if args.resume and not args.out:
        raise ConfigError(f"--resume needs --out RUN_DIR (the run to {what})")
    if not args.out:
        return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {args.out!r} is a file, not a run directory")
    return out


def cmd_run(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    out = _out_dir(args, cfg.name, "finish")
    summary = run_experiment(cfg, out, workers=args.workers, resume=args.resume,
                             progress=not args.quiet)
    print(f"\nrun {summary.status}: {summary.episodes_done}/{summary.episodes_planned} episodes"
          f" ({summary.failed} failed) in {summary.run_dir}")
    print(format_summary(summarize(summary.episodes)))
    print(f"\nepisodes: {summary.run_dir / 'episodes.parquet'}  "
          f"events: {summary.run_dir / 'events.parquet'}")
    warning = model_faults(summary.episodes)
    if warning:
        print(warning, file=sys.stderr)
    return 0 if summary.failed == 0 else 3


def _run_kind(run_dir: str) -> str | None:
    path = Path(run_dir) / "manifest.json"
    if not path.exists():
        return None
    kind = json.loads(path.read_text()).get("kind")
    return kind if isinstance(kind, str) else None


def cmd_show(args: argparse.Namespace) -> int:
    if _run_kind(args.run_dir) in ("population", "tournament"):
        from agora.experiments.population.show import describe, write_plots

        print(describe(args.run_dir))
        if args.plot and _run_kind(args.run_dir) == "population":
            for path in write_plots(args.run_dir, args.plot):
                print(f"plot: {path}")
        return 0
    run = load_run(args.run_dir)
    m = run.manifest
    done = int((run.episodes[STATUS] == OK).sum()) if len(run.episodes) else 0
    failed = len(run.episodes) - done
    print(f"run {m.get('name')} on {m.get('env')}: status {m.get('status')}, "
          f"{done}/{m.get('episodes_planned')} episodes done, {failed} failed")
    print(f"started {m.get('started')}, ended {m.get('ended')}, agora {m.get('agora_version')}, "
          f"commit {m.get('git_commit')}, base seed {m.get('base_seed')}")
    print(format_summary(summarize(run.episodes)))
    if args.plot:
        from agora.analysis.plots import plot_returns

        print(f"plot: {plot_returns(run.episodes, args.plot)}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from agora.analysis.report import build_report

    path = build_report(args.run_dirs, args.out)
    print(f"report: {path}")
    return 0


def cmd_evolve(args: argparse.Namespace) -> int:
    from agora.experiments.population.config import load_evolve_config, parse_evolve_config
    from agora.experiments.population.evolve import run_evolve
    from agora.experiments.population.show import shares_table, write_plots

    cfg = load_evolve_config(args.config)
    if args.generations is not None:
        cfg = parse_evolve_config({**cfg.model_dump(), "generations": args.generations})
    out = _out_dir(args, cfg.name, "continue")
    summary = run_evolve(cfg, out, workers=args.workers, resume=args.resume,
                         progress=not args.quiet)
    print(f"\nevolve {summary.status}: {summary.generations_done}/{cfg.generations} "
          f"generations of {summary.population.size} agents in {summary.run_dir}")
    print(shares_table(summary.generations))
    print(f"\ngenerations: {summary.run_dir / 'generations.parquet'}  "
          f"population: {summary.run_dir / 'population.parquet'}")
    if args.plot:
        for path in write_plots(summary.run_dir, args.plot):
            print(f"plot: {path}")
    return 0


def cmd_tournament(args: argparse.Namespace) -> int:
    from agora.experiments.population.config import load_tournament_config
    from agora.experiments.population.tournament_run import run_tournament

    cfg = load_tournament_config(args.config)
    args.resume = False
    run = run_tournament(cfg, _out_dir(args, cfg.name, "continue"))
    print(f"tournament {cfg.name}: {len(cfg.strategies)} strategies, {cfg.turns} turns, "
          f"{cfg.repetitions} repetitions, noise {cfg.noise}")
    print(run.ranked.round(3).to_string(index=False))
    print(f"\nranked: {run.run_dir / 'ranked.parquet'}  scores: {run.run_dir / 'scores.parquet'}")
    return 0


def cmd_grow(args: argparse.Namespace) -> int:
    from agora.experiments.growth import load_growth_config, parse_growth_config, run_growth

    cfg = load_growth_config(args.config)
    if args.iterations is not None:
        cfg = parse_growth_config({**cfg.model_dump(), "iterations": args.iterations})
    out = _out_dir(args, cfg.name, "continue")
    summary = run_growth(cfg, out, resume=args.resume, progress=not args.quiet)
    c = summary.counts
    print(f"growth {summary.status}: {summary.iterations_done}/{cfg.iterations} iterations, "
          f"{summary.nodes} nodes, {summary.edges} edges in {summary.run_dir}")
    print(f"triples {c['triples_valid']} valid, {c['triples_rejected']} rejected; "
          f"{c['parse_errors']} unparseable extractions, {c['question_fallbacks']} question "
          f"fallbacks, {c['model_errors']} model errors (rewards are intrinsic, unverifiable)")
    return 0 if summary.status == "ok" else 3


def cmd_society(args: argparse.Namespace) -> int:
    from agora.experiments.population.society_cli import society

    return society(args.config, args.out, args.resume, args.quiet, args.workers)


def cmd_train(args: argparse.Namespace) -> int:
    from agora.experiments.train import load_train_config, run_training

    cfg = load_train_config(args.config)
    args.resume = False
    summary = run_training(cfg, _out_dir(args, cfg.name, "continue"), progress=not args.quiet)
    print(f"\ntrained {cfg.algorithm} ({cfg.backend}) for {cfg.total_timesteps} steps x "
          f"{len(cfg.seeds)} seed(s) in {summary.run_dir}")
    for seed, path in sorted(summary.checkpoints.items()):
        print(f"seed {seed}: {path}")
    print(f"curves: {summary.run_dir / 'learning_curves.parquet'}  "
          f"tensorboard: {summary.run_dir / 'tensorboard'}")
    for record in ("pbt.parquet", "curriculum.parquet"):
        if (summary.run_dir / record).is_file():
            print(f"{record.removesuffix('.parquet')}: {summary.run_dir / record}")
    if summary.evaluation is not None:
        print(f"\nevaluation ({summary.evaluation.run_dir}):")
        print(format_summary(summarize(summary.evaluation.episodes)))
        return 0 if summary.evaluation.failed == 0 else 3
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agora", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="registered environments and agents")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("run", help="run an experiment config")
    p.add_argument("config", help="YAML config file")
    p.add_argument("--workers", type=count_arg, default=None, help="parallel workers (Ray if > 1)")
    p.add_argument("--out", default=None, help="run directory (default runs/<name>-<time>)")
    p.add_argument("--resume", action="store_true", help="finish the run in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("show", help="summary of a finished or partial run")
    p.add_argument("run_dir")
    p.add_argument("--plot", metavar="PNG", help="also save mean returns per cell as a chart "
                   "(population runs: a folder for the shares and graph plots)")
    p.set_defaults(func=cmd_show)
    p = sub.add_parser("report", help="one self-contained HTML page for one or more runs")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run directories to compare")
    p.add_argument("--out", default=None,
                   help="HTML file (default: report.html in the first run directory)")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("evolve", help="run a population generation by generation")
    p.add_argument("config", help="YAML population config")
    p.add_argument("--out", default=None, help="run directory (default runs/<name>-<time>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--workers", type=count_arg, default=None, help="parallel workers")
    p.add_argument("--generations", type=count_arg, default=None,
                   help="override the config's count (with --resume: extend the run)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--plot", metavar="DIR", default=None, help="write shares (and graph) plots")
    p.set_defaults(func=cmd_evolve)
    p = sub.add_parser("tournament", help="a ranked round robin of strategies")
    p.add_argument("config", help="YAML tournament config")
    p.add_argument("--out", default=None, help="run directory (default runs/<name>-<time>)")
    p.set_defaults(func=cmd_tournament)
    p = sub.add_parser("grow", help="grow a knowledge graph from a seed question (open mode)")
    p.add_argument("config", help="YAML graph-growth config")
    p.add_argument("--out", default=None, help="run directory (default runs/<name>-<time>)")
    p.add_argument("--iterations", type=count_arg, default=None, help="override the config's count")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--quiet", action="store_true", help="no per-iteration lines")
    p.set_defaults(func=cmd_grow)
    p = sub.add_parser("society", help="an LLM society: cultural evolution or archetypes")
    p.add_argument("config", help="YAML society config (kind: culture or archetypes)")
    p.add_argument("--out", default=None, help="run directory (default runs/<name>-<time>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--workers", type=count_arg, default=None,
                   help="Ray workers of a society or an archetype run (overrides "
                        "the config's workers)")
    p.set_defaults(func=cmd_society)
    p = sub.add_parser("train", help="train RL agents (SB3 or RLlib), then evaluate them")
    p.add_argument("config", help="YAML training config")
    p.add_argument("--out", default=None, help="run directory (default runs/<name>-<time>)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)
    from agora.experiments.discovery import add_design_constants_parser

    add_design_constants_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:  # a bad flag: argparse prints the usage and one error line; we return its status
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.func(args))
    except BrokenPipeError:  # e.g. `agora list | head`: the reader left, not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes at exit
        return 0
    except (AgoraError, OSError) as exc:
        print(f"agora: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("agora: interrupted; finish with --resume --out RUN_DIR", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
