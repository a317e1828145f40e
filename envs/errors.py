"""Typed errors shared by every layer of agora.

Each error is also a builtin exception subclass (``ValueError``, ``KeyError``) so that
callers who do not know agora still catch them with ordinary ``except`` clauses.
"""

from __future__ import annotations


class AgoraError(Exception):
    """Base class of every error agora raises on purpose.

    ``fatal`` errors are ones every further episode would hit too (a provider rejecting
    the key or the model): an episode failing with one stops the run.
    """

    fatal: bool = False


class RunAbortedError(AgoraError, RuntimeError):
    """A run stopped early on a fatal error; what ran is written and ``--resume``
    finishes the run once the cause is fixed."""


class ConfigError(AgoraError, ValueError):
    """A parameter, config key or spec is invalid. The message names the key and value."""


class RenderModeError(ConfigError, TypeError):
    """A render mode the env does not draw. Also a ``TypeError``: Stable-Baselines3's
    ``make_vec_env`` asks for ``render_mode="rgb_array"`` and, on a ``TypeError``, makes the
    env again without it."""


class UnknownIdError(AgoraError, KeyError):
    """An environment or agent id is not registered."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain.
        return str(self.args[0]) if self.args else ""


class IllegalActionError(AgoraError, ValueError):
    """An action is not legal for this player in this state."""


class ActionParseError(AgoraError, ValueError):
    """Text could not be turned into an action. ``reason`` says why, for a re-ask."""

    def __init__(self, reason: str, text: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.text = text


class GameOverError(AgoraError, RuntimeError):
    """``step`` was called on a finished game."""
