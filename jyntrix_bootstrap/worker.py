"""The dramatiq worker's wiring: its broker, its actors, and the services their handlers run on.

`jyntrix_worker.actors` calls `start_worker()` at import (dramatiq's CLI imports that module in
each worker process): the broker and the actors come from the Settings, and the services are
opened once per process, on the first task or at boot, and closed at shutdown.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO

from jyntrix_adapters.dramatiq.broker import ProcessHooks, make_broker
from jyntrix_adapters.dramatiq.task_queue import DramatiqTaskQueue, declare_actors
from jyntrix_bootstrap.background import Background
from jyntrix_bootstrap.container import build_services
from jyntrix_bootstrap.settings import Settings, SettingsError, load_settings
from jyntrix_domain.ports import TaskQueue
from jyntrix_domain.tasks import TASK_TYPES, TaskHandler, TaskMessage

log = logging.getLogger("jyntrix.worker")


@dataclass
class WorkerRuntime:
    """The handlers a worker runs and how to close what they use."""

    handlers: Mapping[type[TaskMessage], TaskHandler]
    aclose: Callable[[], Awaitable[None]]
    # Starts recovery and the daily purge (Runtime.start_background); None: a custom wiring starts its own.
    start_background: Callable[[], Awaitable[Background]] | None = None


WorkerFactory = Callable[[Mapping[str, str], TaskQueue | None], Awaitable[WorkerRuntime]]


async def open_worker_runtime(
    settings: Settings,
    tasks: TaskQueue,
    env: Mapping[str, str] | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
) -> WorkerRuntime:
    """The services the settings select, and the task handlers bound to them.

    `tasks` is where handlers schedule follow-up work (idle-session summaries, the daily purge);
    `overrides` are build_services' (adapters the caller opened and closes).
    JYNTRIX_WORKER_SERVICES="module:function" replaces the standard wiring with
    `await function(env, tasks)`, for applications that bring their own adapters.
    """
    if settings.worker.services:
        factory = _import(settings.worker.services)
        return await factory(os.environ if env is None else env, tasks)
    runtime = await build_services(settings, overrides={**(overrides or {}), "tasks": tasks})
    handlers = runtime.handlers(tasks)
    return WorkerRuntime(handlers=handlers, aclose=runtime.aclose, start_background=runtime.start_background)


def _import(path: str) -> WorkerFactory:
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise SettingsError(f"JYNTRIX_WORKER_SERVICES={path!r} must look like 'package.module:function'")
    factory: WorkerFactory = getattr(importlib.import_module(module_name), attribute)
    return factory


def worker_settings(env: Mapping[str, str] | None = None) -> Settings:
    """The worker's Settings: the API's, read without creating the local development secret."""
    return load_settings(env, create_local_secret=False)


def open_broker(settings: Settings, *, asyncio_thread: bool = False) -> RedisBroker:
    """A broker on REDIS_URL with the queue's settings (for the CLI's ping and dead-letter commands too)."""
    return make_broker(settings.broker_url, settings.dramatiq, asyncio_thread=asyncio_thread)


class WorkerProcess:
    """One dramatiq worker process: the broker, an actor per task type, and the services, opened lazily."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.broker = open_broker(settings, asyncio_thread=True)
        dramatiq.set_broker(self.broker)
        # Follow-up tasks (idle summaries, tomorrow's purge) go through the same broker.
        self.sender = DramatiqTaskQueue(self.broker, queue_name=settings.dramatiq.queue)
        self._runtime: WorkerRuntime | None = None
        self._opening = asyncio.Lock()
        self._background: Background | None = None
        self.actors = declare_actors(
            self.broker, {task_type: self._dispatch(task_type) for task_type in TASK_TYPES}, settings.dramatiq
        )
        self.broker.add_middleware(ProcessHooks(self._boot, self._shutdown), after=AsyncIO)

    async def runtime(self) -> WorkerRuntime:
        """This process's services, opened on first use."""
        async with self._opening:
            if self._runtime is None:
                self._runtime = await open_worker_runtime(self.settings, self.sender)
        return self._runtime

    def _dispatch(self, task_type: type[TaskMessage]) -> TaskHandler:
        async def handle(task: Any) -> None:
            await (await self.runtime()).handlers[task_type](task)

        return handle

    async def _boot(self) -> None:
        try:
            runtime = await self.runtime()
        except Exception:  # the first task opens them again, and retries while a dependency is down
            log.exception("could not open the worker's services at boot")
        else:
            if runtime.start_background is not None:
                self._background = await runtime.start_background()

    async def _shutdown(self) -> None:
        if self._background is not None:
            await self._background.stop()
            self._background = None
        if self._runtime is not None:
            await self._runtime.aclose()
            self._runtime = None
