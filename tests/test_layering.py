"""The layering rules: game cores import no API shell, envs import no agents."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_game_cores_and_text_faces_import_no_api_shell():
    files = sorted((ROOT / "envs" / "games").rglob("*.py"))
    assert len(files) >= 6
    for path in files:
        bad = {n for n in _imports(path) if n.split(".")[0] in ("gymnasium", "pettingzoo")}
        bad |= {n for n in _imports(path) if n.startswith("agora.envs.registry")}
        assert not bad, f"{path.name} imports {bad}"


def test_dependencies_point_one_way():
    for folder, forbidden in (("envs", ("agora.agents", "agora.experiments", "agora.analysis")),
                              ("agents", ("agora.experiments", "agora.analysis"))):
        for path in (ROOT / folder).rglob("*.py"):
            bad = {n for n in _imports(path) if n.startswith(forbidden)}
            assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_every_subpackage_is_listed_for_installation():
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    mapping = {"envs": "agora.envs", "agents": "agora.agents",
               "experiments": "agora.experiments", "analysis": "agora.analysis"}
    found = set()
    for folder, name in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((name, *rel)))
    assert found == listed, f"missing {found - listed}, stale {listed - found}"
