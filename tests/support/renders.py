"""Real renders for the metadata tests: the demo model's txt2img, and a render derived from it."""


def txt2img(catalogue, prompt="a lighthouse, 灯台 🌊: \"dusk\"", seed=7, **info):
    """A real render of the demo model (tiny size, two steps)."""
    from atlas.core.record.write import RenderInfo
    from atlas.engine.generate import Txt2ImgRequest, generate

    request = Txt2ImgRequest(prompt=prompt, negative_prompt="blurry, low quality", steps=2, width=64, height=64,
                             seed=seed)
    defaults = {"title": "Lighthouse", "author": "Ann Example", "licence_id": "CC-BY-SA-4.0"}
    return generate(catalogue, request, RenderInfo(**{**defaults, **info}))


def derived(catalogue, parent, kind="img2img"):
    """A render made from `parent` through the real write path (begin_pass/finish_pass), as the engine's
    passes do: here the 'work' mirrors the parent's pixels, which is enough to be a new image."""
    import io

    from PIL import Image, ImageOps
    from sqlmodel import select

    from atlas.core.catalogue.tables import Pass
    from atlas.core.record.write import RenderInfo, begin_pass, finish_pass

    with catalogue.session() as session:
        first = session.exec(select(Pass).where(Pass.render_id == parent.id)).first()
    image = ImageOps.mirror(Image.open(catalogue.store.path_of(parent.store_path)).convert("RGB"))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    step = Pass(kind=kind, input_render_id=parent.id, prompt=first.prompt, negative_prompt=first.negative_prompt,
                seed=first.seed + 1, sampler=first.sampler, steps=first.steps, cfg=first.cfg, width=image.width,
                height=image.height, denoise=0.5 if kind == "img2img" else None, model_id=first.model_id,
                software=first.software, device=first.device, settings={})
    pass_id = begin_pass(catalogue, step)
    return finish_pass(catalogue, pass_id, buffer.getvalue(), image.width, image.height,
                       RenderInfo(title="Mirrored lighthouse", author="Ann Example", licence_id="CC-BY-SA-4.0"))


def stored(catalogue, render):
    return catalogue.store.path_of(render.store_path)
