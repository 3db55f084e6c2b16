"""Ratings and hiding: `render.rating` (1..5, NULL when unrated) and `render.hidden` (hidden
renders are left out of searches that do not name `hidden`; README.md, "Rating, hiding, deleting").

Added in place: a nullable column and a NOT NULL column with a default need no table rebuild on
SQLite, and existing renders read as unrated and shown.

Revision ID: 0007_ratings
Revises: 0006_catalogue_identity
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_ratings"
down_revision: str | None = "0006_catalogue_identity"
DATA_UNTOUCHED = True  # new columns with defaults and an index: no backup needed (catalogue/database.py)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("render", sa.Column("rating", sa.Integer(), nullable=True))
    op.add_column("render", sa.Column("hidden", sa.Boolean(), nullable=False, server_default=sa.false()))
    # `sort:-rating` and `rating:>=4` walk this index; `hidden` has two values and is only filtered on.
    op.create_index(op.f("ix_render_rating"), "render", ["rating"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_render_rating"), table_name="render")
    op.drop_column("render", "hidden")  # in place (SQLite >= 3.35): no rebuild under foreign keys
    op.drop_column("render", "rating")
