"""What one worker machine checks before it starts a job: that it holds the run alone, and that it
has the model's weights. Both are small seams: `claimed` and `require_model` are the only places the
worker asks, so the catalogue's own run claims and local model lookup can stand behind them.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import select

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.tables import Model
from atlas.core.errors import AtlasError

# The second key of the run's advisory lock ("atlasr" in ASCII, shifted into a signed 32-bit int).
RUN_LOCK_SPACE = 0x61746C72


class WaitForAnotherMachine(AtlasError):
    """This worker cannot take the job now (the run is held elsewhere, or the model is not here);
    the job goes back to the queue and waits for a worker that can."""


@contextmanager
def claimed(catalogue: Catalogue, run_id: int, owner: str) -> Iterator[None]:
    """Hold run `run_id` for the block; raises WaitForAnotherMachine when another process holds it.

    A PostgreSQL session advisory lock on a connection of its own: the server drops it the moment
    the holder's connection ends, so a killed worker never leaves a run claimed. `owner` names the
    holder in the refusal message."""
    connection = catalogue.engine.raw_connection()
    try:
        raw = connection.driver_connection
        raw.rollback()  # whatever the pool's liveness check began
        raw.autocommit = True  # the lock lives as long as the session, not a transaction
        taken = raw.execute("SELECT pg_try_advisory_lock(%s, %s)", (RUN_LOCK_SPACE, run_id)).fetchone()[0]
        if not taken:
            raise WaitForAnotherMachine(f"run {run_id} is being rendered by another process; {owner} leaves it")
        try:
            yield
        finally:
            raw.execute("SELECT pg_advisory_unlock(%s, %s)", (RUN_LOCK_SPACE, run_id))
    finally:
        connection.invalidate()  # never hand a connection that held a session lock back to the pool


def is_held(catalogue: Catalogue, run_id: int) -> bool:
    """Whether a live process holds run `run_id` now (its claim's connection is still open)."""
    with catalogue.engine.connect() as connection:
        return bool(connection.connection.driver_connection.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid = %s AND objid = %s)", (RUN_LOCK_SPACE, run_id)).fetchone()[0])


def require_model(catalogue: Catalogue, sha256: str | None) -> None:
    """Raise WaitForAnotherMachine unless a model with this sha256 has its weights on this machine
    (a registered row whose path exists here, a hub id loaded through the local cache, or the demo
    model)."""
    if not sha256:
        return
    from atlas.core.record.models import ModelMissing, resolve_local

    with catalogue.session() as session:
        rows = session.exec(select(Model).where(Model.sha256 == sha256)).all()
    # runner.prepare builds the demo model wherever it is missing; a hub id loads through the local cache
    if any(row.demo or row.path is None for row in rows):
        return
    try:
        resolve_local(catalogue, sha256)  # this host's path, the registered one, or [models] search_paths
    except ModelMissing as exc:
        raise WaitForAnotherMachine(f"{exc}; register its weights here with `atlas model add`, or let a "
                                    "machine that has them take the job") from None
