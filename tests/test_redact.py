"""`atlas export --redact`: a redacted fact appears in no exported byte, while the catalogue keeps it."""

import base64
import copy
import io
import json
import shutil
import zlib

import pytest
from PIL import Image

from atlas.core.catalogue.tables import Render
from atlas.core.files import png
from atlas.core.record.build import build
from atlas.core.record.redact import FIELDS, UnknownField, parse_fields, redact
from atlas.core.schemas import problems as schema_problems
from tests.support.renders import txt2img

PROMPT = "a zqxpromptword lighthouse at dusk"
NEGATIVE = "zqxnegativeword, blurry"
SEED = 918273645
AUTHOR = "Zqxauthor Example"
PATH = "/home/zqxuser/zqxsecretdir/input.png"


def _variants(needle: str) -> list[bytes]:
    """`needle` as it may be written: UTF-8, UTF-16 (EXIF UserComment), and base64 at each of the
    three alignments (the edge characters, which depend on neighbours, left off)."""
    raw = needle.encode("utf-8")
    out = [raw, needle.encode("utf-16-le"), needle.encode("utf-16-be")]
    for pad, start in ((0, 0), (1, 2), (2, 3)):  # base64 characters before `start` mix in the padding
        out.append(base64.b64encode(b"\0" * pad + raw)[start:-4])  # the last group may mix in what follows
    return [v for v in out if len(v) >= 4]


def _layers(data: bytes) -> list[bytes]:
    """`data` and everything packed inside it: a PNG's compressed text chunks inflated."""
    layers = [data]
    if data.startswith(png.SIGNATURE):
        for chunk in png.read_chunks(data):
            if chunk.type in (b"zTXt", b"iTXt"):
                _key, _, body = chunk.data.partition(b"\0")
                payload = body[1:] if chunk.type == b"zTXt" else body
                if chunk.type == b"iTXt":
                    compressed, payload = payload[0], payload[2:]
                    payload = payload.split(b"\0", 2)[2]
                    if not compressed:
                        continue
                layers.append(zlib.decompress(payload))
    return layers


