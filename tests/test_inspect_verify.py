"""`atlas inspect` and `atlas verify`: round trips, files from other tools, bad input, tampering."""


import pytest
from sqlmodel import select

from atlas.core.catalogue.tables import Pass
from atlas.core.files import png
from tests.support import FIXTURES
from tests.support.pngs import flip_idat, set_length, small_png, text_png, with_bomb
from tests.support.renders import derived, stored, txt2img


def test_inspect_gives_back_what_atlas_wrote_field_for_field(signed_catalogue, cli):
    first = txt2img(signed_catalogue)
    second = derived(signed_catalogue, first)
    for render in (first, second):
        shown = cli("show", render.id, "--json").json()
        result = cli("inspect", shown["path"], "--json")
        assert result.code == 0, result.err
        facts = result.json()
        assert facts["record"] == shown["record"]
        assert facts["sha256"] == shown["sha256"]
        last = shown["record"]["lineage"][-1]
        assert facts["parameters"]["prompt"] == last["prompt"]
        assert facts["parameters"]["negative_prompt"] == last["negative_prompt"]
        assert facts["parameters"]["size"] == [64, 64]
        assert facts["xmp"]["dc:title"] == shown["record"]["render"]["title"]
        assert facts["c2pa"]["validation_state"] == "Trusted"
        assert len(facts["c2pa"]["manifests"]) == len(shown["record"]["lineage"])
        assert facts["problems"] == []
    text = cli("inspect", stored(signed_catalogue, second))
    assert "c2pa      Trusted, 2 manifests" in text.out and "c2pa.opened" in text.out


def test_inspect_reads_files_atlas_never_made(cli):
    a1111 = cli("inspect", FIXTURES / "parsers" / "AUTOMATIC1111" / "automatic1111_cropped.png", "--json").json()
    assert a1111["parameters"]["prompt"] == "photo of a duck"
    assert a1111["parameters"]["params"]["Sampler"] == "UniPC" and a1111["record"] is None
    jpeg = cli("inspect", FIXTURES / "parsers" / "AUTOMATIC1111" / "automatic1111_cropped.jpg", "--json").json()
    assert jpeg["exif_user_comment"].startswith("photo of a duck") and jpeg["parameters"]["negative_prompt"]
    comfy = cli("inspect", FIXTURES / "parsers" / "ComfyUI" / "img2img_cropped.png", "--json").json()
    assert {"prompt", "workflow"} <= set(comfy["text"]) and comfy["parameters"] is None
    late = cli("inspect", FIXTURES / "bad_images" / "text_after_idat.png", "--json").json()
    assert late["parameters"]["params"]["Seed"] == "235284042"
    plain = cli("inspect", FIXTURES / "bad_images" / "empty_image.jpg")
    assert plain.code == 0 and "no embedded metadata found" in plain.out


BAD = {
    "empty.png": (lambda d: b"", "empty file"),
    "notes.png": (lambda d: b"just some text\n", "not a PNG, JPEG or WebP"),
    "truncated.png": (lambda d: d[: len(d) // 2], "truncated"),
    "badcrc.png": (flip_idat, "bad CRC in chunk IDAT"),
    "huge.png": (lambda d: set_length(d, 0x7FFFFFF0), "past the end of the file"),
    # reported as a problem with that chunk, the rest still shown
    "bomb.png": (lambda d: with_bomb(d, b"iTXt", b"parameters"), None),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_files_exit_2_with_a_clear_error_and_stay_untouched(name, tmp_path, cli):
    make, message = BAD[name]
    path = tmp_path / name
    data = make(text_png())
    path.write_bytes(data)
    result = cli("inspect", path, "--json")
    assert path.read_bytes() == data
    if message is None:
        assert result.code == 0
        problems = result.json()["problems"]
        assert len(problems) == 1 and "inflates past the limit" in problems[0]
        return
    assert result.code == 2, result.out
    assert message in result.err and str(path) in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("name", ["empty_file.png", "missing.png", "."])
def test_missing_empty_and_directory_exit_2(name, cli):
    result = cli("inspect", FIXTURES / "bad_images" / name)
    assert result.code == 2 and "atlas: error:" in result.err


def test_verify_passes_on_sound_renders(signed_catalogue, cli):
    first = txt2img(signed_catalogue)
    derived(signed_catalogue, first)
    result = cli("verify", "--all")
    assert result.code == 0 and "ok: 2 checked, no problems" in result.out
    assert cli("verify", stored(signed_catalogue, first)).code == 0
    assert cli("verify", first.id, "--json").json() == {"ok": True, "checked": [str(first.id)], "problems": []}


def test_verify_names_a_flipped_idat_byte(signed_catalogue, cli):
    render = txt2img(signed_catalogue)
    path = stored(signed_catalogue, render)
    chunks = png.read_chunks(path.read_bytes())
    # A careful forger fixes the CRC, so the PNG stays well-formed: sha256 and C2PA still catch it.
    tampered = [png.Chunk(c.type, bytes([c.data[0] ^ 1]) + c.data[1:]) if c.type == b"IDAT" else c for c in chunks]
    path.chmod(0o644)
    path.write_bytes(png.SIGNATURE + b"".join(c.encode() for c in tampered))
    result = cli("verify", render.id)
    assert result.code == 1
    assert f"render {render.id}:" in result.out and "sha256" in result.out
    assert "C2PA: assertion.dataHash.mismatch" in result.out
    path.write_bytes(flip_idat(path.read_bytes()))  # a clumsy one leaves a bad CRC, named as such
    assert "bad CRC in chunk IDAT" in cli("verify", render.id).out


def test_verify_names_an_edited_parameters_chunk(signed_catalogue, cli):
    render = txt2img(signed_catalogue)
    path = stored(signed_catalogue, render)
    data = path.read_bytes()
    text = png.texts(png.read_chunks(data))["parameters"].replace("Seed: 7", "Seed: 8")
    path.chmod(0o644)
    path.write_bytes(png.with_text(data, [png.text_chunk("parameters", text)]))
    result = cli("verify", render.id)
    assert result.code == 1
    assert "the A1111 parameters text differs" in result.out
    assert "C2PA: assertion.dataHash.mismatch" in result.out and "sha256" in result.out


def test_verify_names_an_edited_catalogue_row(demo_catalogue, cli):
    render = txt2img(demo_catalogue)  # unsigned: the record comparison alone must catch it
    with demo_catalogue.session() as session:
        step = session.exec(select(Pass).where(Pass.render_id == render.id)).one()
        step.seed, step.prompt = 99, "a forged prompt"
        session.commit()
    result = cli("verify", render.id)
    assert result.code == 1
    assert "embedded record differs from the catalogue at $.lineage[0].seed: file has 7, catalogue has 99" in result.out
    assert "$.lineage[0].prompt" in result.out
    assert "sha256" not in result.out  # the file itself is untouched


def test_verify_usage_errors_and_unknown_files(demo_catalogue, cli, tmp_path):
    assert cli("verify").code == 2
    missing = cli("verify", "999")
    assert missing.code == 2 and "no render with id 999" in missing.err
    stranger = tmp_path / "stranger.png"
    stranger.write_bytes(small_png())
    result = cli("verify", stranger)
    assert result.code == 1 and "not in the catalogue" in result.out
    render = txt2img(demo_catalogue)
    stored(demo_catalogue, render).unlink()
    gone = cli("verify", "--all")
    assert gone.code == 1 and "is missing" in gone.out
