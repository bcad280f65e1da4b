"""Settings: one msgspec Struct decoded from the environment, once, at wiring.

A plain field is named after its environment variable (lower-cased). A section field nests a
config struct that owns its defaults and checks (the domain's RankingWeights, Budgets,
RetrievalConfig, ChatConfig, GenerationSettings; the adapters' DramatiqConfig and
InProcessQueueConfig); its variables are derived from the struct's fields (see SECTIONS and
jyntrix_bootstrap.environment), so a field added to such a struct is a setting without editing
this module.
Unset or empty variables take the defaults, which are the embedded deployment: no external
service, no key. An invalid value stops start-up with an error naming the variable.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from jyntrix_adapters.dramatiq.broker import DramatiqConfig
from jyntrix_adapters.inprocess.task_queue import InProcessQueueConfig
from jyntrix_adapters.support.llm_retry import GenerationSettings
from jyntrix_bootstrap.choices import Deployment as Deployment  # part of this module's interface
from jyntrix_bootstrap.choices import Environment as Environment
from jyntrix_bootstrap.choices import KeywordIndexKind as KeywordIndexKind
from jyntrix_bootstrap.choices import TaskRunner as TaskRunner
from jyntrix_bootstrap.choices import VectorIndexKind as VectorIndexKind
from jyntrix_bootstrap.environment import Section, read_section, section_variables
from jyntrix_bootstrap.environment import SettingsError as SettingsError  # part of this module's interface
from jyntrix_bootstrap.local_secret import MIN_SECRET_CHARS, local_secret
from jyntrix_domain import embedding_cache
from jyntrix_domain.chat import ChatConfig
from jyntrix_domain.context import Budgets
from jyntrix_domain.ranking import RankFormula, RankingWeights
from jyntrix_domain.relevance import RelevanceConfig
from jyntrix_domain.retrieval import RetrievalConfig

DEV_TOKEN_ISSUER = "jyntrix-dev"

log = logging.getLogger("jyntrix.settings")


class WorkerConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The dramatiq worker process (`python -m jyntrix_worker`); where its tasks go is DramatiqConfig."""

    processes: int = 1
    threads: int = 4
    # "module:function" building the worker's handlers instead of the standard wiring (embedding apps, tests).
    services: str | None = None
    # Summarise a conversation after this long without a new message; 0 turns it off.
    summary_idle_s: float = 1_800.0
    # Purge analytics past retention daily, wherever the handlers run (the worker, or the API in process).
    daily_purge: bool = True

    def __post_init__(self) -> None:
        if self.processes < 1 or self.threads < 1:
            raise ValueError("processes and threads must be at least 1")
        if self.summary_idle_s < 0:
            raise ValueError("summary_idle_s must not be negative")


SECTIONS = (
    Section("ranking", "RANK_WEIGHT_", {"half_life_days": "RANK_RECENCY_HALF_LIFE_DAYS"}),
    Section("budgets", "CONTEXT_BUDGET_"),
    Section("retrieval", "RETRIEVAL_", {"strategy_timeout_s": "RETRIEVAL_TIMEOUT_S"}),
    Section("chat", "CHAT_"),
    Section("relevance", "RELEVANCE_"),
    Section("llm", "LLM_"),
    Section("tasks", "TASK_"),
    Section("dramatiq", "JYNTRIX_WORKER_"),
    Section("worker", "JYNTRIX_WORKER_", {"summary_idle_s": "JYNTRIX_SUMMARY_IDLE_S"}),
)
"""The nested config structs and the variables they are read from."""
_SECTION_FIELDS = frozenset(section.field for section in SECTIONS)


