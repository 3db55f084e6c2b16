"""The shared store: where it is, how files enter it, what a pass records before writing, and the
store-wide integrity check (`atlas verify --all --repair-orphans`). Real files, real SQLite."""

import hashlib
import json
import os
import shutil
import time

import pytest
from sqlmodel import select

from atlas.core.actions import verify as verify_action
from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.home import Home
from atlas.core.catalogue.store import Store, StoreConflict, relative_path
from atlas.core.catalogue.tables import Pass, Render, Tag
from atlas.core.record.write import RenderInfo, begin_pass, finish_pass, intended_leftovers
from tests.support.reference_lineage import png_of_size

INFO = RenderInfo(title="t", author="A", licence_id="CC0-1.0")


def record(catalogue, shade=0, size=(8, 8)) -> Render:
    pass_id = begin_pass(catalogue, Pass(kind="txt2img", prompt=f"p{shade}", seed=shade))
    return finish_pass(catalogue, pass_id, png_of_size(*size, shade), *size, INFO)


def walked(store_root):
    return sorted(p.relative_to(store_root).as_posix() for p in store_root.rglob("*") if p.is_file())


# --- where the store is ---

def test_store_defaults_to_home_store(home, monkeypatch):
    monkeypatch.delenv("ATLAS_STORE", raising=False)
    assert home.store == home.root / "store"


def test_store_from_config_relative_to_home_and_env_wins(home, monkeypatch, tmp_path):
    monkeypatch.delenv("ATLAS_STORE", raising=False)
    home.root.mkdir(parents=True)
    home.config_path.write_text('[store]\npath = "../team-store"\n')
    assert home.store == (home.root.parent / "team-store").resolve()
    monkeypatch.setenv("ATLAS_STORE", str(tmp_path / "mounted"))
    assert home.store == (tmp_path / "mounted").resolve()


def test_config_store_path_is_validated(home, monkeypatch):
    from atlas.core.errors import BadInput

    monkeypatch.delenv("ATLAS_STORE", raising=False)
    home.root.mkdir(parents=True)
    home.config_path.write_text("[store]\npath = 3\n")
    with pytest.raises(BadInput):
        _ = home.store


def test_store_paths_stay_relative_so_a_moved_store_still_reads(home, monkeypatch, tmp_path):
    first = tmp_path / "mount-a"
    monkeypatch.setenv("ATLAS_STORE", str(first))
    catalogue = Catalogue.open(home)
    render = record(catalogue)
    catalogue.close()
    assert not os.path.isabs(render.store_path) and render.store_path == relative_path(render.sha256, "png")
    assert (first / render.store_path).is_file()
    assert not (home.root / "store" / render.store_path).exists()
    # another machine mounts the same folder elsewhere
    second = tmp_path / "mount-b"
    shutil.move(first, second)
    monkeypatch.setenv("ATLAS_STORE", str(second))
    other = Catalogue.open(Home.resolve(home.root))
    with other.session() as session:
        again = session.get(Render, render.id)
    assert hashlib.sha256(other.file_of(again).read_bytes()).hexdigest() == render.sha256
    assert verify_action.verify_render(other, render.id) == []
    other.close()


# --- how files enter it ---

def test_put_never_overwrites_a_different_file_at_an_address(tmp_path):
    store = Store(tmp_path / "store")
    data = b"the real bytes"
    digest = hashlib.sha256(data).hexdigest()
    target = store.path_of(relative_path(digest, "png"))
    target.parent.mkdir(parents=True)
    target.write_bytes(b"something else")
    other = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(StoreConflict) as raised:
        store.put(data, "png")
    assert digest in str(raised.value) and other in str(raised.value)
    assert target.read_bytes() == b"something else"
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temp file left


def test_put_keeps_an_identical_file_and_leaves_no_temp_files(tmp_path):
    store = Store(tmp_path / "store")
    digest, rel, created = store.put(b"abc", "png")
    assert created and digest == hashlib.sha256(b"abc").hexdigest() and rel == relative_path(digest, "png")
    inode = store.path_of(rel).stat().st_ino
    assert store.put(b"abc", "png") == (digest, rel, False)
    assert store.path_of(rel).stat().st_ino == inode
    assert walked(store.root) == [rel]


def test_two_processes_racing_for_one_address_both_succeed_without_overwriting(tmp_path):
    import multiprocessing

    store_root = tmp_path / "store"
    data = os.urandom(1 << 20)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        results = pool.starmap(_put, [(store_root, data)] * 8)
    assert len({r[1] for r in results}) == 1
    assert sum(r[2] for r in results) == 1  # exactly one created it
    assert walked(store_root) == [results[0][1]]
    assert (store_root / results[0][1]).read_bytes() == data


