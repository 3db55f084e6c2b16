"""`atlas worker`: procrastinate's worker on the catalogue's database, one job at a time per process.

A worker sends a heartbeat every third of `stalled_after`; every worker also looks, as often, for
jobs left `doing` by a worker whose heartbeat stopped (procrastinate's stalled jobs: a process that
was killed, a machine that lost power) and puts them back in the queue, where the next free worker
resumes the run at its first unfinished pass. Several jobs at once on one machine run in separate
processes: each holds its own pipeline and torch state, which threads would share.
"""

import asyncio
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys

from procrastinate.exceptions import ConnectorException
from procrastinate.worker import Worker

from atlas.core.catalogue import Catalogue
from atlas.queue import app as queue_app
from atlas.queue.jobs import open_queue
from atlas.queue.machine import is_held

DEFAULT_STALLED_AFTER_S = 30.0
logger = logging.getLogger("atlas.queue")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run(catalogue: Catalogue, queues: list[str] | None = None,
        stalled_after: float = DEFAULT_STALLED_AFTER_S) -> None:
    """Take jobs until SIGINT or SIGTERM (the job in hand is finished first; a second signal aborts it)."""
    app = open_queue(catalogue)
    name = worker_name()
    beat = stalled_after / 3
    # torch and the engine, imported now: an import inside the first job holds the interpreter for
    # seconds, long enough for the heartbeat to fall silent and the job to look abandoned
    import atlas.queue.task  # noqa: F401

    async def main() -> None:
        async with app.open_async():
            worker = Worker(app, queues=queues, name=name, concurrency=1, update_heartbeat_interval=beat,
                            stalled_worker_timeout=stalled_after, fetch_job_polling_interval=min(5.0, beat),
                            abort_job_polling_interval=min(5.0, beat),
                            additional_context={"catalogue": catalogue, "worker_name": name})
            sweeper = asyncio.create_task(requeue_stalled(app, worker, catalogue, stalled_after))
            logger.info("worker %s takes jobs from %s", name, ", ".join(queues) if queues else "every queue")
            try:
                await worker.run()
            finally:
                sweeper.cancel()

    asyncio.run(main())


async def requeue_stalled(app, worker: Worker, catalogue: Catalogue, stalled_after: float) -> None:
    """Put back in the queue every run job whose worker has sent no heartbeat for `stalled_after` s
    and whose run no live process holds. A silent heartbeat alone is not proof of death (a loaded
    machine can starve a worker's event loop for seconds, this one's included, between taking a job
    and claiming its run); a dropped run claim is (the server ends it with the holder's connection)."""
    while True:
        await asyncio.sleep(stalled_after / 3)
        try:
            stalled = await app.job_manager.get_stalled_jobs(task_name=queue_app.RUN_TASK,
                                                             seconds_since_heartbeat=stalled_after)
        except ConnectorException as exc:  # the server away for a moment: try again next round
            logger.warning("could not look for stalled jobs: %s", exc)
            continue
        for job in stalled:
            if job.worker_id is not None and job.worker_id == worker.worker_id:
                continue  # this process is alive: it is reading this
            if await asyncio.to_thread(is_held, catalogue, job.task_kwargs["run_id"]):
                continue
            try:
                await app.job_manager.retry_job(job)
            except ConnectorException:  # another worker's sweep put it back first
                continue
            logger.info("job %s (run %s) lost its worker: back in the queue", job.id, job.task_kwargs.get("run_id"))


def run_processes(arguments: list[str], count: int) -> int:
    """Run `count` single-job workers (`atlas ARGUMENTS`) and wait for them; SIGINT and SIGTERM are
    passed on, so each finishes its job in hand. Returns the first non-zero exit code, else 0.
    The workers die with this process: a SIGKILLed `atlas worker --concurrency N` would otherwise
    leave them taking jobs, holding its caller's pipes (their runs resume elsewhere)."""
    parent = os.getpid()
    children = [subprocess.Popen([sys.executable, "-m", "atlas.cli.main", *arguments],
                                 preexec_fn=lambda: die_with_parent(parent)) for _ in range(count)]

    def pass_on(signum, _frame):
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    previous = {signum: signal.signal(signum, pass_on) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        codes = [child.wait() for child in children]
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return next((code for code in codes if code), 0)


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent: int) -> None:
    """In a child between fork and exec: ask Linux to SIGKILL it when `parent` dies (the setting
    survives exec). Elsewhere nothing is done: a worker there outlives a killed parent."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
