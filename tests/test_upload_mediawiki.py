"""upload.py against a real MediaWiki (tests/support/mediawiki.py): an exported batch of three renders
goes up through pywikibot; the wiki's own API (plain urllib) then gives back each file page's text
and each file's sha1. Re-running skips; a name collision and a refused file are reported per file."""

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from atlas.core.commons.export import export
from tests.support import REPO, mediawiki
from tests.support.renders import derived, txt2img

UPLOAD = REPO / "templates" / "export" / "upload.py"


@pytest.fixture(scope="session")
def wiki():
    """This worker's wiki; skipped, with the reason, only where the Debian packages are missing."""
    reason = mediawiki.missing()
    if reason is not None:
        # pytest's -ra (pyproject addopts) lists the reason in the summary: never a silent skip.
        pytest.skip(f"no MediaWiki to upload to: {reason}; .ci/run installs it when run as root")
    with mediawiki.wiki() as started:
        yield started


def run_upload(folder: Path, wiki, *args: str, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYWIKIBOT_DIR"}
    env.update(HOME=str(home), ATLAS_UPLOAD_PASSWORD=wiki.bot_password)
    return subprocess.run([sys.executable, str(folder / "upload.py"), "--site", wiki.api,
                           "--user", f"{wiki.user}@{wiki.app_id}", *args],
                          capture_output=True, text=True, cwd=folder, env=env, timeout=180)


def rows_of(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "batch.jsonl").read_text(encoding="utf-8").splitlines()]


def on_wiki(wiki, filename: str) -> tuple[str | None, str | None]:
    """(page text, file sha1) of File:`filename`, read through the API."""
    answer = wiki.query(action="query", titles=f"File:{filename}", prop="revisions|imageinfo",
                        rvprop="content", rvslots="main", iiprop="sha1")
    page = answer["query"]["pages"][0]
    if page.get("missing"):
        return None, None
    text = page["revisions"][0]["slots"]["main"]["content"]
    return text, page["imageinfo"][0]["sha1"]


def sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def png(colour) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_upload_a_batch_to_a_real_wiki(wiki, demo_catalogue, tmp_path):
    # One diffusion pass and two renders derived from it through the real write path: three
    # versions of one lineage, so the pages link each other (and only one pass runs the model).
    first_render = txt2img(demo_catalogue)
    second_render = derived(demo_catalogue, first_render)
    renders = [first_render, second_render, derived(demo_catalogue, second_render)]
    out = tmp_path / "out"
    export(demo_catalogue, [r.id for r in renders], out)
    home = tmp_path / "home-of-the-user"
    home.mkdir()
    rows = rows_of(out)
    assert len(rows) == 3
    exported = {p.name: p.read_bytes() for p in out.iterdir()}

    first = run_upload(out, wiki, home=home)
    assert first.returncode == 0, first.stdout + first.stderr
    assert [line.split()[0] for line in first.stdout.splitlines() if not line.startswith("note:")] == ["done"] * 3
    # The Debian wiki has no WikibaseMediaInfo: upload.py says the structured data was not applied.
    assert "has no structured data (WikibaseMediaInfo)" in first.stdout
    for row in rows:
        text, digest = on_wiki(wiki, row["filename"])
        # MediaWiki strips trailing whitespace from saved text (and changes nothing else here).
        assert text == (out / row["wikitext"]).read_text(encoding="utf-8").rstrip()
        assert digest == sha1(out / row["path"])
    # pywikibot's configuration, logs and caches lived in a temporary folder: not in the user's
    # home, not in the export.
    assert list(home.iterdir()) == []
    assert {p.name: p.read_bytes() for p in out.iterdir()} == exported

    again = run_upload(out, wiki, home=home)
    assert again.returncode == 0, again.stdout + again.stderr
    assert [line.split()[0] for line in again.stdout.splitlines() if not line.startswith("note:")] == ["skip"] * 3

    # A second batch: a different image under a name the wiki already has, a file the wiki refuses
    # (text named .png), and a new image.
    second = tmp_path / "second"
    second.mkdir()
    shutil.copyfile(out / "upload.py", second / "upload.py")
    files = {"decoy.png": png("red"), "broken.png": b"not an image at all\n", "fresh.png": png("blue")}
    names = {"decoy.png": rows[0]["filename"], "broken.png": "Broken upload.png", "fresh.png": "Fresh upload.png"}
    lines = []
    for path, data in files.items():
        (second / path).write_bytes(data)
        (second / f"{path}.wikitext").write_text(f"A test file: {path}\n", encoding="utf-8")
        lines.append(json.dumps({"path": path, "wikitext": f"{path}.wikitext", "filename": names[path],
                                 "summary": "test"}))
    (second / "batch.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    mixed = run_upload(second, wiki, home=home)
    assert mixed.returncode == 1, mixed.stdout + mixed.stderr
    report = [line for line in mixed.stdout.splitlines() if not line.startswith("note:")]
    assert report[0].startswith(f"COLLISION {rows[0]['filename']}:")
    assert report[1].startswith("FAILED Broken upload.png:")
    assert report[2] == "done   Fresh upload.png"
    assert report[3] == "2 of 3 files failed"
    assert on_wiki(wiki, rows[0]["filename"])[1] == sha1(out / rows[0]["path"])  # not overwritten
    assert on_wiki(wiki, "Broken upload.png") == (None, None)
    assert on_wiki(wiki, "Fresh upload.png")[1] == hashlib.sha1(files["fresh.png"]).hexdigest()


@pytest.mark.parametrize("args", [
    ["--site", "ftp://example.org/api.php", "--user", "A@b"],
    ["--site", "http://127.0.0.1:9/api.php"],  # a URL needs --user
    ["--site", "not a site"],
    ["--user", "no-app-id"],
    ["--depicts", "lighthouse"],
])
def test_bad_arguments_exit_2(args, tmp_path):
    shutil.copyfile(UPLOAD, tmp_path / "upload.py")
    (tmp_path / "batch.jsonl").write_text("", encoding="utf-8")
    env = {**os.environ, "ATLAS_UPLOAD_PASSWORD": "x"}
    done = subprocess.run([sys.executable, str(tmp_path / "upload.py"), *args], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "error:" in done.stderr


def test_a_bad_batch_exits_2(tmp_path):
    shutil.copyfile(UPLOAD, tmp_path / "upload.py")
    (tmp_path / "batch.jsonl").write_text('{"path": "../outside.png", "wikitext": "x", "filename": "x", '
                                          '"summary": "x"}\n', encoding="utf-8")
    done = subprocess.run([sys.executable, str(tmp_path / "upload.py"), "--dry-run"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "outside" in done.stderr
