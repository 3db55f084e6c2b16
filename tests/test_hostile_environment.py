"""A broken environment (a bad database URL, a home that cannot be made) is a clear error, never a traceback."""

import os

import pytest

from tests.support.pngs import small_png


@pytest.mark.parametrize("url, code, says", [
    ("garbage", 2, "is not a database URL"),
    ("postgresql://[::1/x", 2, "is not a database URL"),  # a malformed IPv6 host
    ("sqlite:////nonexistent-atlas-dir/x.db", 2, "the folder /nonexistent-atlas-dir does not exist"),
    ("sqlite:////dev/null", 2, "is not a regular file"),
    ("sqlite:////tmp", 2, "names a folder"),
    ("mysql://user@host/db", 2, "not mysql"),
    ("http://example.org/db", 2, "not http"),
    ("postgresql+pg8000://user@host/db", 2, "'pg8000' is not installed"),
    ("sqlite://", 2, "in-memory"),
    ("sqlite:///:memory:", 2, "in-memory"),
    ("sqlite:///file:x?mode=memory&uri=true", 2, "in-memory"),
    ("postgresql+psycopg://user:hunter2@127.0.0.1:1/db", 1, "cannot open the catalogue database"),
])
def test_bad_database_urls_are_named_errors(cli, monkeypatch, url, code, says):
    monkeypatch.setenv("ATLAS_DATABASE_URL", url)
    for command in (("list",), ("search", "fox")):
        result = cli(*command)
        assert result.code == code, result.err
        assert says in result.err
        assert "Traceback" not in result.err and "hunter2" not in result.err


def test_a_file_that_is_not_a_database(cli, monkeypatch, tmp_path):
    fake = tmp_path / "notes.db"
    fake.write_text("not a database at all\n" * 100)
    monkeypatch.setenv("ATLAS_DATABASE_URL", f"sqlite:///{fake}")
    result = cli("list")
    assert result.code == 1
    assert "cannot open the catalogue database" in result.err and "not a database" in result.err
    assert fake.read_text().startswith("not a database at all")  # untouched


def test_in_memory_import_is_refused_before_anything_is_stored(cli, monkeypatch, home, tmp_path):
    # An in-memory catalogue would forget the record when the process ends, leaving the copy orphaned.
    source = tmp_path / "a.png"
    source.write_bytes(small_png())
    monkeypatch.setenv("ATLAS_DATABASE_URL", "sqlite://")
    result = cli("import", source)
    assert result.code == 2 and "in-memory" in result.err
    store = home.store
    assert not store.exists() or not any(p.is_file() for p in store.rglob("*"))


def test_a_home_that_cannot_be_made_names_the_path(cli, monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("ATLAS_HOME", str(blocker / "home"))
    result = cli("list")
    assert result.code == 1
    assert str(blocker / "home") in result.err and "Traceback" not in result.err


@pytest.fixture
def read_only_home(tmp_path, monkeypatch, cli):
    """A home with one imported render, then mounted read-only (a bind mount: needs root's mount rights)."""
    import subprocess

    source, mounted = tmp_path / "src", tmp_path / "ro"
    mounted.mkdir()
    monkeypatch.setenv("ATLAS_HOME", str(source / "home"))
    picture = tmp_path / "a.png"
    picture.write_bytes(small_png())
    assert cli("import", picture).code == 0
    steps = (["mount", "--bind", str(source), str(mounted)], ["mount", "-o", "remount,ro,bind", str(mounted)])
    for step in steps:
        if subprocess.run(step, capture_output=True).returncode != 0:
            subprocess.run(["umount", str(mounted)], capture_output=True)
            pytest.skip("cannot make a read-only bind mount here (needs root with mount rights)")
    monkeypatch.setenv("ATLAS_HOME", str(mounted / "home"))
    yield mounted / "home", picture
    subprocess.run(["umount", "--lazy", str(mounted)], check=True)  # the in-process CLI may still hold the file


@pytest.mark.usefixtures("read_only_home")
def test_a_read_only_home_still_reads(cli):
    for command in (("list",), ("search", "seed:>=0"), ("show", "1"), ("verify", "1"), ("model", "list")):
        result = cli(*command)
        assert result.code == 0, (command, result.err)
    assert "a.png" in cli("show", "--json", "1").out


def test_a_read_only_home_refuses_writes_by_name(read_only_home, cli, tmp_path):
    home, _picture = read_only_home
    tagged = cli("tag", "1", "+x")
    assert tagged.code == 1 and f"the atlas home {home} is read-only" in tagged.err
    other = tmp_path / "b.png"
    other.write_bytes(small_png(16, 16))
    imported = cli("import", other)
    assert imported.code == 1 and "cannot copy it into the store" in imported.err
    assert "cannot read the file" not in imported.err and "Traceback" not in imported.err + tagged.err


@pytest.fixture
def full_store(tmp_path, monkeypatch):
    """ATLAS_STORE on a 64 KiB tmpfs: the next large write runs out of space (needs mount rights)."""
    import subprocess

    store = tmp_path / "store"
    store.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(store)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root with mount rights)")
    monkeypatch.setenv("ATLAS_STORE", str(store))
    yield store
    subprocess.run(["umount", "--lazy", str(store)], check=True)