def _put(root, data):
    return Store(root).put(data, "png")


# --- the intended store path is recorded before the file is written ---

def test_the_render_row_names_the_path_before_the_file_exists(catalogue, monkeypatch):
    seen = {}
    real_put = catalogue.store.put

    def spying_put(data, ext):
        # what another process would read from the catalogue at the moment of writing
        other = Catalogue.open(catalogue.home)
        try:
            with other.session() as session:
                step = session.exec(select(Pass)).one()
                render = session.get(Render, step.render_id)
                seen.update(status=step.status, path=render.store_path,
                            exists=other.store.path_of(render.store_path).exists())
        finally:
            other.close()
        return real_put(data, ext)

    monkeypatch.setattr(catalogue.store, "put", spying_put)
    render = record(catalogue)
    assert seen == {"status": "running", "path": render.store_path, "exists": False}
    with catalogue.session() as session:
        assert session.exec(select(Pass)).one().status == "completed"
    assert verify_action.verify_render(catalogue, render.id) == []


def test_a_failed_write_takes_back_the_intent(catalogue, monkeypatch):
    def failing_put(data, ext):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(catalogue.store, "put", failing_put)
    with pytest.raises(OSError):
        record(catalogue)
    with catalogue.session() as session:
        assert session.exec(select(Render)).all() == []
        assert session.exec(select(Pass)).one().render_id is None
    assert walked(catalogue.store.root) == []


def killed_after_write(catalogue, shade) -> tuple[int, str]:
    """The state a SIGKILL between the file write and the completing commit leaves: the render row
    and the file exist, the pass is still `running`. Made with the real finish_pass, stopped there."""
    real_put = catalogue.store.put
    state = {}

    class Killed(BaseException):
        pass

    def put_then_die(data, ext):
        state["result"] = real_put(data, ext)
        raise Killed

    catalogue.store.put = put_then_die
    import atlas.core.record.write as write

    undo = write._undo_intent
    write._undo_intent = lambda *a, **k: None  # a killed process undoes nothing
    try:
        with pytest.raises(Killed):
            record(catalogue, shade)
    finally:
        catalogue.store.put, write._undo_intent = real_put, undo
    with catalogue.session() as session:
        step = session.exec(select(Pass).where(Pass.seed == shade)).one()
    return step.id, state["result"][1]


def test_leftovers_of_a_killed_pass_are_removed_and_nothing_else(catalogue):
    kept = record(catalogue, shade=0)
    pass_id, leftover = killed_after_write(catalogue, shade=1)
    # another writer's file, stored a moment ago with its rows not committed yet
    _, foreign, _ = catalogue.store.put(b"another writer's render", "png")
    assert intended_leftovers(catalogue, [pass_id]) == [leftover]
    assert walked(catalogue.store.root) == sorted([kept.store_path, foreign])
    with catalogue.session() as session:
        assert [r.id for r in session.exec(select(Render))] == [kept.id]
        assert session.get(Pass, pass_id).render_id is None


# --- the integrity check over the whole store ---

def test_scan_finds_orphans_and_missing_files_in_one_sorted_pass(catalogue, tmp_path):
    renders = [record(catalogue, shade=i, size=(8 + i, 8)) for i in range(5)]
    _, orphan, _ = catalogue.store.put(b"no row names me", "png")
    stray = catalogue.store.root / "ab" / "stray.txt"  # not even an address: an orphan all the same
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_text("x")
    temp = catalogue.store.root / renders[0].store_path.rsplit("/", 1)[0] / ".tmp-abc.png"
    temp.write_bytes(b"half")
    catalogue.store.path_of(renders[2].store_path).unlink()
    report = verify_action.scan_store(catalogue)
    expected_orphans = sorted([orphan, "ab/stray.txt", temp.relative_to(catalogue.store.root).as_posix()])
    assert sorted(report.orphans) == expected_orphans
    assert report.missing == [renders[2].id]
    assert report.files == 5 - 1 + 3 and report.rows == 5
    assert report.removed == [] and catalogue.store.path_of(orphan).exists()  # only reported


