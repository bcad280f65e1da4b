"""What the MCP tools act on, for one user: the domain services in this process, or a running server.

Both answer with the REST API's JSON shapes (a memory as `GET /api/memories/{id}` returns it, a search result
as `POST /api/memories/search` does), so a tool's output is the same whichever transport serves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import msgspec

from jyntrix_client import AsyncClient, JyntrixError
from jyntrix_client import types as wire
from jyntrix_client.types import TranscriptImportResult
from jyntrix_domain.errors import DomainError
from jyntrix_domain.memories import MemoryService, NewMemory
from jyntrix_domain.model import MemoryFilter, MemoryType
from jyntrix_domain.ports import TokenCounter
from jyntrix_domain.profiles import ProfileService
from jyntrix_domain.transcripts import TranscriptService
from jyntrix_http import wire as to
from jyntrix_http.routes.memories import remembered
from jyntrix_http.routes.transcripts import TranscriptMessageIn, transcript_message

Json = dict[str, Any]

FACT_TYPES = frozenset({MemoryType.PROFILE, MemoryType.SEMANTIC, MemoryType.PROCEDURAL})
FACTS_LIMIT = 200


class BackendError(Exception):
    """A refusal the model should read (not found, invalid, rate limited...), from either backend."""


class MemoryBackend(Protocol):
    """One user's memories, as the MCP tools use them."""

    async def remember(self, content: str, type: MemoryType, entities: Sequence[str], reliability: float) -> Json: ...
    async def search(
        self, query: str, limit: int, types: Sequence[MemoryType] | None, as_of: datetime | None = None
    ) -> list[Json]: ...
    async def forget(self, memory_id: str) -> None: ...
    async def update(self, memory_id: str, changes: Json) -> Json: ...
    async def supersede(self, memory_id: str, content: str, type: MemoryType | None) -> Json: ...
    async def history(self, memory_id: str) -> list[Json]: ...
    async def page(self, types: Sequence[MemoryType] | None, contains: str | None, limit: int, offset: int) -> Json: ...
    async def profile(self) -> Json: ...
    async def facts(self) -> list[Json]: ...
    async def import_transcript(self, messages: list[Json], title: str | None, conversation_id: str | None) -> Json:
        """Messages as the import route takes them (role, content, created_at, name?, id?, metadata?)."""

    def count_tokens(self, text: str) -> int: ...


def _json(value: Any) -> Json:
    """One API object as JSON builtins."""
    found: Json = msgspec.to_builtins(value)
    return found


def _jsons(values: Any) -> list[Json]:
    found: list[Json] = msgspec.to_builtins(values)
    return found


class _Backend:
    """What both backends share: counting tokens, and turning their own refusals into BackendError."""

    refusals: type[Exception] = Exception

    def __init__(self, tokens: TokenCounter) -> None:
        self._tokens = tokens

    def count_tokens(self, text: str) -> int:
        return self._tokens.count(text)

    async def _call(self, call: Any) -> Any:
        try:
            return await call
        except self.refusals as exc:
            raise BackendError(str(exc)) from exc


