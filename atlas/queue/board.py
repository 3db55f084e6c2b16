"""Every run the catalogue knows, with its state and its worker: what the TUI's runs screen shows.

It reads the catalogue's own tables, so it works on SQLite too (runs started with `atlas run`) and
needs neither procrastinate nor the engine. On PostgreSQL, where `atlas queue` made the queue's
tables, a queued run's job says more than the run row: a run whose worker died is queued again
(its job is back in the queue), and the worker that rendered a finished run is its job's last
attempt (the run's claim is released when it ends).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import col, select

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.claims import STALE_AFTER_S
from atlas.core.catalogue.tables import Run, utcnow

# procrastinate's job states, as the queue shows them
JOB_STATES = {"todo": "queued", "doing": "running", "succeeded": "done", "failed": "failed",
              "cancelled": "cancelled", "aborting": "running", "aborted": "cancelled"}
# the run row's own status, as the board shows it ("running" is checked against its claim)
RUN_STATES = {"queued": "queued", "completed": "done", "failed": "failed", "interrupted": "interrupted",
              "cancelled": "cancelled"}
STATES = ("queued", "running", "interrupted", "failed", "cancelled", "done")

JOBS_SQL = """
SELECT DISTINCT ON ((job.args->>'run_id')::bigint) (job.args->>'run_id')::bigint, job.status::text,
       (SELECT attempt.worker FROM atlas_queue_attempt attempt WHERE attempt.job_id = job.id
         ORDER BY attempt.id DESC LIMIT 1)
  FROM procrastinate_jobs job
 WHERE job.task_name = :task AND (job.args->>'run_id')::bigint = ANY(:ids)
 ORDER BY (job.args->>'run_id')::bigint, job.id DESC
"""
RUN_TASK = "atlas.run"  # atlas.queue.app.RUN_TASK, named here so this module needs no procrastinate


@dataclass(frozen=True)
class BoardRow:
    run_id: int
    recipe: str
    state: str  # one of STATES
    worker: str | None  # host:pid of the process running it now, or that last ran it
    queued: bool  # handed to the queue (a job), not run by `atlas run` on one machine
    updated: datetime
    final_render_id: int | None
    error: str | None


def _state_of(run: Run, now: datetime) -> tuple[str, str | None]:
    """(state, worker) from the run row alone: a "running" run whose claim went stale, or was
    released without an end, was killed (`atlas run --resume` continues it)."""
    worker = f"{run.claim_host}:{run.claim_pid}" if run.claim_token else None
    if run.status == "running":
        alive = run.claim_token is not None and run.heartbeat_at is not None and \
            run.heartbeat_at >= now - timedelta(seconds=STALE_AFTER_S)
        return ("running" if alive else "interrupted"), worker
    return RUN_STATES.get(run.status, run.status), worker


def _jobs(catalogue: Catalogue, run_ids: list[int]) -> dict[int, tuple[str, str | None]]:
    """{run id: (job state, last worker)} of the queued runs among `run_ids`; empty on SQLite or
    where no queue was ever made."""
    if catalogue.engine.dialect.name != "postgresql" or not run_ids:
        return {}
    with catalogue.engine.connect() as connection:
        if connection.execute(text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL "
                                   "AND to_regclass('atlas_queue_attempt') IS NOT NULL")).scalar() is not True:
            return {}
        rows = connection.execute(text(JOBS_SQL), {"task": RUN_TASK, "ids": run_ids}).all()
    return {run_id: (JOB_STATES.get(status, status), worker) for run_id, status, worker in rows}


def board(catalogue: Catalogue, limit: int = 500) -> list[BoardRow]:
    """The newest `limit` runs, newest first, each with its state and worker."""
    with catalogue.session() as session:
        runs = session.exec(select(Run).order_by(col(Run.id).desc()).limit(limit)).all()
    jobs = _jobs(catalogue, [run.id for run in runs if run.id is not None])
    now = utcnow()
    rows = []
    for run in runs:
        assert run.id is not None
        state, worker = _state_of(run, now)
        job = jobs.get(run.id)
        if job is not None:
            job_state, last_worker = job
            # A run that ended says so itself. Else its job knows whether it waits (back in the
            # queue after its worker died) or was cancelled; a job being worked on is running or
            # interrupted as the run's claim says, once the worker has claimed it.
            ended = run.status in ("completed", "failed")
            if not ended and not (job_state == "running" and state in ("running", "interrupted")):
                state = job_state
            worker = worker or last_worker
        rows.append(BoardRow(run_id=run.id, recipe=run.recipe_name or "(unnamed)", state=state, worker=worker,
                             queued=job is not None, updated=run.updated, final_render_id=run.final_render_id,
                             error=run.error))
    return rows


def requeue(catalogue: Catalogue, run_id: int, *, same_seed: bool = False, priority: int = 0) -> dict:
    """Queue a new run of run `run_id`'s recipe (as it was resolved then: model and settings), with a
    new seed or its own; a worker renders it. Needs the queue (PostgreSQL): else QueueNeedsPostgres."""
    from atlas.core.errors import NotFound
    from atlas.core.record import recipes
    from atlas.queue import jobs
    from atlas.queue.database import conninfo

    conninfo(catalogue)  # refuse SQLite before anything else
    with catalogue.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise NotFound(f"no run with id {run_id}")
        name, document = run.recipe_name, dict(run.recipe)
    seed = document.get("seed") if same_seed else -1
    return jobs.add(catalogue, recipes.Recipe(name, document), seed=seed, priority=priority)
