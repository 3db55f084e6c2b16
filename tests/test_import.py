"""Import of renders made by other tools: real files from sd-parsers' fixtures, on SQLite and PostgreSQL."""

import json
import shutil

import pytest
from PIL import Image, PngImagePlugin
from sqlmodel import select

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.tables import Pass, Render
from atlas.core.errors import BadInput
from atlas.core.importers.batch import import_file, import_paths
from atlas.core.record.build import producing_pass
from atlas.core.search import sql as search
from tests.support import FIXTURES
from tests.support.import_files import digest_tree

PARSERS = FIXTURES / "parsers"
LANDSCAPE_NEG = "(hands), text, error, cropped"

# file -> (tool, prompt start, negative start, seed, steps, sampler (A1111's name), cfg, processing size, model)
EXPECTED = {
    "AUTOMATIC1111/automatic1111_cropped.png": ("AUTOMATIC1111", "photo of a duck", "monochrome", 235284042, 15,
                                                "UniPC", 5.0, (512, 400), "realistic_realisticVisionV20_v20"),
    "AUTOMATIC1111/automatic1111_cropped.jpg": ("AUTOMATIC1111", "photo of a duck", "monochrome", 235284042, 15,
                                                "UniPC", 5.0, (512, 400), "realistic_realisticVisionV20_v20"),
    "AUTOMATIC1111/automatic1111_stealth.png": ("AUTOMATIC1111", "a circle", "a square", 2015833630, 20, "Euler",
                                                7.0, (64, 64), "realisticVisionV51_v51VAE"),
    "ComfyUI/img2img_cropped.png": ("ComfyUI", "photograph of victorian woman with wings", "watermark, text",
                                    280823642470253, 20, "DPM++ 2M", 8.0, (None, None),
                                    "v1-5-pruned-emaonly.ckpt"),
    # Multi-sampler graphs: the sampler behind the deepest save node made the file; its size is that of
    # the latent it was given (a LatentUpscale here). img2img starts from a loaded image: no size in the graph.
    "ComfyUI/night_evening_day_morning_cropped.png": ("ComfyUI", "(best quality) beautiful (HDR:1.2)", LANDSCAPE_NEG,
                                                      1122440447966177, 14, "DPM++ 2M", 7.0, (1088, 1920),
                                                      "AbyssOrangeMix2_hard.safetensors"),
    "ComfyUI/noisy_latents_3_subjects_cropped.png": ("ComfyUI", "girl (flat chest:0.9)", LANDSCAPE_NEG,
                                                     1084614416978598, 9, "DPM++ SDE", 5.5, (1920, 1088),
                                                     "Anything-V3.0.ckpt"),
    "ComfyUI/unclip_2pass_cropped.png": ("ComfyUI", "beautiful scenery landscape outdoors mountains", LANDSCAPE_NEG,
                                         119080905858220, 8, "DPM++ SDE", 9.0, (1920, 1088),
                                         "cardosAnimated_v20.safetensors"),
    "Fooocus/fooocus1_cropped.png": ("Fooocus", "a smiling goldfish", "", 6952411511246973023, 30,
                                     "DPM++ 2M SDE", 4.0, (768, 1280), "juggernautXL_v8Rundiffusion"),
    "InvokeAI/invokeai_dream1.png": ("InvokeAI", "professional full body photo of young woman",
                                     "rendering, glowing eyes", 2980747362, 50, "LMS", 5.0, (512, 768), None),
    "InvokeAI/invokeai_imeta1.png": ("InvokeAI", "digital artwork, oil painting", "grainy+, photo", 3293022630, 35,
                                     "Euler", 8.0, (1024, 1024), "juggernautXL"),
    "InvokeAI/invokeai_sdmeta1.png": ("InvokeAI", "professional full body photo of young woman",
                                      "rendering, glowing eyes", 2980747362, 50, "LMS", 5.0, (512, 768),
                                      "deliberateForInvoke_v08"),
    "NovelAI/novelai1_cropped.png": ("NovelAI", "masterpiece, best quality,  cat, space, icon",
                                     "lowres, bad anatomy, bad hands", 2253955223, 50, "Euler a", 10.0,
                                     (None, None), "Stable Diffusion"),
}


@pytest.fixture
def sources(tmp_path):
    """A writable copy of the fixtures (so a modification would be possible, and would be seen)."""
    root = tmp_path / "sources"
    shutil.copytree(FIXTURES, root)
    (root / "LICENSE.txt").unlink()
    return root


