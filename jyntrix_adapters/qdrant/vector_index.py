"""VectorIndex on a Qdrant server (``url=``) or qdrant-client's local mode (``location=":memory:"`` or ``path=``).

One collection holds every user's vectors. ``user_id`` is a tenant payload index and every search, delete and
overwrite is filtered by it inside Qdrant, so one user's request never touches another user's points. Local mode
has no payload indexes and brute-forces filters in Python: it is for tests, not for production volumes.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Sequence
from typing import Any

from qdrant_client import AsyncQdrantClient, models
from qdrant_client.http.exceptions import ApiException, UnexpectedResponse

from jyntrix_adapters.qdrant.ids import SCHEME_FIELD, payload, point_id, rekeyed
from jyntrix_adapters.qdrant.points import QdrantPoints
from jyntrix_domain.errors import DomainError, Invalid, Unavailable
from jyntrix_domain.model import MemoryId, UserId, VectorItem

log = logging.getLogger(__name__)
_REKEY_BATCH = 1000

# ApiException covers HTTP errors and failed connections; ValueError is how local mode rejects input.
_DRIVER_ERRORS = (ApiException, ValueError, OSError, TimeoutError)


def _user_is(user_id: UserId) -> models.FieldCondition:
    return models.FieldCondition(key="user_id", match=models.MatchValue(value=user_id))


def _translate(error: Exception) -> DomainError:
    if isinstance(error, DomainError):
        return error
    if isinstance(error, UnexpectedResponse) and error.status_code in (400, 422):
        return Invalid(f"qdrant rejected the request: {error}")
    if isinstance(error, ValueError):
        return Invalid(f"qdrant rejected the request: {error}")
    return Unavailable(f"qdrant is unavailable: {error}")


class QdrantVectorIndex(QdrantPoints):
    """Cosine search in one Qdrant collection, pre-filtered by user (and types) on every query."""

    def __init__(
        self,
        url: str | None = None,
        *,
        location: str | None = None,
        path: str | None = None,
        api_key: str | None = None,
        collection: str = "memories",
        dimension: int = 384,
        timeout_s: int = 10,
    ) -> None:
        if sum(x is not None for x in (url, location, path)) != 1:
            raise Invalid("give exactly one of url, location or path")
        self._local = url is None
        self._collection = collection
        super().__init__(dimension)
        options: dict[str, Any] = {"url": url, "location": location, "path": path, "api_key": api_key}
        if url is not None:
            options["timeout"] = timeout_s
            options["check_compatibility"] = False
        try:
            self._client = AsyncQdrantClient(**{k: v for k, v in options.items() if v is not None})
        except RuntimeError as error:  # local mode: the folder is held by another client
            raise Unavailable(f"qdrant local storage is unavailable: {error}") from error
        self._ready = False
        self._ready_lock = asyncio.Lock()

    async def open(self) -> None:
        """Create the collection and its payload indexes unless they exist (idempotent)."""
        async with self._ready_lock:
            if self._ready:
                return
            try:
                await self._create_collection()
                await self._rekey()
            except _DRIVER_ERRORS as error:
                raise _translate(error) from error
            self._ready = True

    async def _create_collection(self) -> None:
        if await self._client.collection_exists(self._collection):
            info = await self._client.get_collection(self._collection)
            params = info.config.params.vectors
            size = params.size if isinstance(params, models.VectorParams) else None
            if size != self._dimension:
                raise Invalid(f"collection {self._collection!r} holds {size}-d vectors, not {self._dimension}-d")
        else:
            try:
                await self._client.create_collection(
                    self._collection,
                    vectors_config=models.VectorParams(size=self._dimension, distance=models.Distance.COSINE),
                )
            except UnexpectedResponse as error:
                if error.status_code != 409:  # another process created it first
                    raise
        indexes: list[tuple[str, Any]] = [
            ("user_id", models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, is_tenant=True)),
            ("type", models.PayloadSchemaType.KEYWORD),
        ]
        for field, schema in indexes:
            with warnings.catch_warnings():
                # Local mode warns that payload indexes have no effect there; the server uses them.
                warnings.simplefilter("ignore", UserWarning)
                await self._client.create_payload_index(self._collection, field, schema)

    async def _rekey(self) -> int:
        """Move points written under the old global ids to per-tenant ids (see ids.py); return how many."""
        old_scheme = models.Filter(must=[models.IsEmptyCondition(is_empty=models.PayloadField(key=SCHEME_FIELD))])
        moved = 0
        while True:
            records, _ = await self._client.scroll(
                self._collection, scroll_filter=old_scheme, limit=_REKEY_BATCH, with_vectors=True, with_payload=True
            )
            if not records:
                break
            page = rekeyed(records)
            points = [models.PointStruct(id=id_, vector=vector, payload=body) for id_, vector, body in page.points]
            await self._client.upsert(self._collection, points=points, wait=True)
            selector = models.PointIdsList(points=page.old_ids)
            await self._client.delete(self._collection, points_selector=selector, wait=True)
            moved += len(records)
        if moved:
            log.info("re-keyed %d vector points of %r to per-tenant ids", moved, self._collection)
        return moved

    async def close(self) -> None:
        await self._client.close()

    async def ping(self) -> None:
        try:
            await self._client.get_collections()
        except _DRIVER_ERRORS as error:
            raise _translate(error) from error

    async def _call(self, method: str, **kwargs: Any) -> Any:
        await self.open()
        try:
            return await getattr(self._client, method)(self._collection, **kwargs)
        except _DRIVER_ERRORS as error:
            raise _translate(error) from error

    async def upsert(self, user_id: UserId, items: Sequence[VectorItem]) -> None:
        latest = {item.id: item for item in items}  # the last write of an id in one batch wins
        points = [
            models.PointStruct(
                id=point_id(user_id, item.id),
                vector=self._check(item.vector),
                payload=payload(user_id, item.id, item.type.value),
            )
            for item in latest.values()
        ]
        if not points:
            return
        # Point ids are per tenant already; the filter keeps that true should two ever clash.
        await self._call("upsert", points=points, update_filter=models.Filter(must=[_user_is(user_id)]), wait=True)

    async def delete(self, user_id: UserId, ids: Sequence[MemoryId]) -> None:
        if not ids:
            return
        selector = models.FilterSelector(
            filter=models.Filter(
                must=[_user_is(user_id), models.HasIdCondition(has_id=[point_id(user_id, i) for i in ids])]
            )
        )
        await self._call("delete", points_selector=selector, wait=True)

    async def _nearest(self, user_id: UserId, query: list[float], limit: int, types: list[str] | None) -> Sequence[Any]:
        must: list[models.Condition] = [_user_is(user_id)]
        if types is not None:
            must.append(models.FieldCondition(key="type", match=models.MatchAny(any=types)))
        response = await self._call(
            "query_points", query=query, query_filter=models.Filter(must=must), limit=limit, with_payload=["memory_id"]
        )
        return list(response.points)

    async def forget_user(self, user_id: UserId) -> None:
        selector = models.FilterSelector(filter=models.Filter(must=[_user_is(user_id)]))
        await self._call("delete", points_selector=selector, wait=True)
