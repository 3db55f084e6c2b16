"""Signatures: which renders atlas signed, by whom, and the manifest store it embedded.

`render.signed_by` is the signer certificate's common name, `signer_sha256` that certificate's
sha256 fingerprint (DER), `manifest_hash` the sha256 of the C2PA manifest store written into the
file. `verify` holds a render recorded as signed to them: a file whose manifest was stripped or
replaced is caught even when its row's sha256 was updated to match. Added in place: nullable
columns need no table rebuild on SQLite; renders signed before this revision stay unrecorded.

Revision ID: 0005_signatures
Revises: 0004_run_claims
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005_signatures"
down_revision: str | None = "0004_run_claims"
DATA_UNTOUCHED = True  # new nullable columns only: no backup needed (catalogue/database.py)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("signed_by", "signer_sha256", "manifest_hash")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("render", sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    for name in reversed(COLUMNS):
        op.drop_column("render", name)  # in place (SQLite >= 3.35): no rebuild under foreign keys
