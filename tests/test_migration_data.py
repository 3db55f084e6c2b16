"""Migrations keep data: a catalogue made at revision 0001 and filled through raw SQL at that
revision's schema (renders, passes, runs, tags, imports) is upgraded to head by opening it as any
command does; every row is still there with the same values, and searches find what the rows,
read by hand, say they should. Every future migration must keep this green."""

import json
import sqlite3
from datetime import datetime

import pytest
from sqlalchemy import MetaData, inspect, text

from atlas.core.actions import listing
from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.database import HEAD, alembic_config, make_engine

T0 = datetime(2026, 11, 20, 10, 0, 0)
T1 = datetime(2026, 11, 20, 10, 5, 0, 250000)
SHA = "{:064x}"

LICENCES = [
    # ids atlas does not ship, so refreshing the built-in licences after an upgrade leaves them as they are
    {"id": "X-Test-Output", "name": "Test output licence", "url": "https://example.invalid/o", "kind": "output",
     "spdx": "X-Test-Output", "commons_template": "Cc-zero", "summary": "s", "output_rights": "r",
     "restrictions": ["none"]},
    {"id": "x-test-model", "name": "Test model licence", "url": "https://example.invalid/m", "kind": "model",
     "spdx": None, "commons_template": None, "summary": "", "output_rights": "", "restrictions": []},
]
MODELS = [
    {"id": 1, "name": "sd-test", "kind": "checkpoint", "source": "/models/sd.safetensors",
     "path": "/models/sd.safetensors", "format": "single-file", "sha256": SHA.format(0xABC), "short_hash":
     SHA.format(0xABC)[:10], "licence_id": "x-test-model", "demo": False, "config": {}, "added": T0},
    {"id": 2, "name": "up-test", "kind": "upscaler", "source": "up.pth", "path": "/models/up.pth",
     "format": "spandrel", "sha256": SHA.format(0xDEF), "short_hash": SHA.format(0xDEF)[:10],
     "licence_id": "x-test-model", "demo": False, "config": {"scale": 4}, "added": T0},
]


def render(id, width, height, tool="atlas", **extra):
    row = {"id": id, "sha256": SHA.format(id), "format": "png", "width": width, "height": height,
           "size_bytes": 1000 * id, "created": T0, "title": f"render {id}", "description": None,
           "author": "Ann", "licence_id": "X-Test-Output", "tool": tool,
           "store_path": f"00/00/{SHA.format(id)}.png", "linked_path": None, "source_mtime_ns": None}
    row.update(extra)
    return row


def renders(wide: bool) -> list[dict]:
    """`wide`: 64-bit values, which PostgreSQL's int4 columns at 0001 cannot hold (0002 widened them)."""
    return [

    render(1, 512, 512),
    render(2, 768, 512),
    render(3, 1536, 1024),  # the run's final render
    render(4, 640, 448, tool="a1111", store_path=None, linked_path="/photos/a.png",
           source_mtime_ns=1_732_000_000_123_456_789 if wide else 1_732_000_000,
           description="imported\nwith a description"),
    render(5, 1024, 1024, tool="comfyui"),
    ]
RUNS = [{"id": 1, "recipe_name": "city", "recipe": {"prompt": "a red fox", "passes": []},
         "status": "completed", "error": None, "created": T0, "updated": T1, "final_render_id": 3}]


def step(id, kind, render_id, prompt, seed, **extra):
    row = {"id": id, "kind": kind, "status": "completed", "error": None, "render_id": render_id,
           "input_render_id": None, "run_id": None, "position": None, "prompt": prompt,
           "negative_prompt": "blurry", "seed": seed, "sampler": "Euler a", "steps": 20, "steps_run": 20,
           "cfg": 7.0, "width": 512, "height": 512, "denoise": None, "settings": {}, "model_id": 1,
           "upscaler_id": None, "software": {"atlas": "0.1.0"}, "device": "cpu", "started": T0,
           "ended": T1, "raw_metadata": None}
    row.update(extra)
    return row