def producer(session, render_id) -> Pass:
    """The pass that made the render (a multi-pass import records its earlier passes beside it)."""
    found = producing_pass(session, render_id)
    assert found is not None
    return found


def check_expected(catalogue, report, root):
    by_path = {item["path"]: item["id"] for item in report.imported}
    with catalogue.session() as session:
        for rel, (tool, prompt, negative, seed, steps, sampler, cfg, size, model) in EXPECTED.items():
            render = session.get(Render, by_path[str(root / "parsers" / rel)])
            step = producer(session, render.id)
            assert render.tool == tool, rel
            assert step.kind == "import" and step.status == "completed"
            assert step.prompt.startswith(prompt), (rel, step.prompt)
            assert step.negative_prompt.startswith(negative), (rel, step.negative_prompt)
            assert (step.seed, step.steps, step.sampler, step.cfg) == (seed, steps, sampler, cfg), rel
            assert (step.width, step.height) == size, rel
            assert step.settings.get("model") == model, rel
            assert step.raw_metadata, rel  # the metadata, verbatim


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_fixtures_import_with_every_field(request, backend, home, sources):
    if backend == "postgresql":
        request.getfixturevalue("pg_home")
    before = digest_tree(sources)
    catalogue = Catalogue.open(home)
    try:
        report = import_paths(catalogue, [sources], recursive=True, workers=1)
        assert digest_tree(sources) == before  # source files never modified
        assert {i["path"].rsplit("/", 1)[-1] for i in report.unreadable} == {"empty_file.png"}
        assert report.unreadable[0]["reason"] == "empty file"
        # 12 tool files + the A1111 text after IDAT; two images with no generation metadata, counted apart
        assert len(report.imported) == 13 and report.skipped == []
        assert sorted(i["path"].rsplit("/", 1)[-1] for i in report.no_metadata) == ["empty_image.jpg",
                                                                                     "empty_image.png"]
        check_expected(catalogue, report, sources)
        with catalogue.session() as session:
            assert {r.tool for r in session.exec(select(Render))} >= {"AUTOMATIC1111", "ComfyUI", "InvokeAI",
                                                                      "NovelAI", "Fooocus", "unknown"}
            # imported renders are found by search, 64-bit seeds included
            hits = search.search(session, "seed:6952411511246973023")
            assert [producer(session, r.id).settings["model"] for r in hits] == ["juggernautXL_v8Rundiffusion"]
            # img2img and noisy_latents; night_evening's base pass too (its hires pass uses a .safetensors)
            assert len(search.search(session, "tool:comfyui model:*.ckpt")) == 3
            assert len(search.search(session, "duck sampler:unipc")) == 3  # png, jpeg and the after-IDAT copy
            assert search.count(session, "model-hash:c0d1994c73") == 3
    finally:
        catalogue.close()


def test_raw_metadata_is_kept_verbatim(catalogue, sources):
    report = import_paths(catalogue, [sources / "parsers"], recursive=True, workers=1)
    paths = {i["path"].rsplit("/", 1)[-1]: i["id"] for i in report.imported}
    with catalogue.session() as session:
        comfy = producer(session, paths["unclip_2pass_cropped.png"])
        original = Image.open(sources / "parsers/ComfyUI/unclip_2pass_cropped.png").text
        assert comfy.raw_metadata == dict(original)
        others = [s["id"] for s in comfy.settings["samplers"]]  # the first pass of the graph is kept too
        assert others == ["3", "41"]
        stealth = producer(session, paths["automatic1111_stealth.png"])
        assert stealth.raw_metadata["stealth:parameters"].startswith("a circle\nNegative prompt: a square")
        jpeg = producer(session, paths["automatic1111_cropped.jpg"])
        assert jpeg.raw_metadata["exif:UserComment"].startswith("photo of a duck\nNegative prompt: monochrome")


def infotext_png(path, text, size=(8, 8), key="parameters"):
    info = PngImagePlugin.PngInfo()
    info.add_text(key, text)
    Image.new("RGB", size, (10, 20, 30)).save(path, pnginfo=info)
    return path


