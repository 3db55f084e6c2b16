"""A live progress display on stderr: pass i of N, step j of M, elapsed and remaining time."""

from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


@contextmanager
def step_progress(label: str, enabled: bool = True):
    """Yields a callback(step, total) for the engine; `label` may be changed per pass."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield lambda step, total: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("steps"),
                  TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=console,
                  transient=True) as progress:
        task = progress.add_task(label, total=None)

        def update(step: int, total: int, description: str | None = None):
            progress.update(task, completed=step, total=total,
                            **({"description": description} if description else {}))

        yield update


@contextmanager
def count_progress(label: str, unit: str, enabled: bool = True):
    """Yields a callback(done, total) for work counted in items (files imported, ...)."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield lambda done, total: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit),
                  TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=console,
                  transient=True) as progress:
        task = progress.add_task(label, total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)
