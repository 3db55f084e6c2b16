"""What a worker does with one job: check it may take it, then resume the run it names."""

import procrastinate
from procrastinate.exceptions import JobAborted

from atlas.core.catalogue import Catalogue
from atlas.core.record.write import RenderInfo
from atlas.engine import runner
from atlas.queue.machine import claimed, require_model


class StopWhenCancelled(runner.RunProgress):
    """Checks between sampling steps whether `atlas queue cancel` asked this job to stop."""

    def __init__(self, context: procrastinate.JobContext):
        self.context = context

    def start_pass(self, index: int, total: int, label: str) -> None:
        self.step(0, 0)

    def step(self, done: int, total: int) -> None:
        if self.context.should_abort():
            raise JobAborted("cancelled by `atlas queue cancel`")


def run_job(context: procrastinate.JobContext, *, run_id: int, model_sha256: str | None, info: dict) -> dict:
    catalogue: Catalogue = context.additional_context["catalogue"]
    worker: str = context.additional_context["worker_name"]
    require_model(catalogue, model_sha256)
    with claimed(catalogue, run_id, worker):
        record_attempt(catalogue, context.job.id, run_id, worker)
        try:
            run = runner.resume(catalogue, run_id, info=RenderInfo(**info), progress=StopWhenCancelled(context))
        except JobAborted:
            runner.set_status(catalogue, run_id, "cancelled", "cancelled by `atlas queue cancel`")
            raise
    return {"run_id": run.id, "status": run.status, "final_render_id": run.final_render_id}


def record_attempt(catalogue: Catalogue, job_id: int | None, run_id: int, worker: str) -> None:
    with catalogue.engine.begin() as connection:
        connection.connection.driver_connection.execute(
            "INSERT INTO atlas_queue_attempt (job_id, run_id, worker) VALUES (%s, %s, %s)", (job_id, run_id, worker))