class Settings(msgspec.Struct, frozen=True, kw_only=True, rename="upper", forbid_unknown_fields=False):
    # Runtime
    # Unset: development on a loopback bind (so `make run` needs nothing), production anywhere else.
    environment: Environment | None = None
    jyntrix_deployment: Deployment = Deployment.EMBEDDED
    jyntrix_data_dir: str = ".jyntrix"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    # Prometheus metrics on a port of their own, never behind a token: loopback unless moved.
    metrics_host: str = "127.0.0.1"
    # A port, 0 for any free one, or `off`.
    metrics_port: str = "9464"
    cors_origins: tuple[str, ...] = ("http://localhost:3000", "http://127.0.0.1:3000")

    # Storage and infrastructure (unset: embedded alternatives)
    database_url: str | None = None
    database_pool_size: int = 10
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    qdrant_collection: str = "memories"
    vector_index: VectorIndexKind | None = None
    keyword_index: KeywordIndexKind | None = None
    # Qdrant Edge: optimise the shard in the background past this many points (0: never), then after this many
    # further writes.
    vector_optimize_points: int = 20_000
    vector_optimize_after_writes: int = 20_000
    redis_url: str | None = None
    # What every key of the cache and the rate limiter starts with: deployments sharing one Redis differ here.
    redis_key_prefix: str = "jyntrix:"
    task_runner: TaskRunner = TaskRunner.IN_PROCESS

    # Language models (unset: the offline grounded responder); what they are asked is the `llm` section.
    google_ai_api_key: str | None = None
    gemini_model: str = "gemini-2.5-flash"
    gemini_base_url: str | None = None
    openai_base_url: str | None = None
    openai_api_key: str | None = None
    openai_model: str = "llama3.2"
    offline_llm_token_delay_s: float = 0.01

    # Embeddings
    embedding_model_dir: str | None = None
    embedding_cache_size: int = embedding_cache.DEFAULT_MAX_ENTRIES
    embedding_cache_ttl_s: float = embedding_cache.DEFAULT_TTL_S

    # Auth (Supabase-compatible JWT)
    supabase_jwt_secret: str | None = None
    supabase_jwks_url: str | None = None
    jwt_audience: str = "authenticated"
    jwt_algorithms: tuple[str, ...] = ("RS256", "ES256")

    # Rate limiting, per user
    rate_limit_requests: int = 100
    rate_limit_window_s: float = 60.0
    # Requests no token vouches for (public routes, no bearer token, a refused token), per client address.
    rate_limit_anonymous_requests: int = 300
    # Bulk work (imports, index rebuilds) running at once: per user, and for the whole server.
    bulk_concurrency_per_user: int = 1
    bulk_concurrency: int = 4
    # The largest export `POST /api/memories/restore` reads (bytes of JSON).
    restore_max_body_bytes: int = 128 * 1024 * 1024
    # Proxies whose X-Forwarded-For (and X-Forwarded-Proto) count; anyone else's forwarding headers are ignored.
    trusted_proxies: tuple[str, ...] = ()
    # Host names answered besides loopback ones (exact names, `*.domain`, or `*` for any): DNS rebinding's defence.
    allowed_hosts: tuple[str, ...] = ()

    # RANK_FORMULA=seed brings back the seed's exact weights, signals and calibration (see docs/configuration.md).
    rank_formula: RankFormula = RankFormula.DEFAULT
    rank_adaptive: bool = True
    # Analytics
    analytics_retention_days: int = 90
    # A chat turn emits some fifteen spans and each batch is a transaction: a hundred spans a write, not one a
    # turn (the flush interval still bounds how long a span waits).
    analytics_batch_size: int = 100
    analytics_flush_interval_s: float = 10.0
    # Extraction batches a crash left pending are enqueued again at start-up and every this many seconds
    # (those pending longer than that); 0 keeps only the start-up pass.
    extraction_recovery_interval_s: float = 60.0

    # Sections (SECTIONS): config structs that own their defaults and checks
    ranking: RankingWeights = msgspec.field(default_factory=RankingWeights)
    budgets: Budgets = msgspec.field(default_factory=Budgets)
    retrieval: RetrievalConfig = msgspec.field(default_factory=RetrievalConfig)
    chat: ChatConfig = msgspec.field(default_factory=ChatConfig)
    relevance: RelevanceConfig = msgspec.field(default_factory=RelevanceConfig)
    # LLM_MAX_OUTPUT_TOKENS, LLM_TEMPERATURE, LLM_TIMEOUT_S: what the Gemini or OpenAI-compatible model is asked.
    llm: GenerationSettings = msgspec.field(default_factory=GenerationSettings)
    # The in-process queue (TASK_RUNNER=in_process).
    tasks: InProcessQueueConfig = msgspec.field(default_factory=InProcessQueueConfig)
    # Read by the API (where it sends tasks when TASK_RUNNER=dramatiq) and by the worker.
    dramatiq: DramatiqConfig = msgspec.field(default_factory=DramatiqConfig)
    worker: WorkerConfig = msgspec.field(default_factory=WorkerConfig)

    def __post_init__(self) -> None:
        _check(1 <= self.port <= 65535, "PORT", "must be between 1 and 65535")
        _check(self.restore_max_body_bytes >= 1, "RESTORE_MAX_BODY_BYTES", "must be at least 1")
        port = self.metrics_port.strip().lower()
        _check(
            port == "off" or (port.isdigit() and 0 <= int(port) <= 65535),
            "METRICS_PORT",
            "must be a port (0..65535; 0 takes any free one) or off",
        )
        _check(self.vector_optimize_points >= 0, "VECTOR_OPTIMIZE_POINTS", "must not be negative (0: never)")
        _check(self.vector_optimize_after_writes >= 1, "VECTOR_OPTIMIZE_AFTER_WRITES", "must be at least 1")
        _check(self.rate_limit_requests >= 1, "RATE_LIMIT_REQUESTS", "must be at least 1")
        _check(self.bulk_concurrency_per_user >= 1, "BULK_CONCURRENCY_PER_USER", "must be at least 1")
        _check(
            self.bulk_concurrency >= self.bulk_concurrency_per_user,
            "BULK_CONCURRENCY",
            "must be at least BULK_CONCURRENCY_PER_USER",
        )
        _check(self.rate_limit_window_s > 0, "RATE_LIMIT_WINDOW_S", "must be positive")
        _check(self.rate_limit_anonymous_requests >= 1, "RATE_LIMIT_ANONYMOUS_REQUESTS", "must be at least 1")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                _check(False, "TRUSTED_PROXIES", f"{proxy!r} is not an IP address or network")
        for host in self.allowed_hosts:
            _check(
                _is_host_pattern(host),
                "ALLOWED_HOSTS",
                f"{host!r} is not a host name, an IP address, `*.domain` or `*` (no scheme, port or path)",
            )
        _check(0 <= self.offline_llm_token_delay_s <= 5, "OFFLINE_LLM_TOKEN_DELAY_S", "must be between 0 and 5")
        _check(self.analytics_retention_days >= 1, "ANALYTICS_RETENTION_DAYS", "must be at least 1")
        _check(self.analytics_batch_size >= 1, "ANALYTICS_BATCH_SIZE", "must be at least 1")
        _check(self.analytics_flush_interval_s > 0, "ANALYTICS_FLUSH_INTERVAL_S", "must be positive")
        _check(self.extraction_recovery_interval_s >= 0, "EXTRACTION_RECOVERY_INTERVAL_S", "must not be negative")
        _check(self.log_level.upper() in _LOG_LEVELS, "LOG_LEVEL", f"must be one of {', '.join(_LOG_LEVELS)}")
        _check(
            not (self.vector_index is VectorIndexKind.QDRANT and not self.qdrant_url),
            "VECTOR_INDEX",
            "qdrant needs QDRANT_URL",
        )
        in_process = self.jyntrix_deployment is Deployment.IN_PROCESS
        _check(
            not (in_process and self.vector_index is VectorIndexKind.PGVECTOR),
            "VECTOR_INDEX",
            "pgvector needs Postgres (JYNTRIX_DEPLOYMENT=embedded)",
        )
        _check(
            not (in_process and self.keyword_index is KeywordIndexKind.POSTGRES),
            "KEYWORD_INDEX",
            "postgres needs Postgres (JYNTRIX_DEPLOYMENT=embedded)",
        )
        _check(
            not (self.task_runner is TaskRunner.DRAMATIQ and not self.redis_url),
            "TASK_RUNNER",
            "dramatiq needs REDIS_URL for its broker",
        )
        _check(
            set(self.jwt_algorithms) <= _ASYMMETRIC_ALGORITHMS,
            "JWT_ALGORITHMS",
            f"must be among {', '.join(sorted(_ASYMMETRIC_ALGORITHMS))} (HS256 uses SUPABASE_JWT_SECRET)",
        )
        if self.supabase_jwt_secret is not None:
            _check(
                len(self.supabase_jwt_secret) >= MIN_SECRET_CHARS,
                "SUPABASE_JWT_SECRET",
                f"must be at least {MIN_SECRET_CHARS} characters",
            )
        if self.environment is Environment.PRODUCTION:
            _check(
                bool(self.supabase_jwt_secret or self.supabase_jwks_url),
                "SUPABASE_JWT_SECRET",
                "or SUPABASE_JWKS_URL must be set in production",
            )
        elif self.environment is None and not is_loopback(self.host):
            _check(
                bool(self.supabase_jwt_secret or self.supabase_jwks_url),
                "SUPABASE_JWT_SECRET",
                f"or SUPABASE_JWKS_URL must be set to serve on HOST={self.host}, which is not a loopback address"
                " (or bind HOST=127.0.0.1, or set ENVIRONMENT=development to use a local development secret)",
            )

    @property
    def metrics_bind(self) -> tuple[str, int] | None:
        """Where the metrics endpoint listens (port 0: any free one), or None with METRICS_PORT=off."""
        port = self.metrics_port.strip().lower()
        return None if port == "off" else (self.metrics_host, int(port))

    @property
    def data_dir(self) -> Path:
        return Path(self.jyntrix_data_dir)

    @property
    def is_development(self) -> bool:
        """ENVIRONMENT=development, or ENVIRONMENT unset with a loopback HOST: local secret, dev tokens."""
        if self.environment is None:
            return is_loopback(self.host)
        return self.environment is Environment.DEVELOPMENT

    @property
    def shows_error_causes(self) -> bool:
        """Only an explicit ENVIRONMENT=development puts the causes of 500s in their bodies."""
        return self.environment is Environment.DEVELOPMENT

    @property
    def broker_url(self) -> str:
        """REDIS_URL, which the dramatiq worker and its sender need."""
        if not self.redis_url:
            raise SettingsError("REDIS_URL must be set: the worker takes its tasks from Redis")
        return self.redis_url


