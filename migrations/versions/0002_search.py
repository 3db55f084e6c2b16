"""Search: full-text over prompts (FTS5 table + triggers on SQLite, GIN tsvector index on PostgreSQL).

Revision ID: 0002_search
Revises: 0001
"""
from typing import Sequence, Union

from alembic import op

from atlas.core import fulltext

revision: str = "0002_search"
down_revision: Union[str, None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _run(statements) -> None:
    for sql in statements:
        op.execute(sql)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(fulltext.SQLITE_DDL)
    elif dialect == "postgresql":
        _run(fulltext.PG_DDL)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(fulltext.SQLITE_DROP)
    elif dialect == "postgresql":
        _run(fulltext.PG_DROP)
