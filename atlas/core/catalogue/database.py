"""Open the catalogue database and bring its schema to the newest migration."""

import sys

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

from atlas.core.catalogue import tables  # noqa: F401  (registers the tables on SQLModel.metadata)


def make_engine(url: str, busy_timeout: float = 30.0) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": busy_timeout})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(connection=None):
    from alembic.config import Config

    from atlas.core.resources import data_dir

    # alembic's default stdout is the sys.stdout of its import time; pass today's (tests swap it)
    cfg = Config(stdout=sys.stdout)
    cfg.set_main_option("script_location", str(data_dir("migrations")))
    cfg.attributes["connection"] = connection
    return cfg


# The newest migration. Read commands compare the database against this constant instead of loading
# every migration script (~80 ms); tests/test_catalogue.py checks it equals Alembic's computed head.
HEAD = "0002_search"


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection) -> str | None:
    """The revision in Alembic's version table, read directly: importing alembic costs ~80 ms."""
    from sqlalchemy import inspect, text

    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> bool:
    """Migrate to head; returns whether anything ran. A database at head costs one small query."""
    with engine.begin() as connection:
        if current_revision(connection) == HEAD:
            return False
        from alembic import command

        command.upgrade(alembic_config(connection), "head")
        return True
