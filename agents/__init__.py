"""agora.agents: the agent protocol, agent specs and heuristic agents.

Example:
    >>> from agora.agents import make_agent
    >>> agent = make_agent({"name": "tit_for_tat"})
    >>> agent.reset(seed=0, player=0)
"""

import importlib as _importlib
import pkgutil as _pkgutil

from agora.agents.base import (
    Agent,
    AgentEntry,
    AgentSpec,
    Face,
    TextTurn,
    agent_entries,
    make_agent,
    register_agent,
)

__all__ = ["Agent", "AgentEntry", "AgentSpec", "Face", "TextTurn", "agent_entries",
           "make_agent", "register_agent", "heuristics"]

# Every module of this package registers its agents on import (sorted, deterministic), so
# adding a family of agents touches no shared file.
for _info in sorted(_pkgutil.iter_modules(__path__), key=lambda i: i.name):
    if _info.name != "base" and not _info.name.startswith("_"):
        _importlib.import_module(f"{__name__}.{_info.name}")
from agora.agents import heuristics  # noqa: E402
