"""`atlas queue add|list|cancel`: runs handed to workers through the catalogue's PostgreSQL."""

import click

from atlas.cli.common import echo, echo_json, open_catalogue

PRIORITY = click.IntRange(-(2**31), 2**31 - 1)


def queue_catalogue(ctx):
    """The catalogue, refused (exit 2) unless it is on PostgreSQL and procrastinate is installed."""
    from atlas.queue.database import require

    catalogue = open_catalogue(ctx)
    require(catalogue)
    return catalogue


@click.group()
def queue():
    """Queue recipe runs for `atlas worker` processes (the catalogue must be on PostgreSQL)."""


@queue.command("add")
@click.argument("recipe")
@click.option("--seed", type=int, help="Seed of the first pass (pass k uses seed + k); -1 draws one, recorded now.")
@click.option("--priority", type=PRIORITY, default=0, show_default=True, help="Higher runs first.")
@click.option("--queue", "queue_name", help="Queue to put the job in (default: renders).")
@click.option("--licence", help="Output licence id (default from config, else CC0-1.0).")
@click.option("--author", help="Who made it (default from config).")
@click.option("--title", help="Title given to the run's renders.")
@click.option("--json", "as_json", is_flag=True, help="Print the queued run as JSON.")
@click.pass_context
def add(ctx, recipe, seed, priority, queue_name, licence, author, title, as_json):
    """Record RECIPE as a run, checked like `atlas run` but not rendered, and queue it."""
    from atlas.core.record import recipes

    loaded = recipes.load(recipe)  # refused here, before the catalogue opens
    if seed is not None:
        from atlas.core.settings import check_seed

        check_seed(seed)
    if queue_name is not None and not queue_name.strip():
        raise click.BadParameter("a queue needs a name", param_hint="--queue")
    catalogue = queue_catalogue(ctx)
    from atlas.cli.generate_cmd import render_info
    from atlas.queue import jobs

    queued = jobs.add(catalogue, loaded, seed=seed, priority=priority, queue=queue_name,
                      info=render_info(catalogue, title, author, licence))
    if as_json:
        echo_json(queued)
    else:
        echo(f"run {queued['run_id']} queued in {queued['queue']} (job {queued['job_id']}, seed {queued['seed']})")


@queue.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def list_queue(ctx, as_json):
    """Queued, running, failed, done and cancelled runs, with the worker that took each."""
    catalogue = queue_catalogue(ctx)
    from atlas.queue import jobs

    rows = jobs.listing(catalogue)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        echo("the queue is empty")
        return
    for row in rows:
        final = f" final render {row['final_render_id']}" if row["final_render_id"] else ""
        error = f" ({row['error']})" if row["state"] in ("failed", "cancelled") and row["error"] else ""
        echo(f"run {row['run_id']:>5}  {row['state']:<9} {row['recipe_name'] or '-'}  queue {row['queue_name']}"
             f"  priority {row['priority']}  worker {row['worker'] or '-'}{final}{error}")


@queue.command("cancel")
@click.argument("run_id", type=int)
@click.pass_context
def cancel(ctx, run_id):
    """Cancel queued run RUN_ID; a running one stops at its next step, keeping its finished passes."""
    catalogue = queue_catalogue(ctx)
    from atlas.queue import jobs

    done = jobs.cancel(catalogue, run_id)
    echo(f"run {run_id} cancelled" if done == "cancelled" else f"run {run_id}: its worker stops at the next step")
