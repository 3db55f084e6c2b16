"""C2PA Content Credentials: a local identity, signing in finish_pass, the lineage as manifest chain."""

import c2pa
import pytest

from atlas.core.errors import AtlasError, BadInput
from atlas.core.files import credentials, png
from atlas.core.files.embed import read_record
from atlas.core.trust import keys
from tests.support.pngs import idat_bytes
from tests.support.renders import derived, stored, txt2img

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def anchor(catalogue) -> bytes:
    return (catalogue.home.keys / keys.CA_CERT).read_bytes()


def test_keys_init_makes_a_ca_and_a_signer_it_issues(home, cli):
    from cryptography import x509

    assert cli("keys", "init").code == 0
    chain = x509.load_pem_x509_certificates((home.keys / keys.SIGNER_CHAIN).read_bytes())
    ca = x509.load_pem_x509_certificate((home.keys / keys.CA_CERT).read_bytes())
    signer = chain[0]
    assert signer.issuer == ca.subject != signer.subject  # not self-signed: c2pa refuses those
    assert signer.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    signer.verify_directly_issued_by(ca)
    assert (home.keys / keys.SIGNER_KEY).stat().st_mode & 0o077 == 0
    again = cli("keys", "init")
    assert again.code == 2 and "already holds a signing identity" in again.err
    shown = cli("keys", "show", "--json").json()
    assert shown["signing"] is True and "atlas local CA" in shown["trust_anchor"]


def test_txt2img_render_is_signed_created_and_trusted_with_the_atlas_ca(signed_catalogue):
    render = txt2img(signed_catalogue)
    data = stored(signed_catalogue, render).read_bytes()
    found = credentials.read(data, anchor(signed_catalogue))
    assert found["validation_state"] == "Trusted" and found["failures"] == []
    (manifest,) = found["manifests"]
    assert manifest["actions"][0]["action"] == "c2pa.created"
    assert manifest["actions"][0]["digitalSourceType"] == TRAINED
    assert manifest["signer"] == "atlas signer (Ann Example)"
    # Signed last: the record and the pixels are still there, and c2pa's own Reader agrees.
    assert read_record(data)["render"]["id"] == render.id
    with c2pa.Reader("image/png", __import__("io").BytesIO(data)) as reader:
        assert reader.get_validation_state() == "Valid"  # sound, but untrusted without the anchor


def test_a_render_made_from_another_is_an_edit_with_its_parent_as_ingredient(signed_catalogue):
    first = txt2img(signed_catalogue)
    second = derived(signed_catalogue, first)
    third = derived(signed_catalogue, second, kind="upscale")
    found = credentials.read(stored(signed_catalogue, third), anchor(signed_catalogue))
    assert found["validation_state"] == "Trusted", found["failures"]
    chain = found["manifests"]
    assert [m["actions"][-1]["action"] for m in chain] == ["c2pa.resized", "c2pa.edited", "c2pa.created"]
    assert chain[0]["actions"][0]["action"] == "c2pa.opened"
    assert chain[0]["parent"] == chain[1]["label"] and chain[1]["parent"] == chain[2]["label"]
    first_manifest = credentials.read(stored(signed_catalogue, first), anchor(signed_catalogue))
    assert chain[2]["label"] == first_manifest["active_manifest"]  # the very manifest of the input file


def test_another_ca_does_not_make_it_trusted(signed_catalogue, tmp_path):
    render = txt2img(signed_catalogue)
    keys.create_identity(tmp_path / "other")
    found = credentials.read(stored(signed_catalogue, render), (tmp_path / "other" / keys.CA_CERT).read_bytes())
    assert found["validation_state"] != "Trusted"


def test_signing_is_off_in_config_or_without_identity(demo_catalogue):
    plain = txt2img(demo_catalogue)
    assert credentials.read(stored(demo_catalogue, plain)) is None
    keys.create_identity(demo_catalogue.home.keys)
    demo_catalogue.home.config_path.write_text("[signing]\nenabled = false\n")
    assert credentials.read(stored(demo_catalogue, txt2img(demo_catalogue, seed=8))) is None


