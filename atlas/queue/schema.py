"""procrastinate's tables in the catalogue's database, made on the first queue command.

Not an Alembic migration of the catalogue: the tables belong to procrastinate (its own SQL, its own
upgrade scripts), a SQLite catalogue must never see them, and a team that never queues never needs
them. The first `atlas queue` or `atlas worker` applies the schema in one transaction under an advisory
lock, so two machines starting at once cannot both create it. The procrastinate version that
made it is kept as the jobs table's comment: a different version is refused until its upgrade
scripts are applied, instead of failing later in the middle of a job.
"""

from importlib.metadata import version

from atlas.core.catalogue import Catalogue
from atlas.core.errors import AtlasError

# pg_advisory_lock key: "atlasq" in ASCII, so it cannot meet another tool's small integer keys.
SCHEMA_LOCK = 0x61746C617371

# One row per start of a job: which worker took it (procrastinate's workers table has ids only, and
# forgets a worker when it stops).
ATTEMPTS_DDL = """
CREATE TABLE IF NOT EXISTS atlas_queue_attempt (
    id bigserial PRIMARY KEY,
    job_id bigint NOT NULL,
    run_id bigint NOT NULL,
    worker text NOT NULL,
    started timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS atlas_queue_attempt_job ON atlas_queue_attempt (job_id)
"""


def installed_version() -> str:
    return version("procrastinate")


def ensure(catalogue: Catalogue) -> None:
    """Create procrastinate's schema and atlas's attempts table if they are missing (idempotent)."""
    wanted = f"procrastinate {installed_version()}"
    with catalogue.engine.begin() as connection:
        if _marker(connection.connection.driver_connection) == wanted:  # the common case: one query
            return
    # A session lock, and the check in a transaction begun after it is granted: a transaction that
    # was already open would not see the tables the lock's previous holder made (its cached
    # catalogue lookups are refreshed only when a transaction starts).
    connection = catalogue.engine.raw_connection()
    try:
        raw = connection.driver_connection
        raw.rollback()
        raw.autocommit = True
        raw.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            with raw.transaction():
                _create(raw, wanted)
        finally:
            raw.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))
    finally:
        connection.invalidate()  # it held a session lock and changed its autocommit: not for the pool


def _create(raw, wanted: str) -> None:
    from procrastinate.schema import SchemaManager

    found = _marker(raw)
    if found is None:
        raw.execute(SchemaManager.get_schema())  # no parameters: psycopg runs the script as it is
        raw.execute(f"COMMENT ON TABLE procrastinate_jobs IS '{wanted}'")
    elif found != wanted:
        raise AtlasError(
            f"the queue's tables were made by {found or 'an unknown procrastinate'}, this machine runs "
            f"{wanted}: apply procrastinate's upgrade scripts ({SchemaManager.get_migrations_path()}) "
            "to the catalogue's database, or install the same version on every machine")
    raw.execute(ATTEMPTS_DDL)


def _marker(raw) -> str | None:
    """The comment on procrastinate's jobs table; None when the table does not exist, "" when it has none."""
    row = raw.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL, "
                      "obj_description(to_regclass('procrastinate_jobs'), 'pg_class')").fetchone()
    return None if not row[0] else (row[1] or "")
