"""Catalogue identity: a random uuid made once per catalogue, embedded in every record it builds.

`atlas verify` tells a file of another catalogue (whose render ids mean nothing here) from a file of
this one by it. A catalogue upgraded from an earlier schema gets its uuid here, once.

Revision ID: 0006_catalogue_identity
Revises: 0005_signatures
"""
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006_catalogue_identity"
down_revision: str | None = "0005_signatures"
DATA_UNTOUCHED = True  # a new table only: no backup needed (catalogue/database.py)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table("catalogue_identity",
                            sa.Column("uuid", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
                            sa.PrimaryKeyConstraint("uuid"))
    op.bulk_insert(table, [{"uuid": str(uuid.uuid4())}])


def downgrade() -> None:
    op.drop_table("catalogue_identity")
