import pytest

from jyntrix_adapters.support.backoff import Backoff
from jyntrix_domain.errors import Invalid, RateLimited


def test_delays_double_up_to_the_cap() -> None:
    policy = Backoff(initial_s=0.5, max_s=3.0, jitter=1.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_jitter_only_shortens_the_delay() -> None:
    policy = Backoff(initial_s=1.0, max_s=8.0, jitter=0.5)
    delays = [policy.delay(2) for _ in range(200)]
    assert all(1.0 <= d <= 2.0 for d in delays)
    assert len(set(delays)) > 1


def test_a_servers_retry_after_is_honoured_within_the_cap() -> None:
    policy = Backoff(initial_s=0.5, max_s=8.0, jitter=1.0)
    assert policy.delay(1, RateLimited("slow down", retry_after_s=5.0)) == 5.0
    assert policy.delay(1, RateLimited("slow down", retry_after_s=60.0)) == 8.0
    assert policy.delay(1, ValueError("not a rate limit")) == 0.5


@pytest.mark.parametrize("kwargs", [{"initial_s": -1.0}, {"initial_s": 2.0, "max_s": 1.0}, {"jitter": 1.5}])
def test_nonsense_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(Invalid):
        Backoff(**kwargs)
