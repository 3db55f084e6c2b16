"""Shared fixtures: a fresh atlas home per test, the demo model built once, a real PostgreSQL server."""

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.home import Home

REPO = Path(__file__).resolve().parent.parent
# Real files written by A1111, ComfyUI, InvokeAI, NovelAI and Fooocus, plus broken ones (MIT, from the
# sd-parsers project: see its LICENSE.txt there). Kept in the repository so a clean clone tests with them.
FIXTURES = REPO / "tests" / "fixtures" / "sd-parsers"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Home:
    root = tmp_path / "home"
    monkeypatch.setenv("ATLAS_HOME", str(root))
    monkeypatch.delenv("ATLAS_DATABASE_URL", raising=False)
    return Home.resolve(root)


@pytest.fixture
def catalogue(home):
    cat = Catalogue.open(home)
    yield cat
    cat.close()


@pytest.fixture(scope="session")
def demo_model_dir(tmp_path_factory) -> Path:
    """The demo pipeline, built once per test session (building takes about a second)."""
    from atlas.engine.demo_model import build

    return build(tmp_path_factory.mktemp("demo-model") / "atlas-demo-tiny-sd")


@pytest.fixture
def demo_catalogue(catalogue, demo_model_dir):
    """A catalogue whose home already holds the demo model (as `ensure` would build it)."""
    from atlas.core.record.models import DEMO_MODEL_NAME
    from atlas.engine.demo_model import ensure

    shutil.copytree(demo_model_dir, catalogue.home.models / DEMO_MODEL_NAME)
    ensure(catalogue)
    return catalogue


class CliResult:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err

    def json(self):
        import json

        return json.loads(self.out)


@pytest.fixture
def cli(capsys, home):
    """Run `atlas ARGS...` in this process against the test's home."""
    from atlas.cli.main import main

    def run(*args) -> CliResult:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def run_atlas(*args, env=None, **kwargs) -> subprocess.CompletedProcess:
    """`atlas ARGS...` in a fresh interpreter (for import-cost and exit-code checks)."""
    return subprocess.run([sys.executable, "-m", "atlas.cli.main", *map(str, args)], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, **kwargs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory):
    """A throwaway PostgreSQL server on loopback, started from Debian's binaries."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed")
    bindir = Path(bins[-1])
    import tempfile

    # Not under pytest's tmp dir: its parents are private to root, and the server runs as postgres.
    data = Path(tempfile.mkdtemp(prefix="atlas-pg-"))
    as_user = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(data, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run([*as_user, bindir / "initdb", "-D", data / "db", "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    subprocess.run([*as_user, bindir / "pg_ctl", "-D", data / "db", "-l", data / "log", "-w", "-o",
                    f"-h 127.0.0.1 -p {port} -k {data}", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, bindir / "pg_ctl", "-D", data / "db", "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def pg_home(home, monkeypatch, postgres_url):
    """A home whose catalogue is a fresh PostgreSQL database."""
    import psycopg

    name = f"atlas_{int(time.time() * 1e6)}"
    plain = postgres_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    monkeypatch.setenv("ATLAS_DATABASE_URL", postgres_url.rsplit("/", 1)[0] + f"/{name}")
    return home