_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
_ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "EdDSA"})
_LIST_FIELDS = frozenset({"CORS_ORIGINS", "JWT_ALGORITHMS", "TRUSTED_PROXIES", "ALLOWED_HOSTS"})
_HOST_NAME = re.compile(r"(\*\.)?[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.?")
_PLAIN_FIELDS = frozenset(f.encode_name for f in msgspec.structs.fields(Settings) if f.name not in _SECTION_FIELDS)


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def _is_host_pattern(host: str) -> bool:
    """`*`, a host name (`*.` in front for its subdomains), or an IP address (IPv6 in brackets or not)."""
    if host == "*" or _HOST_NAME.fullmatch(host):
        return True
    try:
        ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    return True


def _check(ok: bool, variable: str, problem: str) -> None:
    if not ok:
        raise SettingsError(f"{variable} {problem}")


def _section_types() -> dict[str, Any]:
    return {f.name: f.type for f in msgspec.structs.fields(Settings) if f.name in _SECTION_FIELDS}


def variable_names() -> tuple[str, ...]:
    """Every environment variable Settings reads, sections included."""
    plain = [f.encode_name for f in msgspec.structs.fields(Settings) if f.name not in _SECTION_FIELDS]
    types = _section_types()
    derived = [name for section in SECTIONS for name in section_variables(section, types[section.field])]
    return (*plain, *derived)


