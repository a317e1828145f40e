"""The embedded model served over HTTP: llama.cpp's OpenAI-compatible server, as a stand-in
for a model served on GPUs.

A population reaches a GPU-served model (vLLM, llama.cpp's ``llama-server``) through
``model: {model: openai/NAME, api_base: http://HOST:PORT/v1, structured: always}``. This
module serves the embedded Gemma 3 270M the same way on a CPU, so that path runs (and is
tested) without a GPU::

    python -m agora.agents.llm.serve --port 8000 --n_threads 2   # llama_cpp.server's flags

or, from Python, ``with LocalServer() as server: ... server.url ...``.

It is ``llama_cpp.server`` (llama-cpp-python's server, the ``local`` extra) with three
settings that make the served model answer as the in-process provider ``local/gemma-3-270m``
does (:mod:`agora.agents.llm_local`), so the two can be compared call for call:

* chat format ``agora-plain``: the messages rendered by
  :func:`~agora.agents.llm_local.format_prompt` (plain text turns), not Gemma's template;
* a request without ``top_p`` / ``repeat_penalty`` gets the provider's 1.0 (the server's
  own defaults are 0.95 and 1.1; a repeat penalty changes even greedy answers);
* OpenAI's ``response_format: {"type": "json_schema", ...}`` (what agora sends with
  ``structured: always``, and what vLLM and ``llama-server`` take) is passed on in the form
  this server takes (``{"type": "json_object", "schema": ...}``), which it turns into the
  same grammar.

This server runs one request at a time (one model, one lock): its only throughput knob is
``--n_threads``. GPU servers batch concurrent requests (vLLM always; ``llama-server
--parallel N``), which is where ``llm_concurrency`` pays.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from types import TracebackType
from typing import Any

from agora.agents.llm_local import (
    MODEL_NAME,
    N_CTX,
    LocalModelUnavailableError,
    format_prompt,
    model_path,
)

CHAT_FORMAT = "agora-plain"
SERVER_PACKAGES = {"fastapi": "fastapi", "uvicorn": "uvicorn", "sse_starlette": "sse-starlette",
                   "starlette_context": "starlette-context",
                   "pydantic_settings": "pydantic-settings"}
"""Modules ``llama_cpp.server`` imports (the ``local`` extra installs them), by PyPI name."""
PROVIDER_DEFAULTS = {"top_p": 1.0, "repeat_penalty": 1.0}
"""Sampling values the in-process provider uses when a request leaves them out."""

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def require_server_packages() -> None:
    """Raise a clear error when the server's packages are missing.

    Raises:
        LocalModelUnavailableError: naming the missing packages and the install command.
    """
    missing = [pip for mod, pip in {"llama_cpp": "llama-cpp-python", **SERVER_PACKAGES}.items()
               if importlib.util.find_spec(mod) is None]
    if missing:
        raise LocalModelUnavailableError(
            f"serving {MODEL_NAME} over HTTP needs {', '.join(missing)}, not installed. "
            'Install the local extra: python -m pip install "agora-sim[local]"')


def as_server_request(body: dict[str, Any]) -> dict[str, Any]:
    """A chat request as this server should take it (see the module docstring).

    Example:
        >>> as_server_request({"temperature": 0, "response_format": {"type": "json_schema",
        ...     "json_schema": {"name": "a", "schema": {"type": "object"}}}})
        {'temperature': 0, 'response_format': {'type': 'json_object', 'schema': {'type': \
'object'}}, 'top_p': 1.0, 'repeat_penalty': 1.0}
    """
    out = {**body, **{k: v for k, v in PROVIDER_DEFAULTS.items() if k not in body}}
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema") or {}
        out["response_format"] = {"type": "json_object", "schema": spec.get("schema", {})}
    return out


class ProviderRequests:
    """ASGI middleware: every JSON POST body goes through :func:`as_server_request`."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        try:
            body = json.dumps(as_server_request(json.loads(b"".join(chunks)))).encode()
        except (ValueError, TypeError, AttributeError):  # not a JSON object: let the app say
            body = b"".join(chunks)
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        delivered = False

        async def replay() -> MutableMapping[str, Any]:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def register_chat_format() -> None:
    """Register the ``agora-plain`` chat format with llama-cpp-python (idempotent)."""
    from llama_cpp.llama_chat_format import ChatFormatterResponse, register_chat_format

    @register_chat_format(CHAT_FORMAT)  # type: ignore[untyped-decorator]
    def plain(messages: Sequence[dict[str, Any]], **_: Any) -> Any:
        return ChatFormatterResponse(prompt=format_prompt(messages))


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m llama_cpp.server`` with the settings above (same flags; ``--model``
    defaults to the embedded model's file, ``--chat_format`` to ``agora-plain``)."""
    import argparse

    import uvicorn
    from llama_cpp.server.app import create_app
    from llama_cpp.server.cli import add_args_from_model, parse_model_from_args
    from llama_cpp.server.settings import ModelSettings, ServerSettings, Settings

    require_server_packages()
    register_chat_format()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_args_from_model(parser, Settings)
    args = list(sys.argv[1:] if argv is None else argv)
    defaults = {"--model": model_path(), "--chat_format": CHAT_FORMAT,
                "--model_alias": MODEL_NAME, "--n_ctx": str(N_CTX),
                "--verbose": "False"}
    for flag, value in defaults.items():
        if flag not in args:
            args += [flag, value]
    ns = parser.parse_args(args)
    server = parse_model_from_args(ServerSettings, ns)
    app = create_app(server_settings=server, model_settings=[parse_model_from_args(
        ModelSettings, ns)])
    uvicorn.run(ProviderRequests(app), host=server.host, port=server.port, log_level="warning")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalServer:
    """The embedded model served by a child process (a context manager).

    Args:
        n_threads: llama.cpp threads of the server (generation and prompt).
        startup_s: seconds to wait for the server to answer.
        extra: further ``llama_cpp.server`` flags (``["--n_batch", "256"]``).

    Example:
        >>> LocalServer(n_threads=2).model
        'openai/gemma-3-270m'
    """

    def __init__(self, n_threads: int = 1, startup_s: float = 180.0,
                 extra: Sequence[str] = ()) -> None:
        self.n_threads, self.startup_s, self.extra = n_threads, startup_s, list(extra)
        self.port = 0
        self.model = f"openai/{MODEL_NAME}"
        """The litellm id that names the served model."""
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    @property
    def url(self) -> str:
        """The ``api_base`` to give a model spec."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LocalServer:
        """Start the server and wait until it lists its model.

        Raises:
            LocalModelUnavailableError: a package is missing.
            RuntimeError: the server exited or did not answer in ``startup_s``.
        """
        require_server_packages()
        self.port = free_port()
        threads = str(self.n_threads)
        cmd = [sys.executable, "-m", "agora.agents.llm.serve", "--host", "127.0.0.1",
               "--port", str(self.port), "--n_threads", threads, "--n_threads_batch", threads,
               *self.extra]
        # a file, not a pipe: a pipe nobody reads fills up and blocks the server
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self._proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.startup_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._log.seek(0)
                err = self._log.read().decode(errors="replace")
                raise RuntimeError(f"llama_cpp.server exited ({self._proc.returncode}): "
                                   f"{err[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as r:
                    if MODEL_NAME in r.read().decode():
                        return self
            except OSError:
                time.sleep(0.3)
        self.close()
        raise RuntimeError(f"llama_cpp.server did not answer within {self.startup_s} s")

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


if __name__ == "__main__":
    main()
