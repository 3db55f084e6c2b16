"""`atlas worker`: take queued runs from the catalogue's PostgreSQL and render them here."""

import logging

import click


@click.command()
@click.option("--concurrency", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Jobs at once on this machine (one process each).")
@click.option("--queue", "queues", multiple=True, help="Take jobs from this queue only (repeatable; default: all).")
@click.option("--stalled-after", type=click.FloatRange(1.5, 3600), default=30.0, show_default=True,
              help="Seconds without a heartbeat after which a worker counts as dead and its job is retried.")
@click.pass_context
def worker(ctx, concurrency, queues, stalled_after):
    """Render queued runs until stopped (Ctrl-C or SIGTERM finish the job in hand first)."""
    from atlas.cli.queue_cmd import queue_catalogue

    if any(not name.strip() for name in queues):
        raise click.BadParameter("a queue needs a name", param_hint="--queue")
    catalogue = queue_catalogue(ctx)
    from atlas.queue import worker as queue_worker
    from atlas.queue.jobs import open_queue

    open_queue(catalogue)  # a SQLite catalogue is refused once, here, not by each process
    if concurrency > 1:
        home = ctx.find_root().obj.get("home")
        arguments = (["--home", home] if home else []) + ["worker", "--stalled-after", str(stalled_after)]
        for name in queues:
            arguments += ["--queue", name]
        ctx.exit(queue_worker.run_processes(arguments, concurrency))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s atlas worker: %(message)s")
    queue_worker.run(catalogue, list(queues) or None, stalled_after)