def test_a_full_disk_loses_nothing_and_says_which_write_failed(full_store, cli, tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(_incompressible_png(256, 256))  # ~200 KB of noise: more than the store holds
    result = cli("import", big)
    assert result.code == 1
    assert "cannot copy it into the store" in result.err and "No space left on device" in result.err
    assert "Traceback" not in result.err
    assert [p for p in full_store.rglob("*") if p.is_file()] == []  # no half-written file, no temp file
    assert cli("list", "--json").json() == []  # no row for a file that was never stored
    assert os.path.getsize(big) > 64 << 10  # the source is untouched and bigger than the store


def _incompressible_png(width: int, height: int) -> bytes:
    import io

    from PIL import Image

    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_generate_on_a_full_disk_records_the_failure_and_keeps_no_render(demo_catalogue, full_store, cli):
    (full_store / "filler").write_bytes(b"\0" * (60 << 10))  # leave ~4 KiB: less than a 64x64 render
    result = cli("generate", "a lighthouse", "--size", "64x64", "--steps", "2", "--seed", "1")
    assert result.code == 1 and "no space left on device" in result.err.lower(), result.err
    assert "Traceback" not in result.err
    assert [p.name for p in full_store.rglob("*") if p.is_file()] == ["filler"]
    assert cli("list", "--json").json() == []
    with demo_catalogue.session() as session:
        from sqlmodel import select

        from atlas.core.catalogue.tables import Pass

        (step,) = session.exec(select(Pass)).all()
        assert step.status == "failed" and "No space left on device" in (step.error or "")


def test_a_size_this_machine_cannot_decode_is_refused_before_sampling(demo_catalogue, cli):
    # The demo VAE's full-resolution block has 16 channels: 16384 x 16384 x 16 channels x 4 tensors
    # x 4 bytes = 64 GiB, worked out by hand from the decoder's shape (engine/device.check_memory).
    need = 16384 * 16384 * 16 * 4 * 4
    with open("/proc/meminfo") as meminfo:
        available = next(int(line.split()[1]) * 1024 for line in meminfo if line.startswith("MemAvailable"))
    if available >= need:
        pytest.skip("this machine has the memory for it")
    result = cli("generate", "x", "--size", "16384x16384", "--steps", "1", "--seed", "1")
    assert result.code == 1, result.err
    assert "a 16384x16384 image needs about 64.0 GiB to decode" in result.err and "GiB is free" in result.err
    assert "Traceback" not in result.err
    with demo_catalogue.session() as session:
        from sqlmodel import select

        from atlas.core.catalogue.tables import Pass

        assert session.exec(select(Pass)).all() == []  # refused before the pass was recorded
