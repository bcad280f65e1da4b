"""dramatiq actors: extract_memories, summarise_session, reindex_user, purge_analytics.

`dramatiq jyntrix_worker.actors` (and `python -m jyntrix_worker`) import this module in each
worker process; importing it builds the worker from the environment through the composition
root (jyntrix_bootstrap.worker): the broker (REDIS_URL, JYNTRIX_WORKER_*), one async actor per
task type, and the services, opened once per process and closed at shutdown.

Delivery is at least once: a message is acknowledged only after its handler returns, and the
unacknowledged messages of a worker that stops sending heartbeats go back to the queue.
Failures are retried with exponential backoff unless jyntrix_domain.tasks.is_retryable refuses
them; past JYNTRIX_WORKER_MAX_RETRIES the message lands in the queue's dead-letter queue
(`python -m jyntrix_worker dead-letters`).
"""

from __future__ import annotations

from jyntrix_bootstrap.worker import WorkerProcess, worker_settings
from jyntrix_domain.tasks import ExtractMemories, PurgeAnalytics, ReindexUser, SummariseSession

worker = WorkerProcess(worker_settings())
broker = worker.broker

extract_memories = worker.actors[ExtractMemories]
summarise_session = worker.actors[SummariseSession]
reindex_user = worker.actors[ReindexUser]
purge_analytics = worker.actors[PurgeAnalytics]
