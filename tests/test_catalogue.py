"""The catalogue: migrations on open, models and migrations in sync, SQLite settings, PostgreSQL."""

import sqlite3
import subprocess
import sys
import zipfile

import pytest
from sqlmodel import select

from atlas.core.catalogue import Catalogue, licences
from atlas.core.catalogue.database import alembic_config, head_revision
from atlas.core.catalogue.tables import Licence
from atlas.core.errors import BadInput, NotFound
from tests.support import REPO


def test_head_constant_is_alembic_s_head():
    """The fast at-head check on open compares against db.HEAD: a new migration must update it."""
    from atlas.core.catalogue.database import HEAD

    assert head_revision() == HEAD


def test_open_creates_schema_at_head_with_builtin_licences(catalogue):
    with catalogue.engine.connect() as conn:
        from atlas.core.catalogue.database import current_revision

        assert current_revision(conn) == head_revision()
    with catalogue.session() as session:
        ids = set(session.exec(select(Licence.id)).all())
    assert {"creativeml-openrail-m", "openrail++", "stabilityai-ai-community", "CC0-1.0", "CC-BY-4.0",
            "CC-BY-SA-4.0"} <= ids


def test_models_and_migrations_do_not_drift(catalogue):
    """`alembic check` fails when the tables differ from what the migrations build."""
    from alembic import command

    with catalogue.engine.begin() as conn:
        command.check(alembic_config(conn))


def test_sqlite_uses_wal_and_foreign_keys(catalogue):
    with catalogue.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    raw = sqlite3.connect(catalogue.home.database_path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reopening_a_catalogue_at_head_runs_no_migration(home):
    Catalogue.open(home).close()
    from atlas.core.catalogue.database import make_engine, upgrade

    assert upgrade(make_engine(home.database_url)) is False


def test_rail_licences_have_no_invented_spdx_id(catalogue):
    with catalogue.session() as session:
        rail = licences.get(session, "creativeml-openrail-m")
        assert rail.spdx is None
        assert licences.spdx_expression(rail) == "LicenseRef-creativeml-openrail-m"
        assert rail.restrictions and "Section 6" in rail.output_rights
        assert licences.get(session, "cc0-1.0").commons_template == "cc-zero"
        with pytest.raises(NotFound, match="known licences: .*CC-BY-4.0"):
            licences.get(session, "WTFPL")


def test_builtin_licence_data_is_checked_against_its_schema():
    from atlas.core.schemas import problems

    assert problems("licences", list(licences.builtin())) == []
    assert problems("licences", [{"id": "x", "name": "x", "url": "ftp://x", "kind": "output"}])


def test_config_is_validated(home):
    home.create()
    home.config_path.write_text('[author]\nname = "Ann"\nshoe_size = 3\n')
    with pytest.raises(BadInput, match="shoe_size"):
        home.config()
    home.config_path.write_text('[author]\nname = "Ann"\n')
    assert home.config()["author"]["name"] == "Ann"


def test_postgres_catalogue_migrates_and_checks(pg_home):
    from alembic import command

    catalogue = Catalogue.open(pg_home)
    assert catalogue.engine.dialect.name == "postgresql"
    with catalogue.engine.begin() as conn:
        command.check(alembic_config(conn))
    with catalogue.session() as session:
        assert licences.get(session, "CC-BY-SA-4.0").commons_template == "cc-by-sa-4.0"
    catalogue.close()


@pytest.mark.slow
@pytest.mark.xdist_group("wheel")  # builds in the repository's build/: one worker at a time
def test_wheel_ships_schemas_templates_and_migrations(tmp_path):
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", tmp_path, REPO],
                   check=True, capture_output=True)
    (wheel,) = tmp_path.glob("atlas-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "atlas/schemas/provenance.schema.json" in names
    assert "atlas/migrations/env.py" in names
    assert any(n.startswith("atlas/migrations/versions/0001") for n in names)
    assert "atlas/data/licences.json" in names
    assert any(n.startswith("atlas/templates/") for n in names)
