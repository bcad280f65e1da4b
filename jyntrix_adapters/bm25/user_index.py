"""One user's keyword index: its files, and in memory the built postings plus the writes since they were built.

Layout of a user's directory (named by a hash of the user id):

- ``snapshot.msgpack``: the tokenised documents at the last build, in index order, with a generation number;
- ``log.jsonl``: upserts and deletes since that snapshot, one per line (appending is cheap, rewriting is not);
- ``index/``: the postings built from the snapshot, tagged with its generation;
- ``lock``: an flock that serialises writers across processes (API and worker may share the directory).

A write appends to the log and applies at once in memory: a new document joins the delta, a replaced or
deleted one is masked out of the postings, and the corpus statistics follow (see `postings`). So a search
never needs a build to see a write. A build folds everything into new postings and a new snapshot and keeps
only the log lines written since it started. Every method here expects the caller to serialise calls on one
`UserIndex` (the asyncio lock) and, where it says so, to hold the flock.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import numpy as np
import numpy.typing as npt

from jyntrix_adapters.bm25.postings import CorpusStats, Postings, delta_score
from jyntrix_adapters.bm25.tokens import FORMAT, UNSTEMMED, upgrade
from jyntrix_adapters.support.index_rules import best_first
from jyntrix_domain.errors import Unavailable
from jyntrix_domain.model import Hit, MemoryId, MemoryType, UserId

logger = logging.getLogger(__name__)
_TYPE_CODES = {t.value: i for i, t in enumerate(MemoryType)}


class StoredDoc(msgspec.Struct, array_like=True):
    id: str
    type: str
    tokens: list[str]


class Snapshot(msgspec.Struct):
    user_id: str
    generation: int
    docs: list[StoredDoc]
    format: int = UNSTEMMED  # absent in files written before formats existed


class LogEntry(msgspec.Struct, omit_defaults=True):
    op: str  # "upsert" | "delete"
    docs: list[StoredDoc] = []
    ids: list[str] = []
    format: int = UNSTEMMED


def _upgraded(docs: list[StoredDoc], written_in: int) -> list[StoredDoc]:
    if written_in >= FORMAT:
        return docs
    return [StoredDoc(id=d.id, type=d.type, tokens=upgrade(d.tokens, written_in)) for d in docs]


_encode_log = msgspec.json.Encoder().encode
_decode_log = msgspec.json.Decoder(LogEntry).decode
_encode_snapshot = msgspec.msgpack.Encoder().encode
_decode_snapshot = msgspec.msgpack.Decoder(Snapshot).decode


@dataclass(frozen=True)
class Build:
    """Postings and snapshot bytes made from the documents as of `log_offset` in generation `epoch`."""

    docs: list[StoredDoc]
    postings: Postings
    snapshot: bytes
    epoch: int
    log_offset: int


class UserIndex:
    """One user's documents as this process last saw them on disk, the postings built from them, and the delta."""

    def __init__(self, user_id: UserId, directory: Path) -> None:
        self.user_id = user_id
        self.dir = directory
        self.lock = asyncio.Lock()  # serialises this process's calls on the user; the flock does so across processes
        self.merging: asyncio.Task[None] | None = None
        self.docs: dict[MemoryId, StoredDoc] = {}
        self.stats = CorpusStats()
        self.generation = 0
        self.snapshot_stamp: tuple[int, int, int] | None = None
        self.log_offset = 0
        self.loaded = False
        # Bumped whenever the in-memory state is replaced wholesale, so a build begun before that is dropped.
        self.epoch = 0
        self.postings: Postings | None = None
        self.built: list[StoredDoc] = []
        self.position: dict[MemoryId, int] = {}
        self.alive: npt.NDArray[np.bool_] = np.empty(0, dtype=bool)
        self.type_codes: npt.NDArray[np.int8] = np.empty(0, dtype=np.int8)
        self.delta: dict[MemoryId, tuple[StoredDoc, Counter[str]]] = {}
        self.dead = 0

    @property
    def snapshot_path(self) -> Path:
        return self.dir / "snapshot.msgpack"

    @property
    def log_path(self) -> Path:
        return self.dir / "log.jsonl"

    @property
    def index_dir(self) -> Path:
        return self.dir / "index"

    @property
    def pending(self) -> int:
        """Writes not yet folded into the postings: delta documents plus masked-out ones."""
        return len(self.delta) + self.dead

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
        elif log_size > self.log_offset:
            self._replay()

    def _load(self, stamp: tuple[int, int, int] | None) -> None:
        self.docs, self.stats, self.generation, self.epoch = {}, CorpusStats(), 0, self.epoch + 1
        snapshot_docs: list[StoredDoc] = []
        stale = False
        if stamp is not None:
            try:
                snapshot = _decode_snapshot(self.snapshot_path.read_bytes())
            except msgspec.DecodeError as error:
                raise Unavailable(f"{self.snapshot_path} is corrupt; reindex the user: {error}") from error
            snapshot_docs, self.generation = _upgraded(snapshot.docs, snapshot.format), snapshot.generation
            stale = snapshot.format < FORMAT  # the saved postings hold the old tokens: build them anew
            for doc in snapshot_docs:
                self.docs[doc.id] = doc
                self.stats.add(doc.tokens)
        self.snapshot_stamp, self.log_offset, self.loaded = stamp, 0, True
        postings = None
        if snapshot_docs and not stale and self._index_generation() == self.generation:
            try:
                postings = Postings.load(self.index_dir)
            except (OSError, ValueError, KeyError, msgspec.DecodeError):
                postings = None  # unreadable: its documents wait in the delta until the next build
        self._install(postings, snapshot_docs if postings is not None else [])
        self._replay()

    def _replay(self) -> None:
        """Apply complete log lines past the offset; a torn last line (a crash mid-append) is left alone."""
        if not self.log_path.exists():
            return
        with open(self.log_path, "rb") as handle:
            handle.seek(self.log_offset)
            tail = handle.read()
        end = tail.rfind(b"\n") + 1
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
        self.log_offset += end

    def _apply(self, entry: LogEntry) -> None:
        if entry.op == "upsert":
            for doc in _upgraded(entry.docs, entry.format):
                self._remove(doc.id)  # an update moves the document to the end, like a fresh insert
                self.docs[doc.id] = doc
                self.stats.add(doc.tokens)
                self.delta[doc.id] = (doc, Counter(doc.tokens))
        else:
            for doc_id in entry.ids:
                self._remove(doc_id)

    def _remove(self, doc_id: MemoryId) -> None:
        doc = self.docs.pop(doc_id, None)
        if doc is None:
            return
        self.stats.remove(doc.tokens)
        if self.delta.pop(doc_id, None) is None:
            index = self.position[doc_id]
            self.alive[index] = False
            self.dead += 1

    def _index_generation(self) -> int | None:
        try:
            return int((self.index_dir / "generation").read_text())
        except (FileNotFoundError, ValueError):
            return None

    def _install(self, postings: Postings | None, built: list[StoredDoc]) -> None:
        """Serve `postings` (made from `built`); whatever in `docs` differs from `built` goes to the delta."""
        self.postings, self.built = postings, built
        self.position = {doc.id: i for i, doc in enumerate(built)}
        self.alive = np.fromiter((self.docs.get(doc.id) is doc for doc in built), dtype=bool, count=len(built))
        self.type_codes = np.fromiter((_TYPE_CODES[doc.type] for doc in built), dtype=np.int8, count=len(built))
        self.dead = int(len(built) - self.alive.sum())
        self.delta = {
            doc_id: (doc, Counter(doc.tokens))
            for doc_id, doc in self.docs.items()
            if doc_id not in self.position or not self.alive[self.position[doc_id]]
        }

    # -- writing ---------------------------------------------------------------------------------------------------

    def append(self, entry: LogEntry) -> None:
        """Log one write and apply it; caller holds the exclusive flock and has refreshed."""
        with open(self.log_path, "ab") as handle:
            if handle.tell() > self.log_offset:  # a torn line left by a crash: cut it off before appending
                handle.truncate(self.log_offset)
            line = _encode_log(entry) + b"\n"
            handle.write(line)
        self._apply(entry)
        self.log_offset += len(line)

    def prepare(self) -> tuple[list[StoredDoc], int, int]:
        """What a build starts from: the documents now, the log offset they include, the epoch."""
        return list(self.docs.values()), self.log_offset, self.epoch

    def build(self, docs: list[StoredDoc], log_offset: int, epoch: int) -> Build:
        """Postings and snapshot for `docs`; needs no lock, touches nothing shared (runs beside searches)."""
        postings = Postings.build([doc.tokens for doc in docs])
        snapshot = _encode_snapshot(
            Snapshot(user_id=self.user_id, generation=self.generation + 1, docs=docs, format=FORMAT)
        )
        return Build(docs=docs, postings=postings, snapshot=snapshot, epoch=epoch, log_offset=log_offset)

    def commit(self, build: Build) -> bool:
        """Write `build` and serve it; caller holds the exclusive flock and has refreshed. False if outdated."""
        if build.epoch != self.epoch:
            return False  # another process built meanwhile, or the user was erased
        if not self.docs:
            self.erase()  # everything was deleted: keep no files rather than an empty index
            return True
        with open(self.log_path, "rb") as handle:  # the writes made while the build ran stay in the log
            handle.seek(build.log_offset)
            kept = handle.read(self.log_offset - build.log_offset)
        temporary = self.snapshot_path.with_suffix(".tmp")
        temporary.write_bytes(build.snapshot)
        os.replace(temporary, self.snapshot_path)
        staging = self.dir / "index.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        build.postings.save(staging)
        (staging / "generation").write_text(str(self.generation + 1))
        shutil.rmtree(self.index_dir, ignore_errors=True)
        os.replace(staging, self.index_dir)
        # Replaying a line the snapshot already holds is harmless (last write per id wins), so a crash between
        # these replacements loses nothing.
        log_temporary = self.log_path.with_suffix(".tmp")
        log_temporary.write_bytes(kept)
        os.replace(log_temporary, self.log_path)
        self.generation, self.snapshot_stamp, self.log_offset = self.generation + 1, self._stamp(), len(kept)
        self.epoch += 1
        self._install(build.postings, build.docs)
        return True

    def erase(self) -> None:
        """Remove every file that holds the user's text; the lock file stays so that other processes stay locked."""
        for path in (self.snapshot_path, self.log_path, self.snapshot_path.with_suffix(".tmp")):
            path.unlink(missing_ok=True)
        self.log_path.with_suffix(".tmp").unlink(missing_ok=True)
        for directory in (self.index_dir, self.dir / "index.tmp"):
            shutil.rmtree(directory, ignore_errors=True)
        self.docs, self.stats, self.generation, self.snapshot_stamp, self.log_offset = {}, CorpusStats(), 0, None, 0
        self.loaded, self.epoch = True, self.epoch + 1
        self._install(None, [])

    # -- searching -------------------------------------------------------------------------------------------------

    def search(self, terms: list[str], limit: int, types: frozenset[MemoryType] | None) -> list[Hit]:
        wanted = set(terms)
        hits: list[Hit] = []
        if self.postings is not None and self.built:
            scores = np.where(self.alive, self.postings.scores(wanted, self.stats), 0.0)
            if types is not None:
                scores = np.where(np.isin(self.type_codes, [_TYPE_CODES[t.value] for t in types]), scores, 0.0)
            positive = np.flatnonzero(scores > 0.0)
            if positive.size > limit:
                positive = positive[np.argpartition(-scores[positive], limit - 1)[:limit]]
            hits = [Hit(id=self.built[i].id, score=float(scores[i])) for i in positive]
        type_values = None if types is None else {t.value for t in types}
        for doc, counts in self.delta.values():
            if type_values is None or doc.type in type_values:
                score = delta_score(wanted, counts, len(doc.tokens), self.stats)
                if score > 0.0:
                    hits.append(Hit(id=doc.id, score=score))
        return best_first(hits)[:limit]
