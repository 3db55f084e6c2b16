"""A throwaway PostgreSQL server on loopback (Debian's binaries), and fresh databases on it.

Each pytest-xdist worker starts its own server: its own data folder (mkdtemp) and its own free port,
so workers never share a server, a port or a database.
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def binaries() -> Path | None:
    """The newest installed server's bin folder, or None when PostgreSQL is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    return Path(found[-1]) if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(bindir: Path, attempts: int = 3) -> Iterator[str]:
    """Start a server, yield its SQLAlchemy URL (database `postgres`), stop and remove it afterwards."""
    # Not under pytest's tmp dir: its parents are private to root, and the server runs as postgres.
    data = Path(tempfile.mkdtemp(prefix="atlas-pg-"))
    as_user = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(data, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    try:
        subprocess.run([*as_user, bindir / "initdb", "-D", data / "db", "-U", "postgres", "--auth=trust", "-E",
                        "UTF8"], check=True, capture_output=True)
        # A port found free can be taken by another process (another worker) before the server binds it.
        for attempt in range(attempts):
            port = _free_port()
            started = subprocess.run([*as_user, bindir / "pg_ctl", "-D", data / "db", "-l", data / "log", "-w",
                                      "-o", f"-h 127.0.0.1 -p {port} -k {data}", "start"], capture_output=True)
            if started.returncode == 0:
                break
            if attempt == attempts - 1:
                raise RuntimeError(f"PostgreSQL did not start: {started.stderr.decode(errors='replace')}")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, bindir / "pg_ctl", "-D", data / "db", "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def create_database(server_url: str, prefix: str = "atlas") -> str:
    """A new empty database on the server at `server_url`; returns its SQLAlchemy URL."""
    import psycopg

    name = f"{prefix}_{int(time.time() * 1e6)}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(server_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"
