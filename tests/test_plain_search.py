"""The SQLite reader of read commands (`search/plain.py`) finds what the SQLAlchemy path finds:
the same rows, values and order, and the same counts, over many queries on one varied catalogue."""

import random

import pytest

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.home import Home
from atlas.core.catalogue.reader import open_reader
from atlas.core.search import plain, rows
from atlas.core.search.row import SORTS
from tests.support.varied_catalogue import fill

QUERIES = [
    "", "fox", "fox*", '"red fox"', "-fox", "über", "100%", "snake_case", '"a*b"', "neg*",
    "prompt:fox", "prompt:*fox*", "-prompt:red", "negative:blurry", "neg:lowres*",
    "seed:3", "seed:>=5", "seed:<2", "-seed:3", "seed:1..4", "seed:..4",
    "rng:CPU", "rng:gpu", "-rng:nv", "rng:*",
    "steps:20", "steps:>20", "-steps:30", "steps:12", "steps:10..25",
    'sampler:"Euler a"', "sampler:euler_ancestral", "sampler:euler*", "-sampler:ddim", 'sampler:"DPM++ 2M Karras"',
    "sampler:dpmpp_2m", "schedule:karras", "schedule:Karras", "-schedule:karras", "schedule:exp*", "schedule:automatic",
    "cfg:7", "cfg:7.5", "cfg:>=7", "-cfg:5", "scale:4",
    "width:512", "height:>600", "size:512x512", "size:768x*", "size:*x768", "-size:1024x1024",
    "model:sd15", "model:imported-x", "model:early-model", 'model:"sdxl base"', "model:dream*", "-model:sd15",
    "model-hash:abc", "hash:0*", "model-licence:creativeml-openrail-m", "-model-license:*",
    "licence:CC0-1.0", "license:cc-by*", "-licence:CC0-1.0",
    "denoise:0.5", "denoise:>0.6", "-denoise:0.75",
    "kind:img2img", "kind:upscale", "kind:outpaint", "kind:import", "-kind:upscale", "kind:*paint",
    "created:2025", "created:2025-06", "created:2025-06-15", "date:2025..2025-03", "created:>=2026-01",
    "-created:2025", "created:<2025-02-01",
    "author:ann", "author:bob", "-author:ann", "author:*",
    "tag:best", "tag:x_y", "tag:b*", "-tag:best", "tag:wip tag:print",
    "run:1", "tool:atlas", "tool:comfy*", "-tool:atlas",
    "rating:5", "rating:>=4", "stars:<3", "-rating:5", "rating:1..3",
    "hidden", "-hidden", "hidden OR -hidden", "hidden rating:5", "fox hidden",
    "fox OR castle", "fox OR -castle tag:best", "seed:3 OR seed:4 OR tag:wip",
    "sort:seed", "sort:-seed", "sort:prompt", "sort:-model", "sort:size", "sort:-size", "sort:cfg sort:-steps",
    "sort:-rating", "sort:rating", "sort:licence", "sort:author", "sort:tool", "sort:-created", "sort:created",
    "sort:denoise", "sort:sampler", "sort:height", "sort:width", "sort:id", "sort:-id",
    "fox sort:-rating", "-hidden sort:seed", "tag:best sort:-size",
]


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """(sqlite3 connection, Catalogue) on one varied catalogue."""
    home = Home.resolve(tmp_path_factory.mktemp("plain") / "home")
    catalogue = Catalogue.open(home)
    fill(home.database_path, 600)
    connection = open_reader(home)
    assert connection is not None
    yield connection, catalogue
    connection.close()
    catalogue.close()


def same(both, text, sort=None, descending=True, limit=1000, offset=0):
    connection, catalogue = both
    with catalogue.session() as session:
        expected = rows.page(session, text, offset, limit, sort, descending, tags=True)
        expected_count = rows.count(session, text)
    found = plain.page(connection, text, offset, limit, sort, descending, tags=True)
    assert found == expected, text
    assert [type(r.hidden) for r in found] == [bool] * len(found)
    assert plain.count(connection, text) == expected_count, text
    return found


@pytest.mark.parametrize("text", QUERIES)
def test_the_reader_finds_what_sqlalchemy_finds(both, text):
    same(both, text)


def test_the_queries_are_not_trivial(both):
    """Most of the queries above find something and leave something out (so they test something)."""
    connection, _ = both
    total = plain.count(connection, "hidden OR -hidden")
    between = [text for text in QUERIES if 0 < plain.count(connection, text) < total]
    assert len(between) > len(QUERIES) * 0.75


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("descending", [True, False])
def test_column_sorts_and_pages_agree(both, sort, descending):
    same(both, "fox OR tag:best", sort, descending, limit=40, offset=7)


def test_random_combinations_agree(both):
    """Random ANDs, ORs and negations of the terms above."""
    rng = random.Random(11)
    terms = [q for q in QUERIES if q and " " not in q and not q.startswith("sort:")]
    for _ in range(120):
        parts = []
        for _ in range(rng.randint(1, 4)):
            term = rng.choice(terms)
            if rng.random() < 0.3 and not term.startswith("-"):
                term = "-" + term
            parts.append(term)
            if rng.random() < 0.25:
                parts.append("OR")
        if parts[-1] == "OR":
            parts.pop()
        if rng.random() < 0.3:
            parts.append(rng.choice(["sort:-seed", "sort:size", "sort:rating", "sort:model"]))
        same(both, " ".join(parts), limit=60)


def test_the_reader_declines_what_it_cannot_read(tmp_path, monkeypatch):
    monkeypatch.delenv("ATLAS_DATABASE_URL", raising=False)
    home = Home.resolve(tmp_path / "new")
    assert open_reader(home) is None  # no catalogue yet: the full open creates it
    Catalogue.open(home).close()
    import sqlite3

    with sqlite3.connect(home.database_path) as raw:
        raw.execute("UPDATE alembic_version SET version_num = '0004_run_claims'")
    raw.close()
    assert open_reader(home) is None  # not at head: the full open migrates it
    monkeypatch.setenv("ATLAS_DATABASE_URL", f"sqlite:///{home.database_path}")
    assert open_reader(home) is None


def test_the_reader_knows_every_field_the_statement_knows():
    from atlas.core.search import columns, fields, sql

    assert set(plain.COLUMNS) == set(columns.COLUMNS)
    assert set(plain.ORDERS) == set(columns.ORDERS)
    assert set(plain.PASS_FIELDS) == set(sql.PASS_FIELDS)
    for name in fields.SORTABLE:
        assert plain.sort_key(name), name
