"""Domain errors: adapters translate driver errors into these at their boundary."""


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "error"


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class Invalid(DomainError):
    code = "invalid"


class Conflict(DomainError):
    code = "conflict"


class Unavailable(DomainError):
    """A dependency is down or timed out; the request may be retried."""

    code = "unavailable"


class RateLimited(DomainError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: float, *, limit: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.limit = limit


class Unsupported(DomainError):
    """The adapter cannot do this (for example structured output from a model that has none)."""

    code = "unsupported"
