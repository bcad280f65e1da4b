"""How a worker process gets its services: the standard wiring, or a factory named in the environment."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from jyntrix_domain.ports import TaskHandler, TaskQueue
from jyntrix_domain.task_handlers import build_handlers
from jyntrix_worker.settings import WorkerSettingsError, load_worker_settings

log = logging.getLogger(__name__)


@dataclass
class WorkerRuntime:
    """The handlers a worker runs and how to close what they use."""

    handlers: dict[str, TaskHandler]
    aclose: Callable[[], Awaitable[None]]


WorkerFactory = Callable[[Mapping[str, str], TaskQueue | None], Awaitable[WorkerRuntime]]


async def build_worker_services(env: Mapping[str, str], tasks: TaskQueue | None = None) -> WorkerRuntime:
    """Open the services the settings in `env` select and bind the task handlers to them.

    `tasks` is where handlers schedule follow-up work (idle-session summaries, the daily purge).
    JYNTRIX_WORKER_SERVICES="module:function" replaces the standard wiring with
    `await function(env, tasks)`, for applications that bring their own adapters.
    """
    worker = load_worker_settings(env)
    if worker.jyntrix_worker_services:
        factory = _import(worker.jyntrix_worker_services)
        return await factory(env, tasks)

    from jyntrix_bootstrap.container import build_services
    from jyntrix_bootstrap.settings import load_settings

    services = await build_services(load_settings(env, create_local_secret=False))
    handlers = build_handlers(
        memories=services.memories,
        conversations=services.conversations,
        ledger=services.storage.ledger,
        clock=services.clock,
        llm=services.llm,
        analytics=services.analytics,
        tasks=tasks,
        summary_idle_s=worker.jyntrix_summary_idle_s,
    )
    return WorkerRuntime(handlers=handlers, aclose=services.aclose)


def _import(path: str) -> WorkerFactory:
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise WorkerSettingsError(f"JYNTRIX_WORKER_SERVICES={path!r} must look like 'package.module:function'")
    factory: WorkerFactory = getattr(importlib.import_module(module_name), attribute)
    return factory
