"""A scriptable OpenAI-compatible chat-completions server for tests and benchmarks.

:class:`FakeOpenAI` serves ``POST /v1/chat/completions`` on ``127.0.0.1`` (a free port) from
an aiohttp event loop in a background thread, so it sustains hundreds of concurrent slow
requests. What each request gets is scripted: queued modes are used first (one per request,
in arrival order), then ``default``, or a function of (request index, body) decides.

Modes (a string, or a :class:`Reply` for per-request parameters):

- ``"ok"``: a normal answer with ``content`` and a realistic ``usage``.
- ``"slow"``: sleep ``latency`` seconds (or ``Reply.delay``), then ``ok``.
- ``"garbage"``: HTTP 200 whose body is not JSON.
- ``"nochoices"``: HTTP 200 with JSON that has no ``choices``.
- ``"400"``, ``"401"``, ``"403"``, ``"404"``, ``"500"``, ``"502"``, ``"503"``: that status
  with an OpenAI-style error body.
- ``"429"``: rate limited, with a ``Retry-After`` header (``Reply.retry_after`` seconds).
- ``"hang"``: never answers (until the client disconnects or the server closes).
- ``"truncated"``: HTTP 200, JSON content type, the body of an ``ok`` answer cut in half.
- ``"emptychoices"``: HTTP 200 with ``"choices": []``.
- ``"nullcontent"``: HTTP 200 whose message content is ``null`` (as for a refusal).
- ``"html"``: HTTP 200 with ``Content-Type: text/html`` and a web page (a proxy's login page).
- ``"errorbody"``: HTTP 200 whose JSON body is an OpenAI-style ``error`` object.
- ``"trickle"``: an ``ok`` body sent a few bytes at a time over ``latency`` seconds.
- ``"reset"``: the connection is closed without any answer.

The server records every request's JSON body and its headers *without* the ``Authorization``
and ``api-key`` values (only whether one was sent), counts requests and measures how many
were in flight at once. Usage::

    with FakeOpenAI(content='{"action": 1}') as server:
        server.push("500", "429", "ok")
        LiteLLMModel("openai/fake", api_base=server.url).complete(...)
        assert server.count == 3
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

SECRET_HEADERS = frozenset({"authorization", "api-key", "x-api-key", "proxy-authorization"})
ERROR_STATUS = {"400": 400, "401": 401, "403": 403, "404": 404, "500": 500, "502": 502, "503": 503,
                "429": 429}
MODES = frozenset({"ok", "slow", "garbage", "nochoices", "hang", "truncated", "emptychoices",
                   "nullcontent", "html", "errorbody", "trickle", "reset", *ERROR_STATUS})


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a mode plus its parameters (``None`` = the server's default)."""

    mode: str = "ok"
    content: str | None = None
    delay: float | None = None
    retry_after: float = 1.0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; use one of {sorted(MODES)}")


Mode = str | Reply
Script = Callable[[int, dict[str, Any]], Mode]


@dataclass(frozen=True)
class Request:
    """What the server saw of one request (never a secret header's value)."""

    index: int
    body: dict[str, Any]
    headers: dict[str, str]
    auth_sent: bool
    mode: str

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages", [])

    def __getitem__(self, key: str) -> Any:  # request["temperature"], request["seed"], ...
        return self.body.get(key)


def _words(text: str) -> int:
    return max(1, len(text.split()))


