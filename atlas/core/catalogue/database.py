"""Open the catalogue database and bring its schema to the newest migration."""

import sys
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError

from atlas.core.catalogue import tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from atlas.core.errors import BadInput

SUPPORTED = "sqlite:///PATH or postgresql://USER@HOST/DATABASE"


def check_url(url: str, source: str = "ATLAS_DATABASE_URL") -> URL:
    """`url` parsed, or a BadInput saying what is wrong with it before anything connects.

    Refused: what SQLAlchemy cannot parse, databases atlas does not run on, PostgreSQL without a
    driver, and in-memory SQLite (it would keep nothing once the command ends, while the file
    it recorded stays in the store). A SQLite path must be a file in an existing folder."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise BadInput(f"{source} is not a database URL ({exc}); use {SUPPORTED}") from None
    shown = url if parsed.password is None else parsed.render_as_string(hide_password=True)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
            raise BadInput(f"{source} {shown} is an in-memory database, which keeps nothing after the "
                           "command ends; name a file: sqlite:///PATH")
        path = Path(database.removeprefix("file:")).expanduser()
        if path.is_dir():
            raise BadInput(f"{source} {shown} names a folder, not a database file")
        if not path.parent.is_dir():
            raise BadInput(f"{source} {shown}: the folder {path.parent} does not exist")
        if path.exists() and not path.is_file():
            raise BadInput(f"{source} {shown} is not a regular file")
        return parsed
    if backend != "postgresql":
        raise BadInput(f"{source} {shown}: atlas runs on SQLite and PostgreSQL, not {backend}; use {SUPPORTED}")
    try:
        parsed.get_dialect().import_dbapi()
    except ImportError:
        raise BadInput(f"{source} {shown}: the PostgreSQL driver {parsed.get_driver_name()!r} is not installed "
                       "(pip install 'psycopg[binary]' and write postgresql+psycopg://...)") from None
    return parsed


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
HEAD = "0003_run_claims"


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
    """Migrate to head; returns whether anything ran. A database at head costs one small query.

    Under the catalogue's schema lock (locks.database_lock), so commands started at once on a
    fresh home do not all create the tables: the first migrates, the others wait and find it done.
    The built-in licences are written in the migration's transaction: nobody sees a schema without them."""
    from atlas.core.catalogue.locks import database_lock, sqlite_database_file

    database = sqlite_database_file(engine)
    if database is None or database.exists():  # at head: no lock (nor a writable folder for its file) needed
        with engine.connect() as connection:
            if current_revision(connection) == HEAD:
                return False
    with database_lock(engine, "schema"), engine.begin() as connection:
        if current_revision(connection) == HEAD:
            return False
        from alembic import command
        from sqlmodel import Session

        from atlas.core.catalogue.licences import sync_builtin

        command.upgrade(alembic_config(connection), "head")
        with Session(connection) as session:  # joins the migration's transaction
            sync_builtin(session)
            session.flush()
        return True
