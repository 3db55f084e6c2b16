"""Run claims: the process running a run now, so two cannot run one run at once.

`run.claim_token` names the holder's claim, `claim_host`/`claim_pid` say which process it is,
`claimed_at` since when, and `heartbeat_at` when it was last heard from (a stale heartbeat, or a
dead process on the same host, lets another process take the run over). Added in place: nullable
columns need no table rebuild on SQLite.

Revision ID: 0004_run_claims
Revises: 0002_search
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004_run_claims"
down_revision: str | None = "0003_model_files"
DATA_UNTOUCHED = True  # new nullable columns only: no backup needed (catalogue/database.py)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("claim_token", sqlmodel.sql.sqltypes.AutoString),
    ("claim_host", sqlmodel.sql.sqltypes.AutoString),
    ("claim_pid", sa.Integer),
    ("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime),
    ("heartbeat_at", sqlmodel.sql.sqltypes.UTCDateTime),
)


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column("run", sa.Column(name, type_(), nullable=True))


def downgrade() -> None:
    for name, _ in reversed(COLUMNS):
        op.drop_column("run", name)  # in place (SQLite >= 3.35): no rebuild under foreign keys
