"""Regular files only: FIFOs and devices are refused by type before they are opened (they would
block or never end), and odd entries inside imported folders are reported, never skipped."""

import os
import socket

import pytest

from tests.support.hostile import run_capped
from tests.support.pngs import text_png


@pytest.fixture
def odd(tmp_path):
    """A folder holding a good PNG, a FIFO, a device link, a dangling link and a symlink loop."""
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "good.png").write_bytes(text_png())
    os.mkfifo(folder / "fifo.png")
    (folder / "z.png").symlink_to("/dev/zero")
    (folder / "dangling.png").symlink_to(folder / "gone.png")
    (folder / "loop1.png").symlink_to(folder / "loop2.png")
    (folder / "loop2.png").symlink_to(folder / "loop1.png")
    return folder


@pytest.mark.parametrize("command", ["import", "inspect", "verify"])
@pytest.mark.parametrize(("name", "kind"), [("fifo.png", "FIFO"), ("z.png", "character device")])
def test_fifo_and_device_refused_by_type(odd, tmp_path, command, name, kind):
    done, _ = run_capped(command, odd / name, home=tmp_path / "home", timeout=60)
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert f"{odd / name}: is a {kind}" in err and "Traceback" not in err


def test_dev_zero_refused(tmp_path):
    done, _ = run_capped("import", "/dev/zero", home=tmp_path / "home", timeout=60)
    assert done.returncode == 2 and "/dev/zero: is a character device" in done.stderr.decode()


def test_socket_refused(tmp_path):
    path = tmp_path / "s.png"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        done, _ = run_capped("inspect", path, home=tmp_path / "home", timeout=60)
    finally:
        server.close()
    assert done.returncode == 2 and f"{path}: is a socket" in done.stderr.decode()


def test_symlink_loop_named_as_such(odd, tmp_path):
    done, _ = run_capped("inspect", odd / "loop1.png", home=tmp_path / "home", timeout=60)
    err = done.stderr.decode()
    assert done.returncode == 2 and "symlink loop" in err and "no such file" not in err


@pytest.mark.parametrize("recursive", [[], ["-r"]])
def test_folder_import_reports_every_odd_entry(odd, tmp_path, recursive):
    done, _ = run_capped("import", *recursive, odd, home=tmp_path / "home", timeout=120)
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert f"unreadable: {odd / 'fifo.png'}: is a FIFO" in err
    assert f"unreadable: {odd / 'z.png'}: is a character device" in err
    assert f"unreadable: {odd / 'dangling.png'}: a dangling symlink" in err
    assert f"unreadable: {odd / 'loop1.png'}: a symlink loop" in err
    assert "unreadable 5" in done.stdout.decode()
    assert "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_unreadable_sub_folder_reported(tmp_path):
    top = tmp_path / "top"
    locked = top / "locked"
    locked.mkdir(parents=True)
    (top / "good.png").write_bytes(text_png())
    locked.chmod(0)
    try:
        done, _ = run_capped("import", "-r", top, home=tmp_path / "home", timeout=120)
    finally:
        locked.chmod(0o755)
    assert done.returncode == 1 and f"unreadable: {locked}: a folder that cannot be read" in done.stderr.decode()


def test_library_warnings_are_one_atlas_line(tmp_path):
    from PIL import Image

    # A JPEG whose EXIF IFD claims an entry it does not hold: Pillow warns "Corrupt EXIF data".
    path = tmp_path / "bad-exif.jpg"
    Image.new("RGB", (16, 16)).save(path, exif=b"Exif\0\0II*\0\x08\0\0\0\xff\xff" + b"\0" * 10)
    for command in ("inspect", "import"):
        done, _ = run_capped(command, path, home=tmp_path / "home", timeout=60)
        err = done.stderr.decode()
        assert done.returncode == 0, err
        assert "atlas: warning: Corrupt EXIF data." in err
        assert ".py:" not in err and "warnings.warn" not in err