def test_signing_enabled_without_identity_fails_before_storing(demo_catalogue):
    from sqlmodel import select

    from atlas.core.catalogue.tables import Pass, Render

    demo_catalogue.home.config_path.write_text("[signing]\nenabled = true\n")
    with pytest.raises(AtlasError, match="atlas keys init"):
        txt2img(demo_catalogue)
    with demo_catalogue.session() as session:
        assert session.exec(select(Render)).all() == []
        assert [p.status for p in session.exec(select(Pass)).all()] == ["failed"]
    assert list(demo_catalogue.store.root.rglob("*.png")) == []


def test_user_configured_certificate_is_used(demo_catalogue, tmp_path):
    paths = keys.create_identity(tmp_path / "mine", owner="Own Cert")
    demo_catalogue.home.config_path.write_text(
        f'[signing]\ncertificate = "{paths[keys.SIGNER_CHAIN]}"\nkey = "{paths[keys.SIGNER_KEY]}"\n'
        f'trust_anchor = "{paths[keys.CA_CERT]}"\n')
    render = txt2img(demo_catalogue)
    found = credentials.read(stored(demo_catalogue, render), keys.trust_anchor(demo_catalogue.home))
    assert found["validation_state"] == "Trusted" and found["manifests"][0]["signer"] == "atlas signer (Own Cert)"
    demo_catalogue.home.config_path.write_text(f'[signing]\ncertificate = "{tmp_path}/missing.pem"\nkey = "x"\n')
    with pytest.raises(BadInput, match="missing.pem"):
        txt2img(demo_catalogue, seed=9)


def test_signing_keeps_idat_and_any_later_change_breaks_it(signed_catalogue):
    render = txt2img(signed_catalogue)
    data = stored(signed_catalogue, render).read_bytes()
    unsigned = png.with_text(data, [])  # the same chunks; c2pa added only its own caBX chunk
    assert idat_bytes(data) == idat_bytes(unsigned)
    assert b"caBX" in data
    edited = png.with_text(data, [png.text_chunk("parameters", "a different prompt\nSteps: 1, Seed: 1, CFG scale: 1")])
    found = credentials.read(edited, anchor(signed_catalogue))
    assert found["validation_state"] == "Invalid" and found["failures"]


def test_keys_are_private_whatever_the_umask(home, cli):
    import os

    old = os.umask(0)
    try:
        assert cli("keys", "init").code == 0
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in home.keys.iterdir()}
    assert home.keys.stat().st_mode & 0o777 == 0o700
    assert modes == {keys.CA_CERT: 0o644, keys.CA_KEY: 0o600, keys.SIGNER_CHAIN: 0o644, keys.SIGNER_KEY: 0o600}


@pytest.mark.parametrize("damage, says", [
    (lambda folder: (folder / keys.CA_CERT).write_bytes(b""), "atlas-ca.pem is empty"),  # init cut short
    (lambda folder: (folder / keys.SIGNER_KEY).unlink(), "signer.key is missing"),
    (lambda folder: (folder / keys.SIGNER_CHAIN).write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n"),
     "signer-chain.pem is not a PEM certificate"),
    (lambda folder: (folder / keys.SIGNER_KEY).chmod(0o644), "signer.key can be read by others"),
])
def test_a_damaged_identity_is_reported_with_the_fix(home, cli, damage, says):
    assert cli("keys", "init").code == 0
    damage(home.keys)
    shown = cli("keys", "show")
    assert shown.code == 1 and says in shown.out and "atlas keys init --force" in shown.out
    (reported,) = cli("keys", "show", "--json").json()["damaged"]
    assert reported.startswith(says)
    refused = cli("keys", "init")
    assert refused.code == 2 and "damaged" in refused.err and says in refused.err
    assert cli("keys", "init", "--force").code == 0
    assert cli("keys", "show").code == 0


def test_a_key_from_another_identity_is_caught(home, cli, tmp_path):
    assert cli("keys", "init").code == 0
    first_key = (home.keys / keys.SIGNER_KEY).read_bytes()
    first_ca = (home.keys / keys.CA_CERT).read_bytes()
    assert cli("keys", "init", "--force").code == 0
    (home.keys / keys.SIGNER_KEY).write_bytes(first_key)
    (home.keys / keys.SIGNER_KEY).chmod(0o600)
    (home.keys / keys.CA_CERT).write_bytes(first_ca)
    found = keys.problems(home.keys)
    assert "signer.key does not belong to the certificate in signer-chain.pem" in found
    assert any("was not issued by atlas-ca.pem" in p for p in found)
    assert "atlas-ca.key does not belong to atlas-ca.pem" in found


