"""The render queue on a real PostgreSQL server with procrastinate's real workers: four queued demo
runs, two workers, one of them SIGKILLed in the middle of a run; every run completes once, with the
pixels of an uninterrupted run. And what is refused: SQLite catalogues, a run held by another
process, a model whose weights are not on the machine."""

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import yaml
from PIL import Image
from sqlmodel import select

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.tables import Pass, Render, Run
from atlas.core.errors import AtlasError

# Small and quick on the demo model; the third pass is longer so a worker can be killed inside it.
TINY = {
    "name": "tiny-queue", "prompt": "a lighthouse", "model": "atlas-demo-tiny-sd",
    "txt2img": {"width": 64, "height": 64, "steps": 2},
    "defaults": {"outpaint": {"pixels": 8, "steps": 2, "mask_blur": 2}},
    "passes": [{"outpaint": {"side": "right"}},
               {"outpaint": {"side": "down", "steps": 8, "denoise": 1.0}},
               {"outpaint": {"side": "left"}}],
}
SEEDS = [11, 12, 13, 14]


@pytest.fixture
def pg_demo(pg_home, demo_model_dir):
    """A PostgreSQL catalogue whose home holds the demo model."""
    from atlas.core.record.models import DEMO_MODEL_NAME
    from atlas.engine.demo_model import ensure

    catalogue = Catalogue.open(pg_home)
    shutil.copytree(demo_model_dir, catalogue.home.models / DEMO_MODEL_NAME)
    ensure(catalogue)
    yield catalogue
    catalogue.close()


def pixel_digests(catalogue, run_id) -> list[str]:
    """sha256 of the decoded pixels of each pass's render, by position. The files themselves differ
    between two runs of one recipe: each embeds its own record (run id, times)."""
    with catalogue.session() as session:
        rows = session.exec(select(Pass.position, Render.store_path).join(Render, Render.id == Pass.render_id)
                            .where(Pass.run_id == run_id, Pass.status == "completed")
                            .order_by(Pass.position)).all()
    return [hashlib.sha256(np.asarray(Image.open(catalogue.store.path_of(path))).tobytes()).hexdigest()
            for _, path in rows]


