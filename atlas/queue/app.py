"""The procrastinate app on the catalogue's database, and its one task: resume a run."""

import procrastinate

from atlas.core.catalogue import Catalogue
from atlas.queue.database import conninfo
from atlas.queue.machine import WaitForAnotherMachine

RUN_TASK = "atlas.run"
DEFAULT_QUEUE = "renders"
# A job this worker cannot take (run held elsewhere, model not here) goes back to the queue and is
# offered again after this many seconds, as often as it takes.
RETRY_WAIT_S = 10


def build(catalogue: Catalogue) -> procrastinate.App:
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(catalogue)))
    app.task(name=RUN_TASK, queue=DEFAULT_QUEUE, pass_context=True,
             retry=procrastinate.RetryStrategy(wait=RETRY_WAIT_S, retry_exceptions={WaitForAnotherMachine}))(
        run_job)
    return app


def run_job(context: procrastinate.JobContext, **arguments):
    """The task procrastinate calls; the engine is imported only here, in a worker, never by
    `atlas queue list` or `cancel`."""
    from atlas.queue.task import run_job as run

    return run(context, **arguments)


def lock_of(run_id: int) -> str:
    """procrastinate's lock and queueing lock of a run's job: never two jobs of one run running, or
    waiting, at once."""
    return f"atlas-run-{run_id}"
