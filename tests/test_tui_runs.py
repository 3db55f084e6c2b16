"""The TUI's runs screen, driven with Textual's Pilot on real catalogues: the runs with their state
and worker, on SQLite (runs of `atlas run`) and on PostgreSQL (queued runs, their jobs and workers),
and a re-run queued for a worker instead of rendered here."""

import os
import socket
from datetime import timedelta

import pytest
from sqlmodel import select

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.claims import STALE_AFTER_S, Owner, claim_fields
from atlas.core.catalogue.tables import Model, Run, utcnow
from atlas.queue import board
from atlas.tui.app import AtlasApp
from atlas.tui.screens.runs import RunsScreen
from tests.support.tui_screen import messages, screen_text

pytestmark = pytest.mark.usefixtures("tui_notices")

SIZE = (160, 30)
RECIPE = {"name": "lighthouse", "prompt": "a lighthouse", "model": "weights-here", "seed": 5,
          "txt2img": {"width": 64, "height": 64, "steps": 2}, "passes": []}


def add_runs(catalogue) -> dict[str, int]:
    """One run in each state the screen shows, as the runner leaves its rows; their ids by state."""
    now = utcnow()
    me = Owner.this_process()
    dead = {**claim_fields(Owner(host="render-box-2", pid=4242)), "heartbeat_at": now - timedelta(
        seconds=STALE_AFTER_S + 60)}
    made = [("done", Run(recipe_name="lighthouse", recipe=RECIPE, status="completed")),
            ("failed", Run(recipe_name="harbour", recipe=RECIPE, status="failed",
                           error="model 'x' is not registered\nsecond line")),
            ("interrupted", Run(recipe_name="storm", recipe=RECIPE, status="running", **dead)),
            ("running", Run(recipe_name="dawn", recipe=RECIPE, status="running", **claim_fields(me)))]
    ids = {}
    with catalogue.session() as session:
        for state, run in made:
            session.add(run)
            session.flush()
            ids[state] = run.id
        session.commit()
    return ids


def table_rows(app) -> list[list[str]]:
    table = app.screen.query_one("#runs")
    return [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.asyncio
async def test_the_runs_screen_lists_every_run_with_its_state_and_worker(catalogue):
    ids = add_runs(catalogue)
    app = AtlasApp(catalogue, image_mode="off")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
        rows = table_rows(app)
        here = f"{socket.gethostname()}:{os.getpid()}"
        # newest first: run, recipe, state, worker, how, (updated), final render, first line of the error
        assert [[r[0], r[1], r[2], r[3], r[4], r[6], r[7]] for r in rows] == [
            [str(ids["running"]), "dawn", "running", here, "local", "", ""],
            [str(ids["interrupted"]), "storm", "interrupted", "render-box-2:4242", "local", "", ""],
            [str(ids["failed"]), "harbour", "failed", "", "local", "", "model 'x' is not registered"],
            [str(ids["done"]), "lighthouse", "done", "", "local", "", ""],
        ]
        assert "1 running · 1 interrupted · 1 failed · 1 done" in screen_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, RunsScreen)


@pytest.mark.asyncio
async def test_the_screen_follows_the_catalogue(catalogue):
    add_runs(catalogue)
    app = AtlasApp(catalogue, image_mode="off")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j")
        await settle(pilot)
        assert len(table_rows(app)) == 4
        with catalogue.session() as session:  # another process finishes a run meanwhile
            run = session.exec(select(Run).where(Run.recipe_name == "dawn")).one()
            run.status, run.claim_token = "completed", None
            session.commit()
        await pilot.press("g")
        await settle(pilot)
        assert table_rows(app)[0][2] == "done"


@pytest.mark.asyncio
async def test_queueing_a_re_run_on_sqlite_says_the_queue_needs_postgresql(catalogue):
    add_runs(catalogue)
    app = AtlasApp(catalogue, image_mode="off")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert any("the queue needs the catalogue on PostgreSQL" in m for m in messages(app))
        assert len(table_rows(app)) == 4  # nothing was queued
    with catalogue.session() as session:
        assert len(session.exec(select(Run)).all()) == 4


