"""Write transactions retried when another writer is in the way, so the user never sees it.

SQLite lets one writer in at a time: the others wait up to the busy timeout, then fail with
"database is locked", and some conflicts fail at once without waiting (a transaction that read
before another writer committed cannot write on top of that commit). PostgreSQL fails one side
of a deadlock or a serialization conflict. Each time the whole transaction is run again from its
start, after a growing, jittered pause, until `RETRY_FOR_S` has passed; then the user hears that
the catalogue stayed busy, as one line (AtlasError), never the database's own error.

A caller that chose a short SQLite busy timeout (the TUI: someone is looking at the screen) wants
to hear sooner: it is run again only until its busy timeout has passed once more.
"""

import functools
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from atlas.core.errors import AtlasError

T = TypeVar("T")
P = ParamSpec("P")

RETRY_FOR_S = 600.0  # on top of each attempt's own busy timeout: a long import may hold the lock a while
INTERACTIVE_BELOW_S = 10.0  # a busy timeout shorter than this asks to hear soon (see above)
FIRST_PAUSE_S = 0.02
LONGEST_PAUSE_S = 2.0
# PostgreSQL's SQLSTATEs for "run it again": serialization failure, deadlock detected.
PG_RETRY_CODES = {"40001", "40P01"}
CONFLICT_RETRIES = 3  # for `retried_on_conflict`: each needs another writer to insert the same row first


class CatalogueBusy(AtlasError):
    """The catalogue stayed locked by other writers for longer than atlas waits."""

    def __init__(self, waited: float):
        super().__init__(f"the catalogue is locked by another writer (waited {waited:.1f} s); "
                         "try again when it has finished")


def patience(engine: Engine | None) -> float:
    """How long a transaction on `engine` is run again: RETRY_FOR_S, or for a SQLite engine with a
    short busy timeout, that timeout."""
    if engine is None or engine.dialect.name != "sqlite":
        return RETRY_FOR_S
    with engine.connect() as connection:
        busy_s = (connection.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) / 1000
    return busy_s if busy_s < INTERACTIVE_BELOW_S else RETRY_FOR_S


def transient(exc: BaseException) -> bool:
    """Whether `exc` is another writer being in the way (worth running the transaction again)."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if isinstance(exc, OperationalError):
        text = str(orig).lower()
        if "database is locked" in text or "database table is locked" in text or "database is busy" in text:
            return True
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code in PG_RETRY_CODES


def retrying(transaction: Callable[[], T], engine: Engine | None = None, retry_for: float | None = None,
             conflicts: int = 0) -> T:
    """Run `transaction()` (a whole transaction on `engine`: it opens, writes and commits its own
    session or connection), running it again while it fails because another writer is in the way,
    for `retry_for` seconds (default: `patience(engine)`).

    `conflicts`: how many times a unique-key violation is run again too, for a transaction that
    reads whether a row exists and inserts it when not (another writer may insert it in between;
    run again, the transaction finds it)."""
    started = time.monotonic()
    pause = FIRST_PAUSE_S
    while True:
        try:
            return transaction()
        except IntegrityError:
            if conflicts <= 0:
                raise
            conflicts -= 1
        except DBAPIError as exc:
            if not transient(exc):
                raise
            if retry_for is None:
                retry_for = patience(engine)
            waited = time.monotonic() - started
            if waited >= retry_for:
                raise CatalogueBusy(waited) from None
        time.sleep(pause * random.uniform(0.5, 1.5))  # jitter: waiters do not all come back at once
        pause = min(pause * 2, LONGEST_PAUSE_S)


def retried(engine: Engine, work: Callable[[Connection], T], retry_for: float | None = None) -> T:
    """`work(connection)` in a transaction of its own on `engine`, committed, retried as `retrying` says."""

    def transaction() -> T:
        with engine.begin() as connection:
            return work(connection)

    return retrying(transaction, engine, retry_for)


def retried_transaction(function: Callable[P, T], conflicts: int = 0) -> Callable[P, T]:
    """Decorate a function that is one whole transaction (it opens, writes and commits its own
    session) on the Catalogue that is its first argument, so that it is run again, as `retrying`
    says, while another writer is in the way."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        engine = getattr(args[0], "engine", None) if args else None
        return retrying(lambda: function(*args, **kwargs), engine, conflicts=conflicts)

    return wrapper


def retried_on_conflict(function: Callable[P, T]) -> Callable[P, T]:
    """`retried_transaction` for a transaction that inserts a row unless it exists: run again
    (a few times) when another writer inserted the same row first."""
    return retried_transaction(function, conflicts=CONFLICT_RETRIES)