def passes(wide: bool) -> list[dict]:
    seed_a, seed_b = (4_000_000_000, 2**40) if wide else (2_000_000_000, 2_100_000_000)
    return [

    step(1, "txt2img", 1, "a red fox in the snow", 42),
    step(2, "txt2img", 2, "a red fox at dusk", 1000, run_id=1, position=0, steps=30, steps_run=30),
    step(3, "upscale", 3, "a red fox at dusk", 1001, run_id=1, position=1, input_render_id=2, denoise=0.3,
         upscaler_id=2, steps=None, steps_run=None, settings={"scale": 2}),
    step(4, "img2img", None, "a red fox at dusk", 1002, status="failed", error="CUDA out of memory",
         run_id=None, ended=None),
    # an imported hires fix: the earlier sampling pass (position 0) and the pass that made the file
    step(5, "import", 4, "lighthouse, 灯台", seed_a, position=0, sampler="DPM++ 2M", model_id=None,
         raw_metadata={"parameters": "lighthouse, 灯台\nSteps: 20"}),
    step(6, "import", 4, "lighthouse, 灯台", seed_a, sampler="DPM++ 2M", model_id=None, cfg=5.5,
         denoise=0.45, raw_metadata={"parameters": "lighthouse, 灯台\nSteps: 20, Hires"}),
    step(7, "import", 5, "a castle on a hill", seed_b, sampler="euler_ancestral", model_id=None, steps=25,
         raw_metadata={"prompt": {"3": {"class_type": "KSampler"}}}),
    ]
TAGS = [{"render_id": 1, "name": "best"}, {"render_id": 3, "name": "best"}, {"render_id": 3, "name": "final"},
        {"render_id": 4, "name": "imported"}]


def tables(wide: bool) -> dict[str, tuple[list[dict], str]]:
    """Each table's rows and the order to read them back in."""
    return {"licence": (LICENCES, "id"), "model": (MODELS, "id"), "render": (renders(wide), "id"),
            "run": (RUNS, "id"), "pass": (passes(wide), "id"), "tag": (TAGS, "render_id, name")}


INSERT_ORDER = ["licence", "model", "render", "run", "pass", "tag"]

# Searches and the render ids they must find, read off the rows above by hand.
def searches(wide: bool) -> dict[str, list[int]]:
    seed_a, seed_b = (4_000_000_000, 2**40) if wide else (2_000_000_000, 2_100_000_000)
    return {
    "fox": [1, 2, 3],  # full text over the producing pass's prompts
    "灯台": [4],
    "seed:42": [1],
    f"seed:{seed_a}": [4],  # a 64-bit seed from an import (on SQLite)
    f"seed:{seed_b}": [5],
    "tag:best": [1, 3],
    "tag:final tag:best": [3],
    "steps:25..30": [2, 5],
    "size:768x512": [2],
    "width:>=1024": [3, 5],
    "tool:a1111": [4],
    "model:sd-test": [1, 2, 3],
    "run:1": [2, 3],
    "kind:upscale": [3],
    "author:Ann -tag:best": [2, 4, 5],
    "": [1, 2, 3, 4, 5],
    }


def create_at_0001(url: str, data: dict) -> None:
    from alembic import command

    engine = make_engine(url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
        # the tables as revision 0001 made them, read from the database (not atlas's current models)
        schema = MetaData()
        schema.reflect(connection)
        for table in INSERT_ORDER:
            connection.execute(schema.tables[table].insert(), data[table][0])
        if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for table in ("model", "render", "run", "pass"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                                        f"(SELECT max(id) FROM \"{table}\"))"))
    engine.dispose()


def rows_of(engine, table: str, columns: list[str], order: str) -> list[dict]:
    with engine.connect() as connection:
        result = connection.execute(text(f'SELECT {", ".join(columns)} FROM "{table}" ORDER BY {order}'))
        return [normalised(dict(row._mapping)) for row in result]


