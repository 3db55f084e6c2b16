"""Alembic environment: atlas passes its open connection in `config.attributes["connection"]`."""

from alembic import context
from sqlmodel import SQLModel

from atlas.core.catalogue import tables  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata


def include_name(name, type_, parent_names) -> bool:
    """Leave out what autogenerate cannot model: the FTS5 table (and its shadow tables), the GIN index."""
    from atlas.core.catalogue.fulltext import EXCLUDED_NAMES, FTS_TABLE

    if name is None:
        return True
    return name not in EXCLUDED_NAMES and not (type_ == "table" and name.startswith(FTS_TABLE + "_"))


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTER needs table rebuilds
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:  # the alembic command line: use the atlas home's database
    from atlas.core.catalogue.database import make_engine
    from atlas.core.catalogue.home import Home

    url = context.config.get_main_option("sqlalchemy.url") or Home.resolve().database_url
    with make_engine(url).begin() as conn:
        run(conn)
