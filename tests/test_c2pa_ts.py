"""atlas's Content Credentials checked by an independent implementation: @trustnxt/c2pa-ts (npm,
run with node by tests/support/c2pa_ts/validate.mjs), besides c2pa-python.

c2pa-ts reads PNG and JPEG (not WebP) and leaves the chain of trust to its caller: validate.mjs
checks the signer's chain against the CA it is given."""

import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from atlas.core.catalogue.tables import Render
from atlas.core.files import credentials
from atlas.core.files.encode import encode_export
from atlas.core.record.build import build
from atlas.core.trust import keys
from tests.support.renders import stored, txt2img

HERE = Path(__file__).parent / "support" / "c2pa_ts"
RECORD_LABEL = "org.atlas.provenance"
pytestmark = pytest.mark.xdist_group("c2pa_ts")  # one worker installs and runs the validator


@pytest.fixture(scope="session")
def c2pa_ts():
    """validate(path, ca=None) -> the JSON validate.mjs prints. Skipped, saying why, only where
    node or npm is missing; `npm ci` runs here when .ci/run has not installed the package yet."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        reason = (f"c2pa-ts validator skipped: {'node' if node is None else 'npm'} is not installed "
                  "(.ci/run installs nodejs and npm when run as root)")
        print(reason)
        pytest.skip(reason)
    if not (HERE / "node_modules" / "@trustnxt" / "c2pa-ts").is_dir():
        subprocess.run([npm, "ci", "--prefix", str(HERE), "--no-audit", "--no-fund"], check=True, timeout=600)

    def validate(path: Path, ca: Path | None = None) -> dict:
        args = [node, str(HERE / "validate.mjs"), str(path)] + ([str(ca)] if ca else [])
        done = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    return validate


def ca_of(catalogue) -> Path:
    return catalogue.home.keys / keys.CA_CERT


def test_an_atlas_png_is_valid_and_trusted_under_atlas_s_ca(signed_catalogue, c2pa_ts, tmp_path):
    path = stored(signed_catalogue, txt2img(signed_catalogue))
    found = c2pa_ts(path, ca_of(signed_catalogue))
    assert found["valid"] and found["errors"] == [] and found["trusted"], found
    assert found["signer"] == "O=atlas, CN=atlas signer (Ann Example)"
    assert {RECORD_LABEL, "cawg.training-mining", "c2pa.hash.data"} <= set(found["assertions"])
    assert any(label.startswith("c2pa.actions") for label in found["assertions"])
    both = credentials.read(path, ca_of(signed_catalogue).read_bytes())
    assert both["validation_state"] == "Trusted" and both["active_manifest"] == found["active_manifest"]
    other = keys.create_identity(tmp_path / "other")[keys.CA_CERT]
    untrusted = c2pa_ts(path, other)
    assert untrusted["valid"] and not untrusted["trusted"]


def test_jpeg_and_webp_exports(signed_catalogue, c2pa_ts, tmp_path):
    render = txt2img(signed_catalogue)
    png_data = stored(signed_catalogue, render).read_bytes()
    with signed_catalogue.session() as session:
        record = build(session, session.get(Render, render.id))
    identity = keys.signing_identity(signed_catalogue.home)
    for fmt in ("jpeg", "webp"):
        path = tmp_path / f"export.{fmt}"
        path.write_bytes(encode_export(png_data, record, fmt, sign_with=identity))
        assert credentials.read(path, ca_of(signed_catalogue).read_bytes())["validation_state"] == "Trusted"
        found = c2pa_ts(path, ca_of(signed_catalogue))
        if fmt == "webp":  # c2pa-ts has no WebP reader: c2pa-python is the only check there
            assert found == {"supported": False, "manifest": False}
            continue
        assert found["valid"] and found["trusted"], found
        assert RECORD_LABEL in found["assertions"] and len(found["manifests"]) == 2
        (parent,) = [i for i in found["ingredients"] if i["relationship"] == "parentOf"]
        assert parent["manifest"].endswith(credentials.read(png_data)["active_manifest"])


def manifest_regions(data: bytes) -> list[tuple[int, int, int | None]]:
    """(start, end, PNG chunk offset) of the bytes holding the C2PA manifest store: the caBX chunk
    of a PNG, the APP11 segments of a JPEG, found by walking the file's own layout."""
    regions = []
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        pos = 8
        while pos < len(data):
            (length,) = struct.unpack(">I", data[pos:pos + 4])
            if data[pos + 4:pos + 8] == b"caBX":
                regions.append((pos + 8, pos + 8 + length, pos))
            pos += 12 + length
    else:
        pos = 2
        while data[pos] == 0xFF and data[pos + 1] != 0xDA:  # segments up to the image data
            (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
            if data[pos + 1] == 0xEB:
                regions.append((pos + 4, pos + 2 + length, None))
            pos += 2 + length
    return regions


def flip_in_record(data: bytes, word: bytes) -> bytes:
    """`data` with one byte of `word` changed in the active manifest's record assertion: the last
    place the word appears in the manifest store (ingredients' manifests come first, and the claim
    and signature after the assertions hold no prompt). A PNG chunk's CRC is fixed, so only the
    manifest is damaged, not the PNG."""
    data = bytearray(data)
    start, end, chunk = max((r for r in manifest_regions(bytes(data)) if data.find(word, r[0], r[1]) >= 0),
                            key=lambda r: data.rfind(word, r[0], r[1]))
    at = data.rfind(word, start, end)
    assert data.rfind(RECORD_LABEL.encode(), 0, at) > 0  # after the record assertion's label
    data[at] ^= 0x20
    if chunk is not None:
        data[end:end + 4] = struct.pack(">I", zlib.crc32(data[chunk + 4:end]))
    return bytes(data)


def test_editing_one_byte_of_the_record_assertion_invalidates_it_for_both(signed_catalogue, c2pa_ts, tmp_path):
    render = txt2img(signed_catalogue, prompt="a lighthouse at dusk")
    png_data = stored(signed_catalogue, render).read_bytes()
    with signed_catalogue.session() as session:
        record = build(session, session.get(Render, render.id))
    jpeg = encode_export(png_data, record, "jpeg", sign_with=keys.signing_identity(signed_catalogue.home))
    for name, data in (("render.png", png_data), ("export.jpg", jpeg)):
        path = tmp_path / name
        path.write_bytes(flip_in_record(data, b"lighthouse"))
        python = credentials.read(path, ca_of(signed_catalogue).read_bytes())
        assert python["validation_state"] == "Invalid"
        assert any("assertion.hashedURI.mismatch" in f and RECORD_LABEL in f for f in python["failures"])
        found = c2pa_ts(path, ca_of(signed_catalogue))
        assert not found["valid"] and not found["trusted"], name
        assert any(e.startswith("assertion.hashedURI.mismatch") for e in found["errors"]), found["errors"]


def test_a_derived_render_chains_to_an_imported_foreign_manifest(signed_catalogue, cli, c2pa_ts, tmp_path):
    from tests.test_credentials import foreign_signed

    photo = tmp_path / "photo.png"
    photo.write_bytes(foreign_signed(tmp_path / "foreign-keys"))
    foreign = c2pa_ts(photo)
    assert foreign["valid"] and foreign["signer"] == "O=atlas, CN=atlas signer (Foreign Camera)"
    assert cli("img2img", photo, "a lighthouse", "--steps", 2, "--denoise", 0.5, "--seed", 3).code == 0
    with signed_catalogue.session() as session:
        from sqlmodel import col, select

        newest = session.exec(select(Render).order_by(col(Render.id).desc())).first()
    found = c2pa_ts(signed_catalogue.file_of(newest), ca_of(signed_catalogue))
    assert found["valid"] and found["trusted"], found
    assert foreign["active_manifest"] in found["manifests"]
    (parent,) = [i for i in found["ingredients"] if i["relationship"] == "parentOf"]
    assert parent["manifest"].endswith(foreign["active_manifest"])
