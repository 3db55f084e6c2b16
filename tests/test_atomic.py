"""The one atomic write: a failed write leaves the old file (or none), a finished one the whole new file."""

import os
import stat

import pytest

from atlas.core.atomic import atomic_file, write_atomic


class Broke(Exception):
    pass


def test_write_replaces_the_whole_file(tmp_path):
    target = tmp_path / "deep" / "er" / "file.bin"
    write_atomic(target, b"old")
    write_atomic(target, b"new contents")
    assert target.read_bytes() == b"new contents"
    assert os.listdir(target.parent) == ["file.bin"]


@pytest.mark.parametrize("existed", [True, False])
def test_a_writer_that_fails_half_way_leaves_the_old_file_and_no_temporary(tmp_path, existed):
    target = tmp_path / "file.bin"
    if existed:
        target.write_bytes(b"old")
    with pytest.raises(Broke), atomic_file(target) as fh:
        fh.write(b"half of the new")
        fh.flush()
        raise Broke
    assert (target.read_bytes() if target.exists() else None) == (b"old" if existed else None)
    assert os.listdir(tmp_path) == (["file.bin"] if existed else [])


def test_the_file_appears_only_when_the_block_ends(tmp_path):
    target = tmp_path / "file.bin"
    target.write_bytes(b"old")
    with atomic_file(target) as fh:
        fh.write(b"new")
        fh.flush()
        assert target.read_bytes() == b"old"
    assert target.read_bytes() == b"new"


def test_mode_is_set_and_fsync_can_be_left_to_the_caller(tmp_path):
    write_atomic(tmp_path / "key", b"secret", mode=0o600)
    write_atomic(tmp_path / "cert", b"public", mode=0o644, fsync=False)
    assert stat.S_IMODE((tmp_path / "key").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "cert").stat().st_mode) == 0o644
    assert (tmp_path / "cert").read_bytes() == b"public"


def test_store_put_leaves_no_part_file_when_the_disk_fails(tmp_path, monkeypatch):
    from atlas.core.catalogue.store import Store

    store = Store(tmp_path / "store")

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        store.put(b"png bytes", "png")
    assert [p for p in (tmp_path / "store").rglob("*") if p.is_file()] == []
