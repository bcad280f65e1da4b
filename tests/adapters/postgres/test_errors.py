"""Driver failures surface as domain errors."""

from __future__ import annotations

import socket

import pytest

from jyntrix_adapters.postgres.pool import Database
from jyntrix_adapters.postgres.stores import PostgresStores, open_postgres
from jyntrix_domain.errors import Invalid, Unavailable
from jyntrix_domain.model import new_id


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_connecting_to_a_server_that_is_not_there_raises_unavailable() -> None:
    with pytest.raises(Unavailable):
        await Database.connect(f"postgresql://postgres@127.0.0.1:{unused_port()}/none", min_size=1)
    with pytest.raises(Unavailable):
        await open_postgres(f"postgresql://postgres@127.0.0.1:{unused_port()}/none")


async def test_using_a_closed_pool_raises_unavailable(postgres_dsn: str) -> None:
    stores = await open_postgres(postgres_dsn, run_migrations=False)
    await stores.close()
    with pytest.raises(Unavailable):
        await stores.memories.get(new_id(), new_id())
    with pytest.raises(Unavailable):
        await stores.ping()


async def test_an_empty_user_id_is_refused(postgres_stores: PostgresStores) -> None:
    with pytest.raises(Invalid):
        await postgres_stores.memories.get("", "x")


# What the driver says names tables, constraints and the value it choked on; none of it may reach an answer.
DRIVER_WORDS = ("query argument", "codec", "surrogates", "\ud800", "Key (", "violates", "Errno", "127.0.0.1")


async def test_a_value_the_driver_cannot_encode_is_invalid_in_words_of_its_own(
    postgres_stores: PostgresStores,
) -> None:
    with pytest.raises(Invalid) as caught:
        await postgres_stores.memories.get("mal\ud800lory", "x")
    assert str(caught.value) == "the database cannot store text that is not valid Unicode"
    assert not [word for word in DRIVER_WORDS if word in str(caught.value)]


async def test_a_server_that_is_not_there_is_unavailable_without_its_address() -> None:
    with pytest.raises(Unavailable) as caught:
        await Database.connect(f"postgresql://postgres@127.0.0.1:{unused_port()}/none", min_size=1)
    assert not [word for word in DRIVER_WORDS if word in str(caught.value)], str(caught.value)
