"""Foreign C2PA Content Credentials on import: claim generator, digital source type, actions,
ingredients and validation state are kept in the imported record (the pass's settings["c2pa"]).

The files are signed here with c2pa-python and a throwaway certificate (trust/keys.py makes it),
with a claim generator that is not atlas; the expected values are those this test signed in.
"""

import io
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin
from sqlmodel import select

from atlas.core.catalogue.tables import Pass, Render
from atlas.core.importers import content_credentials
from atlas.core.importers.batch import import_paths
from atlas.core.record.build import build, validate

COMPOSITE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


@pytest.fixture(scope="module")
def identity(tmp_path_factory):
    from atlas.core.trust.keys import SIGNER_CHAIN, SIGNER_KEY, create_identity

    folder = tmp_path_factory.mktemp("foreign-keys")
    create_identity(folder, "Foreign Studio")
    return (folder / SIGNER_CHAIN).read_bytes(), (folder / SIGNER_KEY).read_bytes()


def image_bytes(fmt: str, parameters: str | None = None) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (40, 24), (90, 40, 10))
    if fmt == "png" and parameters:
        info = PngImagePlugin.PngInfo()
        info.add_text("parameters", parameters)
        image.save(out, "PNG", pnginfo=info)
    else:
        image.save(out, {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt])
    return out.getvalue()


def sign_foreign(identity, data: bytes, fmt: str) -> bytes:
    """`data` signed by "Foreign Generator 3.1": opened a sketch (parentOf), then edited it with AI."""
    import c2pa

    chain, key = identity
    definition = {"claim_generator_info": [{"name": "Foreign Generator", "version": "3.1"}], "title": f"dream.{fmt}",
                  "assertions": [{"label": "c2pa.actions", "data": {"actions": [
                      {"action": "c2pa.opened", "parameters": {"ingredientIds": ["sketch"]}},
                      {"action": "c2pa.edited", "digitalSourceType": COMPOSITE,
                       "softwareAgent": {"name": "Foreign Generator"}, "description": "inpainted the sky"}]}}]}
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, key, None)
    with c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}}) as context, \
            c2pa.Signer.from_info(info) as signer, c2pa.Builder.from_json(definition, context) as builder:
        builder.add_ingredient({"title": "sketch.png", "relationship": "parentOf", "label": "sketch"},
                               "image/png", io.BytesIO(image_bytes("png")))
        out = io.BytesIO()
        builder.sign(signer, MIME[fmt], io.BytesIO(data), out)
    return out.getvalue()


def imported_pass(catalogue, path) -> tuple[Pass, dict]:
    report = import_paths(catalogue, [path], workers=1)
    (entry,) = report.imported or report.no_metadata
    with catalogue.session() as session:
        step = session.exec(select(Pass).where(Pass.render_id == entry["id"])).one()
        record = build(session, session.get(Render, entry["id"]))
    validate(record)  # the kept credentials fit schemas/provenance.schema.json
    return step, record


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_foreign_credentials_are_kept_in_the_record(catalogue, tmp_path, identity, fmt):
    path = tmp_path / f"dream.{fmt}"
    path.write_bytes(sign_foreign(identity, image_bytes(fmt), fmt))
    source = path.read_bytes()
    step, record = imported_pass(catalogue, path)
    found = step.settings["c2pa"]
    assert found["claim_generator"] == "Foreign Generator 3.1" and found["title"] == f"dream.{fmt}"
    assert found["digital_source_type"] == COMPOSITE
    assert [a["action"] for a in found["actions"]] == ["c2pa.opened", "c2pa.edited"]
    assert found["actions"][1] == {"action": "c2pa.edited", "digital_source_type": COMPOSITE,
                                   "software_agent": "Foreign Generator", "description": "inpainted the sky"}
    assert found["ingredients"] == [{"title": "sketch.png", "relationship": "parentOf"}]
    assert found["validation_state"] == "Valid" and found["failures"] == []  # sound, signer not trusted
    assert found["signer"] == "atlas signer (Foreign Studio)"
    assert record["lineage"][-1]["settings"]["c2pa"] == found
    assert path.read_bytes() == source  # the source is never modified


def test_a_tampered_file_keeps_its_credentials_marked_invalid(catalogue, tmp_path, identity):
    signed = sign_foreign(identity, image_bytes("png"), "png")
    body = b"Comment\0added after signing"  # a chunk the manifest's hash does not know about
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    end = signed.rindex(b"IEND") - 4
    path = tmp_path / "tampered.png"
    path.write_bytes(signed[:end] + chunk + signed[end:])
    step, _ = imported_pass(catalogue, path)
    found = step.settings["c2pa"]
    assert found["validation_state"] == "Invalid" and "assertion.dataHash.mismatch" in found["failures"]
    assert found["claim_generator"] == "Foreign Generator 3.1"


def test_credentials_sit_beside_the_generation_values(catalogue, tmp_path, identity):
    text = "a fox in snow\nNegative prompt: blurry\nSteps: 12, Sampler: Euler a, CFG scale: 5, Seed: 99, Size: 40x24"
    path = tmp_path / "fox.png"
    path.write_bytes(sign_foreign(identity, image_bytes("png", text), "png"))
    step, _ = imported_pass(catalogue, path)
    assert (step.prompt, step.seed, step.steps) == ("a fox in snow", 99, 12)
    assert step.settings["c2pa"]["claim_generator"] == "Foreign Generator 3.1"


def test_files_without_credentials_have_none(catalogue, tmp_path):
    path = tmp_path / "plain.png"
    path.write_bytes(image_bytes("png"))
    step, _ = imported_pass(catalogue, path)
    assert "c2pa" not in step.settings
    # The bytes "c2pa" alone (here in a text chunk) are not a manifest store.
    assert content_credentials.read(image_bytes("png", "c2pa jumbf"), "png") is None


def test_an_unreadable_store_is_kept_as_invalid_never_raised():
    data = image_bytes("png")
    # A caBX chunk whose JUMBF box is cut short: c2pa cannot parse it.
    body = b"\x00\x00\x00\x40jumb\x00\x00\x00\x1ejumdc2pa"
    chunk = struct.pack(">I", len(body)) + b"caBX" + body + struct.pack(">I", zlib.crc32(b"caBX" + body))
    broken = data[:33] + chunk + data[33:]
    found = content_credentials.read(broken, "png")
    assert found is not None and found["validation_state"] == "Invalid" and found["claim_generator"] is None
    assert found["failures"][0].startswith("unreadable manifest: ")
