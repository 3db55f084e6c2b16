"""Benchmark: the render queue on a local PostgreSQL server (Debian's binaries, started here).

1. procrastinate itself: empty jobs deferred one per transaction, then taken and finished by one
   worker (one job at a time, then ten at a time): jobs per second.
2. End to end: four small demo runs (64x64, 4 passes of 2 steps) queued with `atlas queue add`,
   rendered by 1 `atlas worker` process, then four more by 2 processes: runs per minute, counted
   from the workers' start (torch import and model load included) to the last run done.

Run: PYTHONPATH=. .venv/bin/python tests/benchmarks/bench_queue.py
"""

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.support import postgres

RECIPE = {
    "name": "bench-queue", "prompt": "a lighthouse", "model": "atlas-demo-tiny-sd",
    "txt2img": {"width": 64, "height": 64, "steps": 2},
    "defaults": {"outpaint": {"pixels": 8, "steps": 2, "mask_blur": 2}},
    "passes": [{"outpaint": {"side": "right"}}, {"outpaint": {"side": "down"}}, {"outpaint": {"side": "left"}}],
}
EMPTY_JOBS = 2000


def empty_jobs(catalogue) -> None:
    import procrastinate

    from atlas.queue import schema
    from atlas.queue.database import conninfo

    schema.ensure(catalogue)
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(catalogue)))

    @app.task(name="bench.noop", queue="bench")
    async def noop(index: int) -> None:
        return None

    for concurrency in (1, 10):
        with app.open():
            started = time.perf_counter()
            for index in range(EMPTY_JOBS):
                noop.defer(index=index)
            deferred = time.perf_counter() - started

        async def work(concurrency=concurrency):
            async with app.open_async():
                await app.run_worker_async(queues=["bench"], wait=False, concurrency=concurrency,
                                           install_signal_handlers=False, listen_notify=False,
                                           delete_jobs="always")

        started = time.perf_counter()
        asyncio.run(work())
        taken = time.perf_counter() - started
        print(f"empty jobs: {EMPTY_JOBS / deferred:7.0f}/s deferred (one transaction each), "
              f"{EMPTY_JOBS / taken:7.0f}/s taken and finished by one worker, concurrency {concurrency}")


def runs_per_minute(home: Path, recipe: Path, workers: int, count: int = 4) -> None:
    from atlas.core.catalogue import Catalogue
    from atlas.queue import jobs

    env = {**os.environ, "ATLAS_HOME": str(home)}
    for seed in range(count):
        subprocess.run([sys.executable, "-m", "atlas.cli.main", "queue", "add", str(recipe), "--seed", str(seed)],
                       env=env, check=True, stdout=subprocess.DEVNULL)
    catalogue = Catalogue.open(home)
    before = sum(row["state"] == "done" for row in jobs.listing(catalogue))
    started = time.monotonic()
    processes = [subprocess.Popen([sys.executable, "-m", "atlas.cli.main", "worker"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    try:
        while sum(row["state"] == "done" for row in jobs.listing(catalogue)) < before + count:
            if any(row["state"] == "failed" for row in jobs.listing(catalogue)):
                raise SystemExit("a queued run failed")
            time.sleep(0.2)
        elapsed = time.monotonic() - started
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        catalogue.close()
    print(f"{workers} worker{'s' if workers > 1 else ' '}: {count} demo runs in {elapsed:6.1f} s = "
          f"{count / elapsed * 60:5.1f} runs/min")


def main() -> None:
    from atlas.core.catalogue import Catalogue
    from atlas.engine import demo_model

    bindir = postgres.binaries()
    if bindir is None:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    scratch = Path(tempfile.mkdtemp(prefix="atlas-bench-queue-"))
    try:
        with postgres.server(bindir) as url:
            os.environ["ATLAS_DATABASE_URL"] = postgres.create_database(url)
            home = scratch / "home"
            catalogue = Catalogue.open(home)
            demo_model.ensure(catalogue)
            empty_jobs(catalogue)
            catalogue.close()
            recipe = scratch / "bench.yaml"
            recipe.write_text(yaml.safe_dump(RECIPE))
            print(f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
            runs_per_minute(home, recipe, 1)
            runs_per_minute(home, recipe, 2)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
