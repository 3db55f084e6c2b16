"""Alembic environment: atlas passes its open connection in `config.attributes["connection"]`."""

from alembic import context
from sqlmodel import SQLModel

from atlas.core import tables  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTER needs table rebuilds
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:  # the alembic command line: use the atlas home's database
    from atlas.core.db import make_engine
    from atlas.core.home import Home

    url = context.config.get_main_option("sqlalchemy.url") or Home.resolve().database_url
    with make_engine(url).begin() as conn:
        run(conn)