def start_worker(log_path):
    log = open(log_path, "w")  # noqa: SIM115 (closed with the process, after the test reads it)
    process = subprocess.Popen([sys.executable, "-m", "atlas.cli.main", "worker", "--stalled-after", "5"],
                               stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
    process.log = log
    return process


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.log.close()


def running_in(catalogue) -> tuple[str, int] | None:
    """(worker, run id) of a run in the middle of its long pass (two passes finished before it)."""
    with catalogue.engine.connect() as connection:
        raw = connection.connection.driver_connection
        return raw.execute(
            "SELECT attempt.worker, attempt.run_id FROM atlas_queue_attempt attempt "
            "JOIN pass ON pass.run_id = attempt.run_id AND pass.status = 'running' AND pass.position = 2 "
            "ORDER BY attempt.id LIMIT 1").fetchone()


def test_two_workers_one_killed_every_run_completes_once_with_the_same_pixels(pg_demo, cli, tmp_path):
    from atlas.engine import runner
    from atlas.queue import jobs

    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(yaml.safe_dump(TINY))
    run_ids = []
    for seed in SEEDS:
        added = cli("queue", "add", recipe, "--seed", seed, "--json")
        assert added.code == 0, added.err
        run_ids.append(added.json()["run_id"])
    assert [row["state"] for row in jobs.listing(pg_demo)] == ["queued"] * 4

    workers = {}
    try:
        for index in range(2):
            process = start_worker(tmp_path / f"worker{index}.log")
            workers[process.pid] = process
        deadline = time.monotonic() + 180
        victim = None
        while victim is None and time.monotonic() < deadline:
            found = running_in(pg_demo)
            if found is not None:
                worker, run_id = found
                victim, victim_run = workers[int(worker.rsplit(":", 1)[1])], run_id
            time.sleep(0.02)
        assert victim is not None, "no worker reached the middle of a run"
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)

        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            rows = jobs.listing(pg_demo)
            if all(row["state"] in ("done", "failed") for row in rows):
                break
            time.sleep(0.5)
    finally:
        for process in workers.values():
            stop(process)
    logs = "\n".join((tmp_path / f"worker{i}.log").read_text() for i in range(2))
    rows = {row["run_id"]: row for row in jobs.listing(pg_demo)}
    assert [rows[run_id]["state"] for run_id in run_ids] == ["done"] * 4, logs
    assert all(rows[run_id]["run_status"] == "completed" for run_id in run_ids)
    survivor = next(p for p in workers.values() if p is not victim)
    assert rows[victim_run]["worker"].endswith(f":{survivor.pid}"), logs  # resumed by the other worker
    with pg_demo.engine.connect() as connection:
        started = [worker for (worker,) in connection.connection.driver_connection.execute(
            "SELECT worker FROM atlas_queue_attempt WHERE run_id = %s ORDER BY id", (victim_run,))]
    # started twice: by the killed worker, then by the survivor (procrastinate's own attempt count
    # may be higher: a retry offered while the run was still held counts too)
    assert [w.rsplit(":", 1)[1] for w in started] == [str(victim.pid), str(survivor.pid)], logs
    assert rows[victim_run]["attempts"] >= 1, logs  # put back in the queue after its worker died

    with pg_demo.session() as session:
        for run_id in run_ids:
            steps = session.exec(select(Pass.position, Pass.status).where(Pass.run_id == run_id)
                                 .order_by(Pass.id)).all()
            completed = [position for position, status in steps if status == "completed"]
            assert completed == [0, 1, 2, 3], (run_id, steps)  # every pass once, in order
            others = [(position, status) for position, status in steps if status != "completed"]
            assert others == ([(2, "interrupted")] if run_id == victim_run else []), (run_id, steps)
        renders = session.exec(select(Render.store_path)).all()
    assert len(renders) == 4 * 4  # no pass rendered twice
    stored = {p.relative_to(pg_demo.store.root).as_posix() for p in pg_demo.store.root.rglob("*") if p.is_file()}
    assert stored == set(renders)  # the killed pass left no file behind

    # The same recipes and seeds run straight through in this process: the same pixels, pass by pass.
    for run_id, seed in zip(run_ids, SEEDS, strict=True):
        straight = runner.run_recipe(pg_demo, dict(TINY), seed=seed)
        assert pixel_digests(pg_demo, run_id) == pixel_digests(pg_demo, straight.id)


@pytest.mark.parametrize("args", [["queue", "list"], ["queue", "add", "demo"], ["queue", "cancel", "1"], ["worker"]])
def test_queue_commands_on_sqlite_exit_2_and_say_why(cli, home, args):
    result = cli(*args)
    assert result.code == 2, result.out + result.err
    assert "the queue needs the catalogue on PostgreSQL" in result.err
    assert "atlas run RECIPE" in result.err


def test_cancel_a_queued_run_and_what_cannot_be_cancelled(pg_demo, cli):
    added = cli("queue", "add", "demo", "--seed", "3", "--priority", "7", "--json")
    assert added.code == 0, added.err
    run_id = added.json()["run_id"]
    listed = cli("queue", "list", "--json").json()
    assert [(r["run_id"], r["state"], r["priority"], r["run_status"]) for r in listed] == [
        (run_id, "queued", 7, "queued")]
    assert cli("queue", "cancel", run_id).code == 0
    listed = cli("queue", "list", "--json").json()
    assert [(r["state"], r["run_status"]) for r in listed] == [("cancelled", "cancelled")]
    again = cli("queue", "cancel", run_id)
    assert again.code == 2 and "nothing to cancel" in again.err
    missing = cli("queue", "cancel", run_id + 100)
    assert missing.code == 2 and f"no queued run with id {run_id + 100}" in missing.err


