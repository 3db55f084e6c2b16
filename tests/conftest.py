"""Shared fixtures: a fresh atlas home per test, the demo model built once, a real PostgreSQL server,
a signed catalogue and the reference lineage. Helpers they build on live in tests/support/."""

import json
import os
import shutil
from pathlib import Path

import pytest

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.home import Home
from tests.support import postgres
from tests.support.reference_lineage import build_reference

# One torch (OpenMP) thread per process, set before torch loads: xdist runs a worker per core, and
# workers each spinning up threads of their own oversubscribe the cores; the demo model's many tiny
# ops then wait on each other (three engine test files took 78 s on two cores, 24 s with this).
# Commands the tests start inherit it, so their pixels match the ones made in the worker.
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

# The markers follow from the fixtures (pyproject's [tool.pytest.ini_options] markers say what each means).
POSTGRES_FIXTURES = {"postgres_url", "pg_home"}
SLOW_FIXTURES = {"demo_model_dir"}  # demo_catalogue, signed_catalogue and demo_recipe_run build on it


def pytest_collection_modifyitems(items):
    """Mark `postgres` every test on PostgreSQL: those that use a PostgreSQL fixture, and those
    parametrized with the "postgresql" backend (they ask for the server at run time, through
    request.getfixturevalue). Mark `slow` every test that runs the demo pipeline."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        params = getattr(item, "callspec", None)
        on_postgres = params is not None and any(v == "postgresql" for v in params.params.values()
                                                 if isinstance(v, str))
        if on_postgres or POSTGRES_FIXTURES & fixtures:
            item.add_marker(pytest.mark.postgres)
        if SLOW_FIXTURES & fixtures:
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture(scope="session")
def demo_recipe_run(tmp_path_factory, demo_model_dir):
    """One `atlas demo --seed 5` as the quick start runs it (final render shown as text), in a home
    of its own: (home root, what it printed, seconds). The recipe takes minutes, so the tests that
    read or re-render its 17 renders share this run; they carry xdist_group("demo_recipe"), which
    keeps them on one worker, where it runs once. They must not change that catalogue."""
    import contextlib
    import io
    import time

    from atlas.cli.main import main
    from atlas.core.record.models import DEMO_MODEL_NAME
    from atlas.engine.demo_model import ensure

    root = tmp_path_factory.mktemp("demo-recipe") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("ATLAS_DATABASE_URL", raising=False)
        cat = Catalogue.open(Home.resolve(root))
        try:
            shutil.copytree(demo_model_dir, cat.home.models / DEMO_MODEL_NAME)
            ensure(cat)
        finally:
            cat.close()
        out, started = io.StringIO(), time.monotonic()
        with contextlib.redirect_stdout(out):
            code = main(["--home", str(root), "demo", "--seed", "5"])
    assert code == 0, out.getvalue()
    return root, out.getvalue(), time.monotonic() - started


@pytest.fixture
def demo_run(home, monkeypatch, demo_recipe_run):
    """The shared demo recipe run's catalogue (`demo_recipe_run`); `cli` commands run against it."""
    root = demo_recipe_run[0]
    monkeypatch.setenv("ATLAS_HOME", str(root))
    cat = Catalogue.open(Home.resolve(root))
    yield cat
    cat.close()


@pytest.fixture
def rendered(demo_catalogue):
    """(PNG bytes, provenance record) of one txt2img render of the demo model, for the export tests."""
    from atlas.core.catalogue.tables import Render
    from atlas.core.record.build import build
    from tests.support.renders import stored, txt2img

    render = txt2img(demo_catalogue)
    with demo_catalogue.session() as session:
        record = build(session, session.get(Render, render.id))
    return stored(demo_catalogue, render).read_bytes(), record


@pytest.fixture
def signed_catalogue(demo_catalogue, cli):
    """The demo catalogue after `atlas keys init`: every render it makes from now on is signed."""
    result = cli("keys", "init", "--owner", "Ann Example", "--json")
    assert result.code == 0, result.err
    return demo_catalogue


@pytest.fixture
def reference(catalogue):
    """The reference lineage (tests/support/reference_lineage.py) in a fresh catalogue: (catalogue, renders)."""
    return catalogue, build_reference(catalogue)


class CliResult:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err

    def json(self):
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


@pytest.fixture
def tui_notices(monkeypatch):
    """Keep every notification the TUI raises, for tests.support.tui_screen.messages."""
    from atlas.tui.app import AtlasApp
    from tests.support.tui_screen import record_notifications

    record_notifications(monkeypatch, AtlasApp)


@pytest.fixture(scope="session")
def postgres_url():
    """This worker's throwaway PostgreSQL server (tests/support/postgres.py); its `postgres` database."""
    bindir = postgres.binaries()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed")
    with postgres.server(bindir) as url:
        yield url


@pytest.fixture
def pg_home(home, monkeypatch, postgres_url):
    """A home whose catalogue is a fresh PostgreSQL database."""
    monkeypatch.setenv("ATLAS_DATABASE_URL", postgres.create_database(postgres_url))
    return home


@pytest.fixture
def fixed(home):
    """(catalogue, ids) of the TUI tests' catalogue (tests/support/tui_catalogue.py), clock not frozen.
    A short busy timeout: a locked-database test should not wait 30 s."""
    from atlas.core.catalogue import Catalogue
    from tests.support import tui_catalogue

    catalogue = Catalogue.open(home, busy_timeout=0.5)
    ids = tui_catalogue.build(catalogue, frozen=False)
    yield catalogue, ids
    catalogue.close()
