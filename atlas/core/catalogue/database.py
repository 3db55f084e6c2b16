"""Open the catalogue database and bring its schema to the newest migration."""

import sys
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError

from atlas.core.catalogue import (
    head,
    tables,  # noqa: F401  (registers the tables on SQLModel.metadata)
)
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


HEAD = head.HEAD  # see head.py


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection) -> str | None:
    """The revision in Alembic's version table, read directly: importing alembic costs ~80 ms."""
    from sqlalchemy import inspect, text

    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, notify=None) -> bool:
    """Migrate to head; returns whether anything ran. A database at head costs one small query.

    Under the catalogue's schema lock (locks.database_lock), so commands started at once on a
    fresh home do not all create the tables: the first migrates, the others wait and find it done.
    The built-in licences are written in the migration's transaction: nobody sees a schema without them.
    On SQLite, before migrations that may touch existing rows, the database is copied aside
    (`backup_before_upgrade`) and `notify` (default: a line on stderr) says where."""
    from atlas.core.catalogue.locks import database_lock, sqlite_database_file

    database = sqlite_database_file(engine)
    if database is None or database.exists():  # at head: no lock (nor a writable folder for its file) needed
        with engine.connect() as connection:
            if current_revision(connection) == HEAD:
                return False
    with database_lock(engine, "schema"):
        with engine.connect() as connection:
            current = current_revision(connection)
        if current == HEAD:  # another process upgraded meanwhile
            return False
        backup = backup_before_upgrade(engine, current) if current is not None else None
        if backup is not None:
            (notify or _say)(f"atlas: upgrading the catalogue schema from {current} to {HEAD}; "
                             f"a copy of the database as it was is at {backup}")
        from alembic import command
        from sqlmodel import Session

        from atlas.core.catalogue.licences import sync_builtin

        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
            with Session(connection) as session:  # joins the migration's transaction
                sync_builtin(session)
                session.flush()
        return True


def _say(line: str) -> None:
    print(line, file=sys.stderr)


def pending_touch_data(current: str) -> bool:
    """Whether a migration after `current` may change existing rows: every one does unless its
    script says `DATA_UNTOUCHED = True` (it only adds tables, columns or indexes)."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    for script in scripts.iterate_revisions("head", current):
        if not getattr(script.module, "DATA_UNTOUCHED", False):
            return True
    return False


def backup_before_upgrade(engine: Engine, current: str) -> Path | None:
    """Copy a SQLite catalogue aside before a migration that touches data; the copy's path, or None
    when none was needed (not SQLite, or only data-free migrations pending). The copy is made with
    SQLite's online backup (consistent even with a WAL beside the file) into a new file next to
    the database: atlas.db.before-REVISION-TIMESTAMP."""
    if engine.dialect.name != "sqlite" or not pending_touch_data(current):
        return None
    database = engine.url.database or ""
    source = Path(database.removeprefix("file:"))
    if not source.is_file():
        return None
    import sqlite3
    import time

    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    target = source.with_name(f"{source.name}.before-{current}-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = source.with_name(f"{source.name}.before-{current}-{stamp}-{n}")
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    return target