class ServicesBackend(_Backend):
    """The domain services of this process (the HTTP app's, or the embedded data directory's)."""

    refusals = DomainError

    def __init__(
        self,
        user_id: str,
        memories: MemoryService,
        profiles: ProfileService,
        tokens: TokenCounter,
        transcripts: TranscriptService | None = None,
    ) -> None:
        super().__init__(tokens)
        self._user = user_id
        self._memories = memories
        self._profiles = profiles
        self._transcripts = transcripts

    async def remember(self, content: str, type: MemoryType, entities: Sequence[str], reliability: float) -> Json:
        new = NewMemory(content=content, type=type, entities=tuple(entities), reliability=reliability)
        return _json(remembered(await self._call(self._memories.put(self._user, new))))

    async def search(
        self, query: str, limit: int, types: Sequence[MemoryType] | None, as_of: datetime | None = None
    ) -> list[Json]:
        found = await self._call(
            self._memories.search(self._user, query, limit=limit, types=_types(types), as_of=as_of)
        )
        return [_json(to.search_result(r)) for r in found]

    async def forget(self, memory_id: str) -> None:
        await self._call(self._memories.delete(self._user, memory_id))

    async def update(self, memory_id: str, changes: Json) -> Json:
        return _json(to.to_wire(await self._call(self._memories.update(self._user, memory_id, **changes)), wire.Memory))

    async def supersede(self, memory_id: str, content: str, type: MemoryType | None) -> Json:
        current = await self._call(self._memories.get(self._user, memory_id))
        newer = NewMemory(content=content, type=type or current.type)
        return _json(to.to_wire(await self._call(self._memories.supersede(self._user, memory_id, newer)), wire.Memory))

    async def history(self, memory_id: str) -> list[Json]:
        return _jsons(
            to.to_wire_all(await self._call(self._memories.history(self._user, memory_id)), wire.MemoryChange)
        )

    async def page(self, types: Sequence[MemoryType] | None, contains: str | None, limit: int, offset: int) -> Json:
        filter = MemoryFilter(types=_types(types), contains=contains, limit=limit, offset=offset)
        items = await self._call(self._memories.list(self._user, filter))
        total = await self._call(self._memories.count(self._user, filter))
        return {"items": _jsons(to.to_wire_all(items, wire.Memory)), "total": total, "limit": limit, "offset": offset}

    async def profile(self) -> Json:
        view = await self._profiles.get(self._user)
        profile = view.profile
        return {
            "user_id": self._user,
            "display_name": profile.display_name if profile else None,
            "preferences": dict(profile.preferences) if profile else {},
            "memories": _jsons(to.to_wire_all(view.memories, wire.Memory)),
        }

    async def facts(self) -> list[Json]:
        found = await self._memories.list(self._user, MemoryFilter(types=FACT_TYPES, limit=FACTS_LIMIT))
        return _jsons(to.to_wire_all(found, wire.Memory))

    async def import_transcript(self, messages: list[Json], title: str | None, conversation_id: str | None) -> Json:
        if self._transcripts is None:
            raise BackendError("transcript import is not available here")
        try:
            given = msgspec.convert(messages, list[TranscriptMessageIn])
        except msgspec.ValidationError as exc:
            raise BackendError(f"messages: {exc}") from exc
        domain = [transcript_message(m) for m in given]
        done = self._transcripts.import_transcript(self._user, domain, title=title, conversation_id=conversation_id)
        return _json(to.to_wire(await self._call(done), TranscriptImportResult))


def _types(types: Sequence[MemoryType] | None) -> frozenset[MemoryType] | None:
    return frozenset(types) if types else None


def _wire_types(types: Sequence[MemoryType] | None) -> list[wire.MemoryType] | None:
    return [wire.MemoryType(t) for t in types] if types else None


class ClientBackend(_Backend):
    """A running Jyntrix server, through jyntrix_client; the token decides the user."""

    refusals = JyntrixError

    def __init__(self, client: AsyncClient, tokens: TokenCounter) -> None:
        super().__init__(tokens)
        self._client = client

    async def remember(self, content: str, type: MemoryType, entities: Sequence[str], reliability: float) -> Json:
        made = self._client.remember(content, type=type, entities=list(entities), reliability=reliability)
        return _json(await self._call(made))

    async def search(
        self, query: str, limit: int, types: Sequence[MemoryType] | None, as_of: datetime | None = None
    ) -> list[Json]:
        found = await self._call(self._client.search(query, limit=limit, types=_wire_types(types), as_of=as_of))
        return _jsons(found.results)

    async def forget(self, memory_id: str) -> None:
        await self._call(self._client.forget(memory_id))

    async def update(self, memory_id: str, changes: Json) -> Json:
        return _json(await self._call(self._client.update_memory(memory_id, **changes)))

    async def supersede(self, memory_id: str, content: str, type: MemoryType | None) -> Json:
        if type is None:
            type = (await self._call(self._client.get_memory(memory_id))).type
        return _json(await self._call(self._client.supersede(memory_id, content, type=type)))

    async def history(self, memory_id: str) -> list[Json]:
        return _jsons(await self._call(self._client.history(memory_id)))

    async def page(self, types: Sequence[MemoryType] | None, contains: str | None, limit: int, offset: int) -> Json:
        page = await self._call(
            self._client.list_memories(types=_wire_types(types), contains=contains, limit=limit, offset=offset)
        )
        return _json(page)

    async def profile(self) -> Json:
        view = _json(await self._call(self._client.profile()))
        view.pop("updated_at", None)
        return view

    async def facts(self) -> list[Json]:
        page = await self._call(self._client.list_memories(types=_wire_types(sorted(FACT_TYPES)), limit=FACTS_LIMIT))
        return _jsons(page.items)

    async def import_transcript(self, messages: list[Json], title: str | None, conversation_id: str | None) -> Json:
        done = self._client.import_transcript(messages, title=title, conversation_id=conversation_id)
        return _json(await self._call(done))
