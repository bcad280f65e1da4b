"""Text within every documented limit never breaks a store half-way (issue 23, finding 4).

Postgres refuses a btree index entry over 2,704 bytes. Four-byte characters (here: random ones of
Unicode's supplementary planes, which no compression shrinks) used to pass the limits in characters
and fail the write after a part of it was stored. The limits are in UTF-8 bytes now
(jyntrix_domain.key_sizes), checked before anything is written: past them is a 422 and nothing is
stored; at them, in every field at once, the write succeeds on both deployments.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import jwt

from jyntrix_domain.key_sizes import MAX_MEMORY_ID_BYTES, MAX_NAME_BYTES, MAX_USER_ID_BYTES
from tests.adversarial.conftest import SyncClient
from tests.adversarial.served import assert_error_document
from testsupport.app import SECRET, bearer

_RANDOM = random.Random(23)


def wide(chars: int) -> str:
    """`chars` random characters of four UTF-8 bytes each (CJK Extension B and beyond: no case, no controls)."""
    return "".join(chr(_RANDOM.randrange(0x20000, 0x2FA1F)) for _ in range(chars))


def stored(api: SyncClient, headers: dict[str, str]) -> int:
    total: int = api.get("/api/memories?current_only=false", headers=headers).json()["total"]
    return total


def refused(response: Any) -> str:
    body = assert_error_document("/api", response, (422,))
    return str(body["detail"])


def test_an_id_of_100_four_byte_characters_is_refused_before_anything_is_stored(api: SyncClient) -> None:
    headers = bearer(f"bytes-{uuid.uuid4()}")
    relation = {"source": wide(150), "predicate": wide(150), "target": wide(150)}
    body = {"id": wide(100), "content": "My locker code is 4711", "relations": [relation]}
    assert "bytes" in refused(api.post("/api/memories", json=body, headers=headers))
    assert stored(api, headers) == 0


def test_a_relation_of_three_200_character_four_byte_strings_is_refused(api: SyncClient) -> None:
    headers = bearer(f"bytes-{uuid.uuid4()}")
    relation = {"source": wide(200), "predicate": wide(200), "target": wide(200)}
    body = {"id": f"r-{uuid.uuid4()}", "content": "Anna works at Acme", "relations": [relation]}
    assert "bytes" in refused(api.post("/api/memories", json=body, headers=headers))
    assert stored(api, headers) == 0
    old = api.post("/api/memories", json={"content": "Anna works at Initech"}, headers=headers).json()
    response = api.post(f"/api/memories/{old['id']}/supersede", json=body, headers=headers)
    refused(response)
    assert [m["id"] for m in api.get("/api/memories", headers=headers).json()["items"]] == [old["id"]]


def test_an_import_with_one_oversized_item_stores_none_so_a_retry_cannot_duplicate(api: SyncClient) -> None:
    headers = bearer(f"bytes-{uuid.uuid4()}")
    relation = {"source": wide(200), "predicate": wide(200), "target": wide(200)}
    items = [
        {"content": "My sister Maya lives in Lisbon"},
        {"content": "Anna works at Acme", "relations": [relation]},
    ]
    for _ in range(2):
        refused(api.post("/api/memories/import", json={"memories": items}, headers=headers))
    assert stored(api, headers) == 0


def test_a_user_id_of_255_four_byte_characters_is_refused(api: SyncClient) -> None:
    # Signed by hand: mint_token itself refuses such a user.
    claims = {"sub": wide(255), "aud": "authenticated", "iat": 1_700_000_000, "exp": 4_102_444_800}
    headers = {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}
    response = api.post("/api/memories", json={"content": "x"}, headers=headers)
    assert_error_document("/api", response, (401,))
    assert "bytes" in response.json()["detail"]


def test_every_key_at_its_byte_limit_at_once_is_stored_linked_and_forgotten(api: SyncClient) -> None:
    user_id = wide(MAX_USER_ID_BYTES // 4) + "u" * (MAX_USER_ID_BYTES % 4)
    headers = bearer(user_id)
    names = [wide(MAX_NAME_BYTES // 4) for _ in range(3)]
    memory_id = wide(MAX_MEMORY_ID_BYTES // 4)
    body = {
        "id": memory_id,
        "content": "Anna works at Acme",
        "entities": names[:1],
        "relations": [{"source": names[0], "predicate": names[1], "target": names[2]}],
    }
    created = api.post("/api/memories", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["id"] == memory_id
    exported = api.get("/api/memories/export", headers=headers).json()
    assert [(r["source"], r["predicate"], r["target"]) for r in exported["relations"]] == [tuple(names)]
    assert api.delete("/api/memories?confirm=true", headers=headers).json()["memories"] == 1
    assert stored(api, headers) == 0
