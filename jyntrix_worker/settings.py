"""The worker's own settings, from the environment (the services' settings are jyntrix_bootstrap.settings).

=====================================  ===========  =================================================
variable                               default      meaning
=====================================  ===========  =================================================
REDIS_URL                              (required)   the dramatiq broker
JYNTRIX_WORKER_QUEUE                   jyntrix      the queue the API sends to and the worker consumes
JYNTRIX_WORKER_NAMESPACE               dramatiq     prefix of the broker's Redis keys
JYNTRIX_WORKER_PROCESSES               1            worker processes
JYNTRIX_WORKER_THREADS                 4            tasks run at once per process
JYNTRIX_WORKER_MAX_RETRIES             5            retries before a task is dead-lettered
JYNTRIX_WORKER_MIN_BACKOFF_MS          1000         first retry delay; doubles each retry (jittered)
JYNTRIX_WORKER_MAX_BACKOFF_MS          300000       longest retry delay
JYNTRIX_WORKER_TIME_LIMIT_MS           600000       a task running longer is interrupted and retried
JYNTRIX_WORKER_HEARTBEAT_TIMEOUT_MS    60000        silence after which a worker counts as dead and its
                                                    unfinished tasks are redelivered
JYNTRIX_WORKER_MAINTENANCE_CHANCE      1000         per million broker calls: how often that check runs
JYNTRIX_WORKER_SERVICES                (unset)      "module:function" building the handlers instead of
                                                    the standard wiring (embedding apps, tests)
JYNTRIX_SUMMARY_IDLE_S                 1800         summarise a conversation after this long without a
                                                    new message; 0 turns it off
JYNTRIX_WORKER_DAILY_PURGE             true         purge analytics past retention once a day
=====================================  ===========  =================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import msgspec


class WorkerSettingsError(ValueError):
    """A worker configuration problem; the message names the variable."""


class WorkerSettings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    redis_url: str | None = None
    jyntrix_worker_queue: str = "jyntrix"
    jyntrix_worker_namespace: str = "dramatiq"
    jyntrix_worker_processes: int = 1
    jyntrix_worker_threads: int = 4
    jyntrix_worker_max_retries: int = 5
    jyntrix_worker_min_backoff_ms: int = 1_000
    jyntrix_worker_max_backoff_ms: int = 300_000
    jyntrix_worker_time_limit_ms: int = 600_000
    jyntrix_worker_heartbeat_timeout_ms: int = 60_000
    jyntrix_worker_maintenance_chance: int = 1_000
    jyntrix_worker_services: str | None = None
    jyntrix_summary_idle_s: float = 1_800.0
    jyntrix_worker_daily_purge: bool = True

    def __post_init__(self) -> None:
        for name in ("processes", "threads", "min_backoff_ms", "max_backoff_ms", "time_limit_ms"):
            if getattr(self, f"jyntrix_worker_{name}") < 1:
                raise WorkerSettingsError(f"JYNTRIX_WORKER_{name.upper()} must be at least 1")
        if self.jyntrix_worker_max_retries < 0:
            raise WorkerSettingsError("JYNTRIX_WORKER_MAX_RETRIES must not be negative")
        if not 0 <= self.jyntrix_worker_maintenance_chance <= 1_000_000:
            raise WorkerSettingsError("JYNTRIX_WORKER_MAINTENANCE_CHANCE must be between 0 and 1000000")
        if self.jyntrix_summary_idle_s < 0:
            raise WorkerSettingsError("JYNTRIX_SUMMARY_IDLE_S must not be negative")

    @property
    def broker_url(self) -> str:
        if not self.redis_url:
            raise WorkerSettingsError("REDIS_URL must be set: the worker takes its tasks from Redis")
        return self.redis_url


def load_worker_settings(env: Mapping[str, str] | None = None) -> WorkerSettings:
    source = os.environ if env is None else env
    raw: dict[str, Any] = {}
    for field in msgspec.structs.fields(WorkerSettings):
        value = source.get(field.encode_name)
        if value is not None and value.strip():
            raw[field.encode_name] = value.strip()
    try:
        return msgspec.convert(raw, WorkerSettings, strict=False)
    except msgspec.ValidationError as exc:
        raise WorkerSettingsError(f"invalid worker configuration: {exc}") from None
