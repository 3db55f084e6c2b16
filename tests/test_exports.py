"""Exports in PNG, JPEG and WebP carry all metadata, and the real tools read it back."""


import pytest

from atlas.core.catalogue.tables import Render
from atlas.core.errors import BadInput
from atlas.core.files import embed, png, xmp
from atlas.core.files.encode import encode_export
from atlas.core.files.inspect import inspect_file
from atlas.core.record.build import build
from tests.support.exiftool import exiftool
from tests.support.pngs import idat_bytes
from tests.support.renders import stored, txt2img


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_exiftool_reads_source_type_title_and_licence(rendered, fmt, tmp_path):
    data, record = rendered
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(encode_export(data, record, fmt))
    found = exiftool(path)
    assert found["XMP-iptcExt:DigitalSourceType"] == xmp.TRAINED_ALGORITHMIC_MEDIA
    assert found["XMP-dc:Title"] == "Lighthouse"
    assert found["XMP-xmpRights:WebStatement"] == "https://creativecommons.org/licenses/by-sa/4.0/"
    assert "Attribution-ShareAlike 4.0" in found["XMP-xmpRights:UsageTerms"]
    assert found["XMP-dc:Creator"] == ["Ann Example"]
    assert found["XMP-atlas:ModelLicenseSPDX"] == record["lineage"][0]["model"]["licence"]["spdx"]
    parameters = embed.parameters_text(record)
    if fmt == "png":
        assert found["PNG:Parameters"] == parameters
    else:  # A1111's place for it in JPEG and WebP, as UNICODE: the CJK and emoji survive
        assert found["ExifIFD:UserComment"] == parameters
        assert "灯台 🌊" in found["ExifIFD:UserComment"]


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_inspect_gives_back_the_record_from_every_format(rendered, fmt, tmp_path):
    data, record = rendered
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(encode_export(data, record, fmt))
    facts = inspect_file(path)
    assert facts["format"] == fmt and (facts["width"], facts["height"]) == (64, 64)
    assert facts["record"] == record
    assert facts["parameters"]["prompt"] == record["lineage"][0]["prompt"]
    assert facts["parameters"]["params"]["Seed"] == str(record["lineage"][0]["seed"])
    assert facts["problems"] == []


def test_png_export_keeps_pixels_and_an_already_embedded_file_as_is(rendered):
    data, record = rendered
    assert encode_export(data, record, "png") == data  # nothing to add: a signature would survive
    bare = png.with_text(data, [])
    stripped = png.SIGNATURE + b"".join(c.encode() for c in png.read_chunks(bare) if c.keyword is None)
    again = encode_export(stripped, record, "png")
    assert idat_bytes(again) == idat_bytes(data)
    assert embed.read_record(again) == record


def test_jpeg_export_of_an_image_with_alpha_and_an_unknown_format(rendered):
    import io

    from PIL import Image

    data, record = rendered
    buffer = io.BytesIO()
    Image.new("RGBA", (16, 16), (1, 2, 3, 4)).save(buffer, "PNG")
    out = encode_export(buffer.getvalue(), record, "jpg")
    assert Image.open(io.BytesIO(out)).format == "JPEG"
    with pytest.raises(BadInput, match="unknown export format 'gif'"):
        encode_export(data, record, "gif")


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_signed_exports_carry_the_render_as_parent(demo_catalogue, fmt, tmp_path):
    from atlas.core.files import credentials
    from atlas.core.trust import keys

    keys.create_identity(demo_catalogue.home.keys)
    render = txt2img(demo_catalogue)
    data = stored(demo_catalogue, render).read_bytes()
    with demo_catalogue.session() as session:
        record = build(session, session.get(Render, render.id))
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(encode_export(data, record, fmt, sign_with=keys.signing_identity(demo_catalogue.home)))
    facts = inspect_file(path, keys.trust_anchor(demo_catalogue.home))
    assert facts["c2pa"]["validation_state"] == "Trusted", facts["c2pa"]["failures"]
    chain = facts["c2pa"]["manifests"]
    assert [m["actions"][-1]["action"] for m in chain] == ["c2pa.transcoded", "c2pa.created"]
    assert chain[1]["label"] == credentials.read(data)["active_manifest"]
    assert facts["record"] == record  # signing came last and kept the XMP and EXIF
    assert exiftool(path)["XMP-dc:Title"] == "Lighthouse"
