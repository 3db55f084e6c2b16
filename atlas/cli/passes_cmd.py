"""`atlas img2img`, `atlas outpaint`, `atlas upscale`: one pass on a render (or an image file)."""

import click

from atlas.cli.common import open_catalogue
from atlas.cli.generate_cmd import print_render, render_info
from atlas.cli.setting_options import seed_options, setting_option
from atlas.core.settings import SETTINGS, default


def output_options(func):
    for option in reversed([
        setting_option("seed"),
        seed_options,
        click.option("--model", "model_name", help="Checkpoint (default: the input's, else the newest)."),
        click.option("--licence", help="Output licence id (default from config, else CC0-1.0)."),
        click.option("--author", help="Who made it (default from config)."),
        click.option("--title", help="Title of the new render."),
        click.option("--tag", "tags", multiple=True, help="Tag the new render (repeatable)."),
        click.option("--json", "as_json", is_flag=True, help="Print the new render's record as JSON."),
    ]):
        func = option(func)
    return func


def prompt_options(func):
    for option in reversed([
        click.option("--negative", default=None, help="Negative prompt (default: the input's)."),
        setting_option("sampler", value=None, help="A1111 sampler name (default: the input's, else Euler a)."),
        setting_option("cfg", value=None, help="CFG scale (default: the input's, else 7)."),
    ]):
        func = option(func)
    return func


def check_file_size(source: str) -> None:
    """img2img and outpaint need sides that are multiples of 8: refuse such a file before importing it."""
    from pathlib import Path

    from PIL import Image, UnidentifiedImageError

    from atlas.core.record.requests import check_input_size

    path = Path(source).expanduser()
    if not path.is_file():
        return  # a render id (or nothing): resolved and checked later
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, UnidentifiedImageError):
        return  # the import names what is wrong with the file
    check_input_size(width, height, str(path))


def run_one(ctx, kind: str, source: str, request, licence, author, title, tags, as_json):
    """Check everything cheap first, then resolve SRC (importing a file), then run the pass."""
    from atlas.cli.progress import step_progress
    from atlas.core.importers import sources

    request.checked()  # every setting, before the catalogue opens and before torch is imported
    catalogue = open_catalogue(ctx)
    info = render_info(catalogue, title, author, licence, tags=tags)
    if request.model:
        from atlas.core.record import models

        with catalogue.session() as session:
            models.get(session, request.model, kind="checkpoint")
    if kind == "upscale":
        from atlas.engine import upscalers

        upscalers.resolve(catalogue, request.upscaler)  # an unknown upscaler fails before any import
    else:
        check_file_size(source)
    render_id = sources.resolve(catalogue, source)
    from atlas.engine import passes

    with step_progress(kind) as progress:
        render = getattr(passes, kind)(catalogue, render_id, request, info, progress=progress)
    print_render(catalogue, render.id, as_json)


@click.command()
@click.argument("source", metavar="SRC")
@click.argument("prompt", required=False)
@prompt_options
@setting_option("denoise", "img2img")
@setting_option("steps", "img2img",
                help="Sampling steps requested; int(min(denoise, 0.999) * steps) + 1 are run, as in A1111.")
@output_options
@click.pass_context
def img2img(ctx, source, prompt, negative, sampler, cfg, denoise, steps, seed, model_name, licence, author, title,
            tags, as_json, **seed_settings):
    """img2img on SRC (a render id or an image file, imported first) with PROMPT (default: the input's)."""
    from atlas.core.record.requests import Img2ImgRequest

    request = Img2ImgRequest(prompt=prompt, negative_prompt=negative, steps=steps, sampler=sampler, cfg=cfg,
                             denoise=denoise, seed=seed, model=model_name, **seed_settings)
    run_one(ctx, "img2img", source, request, licence, author, title, tags, as_json)


@click.command()
@click.argument("source", metavar="SRC")
@click.option("--side", type=click.Choice(SETTINGS["side"].choices), required=True, help=SETTINGS["side"].help)
@setting_option("pixels", "outpaint")
@click.option("--prompt", default=None, help="Prompt (default: the input's).")
@prompt_options
@setting_option("steps", "outpaint")
@setting_option("denoise", "outpaint")
@setting_option("mask_blur", "outpaint")
@setting_option("falloff", "outpaint")
@click.option("--colour-variation", "--color-variation", "colour_variation", type=float,
              default=default("colour_variation", "outpaint"), show_default=True,
              help=f"{SETTINGS['colour_variation'].help} Must be {SETTINGS['colour_variation'].limits()}.")
@output_options
@click.pass_context
def outpaint(ctx, source, side, pixels, prompt, negative, sampler, cfg, steps, denoise, mask_blur, falloff,
             colour_variation, seed, model_name, licence, author, title, tags, as_json, **seed_settings):
    """Outpainting mk2: grow SRC by PIXELS on one side."""
    from atlas.core.record.requests import OutpaintRequest

    request = OutpaintRequest(prompt=prompt, negative_prompt=negative, steps=steps, sampler=sampler, cfg=cfg,
                              denoise=denoise, seed=seed, model=model_name, side=side, pixels=pixels,
                              mask_blur=mask_blur, falloff=falloff, colour_variation=colour_variation,
                              **seed_settings)
    run_one(ctx, "outpaint", source, request, licence, author, title, tags, as_json)


@click.command()
@click.argument("source", metavar="SRC")
@setting_option("upscaler", "upscale")
@setting_option("scale", "upscale")
@setting_option("tile", "upscale")
@setting_option("overlap", "upscale")
@setting_option("batch", "upscale")
@click.option("--prompt", default=None, help="Prompt (default: the input's).")
@prompt_options
@setting_option("steps", "upscale")
@setting_option("denoise", "upscale")
@output_options
@click.pass_context
def upscale(ctx, source, upscaler, scale, tile, overlap, batch, prompt, negative, sampler, cfg, steps, denoise,
            seed, model_name, licence, author, title, tags, as_json, **seed_settings):
    """SD upscale: upscale SRC, then img2img it tile by tile and blend the tiles."""
    from atlas.core.record.requests import UpscaleRequest

    request = UpscaleRequest(prompt=prompt, negative_prompt=negative, steps=steps, sampler=sampler, cfg=cfg,
                             denoise=denoise, seed=seed, model=model_name, upscaler=upscaler, scale=scale,
                             tile=tile, overlap=overlap, batch=batch, **seed_settings)
    run_one(ctx, "upscale", source, request, licence, author, title, tags, as_json)
