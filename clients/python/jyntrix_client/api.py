"""The API's methods, declared once for both clients: each is a call of jyntrix_client.calls, which Client
runs and returns and AsyncClient runs and awaits. What the clients hold apart is their I/O alone: how a
call is sent and retried, how a stream is read, how pages are iterated."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, Self, TypeVar, overload

import httpx

from jyntrix_client import calls
from jyntrix_client.calls import Call, RetryPolicy

if TYPE_CHECKING:
    from jyntrix_client.async_client import AsyncClient
    from jyntrix_client.client import Client

P = ParamSpec("P")
T = TypeVar("T")
H = TypeVar("H", httpx.Client, httpx.AsyncClient)

DEFAULT_TIMEOUT = httpx.Timeout(30.0, read=120.0)


class Endpoint(Generic[P, T]):
    """A call builder as a method: the client's `_run` runs what the builder returns (a coroutine on AsyncClient)."""

    def __init__(self, build: Callable[P, Call[T]]) -> None:
        self._build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(self, client: Client, owner: type[Any]) -> Callable[P, T]: ...

    @overload
    def __get__(self, client: AsyncClient, owner: type[Any]) -> Callable[P, Coroutine[Any, Any, T]]: ...

    def __get__(self, client: Any, owner: type[Any]) -> Any:
        if client is None:
            return self
        build, run = self._build, client._run

        @functools.wraps(build)
        def method(*args: P.args, **kwargs: P.kwargs) -> Any:
            return run(build(*args, **kwargs))

        return method


class Api(Generic[H]):
    """What Client and AsyncClient share: their settings and every call that is one request and its answer."""

    # httpx.Client or httpx.AsyncClient: what the client makes when it is given no `http`.
    _http_class: type[H]

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        http: H | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._http: H = http or self._http_class(base_url=base_url, timeout=timeout)
        self._auth = {"Authorization": f"Bearer {token}"} if token else {}

    def _request(self, call: Call[Any]) -> dict[str, Any]:
        """httpx's arguments for `call`."""
        return {
            "method": call.method,
            "url": call.path,
            "params": call.query(),
            "content": call.content(),
            "headers": call.headers(self._auth),
        }

    # ---------------------------------------------------------------- memories

    remember = Endpoint(calls.remember)
    get_memory = Endpoint(calls.get_memory)
    list_memories = Endpoint(calls.list_memories)
    update_memory = Endpoint(calls.update_memory)
    supersede = Endpoint(calls.supersede)
    forget = Endpoint(calls.forget)
    history = Endpoint(calls.history)
    search = Endpoint(calls.search)
    restore = Endpoint(calls.restore)
    profile = Endpoint(calls.profile)
    update_profile = Endpoint(calls.update_profile)
    import_memories = Endpoint(calls.import_memories)
    export = Endpoint(calls.export)
    forget_all = Endpoint(calls.forget_all)

    # ---------------------------------------------------------------- chat

    delete_conversation = Endpoint(calls.delete_conversation)
    import_transcript = Endpoint(calls.import_transcript)
    extraction_status = Endpoint(calls.extraction_status)
    messages = Endpoint(calls.messages)
