"""A scripted OpenAI-compatible model server for Home Assistant tests.

An in-process aiohttp app bound to 127.0.0.1 (the test harness allows no
other host) that serves ``GET /v1/models`` and ``POST /v1/chat/completions``.

Usage (see the ``model_server`` fixture in ``conftest.py``)::

    model_server.script('{"tool_call":{...}}', "Done.")   # answers, in order
    model_server.responder = lambda payload: "..."       # or computed answers
    model_server.fail_status = 500                        # HTTP error on every call
    model_server.fail_on = {"chat"}                       # ...only on chat completions
    model_server.fail_body = b"\xff\xfe"                  # ...with this raw body (not UTF-8)
    model_server.delay = 5                                # slow server (seconds)
    model_server.bad_json = True                          # 200 with a non-JSON body
    model_server.api_key = "secret"                       # require "Bearer secret"
    await model_server.go_down() / await model_server.come_up()  # refuse connections

Every request is recorded in ``model_server.requests`` (``chat_requests`` for
completions only): path, JSON payload and Authorization header.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

DEFAULT_MODEL = "statewise-qwen3-1.7b"


@dataclass
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    json: Any
    authorization: str | None


Answer = str | dict[str, Any] | Callable[[dict[str, Any]], str]


@dataclass
class ModelServer:
    """Scripted OpenAI-compatible server (start with :meth:`start`)."""

    models: list[str] = field(default_factory=lambda: [DEFAULT_MODEL, "other-model"])
    default_answer: str = "I can't help with that."
    responder: Callable[[dict[str, Any]], str] | None = None
    fail_status: int | None = None
    fail_on: set[str] = field(default_factory=lambda: {"models", "chat"})
    fail_body: bytes | None = None
    delay: float = 0.0
    bad_json: bool = False
    api_key: str | None = None
    requests: list[RecordedRequest] = field(default_factory=list)
    _answers: deque[Answer] = field(default_factory=deque)
    _runner: web.AppRunner | None = None
    _waiting: set[asyncio.Task[Any]] = field(default_factory=set)
    _site: web.TCPSite | None = None
    port: int = 0

    @property
    def url(self) -> str:
        """Base URL (no ``/v1``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """Only the chat completion requests."""
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    def script(self, *answers: Answer) -> None:
        """Queue chat answers: assistant text, a whole response body (dict) or a callable."""
        self._answers.extend(answers)

    def reset(self) -> None:
        """Forget answers, recorded requests and failure modes."""
        self._answers.clear()
        self.requests.clear()
        self.responder = None
        self.fail_status = None
        self.fail_on = {"models", "chat"}
        self.fail_body = None
        self.delay = 0.0
        self.bad_json = False

    async def start(self) -> None:
        """Listen on 127.0.0.1 (a free port the first time, the same port afterwards)."""
        app = web.Application()
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/chat/completions", self._chat)
        # A client that gave up (a timeout test) cancels its handler, so no request outlives its test.
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5, handler_cancellation=True)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await self._site.start()
        if not self.port:
            self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop listening, cancel slow answers still waiting, close connections."""
        for task in list(self._waiting):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = self._site = None

    async def go_down(self) -> None:
        """Simulate a server that is down: connections to the port are refused."""
        await self.stop()

    async def come_up(self) -> None:
        """Listen again on the same port."""
        await self.start()

    async def _common(self, request: web.Request, kind: str) -> tuple[web.Response | None, Any]:
        payload = None
        if request.method == "POST":
            try:
                payload = await request.json()
            except ValueError:
                payload = None
        self.requests.append(RecordedRequest(request.method, request.path, payload, request.headers.get("Authorization")))
        if self.delay:
            task = asyncio.current_task()
            assert task is not None
            self._waiting.add(task)
            try:
                await asyncio.sleep(self.delay)
            finally:
                self._waiting.discard(task)
        if self.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"error": {"message": "invalid api key"}}, status=401), payload
        if self.fail_status is not None and kind in self.fail_on:
            if self.fail_body is not None:
                return web.Response(status=self.fail_status, body=self.fail_body, content_type="text/plain"), payload
            return web.json_response({"error": {"message": "scripted failure"}}, status=self.fail_status), payload
        if self.bad_json:
            return web.Response(text="<html>not json</html>", content_type="text/html"), payload
        return None, payload

    async def _models(self, request: web.Request) -> web.Response:
        early, _ = await self._common(request, "models")
        if early is not None:
            return early
        return web.json_response({"object": "list", "data": [{"id": m, "object": "model", "owned_by": "test"} for m in self.models]})

    async def _chat(self, request: web.Request) -> web.Response:
        early, payload = await self._common(request, "chat")
        if early is not None:
            return early
        payload = payload if isinstance(payload, dict) else {}
        answer: Answer
        if self._answers:
            answer = self._answers.popleft()
        elif self.responder is not None:
            answer = self.responder
        else:
            answer = self.default_answer
        if callable(answer):
            answer = answer(payload)
        if isinstance(answer, dict):
            return web.json_response(answer)
        return web.json_response(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "model": payload.get("model") or DEFAULT_MODEL,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }
        )
