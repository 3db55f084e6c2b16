"""The reference workflow (the demo recipe's shape at full size) recorded through the write API,
as records with real PNG files.

txt2img 768x512, fourteen Outpainting mk2 passes of 128 px (five left, five right, two up, two
down) to 2048x1024, then two SD upscale passes with SwinIR_4x (overlap 128 then 256) to 8192x4096.
The PNGs are one-bit images of the recorded size, so every file is real and cheap to write.
"""

import hashlib
import io

from PIL import Image

from atlas.core.catalogue.tables import Model, Pass
from atlas.core.record.write import RenderInfo, begin_pass, finish_pass

PROMPT = ("highly detailed, high quality, digital painting of a futuristic city with high tech machines and "
          "bright lights, planets, galaxies, art style of Juan Wijngaard and Albert Bierstadt, ray traced, "
          "octane render, 8k")
SOFTWARE = {"atlas": "0.1.0", "diffusers": "0.42.0", "torch": "2.15.0", "transformers": "5.24.0",
            "python": "3.12.3"}
DEVICE = "cuda: NVIDIA GeForce RTX 3090"
SIDES = ["left", "right", "up", "left", "right", "down", "left", "right", "up", "left", "right", "down",
         "left", "right"]
OUTPAINT = {"script": "Outpainting mk2", "pixels": 128, "mask_blur": 8, "falloff": 1.8,
            "colour_variation": 0.03}


def png_of_size(width: int, height: int, shade: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (width, height), shade % 2).save(buffer, format="PNG")
    return buffer.getvalue()


def register_models(catalogue) -> tuple[int, int]:
    with catalogue.session() as session:
        sd = Model(name="stable-diffusion-v1-4", kind="checkpoint", source="CompVis/stable-diffusion-v1-4",
                   format="single-file",
                   sha256="fe4efff1e174c627256e44ec2991ba279b3816e364b49f9be2abc0b3ff3f8556",
                   short_hash="fe4efff1e1", licence_id="creativeml-openrail-m")
        digest = hashlib.sha256(b"SwinIR_4x test weights").hexdigest()
        swinir = Model(name="SwinIR_4x", kind="upscaler", source="SwinIR_4x.pth", format="spandrel",
                       sha256=digest, short_hash=digest[:10], licence_id="Apache-2.0")
        session.add(sd)
        session.add(swinir)
        session.commit()
        return sd.id, swinir.id


def record_pass(catalogue, step: Pass, width: int, height: int, info: RenderInfo, steps_run: int, shade=0):
    pass_id = begin_pass(catalogue, step)
    return finish_pass(catalogue, pass_id, png_of_size(width, height, shade), width, height, info,
                       {"steps_run": steps_run})


def build_reference(catalogue, info: RenderInfo | None = None, prompt: str = PROMPT, seed: int = 1000,
                    models: tuple[int, int] | None = None, full: bool = True) -> list:
    """Record the whole workflow (only its txt2img unless `full`); returns the renders, oldest first."""
    info = info or RenderInfo(title="Futuristic city", author="Example", licence_id="CC-BY-SA-4.0")
    sd_id, swinir_id = models or register_models(catalogue)
    common = dict(prompt=prompt, negative_prompt="", sampler="Euler a", cfg=7.0, model_id=sd_id,
                  software=SOFTWARE, device=DEVICE, settings={})
    renders = [record_pass(catalogue, Pass(kind="txt2img", seed=seed, steps=50, width=768, height=512,
                                           **common), 768, 512, info, 50)]
    if not full:
        return renders
    width, height = 768, 512
    for i, side in enumerate(SIDES, 1):
        if side in ("left", "right"):
            width += 128
        else:
            height += 128
        step = Pass(kind="outpaint", input_render_id=renders[-1].id, seed=seed + i, steps=100, denoise=0.8,
                    width=width, height=height, **{**common, "settings": {**OUTPAINT, "side": side}})
        renders.append(record_pass(catalogue, step, width, height, info, 81, shade=i))
    for i, overlap in enumerate((128, 256), 1):
        width, height = width * 2, height * 2
        tiles = (width // 384) * (height // 384)
        settings = {"script": "SD upscale", "upscaler": "SwinIR_4x", "scale": 2, "tile": 512,
                    "overlap": overlap, "batch": 1, "tiles": tiles,
                    "tile_seeds": [seed + 100 * i + t for t in range(tiles)]}
        step = Pass(kind="upscale", input_render_id=renders[-1].id, seed=seed + 100 * i, steps=150, denoise=0.1,
                    width=512, height=512, upscaler_id=swinir_id, **{**common, "settings": settings})
        renders.append(record_pass(catalogue, step, width, height, info, 16, shade=i))
    return renders
