"""C2PA that carries the record: the provenance record and a training-and-mining assertion inside
the signed manifest, the time-stamp authority setting, and the catalogue's record of who signed."""

import hashlib
import http.server
import io
import json
import struct
import threading

import c2pa
import pytest
from PIL import Image
from sqlmodel import select

from atlas.core.catalogue.store import relative_path, sha256_bytes
from atlas.core.catalogue.tables import Model, Render
from atlas.core.errors import BadInput
from atlas.core.files import credentials
from atlas.core.files.embed import read_record
from atlas.core.record.build import build
from atlas.core.trust import keys
from tests.support.renders import stored, txt2img

RECORD_LABEL = "org.atlas.provenance"
TRAINING_LABEL = "cawg.training-mining"  # CAWG Training and Data Mining assertion 1.x
USES = {"cawg.data_mining", "cawg.ai_inference", "cawg.ai_generative_training", "cawg.ai_training"}


def active_manifest(data: bytes, mime: str = "image/png") -> dict:
    """The active manifest as c2pa's own Reader reports it (not through atlas's credentials.read)."""
    with c2pa.Reader(mime, io.BytesIO(data)) as reader:
        store = json.loads(reader.json())
    return store["manifests"][store["active_manifest"]]


def assertion(manifest: dict, label: str):
    found = [a["data"] for a in manifest["assertions"] if a["label"] == label]
    assert len(found) == 1, [a["label"] for a in manifest["assertions"]]
    return found[0]


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, body) of each chunk, parsed here from the PNG layout (length, type, body, CRC)."""
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        chunks.append((data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return chunks


def without_manifest(data: bytes) -> bytes:
    out = data[:8]
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        if data[pos + 4:pos + 8] != b"caBX":
            out += data[pos:pos + 12 + length]
        pos += 12 + length
    return out


def test_the_signed_manifest_carries_the_catalogue_record(signed_catalogue):
    render = txt2img(signed_catalogue)
    data = stored(signed_catalogue, render).read_bytes()
    with signed_catalogue.session() as session:
        record = build(session, session.get(Render, render.id))
    embedded = assertion(active_manifest(data), RECORD_LABEL)
    assert embedded == record == read_record(data)  # lineage, seeds, settings, model hashes, licences
    step = embedded["lineage"][0]
    assert step["seed"] == 7 and step["model"]["sha256"] and step["model"]["licence"]["id"]


def test_sign_embeds_exactly_the_record_it_is_given(rendered, tmp_path):
    """An export that redacts the record passes the redacted record: nothing else may leak in."""
    _png, record = rendered
    paths = keys.create_identity(tmp_path / "k")
    identity = keys.Identity(paths[keys.SIGNER_CHAIN].read_bytes(), paths[keys.SIGNER_KEY].read_bytes(), None, "t")
    prompt = record["lineage"][0]["prompt"]
    redacted = json.loads(json.dumps(record))
    for step in redacted["lineage"]:
        step.pop("prompt")
        step.pop("seed")
    plain = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(plain, "PNG")
    signed = credentials.sign(plain.getvalue(), redacted, identity)
    assert assertion(active_manifest(signed), RECORD_LABEL) == redacted
    assert prompt.encode() not in signed and prompt.encode("utf-16-be") not in signed
    # Models redacted too: the action's description names none, and a record without a lineage signs.
    model = record["lineage"][0]["model"]["name"]
    for step in redacted["lineage"]:
        step.pop("model")
    assert model.encode() not in credentials.sign(plain.getvalue(), redacted, identity)
    bare = credentials.sign(plain.getvalue(), {"atlas_record": 1}, identity)
    assert assertion(active_manifest(bare), RECORD_LABEL) == {"atlas_record": 1}


def set_model_licence(catalogue, licence_id: str) -> None:
    with catalogue.session() as session:
        for model in session.exec(select(Model)).all():
            model.licence_id = licence_id
        session.commit()


@pytest.mark.parametrize("config, licence, expected", [
    ("", None, dict.fromkeys(USES, "allowed")),
    ('[c2pa]\ntraining_mining = "notAllowed"\n', None, dict.fromkeys(USES, "notAllowed")),
    # The model's licence forbids training competing models on its outputs: model training is
    # constrained even when the user allows everything, and the restriction is named.
    ('[c2pa]\ntraining_mining = "allowed"\n', "stabilityai-ai-community",
     {"cawg.data_mining": "allowed", "cawg.ai_inference": "allowed",
      "cawg.ai_generative_training": "constrained", "cawg.ai_training": "constrained"}),
    ('[c2pa]\ntraining_mining = "notAllowed"\n', "stabilityai-ai-community", dict.fromkeys(USES, "notAllowed")),
])
def test_training_and_mining_follows_config_and_model_licence(signed_catalogue, config, licence, expected):
    signed_catalogue.home.config_path.write_text(config)
    if licence:
        set_model_licence(signed_catalogue, licence)
    render = txt2img(signed_catalogue)
    entries = assertion(active_manifest(stored(signed_catalogue, render).read_bytes()), TRAINING_LABEL)["entries"]
    assert {use: entry["use"] for use, entry in entries.items()} == expected
    for entry in entries.values():
        if entry["use"] == "constrained":
            assert "compete with Stability AI" in entry["constraint_info"]


@pytest.mark.parametrize("fmt, mime", [("jpg", "image/jpeg"), ("webp", "image/webp")])
def test_an_export_is_bound_by_the_model_licence_too(signed_catalogue, tmp_path, fmt, mime):
    # A JPEG/WebP export is signed afresh: its manifest must say what the render's says.
    from atlas.core.actions.exporting import export

    set_model_licence(signed_catalogue, "stabilityai-ai-community")
    render = txt2img(signed_catalogue)
    row = next(r for r in export(signed_catalogue, tmp_path / "out", [render.id], fmt=fmt) if r.get("path"))
    data = (tmp_path / "out" / row["path"]).read_bytes()
    entries = assertion(active_manifest(data, mime), TRAINING_LABEL)["entries"]
    assert entries["cawg.ai_training"]["use"] == "constrained"
    assert entries["cawg.data_mining"]["use"] == "allowed"


def test_a_constrained_choice_says_by_what(signed_catalogue):
    signed_catalogue.home.config_path.write_text(
        '[c2pa]\ntraining_mining = "constrained"\ntraining_mining_constraint = "https://example.org/terms"\n')
    entries = assertion(active_manifest(stored(signed_catalogue, txt2img(signed_catalogue)).read_bytes()),
                        TRAINING_LABEL)["entries"]
    assert set(entries) == USES
    assert all(e == {"use": "constrained", "constraint_info": "https://example.org/terms"} for e in entries.values())


@pytest.mark.parametrize("config, says", [
    ('[c2pa]\ntraining_mining = "maybe"\n', "training_mining"),
    ('[c2pa]\ntsa_url = "ftp://tsa.example"\n', "tsa_url"),
])
def test_bad_c2pa_config_is_refused(home, config, says):
    home.config_path.parent.mkdir(parents=True, exist_ok=True)
    home.config_path.write_text(config)
    with pytest.raises(BadInput, match=says):
        home.config()


def test_config_choices_are_the_settings_table_s():
    from atlas.core.resources import schema_path
    from atlas.core.settings import TRAINING_MINING_CHOICES

    schema = json.loads(schema_path("config").read_text(encoding="utf-8"))
    assert tuple(schema["properties"]["c2pa"]["properties"]["training_mining"]["enum"]) == TRAINING_MINING_CHOICES


class _TimeStampAuthority(http.server.BaseHTTPRequestHandler):
    """A loopback 'TSA' that keeps what it was asked and answers 500: no network is needed to see
    that the signer sends its RFC 3161 query where config says."""

    seen: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append((self.path, self.headers.get("Content-Type"), len(body)))
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_time_stamp_authority_is_none_by_default_and_used_when_configured(signed_catalogue):
    assert keys.identity(signed_catalogue.home).tsa_url is None
    data = stored(signed_catalogue, txt2img(signed_catalogue)).read_bytes()
    with c2pa.Reader("image/png", io.BytesIO(data)) as reader:
        store = json.loads(reader.json())
    assert "time" not in store["manifests"][store["active_manifest"]]["signature_info"]  # no time-stamp

    server = http.server.HTTPServer(("127.0.0.1", 0), _TimeStampAuthority)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/tsa"
    try:
        signed_catalogue.home.config_path.write_text(f'[c2pa]\ntsa_url = "{url}"\n')
        assert keys.identity(signed_catalogue.home).tsa_url == url
        with pytest.raises(BadInput, match=f"time-stamp authority {url}"):
            txt2img(signed_catalogue, seed=11)
    finally:
        server.shutdown()
    assert _TimeStampAuthority.seen and _TimeStampAuthority.seen[0][0] == "/tsa"
    assert _TimeStampAuthority.seen[0][1] == "application/timestamp-query"
    with signed_catalogue.session() as session:  # refused, not stored unsigned
        assert len(session.exec(select(Render)).all()) == 1


def test_the_catalogue_records_who_signed_and_the_manifest_store(signed_catalogue):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    render = txt2img(signed_catalogue)
    data = stored(signed_catalogue, render).read_bytes()
    signer = x509.load_pem_x509_certificates((signed_catalogue.home.keys / keys.SIGNER_CHAIN).read_bytes())[0]
    (store,) = [body for ctype, body in png_chunks(data) if ctype == b"caBX"]
    with signed_catalogue.session() as session:
        row = session.get(Render, render.id)
        assert row.signed_by == "atlas signer (Ann Example)"
        assert row.signer_sha256 == hashlib.sha256(signer.public_bytes(serialization.Encoding.DER)).hexdigest()
        assert row.manifest_hash == hashlib.sha256(store).hexdigest()


def test_an_unsigned_render_records_no_signer(demo_catalogue):
    render = txt2img(demo_catalogue)
    with demo_catalogue.session() as session:
        row = session.get(Render, render.id)
        assert (row.signed_by, row.signer_sha256, row.manifest_hash) == (None, None, None)


def replace_file(catalogue, render_id: int, data: bytes) -> None:
    """What someone covering their tracks does: store the new bytes and point the row at them."""
    catalogue.store.put(data, "png")
    with catalogue.session() as session:
        row = session.get(Render, render_id)
        old = row.store_path
        digest = sha256_bytes(data)
        row.sha256, row.store_path, row.size_bytes = digest, relative_path(digest, "png"), len(data)
        session.commit()
    catalogue.store.remove(old)


def other_identity(tmp_path, owner: str) -> keys.Identity:
    paths = keys.create_identity(tmp_path / owner, owner=owner)
    return keys.Identity(paths[keys.SIGNER_CHAIN].read_bytes(), paths[keys.SIGNER_KEY].read_bytes(), None, owner)


def test_verify_catches_a_stripped_manifest_even_after_the_row_was_updated(signed_catalogue, cli):
    from atlas.core.actions.verify import verify_render

    render = txt2img(signed_catalogue)
    assert verify_render(signed_catalogue, render.id) == []
    stripped = without_manifest(stored(signed_catalogue, render).read_bytes())
    assert credentials.read(stripped) is None
    replace_file(signed_catalogue, render.id, stripped)
    problems = verify_render(signed_catalogue, render.id)
    assert problems and all("sha256" not in p for p in problems)  # the row matches the file now
    assert any("signed by 'atlas signer (Ann Example)'" in p and "no C2PA manifest" in p for p in problems)
    result = cli("verify", render.id)
    assert result.code == 1 and "no C2PA manifest" in result.out + result.err


def test_verify_catches_a_file_signed_again(signed_catalogue, tmp_path):
    from atlas.core.actions.verify import verify_render

    render = txt2img(signed_catalogue)
    original = stored(signed_catalogue, render).read_bytes()
    record = read_record(original)
    stripped = without_manifest(original)
    # Another signer.
    replace_file(signed_catalogue, render.id, credentials.sign(stripped, record, other_identity(tmp_path, "Mallory")))
    assert any("signed by 'atlas signer (Mallory)'" in p for p in verify_render(signed_catalogue, render.id))
    # The same signer's name on another certificate: the manifest store is not the one recorded.
    replace_file(signed_catalogue, render.id,
                 credentials.sign(stripped, record, other_identity(tmp_path, "Ann Example")))
    assert any("not the one atlas signed" in p for p in verify_render(signed_catalogue, render.id))


def test_the_c2pa_description_names_the_record_and_the_training_choice(signed_catalogue):
    from atlas.core.actions.c2pa import c2pa_description

    signed_catalogue.home.config_path.write_text('[c2pa]\ntraining_mining = "notAllowed"\n')
    render = txt2img(signed_catalogue)
    said = c2pa_description(signed_catalogue, render.id)
    assert said == ("Trusted, signed by atlas signer (Ann Example) (issuer atlas), carries the atlas record, "
                    "AI training and mining notAllowed")


def test_migration_0005_adds_the_signature_columns_in_place_and_takes_them_back(home):
    from alembic import command
    from sqlalchemy import inspect, text

    from atlas.core.catalogue import Catalogue
    from atlas.core.catalogue.database import alembic_config, make_engine

    home.create()
    engine = make_engine(f"sqlite:///{home.database_path}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0004_run_claims")
        connection.execute(text("INSERT INTO render (sha256, format, width, height, size_bytes, created, tool) "
                                "VALUES ('ab', 'png', 8, 8, 10, '2026-01-01 00:00:00', 'atlas')"))
    engine.dispose()
    Catalogue.open(home).close()
    assert list(home.root.glob("atlas.db.before-*")) == []  # nullable columns only: no copy needed
    engine = make_engine(f"sqlite:///{home.database_path}")
    signing = {"signed_by", "signer_sha256", "manifest_hash"}
    try:
        with engine.begin() as connection:
            assert signing <= {c["name"] for c in inspect(connection).get_columns("render")}
            assert connection.execute(text("SELECT sha256, signed_by, manifest_hash FROM render")).all() == [
                ("ab", None, None)]  # a render signed before 0005 stays unrecorded
            command.downgrade(alembic_config(connection), "0004_run_claims")
            assert not signing & {c["name"] for c in inspect(connection).get_columns("render")}
            assert connection.execute(text("SELECT sha256 FROM render")).all() == [("ab",)]
    finally:
        engine.dispose()