def load_settings(env: Mapping[str, str] | None = None, *, create_local_secret: bool = True) -> Settings:
    """Decode Settings from `env` (default: os.environ) and fill in the local development secret.

    Raises SettingsError naming the variable when a value is invalid.
    """
    source = _with_renamed(os.environ if env is None else env)
    raw: dict[str, Any] = {}
    for name in variable_names():
        value = source.get(name)
        if value is None or not value.strip():
            continue
        value = value.strip()
        raw[name] = [v.strip() for v in value.split(",") if v.strip()] if name in _LIST_FIELDS else value
    defaults = Settings()
    types = _section_types()
    sections = {
        section.field: read_section(section, types[section.field], raw, getattr(defaults, section.field))
        for section in SECTIONS
    }
    plain = {name: value for name, value in raw.items() if name in _PLAIN_FIELDS}
    try:
        settings = msgspec.structs.replace(msgspec.convert(plain, Settings, strict=False), **sections)
    except msgspec.ValidationError as exc:
        raise SettingsError(_explain(exc, raw)) from None
    if create_local_secret:
        settings = with_local_secret(settings)
    return settings


# Variables renamed (old name: new name), so that "profile" means only the user's profile. An old name is still
# read, with a warning, when the new one is unset.
RENAMED = {"JYNTRIX_PROFILE": "JYNTRIX_DEPLOYMENT", "RANK_PROFILE": "RANK_FORMULA"}


def _with_renamed(source: Mapping[str, str]) -> Mapping[str, str]:
    moved = {}
    for old, new in RENAMED.items():
        if (source.get(old) or "").strip() and not (source.get(new) or "").strip():
            log.warning("%s is deprecated and will stop working: set %s instead", old, new)
            moved[new] = source[old]
    return {**source, **moved} if moved else source


def _explain(exc: msgspec.ValidationError, raw: Mapping[str, Any]) -> str:
    message = str(exc)
    # msgspec reports "Expected `int`, got `str` - at `$.PORT`"; say it in the terms of the environment.
    if " - at `$." in message:
        problem, _, where = message.partition(" - at `$.")
        name = where.rstrip("`").split("[")[0].split(".")[0]
        return f"{name}={raw.get(name)!r} is invalid: {problem}"
    return f"invalid configuration: {message}"


def with_local_secret(settings: Settings) -> Settings:
    """In development with no secret and no JWKS URL, use one generated once and kept in the data dir.

    The server and `jyntrix token` both read it, so a minted token is accepted without configuration.
    """
    if settings.supabase_jwt_secret or settings.supabase_jwks_url or not settings.is_development:
        return settings
    return msgspec.structs.replace(settings, supabase_jwt_secret=local_secret(settings.data_dir))
