"""KeywordIndex on bm25s: one BM25 index per user, rebuilt lazily, persisted under a directory.

Layout of a user's directory (named by a hash of the user id):

- ``snapshot.msgpack``: the tokenised documents at the last rebuild, in index order, with a generation number;
- ``log.jsonl``: upserts and deletes since that snapshot, one per line (appending is cheap, rewriting is not);
- ``index/``: the bm25s index built from the snapshot, tagged with its generation;
- ``lock``: an flock that serialises writers across processes (API and worker may share the directory).

Tokens are `keyword_terms` reduced to their English Snowball stems ("painting", "paints" and "painted" are one
term). Snapshots and log lines carry the token format they were written in; format 1 (before stemming) is
upgraded on load by stemming the stored tokens, and the index is rebuilt from them.

A write appends to the log and marks the user dirty. The next search folds the log into a new snapshot, rebuilds
the index from stored tokens (nothing is tokenised twice) and truncates the log. On restart a user whose index
matches its snapshot and whose log is empty loads the saved index without rebuilding.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import bm25s
import msgspec
import numpy as np
import numpy.typing as npt
from py_rust_stemmers import SnowballStemmer

from jyntrix_domain.errors import Invalid, Unavailable
from jyntrix_domain.model import Hit, KeywordDoc, MemoryId, MemoryType, UserId
from jyntrix_domain.terms import keyword_terms

K1 = 1.5
B = 0.75
# The token format: 1 = keyword_terms as they are, 2 = their Snowball stems.
FORMAT = 2
_UNSTEMMED = 1
_stem_words = SnowballStemmer("english").stem_words
logger = logging.getLogger(__name__)


_TYPE_CODES = {t.value: i for i, t in enumerate(MemoryType)}


class _Doc(msgspec.Struct, array_like=True):
    id: str
    type: str
    tokens: list[str]


class _Snapshot(msgspec.Struct):
    user_id: str
    generation: int
    docs: list[_Doc]
    format: int = _UNSTEMMED  # absent in files written before formats existed


class _LogEntry(msgspec.Struct, omit_defaults=True):
    op: str  # "upsert" | "delete"
    docs: list[_Doc] = []
    ids: list[str] = []
    format: int = _UNSTEMMED


def tokens(text: str) -> list[str]:
    """The terms BM25 indexes and searches: keyword terms, stemmed."""
    return list(_stem_words(keyword_terms(text)))


def _upgraded(docs: list[_Doc], written_in: int) -> list[_Doc]:
    """Documents in the current token format; older ones are stemmed once."""
    if written_in >= FORMAT:
        return docs
    return [_Doc(id=d.id, type=d.type, tokens=list(_stem_words(d.tokens))) for d in docs]


_encode_log = msgspec.json.Encoder().encode
_decode_log = msgspec.json.Decoder(_LogEntry).decode
_encode_snapshot = msgspec.msgpack.Encoder().encode
_decode_snapshot = msgspec.msgpack.Decoder(_Snapshot).decode


class _User:
    """One user's documents as this process last saw them on disk, and the index built from them."""

    def __init__(self, user_id: UserId, directory: Path) -> None:
        self.user_id = user_id
        self.dir = directory
        self.lock = asyncio.Lock()
        self.docs: dict[MemoryId, _Doc] = {}
        self.generation = 0
        self.snapshot_stamp: tuple[int, int, int] | None = None
        self.log_offset = 0
        self.loaded = False
        self.dirty = True
        self.retriever: bm25s.BM25 | None = None
        self.order: list[MemoryId] = []
        self.type_codes: npt.NDArray[np.int8] = np.empty(0, dtype=np.int8)

    @property
    def snapshot_path(self) -> Path:
        return self.dir / "snapshot.msgpack"

    @property
    def log_path(self) -> Path:
        return self.dir / "log.jsonl"

    @property
    def index_dir(self) -> Path:
        return self.dir / "index"

    @contextlib.contextmanager
    def flock(self, exclusive: bool) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / "lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- reading what is on disk -------------------------------------------------------------------------------

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self.snapshot_path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def refresh(self) -> None:
        """Catch up with the files (another process may have written); caller holds the flock."""
        stamp = self._stamp()
        log_size = self.log_path.stat().st_size if self.log_path.exists() else 0
        if not self.loaded or stamp != self.snapshot_stamp or log_size < self.log_offset:
            self._load(stamp)
        elif log_size > self.log_offset and self._replay():
            self.dirty = True

    def _load(self, stamp: tuple[int, int, int] | None) -> None:
        self.docs, self.generation = {}, 0
        stale = False
        if stamp is not None:
            try:
                snapshot = _decode_snapshot(self.snapshot_path.read_bytes())
            except msgspec.DecodeError as error:
                raise Unavailable(f"{self.snapshot_path} is corrupt; reindex the user: {error}") from error
            self.docs = {doc.id: doc for doc in _upgraded(snapshot.docs, snapshot.format)}
            self.generation = snapshot.generation
            stale = snapshot.format < FORMAT  # the saved index holds the old tokens: rebuild it
        self.snapshot_stamp, self.log_offset, self.loaded = stamp, 0, True
        replayed = self._replay()
        self.retriever, self.dirty = None, True
        if not replayed and not stale and (not self.docs or self._index_generation() == self.generation):
            self._load_index()

    def _replay(self) -> int:
        """Apply complete log lines past the offset; a torn last line (a crash mid-append) is left alone."""
        if not self.log_path.exists():
            return 0
        with open(self.log_path, "rb") as handle:
            handle.seek(self.log_offset)
            tail = handle.read()
        end = tail.rfind(b"\n") + 1
        applied = 0
        for line in tail[:end].splitlines():
            if not line.strip():
                continue
            try:
                entry = _decode_log(line)
            except msgspec.DecodeError:
                # A damaged line loses one write; the index is derived from the memory store and reindexing
                # the user restores it, whereas failing here would take keyword search down for good.
                logger.warning("skipping a damaged line in %s", self.log_path)
                continue
            self._apply(entry)
            applied += 1
        self.log_offset += end
        return applied

    def _apply(self, entry: _LogEntry) -> None:
        if entry.op == "upsert":
            for doc in _upgraded(entry.docs, entry.format):
                self.docs.pop(doc.id, None)  # an update moves the document to the end, like a fresh insert
                self.docs[doc.id] = doc
        else:
            for doc_id in entry.ids:
                self.docs.pop(doc_id, None)

    def _index_generation(self) -> int | None:
        try:
            return int((self.index_dir / "generation").read_text())
        except (FileNotFoundError, ValueError):
            return None

    def _load_index(self) -> None:
        docs = list(self.docs.values())
        self._set_order(docs)
        if any(doc.tokens for doc in docs):
            try:
                self.retriever = bm25s.BM25.load(str(self.index_dir), show_progress=False, verbosity=0)
            except (OSError, ValueError, KeyError):
                return  # unreadable: stays dirty and the next search rebuilds it
        self.dirty = False

    def _set_order(self, docs: list[_Doc]) -> None:
        self.order = [doc.id for doc in docs]
        self.type_codes = np.fromiter((_TYPE_CODES[doc.type] for doc in docs), dtype=np.int8, count=len(docs))

    # -- writing ---------------------------------------------------------------------------------------------------

    def append(self, entry: _LogEntry) -> None:
        """Log one write; caller holds the exclusive flock and has refreshed."""
        with open(self.log_path, "ab") as handle:
            if handle.tell() > self.log_offset:  # a torn line left by a crash: cut it off before appending
                handle.truncate(self.log_offset)
            line = _encode_log(entry) + b"\n"
            handle.write(line)
        self._apply(entry)
        self.log_offset += len(line)
        self.dirty = True

    def rebuild(self) -> None:
        """Fold the log into a new snapshot and index; caller holds the exclusive flock and has refreshed."""
        docs = list(self.docs.values())
        if not docs:
            self.erase()  # everything was deleted: keep no files rather than an empty index
            return
        generation = self.generation + 1
        retriever = _build(docs)
        snapshot = _encode_snapshot(_Snapshot(user_id=self.user_id, generation=generation, docs=docs, format=FORMAT))
        temporary = self.snapshot_path.with_suffix(".tmp")
        temporary.write_bytes(snapshot)
        os.replace(temporary, self.snapshot_path)
        # The snapshot holds everything the log held, so the log can go; replaying it twice would be harmless.
        self.log_path.write_bytes(b"")
        staging = self.dir / "index.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        if retriever is not None:
            retriever.save(str(staging), show_progress=False)
        (staging / "generation").write_text(str(generation))
        shutil.rmtree(self.index_dir, ignore_errors=True)
        os.replace(staging, self.index_dir)
        self.generation, self.snapshot_stamp, self.log_offset = generation, self._stamp(), 0
        self.retriever, self.dirty = retriever, False
        self._set_order(docs)

    def erase(self) -> None:
        """Remove every file that holds the user's text; the lock file stays so that other processes stay locked."""
        for path in (self.snapshot_path, self.log_path, self.snapshot_path.with_suffix(".tmp")):
            path.unlink(missing_ok=True)
        for directory in (self.index_dir, self.dir / "index.tmp"):
            shutil.rmtree(directory, ignore_errors=True)
        self.docs, self.generation, self.snapshot_stamp, self.log_offset = {}, 0, None, 0
        self.loaded, self.dirty, self.retriever = True, False, None
        self._set_order([])

    # -- searching -------------------------------------------------------------------------------------------------

    def search(self, terms: list[str], limit: int, types: frozenset[MemoryType] | None) -> list[Hit]:
        retriever = self.retriever
        if retriever is None:
            return []
        vocab: dict[Any, int] = retriever.vocab_dict
        token_ids = sorted({vocab[t] for t in terms if t in vocab})
        if not token_ids:
            return []
        # bm25s computes Lucene's form, tf / (tf + k1·norm); (k1 + 1) restores the classic Okapi scale.
        scores = retriever.get_scores_from_ids(token_ids) * (K1 + 1.0)
        if types is not None:
            scores = np.where(np.isin(self.type_codes, [_TYPE_CODES[t.value] for t in types]), scores, 0.0)
        positive = np.flatnonzero(scores > 0.0)
        if positive.size > limit:
            positive = positive[np.argpartition(-scores[positive], limit - 1)[:limit]]
        hits = [Hit(id=self.order[i], score=float(scores[i])) for i in positive]
        hits.sort(key=lambda h: (-h.score, h.id))
        return hits