def test_repair_removes_old_orphans_keeps_young_ones_and_tags_missing_rows(catalogue, cli):
    renders = [record(catalogue, shade=i, size=(8 + i, 8)) for i in range(3)]
    _, old, _ = catalogue.store.put(b"old orphan", "png")
    _, young, _ = catalogue.store.put(b"young orphan", "png")
    an_hour_ago = time.time() - 3600
    os.utime(catalogue.store.path_of(old), (an_hour_ago, an_hour_ago))
    lost = catalogue.store.path_of(renders[1].store_path)
    lost_bytes = lost.read_bytes()
    lost.unlink()

    result = cli("verify", "--all", "--repair-orphans", "--json")
    assert result.code == 1  # the missing file is still a problem
    out = result.json()
    assert out["store"]["removed"] == [old] and sorted(out["store"]["orphans"]) == sorted([old, young])
    assert out["store"]["marked"] == [renders[1].id]
    assert not catalogue.store.path_of(old).exists() and catalogue.store.path_of(young).exists()
    with catalogue.session() as session:
        assert session.get(Render, renders[1].id) is not None  # marked, never dropped
        tags = session.exec(select(Tag.render_id).where(Tag.name == verify_action.MISSING_TAG)).all()
    assert tags == [renders[1].id]
    found = cli("search", "tag:file-missing", "--json")
    assert found.code == 0 and [json.loads(line)["id"] for line in found.out.splitlines()] == [renders[1].id]

    # the file comes back (from a backup): the mark goes, and the check is clean once the young orphan ages
    lost.write_bytes(lost_bytes)
    os.utime(catalogue.store.path_of(young), (an_hour_ago, an_hour_ago))
    result = cli("verify", "--all", "--repair-orphans", "--json")
    assert result.code == 0, result.out
    with catalogue.session() as session:
        assert session.exec(select(Tag).where(Tag.name == verify_action.MISSING_TAG)).all() == []
    assert walked(catalogue.store.root) == sorted(r.store_path for r in renders)


def test_verify_all_no_longer_calls_a_store_with_orphans_ok(catalogue, cli):
    record(catalogue)
    catalogue.store.put(b"orphan", "png")
    result = cli("verify", "--all")
    assert result.code == 1 and "orphan" in result.out


def test_repair_needs_all(catalogue, cli):
    result = cli("verify", "--repair-orphans")
    assert result.code == 2 and "--all" in result.err


def test_walk_order_is_string_order_with_tricky_names(tmp_path):
    store = Store(tmp_path / "s")
    for rel in ["ab/cd/x.png", "ab/cd.png", "ab/cd0/y", "ab-/z", "ab/c/d", ".tmp-1", "b"]:
        (store.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (store.root / rel).write_bytes(b"")
    names = [rel for rel, _ in store.walk()]
    assert names == sorted(names) and len(names) == 7


def test_scan_memory_stays_bounded_for_many_files(catalogue):
    """The scan's peak traced memory for 20,000 stored renders is about that for 2,000: it holds one
    folder's listing and one batch of rows at a time, never the whole store or table."""
    import tracemalloc

    from sqlalchemy import text

    def fill(start, count):
        rows = []
        for i in range(start, start + count):
            digest = hashlib.sha256(str(i).encode()).hexdigest()
            rel = relative_path(digest, "png")
            path = catalogue.store.path_of(rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
            rows.append({"sha": digest, "rel": rel})
        with catalogue.engine.begin() as conn:
            conn.execute(text("INSERT INTO render (sha256, format, width, height, size_bytes, created, tool, "
                              "store_path) VALUES (:sha, 'png', 1, 1, 0, '2026-01-01', 'atlas', :rel)"), rows)

    def peak():
        tracemalloc.start()
        report = verify_action.scan_store(catalogue)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return report, top

    fill(0, 2000)
    small_report, small = peak()
    fill(2000, 18000)
    big_report, big = peak()
    assert (small_report.files, small_report.rows, big_report.files, big_report.rows) == (2000, 2000, 20000, 20000)
    assert small_report.orphans == big_report.orphans == [] and big_report.missing == []
    assert big < 1.5 * small + 100_000, (small, big)


def test_scan_on_postgresql_sorts_paths_as_the_store_walk_does(pg_home, monkeypatch):
    """PostgreSQL's default collation would sort '.tmp-x' or upper case elsewhere than the walk:
    the scan orders by byte ("C") so the merge still pairs every row with its file."""
    monkeypatch.delenv("ATLAS_STORE", raising=False)
    catalogue = Catalogue.open(pg_home)
    try:
        renders = [record(catalogue, shade=i, size=(8 + i, 8)) for i in range(6)]
        _, orphan, _ = catalogue.store.put(b"no row", "png")
        catalogue.store.path_of(renders[4].store_path).unlink()
        report = verify_action.scan_store(catalogue, repair=True, grace_s=0)
        assert report.orphans == report.removed == [orphan]
        assert report.missing == report.marked == [renders[4].id]
        assert report.rows == 6 and report.files == 6
    finally:
        catalogue.close()


def test_a_store_that_cannot_be_made_names_the_path(cli, monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("ATLAS_STORE", str(blocker / "store"))
    result = cli("list")
    assert result.code == 1
    assert str(blocker / "store") in result.err and "Traceback" not in result.err
