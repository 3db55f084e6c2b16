"""`atlas verify FILE` on exports, on files of another catalogue, on damaged files; exports that add up."""

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys

import pytest
from PIL import Image, ImageOps

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.home import Home
from atlas.core.commons.export import STAGING_PREFIX, remove_stale_staging
from atlas.core.files import png
from tests.support.pngs import flip_idat
from tests.support.renders import stored, txt2img


def _export(cli, render_id, folder, *args) -> dict:
    result = cli("export", render_id, "--to", folder, "--json", *args)
    assert result.code == 0, result.err
    return result.json()[0]


@pytest.mark.parametrize("fmt", ["jpg", "webp", "png"])
def test_an_unmodified_export_verifies(signed_catalogue, cli, tmp_path, fmt):
    render = txt2img(signed_catalogue)
    row = _export(cli, render.id, tmp_path / "out", "--format", fmt)
    result = cli("verify", row["path"])
    assert result.code == 0, result.out
    assert "sha256" not in result.out and "no problems" in result.out
    if fmt != "png":  # a PNG export of a current render is the render's file itself
        assert f"export of render {render.id}" in result.out
        facts = cli("inspect", row["path"], "--json").json()
        assert facts["c2pa"]["manifests"][0]["parent"] is not None  # the render's manifest as ingredient


@pytest.mark.parametrize("fmt", ["jpg", "webp"])
def test_an_export_with_other_pixels_is_caught(signed_catalogue, cli, tmp_path, fmt):
    render = txt2img(signed_catalogue)
    row = _export(cli, render.id, tmp_path / "out", "--format", fmt)
    path = tmp_path / "out" / row["filename"]
    with Image.open(path) as image:  # the same metadata on mirrored pixels: a forged export
        exif, xmp = image.info.get("exif"), image.info.get("xmp")
        forged = ImageOps.mirror(image.convert("RGB"))
    buffer = io.BytesIO()
    forged.save(buffer, format="JPEG" if fmt == "jpg" else "WEBP", exif=exif, xmp=xmp, quality=95)
    path.write_bytes(buffer.getvalue())
    result = cli("verify", path)
    assert result.code == 1
    assert f"its pixels are not render {render.id}'s" in result.out


def test_an_edited_record_in_a_redacted_export_is_tampering(signed_catalogue, cli, tmp_path):
    render = txt2img(signed_catalogue)
    row = _export(cli, render.id, tmp_path / "out", "--redact", "prompt")
    path = tmp_path / "out" / row["filename"]
    data = path.read_bytes()
    record = json.loads(png.texts(png.read_chunks(data))["atlas:provenance"])
    record["lineage"][0]["seed"] = 8  # not redacted: changed
    path.write_bytes(png.with_text(data, [png.text_chunk("atlas:provenance", json.dumps(record), compress=True)]))
    result = cli("verify", path)
    assert result.code == 1
    assert "embedded record differs from the catalogue at $.lineage[0].seed: file has 8, catalogue has 7" in result.out
    assert "C2PA: assertion.dataHash.mismatch" in result.out


@pytest.fixture
def other_home_png(tmp_path, demo_model_dir):
    """A pristine render of another atlas home: its render id (1) names another image here."""
    from atlas.core.record.models import DEMO_MODEL_NAME
    from atlas.engine.demo_model import ensure

    other = Catalogue.open(Home.resolve(tmp_path / "other-home"))
    try:
        shutil.copytree(demo_model_dir, other.home.models / DEMO_MODEL_NAME)
        ensure(other)
        render = txt2img(other, prompt="another home's harbour", seed=11, title="Harbour")
        copy = tmp_path / "harbour.png"
        shutil.copyfile(stored(other, render), copy)
    finally:
        other.close()
    return render, copy


def test_a_file_of_another_catalogue_is_checked_on_its_own(demo_catalogue, other_home_png, cli):
    local = txt2img(demo_catalogue)
    foreign, path = other_home_png
    assert foreign.id == local.id  # the same id, another image
    result = cli("verify", path)
    assert result.code == 0, result.out
    assert "from another catalogue" in result.out and "differs" not in result.out
    data = path.read_bytes()  # its own record against its own A1111 text
    text = png.texts(png.read_chunks(data))["parameters"].replace("Seed: 11", "Seed: 12")
    path.write_bytes(png.with_text(data, [png.text_chunk("parameters", text)]))
    tampered = cli("verify", path)
    assert tampered.code == 1 and "the A1111 parameters text differs" in tampered.out
    assert f"render {local.id}" not in tampered.out  # never compared with the local render


def test_records_name_their_catalogue(demo_catalogue, other_home_png, cli):
    local = txt2img(demo_catalogue)
    _foreign, path = other_home_png
    mine = cli("show", local.id, "--json").json()["record"]["catalogue"]
    theirs = cli("inspect", path, "--json").json()["record"]["catalogue"]
    assert len(mine) == 36 and len(theirs) == 36 and mine != theirs
    assert cli("show", local.id, "--json").json()["record"]["catalogue"] == mine  # made once, kept