def _build(docs: list[_Doc]) -> bm25s.BM25 | None:
    vocab: dict[str, int] = {}
    token_ids = [[vocab.setdefault(t, len(vocab)) for t in doc.tokens] for doc in docs]
    if not vocab:
        return None
    retriever = bm25s.BM25(k1=K1, b=B, method="lucene")
    retriever.index((token_ids, vocab), create_empty_token=False, show_progress=False)
    return retriever


class Bm25sKeywordIndex:
    """BM25 (k1=1.5, b=0.75) per user with bm25s; writes are logged at once, the index is rebuilt on next search."""

    def __init__(self, directory: str | os.PathLike[str], *, max_loaded_users: int = 1000) -> None:
        self._root = Path(directory)
        self._max_loaded = max_loaded_users
        self._users: OrderedDict[UserId, _User] = OrderedDict()

    def _user(self, user_id: UserId) -> _User:
        user = self._users.get(user_id)
        if user is None:
            name = hashlib.sha256(user_id.encode()).hexdigest()[:32]
            user = self._users[user_id] = _User(user_id, self._root / name)
            self._evict()
        self._users.move_to_end(user_id)
        return user

    def _evict(self) -> None:
        # Everything is on disk, so a user not in use can be dropped from memory and reloaded later.
        for user_id in list(self._users)[: max(0, len(self._users) - self._max_loaded)]:
            if not self._users[user_id].lock.locked():
                del self._users[user_id]

    @staticmethod
    async def _run(user: _User, fn: Any, *args: Any) -> Any:
        try:
            return await asyncio.to_thread(fn, *args)
        except OSError as error:
            raise Unavailable(f"keyword index storage failed for {user.dir}: {error}") from error

    async def upsert(self, user_id: UserId, docs: Sequence[KeywordDoc]) -> None:
        if not docs:
            return
        user = self._user(user_id)

        def write() -> None:
            entry = _LogEntry(
                op="upsert", docs=[_Doc(id=d.id, type=d.type.value, tokens=tokens(d.text)) for d in docs], format=FORMAT
            )
            with user.flock(exclusive=True):
                user.refresh()
                user.append(entry)

        async with user.lock:
            await self._run(user, write)

    async def delete(self, user_id: UserId, ids: Sequence[MemoryId]) -> None:
        if not ids:
            return
        user = self._user(user_id)

        def write() -> None:
            with user.flock(exclusive=True):
                user.refresh()
                if any(i in user.docs for i in ids):
                    user.append(_LogEntry(op="delete", ids=list(ids)))

        async with user.lock:
            await self._run(user, write)

    async def search(
        self, user_id: UserId, query: str, limit: int, types: frozenset[MemoryType] | None = None
    ) -> list[Hit]:
        if limit < 0:
            raise Invalid("limit must not be negative")
        terms = tokens(query)
        if limit == 0 or not terms or types == frozenset():
            return []
        user = self._user(user_id)

        def run() -> list[Hit]:
            if not user.dir.exists():
                return []  # never written (or erased): nothing to find, and nothing to create on disk
            with user.flock(exclusive=False):
                user.refresh()
            if user.dirty:
                with user.flock(exclusive=True):
                    user.refresh()
                    if user.dirty:
                        user.rebuild()
            return user.search(terms, limit, types)

        async with user.lock:
            result: list[Hit] = await self._run(user, run)
            return result

    async def delete_user(self, user_id: UserId) -> None:
        user = self._user(user_id)

        def erase() -> None:
            if not user.dir.exists():
                return
            with user.flock(exclusive=True):
                user.erase()

        async with user.lock:
            await self._run(user, erase)
        self._users.pop(user_id, None)

    async def ping(self) -> None:
        try:
            self._root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise Unavailable(f"keyword index directory {self._root} is not usable: {error}") from error
