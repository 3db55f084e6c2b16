"""`atlas tui` starts on the sqlite3 reader (`actions/browsing.py`): its pages and counts are the
SQLAlchemy path's, the first screen loads no SQLAlchemy, and the real catalogue opens on first use."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from atlas.core.actions import browsing, listing
from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.home import Home
from atlas.tui.widgets.results import SORT_KEYS
from tests.support.varied_catalogue import fill

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ["", "fox", "-fox", "fox OR castle", 'sampler:"Euler a"', "sampler:euler*", "cfg:>=7", "seed:1..4",
           "model:sd15", "-model:sd15", "licence:CC0-1.0", "tag:best", "-tag:best", "kind:upscale", "hidden",
           "-hidden", "rating:>=4", "created:2025", "size:512x512", "tool:comfy*", "sort:seed", "sort:-model",
           "fox sort:-rating", "tag:best sort:-size"]


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """(DeferredCatalogue, Catalogue) on one varied catalogue."""
    home = Home.resolve(tmp_path_factory.mktemp("start") / "home")
    catalogue = Catalogue.open(home)
    fill(home.database_path, 400)
    deferred = browsing.DeferredCatalogue(home, 2.0)
    yield deferred, catalogue
    deferred.close()
    catalogue.close()


def test_the_catalogue_qualifies_for_the_reader(both):
    deferred, _ = both
    assert browsing.readable(deferred.home)
    assert deferred.reader() is not None


@pytest.mark.parametrize("text", QUERIES)
def test_pages_and_counts_are_the_sqlalchemy_paths(both, text):
    deferred, catalogue = both
    for offset in (0, 37):
        found = browsing.page(deferred, text, offset, 50)
        assert found == listing.page(catalogue, text, offset, 50), text
    assert browsing.count(deferred, text) == listing.count(catalogue, text), text
    assert deferred._catalogue is None  # none of it opened the SQLAlchemy catalogue


@pytest.mark.parametrize("sort", SORT_KEYS)
@pytest.mark.parametrize("descending", [True, False])
def test_the_tables_column_sorts_are_the_sqlalchemy_paths(both, sort, descending):
    deferred, catalogue = both
    found = browsing.page(deferred, "fox OR tag:best", 10, 60, sort, descending)
    assert len(found) == 60
    assert found == listing.page(catalogue, "fox OR tag:best", 10, 60, sort, descending)


def test_a_plain_catalogue_is_read_through_sqlalchemy(both):
    _, catalogue = both
    assert browsing.page(catalogue, "fox", 0, 20) == listing.page(catalogue, "fox", 0, 20)
    assert browsing.count(catalogue, "fox") == listing.count(catalogue, "fox")


def test_the_real_catalogue_opens_on_first_use_and_its_writes_show(tmp_path):
    home = Home.resolve(tmp_path / "home")
    Catalogue.open(home).close()
    fill(home.database_path, 30)
    deferred = browsing.DeferredCatalogue(home, 2.0)
    try:
        first = browsing.page(deferred, "", 0, 1)[0]
        assert deferred._catalogue is None
        assert deferred.store.root == home.store  # an attribute of the real catalogue: opened now
        assert deferred._catalogue is not None
        from atlas.core.actions import tagging

        tagging.tag(deferred, [first.id], ["fresh-tag"], [])  # written through SQLAlchemy ...
        assert [row.id for row in browsing.page(deferred, "tag:fresh-tag")] == [first.id]  # ... read by sqlite3
    finally:
        deferred.close()


def test_the_reader_is_declined_where_it_cannot_answer(tmp_path, monkeypatch):
    monkeypatch.delenv("ATLAS_DATABASE_URL", raising=False)
    home = Home.resolve(tmp_path / "new")
    assert not browsing.readable(home)  # no catalogue yet: `atlas tui` opens (creates) it as before
    Catalogue.open(home).close()
    assert browsing.readable(home)
    monkeypatch.setenv("ATLAS_NO_READER", "1")
    assert not browsing.readable(home)


FIRST_SCREEN = textwrap.dedent("""
    import asyncio, json, sys
    from atlas.core.actions.browsing import DeferredCatalogue
    from atlas.core.catalogue.home import Home
    from atlas.tui.quick_start import QuickStartApp
    from atlas.tui.widgets.results import ResultsTable

    async def main():
        app = QuickStartApp(DeferredCatalogue(Home.resolve(sys.argv[1]), 2.0), image_mode="halfcell")
        out = {}
        async with app.run_test(size=(170, 40)) as pilot:  # wide: the preview pane asks for the first row's file
            table = app.screen.query_one(ResultsTable)
            for _ in range(400):
                await pilot.pause(0.01)
                if table.row_count and "sqlalchemy" not in out:
                    out["rows"] = [int(key.value) for key in table.rows]
                    out["sqlalchemy"] = "sqlalchemy" in sys.modules
                if table.total is not None and table.row_count and app.catalogue._catalogue is not None:
                    break
            out["opened"] = app.catalogue._catalogue is not None
            out["total"] = table.total
        print(json.dumps(out))

    asyncio.run(main())
""")


def test_the_first_screen_loads_no_sqlalchemy_and_the_catalogue_opens_after_it(both):
    """In a new process (this one has SQLAlchemy loaded): the first rows are drawn before SQLAlchemy
    is imported, and the catalogue is then opened in the background."""
    deferred, catalogue = both
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("ATLAS_NO_READER", None)
    done = subprocess.run([sys.executable, "-c", FIRST_SCREEN, str(deferred.home.root)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["rows"] == [row.id for row in listing.page(catalogue, "")]
    assert out["sqlalchemy"] is False
    assert out["total"] == listing.count(catalogue, "")
    assert out["opened"] is True
