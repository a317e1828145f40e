"""The report in a real browser: headless Chromium (Debian's, installed by `.ci/run` when
missing) opens the page from disk, with no network, and draws every plot without a console
error. This test fails, never skips, when the browser is missing."""

from __future__ import annotations

from pathlib import Path

from agora.analysis.report import load_report_run, render_report
from agora.experiments import parse_config, run_experiment

CHROMIUM = "/usr/bin/chromium"


def open_in_chromium(page_path: Path, screenshot: Path,
                     element: str = "body") -> tuple[list[str], int]:
    """Load the page offline; return the console errors and the number of drawn plots,
    and save a screenshot of ``element`` (a CSS selector)."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900},
                                      offline=True)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_path.resolve().as_uri(), wait_until="load")
        page.wait_for_function("document.querySelectorAll('.plot .main-svg').length > 0")
        drawn = page.evaluate("document.querySelectorAll('.plot.js-plotly-plot').length")
        page.locator(element).first.screenshot(path=str(screenshot))
        browser.close()
    return errors, int(drawn)


def test_the_page_renders_in_chromium_without_console_errors(tmp_path: Path):
    cfg = parse_config({"name": "glee-bargaining", "env": "GleeBargaining-v1",
                        "params": {"granularity": 100},
                        "agents": {"player_0": "glee_spe_bargainer",
                                   "player_1": "glee_spe_bargainer"},
                        "sweep": {"params.money": [100.0, 10000.0],
                                  "agents.player_1": ["glee_spe_bargainer", "glee_conceder"]},
                        "episodes": 3, "seed": 0})
    run = run_experiment(cfg, tmp_path / "run", progress=False).run_dir
    text, figures = render_report([load_report_run(run)])
    path = tmp_path / "report.html"
    path.write_text(text, encoding="utf-8")
    assert "<script src" not in text and "<link" not in text  # nothing to fetch
    errors, drawn = open_in_chromium(path, tmp_path / "shot.png", "section#s1")
    assert errors == []
    assert figures >= 3 and drawn == figures
    assert (tmp_path / "shot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
