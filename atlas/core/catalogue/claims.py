"""A run is run by one process at a time: it claims the run's row before it runs a pass.

A claim is a conditional UPDATE of the run row (`run.claim_*` columns), so the database decides
who wins, on SQLite and on PostgreSQL alike, whichever machine each process is on. The holder
renews `heartbeat_at` while it works (`holding` does it from a thread); another process may take
the claim over when the holder stopped renewing it (`STALE_AFTER_S`), or at once when the holder
was a process on the same host that no longer exists (a SIGKILL, a crash). Heartbeats use each
machine's clock: machines sharing a catalogue keep their clocks in sync (NTP), well inside
`STALE_AFTER_S`.

`claim_run`, `heartbeat` and `release` are the parts a queue worker uses around its jobs;
`holding` puts them together for the runner.
"""

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update
from sqlmodel import col

from atlas.core.catalogue.retry import retried
from atlas.core.catalogue.tables import Run, utcnow
from atlas.core.errors import AtlasError

if TYPE_CHECKING:
    from atlas.core.catalogue import Catalogue

HEARTBEAT_S = 15.0  # how often a holder says it is alive
STALE_AFTER_S = 120.0  # a claim not renewed for this long is taken to be abandoned


@dataclass(frozen=True)
class Owner:
    """One claimant: a process on a host. `token` tells two claims of one process apart."""

    host: str
    pid: int
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def this_process(cls) -> "Owner":
        return cls(host=socket.gethostname(), pid=os.getpid())


@dataclass(frozen=True)
class Claim:
    """Who holds a run, as its row says."""

    token: str
    host: str | None
    pid: int | None
    claimed_at: datetime | None
    heartbeat_at: datetime | None

    def describe(self) -> str:
        since = f" since {self.claimed_at:%Y-%m-%d %H:%M:%S} UTC" if self.claimed_at else ""
        return f"process {self.pid} on {self.host}{since}"


class RunClaimed(AtlasError):
    """Another live process holds the run (exit code 1: nothing was wrong with the request)."""

    def __init__(self, run_id: int, claim: Claim | None):
        holder = claim.describe() if claim else "another process"
        super().__init__(f"run {run_id} is being run by {holder}; wait for it to finish, or resume it "
                         "again once that process has stopped")
        self.run_id, self.claim = run_id, claim


