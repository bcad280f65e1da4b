"""The Host allow-list read alone: which header values name which host, and which ALLOWED_HOSTS entries match them."""

from __future__ import annotations

import pytest

from jyntrix_http.allowed_hosts import HostAllowList, host_name


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("Memory.Example.com:8000", "memory.example.com"),
        ("localhost.", "localhost"),
        ("[::1]:8000", "::1"),
        ("[FD00:0:0::1]", "fd00::1"),
        ("127.0.0.1", "127.0.0.1"),
        ("localhost:8000@attacker.example", ""),
        ("attacker.example:8000/x", ""),
        ("a:b:c", ""),
        ("fd00::1", ""),  # an IPv6 address in a Host is always bracketed
        ("", ""),
    ],
)
def test_a_host_header_names_its_host_or_nothing(header: str, name: str) -> None:
    assert host_name(header) == name


def test_ipv6_entries_match_bracketed_or_not_in_any_written_form() -> None:
    hosts = HostAllowList(["fd00::1", "[fd00::2]", "10.0.0.5", "Memory.Example.com."])
    allowed = ["[fd00::1]:8000", "[FD00:0::1]", "[fd00::2]", "10.0.0.5:443", "memory.example.com"]
    refused = ["[fd00::3]", "fd00", "10.0.0.50", "example.com", "fd00::1"]
    assert [h for h in allowed if not hosts.allows(h)] == []
    assert [h for h in refused if hosts.allows(h)] == []
