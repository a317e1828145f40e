"""Language-model agents: one model interface over litellm, wrappers, and the LLM agent.

Example (offline, with litellm's mock response instead of a provider)::

    >>> from agora.agents.llm import LiteLLMModel, Sampling
    >>> m = LiteLLMModel("openai/gpt-4o-mini", extra={"mock_response": '{"action": "defect"}'})
    >>> m.complete([{"role": "user", "content": "hi"}], Sampling()).text   # doctest: +SKIP
    '{"action": "defect"}'
"""

from agora.agents.llm.agent import LLMAgent
from agora.agents.llm.factory import ModelSpec, build_model
from agora.agents.llm.model import Completion, LanguageModel, LiteLLMModel, ModelError, Sampling
from agora.agents.llm.wrappers import Budgeted, Cached, Limited, Retrying

__all__ = ["Budgeted", "Cached", "Completion", "LLMAgent", "LanguageModel", "Limited",
           "LiteLLMModel", "ModelError", "ModelSpec", "Retrying", "Sampling", "build_model"]
