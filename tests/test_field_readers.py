"""atlas's PNG, JPEG and WebP files read right by the field's own readers: sd-parsers and
sd-prompt-reader (PyPI; only its `image_data_reader` and parsers are imported, not its GUI), and a
reader that takes XMP `dc:description` as the generation parameters, as image browsers' readers do.

Expected values come from the render's record (what atlas was asked to write), never from atlas's
own reader.

sd-prompt-reader is not in the dev extras: its wheel pins pillow==10.3.0 and pulls its GUI's
packages (customtkinter, tkinterdnd2...). Install it beside them with
`pip install --no-deps sd-prompt-reader` (piexif, which it needs, is already a dependency);
without it those tests are skipped, saying so.
"""

import pytest

from atlas.core.files.encode import encode_export

FORMATS = ["png", "jpeg", "webp"]


def expected(record: dict) -> dict:
    last = record["lineage"][-1]
    return {"prompt": last["prompt"], "negative": last["negative_prompt"], "seed": last["seed"],
            "steps": last["steps"], "sampler": last["sampler"], "cfg": last["cfg"],
            "size": f"{last['width']}x{last['height']}", "model": last["model"]["name"],
            "hash": last["model"]["short_hash"]}


@pytest.fixture
def written(rendered, tmp_path):
    """format -> (path of atlas's export in that format, what it must say)."""
    data, record = rendered
    out = {}
    for fmt in FORMATS:
        path = tmp_path / f"render.{fmt}"
        path.write_bytes(encode_export(data, record, fmt))
        out[fmt] = (path, expected(record))
    return out


def test_sd_parsers_reads_every_field(written):
    from sd_parsers import ParserManager

    for fmt, (path, want) in written.items():
        info = ParserManager().parse(str(path))
        assert info is not None and info.generator.name == "AUTOMATIC1111", fmt
        (sampler,) = info.samplers
        assert [p.value for p in sampler.prompts] == [want["prompt"]], fmt
        assert [p.value for p in sampler.negative_prompts] == [want["negative"]], fmt
        assert int(sampler.parameters["seed"]) == want["seed"], fmt
        assert int(sampler.parameters["steps"]) == want["steps"], fmt
        assert float(sampler.parameters["cfg_scale"]) == want["cfg"], fmt
        assert sampler.name == want["sampler"], fmt
        assert info.metadata["Size"] == want["size"], fmt
        assert (sampler.model.name, sampler.model.hash) == (want["model"], want["hash"]), fmt


def sd_prompt_reader():
    return pytest.importorskip("sd_prompt_reader.image_data_reader",
                               reason="sd-prompt-reader is not installed (pip install --no-deps sd-prompt-reader)")


def test_sd_prompt_reader_reads_every_field(written):
    sd_prompt_reader()
    from sd_prompt_reader.format import BaseFormat
    from sd_prompt_reader.image_data_reader import ImageDataReader

    for fmt, (path, want) in written.items():
        found = ImageDataReader(str(path))
        assert found.status == BaseFormat.Status.READ_SUCCESS and found.tool == "A1111 webUI", fmt
        assert (found.positive, found.negative) == (want["prompt"], want["negative"]), fmt
        params = found.parameter
        assert int(params["seed"]) == want["seed"] and int(params["steps"]) == want["steps"], fmt
        assert float(params["cfg"]) == want["cfg"] and params["sampler"] == want["sampler"], fmt
        assert params["size"] == want["size"] and params["model"] == want["model"], fmt
        assert f"Model hash: {want['hash']}" in found.setting, fmt


def test_a_reader_that_takes_xmp_description_as_the_parameters_finds_the_a1111_text(written):
    """The XMP dc:description, parsed as A1111 text by sd-prompt-reader's A1111 parser, says it all:
    it is never the bare prompt that would leave such a reader with nothing."""
    from PIL import Image

    sd_prompt_reader()
    from sd_prompt_reader.format import A1111, BaseFormat

    from atlas.core.files import xmp

    for fmt, (path, want) in written.items():
        with Image.open(path) as image:
            packet = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
        assert packet, fmt
        description = xmp.parse(packet)["dc:description"]
        parser = A1111(raw=description)
        assert parser.parse() == BaseFormat.Status.READ_SUCCESS, fmt
        assert (parser.positive, parser.negative) == (want["prompt"], want["negative"]), fmt
        assert int(parser.parameter["seed"]) == want["seed"] and parser.parameter["size"] == want["size"], fmt
        assert f"Model hash: {want['hash']}" in parser.setting, fmt
