"""Every adapter the runtime's plan can choose has a case in the contract fixtures (contracts/conftest.py)."""

from __future__ import annotations

from contracts.cases import KEYWORD_CASES, STORE_CASES, TOKEN_COUNTER_CASES, VECTOR_CASES
from jyntrix_bootstrap.plan import KeywordChoice, StoresChoice, TokenCounterChoice, VectorChoice
from jyntrix_bootstrap.resources import KEYWORD_OPENERS, VECTOR_OPENERS
from testsupport.plan_cases import case_plan


def test_every_vector_index_the_plan_can_choose_has_an_opener_and_a_case() -> None:
    assert set(VECTOR_OPENERS) == set(VectorChoice)
    assert {case_plan(case).vectors for case in VECTOR_CASES} == set(VectorChoice)


def test_every_keyword_index_the_plan_can_choose_has_an_opener_and_a_case() -> None:
    assert set(KEYWORD_OPENERS) == set(KeywordChoice)
    assert {case_plan(case).keywords for case in KEYWORD_CASES} == set(KeywordChoice)


def test_every_store_the_plan_can_choose_has_a_case() -> None:
    # The embedded choice opens the Postgres adapters on a server the runtime starts: the same adapters as POSTGRES.
    assert {case_plan(case).stores for case in STORE_CASES} == set(StoresChoice) - {StoresChoice.EMBEDDED_POSTGRES}


def test_every_token_counter_the_plan_can_choose_has_a_case() -> None:
    assert {case_plan(case).token_counter for case in TOKEN_COUNTER_CASES} == set(TokenCounterChoice)
