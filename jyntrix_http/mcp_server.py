"""The Jyntrix MCP server (official `mcp` SDK): memory tools, the profile and facts as resources, a prompt.

The same server runs over stdio (`jyntrix mcp`) and over streamable HTTP at /mcp; `backend_for` says, for
each request, whose memories it acts on. Arguments are validated from their annotations by the SDK, and a
refusal (not found, invalid, rate limited) is a tool error with its reason: the session goes on.
"""

# No `from __future__ import annotations`: the SDK reads these signatures (pydantic) to build each tool's schema.

import json
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Annotated, Any, TypeVar

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.prompts.base import Message, UserMessage
from pydantic import AwareDatetime, Field

from jyntrix_domain.memory_rules import MAX_CONTENT_CHARS
from jyntrix_domain.model import MemoryType
from jyntrix_domain.transcripts import MAX_TRANSCRIPT_MESSAGES
from jyntrix_http.mcp_backends import BackendError, Json, MemoryBackend

T = TypeVar("T")
BackendFor = Callable[[], Awaitable[MemoryBackend]]

# The transport's request object (the HTTP request on /mcp) of the message being handled.
CURRENT_REQUEST: ContextVar[Any] = ContextVar("jyntrix_mcp_request", default=None)


async def _keep_request(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Middleware: every handler (tools, resources, prompts) can see the request it answers."""
    token = CURRENT_REQUEST.set(ctx.request)
    try:
        return await call_next(ctx)
    finally:
        CURRENT_REQUEST.reset(token)


INSTRUCTIONS = (
    "Jyntrix is the user's long-term memory. Before answering anything that may depend on the user (their "
    "people, places, plans, preferences, past conversations), call `recall`. When the user tells you a durable "
    "fact about themselves, call `remember`. When a remembered fact has changed, call `supersede` on the old "
    "one. Call `forget` only when the user asks you to forget something."
)

MemoryId = Annotated[str, Field(min_length=1, max_length=100, description="a memory's id, from recall or list")]
Content = Annotated[str, Field(min_length=1, max_length=MAX_CONTENT_CHARS)]
Reliability = Annotated[float, Field(ge=0.0, le=1.0)]
Entities = Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=50)]

DEFAULT_TOKEN_BUDGET = 800
CONTEXT_HEADER = "What I remember about the user (most relevant first):"


def context_block(results: list[Json], budget: int, count_tokens: Callable[[str], int]) -> tuple[str, int, list[str]]:
    """The results as numbered lines, best first, that fit in `budget` tokens; with the tokens used and ids."""
    lines = [CONTEXT_HEADER]
    used = count_tokens(CONTEXT_HEADER)
    ids: list[str] = []
    for result in results:
        memory = result["memory"]
        earlier = "" if result["current"] else f", earlier, until {result['valid_until'][:10]}"
        line = f"[{len(ids) + 1}] ({memory['type']}{earlier}) {memory['content']}"
        tokens = count_tokens(line)
        if used + tokens > budget:
            break
        lines.append(line)
        used += tokens
        ids.append(memory["id"])
    if not ids:
        return "", 0, []
    return "\n".join(lines), used, ids


def _compact(result: Json) -> Json:
    memory = result["memory"]
    return {
        "id": memory["id"],
        "type": memory["type"],
        "content": memory["content"],
        "created_at": memory["created_at"],
        "score": round(result["score"], 4),
        "current": result["current"],
        "valid_until": result["valid_until"],
        "match_types": result["match_types"],
        "signals": {k: round(v, 4) for k, v in result["scores"]["signals"].items()},
        "contributions": {k: round(v, 4) for k, v in result["scores"]["contributions"].items()},
    }


def build_mcp_server(backend_for: BackendFor, *, version: str = "", lifespan: Any = None) -> MCPServer:
    """The MCP server; `backend_for()` gives the memories of the user behind the request being handled."""
    server: MCPServer = MCPServer(
        name="jyntrix",
        instructions=INSTRUCTIONS,
        version=version,
        log_level="WARNING",
        middleware=[_keep_request],
        lifespan=lifespan,
    )

    async def run(action: Callable[[MemoryBackend], Awaitable[T]]) -> T:
        backend = await backend_for()
        try:
            return await action(backend)
        except BackendError as exc:
            raise ToolError(str(exc)) from exc

    @server.tool()
    async def remember(
        content: Content,
        type: Annotated[
            MemoryType,
            Field(
                description="semantic: a fact; profile: who the user is; procedural: how they like things done; "
                "episodic: an event"
            ),
        ] = MemoryType.SEMANTIC,
        entities: Entities | None = None,
        reliability: Reliability = 0.8,
    ) -> Json:
        """Store one durable thing the user said about themselves or their world, in their words.

        Use it when the user states a fact, preference or plan worth keeping; one fact per call.
        """
        return await run(lambda b: b.remember(content, type, entities or [], reliability))

    @server.tool()
    async def recall(
        query: Annotated[str, Field(min_length=1, max_length=4000, description="what to look for, in plain words")],
        limit: Annotated[int, Field(ge=1, le=50)] = 10,
        token_budget: Annotated[int, Field(ge=50, le=5000, description="size of the context block")] = (
            DEFAULT_TOKEN_BUDGET
        ),
        types: list[MemoryType] | None = None,
        as_of: Annotated[
            AwareDatetime | None, Field(description="search the memory as it stood at this time (default: now)")
        ] = None,
    ) -> Json:
        """Search the user's memories (keyword, vector, graph and recency, combined). Call it before answering
        anything about the user. Returns each match with its per-signal scores and whether it is still
        `current` (one that ended is history, with `valid_until`), and `context`: the best matches as numbered
        lines within `token_budget` tokens, ready to ground an answer."""

        async def act(backend: MemoryBackend) -> Json:
            found = await backend.search(query, limit, types, as_of)
            block, tokens, ids = context_block(found, token_budget, backend.count_tokens)
            return {
                "query": query,
                "results": [_compact(r) for r in found],
                "context": block,
                "context_tokens": tokens,
                "context_ids": ids,
            }

        return await run(act)

    @server.tool()
    async def forget(memory_id: MemoryId) -> Json:
        """Delete one memory by id, when the user asks you to forget it. It deletes exactly one memory."""

        async def act(backend: MemoryBackend) -> Json:
            await backend.forget(memory_id)
            return {"forgotten": memory_id}

        return await run(act)

    @server.tool()
    async def update(
        memory_id: MemoryId,
        content: Content | None = None,
        type: MemoryType | None = None,
        reliability: Reliability | None = None,
        entities: Entities | None = None,
    ) -> Json:
        """Correct a memory in place (a typo, a better wording, its type). For a fact that changed over time,
        use `supersede` instead, so that the old one stays in history."""
        changes = {
            k: v
            for k, v in {"content": content, "type": type, "reliability": reliability, "entities": entities}.items()
            if v is not None
        }
        if not changes:
            raise ToolError("nothing to change: give content, type, reliability or entities")
        return await run(lambda b: b.update(memory_id, changes))

    @server.tool()
    async def supersede(memory_id: MemoryId, content: Content, type: MemoryType | None = None) -> Json:
        """Replace a fact that is no longer true with the new one (the user moved, changed jobs...). The old
        memory is kept, closed, in its history; returns the new memory."""
        return await run(lambda b: b.supersede(memory_id, content, type))

    @server.tool()
    async def history(memory_id: MemoryId) -> Json:
        """Every change to one memory, oldest first: when it was created, edited, superseded."""

        async def act(backend: MemoryBackend) -> Json:
            return {"memory_id": memory_id, "changes": await backend.history(memory_id)}

        return await run(act)

    @server.tool()
    async def list_memories(
        types: list[MemoryType] | None = None,
        contains: Annotated[str | None, Field(max_length=200, description="text the memory contains")] = None,
        limit: Annotated[int, Field(ge=1, le=200)] = 50,
        offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0,
    ) -> Json:
        """Browse the user's current memories, newest first, a page at a time (`total` says how many)."""
        return await run(lambda b: b.page(types, contains, limit, offset))

    @server.tool()
    async def import_transcript(
        messages: Annotated[
            list[dict[str, Any]],
            Field(
                min_length=1,
                max_length=MAX_TRANSCRIPT_MESSAGES,
                description='each {"role": "user" | "assistant", "content": ..., "created_at": ISO 8601 with a '
                'timezone, "name"?: the speaker, "id"?: a stable id of your own}',
            ),
        ],
        title: Annotated[str, Field(max_length=200)] | None = None,
        conversation_id: Annotated[str, Field(min_length=1, max_length=100)] | None = None,
    ) -> Json:
        """Bring in history the user had elsewhere (a chat log, another assistant's transcript), in order.

        Every user message is remembered as said, with its own time; facts are extracted in the background.
        Importing the same messages again adds nothing; `conversation_id` appends to an earlier import.
        """
        return await run(lambda b: b.import_transcript(messages, title, conversation_id))

    @server.resource("jyntrix://profile", name="profile", mime_type="application/json")
    async def profile() -> str:
        """The user's profile: display name, preferences and profile memories."""
        return json.dumps(await run(lambda b: b.profile()))

    @server.resource("jyntrix://facts", name="facts", mime_type="application/json")
    async def facts() -> str:
        """The user's current facts (profile, semantic and procedural memories), newest first."""
        return json.dumps(await run(lambda b: b.facts()))

    @server.prompt(name="use_my_memory", title="Use my memory")
    def use_my_memory(topic: str = "") -> list[Message]:
        """Answer with the user's long-term memory: recall first, remember what is new."""
        about = f" The conversation is about: {topic}." if topic else ""
        return [UserMessage(INSTRUCTIONS + about + " Cite the memories you use by their [number].")]

    return server
