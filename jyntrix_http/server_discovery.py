"""Which server `jyntrix import` and `jyntrix mcp` talk to, and what they say when there is none.

Where a server is serving is kept in its data directory, so that the commands run beside it find it on any port.

`jyntrix serve` writes `server.json` (`{"url", "pid"}`) into JYNTRIX_DATA_DIR at start-up and removes it on a
clean shutdown. `jyntrix import` and `jyntrix mcp` read it when JYNTRIX_URL is not set. A file left by a server
that died must not send them astray, so it counts only while its process lives and its address answers as
Jyntrix (`GET /` names it); otherwise they go on as if there were none.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import httpx
import msgspec

from jyntrix_adapters.support.processes import process_alive
from jyntrix_bootstrap.settings import Settings

if TYPE_CHECKING:
    from jyntrix_bootstrap.services import Runtime

SERVING_FILE = "server.json"
PROBE_TIMEOUT_S = 2.0
URL_VARIABLE = "JYNTRIX_URL"
TOKEN_VARIABLE = "JYNTRIX_TOKEN"

log = logging.getLogger("jyntrix.http")


class SetupError(Exception):
    """Why a command cannot reach its memories, in words for the person running it."""


class Serving(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    pid: int


def serving_path(settings: Settings) -> Path:
    return settings.data_dir / SERVING_FILE


def local_url(host: str, port: int) -> str:
    """The address a client on this machine uses for a server bound to `host` (a wildcard means loopback)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"http://{host}:{port}"  # a name (localhost, the machine's own)
    if address.is_unspecified:
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    shown = f"[{address}]" if address.version == 6 else str(address)
    return f"http://{shown}:{port}"


def write_serving_file(settings: Settings) -> Serving | None:
    """Record this process as serving the data directory; None (and a warning) when the directory is read-only."""
    serving = Serving(url=local_url(settings.host, settings.port), pid=os.getpid())
    path = serving_path(settings)
    partial = path.with_name(f".{SERVING_FILE}.{serving.pid}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(msgspec.json.encode(serving))
        os.replace(partial, path)  # whole or not at all: a reader never sees half a file
    except OSError as exc:
        log.warning("could not write %s (jyntrix import and mcp will need JYNTRIX_URL): %s", path, exc)
        return None
    return serving


def remove_serving_file(settings: Settings, serving: Serving | None) -> None:
    """Remove the file on shutdown, unless another server has written its own since."""
    path = serving_path(settings)
    if serving is None or read_serving_file(path) != serving:
        return
    with contextlib.suppress(OSError):
        path.unlink()


def read_serving_file(path: Path) -> Serving | None:
    try:
        return msgspec.json.decode(path.read_bytes(), type=Serving)
    except (OSError, msgspec.DecodeError):
        return None


async def answers_as_jyntrix(url: str) -> bool:
    """Whether a Jyntrix server answers at `url` (its index names it)."""
    try:
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_S) as client:
            response = await client.get(f"{url.rstrip('/')}/")
        return response.status_code == 200 and response.json().get("name") == "jyntrix"
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


async def find_server(settings: Settings) -> str | None:
    """The address of the server serving this data directory, if one is running and answers."""
    serving = read_serving_file(serving_path(settings))
    if serving is None or not process_alive(serving.pid):
        return None
    return serving.url if await answers_as_jyntrix(serving.url) else None


def remote_token(url: str, user: str | None, token: str | None, settings: Settings) -> str:
    """The token given, else a dev token for `user` signed with the local secret."""
    if token:
        return token
    if user and settings.supabase_jwt_secret:
        from jyntrix_http.auth import mint_token

        return mint_token(settings.supabase_jwt_secret, user, audience=settings.jwt_audience)
    raise SetupError(
        f"no token for the server at {url}: set {TOKEN_VARIABLE} to a token for it "
        "(`jyntrix token --user ID` on its machine), or pass --user when it shares this data directory's secret"
    )


def describe_open_failure(settings: Settings, exc: BaseException) -> str:
    """Two lines for a data directory that would not open and no server found: why, and what to set."""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    first = reason.split(". ", 1)[0]
    reason = first if len(first) <= 160 else first[:159] + "…"
    return (
        f"could not open the data directory {settings.data_dir} (JYNTRIX_DATA_DIR): {reason}\n"
        f"No running server was found for it ({URL_VARIABLE} unset, no live one in its {SERVING_FILE}): set "
        f"{URL_VARIABLE} to your server's address and {TOKEN_VARIABLE} to a token, or JYNTRIX_DATA_DIR to another "
        "directory."
    )


async def check_reachable(url: str) -> None:
    """Raises SetupError, in one line saying what to set, when nothing answers at the address given.

    Any HTTP answer counts (a proxy may serve no index); only a failed connection is refused here, before a
    command starts work that would end in a transport error naming no setting.
    """
    try:
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_S) as client:
            await client.get(f"{url.rstrip('/')}/")
    except httpx.HTTPError as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise SetupError(
            f"no server answers at {url} ({reason}): start it, or set {URL_VARIABLE} (or --url) to the address "
            "where it serves"
        ) from None


async def server_url(given: str | None, settings: Settings) -> str | None:
    """The server to talk to: the one given (JYNTRIX_URL, --url), else the one serving the data directory."""
    return given or await find_server(settings)


class Remote(NamedTuple):
    """A running server to talk to, and the token to talk to it with."""

    url: str
    token: str


async def find_remote(given: str | None, user: str | None, token: str | None, settings: Settings) -> Remote | None:
    """The server given, else the one serving the data directory, with a token for it and checked to answer
    (SetupError when it does not); None when there is none, and the data directory is then opened here."""
    url = await server_url(given, settings)
    if not url:
        return None
    remote = Remote(url, remote_token(url, user, token, settings))
    await check_reachable(url)
    return remote


def require_user(user: str | None, opening: str) -> str:
    """The user the data directory is opened for: `--user` is required when no server is there to take a token."""
    if not user:
        raise SetupError(f"--user is required to {opening}: no {URL_VARIABLE} is set and no server is serving it")
    return user


async def open_data_directory(settings: Settings, overrides: Mapping[str, Any] | None = None) -> Runtime:
    """The runtime on the data directory itself; SetupError in two lines (describe_open_failure) when it will not
    open (another process holds it, or no server was found and it is not there)."""
    from jyntrix_bootstrap.container import build_services  # a second of imports the remote path does without

    try:
        return await build_services(settings, overrides=overrides)
    except Exception as exc:
        # A failed start cancels the resources still opening, and asyncio logs each cancelled callback as an
        # error while the process winds down: noise around the one message that matters.
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        raise SetupError(describe_open_failure(settings, exc)) from exc
