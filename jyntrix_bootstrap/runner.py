"""The embedded profile's task runner: the worker's handlers on an InProcessTaskQueue in the API process.

Qdrant Edge is single-process, so the embedded profile cannot hand tasks to another process;
the same handlers as the dramatiq actors run here, in the background of the API's event loop.
"""

from __future__ import annotations

from typing import Any

from jyntrix_adapters.inprocess.task_queue import InProcessTaskQueue
from jyntrix_domain.task_handlers import build_handlers


def in_process_runner(
    *, concurrency: int = 2, max_retries: int = 3, backoff_s: float = 0.5, **services: Any
) -> InProcessTaskQueue:
    """An InProcessTaskQueue running the worker's handlers; `services` are build_handlers' arguments.

    No idle-session summaries are scheduled here: a delayed task would hold the API's shutdown.
    """
    return InProcessTaskQueue(
        build_handlers(**services), concurrency=concurrency, max_retries=max_retries, backoff_s=backoff_s
    )