def test_unparsed_infotext_fields_are_kept_and_forks_named(catalogue, tmp_path):
    text = ("castle on a hill\nNegative prompt: fog\nSteps: 28, Sampler: DPM++ 2M, Schedule type: Karras, "
            "CFG scale: 6.5, Seed: 4000000000, Size: 832x1216, Model hash: 1a2b3c4d5e, Model: dream_xl, "
            'Denoising strength: 0.45, Hires upscale: 1.5, Lora hashes: "detail: 0123abcd", '
            "Version: f2.0.1v1.10.1-previous-313-g8a042934")
    render = import_file(catalogue, infotext_png(tmp_path / "forge.png", text))
    with catalogue.session() as session:
        step = producer(session, render.id)
    assert render.tool == "Forge"
    assert (step.prompt, step.negative_prompt, step.seed, step.steps, step.cfg) == (
        "castle on a hill", "fog", 4000000000, 28, 6.5)
    assert (step.width, step.height, step.denoise) == (832, 1216, 0.45)
    assert step.settings["model"] == "dream_xl" and step.settings["model_hash"] == "1a2b3c4d5e"
    fields = step.settings["infotext"]  # every field of the infotext, parsed or not by sd-parsers
    assert fields["Hires upscale"] == "1.5" and fields["Lora hashes"] == "detail: 0123abcd"
    assert list(fields)[:3] == ["Steps", "Sampler", "Schedule type"] and len(fields) == 12
    assert step.raw_metadata == {"parameters": text}


def test_swarmui_parameters(catalogue, tmp_path):
    doc = {"sui_image_params": {"prompt": "a teapot", "negativeprompt": "blur", "model": "OfficialStableDiffusion/"
                                "sd_xl_base_1.0", "seed": 1234, "steps": 25, "cfgscale": 5.5, "width": 1024,
                                "height": 1024, "sampler": "euler", "scheduler": "karras"},
           "sui_extra_data": {"date": "2024-05-01"}}
    render = import_file(catalogue, infotext_png(tmp_path / "swarm.png", json.dumps(doc)))
    with catalogue.session() as session:
        step = producer(session, render.id)
    assert render.tool == "SwarmUI"
    assert (step.prompt, step.negative_prompt, step.seed, step.steps, step.cfg, step.sampler) == (
        "a teapot", "blur", 1234, 25, 5.5, "Euler")
    assert step.settings["scheduler"] == "karras" and step.settings["model"].endswith("sd_xl_base_1.0")
    assert (step.settings["sampler_original"], step.settings["schedule_type"]) == ("euler", "Karras")