def occurrences(folder, needle: str) -> list[str]:
    """Every file under `folder` in which `needle` is found, in any of its spellings or layers."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        for layer in _layers(path.read_bytes()):
            if any(v in layer for v in _variants(needle)):
                found.append(path.name)
                break
    return found


@pytest.fixture
def secret_render(signed_catalogue):
    """A signed render made with distinctive values of every redactable fact, then an img2img pass
    on it whose settings name a local path and repeat the seed (as imported tools' settings do)."""
    from sqlmodel import select

    from atlas.core.catalogue.tables import Pass
    from atlas.core.record.write import RenderInfo, begin_pass, finish_pass

    first = txt2img(signed_catalogue, prompt=PROMPT, seed=SEED, author=AUTHOR)
    with signed_catalogue.session() as session:
        step = session.exec(select(Pass).where(Pass.render_id == first.id)).one()
        step.negative_prompt = NEGATIVE  # what the txt2img helper fixes, made distinctive
        session.commit()
    pixels = Image.open(signed_catalogue.store.path_of(first.store_path)).convert("RGB").rotate(90)
    buffer = io.BytesIO()
    pixels.save(buffer, "PNG")
    second = Pass(kind="img2img", input_render_id=first.id, prompt=PROMPT, negative_prompt=NEGATIVE, seed=SEED + 1,
                  sampler=step.sampler, steps=2, cfg=7.0, width=64, height=64, denoise=0.5, model_id=step.model_id,
                  software=step.software, device=step.device,
                  settings={"init_image_path": PATH, "note": f"from {PATH}", "tile_seeds": [SEED, SEED + 1],
                            "base_prompt": PROMPT, "mask_blur": 4})
    pass_id = begin_pass(signed_catalogue, second)
    render = finish_pass(signed_catalogue, pass_id, buffer.getvalue(), 64, 64,
                         RenderInfo(title="Rotated", author=AUTHOR, licence_id="CC-BY-SA-4.0"))
    with signed_catalogue.session() as session:
        record = build(session, session.get(Render, render.id))
    return render, record


def _needles(record: dict) -> dict[str, list[str]]:
    model = record["lineage"][0]["model"]
    return {"prompt": ["zqxpromptword"], "negative": ["zqxnegativeword"],
            "seed": [str(SEED), str(SEED + 1)], "author": ["Zqxauthor"], "paths": ["zqxsecretdir"],
            "models": [model["name"], model["sha256"], model["short_hash"]]}


@pytest.mark.parametrize("fmt", ["png", "jpg", "webp"])
def test_a_redacted_fact_is_in_no_exported_byte(secret_render, cli, tmp_path, fmt):
    render, record = secret_render
    needles = _needles(record)
    plain = tmp_path / "plain"
    assert cli("export", render.id, "--to", plain, "--format", fmt).code == 0
    for field in FIELDS:  # the search finds each fact where nothing is redacted: it can fail
        for needle in needles[field]:
            assert occurrences(plain, needle), (field, needle)
    for field in FIELDS:
        out = tmp_path / field
        result = cli("export", render.id, "--to", out, "--format", fmt, "--redact", field)
        assert result.code == 0, result.err
        assert {p.suffix for p in out.iterdir()} >= {f".{fmt}", ".wikitext", ".json", ".jsonl", ".py"}
        for needle in needles[field]:
            assert occurrences(out, needle) == [], (field, needle)
        row = json.loads((out / "batch.jsonl").read_text())
        assert row["redacted"] == [field]
        exported = json.loads(next(out.glob("*.provenance.json")).read_text())
        assert exported["redacted"] == [field]
        verified = cli("verify", next(out.glob(f"*.{fmt}")))
        assert verified.code == 0, verified.out
        assert f"exported with {field} redacted (left out on purpose, not tampered with)" in verified.out
    # The catalogue keeps everything.
    assert cli("show", render.id, "--json").json()["record"] == record


def test_redacting_everything_and_the_config_default(secret_render, cli, tmp_path):
    render, record = secret_render
    home = tmp_path / "home"
    (home / "config.toml").write_text('[export]\nredact = ["prompt", "seed"]\n')
    out = tmp_path / "default"
    assert cli("export", render.id, "--to", out, "--format", "jpg").code == 0
    assert json.loads((out / "batch.jsonl").read_text())["redacted"] == ["prompt", "seed"]
    assert occurrences(out, "zqxpromptword") == [] and occurrences(out, str(SEED)) == []
    assert occurrences(out, "zqxnegativeword")  # not in the default: still there
    everything = tmp_path / "all"
    assert cli("export", render.id, "--to", everything, "--redact", "all").code == 0
    for needles in _needles(record).values():
        for needle in needles:
            assert occurrences(everything, needle) == [], needle
    none = tmp_path / "none"
    assert cli("export", render.id, "--to", none, "--redact", "none").code == 0
    assert "redacted" not in json.loads((none / "batch.jsonl").read_text())
    bad = cli("export", render.id, "--to", tmp_path / "bad", "--redact", "prompt,colour")
    assert bad.code == 2 and "cannot redact 'colour'" in bad.err


@pytest.mark.parametrize("fmt", ["png", "jpg", "webp"])
def test_strip_writes_pixels_without_metadata(secret_render, cli, tmp_path, fmt):
    render, _record = secret_render
    out = tmp_path / "stripped"
    assert cli("export", render.id, "--to", out, "--format", fmt, "--strip").code == 0
    image = next(out.glob(f"*.{fmt}"))
    data = image.read_bytes()
    facts = cli("inspect", image, "--json").json()
    assert facts["record"] is None and facts["parameters"] is None and facts["xmp"] is None
    assert facts["c2pa"] is None and facts["exif_user_comment"] is None and facts["text"] == {}
    for needle in ("zqxpromptword", "atlas", "c2pa", "Exif", "xmpmeta"):
        assert needle.encode() not in data, needle
    if fmt == "png":
        assert {c.type for c in png.read_chunks(data)} <= {b"IHDR", b"IDAT", b"IEND", b"sRGB", b"gAMA", b"pHYs"}
    else:
        with Image.open(image) as opened:
            assert not {"exif", "xmp", "icc_profile", "comment"} & set(opened.info)
            assert opened.size == (64, 64)


def test_redact_is_pure_and_states_what_it_left_out(secret_render):
    _render, record = secret_render
    before = copy.deepcopy(record)
    out = redact(record, ["seed", "prompt"])
    assert record == before
    assert out["redacted"] == ["prompt", "seed"]  # in FIELDS order
    assert [s["prompt"] for s in out["lineage"]] == ["", ""] and [s["seed"] for s in out["lineage"]] == [None, None]
    assert "tile_seeds" not in out["lineage"][1]["settings"] and "base_prompt" not in out["lineage"][1]["settings"]
    assert out["lineage"][1]["settings"]["mask_blur"] == 4  # nothing else goes
    assert out["lineage"][0]["negative_prompt"] == NEGATIVE
    assert schema_problems("provenance", out) == []
    models = redact(record, ["models"])
    assert models["lineage"][0]["model"]["licence"] == record["lineage"][0]["model"]["licence"]
    assert schema_problems("provenance", models) == []
    paths = redact(record, ["paths"])
    assert "init_image_path" not in paths["lineage"][1]["settings"] and "note" not in paths["lineage"][1]["settings"]
    assert redact(record, []) == record


def test_parse_fields():
    assert parse_fields(" seed, prompt ,") == ["prompt", "seed"]
    assert parse_fields("all") == list(FIELDS)
    assert parse_fields(None) == []
    with pytest.raises(UnknownField, match="cannot redact 'colour'"):
        parse_fields("colour")


def test_an_imported_file_s_prompt_and_path_go_too(catalogue, cli, tmp_path):
    """An import keeps its maker's metadata verbatim and the path it came from: both go when redacted."""
    from tests.support import FIXTURES

    source = tmp_path / "zqximportdir" / "duck.jpg"
    source.parent.mkdir()
    shutil.copyfile(FIXTURES / "parsers" / "AUTOMATIC1111" / "automatic1111_cropped.jpg", source)
    imported = cli("import", source, "--json")
    assert imported.code == 0, imported.err
    render_id = cli("list", "--json").json()[0]["id"]
    plain = tmp_path / "plain"
    assert cli("export", render_id, "--to", plain).code == 0
    assert occurrences(plain, "photo of a duck") and occurrences(plain, "zqximportdir")
    out = tmp_path / "redacted"
    assert cli("export", render_id, "--to", out, "--redact", "prompt,paths").code == 0
    assert occurrences(out, "photo of a duck") == [] and occurrences(out, "zqximportdir") == []


def test_author_redaction_leaves_out_the_configured_author_too(demo_catalogue, cli, tmp_path):
    """A render with no author of its own is credited to the configured one: redacted, neither shows."""
    (tmp_path / "home" / "config.toml").write_text(
        '[author]\nname = "Zqxconfig Person"\ncommons_user = "Zqxcommonsuser"\n')
    render = txt2img(demo_catalogue, author=None)
    plain = tmp_path / "plain"
    assert cli("export", render.id, "--to", plain).code == 0
    assert occurrences(plain, "Zqxconfig") and occurrences(plain, "Zqxcommonsuser")
    out = tmp_path / "redacted"
    assert cli("export", render.id, "--to", out, "--redact", "author").code == 0
    assert occurrences(out, "Zqxconfig") == [] and occurrences(out, "Zqxcommonsuser") == []
