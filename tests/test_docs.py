"""Every docstring example in the package runs and shows what it claims."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import agora.agents
import agora.analysis
import agora.envs
import agora.experiments

MODULES = sorted(
    info.name
    for pkg in (agora.envs, agora.agents, agora.experiments, agora.analysis)
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")
) + ["agora.envs", "agora.agents", "agora.experiments", "agora.analysis"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"


def test_the_public_modules_do_carry_examples():
    attempted = sum(
        doctest.testmod(importlib.import_module(n), optionflags=doctest.ELLIPSIS).attempted
        for n in MODULES
    )
    assert attempted >= 30
