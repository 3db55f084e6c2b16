import click

from atlas.cli.common import echo_json, json_option, open_catalogue
from atlas.cli.setting_options import seed_options, setting_option
from atlas.core.settings import SETTINGS, default


def render_info(catalogue, title, author, licence, description=None, tags=()):
    """What the user says about the output, its licence checked before any model loads."""
    from atlas.core.record.write import RenderInfo, check_licence

    config = catalogue.home.config()
    author = author or config.get("author", {}).get("name")
    licence = licence or config.get("defaults", {}).get("licence") or "CC0-1.0"
    info = RenderInfo(title=title, description=description, author=author, licence_id=licence, tags=list(tags))
    return check_licence(catalogue, info)


@click.command()
@click.argument("prompt")
@click.option("--negative", default="", help="Negative prompt.")
@setting_option("steps")
@setting_option("sampler")
@setting_option("cfg")
@click.option("--size", default=f"{default('width')}x{default('height')}", show_default=True,
              help=f"WIDTHxHEIGHT, each {SETTINGS['width'].limits()}.")
@setting_option("seed")
@seed_options
@click.option("--model", "model_name", help="Registered checkpoint name (default: newest, else the demo model).")
@click.option("--licence", help="Output licence id (default from config, else CC0-1.0).")
@click.option("--author", help="Who prompted it (default from config).")
@click.option("--title", help="Title of the render.")
@click.option("--tag", "tags", multiple=True, help="Tag the render (repeatable).")
@json_option
@click.pass_context
def generate(ctx, prompt, negative, steps, sampler, cfg, size, seed, model_name, licence, author, title, tags,
             as_json, **seed_settings):
    """txt2img: generate a render from PROMPT and record everything about it."""
    from atlas.core import settings
    from atlas.core.record.requests import Txt2ImgRequest

    width, height = settings.parse_size(size)
    # Every setting is checked here, before the catalogue opens and before torch is imported.
    request = Txt2ImgRequest(prompt=prompt, negative_prompt=negative, steps=steps, sampler=sampler, cfg=cfg,
                             width=width, height=height, seed=seed, model=model_name, **seed_settings).checked()
    catalogue = open_catalogue(ctx)
    info = render_info(catalogue, title, author, licence, tags=tags)
    if model_name:
        from atlas.core.record import models

        with catalogue.session() as session:
            models.get(session, model_name, kind="checkpoint")
    run_generate(catalogue, request, info, as_json)


def run_generate(catalogue, request, info, as_json):
    from atlas.cli.progress import step_progress
    from atlas.engine.generate import generate as engine_generate

    with step_progress("txt2img") as progress:
        render = engine_generate(catalogue, request, info, progress=progress)
    print_render(catalogue, render.id, as_json)


def print_render(catalogue, render_id, as_json):
    """The new render's id; with --json, what `atlas show --json` prints (its record built again)."""
    if not as_json:
        click.echo(render_id)
        return
    from atlas.core.record.build import describe, get_render

    with catalogue.session() as session:
        echo_json(describe(session, get_render(session, render_id), catalogue))
