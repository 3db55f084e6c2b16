"""txt2img end to end on the demo model: determinism, the record, interop, failures."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlmodel import select

from atlas.core.catalogue.tables import Pass, Render
from atlas.core.errors import BadInput
from atlas.core.files import png
from atlas.core.files.embed import PARAMETERS_KEY, read_record
from atlas.core.record.write import RenderInfo
from atlas.engine.generate import Txt2ImgRequest, generate


def request(**overrides) -> Txt2ImgRequest:
    values = dict(prompt="a lighthouse at dusk, oil painting", negative_prompt="blurry", steps=3,
                  sampler="Euler a", cfg=7.0, width=96, height=64, seed=1234)
    return Txt2ImgRequest(**{**values, **overrides})


def stored_bytes(catalogue, render) -> bytes:
    return catalogue.store.path_of(render.store_path).read_bytes()


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def without_ids_and_times(record: dict) -> dict:
    volatile = {"id", "created", "started", "ended", "duration_s"}

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in volatile}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(record)


def test_same_settings_give_pixel_identical_images(demo_catalogue):
    first = generate(demo_catalogue, request(), RenderInfo(licence_id="CC0-1.0"))
    second = generate(demo_catalogue, request(), RenderInfo(licence_id="CC0-1.0"))
    a, b = stored_bytes(demo_catalogue, first), stored_bytes(demo_catalogue, second)
    assert first.sha256 != second.sha256  # the records differ (ids, times) ...
    np.testing.assert_array_equal(pixels(a), pixels(b))  # ... the pixels do not
    assert without_ids_and_times(read_record(a)) == without_ids_and_times(read_record(b))
    other = generate(demo_catalogue, request(seed=1235), RenderInfo())
    assert not np.array_equal(pixels(a), pixels(stored_bytes(demo_catalogue, other)))


def test_show_json_holds_the_whole_record(demo_catalogue, cli):
    render = generate(demo_catalogue, request(), RenderInfo(licence_id="CC-BY-SA-4.0", author="Ann"))
    result = cli("show", render.id, "--json")
    assert result.code == 0, result.err
    shown = result.json()
    step = shown["record"]["lineage"][0]
    assert (step["prompt"], step["negative_prompt"]) == ("a lighthouse at dusk, oil painting", "blurry")
    facts = (step["seed"], step["steps"], step["steps_run"], step["sampler"], step["cfg"])
    assert facts == (1234, 3, 3, "Euler a", 7.0)
    assert (step["width"], step["height"]) == (96, 64)
    model = step["model"]
    assert model["name"] == "atlas-demo-tiny-sd" and model["demo"] is True
    assert len(model["sha256"]) == 64 and model["short_hash"] == model["sha256"][:10]
    assert model["licence"]["id"] == "CC0-1.0"
    assert shown["record"]["render"]["licence"]["id"] == "CC-BY-SA-4.0"
    assert shown["record"]["render"]["author"] == "Ann"
    assert {"atlas", "torch", "diffusers"} <= set(step["software"])
    assert step["device"].startswith("cpu")
    assert step["started"] <= step["ended"]
    # The file on disk carries the same record the catalogue gives.
    assert read_record(Path(shown["path"]).read_bytes()) == shown["record"]


def test_random_seed_is_resolved_and_recorded(demo_catalogue):
    render = generate(demo_catalogue, request(seed=-1), RenderInfo())
    with demo_catalogue.session() as session:
        step = session.exec(select(Pass).where(Pass.render_id == render.id)).one()
    assert 0 <= step.seed < 2**32


def test_parameters_chunk_reads_back_in_sd_parsers(demo_catalogue):
    from sd_parsers import ParserManager

    render = generate(demo_catalogue, request(prompt="castle, at night: \"moody\""), RenderInfo())
    path = demo_catalogue.store.path_of(render.store_path)
    info = ParserManager().parse(str(path))
    assert info is not None and info.generator.name == "AUTOMATIC1111"
    sampler = info.samplers[0]
    assert sampler.name == "Euler a"
    assert [p.value for p in sampler.prompts] == ['castle, at night: "moody"']
    assert [p.value for p in sampler.negative_prompts] == ["blurry"]
    assert sampler.parameters["seed"] == "1234" and sampler.parameters["steps"] == "3"
    assert float(sampler.parameters["cfg_scale"]) == 7.0
    assert info.metadata["Size"] == "96x64"
    assert sampler.model.hash == render_model_hash(demo_catalogue)


def render_model_hash(catalogue) -> str:
    from atlas.core.record.models import DEMO_MODEL_NAME, get

    with catalogue.session() as session:
        return get(session, DEMO_MODEL_NAME).short_hash


def test_parameters_is_text_or_itxt_by_encoding(demo_catalogue):
    latin = generate(demo_catalogue, request(prompt="café"), RenderInfo())
    cjk = generate(demo_catalogue, request(prompt="未来都市 🌃"), RenderInfo())
    for render, kind, prompt in ((latin, b"tEXt", "café"), (cjk, b"iTXt", "未来都市 🌃")):
        chunks = png.read_chunks(stored_bytes(demo_catalogue, render))
        (chunk,) = [c for c in chunks if c.type in png.TEXT_TYPES and c.data.startswith(b"parameters\0")]
        assert chunk.type == kind
        assert png.texts(chunks)[PARAMETERS_KEY].splitlines()[0] == prompt


def catalogue_state(catalogue):
    with catalogue.session() as session:
        counts = (len(session.exec(select(Render)).all()), len(session.exec(select(Pass)).all()))
    files = sorted(p.name for p in catalogue.store.root.rglob("*") if p.is_file())
    return counts, files


@pytest.mark.parametrize("args, message", [
    (["--size", "100x64"], "multiple of 8"),
    (["--steps", "0"], "steps must be between"),
    (["--cfg", "45"], "CFG scale must be between"),
    (["--sampler", "Euler b"], "known samplers: Euler a"),
    (["--model", "no-such-model"], "unknown model 'no-such-model'"),
    (["--licence", "WTFPL"], "unknown licence 'WTFPL'"),
    (["--size", "big"], "WIDTHxHEIGHT"),
])
def test_bad_input_exits_2_and_writes_nothing(demo_catalogue, cli, args, message):
    generate(demo_catalogue, request(), RenderInfo())
    before = catalogue_state(demo_catalogue)
    result = cli("generate", "a prompt", "--steps", "2", *args)
    assert result.code == 2
    assert message in result.err
    assert catalogue_state(demo_catalogue) == before


def test_cli_generate_prints_the_render_id(demo_catalogue, cli):
    result = cli("generate", "a red boat", "--steps", "2", "--size", "64x64", "--seed", "7", "--title", "Boat")
    assert result.code == 0, result.err
    render_id = int(result.out.strip())
    shown = cli("show", render_id, "--json").json()
    assert shown["record"]["render"]["title"] == "Boat"
    assert shown["record"]["lineage"][0]["seed"] == 7


@pytest.mark.parametrize("exc, status", [(KeyboardInterrupt, "interrupted"), (RuntimeError, "failed")])
def test_a_pass_that_breaks_midway_leaves_no_file_and_is_recorded(demo_catalogue, exc, status):
    before_files = catalogue_state(demo_catalogue)[1]

    def progress(step, total):
        if step == 2:
            raise exc("stop")

    with pytest.raises(exc):
        generate(demo_catalogue, request(steps=4), RenderInfo(), progress=progress)
    with demo_catalogue.session() as session:
        (step,) = session.exec(select(Pass)).all()
        assert step.status == status and step.render_id is None and step.ended is not None
        assert session.exec(select(Render)).all() == []
    assert catalogue_state(demo_catalogue)[1] == before_files


def test_failure_while_storing_removes_the_new_file(demo_catalogue, monkeypatch):
    """If the commit fails after the file was stored, the file goes too (no orphan)."""
    from atlas.core.record import tags

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(tags, "set_tags", broken)
    with pytest.raises(RuntimeError):
        generate(demo_catalogue, request(), RenderInfo(tags=["x"]))
    assert [p for p in demo_catalogue.store.root.rglob("*") if p.is_file()] == []


def test_embedded_record_is_valid_against_the_schema(demo_catalogue):
    from atlas.core.schemas import problems

    render = generate(demo_catalogue, request(), RenderInfo())
    record = json.loads(png.texts(png.read_chunks(stored_bytes(demo_catalogue, render)))["atlas:provenance"])
    assert problems("provenance", record) == []
    record["lineage"][0]["kind"] = "teleport"
    assert problems("provenance", record)
    with pytest.raises(BadInput):
        from atlas.core.record.build import validate

        validate(record)


def test_generate_and_show_on_postgresql(pg_home, demo_model_dir, cli):
    import shutil

    from atlas.core.catalogue import Catalogue
    from atlas.core.record.models import DEMO_MODEL_NAME

    catalogue = Catalogue.open(pg_home)
    assert catalogue.engine.dialect.name == "postgresql"
    shutil.copytree(demo_model_dir, pg_home.models / DEMO_MODEL_NAME)
    render = generate(catalogue, request(), RenderInfo(licence_id="CC-BY-4.0"))
    shown = cli("show", render.id, "--json")
    assert shown.code == 0, shown.err
    record = shown.json()["record"]
    assert record["lineage"][0]["seed"] == 1234
    assert record["render"]["licence"]["id"] == "CC-BY-4.0"
    catalogue.close()
