"""Search and import: full text over prompts, 64-bit seeds and sizes, the source path of imports.

- Full text: an FTS5 table + triggers on SQLite, a GIN tsvector expression index on PostgreSQL.
- PostgreSQL: `pass.seed`, `render.size_bytes`, `render.source_mtime_ns` become BIGINT: imported
  seeds (A1111 up to 2**32, ComfyUI/Fooocus far beyond) and nanosecond mtimes overflow int4.
  SQLite's INTEGER is 64-bit already: nothing to change there (and no table rebuild, which the
  foreign keys of existing rows would refuse).
- `render.source_path`: the file an import came from, so an unchanged file is not read again.

Revision ID: 0002_search
Revises: 0001
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002_search"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WIDENED = (("pass", "seed", True), ("render", "size_bytes", False), ("render", "source_mtime_ns", True))

# The DDL as this revision wrote it, frozen here: atlas.core.catalogue.fulltext describes the
# current schema and may change, this migration must not (a change needs a new revision).
SQLITE_DDL = [
    "CREATE VIRTUAL TABLE pass_fts USING fts5(prompt, negative_prompt, content='pass', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    """CREATE TRIGGER pass_fts_insert AFTER INSERT ON pass BEGIN
        INSERT INTO pass_fts(rowid, prompt, negative_prompt) VALUES (new.id, new.prompt, new.negative_prompt);
    END""",
    """CREATE TRIGGER pass_fts_delete AFTER DELETE ON pass BEGIN
        INSERT INTO pass_fts(pass_fts, rowid, prompt, negative_prompt)
        VALUES ('delete', old.id, old.prompt, old.negative_prompt);
    END""",
    """CREATE TRIGGER pass_fts_update AFTER UPDATE OF prompt, negative_prompt ON pass BEGIN
        INSERT INTO pass_fts(pass_fts, rowid, prompt, negative_prompt)
        VALUES ('delete', old.id, old.prompt, old.negative_prompt);
        INSERT INTO pass_fts(rowid, prompt, negative_prompt) VALUES (new.id, new.prompt, new.negative_prompt);
    END""",
    "INSERT INTO pass_fts(pass_fts) VALUES ('rebuild')",  # index passes that already exist
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS pass_fts_insert", "DROP TRIGGER IF EXISTS pass_fts_delete",
               "DROP TRIGGER IF EXISTS pass_fts_update", "DROP TABLE IF EXISTS pass_fts"]
PG_DDL = ["CREATE INDEX IF NOT EXISTS ix_pass_fulltext ON pass USING gin "
          "(to_tsvector('simple', prompt || ' ' || negative_prompt))"]
PG_DROP = ["DROP INDEX IF EXISTS ix_pass_fulltext"]


def _run(statements) -> None:
    for sql in statements:
        op.execute(sql)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column("render", sa.Column("source_path", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_index(op.f("ix_render_source_path"), "render", ["source_path"], unique=False)
    if dialect == "sqlite":
        _run(SQLITE_DDL)
    else:
        for table, column, nullable in WIDENED:
            op.alter_column(table, column, existing_type=sa.Integer(), type_=sa.BigInteger(),
                            existing_nullable=nullable)
        if dialect == "postgresql":
            _run(PG_DDL)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_DROP)
    else:
        if dialect == "postgresql":
            _run(PG_DROP)
        for table, column, nullable in WIDENED:
            op.alter_column(table, column, existing_type=sa.BigInteger(), type_=sa.Integer(),
                            existing_nullable=nullable)
    op.drop_index(op.f("ix_render_source_path"), table_name="render")
    op.drop_column("render", "source_path")  # in place (SQLite >= 3.35): no rebuild under foreign keys
