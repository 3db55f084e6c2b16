"""A progress line for background work (re-runs): label plus bar, hidden when idle."""

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar


class JobBar(Horizontal):
    def compose(self) -> ComposeResult:
        yield Label("", id="job-label")
        yield ProgressBar(total=None, show_eta=True, id="job-progress")

    def on_mount(self) -> None:
        self.sync(getattr(self.app, "job", None))  # a screen opened mid-job shows it too

    def sync(self, job: dict | None) -> None:
        """Show `job` ({"label", "done", "total"}), or hide when there is none."""
        self.display = job is not None
        if job is None:
            return
        self.query_one("#job-label", Label).update(job["label"])
        self.query_one(ProgressBar).update(total=job["total"], progress=job["done"])