@pytest.mark.parametrize("owner", ["x" * 48, " "])
def test_an_owner_a_certificate_cannot_hold_is_refused(home, cli, owner):
    result = cli("keys", "init", "--owner", owner)
    assert result.code == 2 and "give a name of 1 to 47 characters" in result.err
    assert not (home.keys / keys.CA_CERT).exists()
    assert cli("keys", "init", "--owner", "x" * 47).code == 0


def foreign_signed(folder, fmt: str = "png") -> bytes:
    """A file another tool made and signed: its own throwaway CA and claim generator, written with
    c2pa directly (not atlas's credentials module)."""
    import io
    import json

    from PIL import Image

    paths = keys.create_identity(folder, owner="Foreign Camera")
    image = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 120, 40)).save(image, {"png": "PNG", "jpeg": "JPEG"}[fmt])
    mime = credentials.MIME[fmt]
    manifest = {"claim_generator_info": [{"name": "foreign-camera-tool", "version": "9.1"}],
                "title": f"foreign.{fmt}",
                "assertions": [{"label": "c2pa.actions", "data": {"actions": [
                    {"action": "c2pa.created",
                     "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}]}}]}
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, paths[keys.SIGNER_CHAIN].read_bytes(),
                               paths[keys.SIGNER_KEY].read_bytes(), None)
    with c2pa.Signer.from_info(info) as signer, c2pa.Builder(json.dumps(manifest)) as builder:
        out = io.BytesIO()
        builder.sign(signer, mime, io.BytesIO(image.getvalue()), out)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["png", "jpeg"])
def test_a_pass_from_an_imported_c2pa_file_chains_to_its_manifest(signed_catalogue, cli, tmp_path, fmt):
    import io
    import json

    foreign = foreign_signed(tmp_path / "foreign-keys", fmt)
    with c2pa.Reader(credentials.MIME[fmt], io.BytesIO(foreign)) as reader:
        foreign_label = json.loads(reader.json())["active_manifest"]
    path = tmp_path / f"photo.{fmt}"
    path.write_bytes(foreign)
    made = cli("img2img", path, "a lighthouse", "--steps", 2, "--denoise", 0.5, "--seed", 3, "--json")
    assert made.code == 0, made.err
    with signed_catalogue.session() as session:
        from sqlmodel import select

        from atlas.core.catalogue.tables import Pass, Render

        step = session.exec(select(Pass).where(Pass.kind == "img2img")).one()
        source, output = session.get(Render, step.input_render_id), session.get(Render, step.render_id)
        assert source.tool != "atlas" and source.format == fmt
        assert signed_catalogue.file_of(source).read_bytes() == foreign  # imported as it is
    data = signed_catalogue.file_of(output).read_bytes()
    # The foreign signer is not atlas's: trusted only when its CA is trusted too.
    found = credentials.read(data, anchor(signed_catalogue))
    assert found["failures"] == ["signingCredential.untrusted: signing certificate untrusted"]
    found = credentials.read(data, anchor(signed_catalogue) + (tmp_path / "foreign-keys" / keys.CA_CERT).read_bytes())
    assert found["validation_state"] == "Trusted", found["failures"]
    ours, theirs = found["manifests"]
    assert ours["parent"] == theirs["label"] == foreign_label
    assert theirs["claim_generator"] == ["foreign-camera-tool"] and theirs["signer"] == "atlas signer (Foreign Camera)"
    # Read with c2pa alone: the foreign manifest is the parentOf ingredient of the new one.
    with c2pa.Reader("image/png", io.BytesIO(data)) as reader:
        store = json.loads(reader.json())
    (parent,) = [i for i in store["manifests"][store["active_manifest"]]["ingredients"]
                 if i["relationship"] == "parentOf"]
    assert parent["active_manifest"] == foreign_label and parent["format"] == credentials.MIME[fmt]
