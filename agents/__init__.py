"""agora.agents: the agent protocol, agent specs and heuristic agents.

Example:
    >>> from agora.agents import make_agent
    >>> agent = make_agent({"name": "tit_for_tat"})
    >>> agent.reset(seed=0, player=0)
"""

from agora.agents import heuristics as heuristics  # registers the heuristics
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