class FakeOpenAI:
    """The server; a context manager (``with FakeOpenAI() as s``) or ``start()`` / ``close()``.

    Args:
        content: the answer text of ``ok`` replies (a string, or a function of the body).
        default: the mode used when the queue is empty and no ``script`` is set.
        latency: seconds a ``slow`` reply waits (``default="slow"`` makes every reply slow).
        script: a function (request index, body) -> mode; replaces queue and default.
    """

    def __init__(self, content: str | Callable[[dict[str, Any]], str] = '{"action": 0}',
                 default: Mode = "ok", latency: float = 0.2,
                 script: Script | None = None) -> None:
        self.content = content
        self.default = default
        self.latency = latency
        self.script = script
        self.requests: list[Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._queue: deque[Mode] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- scripting and inspection -------------------------------------------------------
    @property
    def url(self) -> str:
        """The ``api_base`` to give litellm."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def push(self, *modes: Mode) -> FakeOpenAI:
        """Queue modes for the next requests, in order."""
        for m in modes:
            if isinstance(m, str) and m not in MODES:
                raise ValueError(f"unknown mode {m!r}; use one of {sorted(MODES)}")
        with self._lock:
            self._queue.extend(modes)
        return self

    def reset(self) -> None:
        """Forget requests, queue and the in-flight maximum."""
        with self._lock:
            self.requests.clear()
            self._queue.clear()
            self.max_in_flight = self.in_flight

    def _next(self, body: dict[str, Any], headers: dict[str, str], auth: bool) -> tuple[
            int, Reply]:
        with self._lock:
            index = len(self.requests)
            if self.script is not None:
                mode = self.script(index, body)
            elif self._queue:
                mode = self._queue.popleft()
            else:
                mode = self.default
            reply = mode if isinstance(mode, Reply) else Reply(mode)
            self.requests.append(Request(index, body, headers, auth, reply.mode))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        return index, reply

    # -- HTTP ---------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"_unparsed": raw[:200].decode("utf-8", "replace")}
        headers = {k: v for k, v in request.headers.items() if k.lower() not in SECRET_HEADERS}
        auth = any(k.lower() in SECRET_HEADERS for k in request.headers)
        index, reply = self._next(body, headers, auth)
        try:
            return await self._respond(index, body, reply, request)
        finally:
            with self._lock:
                self.in_flight -= 1

    async def _wait(self, seconds: float) -> None:
        assert self._closing is not None
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except TimeoutError:
            pass

    async def _respond(self, index: int, body: dict[str, Any], r: Reply,
                       request: web.Request) -> web.StreamResponse:
        odd = await self._odd(index, body, r, request)
        if odd is not None:
            return odd
        if r.mode == "hang":
            await self._wait(3600.0)
            return web.Response(status=503, text="server closing")
        if r.mode == "slow":
            await self._wait(self.latency if r.delay is None else r.delay)
        elif r.delay:
            await self._wait(r.delay)
        if r.mode == "garbage":
            return web.Response(status=200, text="<html>502 upstream says hi</html> not json",
                                content_type="application/json")
        if r.mode == "nochoices":
            return web.json_response({"id": f"chatcmpl-fake-{index}", "object": "chat.completion",
                                      "model": body.get("model", "fake")})
        if r.mode in ERROR_STATUS:
            status = ERROR_STATUS[r.mode]
            headers = {"Retry-After": f"{r.retry_after:g}"} if status == 429 else {}
            return web.json_response({"error": {"message": f"fake error {status}",
                                                "type": "fake_error", "code": status}},
                                     status=status, headers=headers)
        return web.json_response(self._ok(index, body, r))

    async def _odd(self, index: int, body: dict[str, Any], r: Reply, request: web.Request
                   ) -> web.StreamResponse | None:
        """The answers of the less common misbehaviours (None for the other modes)."""
        if r.mode == "truncated":
            text = json.dumps(self._ok(index, body, r))
            return web.Response(status=200, text=text[:len(text) // 2],
                                content_type="application/json")
        if r.mode in ("emptychoices", "nullcontent"):
            answer = self._ok(index, body, r)
            if r.mode == "emptychoices":
                answer["choices"] = []
            else:
                answer["choices"][0]["message"]["content"] = None
            return web.json_response(answer)
        if r.mode == "html":
            return web.Response(status=200, text="<html><body>Please sign in</body></html>",
                                content_type="text/html")
        if r.mode == "errorbody":
            return web.json_response({"error": {"message": "fake error in a 200",
                                                "type": "invalid_request_error",
                                                "code": "invalid_api_key"}})
        if r.mode == "trickle":
            return await self._trickle(request, self._ok(index, body, r),
                                       self.latency if r.delay is None else r.delay)
        if r.mode == "reset":
            transport = request.transport
            if transport is not None:
                transport.abort()
            raise ConnectionResetError("fake reset")
        return None

    async def _trickle(self, request: web.Request, answer: dict[str, Any], seconds: float
                       ) -> web.StreamResponse:
        data = json.dumps(answer).encode()
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        await response.prepare(request)
        chunks = [data[i:i + 16] for i in range(0, len(data), 16)]
        for chunk in chunks:
            await response.write(chunk)
            await self._wait(seconds / len(chunks))
        await response.write_eof()
        return response

    def _ok(self, index: int, body: dict[str, Any], r: Reply) -> dict[str, Any]:
        text = r.content if r.content is not None else (
            self.content(body) if callable(self.content) else self.content)
        prompt = sum(_words(str(m.get("content", ""))) + 4 for m in body.get("messages", []))
        out = _words(text)
        return {
            "id": f"chatcmpl-fake-{index}", "object": "chat.completion",
            "created": int(time.time()), "model": body.get("model", "fake"),
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": out,
                      "total_tokens": prompt + out},
        }

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> FakeOpenAI:
        """Bind a free port and serve in a daemon thread; returns once it accepts."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        self.port = sock.getsockname()[1]
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, args=(sock, ready),
                                        name=f"fake-openai-{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake OpenAI server did not start")
        return self

    def _serve(self, sock: socket.socket, ready: threading.Event) -> None:
        assert self._loop is not None
        loop = self._loop
        asyncio.set_event_loop(loop)
        app = web.Application(client_max_size=16 * 2**20)
        app.router.add_post("/v1/chat/completions", self._handle)
        app.router.add_post("/chat/completions", self._handle)
        self._closing = asyncio.Event()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0,
                                     handler_cancellation=True)  # client gone: stop
        loop.run_until_complete(self._runner.setup())
        loop.run_until_complete(web.SockSite(self._runner, sock, backlog=1024).start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(self._runner.cleanup())
        loop.close()

    def close(self) -> None:
        """Release hanging requests, stop the loop and join the thread."""
        if self._loop is None or self._thread is None:
            return
        loop = self._loop

        def stop() -> None:
            assert self._closing is not None
            self._closing.set()
            loop.call_later(0.05, loop.stop)

        loop.call_soon_threadsafe(stop)
        self._thread.join(10)
        self._loop = self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
