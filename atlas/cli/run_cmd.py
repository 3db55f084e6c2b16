"""`atlas run RECIPE` / `atlas run --resume RUN_ID`, and `atlas demo` (the shipped demo recipe)."""

import time

import click

from atlas.cli.common import echo_json, open_catalogue
from atlas.cli.generate_cmd import render_info


def print_run(catalogue, run, as_json, started):
    from atlas.core.record.build import describe, get_render

    elapsed = round(time.monotonic() - started, 3)
    facts = {"run": {"id": run.id, "recipe_name": run.recipe_name, "status": run.status,
                     "seed": run.recipe.get("seed"), "model": run.recipe.get("model"),
                     "final_render_id": run.final_render_id, "elapsed_s": elapsed},
             "final_render_id": run.final_render_id}
    if as_json:
        with catalogue.session() as session:
            facts["render"] = describe(session, get_render(session, run.final_render_id), catalogue)
        echo_json(facts)
    else:
        click.echo(f"run {run.id} {run.status} in {elapsed:.1f} s: final render {run.final_render_id}")


@click.command()
@click.argument("recipe", required=False)
@click.option("--resume", "resume_id", type=int, help="Continue run RUN_ID at its first unfinished pass.")
@click.option("--model", "model_name", help="Checkpoint for every pass (overrides the recipe).")
@click.option("--seed", type=int, help="Seed of the first pass (pass k uses seed + k); -1 draws one.")
@click.option("--upscaler", help="Upscaler for every SD upscale pass: registered name, .pth/.safetensors, Lanczos.")
@click.option("--licence", help="Output licence id (default from config, else CC0-1.0).")
@click.option("--author", help="Who made it (default from config).")
@click.option("--title", help="Title given to the run's renders.")
@click.option("--json", "as_json", is_flag=True, help="Print the run and its final render as JSON.")
@click.pass_context
def run(ctx, recipe, resume_id, model_name, seed, upscaler, licence, author, title, as_json):
    """Run RECIPE (a YAML/JSON file or a shipped recipe: demo, futuristic-city) as one recorded run."""
    from atlas.core.record import recipes

    if (recipe is None) == (resume_id is None):
        raise click.UsageError("give a RECIPE or --resume RUN_ID (not both)")
    if resume_id is not None and (model_name or seed is not None or upscaler):
        raise click.UsageError("--resume continues a run with its recorded settings: no --model/--seed/--upscaler")
    loaded = recipes.load(recipe) if recipe is not None else None  # refused here, before any model loads
    if seed is not None:
        from atlas.core.settings import check_seed

        check_seed(seed)
    catalogue = open_catalogue(ctx)
    info = render_info(catalogue, title, author, licence)
    from atlas.cli.progress import run_progress
    from atlas.engine import runner

    started = time.monotonic()
    with run_progress() as progress:
        if loaded is not None:
            result = runner.run_recipe(catalogue, loaded, model=model_name, seed=seed, upscaler=upscaler,
                                       info=info, progress=progress)
        else:
            result = runner.resume(catalogue, resume_id, info=info, progress=progress)
    print_run(catalogue, result, as_json, started)


@click.command()
@click.option("--seed", type=int, help="Seed of the first pass (default: drawn at random, recorded).")
@click.option("--json", "as_json", is_flag=True, help="Print the run and its final render as JSON.")
@click.pass_context
def demo(ctx, seed, as_json):
    """Run the shipped `demo` recipe end to end on the embedded demo model and show the result."""
    from atlas.cli.progress import run_progress
    from atlas.core.record import recipes
    from atlas.core.settings import check_seed
    from atlas.engine import runner

    if seed is not None:
        check_seed(seed)  # named as --seed, not as a path inside a recipe the user never wrote
    loaded = recipes.load("demo")
    catalogue = open_catalogue(ctx)
    info = render_info(catalogue, "atlas demo render", None, None)
    started = time.monotonic()
    with run_progress() as progress:
        result = runner.run_recipe(catalogue, loaded, seed=seed, info=info, progress=progress)
    if as_json:
        print_run(catalogue, result, True, started)
    else:
        from atlas.cli.show_cmd import show_render
        from atlas.core.actions import detail

        show_render(detail.show(catalogue, result.final_render_id))
        click.echo(f"run {result.id} {result.status} in {time.monotonic() - started:.1f} s")
