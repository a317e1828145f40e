"""``agora report``: one self-contained HTML page for one or more run directories.

The page shows each run's config and provenance (versions, commit, seeds, status, failed
episodes with their reasons), its language-model cost and calls, and the plots of its
kind: returns and metrics per cell with intervals, medians and shares with bootstrap
intervals and GLEE's regression on the grid (episode runs), error against budget
(design), F1 against steps (graph tasks), the metric panel over iterations and the degree
distribution with its fits (graph growth), strategy shares and payoffs over generations
(populations), learning curves (training). Several runs of one kind are compared side by
side, aligned on their shared parameters (:mod:`agora.analysis.report.compare`).

Plots are plotly.js figures with plotly.js inlined once in the page (no CDN, no server);
every plot's numbers follow it in a table, which is what remains without scripts.

Example:
    >>> from agora.analysis.report import build_report     # doctest: +SKIP
    >>> build_report(["runs/pd"], "pd.html")                # doctest: +SKIP
    PosixPath('pd.html')
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from agora.analysis.report import compare, episodes, sections
from agora.analysis.report.data import (
    EPISODE_KINDS,
    ReportRun,
    RunKind,
    detect_kind,
    load_report_run,
)
from agora.analysis.report.page import Page, plotly_js
from agora.envs import ConfigError

__all__ = ["ReportRun", "RunKind", "build_report", "detect_kind", "load_report_run",
           "render_report"]


def _unique_labels(runs: Sequence[ReportRun]) -> None:
    """Runs with the same name are told apart by their directory."""
    names = [r.label for r in runs]
    for r in runs:
        if names.count(r.label) > 1:
            r.label = f"{r.label} ({r.root.name})"


def _run_sections(page: Page, run: ReportRun) -> None:
    sections.overview(page, run)
    sections.llm_calls(page, run)
    if run.kind in EPISODE_KINDS:
        episodes.episode_sections(page, run)
    elif run.kind is RunKind.GROWTH:
        sections.growth(page, run)
    elif run.kind is RunKind.POPULATION:
        sections.population(page, run)
    elif run.kind is RunKind.TOURNAMENT:
        sections.tournament(page, run)
    elif run.kind is RunKind.SOCIETY:
        sections.society(page, run)
    elif run.kind is RunKind.ARCHETYPES:
        sections.archetypes(page, run)
    else:
        sections.training(page, run)


def render_report(runs: Sequence[ReportRun]) -> tuple[str, int]:
    """The page's HTML for loaded runs, and how many figures it draws.

    Raises:
        ConfigError: no run, or runs that cannot be compared.
    """
    if not runs:
        raise ConfigError("report: give at least one run directory")
    if len(runs) > 1:
        compare.check_comparable(runs)
        _unique_labels(runs)
    title = (f"agora report: {runs[0].label}" if len(runs) == 1 else
             f"agora report: {len(runs)} {runs[0].kind.value} runs")
    page = Page(title)
    if len(runs) > 1:
        if runs[0].kind in EPISODE_KINDS:
            compare.compare_episodes(page, runs)
        else:
            compare.compare_curves(page, runs)
    for run in runs:
        _run_sections(page, run)
    return page.render(plotly_js()), page.figures


def build_report(run_dirs: Sequence[str | Path], out: str | Path | None = None) -> Path:
    """Write the report of ``run_dirs`` to ``out`` (default: ``report.html`` in the first
    run directory) and return its path.

    Raises:
        ConfigError: a path that is not a run directory, or runs that cannot be compared.
    """
    runs = [load_report_run(d) for d in run_dirs]
    text, _ = render_report(runs)
    path = Path(out) if out is not None else runs[0].root / "report.html"
    if path.is_dir():
        raise ConfigError(f"--out {str(path)!r} is a directory, not an HTML file")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
