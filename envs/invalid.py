"""The one invalid-action policy of every API shell: one name, one counter.

Every shell (PettingZoo AEC and Parallel, the Gymnasium view of a game, the design and
graph envs) takes the same three keywords:

* ``on_invalid_action``: ``"raise"`` raises :class:`~agora.envs.errors.IllegalActionError`
  and changes nothing; ``"penalty"`` leaves the state unchanged, pays the offender
  ``invalid_penalty`` and truncates the episode after ``max_invalid_actions`` of them;
* the count is reported as ``info["invalid_actions"]`` (and ``info["invalid_action"]`` is
  ``True`` on a penalised step).

``agora run`` declares the same key in its config (``on_invalid_action: fail |
random_legal``) and counts the events in the ``invalid.<role>`` columns of its records. A
world that declares its own answer to an invalid action
(:meth:`~agora.envs.core.World.invalid_action`, e.g. a graph world's charged no-op) has it
played instead, by the episode loop and, under ``penalty``, by its Gymnasium shell.

Example:
    >>> policy = InvalidPolicy("penalty", invalid_penalty=-2.0, max_invalid_actions=2)
    >>> policy.penalise(), policy.penalise()[1]
    ((-2.0, False, {'invalid_action': True, 'invalid_actions': 1}), True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agora.envs.core import is_int, is_real
from agora.envs.errors import ConfigError

SHELL_POLICIES = ("raise", "penalty")


@dataclass
class InvalidPolicy:
    """A shell's declared policy and its per-episode counter (see the module doc)."""

    on_invalid_action: str = "penalty"
    invalid_penalty: float = -1.0
    max_invalid_actions: int = 100
    count: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.on_invalid_action not in SHELL_POLICIES:
            raise ConfigError(f"on_invalid_action={self.on_invalid_action!r}; use one of "
                              f"{list(SHELL_POLICIES)}")
        if not is_real(self.invalid_penalty):
            raise ConfigError(f"invalid_penalty={self.invalid_penalty!r} is not a finite number")
        if not (is_int(self.max_invalid_actions) and self.max_invalid_actions >= 1):
            raise ConfigError(f"max_invalid_actions={self.max_invalid_actions!r} is not an "
                              "integer >= 1")
        self.invalid_penalty = float(self.invalid_penalty)

    @property
    def raises(self) -> bool:
        """Whether an invalid action raises (rather than being penalised)."""
        return self.on_invalid_action == "raise"

    @property
    def exhausted(self) -> bool:
        """Whether the episode was truncated by the cap."""
        return self.count >= self.max_invalid_actions

    def reset(self) -> None:
        """Start counting a new episode."""
        self.count = 0

    def penalise(self) -> tuple[float, bool, dict[str, Any]]:
        """Count one invalid action: (penalty, truncated by the cap now, info)."""
        self.count += 1
        return (self.invalid_penalty, self.exhausted,
                {"invalid_action": True, "invalid_actions": self.count})

    def info(self) -> dict[str, Any]:
        """The counter for a valid step's ``info``."""
        return {"invalid_actions": self.count}
