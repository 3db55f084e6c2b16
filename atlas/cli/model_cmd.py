import click

from atlas.cli.common import echo, echo_json, json_option, open_catalogue


@click.group()
def model():
    """Register and list models (checkpoints and upscalers) with their hashes and licences."""


@model.command("add")
@click.argument("source")
@click.option("--name", required=True, help="Name to refer to the model by.")
@click.option("--licence", "licence_id", help="Licence id (required when the model card names none).")
@click.option("--kind", type=click.Choice(["checkpoint", "upscaler"]), default="checkpoint", show_default=True)
@click.option("--config", "pipeline_config", type=click.Path(exists=True, file_okay=False),
              help="Local diffusers config folder for a single-file checkpoint.")
@json_option
@click.pass_context
def add(ctx, source, name, licence_id, kind, pipeline_config, as_json):
    """Register SOURCE: a diffusers folder, a .safetensors/.ckpt file, an upscaler .pth, or a hub id.

    Weights already registered (same sha256, e.g. by a colleague's machine on a shared catalogue)
    add no second model: this machine's path for them is recorded instead."""
    from atlas.core.actions import models

    facts = models.add(open_catalogue(ctx), source, name, licence_id, kind, pipeline_config)
    if as_json:
        echo_json(facts)
    elif facts["new"]:
        echo(f"registered {facts['name']} ({facts['kind']}, {facts['short_hash']}, {facts['licence']})")
    else:
        echo(f"{facts['name']} ({facts['short_hash']}) is already registered with these weights; "
             f"this machine's copy is {facts['local_path']}")


@model.command("list")
@json_option
@click.pass_context
def list_models(ctx, as_json):
    """List registered models. The demo model appears once it has been used."""
    from atlas.core.actions import models

    rows = models.registered(open_catalogue(ctx))
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no models registered yet (the demo model is built on first use)")
    for m in rows:
        label = " [demo: random weights]" if m["demo"] else ""
        echo(f"{m['name']:<28} {m['kind']:<10} {m['short_hash']}  {m['licence']}{label}")