def normalised(row: dict) -> dict:
    """Values as comparable plain data: JSON text parsed, booleans as 0/1, times as text."""
    out = {}
    for key, value in row.items():
        if value == "null":  # a JSON column's None, as SQLite keeps it
            value = None
        if isinstance(value, str) and value[:1] in "[{":
            try:
                value = json.loads(value)
            except ValueError:
                pass
        if isinstance(value, bool):
            value = int(value)
        if hasattr(value, "isoformat"):
            value = value.strftime("%Y-%m-%d %H:%M:%S.%f")
        out[key] = value
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def old_catalogue(request, home, monkeypatch):
    """(home, url) of a catalogue created at revision 0001 and filled."""
    if request.param == "postgresql":
        from tests.support import postgres

        url = postgres.create_database(request.getfixturevalue("postgres_url"))
        monkeypatch.setenv("ATLAS_DATABASE_URL", url)
    else:
        url = f"sqlite:///{home.database_path}"
    home.create()
    create_at_0001(url, tables(wide=request.param == "sqlite"))
    return home, url


def test_upgrading_from_0001_keeps_every_row_and_every_search(old_catalogue, capsys):
    home, url = old_catalogue
    wide = url.startswith("sqlite")
    data = tables(wide)
    engine = make_engine(url)
    expected = {table: rows_of(engine, table, list(rows[0]), order) for table, (rows, order) in data.items()}
    engine.dispose()
    # what was written is what is read back at 0001 (the reference below is the raw rows themselves)
    assert expected["render"] == [normalised(r) for r in data["render"][0]]
    assert expected["pass"] == [normalised(r) for r in data["pass"][0]]

    catalogue = Catalogue.open(home)  # as every command opens it: migrates to head
    try:
        with catalogue.engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
            names = set(inspect(connection).get_table_names())
        assert set(data) <= names
        for table, (rows, order) in data.items():
            found = rows_of(catalogue.engine, table, list(rows[0]), order)
            if table == "licence":  # opening a catalogue adds the built-in licences beside ours
                found = [row for row in found if row["id"] in {r["id"] for r in LICENCES}]
            assert found == expected[table], table
        for query, ids in searches(wide).items():
            found = [row["id"] for row in listing.summaries(catalogue, query, limit=100)]
            assert sorted(found) == ids, query
        # the upgraded catalogue takes new rows, with ids after the old ones
        from atlas.core.catalogue.tables import Pass, Tag
        from atlas.core.record.write import RenderInfo, begin_pass, finish_pass
        from tests.support.reference_lineage import png_of_size

        pass_id = begin_pass(catalogue, Pass(kind="txt2img", prompt="a new fox", seed=9))
        new = finish_pass(catalogue, pass_id, png_of_size(8, 8), 8, 8, RenderInfo(licence_id="X-Test-Output"))
        assert new.id == 6 and pass_id == 8
        with catalogue.session() as session:
            session.add(Tag(render_id=new.id, name="best"))
            session.commit()
        assert sorted(r["id"] for r in listing.summaries(catalogue, "fox tag:best")) == [1, 3, 6]
    finally:
        catalogue.close()
    notice = capsys.readouterr().err
    if url.startswith("sqlite"):
        # 0002 rebuilds the full-text index from existing rows: the database was copied aside first
        backups = sorted(home.root.glob("atlas.db.before-0001-*"))
        assert len(backups) == 1 and str(backups[0]) in notice
        with sqlite3.connect(backups[0]) as copy:
            assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
            assert copy.execute("SELECT count(*) FROM render").fetchone() == (len(data["render"][0]),)
        copy.close()
    else:
        assert "copy of the database" not in notice


def test_a_data_free_migration_makes_no_backup(home, capsys):
    """0003 only adds a table: a catalogue at 0002 upgrades without a copy."""
    from alembic import command

    home.create()
    engine = make_engine(f"sqlite:///{home.database_path}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0002_search")
    engine.dispose()
    Catalogue.open(home).close()
    assert list(home.root.glob("atlas.db.before-*")) == []
    assert "copy of the database" not in capsys.readouterr().err
