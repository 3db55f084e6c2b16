"""Live progress on stderr: a bar with done of total, elapsed and remaining time.

Nothing is drawn when stderr is not a terminal (scripts and logs read the output), except that a
run prints one plain line per pass there.
"""

import sys
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


def _bars(console: Console) -> Progress:
    """The one bar layout: each task says what it counts in its `unit` field."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[unit]}"), TimeElapsedColumn(), TextColumn("eta"),
                    TimeRemainingColumn(), console=console, transient=True)


@contextmanager
def count_progress(label: str, unit: str, enabled: bool = True):
    """Yields a callback(done, total) for work counted in `unit` (steps, files imported, ...)."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield lambda done, total: None
        return
    with _bars(console) as bars:
        task = bars.add_task(label, total=None, unit=unit)
        yield lambda done, total: bars.update(task, completed=done, total=total)


def step_progress(label: str, enabled: bool = True):
    """Yields a callback(step, total) for the engine's sampling steps."""
    return count_progress(label, "steps", enabled)


@contextmanager
def run_progress():
    """Yields a RunProgress for the runner: pass i of N, and step j of M of the current pass."""
    from atlas.engine.runner import RunProgress

    console = Console(stderr=True)

    class Lines(RunProgress):
        def start_pass(self, index, total, label):
            print(f"pass {index} of {total}: {label}", file=sys.stderr, flush=True)

    if not console.is_terminal:
        yield Lines()
        return
    with _bars(console) as bars:
        passes = bars.add_task("run", total=None, unit="passes")
        steps = bars.add_task("", total=None, unit="steps")

        class Live(RunProgress):
            def start_pass(self, index, total, label):
                bars.update(passes, completed=index - 1, total=total, description=f"pass {index} of {total}")
                bars.reset(steps, total=None, description=f"  {label}")

            def step(self, done, total):
                bars.update(steps, completed=done, total=total)

        yield Live()
