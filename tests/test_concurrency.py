"""Several processes at once on one catalogue: build-once steps, run claims, writers that wait for
each other instead of failing, import workers that die with their parent.

The multi-writer test runs small (WRITERS processes x RECORDS records, `ATLAS_CONCURRENCY_RECORDS`
sets it) and at full size, the whole demonstration (8 x 500 = 4,000 records; marked `long`, left out of
the default run: `-m long`).
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlmodel import col, func, select

from atlas.core.catalogue import Catalogue, claims, retry
from atlas.core.catalogue.database import HEAD, current_revision
from atlas.core.catalogue.tables import Licence, Model, Pass, Render, Run, Tag, utcnow
from atlas.core.errors import AtlasError
from tests.support.processes import children_of, kill_running, run_atlas, survivors

WRITERS = 8
RECORDS = int(os.environ.get("ATLAS_CONCURRENCY_RECORDS", "4"))
FULL_RECORDS = 500
ROOT = Path(__file__).resolve().parent.parent
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # eight torch processes on a few cores
PROBLEMS = ("database is locked", "Traceback", "already exists", "already registered", "error")


def start_atlas(*args, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "atlas.cli.main", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, **(env or {})})


def finish(processes, timeout=900) -> list[tuple[int, str, str]]:
    results = []
    for process in processes:
        try:
            out, err = process.communicate(timeout=timeout)
        finally:
            if process.poll() is None:
                process.kill()
        results.append((process.returncode, out, err))
    return results


@pytest.fixture(params=["sqlite", "postgresql"])
def any_home(request, home):
    """A fresh home whose catalogue is SQLite, or a fresh PostgreSQL database."""
    if request.param == "postgresql":
        request.getfixturevalue("pg_home")
    return home


# --- build-once steps ---------------------------------------------------------------------------------

def test_first_commands_on_a_fresh_home_create_the_schema_once(any_home):
    results = finish([start_atlas("list", "--json") for _ in range(4)])
    for code, _, err in results:
        assert (code, err) == (0, "")
    catalogue = Catalogue.open(any_home)
    try:
        with catalogue.engine.connect() as conn:
            assert current_revision(conn) == HEAD
        with catalogue.session() as session:
            assert session.exec(select(func.count()).select_from(Licence)).one() >= 6
    finally:
        catalogue.close()


@pytest.mark.slow
def test_first_generates_on_a_fresh_home_build_the_demo_model_once(home):
    args = ("generate", "a lighthouse", "--size", "64x64", "--steps", "1", "--seed", "3")
    results = finish([start_atlas(*args, env=ONE_THREAD) for _ in range(2)])
    assert [(code, err) for code, _, err in results] == [(0, "")] * 2
    catalogue = Catalogue.open(home)
    try:
        with catalogue.session() as session:
            models = session.exec(select(Model)).all()
            used = session.exec(select(Pass.model_id)).all()
            renders = session.exec(select(Render)).all()
        assert len(models) == 1 and used == [models[0].id] * 2
        # The same seed on one intact model: the same pixels (each file embeds its own record).
        pixels = [np.asarray(Image.open(catalogue.file_of(r)).convert("RGB")) for r in renders]
        assert len(pixels) == 2
        np.testing.assert_array_equal(pixels[0], pixels[1])
        assert sorted(p.name for p in home.models.iterdir()) == ["atlas-demo-tiny-sd"]  # no build folder left
    finally:
        catalogue.close()


def test_two_homes_sharing_one_database_file_share_its_schema_lock(tmp_path, monkeypatch):
    # The lock lives beside the database file, not in a home: homes naming one file wait for each other.
    from atlas.core.catalogue.locks import database_lock

    monkeypatch.setenv("ATLAS_DATABASE_URL", f"sqlite:///{tmp_path / 'shared.db'}")
    first, second = Catalogue.open(tmp_path / "home-a"), Catalogue.open(tmp_path / "home-b")
    order = []

    def second_takes_it():
        with database_lock(second.engine, "schema"):
            order.append("second")

    try:
        with database_lock(first.engine, "schema"):
            waiter = threading.Thread(target=second_takes_it)
            waiter.start()
            time.sleep(0.3)
            order.append("first")
        waiter.join(timeout=10)
        assert order == ["first", "second"]
    finally:
        first.close()
        second.close()


# --- run claims ---------------------------------------------------------------------------------------

def new_run(catalogue) -> int:
    with catalogue.session() as session:
        run = Run(recipe_name="r", recipe={}, status="interrupted")
        session.add(run)
        session.commit()
        return run.id


@pytest.fixture
def any_catalogue(any_home):
    catalogue = Catalogue.open(any_home)
    yield catalogue
    catalogue.close()


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def test_a_run_is_claimed_by_one_owner_at_a_time(any_catalogue):
    run_id = new_run(any_catalogue)
    first, second = claims.Owner.this_process(), claims.Owner.this_process()
    assert claims.claim_run(any_catalogue, run_id, first)
    assert not claims.claim_run(any_catalogue, run_id, second)  # alive, here: refused
    assert claims.claim_run(any_catalogue, run_id, first)  # claiming again renews
    held = claims.current_claim(any_catalogue, run_id)
    assert (held.token, held.pid, held.host) == (first.token, os.getpid(), first.host)
    assert claims.heartbeat(any_catalogue, run_id, first) and not claims.heartbeat(any_catalogue, run_id, second)
    claims.release(any_catalogue, run_id, second)  # not its claim: nothing happens
    assert claims.current_claim(any_catalogue, run_id).token == first.token
    claims.release(any_catalogue, run_id, first)
    assert claims.current_claim(any_catalogue, run_id) is None
    assert claims.claim_run(any_catalogue, run_id, second)
    assert not claims.claim_run(any_catalogue, 10_000, first)  # no such run


def test_a_dead_holder_on_this_host_is_taken_over_at_once(any_catalogue):
    run_id = new_run(any_catalogue)
    gone = claims.Owner(host=claims.Owner.this_process().host, pid=dead_pid())
    assert claims.claim_run(any_catalogue, run_id, gone)
    me = claims.Owner.this_process()
    assert claims.claim_run(any_catalogue, run_id, me)
    assert not claims.heartbeat(any_catalogue, run_id, gone)  # the dead holder's claim is gone


def test_a_holder_on_another_host_is_taken_over_only_once_its_heartbeat_is_stale(any_catalogue):
    run_id = new_run(any_catalogue)
    elsewhere = claims.Owner(host="render-box-2", pid=os.getpid())
    assert claims.claim_run(any_catalogue, run_id, elsewhere)
    me = claims.Owner.this_process()
    assert not claims.claim_run(any_catalogue, run_id, me)  # cannot see its process: wait for its heartbeat
    with any_catalogue.session() as session:
        run = session.get(Run, run_id)
        run.heartbeat_at = utcnow() - timedelta(seconds=claims.STALE_AFTER_S + 5)
        session.commit()
    assert claims.claim_run(any_catalogue, run_id, me)


def test_the_refusal_names_the_holder(any_catalogue):
    run_id = new_run(any_catalogue)
    elsewhere = claims.Owner(host="render-box-2", pid=4242)
    claims.claim_run(any_catalogue, run_id, elsewhere)
    with pytest.raises(claims.RunClaimed) as refused, claims.holding(any_catalogue, run_id):
        pass
    assert refused.value.exit_code == 1
    assert str(refused.value).startswith(f"run {run_id} is being run by process 4242 on render-box-2 since ")


def test_holding_renews_the_heartbeat_and_releases_at_the_end(any_catalogue):
    run_id = new_run(any_catalogue)
    with claims.holding(any_catalogue, run_id, interval=0.05) as held:
        first = claims.current_claim(any_catalogue, run_id).heartbeat_at
        time.sleep(0.5)
        assert claims.current_claim(any_catalogue, run_id).heartbeat_at > first
        held.check()
    assert claims.current_claim(any_catalogue, run_id) is None


def test_holding_sees_its_claim_taken_over(any_catalogue):
    run_id = new_run(any_catalogue)
    with claims.holding(any_catalogue, run_id) as held:
        with any_catalogue.session() as session:  # what a process that thought this one dead does
            run = session.get(Run, run_id)
            run.claim_token, run.claim_pid, run.claim_host = "someone-else", 99, "render-box-3"
            session.commit()
        with pytest.raises(claims.RunClaimed, match="process 99 on render-box-3"):
            held.check()
    assert claims.current_claim(any_catalogue, run_id).token == "someone-else"  # not released by the loser


# --- writers wait for each other ------------------------------------------------------------------------

@pytest.fixture
def locked_catalogue(home):
    """A catalogue whose writers give up waiting after 0.1 s, and a lock another connection holds."""
    catalogue = Catalogue.open(home, busy_timeout=0.1)
    holder = sqlite3.connect(home.database_path, isolation_level=None, check_same_thread=False)
    yield catalogue, holder
    holder.close()
    catalogue.close()


def hold_for(holder, seconds: float) -> threading.Thread:
    holder.execute("BEGIN IMMEDIATE")  # another process writing: nobody else may write meanwhile

    def let_go():
        time.sleep(seconds)
        holder.execute("COMMIT")

    thread = threading.Thread(target=let_go)
    thread.start()
    return thread


def png_file(path: Path, seed: int) -> Path:
    pixels = np.random.default_rng(seed).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def test_a_write_waits_for_another_writer_longer_than_the_busy_timeout(locked_catalogue, monkeypatch, tmp_path):
    from atlas.core.actions.tagging import tag
    from atlas.core.importers.batch import import_file

    catalogue, holder = locked_catalogue
    monkeypatch.setattr(retry, "INTERACTIVE_BELOW_S", 0.05)  # its 0.1 s busy timeout is a command line's
    monkeypatch.setattr(retry, "RETRY_FOR_S", 30.0)
    render = import_file(catalogue, png_file(tmp_path / "a.png", 1))
    started = time.monotonic()
    letting_go = hold_for(holder, 1.0)
    assert tag(catalogue, [render.id], add=["waited"]) == {render.id: ["waited"]}
    assert time.monotonic() - started >= 0.9
    letting_go.join()
    letting_go = hold_for(holder, 1.0)
    second = import_file(catalogue, png_file(tmp_path / "b.png", 2))
    letting_go.join()
    assert second.id != render.id and catalogue.store.path_of(second.store_path).is_file()


def test_a_writer_kept_out_for_too_long_hears_it_in_one_line(locked_catalogue, monkeypatch, tmp_path):
    # The TUI's short busy timeout: it hears once that timeout has passed twice, not after minutes.
    from atlas.core.actions.tagging import tag
    from atlas.core.importers.batch import import_file

    catalogue, holder = locked_catalogue
    render = import_file(catalogue, png_file(tmp_path / "a.png", 1))
    letting_go = hold_for(holder, 3.0)
    started = time.monotonic()
    refused = r"^the catalogue is locked by another writer \(waited 0\.\d s\)"
    with pytest.raises(retry.CatalogueBusy, match=refused) as busy:
        tag(catalogue, [render.id], add=["never"])
    assert time.monotonic() - started < 2.0
    letting_go.join()
    assert isinstance(busy.value, AtlasError) and busy.value.__cause__ is None  # one line, no database error


def test_two_taggers_adding_one_tag_at_once_both_succeed(home, tmp_path):
    # Each reads "no such tag" and inserts it; the second insert breaks the key, and is run again.
    from atlas.core.actions.tagging import tag
    from atlas.core.importers.batch import import_file

    catalogue = Catalogue.open(home)
    try:
        render = import_file(catalogue, png_file(tmp_path / "a.png", 1))
        barrier = threading.Barrier(2)
        real_get = catalogue.session

        def session_after_both_read():
            session = real_get()
            return _SyncedSession(session, barrier)

        catalogue.session = session_after_both_read  # type: ignore[method-assign]
        errors = []

        def tagger():
            try:
                tag(catalogue, [render.id], add=["same"])
            except Exception as exc:  # kept for the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=tagger) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        catalogue.session = real_get  # type: ignore[method-assign]
        assert errors == []
        with catalogue.session() as session:
            assert session.exec(select(Tag.name).where(Tag.render_id == render.id)).all() == ["same"]
    finally:
        catalogue.close()


class _SyncedSession:
    """A session context whose first `get` waits until both taggers made theirs (the race, every time)."""

    def __init__(self, manager, barrier):
        self.manager, self.barrier, self.session = manager, barrier, None

    def __enter__(self):
        session = self.manager.__enter__()
        real_get, barrier = session.get, self.barrier

        def get(*args, **kwargs):
            found = real_get(*args, **kwargs)
            if args and args[0] is Tag:
                try:
                    barrier.wait(timeout=2)
                except threading.BrokenBarrierError:
                    pass  # the run again: alone now
            return found

        session.get = get
        return session

    def __exit__(self, *exc):
        return self.manager.__exit__(*exc)


# --- many writers at once -------------------------------------------------------------------------------

@pytest.fixture
def writers_home(any_home, demo_model_dir, tmp_path):
    """`any_home` with the demo model in place and one render every writer tags (its id)."""
    import shutil

    from atlas.core.importers.batch import import_file
    from atlas.core.record.models import DEMO_MODEL_NAME
    from atlas.engine.demo_model import ensure

    catalogue = Catalogue.open(any_home)
    try:
        shutil.copytree(demo_model_dir, any_home.models / DEMO_MODEL_NAME)
        ensure(catalogue)
        shared = import_file(catalogue, png_file(tmp_path / "shared.png", 0)).id
    finally:
        catalogue.close()
    return any_home, shared


@pytest.mark.parametrize("records", [pytest.param(RECORDS, id="small"),
                                     pytest.param(FULL_RECORDS, id="full",
                                                  marks=[pytest.mark.slow, pytest.mark.long])])
def test_writers_at_once_lose_nothing_and_see_no_lock_errors(writers_home, tmp_path, records):
    home, shared = writers_home
    started = time.monotonic()
    for index in range(WRITERS):
        (tmp_path / f"writer-{index}").mkdir()
    # WRITERS processes at once, forked after torch is imported (tests/support/concurrent_writer.py).
    launcher = subprocess.Popen(
        [sys.executable, "-m", "tests.support.concurrent_writer", "--fork", str(WRITERS), str(records),
         str(tmp_path), str(shared)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **ONE_THREAD})
    [(launched, out, launch_err)] = finish([launcher], timeout=max(900, records * 20))
    assert launched == 0, launch_err
    codes = json.loads(out)
    assert len(codes) == WRITERS, out
    for index, code in enumerate(codes):
        err = (tmp_path / f"writer-{index}.err").read_text()
        assert not [p for p in PROBLEMS if p in err], f"writer {index} said:\n{err}"
        assert code == 0, f"writer {index}: {code} commands failed\n{err}"
    catalogue = Catalogue.open(home)
    try:
        with catalogue.session() as session:
            assert session.exec(select(func.count()).select_from(Render)).one() == WRITERS * records + 1
            for index in range(WRITERS):
                tagged = session.exec(select(func.count()).select_from(Tag)
                                      .where(Tag.name == f"writer-{index}")).one()
                assert tagged == records
            seen = session.exec(select(Tag.name).where(Tag.render_id == shared, col(Tag.name).startswith("seen-by-")))
            assert sorted(seen.all()) == sorted(f"seen-by-{i}" for i in range(WRITERS))
            assert session.exec(select(Pass).where(Pass.status != "completed")).all() == []
            paths = set(session.exec(select(Render.store_path)).all())
        stored = {p.relative_to(catalogue.store.root).as_posix() for p in catalogue.store.root.rglob("*")
                  if p.is_file()}
        assert stored == paths  # no orphan, no missing file
    finally:
        catalogue.close()
    verified = run_atlas("verify", "--all")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"ok: {WRITERS * records + 1} checked, no problems" in verified.stdout
    print(f"{WRITERS} writers x {records} records: {time.monotonic() - started:.0f} s")


# --- import workers die with their parent ---------------------------------------------------------------

@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
def test_sigkill_of_a_recursive_import_leaves_no_worker_alive(home, tmp_path):
    source = tmp_path / "renders"
    for index in range(600):
        folder = source / f"day-{index % 6}"
        folder.mkdir(parents=True, exist_ok=True)
        png_file(folder / f"{index}.png", 1000 + index)
    Catalogue.open(home).close()  # the schema exists: the import gets to its workers sooner
    importer = start_atlas("import", "--recursive", "--workers", "2", source)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while not workers and time.monotonic() < deadline and importer.poll() is None:
            workers = children_of(importer.pid)
            time.sleep(0.01)
        assert workers, "the import ended before its workers could be seen"
        importer.send_signal(signal.SIGKILL)
        importer.wait(timeout=30)
        alive = survivors(workers, within=5)
        assert alive == [], f"import workers {alive} outlived their parent"
    finally:
        kill_running(workers)
        if importer.poll() is None:
            importer.kill()
