"""A fixed catalogue for the TUI tests, written through atlas's real write path.

The reference lineage (txt2img -> outpaint x14 -> upscale x2, at a small scale so files stay small)
plus a handful of single-pass renders with distinct samplers, seeds and prompts. Pictures are made
with Pillow from a seed instead of by a diffusion model: the TUI is what is under test here, and
the engine has its own tests. With `frozen=True` the clock is fixed while building, so records,
files, sha256s and store paths are byte-identical on every run (the snapshot tests need that).
"""

from contextlib import nullcontext

import numpy as np
from PIL import Image
from sqlalchemy import text as sql_text

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.tables import Model, Pass
from atlas.core.record.write import RenderInfo, begin_pass, finish_pass

SOFTWARE = {"atlas": "0.1.0"}
CITY = ("highly detailed, high quality, digital painting of a futuristic city with high tech machines "
        "and bright lights, planets, galaxies")
# (prompt, negative, sampler, steps, cfg, seed, licence) of the single-pass renders.
SINGLES = [
    ("a red fox in the snow, oil painting", "blurry", "Euler", 20, 6.5, 101, "CC-BY-4.0"),
    ("a lighthouse at night, storm, cinematic", "", "DPM++ 2M Karras", 30, 7.0, 202, "CC0-1.0"),
    ("a quiet garden with a fox statue, watercolor", "lowres", "Euler a", 40, 7.0, 303, "CC-BY-SA-4.0"),
    ("a city of glass towers at dawn", "", "DDIM", 50, 9.0, 404, "CC0-1.0"),
]
OUTPAINT_SIDES = ["left", "right"] * 5 + ["up", "down"] * 2  # 10 horizontal, 4 vertical, as the reference
GROW = 16  # pixels per outpaint pass (the reference grows 128; the files here stay tiny)


