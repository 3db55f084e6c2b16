"""Models by hash across machines: `model_file` maps a model's sha256 to a local path per host.

A team shares one catalogue; each machine keeps its weights where it likes. `model.path` stays the
path on the machine that registered the model first; every machine's own path (that one's too) is a
`model_file` row. Adds a table only: no existing row changes.

Revision ID: 0003_model_files
Revises: 0002_search
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003_model_files"
down_revision: str | None = "0002_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATA_UNTOUCHED = True  # a new table and an index: no backup needed (catalogue/database.py)


def upgrade() -> None:
    op.create_table(
        "model_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("host", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("added", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256", "host", name="uq_model_file_sha256_host"),
    )
    op.create_index(op.f("ix_model_file_sha256"), "model_file", ["sha256"], unique=False)
    # Every machine looks models up by hash now: index it (no unique: older catalogues may hold twins).
    op.create_index(op.f("ix_model_sha256"), "model", ["sha256"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_model_sha256"), table_name="model")
    op.drop_index(op.f("ix_model_file_sha256"), table_name="model_file")
    op.drop_table("model_file")