def broken_files(root):
    """Files an import must refuse, each with a reason, without stopping."""
    root.mkdir()
    good = infotext_png(root / "good.png", "fine\nSteps: 5, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 8x8")
    data = good.read_bytes()
    (root / "truncated.png").write_bytes(data[: len(data) // 2])
    bad_crc = bytearray(data)
    bad_crc[30] ^= 0xFF  # inside the IHDR/text chunk bodies: the CRC no longer matches
    (root / "bad_crc.png").write_bytes(bytes(bad_crc))
    (root / "notes.png").write_text("this is not an image")
    Image.new("RGB", (4, 4)).save(root / "anim.gif")
    (root / "empty.jpg").write_bytes(b"")
    jpeg = root / "cut.jpg"
    Image.new("RGB", (64, 64), (200, 10, 10)).save(jpeg, quality=90)
    jpeg.write_bytes(jpeg.read_bytes()[:300])
    return good


def test_broken_files_are_reported_with_reasons_and_do_not_stop_the_import(catalogue, tmp_path):
    root = tmp_path / "mixed"
    broken_files(root)
    before = digest_tree(root)
    report = import_paths(catalogue, [root, root / "anim.gif"], workers=1)
    assert digest_tree(root) == before
    assert [i["path"].rsplit("/", 1)[-1] for i in report.imported] == ["good.png"]
    reasons = {i["path"].rsplit("/", 1)[-1]: i["reason"] for i in report.unreadable}
    assert set(reasons) == {"truncated.png", "bad_crc.png", "notes.png", "anim.gif", "empty.jpg", "cut.jpg"}
    assert "truncated" in reasons["truncated.png"]
    assert "bad CRC" in reasons["bad_crc.png"]
    assert "not an image" in reasons["notes.png"]
    assert "GIF images are not supported" in reasons["anim.gif"]
    assert reasons["empty.jpg"] == "empty file"
    assert "damaged image data" in reasons["cut.jpg"]
    with catalogue.session() as session:
        assert len(session.exec(select(Render)).all()) == 1
    assert list(catalogue.store.root.rglob("*.*")) == [catalogue.store.root / catalogue_path(catalogue)]
    with pytest.raises(BadInput, match="bad CRC"):
        import_file(catalogue, root / "bad_crc.png")


def catalogue_path(catalogue):
    with catalogue.session() as session:
        return session.exec(select(Render.store_path)).one()


def test_duplicates_and_unchanged_files(catalogue, tmp_path):
    first = infotext_png(tmp_path / "a.png", "dup\nSteps: 5, Seed: 7")
    copy = tmp_path / "sub" / "b.png"
    copy.parent.mkdir()
    shutil.copy2(first, copy)
    report = import_paths(catalogue, [tmp_path], recursive=True, workers=1)
    assert len(report.imported) == 1
    rid = report.imported[0]["id"]
    assert report.skipped == [{"path": str(copy), "id": rid, "reason": f"same file (sha256) as render {rid}"}]
    assert import_file(catalogue, copy).id == rid  # a known sha256: the existing render

    again = import_paths(catalogue, [first], workers=1)
    assert again.imported == [] and again.skipped[0]["reason"] == "unchanged since its last import"
    first.touch()  # a new mtime: read again, found to be the same bytes
    again = import_paths(catalogue, [first], workers=1)
    assert again.skipped[0]["reason"].startswith("same file (sha256)")
    # without --recursive only the folder's own files are taken
    assert len(import_paths(catalogue, [tmp_path], workers=1).skipped) == 1


def test_link_mode_leaves_files_in_place(catalogue, tmp_path):
    path = infotext_png(tmp_path / "linked.png", "linked\nSteps: 5, Seed: 7")
    render = import_file(catalogue, path, mode="link")
    assert render.linked_path == str(path) and render.store_path is None
    assert not any(catalogue.store.root.rglob("*.png"))
    with pytest.raises(BadInput, match="mode"):
        import_file(catalogue, path, mode="move")


def test_process_pool_and_batches(catalogue, tmp_path):
    root = tmp_path / "many"
    root.mkdir()
    for i in range(40):
        infotext_png(root / f"{i:03}.png", f"render {i}\nSteps: {10 + i}, Sampler: Euler, CFG scale: 7, Seed: {i}")
    (root / "zz.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    seen = []
    report = import_paths(catalogue, [root], workers=2, batch=7, progress=lambda d, t: seen.append((d, t)))
    assert len(report.imported) == 40 and len(report.unreadable) == 1
    assert seen[0] == (0, 41) and seen[-1] == (41, 41)
    with catalogue.session() as session:
        steps = sorted(producer(session, i["id"]).steps for i in report.imported)
        assert steps == list(range(10, 50))
        assert search.count(session, "steps:10..19") == 10
    assert len(list(catalogue.store.root.rglob("*.png"))) == 40


def test_cli_import_report_and_exit_codes(cli, home, sources):
    r = cli("import", "--recursive", "--json", sources)
    assert r.code == 1  # one unreadable file
    data = json.loads(r.out[: r.out.rindex("}") + 1])
    assert data["counts"] == {"imported": 13, "no_generation_metadata": 2, "metadata_unreadable": 0, "skipped": 0,
                              "unreadable": 1}
    assert "could not be imported" in r.err

    r = cli("import", sources / "parsers" / "NovelAI")
    assert r.code == 0 and r.out.strip() == "imported 0, no generation metadata 0, skipped 1, unreadable 0"
    r = cli("import", sources / "missing.png")
    assert r.code == 2 and "no such file" in r.err
    r = cli("search", "--json", "tool:novelai")
    assert json.loads(r.out)["seed"] == 2253955223


def test_an_atlas_file_imports_with_its_own_record(demo_catalogue, tmp_path):
    """A file atlas wrote (in another catalogue) keeps its whole record as raw metadata."""
    from atlas.core.record.write import RenderInfo
    from atlas.engine.generate import Txt2ImgRequest, generate

    made = generate(demo_catalogue, Txt2ImgRequest(prompt="a lighthouse at dusk", negative_prompt="fog", steps=2,
                                                   sampler="Euler a", cfg=6.0, width=64, height=64, seed=4321),
                    RenderInfo(licence_id="CC0-1.0"))
    exported = tmp_path / "from-elsewhere.png"
    shutil.copy(demo_catalogue.store.path_of(made.store_path), exported)
    other = Catalogue.open(tmp_path / "other-home")
    try:
        render = import_file(other, exported)
        with other.session() as session:
            step = producer(session, render.id)
        assert render.tool == "atlas" and render.sha256 == made.sha256
        assert (step.prompt, step.negative_prompt, step.seed, step.steps, step.sampler, step.cfg) == (
            "a lighthouse at dusk", "fog", 4321, 2, "Euler a", 6.0)
        assert step.settings["model_sha256"] and step.settings["original_kind"] == "txt2img"
        record = json.loads(step.raw_metadata["atlas:provenance"])
        assert record["lineage"][0]["seed"] == 4321
        # in its own catalogue the same bytes are already known
        assert import_file(demo_catalogue, exported).id == made.id
    finally:
        other.close()


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_jpeg_and_webp_exif_usercomment_and_xmp(catalogue, tmp_path, fmt):
    """A1111 writes JPEG/WebP metadata as a Unicode EXIF UserComment; XMP is kept verbatim beside it."""
    import piexif
    import piexif.helper

    text = "a ship in a bottle\nNegative prompt: dust\nSteps: 33, Sampler: Euler, CFG scale: 4, Seed: 77, Size: 640x448"
    exif = piexif.dump({"Exif": {piexif.ExifIFD.UserComment: piexif.helper.UserComment.dump(text, "unicode")}})
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    path = tmp_path / f"ship.{fmt}"
    Image.new("RGB", (40, 28), (5, 90, 200)).save(path, format=fmt.upper(), exif=exif, xmp=xmp)
    render = import_file(catalogue, path)
    with catalogue.session() as session:
        step = producer(session, render.id)
    assert (render.format, render.width, render.height, render.tool) == (fmt, 40, 28, "AUTOMATIC1111")
    assert (step.prompt, step.negative_prompt, step.steps, step.sampler, step.cfg, step.seed) == (
        "a ship in a bottle", "dust", 33, "Euler", 4.0, 77)
    assert (step.width, step.height) == (640, 448)
    assert step.raw_metadata["exif:UserComment"] == text
    assert "adobe:ns:meta" in step.raw_metadata["xmp"]


def test_comfyui_graph_walk_picks_the_sampler_behind_the_deepest_save():
    from atlas.core.importers import comfyui

    graph = {
        "1": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 768}},
        "2": {"class_type": "KSampler", "inputs": {"steps": 20, "latent_image": ["1", 0], "model": ["9", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["4", 0]}},  # a preview of the first pass
        "4": {"class_type": "VAEDecode", "inputs": {"samples": ["2", 0]}},
        "5": {"class_type": "LatentUpscale", "inputs": {"width": 1024, "height": 1536, "samples": ["2", 0]}},
        "6": {"class_type": "KSamplerAdvanced", "inputs": {"steps": 10, "latent_image": ["5", 0]}},
        "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0]}},
        "8": {"class_type": "SaveImage", "inputs": {"images": ["7", 0]}},
        "9": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "x.safetensors"}},
        "10": {"class_type": "KSampler", "inputs": {"steps": 5, "latent_image": ["10", 0]}},  # a loop: no hang
    }
    assert comfyui.final_sampler(graph) == "6"
    assert comfyui.latent_size(graph, "6") == (1024, 1536)
    assert comfyui.latent_size(graph, "2") == (512, 768)
    assert comfyui.latent_size(graph, "10") == (None, None)
    no_save = {k: v for k, v in graph.items() if v["class_type"] != "SaveImage"}
    assert comfyui.final_sampler(no_save) == "10"  # no save node: the last sampler
    assert comfyui.final_sampler({}) is None and comfyui.final_sampler([]) is None


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=400), flips=st.lists(st.tuples(st.integers(0, 399), st.integers(1, 255)),
                                                                    max_size=4))
def test_damaged_files_never_raise_from_the_reader(tmp_path, cut, flips):
    """Whatever the damage, reading gives facts or a reason: one bad file never stops an import."""
    from atlas.core.importers.reader import read_file

    path = tmp_path / "f.png"
    if not path.exists():
        infotext_png(tmp_path / "orig.png", "x\nSteps: 5, Sampler: Euler, Seed: 1", size=(6, 6))
    data = bytearray((tmp_path / "orig.png").read_bytes())
    for pos, xor in flips:
        if pos < len(data):
            data[pos] ^= xor
    path.write_bytes(bytes(data[: cut or len(data)]))
    facts = read_file(str(path))
    assert (facts.error is None) == (facts.sha256 is not None)
    if facts.error is not None:
        assert isinstance(facts.error, str) and facts.error
