"""Test fixtures for the model ports: the ONNX embedding model (built once) and fake LLM servers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from testsupport.fake_gemini import FakeGemini
from testsupport.fake_openai import FakeOpenAI
from testsupport.postgres import run_sync

REPO_ROOT = Path(__file__).resolve().parents[1]
# Shared with `make model` and `make run` on purpose: the build is validated and atomic, and a
# second test run (or the app) then reuses it instead of converting again.
MODEL_DIR = Path(os.environ.get("JYNTRIX_TEST_MODEL_DIR", REPO_ROOT / ".jyntrix" / "models" / "all-MiniLM-L6-v2"))


@pytest.fixture(scope="session")
def minilm_model_dir() -> Path:
    """The ONNX all-MiniLM-L6-v2 directory, built from the packaged weights at most once per session."""
    from jyntrix_adapters.fastembed.onnx_export import ensure_model

    return ensure_model(MODEL_DIR)


@pytest.fixture(scope="session")
def fast_embedder(minilm_model_dir: Path) -> object:
    """One warmed FastEmbedder for the session (loading the model takes about a second), opened as the plan
    opens the embedded default's."""
    from jyntrix_adapters.fastembed.embedder import FastEmbedder
    from jyntrix_bootstrap.resources import make_embedder
    from jyntrix_bootstrap.settings import load_settings

    embedder = make_embedder(load_settings({"EMBEDDING_MODEL_DIR": str(minilm_model_dir)}, create_local_secret=False))
    assert isinstance(embedder, FastEmbedder)
    run_sync(embedder.warm())
    return embedder


@pytest.fixture
def fake_gemini() -> Iterator[FakeGemini]:
    with FakeGemini() as server:
        yield server


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server
