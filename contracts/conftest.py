"""Fixtures every contract suite shares: each port's adapters, built as production builds them.

A port's fixture is parametrised over its cases (contracts/cases.py): the settings that make the runtime's
plan choose each of its adapters, one case per server at hand for an adapter on Postgres. The adapter comes
from the opener the container uses (testsupport/plan_cases.py), so what the contracts check is what the
settings open; contracts/test_plan_coverage.py checks that every choice the plan can make has a case.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from contracts.cases import KEYWORD_CASES, STORE_CASES, TOKEN_COUNTER_CASES, VECTOR_CASES
from jyntrix_bootstrap.resources import (
    Storage,
    make_token_counter,
    open_keyword_index,
    open_vector_index,
)
from jyntrix_bootstrap.settings import load_settings
from jyntrix_domain.model import new_id
from jyntrix_domain.ports import TokenCounter
from testsupport.plan_cases import Case, case_id, case_settings, planned_storage, storage_beside
from testsupport.postgres import SessionStores
from testsupport.user_namespace import UserNamespace


@pytest.fixture
def user() -> str:
    """A fresh user id: tests share the servers, so each isolates itself by its own user."""
    return new_id()


@pytest.fixture(params=STORE_CASES, ids=case_id)
async def storage(request: pytest.FixtureRequest, tmp_path: Path, session_stores: SessionStores) -> Storage:
    """Every store of one case (the storage ports' suites each take theirs from it)."""
    return await planned_storage(case_settings(request, request.param, tmp_path), session_stores)


def _index_fixture(cases: list[Case], opener: Any) -> Any:
    """A fixture yielding the index each case's settings open through `opener` (the container's); an index on a
    shared server sees each test's users apart (UserNamespace)."""

    @pytest.fixture(params=cases, ids=case_id)
    async def index(
        request: pytest.FixtureRequest, tmp_path: Path, session_stores: SessionStores
    ) -> AsyncIterator[Any]:
        case: Case = request.param
        settings = case_settings(request, case, tmp_path)
        storage = await storage_beside(settings, session_stores)
        async with contextlib.asynccontextmanager(opener)(settings, storage) as opened:
            yield opened.adapter if case.server is None else UserNamespace(opened.adapter)

    return index


vector_index = _index_fixture(VECTOR_CASES, open_vector_index)
keyword_index = _index_fixture(KEYWORD_CASES, open_keyword_index)


# Counters hold no state, so one of each serves a module (and hypothesis' many inputs).
@pytest.fixture(params=TOKEN_COUNTER_CASES, ids=case_id, scope="module")
def token_counter(request: pytest.FixtureRequest) -> TokenCounter:
    return make_token_counter(load_settings(request.param.env, create_local_secret=False))