def picture(seed: int, width: int, height: int) -> Image.Image:
    """A smooth seeded picture: gradients and a few discs (compresses well, previews recognisably)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = rng.uniform(40, 200, 3)
    slope = rng.uniform(-1, 1, (3, 2))
    channels = [base[c] + slope[c, 0] * x * 160 / width + slope[c, 1] * y * 160 / height for c in range(3)]
    image = np.stack(channels, axis=-1)
    for _ in range(3):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(4, max(6, height / 3))
        inside = (x - cx) ** 2 + (y - cy) ** 2 < r * r
        image[inside] = rng.uniform(0, 255, 3)
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8), "RGB")


def png_bytes(image: Image.Image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def add_models(catalogue: Catalogue) -> tuple[int, int]:
    """An SD v1.4-like checkpoint and a SwinIR-like upscaler, as catalogue rows (no weights needed
    to browse: the TUI shows their names, hashes and licences)."""
    with catalogue.session() as session:
        checkpoint = Model(name="sd-v1-4", kind="checkpoint", source="CompVis/stable-diffusion-v1-4",
                           format="diffusers", sha256="fe4efff1e1" + "0" * 54, short_hash="fe4efff1e1",
                           licence_id="creativeml-openrail-m")
        upscaler = Model(name="SwinIR_4x", kind="upscaler", source="SwinIR_4x.pth", format="spandrel",
                         sha256="99adfa91" + "1" * 56, short_hash="99adfa9111", licence_id="creativeml-openrail-m")
        session.add(checkpoint)
        session.add(upscaler)
        session.commit()
        return checkpoint.id, upscaler.id


def add_pass(catalogue: Catalogue, clock, step: Pass, image: Image.Image, info: RenderInfo) -> int:
    step.software, step.device = SOFTWARE, "cpu"
    pass_id = begin_pass(catalogue, step)
    if clock is not None:
        clock.tick(90)  # every pass takes a minute and a half
    render = finish_pass(catalogue, pass_id, png_bytes(image), image.width, image.height, info)
    if clock is not None:
        clock.tick(30)
    return render.id


def build(catalogue: Catalogue, frozen: bool = True) -> dict:
    """Fill `catalogue`; returns {"chain": [render ids of the 17-pass lineage], "singles": [...]}."""
    if frozen:
        from freezegun import freeze_time

        # freezegun walks every loaded module to swap the clock in and out; diffusers' lazy modules
        # raise on that walk (once another test has loaded them), and none of them is needed here.
        context = freeze_time("2026-01-02 10:00:00", ignore=["diffusers", "transformers", "torch", "torchvision",
                                                             "spandrel", "huggingface_hub", "accelerate"])
        # Each catalogue draws its own uuid, which every record embeds: fixed here, so the stored files
        # (their size and sha256 path, on the detail screen) are the same every run.
        with catalogue.session() as session:
            session.execute(sql_text("UPDATE catalogue_identity SET uuid = '00000000-0000-4000-8000-000000000000'"))
            session.commit()
    else:
        context = nullcontext()
    with context as clock:
        checkpoint, upscaler = add_models(catalogue)
        singles = []
        for i, (prompt, negative, sampler, steps, cfg, seed, licence) in enumerate(SINGLES):
            info = RenderInfo(title=f"single {i + 1}", author="Ada", licence_id=licence,
                              tags=["best"] if i % 2 == 0 else [])
            step = Pass(kind="txt2img", prompt=prompt, negative_prompt=negative, seed=seed, sampler=sampler,
                        steps=steps, steps_run=steps, cfg=cfg, width=64, height=64, model_id=checkpoint)
            singles.append(add_pass(catalogue, clock, step, picture(seed, 64, 64), info))
        info = RenderInfo(title="Futuristic city", author="Ada", licence_id="CC0-1.0")
        width, height, seed = 96, 64, 1234
        image = picture(seed, width, height)
        chain = [add_pass(catalogue, clock, Pass(
            kind="txt2img", prompt=CITY, negative_prompt="", seed=seed, sampler="Euler a", steps=50, steps_run=50,
            cfg=7.0, width=width, height=height, model_id=checkpoint), image, info)]
        for i, side in enumerate(OUTPAINT_SIDES):
            grown = (width + GROW, height) if side in ("left", "right") else (width, height + GROW)
            canvas = picture(seed + i + 1, *grown)
            canvas.paste(image, (GROW if side == "left" else 0, GROW if side == "up" else 0))
            image, (width, height) = canvas, grown
            chain.append(add_pass(catalogue, clock, Pass(
                kind="outpaint", prompt=CITY, seed=seed + i + 1, sampler="Euler a", steps=100, steps_run=81,
                cfg=7.0, denoise=0.8, width=width, height=height, model_id=checkpoint, input_render_id=chain[-1],
                settings={"side": side, "pixels": GROW, "mask_blur": 8, "falloff_exponent": 1.8,
                          "color_variation": 0.03}), image, info))
        for overlap in (16, 32):
            image = image.resize((image.width * 2, image.height * 2), Image.LANCZOS)
            chain.append(add_pass(catalogue, clock, Pass(
                kind="upscale", prompt=CITY, seed=seed, sampler="Euler a", steps=150, steps_run=16, cfg=7.0,
                denoise=0.1, width=64, height=64, model_id=checkpoint, upscaler_id=upscaler,
                input_render_id=chain[-1], settings={"scale": 2, "tile": 64, "overlap": overlap}), image, info))
    return {"chain": chain, "singles": singles}


# An A1111 txt2img infotext as the web UI writes it (v1.10): the fields atlas has no column for
# (Schedule type, Clip skip, Version) must survive a copy of the parameters.
A1111_PROMPT = "a mountain lake at sunrise, photograph"
A1111_INFOTEXT = (f"{A1111_PROMPT}\nNegative prompt: fog, lowres\n"
                  "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 5.5, Seed: 1234567890123456789, "
                  "Size: 64x64, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Clip skip: 2, Version: v1.10.1")
A1111_LINKED_PROMPT = "a linked harbour at dusk"


def add_imports(catalogue: Catalogue, folder) -> dict:
    """Two A1111 PNGs imported: one copied into the store, one linked where it lies.
    Returns {"copied": render id, "linked": render id, "linked_path": its file}."""
    from pathlib import Path

    from atlas.core.files import png
    from atlas.core.importers.batch import import_paths

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    found = {}
    for name, text, mode in (("copied", A1111_INFOTEXT, "copy"),
                             ("linked", A1111_INFOTEXT.replace(A1111_PROMPT, A1111_LINKED_PROMPT), "link")):
        path = folder / f"{name}.png"
        data = png_bytes(picture(len(name), 64, 64))
        path.write_bytes(png.with_text(data, [png.text_chunk("parameters", text)]))
        before = _newest(catalogue)
        import_paths(catalogue, [path], mode=mode, workers=1)
        found[name] = _newest(catalogue)
        assert found[name] != before, f"{path} was not imported"
        found[f"{name}_path"] = path
    return found


def _newest(catalogue: Catalogue) -> int | None:
    from sqlalchemy import func
    from sqlmodel import select

    from atlas.core.catalogue.tables import Render

    with catalogue.session() as session:
        return session.exec(select(func.max(Render.id))).one()
