"""A progress line for background work (re-runs): label plus bar, hidden when idle."""

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar


class JobBar(Horizontal):
    def compose(self) -> ComposeResult:
        yield Label("", id="job-label")
        yield ProgressBar(total=None, show_eta=True, id="job-progress")

    def on_mount(self) -> None:
        self.display = False

    def start(self, label: str) -> None:
        self.query_one("#job-label", Label).update(label)
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.display = True

    def step(self, done: int, total: int) -> None:
        self.query_one(ProgressBar).update(total=total, progress=done)

    def finish(self) -> None:
        self.display = False
