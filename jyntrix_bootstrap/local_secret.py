"""The development JWT secret: generated once into the data directory, so that the server and `jyntrix token`
agree without configuration."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

LOCAL_SECRET_FILE = "jwt-secret"
MIN_SECRET_CHARS = 32


def local_secret(data_dir: Path) -> str:
    path = data_dir / LOCAL_SECRET_FILE
    try:
        existing = path.read_text().strip()
    except FileNotFoundError:
        existing = ""
    if len(existing) >= MIN_SECRET_CHARS:
        return existing
    data_dir.mkdir(parents=True, exist_ok=True)
    # Written whole under a temporary name with owner-only permissions, then hard-linked into place:
    # the link fails if another process won the race, and then both use the winner's secret.
    tmp = path.with_name(f".{LOCAL_SECRET_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    try:
        if existing:  # a truncated or hand-edited file too short to be safe is replaced
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()