def process_alive(pid: int) -> bool:
    """Whether process `pid` exists on this host (a process of another user counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:  # pragma: no cover - kill(pid, 0) fails only as above
        return True
    return True


def claim_fields(owner: Owner, now: datetime | None = None) -> dict:
    """The run columns that say `owner` holds it: for a row inserted already claimed."""
    now = now or utcnow()
    return {"claim_token": owner.token, "claim_host": owner.host, "claim_pid": owner.pid,
            "claimed_at": now, "heartbeat_at": now}


def current_claim(catalogue: "Catalogue", run_id: int) -> Claim | None:
    """The claim on run `run_id`, or None when nobody holds it (or there is no such run)."""
    with catalogue.engine.connect() as connection:
        row = connection.execute(select(col(Run.claim_token), col(Run.claim_host), col(Run.claim_pid),
                                        col(Run.claimed_at), col(Run.heartbeat_at))
                                 .where(col(Run.id) == run_id)).first()
    if row is None or row.claim_token is None:
        return None
    return Claim(row.claim_token, row.claim_host, row.claim_pid, row.claimed_at, row.heartbeat_at)


def _abandoned(claim: Claim, owner: Owner) -> bool:
    """A holder on this host whose process is gone: its claim can be taken at once."""
    return claim.host == owner.host and claim.pid is not None and not process_alive(claim.pid)


def claim_run(catalogue: "Catalogue", run_id: int, owner: Owner, stale_after: float = STALE_AFTER_S) -> bool:
    """Claim run `run_id` for `owner`; True when it holds the run now (claiming again is a renewal).

    Taken when nobody holds it, when its holder stopped renewing it `stale_after` seconds ago, or
    when the holder is a dead process on this host. False when another live process holds it."""

    def attempt(connection) -> bool:
        now = utcnow()
        free = or_(col(Run.claim_token).is_(None), col(Run.claim_token) == owner.token,
                   col(Run.heartbeat_at) < now - timedelta(seconds=stale_after))
        taken = connection.execute(update(Run).where(col(Run.id) == run_id, free)
                                   .values(**claim_fields(owner, now)))
        if taken.rowcount == 1:
            return True
        row = connection.execute(select(col(Run.claim_token), col(Run.claim_host), col(Run.claim_pid))
                                 .where(col(Run.id) == run_id)).first()
        if row is None or row.claim_token is None:
            return False  # no such run
        if not _abandoned(Claim(row.claim_token, row.claim_host, row.claim_pid, None, None), owner):
            return False
        # Compare-and-set on the dead holder's token: of two processes taking it over, one wins.
        taken = connection.execute(update(Run).where(col(Run.id) == run_id, col(Run.claim_token) == row.claim_token)
                                   .values(**claim_fields(owner, now)))
        return taken.rowcount == 1

    return retried(catalogue.engine, attempt)


def heartbeat(catalogue: "Catalogue", run_id: int, owner: Owner, retry_for: float | None = None) -> bool:
    """Renew `owner`'s claim on run `run_id`; False when it no longer holds it (taken over).
    `retry_for`: how long to keep trying past other writers (default: retry.patience)."""

    def attempt(connection) -> bool:
        renewed = connection.execute(update(Run).where(col(Run.id) == run_id, col(Run.claim_token) == owner.token)
                                     .values(heartbeat_at=utcnow()))
        return renewed.rowcount == 1

    return retried(catalogue.engine, attempt, retry_for)


def release(catalogue: "Catalogue", run_id: int, owner: Owner) -> None:
    """Give up `owner`'s claim on run `run_id` (nothing happens when it holds none)."""

    def attempt(connection) -> None:
        connection.execute(update(Run).where(col(Run.id) == run_id, col(Run.claim_token) == owner.token)
                           .values(claim_token=None, claim_host=None, claim_pid=None, claimed_at=None,
                                   heartbeat_at=None))

    retried(catalogue.engine, attempt)


class Holding:
    """A claim held for a block, renewed from a daemon thread every `interval` seconds."""

    def __init__(self, catalogue: "Catalogue", run_id: int, owner: Owner, interval: float = HEARTBEAT_S):
        self.catalogue, self.run_id, self.owner, self.interval = catalogue, run_id, owner, interval
        self.lost = False  # set when a heartbeat found the claim taken over
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"atlas-run-{run_id}-heartbeat", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if not heartbeat(self.catalogue, self.run_id, self.owner, retry_for=self.interval):
                    self.lost = True
                    return
            except Exception:  # a missed beat is tried again at the next; the claim only goes stale
                continue

    def check(self) -> None:
        """Renew the claim now; raise RunClaimed when another process took the run over (this one
        was thought dead): the caller stops before its next step."""
        if not self.lost and not heartbeat(self.catalogue, self.run_id, self.owner):
            self.lost = True
        if self.lost:
            raise RunClaimed(self.run_id, current_claim(self.catalogue, self.run_id))

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():  # a beat still waiting for the database renews nothing once released
            self._thread.join(timeout=1.0)


@contextmanager
def holding(catalogue: "Catalogue", run_id: int, owner: Owner | None = None,
            interval: float = HEARTBEAT_S) -> Iterator[Holding]:
    """Claim run `run_id` for the block (raising RunClaimed when another live process holds it),
    renew the claim while the block runs, and release it at the end, however the block ends."""
    owner = owner or Owner.this_process()
    if not claim_run(catalogue, run_id, owner):
        claim = current_claim(catalogue, run_id)
        if claim is not None or not claim_run(catalogue, run_id, owner):  # None: released meanwhile
            raise RunClaimed(run_id, claim or current_claim(catalogue, run_id))
    held = Holding(catalogue, run_id, owner, interval)
    held._thread.start()
    try:
        yield held
    finally:
        held.stop()
        if not held.lost:
            release(catalogue, run_id, owner)
