"""A typed Python client for the Jyntrix API (httpx + msgspec only), sync and async.

Its wire types (jyntrix_client.types) are the API's shapes: the server returns these very structs.

from jyntrix_client import Client
with Client("http://127.0.0.1:8000", token) as jx:
    jx.remember("My sister Maya lives in Lisbon.")
    for result in jx.search("Where does Maya live?").results:
        print(result.score, result.memory.content)
"""

from jyntrix_client.async_client import AsyncClient
from jyntrix_client.calls import RetryPolicy
from jyntrix_client.client import Client
from jyntrix_client.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    JyntrixError,
    NotFound,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
    Unavailable,
    ValidationFailed,
)
from jyntrix_client.types import (
    ChatEvent,
    ContextEvent,
    ContextItem,
    Conversation,
    ConversationEvent,
    DoneEvent,
    ErrorEvent,
    ForgetResult,
    Memory,
    MemoryExport,
    MemoryIn,
    MemoryKind,
    MemoryType,
    Message,
    ProfileView,
    SearchResponse,
    TokenEvent,
)

__all__ = [
    "AsyncClient",
    "BadRequest",
    "ChatEvent",
    "Client",
    "Conflict",
    "ContextEvent",
    "ContextItem",
    "Conversation",
    "ConversationEvent",
    "DoneEvent",
    "ErrorEvent",
    "Forbidden",
    "ForgetResult",
    "JyntrixError",
    "Memory",
    "MemoryExport",
    "MemoryIn",
    "MemoryKind",
    "MemoryType",
    "Message",
    "NotFound",
    "ProfileView",
    "RateLimited",
    "RetryPolicy",
    "SearchResponse",
    "ServerError",
    "TokenEvent",
    "TransportError",
    "Unauthorized",
    "Unavailable",
    "ValidationFailed",
]