def test_damage_is_a_problem_and_bad_arguments_are_bad_input(demo_catalogue, cli, tmp_path):
    render = txt2img(demo_catalogue)
    damaged = tmp_path / "damaged.png"
    damaged.write_bytes(flip_idat(stored(demo_catalogue, render).read_bytes()))  # CRC left wrong
    result = cli("verify", damaged)
    assert result.code == 1, result.err
    assert "damaged" in result.out and "bad CRC in chunk IDAT" in result.out
    notes = tmp_path / "notes.png"
    notes.write_text("not an image\n")
    for target in (tmp_path / "missing.png", notes, tmp_path):
        bad = cli("verify", target)
        assert bad.code == 2, (target, bad.out)
        assert "atlas: error:" in bad.err


def test_a_second_export_adds_rows_and_numbers_taken_names(demo_catalogue, cli, tmp_path):
    first, second = txt2img(demo_catalogue), txt2img(demo_catalogue, seed=8)
    out = tmp_path / "out"
    row1 = _export(cli, first.id, out, "--name", "shot")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    row2 = _export(cli, second.id, out, "--name", "shot")
    assert (row1["filename"], row2["filename"]) == ("Shot.png", "Shot (2).png")
    for name, data in before.items():
        if name not in ("batch.jsonl", "upload.py"):
            assert (out / name).read_bytes() == data, name  # nothing of the first export overwritten
    rows = [json.loads(line) for line in (out / "batch.jsonl").read_text().splitlines()]
    assert [(r["render_id"], r["filename"]) for r in rows] == [(first.id, "Shot.png"), (second.id, "Shot (2).png")]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["batch.jsonl", "upload.py", "Shot.png", "Shot.wikitext", "Shot.provenance.json",
         "Shot (2).png", "Shot (2).wikitext", "Shot (2).provenance.json"])
    (out / "Shot (3).wikitext").write_text("someone's page\n")  # a sidecar alone takes its name too
    third = _export(cli, first.id, out, "--name", "shot", "--format", "jpg")
    assert third["filename"] == "Shot (4).jpg"
    assert (out / "Shot (3).wikitext").read_text() == "someone's page\n"
    assert len((out / "batch.jsonl").read_text().splitlines()) == 3


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_stale_staging_folder_is_removed_and_a_live_one_kept(demo_catalogue, cli, tmp_path):
    render = txt2img(demo_catalogue)
    out = tmp_path / "out"
    out.mkdir()
    host = socket.gethostname()
    dead = out / f"{STAGING_PREFIX}{_dead_pid()}@{host}.k1ll3d"
    live = out / f"{STAGING_PREFIX}{os.getppid()}@{host}.al1ve"
    elsewhere = out / f"{STAGING_PREFIX}{_dead_pid()}@another-host.r3m0t"
    for folder in (dead, live, elsewhere):
        folder.mkdir()
        (folder / "half.png").write_bytes(b"partial")
    _export(cli, render.id, out)
    assert not dead.exists() and live.exists() and elsewhere.exists()
    old = os.stat(elsewhere).st_mtime - 2 * 24 * 3600  # another host's, two days old: abandoned
    os.utime(elsewhere, (old, old))
    assert remove_stale_staging(out) == [elsewhere.name]


def test_a_killed_export_leaves_staging_that_the_next_export_removes(demo_catalogue, tmp_path, cli):
    """A real SIGKILL of an `atlas export` in another process, stopped while it writes its staging folder."""
    render = txt2img(demo_catalogue)
    out = tmp_path / "out"
    script = (
        "import os, signal, sys\n"
        "import atlas.core.commons.export as ex\n"
        "real = ex._write\n"
        "def write(path, data):\n"
        "    real(path, data)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "ex._write = write\n"
        "from atlas.cli.main import main\n"
        f"sys.exit(main(['export', '{render.id}', '--to', {str(out)!r}]))\n")
    env = {**os.environ, "ATLAS_HOME": str(demo_catalogue.home.root)}
    killed = subprocess.run([sys.executable, "-c", script], env=env, cwd=os.getcwd(), capture_output=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    left = [p.name for p in out.iterdir()]
    assert len(left) == 1 and left[0].startswith(STAGING_PREFIX)
    _export(cli, render.id, out)
    assert not (out / left[0]).exists()
    assert not any(p.name.startswith(STAGING_PREFIX) for p in out.iterdir())


def test_a_render_stored_before_catalogue_uuids_still_verifies_and_exports_as_is(demo_catalogue, cli, tmp_path):
    """Its embedded record has no `catalogue`: verify does not count that, and a PNG export copies it."""
    from atlas.core.catalogue.store import relative_path
    from atlas.core.catalogue.tables import Render
    from atlas.core.files.embed import embed_png
    from atlas.core.record.build import build

    render = txt2img(demo_catalogue)
    with demo_catalogue.session() as session:
        row = session.get(Render, render.id)
        record = build(session, row)
        assert "catalogue" in record
        legacy = {k: v for k, v in record.items() if k != "catalogue"}
        data = embed_png(stored(demo_catalogue, row).read_bytes(), legacy)
        digest, rel, _created = demo_catalogue.store.put(data, "png")
        assert rel == relative_path(digest, "png")
        row.sha256, row.store_path, row.size_bytes = digest, rel, len(data)
        session.commit()
    assert cli("verify", render.id).code == 0
    exported = _export(cli, render.id, tmp_path / "out")
    assert (tmp_path / "out" / exported["filename"]).read_bytes() == data  # copied as is
    jpeg = _export(cli, render.id, tmp_path / "jpeg", "--format", "jpg")
    result = cli("verify", jpeg["path"])
    assert result.code == 0, result.out
