"""A scriptable loopback HTTP server that the fake Gemini and OpenAI-compatible servers build on.

Each request takes the next scripted `Reply` (or a default one computed from the request), so a test
can stage errors, rate limits, slow streams and structured answers, and then inspect what the client sent.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from jyntrix_domain.model import Role
from jyntrix_domain.prompts import ChatTurn, Prompt

_MISSING: Any = object()

# A prompt with instructions, memory context and a dialogue, for tests of the adapters against the fakes.
PROMPT = Prompt(
    system="You are Jyntrix.",
    context_text="[1] User lives in Berlin",
    messages=(
        ChatTurn(role=Role.USER, content="Hi"),
        ChatTurn(role=Role.ASSISTANT, content="Hello!"),
        ChatTurn(role=Role.USER, content="Where do I live?"),
    ),
)


@dataclass
class Reply:
    """One scripted answer: text in pieces, a JSON value, or an HTTP error."""

    pieces: list[str] = field(default_factory=list)
    status: int = 200
    error: str = ""
    value: Any = _MISSING
    delay_s: float = 0.0
    # The server waits for this event before sending the last piece, so a test can observe that
    # the first pieces reached the client while the stream is still open.
    hold_last: threading.Event | None = None
    retry_after: str | None = None
    input_tokens: int = 7
    drop_after: int | None = None  # close the connection after this many pieces, mid-stream

    @classmethod
    def text(cls, text: str, **kwargs: Any) -> Reply:
        return cls(pieces=split_pieces(text), **kwargs)

    @classmethod
    def json(cls, value: Any) -> Reply:
        return cls(value=value)

    @classmethod
    def fail(cls, status: int, message: str = "scripted failure", retry_after: str | None = None) -> Reply:
        return cls(status=status, error=message, retry_after=retry_after)

    @property
    def full_text(self) -> str:
        if self.value is not _MISSING:
            return json.dumps(self.value)
        return "".join(self.pieces)


def ended(reply: Reply, stops: list[str]) -> Reply:
    """The text reply cut before the first of `stops` it contains, as a model stops generating there."""
    text = reply.full_text
    ends = [i for i in (text.find(stop) for stop in stops) if i >= 0]
    if reply.value is not _MISSING or not ends:
        return reply
    kept: list[str] = []
    left = min(ends)
    for piece in reply.pieces:
        if left <= 0:
            break
        kept.append(piece[:left])
        left -= len(piece)
    return dataclasses.replace(reply, pieces=kept or [""])


def split_pieces(text: str) -> list[str]:
    """Word-sized pieces whose concatenation is `text`, like a model's token stream."""
    pieces: list[str] = []
    for word in text.split(" "):
        pieces.append(word if not pieces else " " + word)
    return [p for p in pieces if p] or [text]


def example_of(schema: dict[str, Any]) -> Any:
    """The smallest JSON value that follows a (simple) JSON schema: what a fake model answers by default."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        props: dict[str, Any] = schema.get("properties", {})
        return {name: example_of(props[name]) for name in schema.get("required", list(props))}
    return {"array": [], "string": "", "integer": 0, "number": 0.0, "boolean": False}.get(str(kind))


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


class FakeLLMServer:
    """Base: owns the thread, the script and the record; subclasses speak one API's JSON."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.pieces_sent = 0
        self._script: collections.deque[Reply] = collections.deque()
        self._lock = threading.Lock()
        self._gates: list[threading.Event] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                owner._handle(self)

            def do_GET(self) -> None:
                owner._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name=type(self).__name__, daemon=True
        )

    # -- lifecycle

    def start(self) -> Self:
        self._thread.start()
        return self

    def close(self) -> None:
        for gate in self._gates:
            gate.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- scripting

    def script(self, *replies: Reply) -> None:
        with self._lock:
            for reply in replies:
                if reply.hold_last is not None:
                    self._gates.append(reply.hold_last)
                self._script.append(reply)

    def _next_reply(self, request: Recorded) -> Reply:
        with self._lock:
            if self._script:
                return self._script.popleft()
        return self.default_reply(request)

    def default_reply(self, request: Recorded) -> Reply:
        raise NotImplementedError

    # -- HTTP

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        request = Recorded(
            method=handler.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
        )
        with self._lock:
            self.requests.append(request)
        route = self.route(request)
        if route is None:
            self._send_json(handler, 404, self.error_body(404, f"no route for {request.method} {request.path}"))
            return
        reply = ended(self._next_reply(request), self.stop_sequences(request))
        if reply.status != 200:
            headers = {"Retry-After": reply.retry_after} if reply.retry_after else {}
            self._send_json(handler, reply.status, self.error_body(reply.status, reply.error), headers)
            return
        if route == "stream":
            self._send_stream(handler, reply, request)
        else:
            self._send_json(handler, 200, self.complete_body(reply, request))

    def route(self, request: Recorded) -> str | None:
        """'stream', 'complete' or None (404)."""
        raise NotImplementedError

    def stop_sequences(self, request: Recorded) -> list[str]:
        """The stop sequences the request asks for, in the API's own field: the answer ends before the first."""
        raise NotImplementedError

    def error_body(self, status: int, message: str) -> Any:
        raise NotImplementedError

    def complete_body(self, reply: Reply, request: Recorded) -> Any:
        raise NotImplementedError

    def stream_events(self, reply: Reply, request: Recorded) -> Iterator[bytes]:
        """SSE events, one per piece, then possibly a terminating `data: [DONE]`."""
        raise NotImplementedError

    @staticmethod
    def _send_json(
        handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()

    def _send_stream(self, handler: BaseHTTPRequestHandler, reply: Reply, request: Recorded) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        events = list(self.stream_events(reply, request))
        total = sum(1 for e in events if not e.startswith(b"data: [DONE]"))
        sent = 0
        try:
            for event in events:
                if reply.drop_after is not None and sent >= reply.drop_after:
                    # a broken connection mid-stream: no terminating chunk
                    handler.close_connection = True
                    return
                if sent == total - 1 and reply.hold_last is not None:
                    reply.hold_last.wait(timeout=30)
                if sent > 0 and reply.delay_s:
                    time.sleep(reply.delay_s)
                _write_chunk(handler, event)
                if not event.startswith(b"data: [DONE]"):
                    sent += 1
                    with self._lock:
                        self.pieces_sent += 1
            _write_chunk(handler, b"")
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True


def _write_chunk(handler: BaseHTTPRequestHandler, payload: bytes) -> None:
    handler.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
    handler.wfile.flush()


def sse(data: Any) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    return f"data: {text}\r\n\r\n".encode()


ReplyFactory = Callable[[Recorded], Reply]