@pytest.fixture
def pg_catalogue(pg_home, tmp_path):
    """A PostgreSQL catalogue with a model whose weights are a file here (nothing is rendered)."""
    import hashlib

    catalogue = Catalogue.open(pg_home)
    weights = tmp_path / "weights.safetensors"
    weights.write_bytes(b"weights")
    digest = hashlib.sha256(b"weights").hexdigest()
    with catalogue.session() as session:
        session.add(Model(name="weights-here", kind="checkpoint", source=str(weights), path=str(weights),
                          format="single-file", sha256=digest, short_hash=digest[:10], licence_id="CC0-1.0"))
        session.commit()
    yield catalogue
    catalogue.close()


@pytest.mark.asyncio
async def test_a_re_run_is_queued_for_a_worker_and_shown_with_its_job(pg_catalogue):
    ids = add_runs(pg_catalogue)
    app = AtlasApp(pg_catalogue, image_mode="off")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j")
        await settle(pilot)
        table = app.screen.query_one("#runs")
        table.move_cursor(row=3)  # the done run, "lighthouse", seed 5
        await pilot.press("s")  # same seed
        for _ in range(300):  # the engine loads in the queueing thread (recipe checks): seconds
            await settle(pilot)
            if len(table_rows(app)) == 5 or messages(app):
                break
            await pilot.pause(0.1)
        await settle(pilot)
        rows = table_rows(app)
        assert len(rows) == 5, messages(app)
        new = rows[0]
        assert (new[1], new[2], new[3], new[4]) == ("lighthouse", "queued", "", "queue")
        assert any(f"a re-run of run {ids['done']} (seed 5)" in m for m in messages(app))
    with pg_catalogue.session() as session:
        queued = session.get(Run, int(new[0]))
        assert (queued.status, queued.recipe["seed"], queued.recipe["prompt"]) == ("queued", 5, "a lighthouse")


def test_the_board_takes_a_queued_runs_state_and_worker_from_its_job(pg_catalogue):
    from atlas.core.record import recipes
    from atlas.queue import jobs

    first = jobs.add(pg_catalogue, recipes.Recipe("lighthouse", RECIPE))["run_id"]
    second = jobs.add(pg_catalogue, recipes.Recipe("lighthouse", RECIPE))["run_id"]
    with pg_catalogue.engine.begin() as connection:
        raw = connection.connection.driver_connection
        job_of = dict(raw.execute("SELECT (args->>'run_id')::bigint, id FROM procrastinate_jobs").fetchall())
        # the first: a worker on render-box-3 took it, and died mid-run (the job went back to the queue)
        raw.execute("INSERT INTO atlas_queue_attempt (job_id, run_id, worker) VALUES (%s, %s, 'render-box-3:77')",
                    (job_of[first], first))
        raw.execute("UPDATE run SET status = 'running', claim_token = 'x', claim_host = 'render-box-3', "
                    "claim_pid = 77, heartbeat_at = %s WHERE id = %s",
                    (utcnow() - timedelta(seconds=STALE_AFTER_S + 60), first))
        # the second: rendered to the end by render-box-4 (its claim released, its job succeeded)
        raw.execute("INSERT INTO atlas_queue_attempt (job_id, run_id, worker) VALUES (%s, %s, 'render-box-4:88')",
                    (job_of[second], second))
        raw.execute("UPDATE procrastinate_jobs SET status = 'succeeded' WHERE id = %s", (job_of[second],))
        raw.execute("UPDATE run SET status = 'completed' WHERE id = %s", (second,))
    shown = {row.run_id: (row.state, row.worker, row.queued) for row in board.board(pg_catalogue)}
    assert shown == {first: ("queued", "render-box-3:77", True), second: ("done", "render-box-4:88", True)}
