"""Contract cases: the settings that make the runtime's plan choose an adapter, and the adapter opened from them.

A contract fixture is parametrised over cases. A case names the variables a user would set to select the
adapter (and, for one that lives on a Postgres server, which of the servers at hand); the adapter under test
then comes from the same `plan(settings)` and openers the container uses (jyntrix_bootstrap/plan.py,
resources.py). One thing differs from production: Postgres-backed adapters share the session's pool
(testsupport/postgres.py) instead of opening one each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

import pytest

from jyntrix_bootstrap.plan import Plan, StoresChoice, plan
from jyntrix_bootstrap.resources import Storage, in_process_storage, postgres_storage
from jyntrix_bootstrap.settings import Settings, load_settings
from testsupport.postgres import SessionStores, server_dsn

# What selects every port's in-process adapter.
IN_PROCESS = {"JYNTRIX_DEPLOYMENT": "in_process"}
# The embedded default: nothing set.
EMBEDDED: Mapping[str, str] = {}


class Case(NamedTuple):
    """The variables that select one adapter, and the Postgres server (one of POSTGRES_SERVERS) it lives on."""

    name: str
    env: Mapping[str, str]
    server: str | None = None


def on_servers(name: str, env: Mapping[str, str], servers: Iterable[str]) -> list[Case]:
    """One case per server for an adapter that lives in Postgres."""
    return [Case(f"{name}-{server}", env, server) for server in servers]


def case_id(case: Case) -> str:
    return case.name


def case_settings(request: pytest.FixtureRequest, case: Case, directory: Path) -> Settings:
    """The settings of `case`, with `directory` as the data directory and the case's server as DATABASE_URL."""
    env = {"JYNTRIX_DATA_DIR": str(directory), **case.env}
    if case.server is not None:
        env["DATABASE_URL"] = server_dsn(request, case.server)
    return load_settings(env, create_local_secret=False)


def case_plan(case: Case) -> Plan:
    """What the plan chooses for `case` (the server's DSN does not change a choice, so any stands in for it)."""
    env = {**case.env, **({"DATABASE_URL": "postgresql://localhost/any"} if case.server else {})}
    return plan(load_settings(env, create_local_secret=False))


async def planned_storage(settings: Settings, session: SessionStores) -> Storage:
    """The stores the plan of `settings` chooses; the Postgres ones over the session's pool of that server."""
    choice = plan(settings).stores
    if choice is StoresChoice.IN_PROCESS:
        return in_process_storage()
    if settings.database_url is None:
        raise AssertionError("a contract case on Postgres names its server (Case.server)")
    return postgres_storage(await session.on(settings.database_url), choice)


async def storage_beside(settings: Settings, session: SessionStores) -> Storage:
    """The stores an index of `settings` opens beside: Postgres when the plan puts the index in their database;
    otherwise the index ignores them, so in-process ones do."""
    if plan(settings).needs_postgres_stores:
        return await planned_storage(settings, session)
    return in_process_storage()