def test_the_job_is_enqueued_in_the_runs_transaction(pg_demo):
    """Rolled back together: neither the run nor its job is left behind."""
    from atlas.core.record.write import RenderInfo, check_licence
    from atlas.queue import jobs

    app = jobs.open_queue(pg_demo)
    info = check_licence(pg_demo, RenderInfo())
    with pg_demo.session() as session:
        run = Run(recipe_name="t", recipe={}, status="queued")
        session.add(run)
        session.flush()
        job_id = jobs.defer(app, session, run.id, "0" * 64, info)
        assert session.connection().exec_driver_sql(
            f"SELECT count(*) FROM procrastinate_jobs WHERE id = {int(job_id)}").scalar() == 1
        session.rollback()
    with pg_demo.session() as session:
        assert session.exec(select(Run)).all() == []
        assert session.connection().exec_driver_sql("SELECT count(*) FROM procrastinate_jobs").scalar() == 0


def test_a_run_is_held_by_one_process_at_a_time(pg_demo):
    from atlas.queue.machine import WaitForAnotherMachine, claimed, is_held

    other = Catalogue.open(pg_demo.home)  # its own engine: another process's connections
    try:
        with claimed(pg_demo, 5, "first"):
            assert is_held(other, 5) and not is_held(other, 6)
            with (pytest.raises(WaitForAnotherMachine, match="run 5 is being rendered by another process"),
                  claimed(other, 5, "second")):
                pass
            with claimed(other, 6, "second"):  # another run is free
                pass
        assert not is_held(other, 5)
        with claimed(other, 5, "second"):  # released when the holder's block ends
            pass
    finally:
        other.close()


def test_a_worker_without_the_models_weights_refuses_the_job(pg_demo, tmp_path):
    import hashlib

    from atlas.core.catalogue.tables import Model
    from atlas.queue.machine import WaitForAnotherMachine, require_model

    here = tmp_path / "here.safetensors"
    here.write_bytes(b"weights")
    present = hashlib.sha256(b"weights").hexdigest()  # a path counts only when its file hashes to the model
    with pg_demo.session() as session:
        for name, path, sha in [("on-this-machine", here, present), ("elsewhere", tmp_path / "gone", "ab" * 32)]:
            session.add(Model(name=name, kind="checkpoint", source=str(path), path=str(path), format="single-file",
                              sha256=sha, short_hash=sha[:10], licence_id="CC0-1.0"))
        session.commit()
    with pytest.raises(WaitForAnotherMachine, match=r"model 'elsewhere' \(sha256 (ab){32}\) is not on this machine"):
        require_model(pg_demo, "ab" * 32)
    with pytest.raises(WaitForAnotherMachine, match=r"sha256 (ef){32} \(not registered\)"):
        require_model(pg_demo, "ef" * 32)
    require_model(pg_demo, present)  # its weights are here: no error


def test_the_schema_is_made_once_when_two_processes_start_together(pg_home):
    from atlas.queue import schema

    catalogues = [Catalogue.open(pg_home) for _ in range(2)]
    errors = []

    def first_use(catalogue):
        try:
            schema.ensure(catalogue)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_use, args=(c,)) for c in catalogues]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with catalogues[0].engine.begin() as connection:
        raw = connection.connection.driver_connection
        assert raw.execute("SELECT count(*) FROM procrastinate_jobs").fetchone()[0] == 0
        raw.execute("COMMENT ON TABLE procrastinate_jobs IS 'procrastinate 0.1'")
    with pytest.raises(AtlasError, match="made by procrastinate 0.1, this machine runs procrastinate 3"):
        schema.ensure(catalogues[1])
    for catalogue in catalogues:
        catalogue.close()


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads processes from /proc (Linux)")
def test_sigkill_of_a_worker_with_several_processes_leaves_none_of_them(pg_home):
    from tests.support.processes import children_of, kill_running, survivors

    parent = subprocess.Popen([sys.executable, "-m", "atlas.cli.main", "worker", "--concurrency", "2"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline and parent.poll() is None:
            workers = children_of(parent.pid)
            time.sleep(0.05)
        assert len(workers) == 2, "the worker processes did not start"
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        assert survivors(workers, within=5) == []
    finally:
        kill_running(workers)
        if parent.poll() is None:
            parent.kill()
