"""Queue a recipe as a run, list the queue's runs, cancel one: what `atlas queue` calls."""

from dataclasses import asdict

from sqlmodel import select

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.tables import Model, Run, utcnow
from atlas.core.errors import BadInput, NotFound
from atlas.core.record import recipes
from atlas.core.record.write import RenderInfo, check_licence
from atlas.queue import app as queue_app
from atlas.queue import schema
from atlas.queue.board import JOB_STATES
from atlas.queue.database import conninfo

STATES = JOB_STATES  # procrastinate's job states, as the queue shows them


def open_queue(catalogue: Catalogue):
    """Refuse a SQLite catalogue (exit 2), make the queue's tables if needed, return the app."""
    conninfo(catalogue)
    schema.ensure(catalogue)
    return queue_app.build(catalogue)


def add(catalogue: Catalogue, recipe: recipes.Recipe, *, seed: int | None = None, priority: int = 0,
        queue: str | None = None, info: RenderInfo | None = None) -> dict:
    """Record `recipe` as a queued run (checked and resolved exactly as `atlas run` does, nothing
    rendered) and enqueue its job in the same transaction: a run is never queued without its job,
    nor a job left naming a run that was rolled back."""
    from atlas.engine import runner

    app = open_queue(catalogue)
    document = recipes.with_overrides(recipe.document, seed=seed)
    info = check_licence(catalogue, info or RenderInfo())
    resolved, _ = runner.prepare(catalogue, document)
    with catalogue.session() as session:
        model = session.exec(select(Model).where(Model.name == resolved["model"])).one()
        run = Run(recipe_name=recipe.name, recipe=resolved, status="queued")
        session.add(run)
        session.flush()  # the run's id, inside the transaction
        job_id = defer(app, session, run.id, model.sha256, info, priority=priority, queue=queue)
        session.commit()
        return {"run_id": run.id, "job_id": job_id, "queue": queue or queue_app.DEFAULT_QUEUE,
                "priority": priority, "seed": resolved["seed"], "model": resolved["model"]}


def defer(app, session, run_id: int, model_sha256: str, info: RenderInfo, *, priority: int = 0,
          queue: str | None = None) -> int:
    """Enqueue run `run_id`'s job on the connection of `session`, inside its open transaction
    (procrastinate's psycopg connector runs its insert on the connection it is given)."""
    connection = session.connection().connection.driver_connection
    described = {key: value for key, value in asdict(info).items() if key != "licence_checked"}
    task = app.tasks[queue_app.RUN_TASK]
    return task.configure(connection=connection, priority=priority, queue=queue or queue_app.DEFAULT_QUEUE,
                          lock=queue_app.lock_of(run_id), queueing_lock=queue_app.lock_of(run_id)).defer(
        run_id=run_id, model_sha256=model_sha256, info=described)


LIST_SQL = """
SELECT job.id AS job_id, job.status::text AS job_status, job.queue_name, job.priority, job.attempts,
       run.id AS run_id, run.recipe_name, run.status AS run_status, run.error, run.final_render_id,
       run.created, run.updated,
       (SELECT attempt.worker FROM atlas_queue_attempt attempt WHERE attempt.job_id = job.id
         ORDER BY attempt.id DESC LIMIT 1) AS worker
  FROM procrastinate_jobs job
  JOIN run ON run.id = (job.args->>'run_id')::bigint
 WHERE job.task_name = %s
 ORDER BY job.id
"""


def listing(catalogue: Catalogue) -> list[dict]:
    """Every queued run, oldest first: its state (queued, running, done, failed, cancelled), the
    worker that took it last, and the run's own status and final render."""
    open_queue(catalogue)
    with catalogue.engine.begin() as connection:
        cursor = connection.connection.driver_connection.cursor()
        cursor.execute(LIST_SQL, (queue_app.RUN_TASK,))
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row["state"] = STATES.get(row.pop("job_status"), "unknown")
    return rows


def cancel(catalogue: Catalogue, run_id: int) -> str:
    """Cancel run `run_id`'s job: a queued one never starts; a running one stops at its next
    sampling step (its finished passes are kept). Returns what happened."""
    app = open_queue(catalogue)
    with catalogue.session() as session:
        connection = session.connection().connection.driver_connection
        row = connection.execute("SELECT id, status::text FROM procrastinate_jobs WHERE task_name = %s "
                                 "AND (args->>'run_id')::bigint = %s ORDER BY id DESC LIMIT 1",
                                 (queue_app.RUN_TASK, run_id)).fetchone()
        if row is None:
            raise NotFound(f"no queued run with id {run_id}")
        job_id, status = row
        if status not in ("todo", "doing"):
            raise BadInput(f"run {run_id} is {STATES.get(status, status)}: nothing to cancel")
        if not app.job_manager.cancel_job_by_id(job_id, abort=True, connection=connection):
            raise BadInput(f"run {run_id} is no longer waiting or running: nothing to cancel")
        if status == "todo":
            run = session.get(Run, run_id)
            run.status, run.error, run.updated = "cancelled", "cancelled by `atlas queue cancel`", utcnow()
            session.commit()
            return "cancelled"
        session.commit()
        return "stopping"
