"""Optimising a Qdrant Edge shard off the serving path: on a copy, in a child process, then swapped in.

`EdgeShard.optimize()` holds the GIL for its whole run (minutes at 100k+ points; measured: a thread ticking every
millisecond ticked once in 14 s), so run in-process it would stop the event loop, searches and writes included.
Instead the index copies its flushed shard into a new generation directory (writes wait for the copy only, about
0.1 s per 40k points), a child process (`python -m jyntrix_adapters.qdrant.edge_optimize DIR`) optimises the copy,
and the index loads it, replays the writes that arrived meanwhile, and points `ACTIVE` at it.

Layout under the index's directory: the shard itself at the top (before any optimisation), or in the `gen-*`
directory that `ACTIVE` names. `ACTIVE` is replaced atomically after the new generation holds every write, so a
crash at any moment leaves one complete shard named by it; `settle_layout` removes whatever else a crash left.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ACTIVE_FILE = "ACTIVE"
LOCK_FILE = "jyntrix.lock"
_GENERATION_PREFIX = "gen-"
# What Edge keeps in a shard directory; only these are removed from the top once a generation replaces it.
_SHARD_ENTRIES = ("edge_config.json", "segments", "temp_segments", "wal")
_OWN_ENTRIES = (ACTIVE_FILE, ACTIVE_FILE + ".tmp", LOCK_FILE)

OPTIMIZER_COMMAND = (sys.executable, "-m", "jyntrix_adapters.qdrant.edge_optimize")
"""The child that optimises a copy; the copy's directory and this process's id are appended."""


def active_dir(root: Path) -> Path:
    """The directory of the shard in use: the generation `ACTIVE` names, else `root` itself."""
    try:
        name = json.loads((root / ACTIVE_FILE).read_text())["dir"]
    except FileNotFoundError:
        return root
    if not isinstance(name, str) or not name.startswith(_GENERATION_PREFIX) or "/" in name:
        raise ValueError(f"{root / ACTIVE_FILE} names no generation directory: {name!r}")
    return root / name


def settle_layout(root: Path) -> Path:
    """Remove what an interrupted optimisation or swap left beside the active shard; return the active shard's dir."""
    active = active_dir(root)
    for entry in root.iterdir() if root.exists() else ():
        if entry.name.startswith(_GENERATION_PREFIX) and entry != active:
            log.info("removing %s, left by an interrupted vector index optimisation", entry)
            shutil.rmtree(entry, ignore_errors=True)
    if active != root:
        _remove_top_shard(root)
    with contextlib.suppress(FileNotFoundError):
        (root / (ACTIVE_FILE + ".tmp")).unlink()
    return active


def _remove_top_shard(root: Path) -> None:
    for name in _SHARD_ENTRIES:
        entry = root / name
        if entry.is_dir():
            shutil.rmtree(entry)
        elif entry.exists():
            entry.unlink()


def copy_shard(source: Path, root: Path) -> Path:
    """Copy the flushed shard at `source` into a new generation directory under `root` (blocking)."""
    target = root / f"{_GENERATION_PREFIX}{uuid.uuid4().hex[:12]}"
    target.mkdir()
    try:
        for entry in source.iterdir():
            if entry.name in _OWN_ENTRIES or entry.name.startswith(_GENERATION_PREFIX):
                continue
            if entry.is_dir():
                shutil.copytree(entry, target / entry.name, ignore=_preallocated)
            else:
                shutil.copy2(entry, target / entry.name)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target


def _preallocated(directory: str, names: list[str]) -> set[str]:
    """The WAL's spare segments (`tmp-*`), which its own thread creates and renames at any time; they hold no
    entries (writes wait while the copy runs), and the copy's WAL makes new ones when it needs them."""
    return {name for name in names if name.startswith("tmp-")}


def point_to(root: Path, generation: Path) -> None:
    """Make `generation` the active shard, atomically and durably (blocking)."""
    temporary = root / (ACTIVE_FILE + ".tmp")
    with temporary.open("w") as out:
        json.dump({"dir": generation.name}, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, root / ACTIVE_FILE)
    descriptor = os.open(root, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_shard(directory: Path, root: Path) -> None:
    """Delete a shard no longer in use: a generation directory, or the shard files at the top of `root`."""
    if directory == root:
        _remove_top_shard(root)
    else:
        shutil.rmtree(directory, ignore_errors=True)


def retire(shard: Any, directory: Path, root: Path) -> None:
    """Close a shard (None: nothing open) and delete its directory (blocking)."""
    if shard is not None:
        shard.close()
    remove_shard(directory, root)


def apply_all(shard: Any, operations: Sequence[Any]) -> None:
    """Apply Edge update operations in order (blocking): the writes replayed onto an optimised copy."""
    for operation in operations:
        shard.update(operation)


def log_failure(task: asyncio.Task[bool]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("background vector index optimisation failed; the shard serves unoptimised: %s", task.exception())


async def optimize_in_child(directory: Path, command: Sequence[str] = OPTIMIZER_COMMAND) -> bool:
    """Optimise the (closed) shard copy at `directory` in a child process; whether any segment changed.

    Cancelling kills the child. A child that fails raises RuntimeError with the end of its output.
    """
    child = await asyncio.create_subprocess_exec(
        *command, str(directory), str(os.getpid()), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        output, _ = await child.communicate()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()
        raise
    text = output.decode(errors="replace").strip()
    if child.returncode != 0:
        raise RuntimeError(f"the optimiser exited with {child.returncode}: {text[-500:]}")
    return json.loads(text.splitlines()[-1])["optimized"] is True


def _die_with_parent() -> None:
    """Linux: the kernel kills this child when the index's process dies, so no orphan keeps writing a copy."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):
        return


def main(argv: Sequence[str]) -> int:
    """The child: optimise the shard copy at argv[0] for the index in process argv[1], flush, close; print
    {"optimized": bool} last."""
    _die_with_parent()
    if len(argv) > 1 and os.getppid() != int(argv[1]):  # the index's process died before the death signal was set
        return 1
    with contextlib.suppress(OSError):
        os.nice(10)  # yield the cores to the API that serves meanwhile
    import qdrant_edge as qe

    shard = qe.EdgeShard.load(argv[0])
    try:
        optimized = shard.optimize()
        shard.flush()
    finally:
        shard.close()
    print(json.dumps({"optimized": bool(optimized)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
