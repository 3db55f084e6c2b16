"""Small renders through atlas's real write path (begin_pass/finish_pass), without a model: a
flat-colour PNG per render, distinct by its colour, so each has its own file in the store."""

import io

from PIL import Image

from atlas.core.catalogue.tables import Pass
from atlas.core.record.write import RenderInfo, begin_pass, finish_pass


def png(shade: int, size=(16, 12)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (shade % 256, (shade * 7) % 256, (shade * 13) % 256)).save(buffer, format="PNG")
    return buffer.getvalue()


def add(catalogue, shade: int, prompt: str = "a fox", parent=None, **settings):
    """A completed render; `parent` (a Render) makes it an img2img of that render."""
    step = Pass(kind="img2img" if parent is not None else "txt2img", prompt=prompt, seed=shade,
                sampler=settings.pop("sampler", "Euler"), steps=settings.pop("steps", 20),
                cfg=settings.pop("cfg", 7.0), input_render_id=parent.id if parent is not None else None,
                width=16, height=12, settings=settings)
    pass_id = begin_pass(catalogue, step)
    return finish_pass(catalogue, pass_id, png(shade), 16, 12, RenderInfo(licence_id="CC0-1.0"))
