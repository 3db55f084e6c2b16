"""Search and import: full text over prompts, 64-bit seeds and sizes, the source path of imports.

- Full text: an FTS5 table + triggers on SQLite, a GIN tsvector expression index on PostgreSQL.
- `pass.seed`, `render.size_bytes`, `render.source_mtime_ns` become 64-bit: imported seeds
  (A1111 up to 2**32, ComfyUI/Fooocus far beyond) and nanosecond mtimes overflow PostgreSQL's int4.
- `render.source_path`: the file an import came from, so an unchanged file is not read again.

Revision ID: 0002_search
Revises: 0001
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
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
    # Column changes first: on SQLite they rebuild the tables, which would drop the FTS triggers.
    with op.batch_alter_table("pass", schema=None) as batch_op:
        batch_op.alter_column("seed", existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=True)
    with op.batch_alter_table("render", schema=None) as batch_op:
        batch_op.alter_column("size_bytes", existing_type=sa.Integer(), type_=sa.BigInteger(),
                              existing_nullable=False)
        batch_op.alter_column("source_mtime_ns", existing_type=sa.Integer(), type_=sa.BigInteger(),
                              existing_nullable=True)
        batch_op.add_column(sa.Column("source_path", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_index(batch_op.f("ix_render_source_path"), ["source_path"], unique=False)
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
    with op.batch_alter_table("render", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_render_source_path"))
        batch_op.drop_column("source_path")
        batch_op.alter_column("source_mtime_ns", existing_type=sa.BigInteger(), type_=sa.Integer(),
                              existing_nullable=True)
        batch_op.alter_column("size_bytes", existing_type=sa.BigInteger(), type_=sa.Integer(),
                              existing_nullable=False)
    with op.batch_alter_table("pass", schema=None) as batch_op:
        batch_op.alter_column("seed", existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=True)
