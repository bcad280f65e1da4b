"""Whether a process recorded in a file (a pid) still runs: the embedded Postgres's handles and a serving
server's `server.json` both keep pids that a killed process leaves behind."""

from __future__ import annotations

import os


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists, whoever runs it; a pid no process can have is not alive."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, run by another user
    except (OSError, OverflowError):
        return False
    return True
