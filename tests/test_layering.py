"""The layering rules: game cores import no API shell; envs <- agents <- experiments and
envs <- analysis <- experiments, with no cycle between the subpackages."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

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


LAYERS = {"envs": set(), "agents": {"envs"}, "analysis": {"envs"},
          "experiments": {"envs", "agents", "analysis"}}
"""The sibling subpackages each subpackage may import (analysis reads stored records, so
it needs no experiments; experiments' CLI shows runs with analysis)."""


def _module_name(path: Path) -> str:
    """``agents/llm/agent.py`` -> ``agora.agents.llm.agent``."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(("agora", *(parts[:-1] if parts[-1] == "__init__" else parts)))


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The absolute names a ``from ... import`` reaches (relative ones resolved)."""
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, *([node.module] if node.module else [])])
    if node.module is None:  # ``from . import x``: x is a module of the package
        return [f"{base}.{a.name}" for a in node.names]
    return [base]


def _literal_import_module(node: ast.AST) -> str | None:
    """The name in ``importlib.import_module("agora...")`` with a literal string."""
    if (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module"
            and node.args and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)):
        return node.args[0].value
    return None


def _imports_of(source: str, module: str, is_package: bool) -> set[str]:
    """Every module ``source`` imports, at any level (inside functions too): ``import``,
    ``from`` (relative ones resolved) and ``import_module`` with a literal name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.update(_absolute(node, module, is_package))
        elif (name := _literal_import_module(node)) is not None:
            found.add(name)
    return found


def _subpackage(name: str) -> str | None:
    """``agents`` for ``agora.agents.llm.model``; None outside the four subpackages."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "agora" and parts[1] in LAYERS else None


def _cross_imports() -> list[tuple[str, str, str, str]]:
    """(module, imported name, its subpackage, the imported subpackage) for every import
    from one subpackage into another."""
    rows = []
    for folder in LAYERS:
        files = sorted((ROOT / folder).rglob("*.py"))
        assert len(files) > 3, f"no modules found under {folder}/"
        for path in files:
            module = _module_name(path)
            for name in sorted(_imports_of(path.read_text(), module,
                                           path.name == "__init__.py")):
                target = _subpackage(name)
                if target is not None and target != folder:
                    rows.append((module, name, folder, target))
    return rows


def test_subpackages_import_only_the_layers_below():
    bad = [(mod, name) for mod, name, src, dst in _cross_imports() if dst not in LAYERS[src]]
    assert not bad, "imports against the layering:\n" + "\n".join(
        f"  {mod} imports {name}" for mod, name in bad)


def test_no_import_cycle_between_subpackages():
    graph = nx.DiGraph((src, dst) for _, _, src, dst in _cross_imports())
    cycles = sorted(sorted(c) for c in nx.simple_cycles(graph))
    assert not cycles, f"import cycles between subpackages: {cycles}"


def test_the_scanner_sees_every_form_of_import():
    source = ("import agora.agents.base\n"
              "from agora.envs import errors\n"
              "from . import model\n"
              "from ...experiments.store import RunStore\n"
              "def late():\n"
              "    import importlib\n"
              "    from agora.analysis.runs import load_run\n"
              "    return importlib.import_module('agora.analysis.graphs')\n")
    found = _imports_of(source, "agora.agents.llm.probe", is_package=False)
    assert found == {"agora.agents.base", "agora.envs", "agora.agents.llm.model",
                     "agora.experiments.store", "importlib", "agora.analysis.runs",
                     "agora.analysis.graphs"}
    assert _imports_of("from .model import X\n", "agora.agents.llm", is_package=True) == {
        "agora.agents.llm.model"}


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
