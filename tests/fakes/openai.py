"""A fake OpenAI-compatible chat completions server (POST /v1/chat/completions) on 127.0.0.1.

Answers come from a queue of scripted responses (plain text, tool calls, faults: an HTTP error
with optional Retry-After, or a slow answer); with the queue empty it echoes the last user
message. Every request is recorded.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fakes.server import ThreadedServer

ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", None),
}


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A request the fake answered, with the status it answered."""

    path: str
    body: dict[str, Any]
    authorization: str | None
    status: int
    at: float

    @property
    def model(self) -> str | None:
        """Return the requested model."""
        return self.body.get("model")

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Return the request's messages."""
        return list(self.body.get("messages") or [])

    @property
    def tool_names(self) -> list[str]:
        """Return the names of the functions in the request's `tools` field."""
        return [tool["function"]["name"] for tool in self.body.get("tools") or []]


@dataclass(slots=True)
class _Script:
    status: int = 200
    content: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    retry_after: float | None = None
    message: str | None = None
    code: str | None = None
    delay_s: float = 0.0
    # None: answer this way until reset().
    remaining: int | None = 1


def _words(value: Any) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_words(part.get("text", "")) for part in value if isinstance(part, dict))
    return 0


class FakeOpenAI(ThreadedServer):
    """Fake OpenAI chat completions API on 127.0.0.1, run by uvicorn in a background thread."""

    name = "fake-openai"

    def __init__(self, host: str = "127.0.0.1") -> None:
        """Prepare the server; call start() (or use it as a context manager) to serve."""
        self._lock = threading.Lock()
        self._scripts: list[_Script] = []
        self._requests: list[ChatRequest] = []
        super().__init__(FastAPI(), host)
        self.app.add_api_route("/v1/chat/completions", self._completions, methods=["POST"])

    @property
    def base_url(self) -> str:
        """Return the API base URL clients take (…/v1)."""
        return f"{self.url}/v1"

    # ------------------------------------------------------------------ scripting

    def reset(self) -> None:
        """Forget scripted responses and recorded requests."""
        with self._lock:
            self._scripts.clear()
            self._requests.clear()

    def _push(self, script: _Script) -> None:
        with self._lock:
            self._scripts.append(script)

    def reply(
        self,
        content: str,
        *,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        times: int | None = 1,
    ) -> None:
        """Queue a plain answer (token counts default to word counts)."""
        self._push(
            _Script(
                content=content,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                remaining=times,
            )
        )

    def tool_call(
        self,
        name: str,
        arguments: dict[str, Any],
        *,
        call_id: str | None = None,
        content: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        times: int | None = 1,
    ) -> str:
        """Queue an answer that calls function `name`; return the tool call id."""
        call_id = call_id or f"call_{uuid.uuid4().hex[:24]}"
        call = {
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)},
        }
        self._push(
            _Script(
                content=content,
                tool_calls=[call],
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                remaining=times,
            )
        )
        return call_id

    def fail(
        self,
        status: int,
        *,
        retry_after: float | None = None,
        message: str | None = None,
        code: str | None = None,
        times: int | None = 1,
    ) -> None:
        """Queue an HTTP error (times=None: until reset); `code` replaces the body's code."""
        self._push(
            _Script(
                status=status,
                retry_after=retry_after,
                message=message,
                code=code,
                remaining=times,
            )
        )

    def slow(
        self, delay_s: float, content: str = "sorry I am late", *, times: int | None = 1
    ) -> None:
        """Queue an answer sent only after `delay_s` seconds (or never, if the client leaves)."""
        self._push(_Script(content=content, delay_s=delay_s, remaining=times))

    @property
    def requests(self) -> list[ChatRequest]:
        """Return a snapshot of the requests answered, oldest first."""
        with self._lock:
            return list(self._requests)

    # ------------------------------------------------------------------- handler

    def _next_script(self) -> _Script | None:
        with self._lock:
            if not self._scripts:
                return None
            script = self._scripts[0]
            if script.remaining is not None:
                script.remaining -= 1
                if script.remaining <= 0:
                    self._scripts.pop(0)
            return script

    def _record(self, request: Request, body: dict[str, Any], status: int) -> None:
        record = ChatRequest(
            request.url.path, body, request.headers.get("authorization"), status, time.time()
        )
        with self._lock:
            self._requests.append(record)

    async def _completions(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except json.JSONDecodeError:
            body = None
        if not isinstance(body, dict) or not body.get("model") or not body.get("messages"):
            self._record(request, body if isinstance(body, dict) else {}, 400)
            return self._error(400, "model and messages are required")
        if body.get("stream"):
            self._record(request, body, 400)
            return self._error(400, "this fake does not stream")
        script = self._next_script() or _Script(content=self._echo(body))
        if script.delay_s:
            deadline = time.monotonic() + script.delay_s
            while time.monotonic() < deadline:
                if await request.is_disconnected():
                    self._record(request, body, 499)
                    return Response(status_code=499)
                await asyncio.sleep(0.02)
        self._record(request, body, script.status)
        if script.status != 200:
            return self._error(script.status, script.message, script.retry_after, script.code)
        return JSONResponse(self._completion(body, script))

    @staticmethod
    def _echo(body: dict[str, Any]) -> str:
        users = [m for m in body["messages"] if m.get("role") == "user"]
        last = users[-1].get("content", "") if users else ""
        return f"echo: {last if isinstance(last, str) else json.dumps(last)}"

    @staticmethod
    def _completion(body: dict[str, Any], script: _Script) -> dict[str, Any]:
        prompt = script.prompt_tokens
        if prompt is None:
            prompt = max(1, sum(_words(m.get("content")) for m in body["messages"]))
        completion = script.completion_tokens
        if completion is None:
            arguments = " ".join(c["function"]["arguments"] for c in script.tool_calls)
            completion = max(1, _words(script.content or "") + _words(arguments))
        message: dict[str, Any] = {"role": "assistant", "content": script.content}
        if script.tool_calls:
            message["tool_calls"] = script.tool_calls
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": "tool_calls" if script.tool_calls else "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }

    @staticmethod
    def _error(
        status: int,
        message: str | None,
        retry_after: float | None = None,
        code: str | None = None,
    ) -> Response:
        kind, default_code = ERROR_TYPES.get(
            status, ("server_error" if status >= 500 else "error", None)
        )
        headers = {"x-request-id": f"req_{uuid.uuid4().hex[:16]}"}
        if retry_after is not None:
            headers["retry-after"] = f"{retry_after:g}"
        body = {
            "error": {
                "message": message or f"fake error {status}",
                "type": kind,
                "param": None,
                "code": code or default_code,
            }
        }
        return JSONResponse(body, status_code=status, headers=headers)
