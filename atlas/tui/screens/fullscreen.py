"""One render's image filling the terminal; escape, q or f go back."""

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from atlas.tui.widgets.preview import Preview


class FullScreenPreview(Screen):
    BINDINGS = [Binding("escape,q,f", "close", "back")]

    def __init__(self, render_id: int, path: Path, **kwargs):
        super().__init__(**kwargs)
        self.render_id, self.path = render_id, path

    def compose(self) -> ComposeResult:
        yield Static(f"render {self.render_id}  ·  {self.path}  ·  escape: back", id="title", markup=False)
        yield Preview(self.app.image_mode, id="fullscreen-preview")

    def on_mount(self) -> None:
        self.query_one(Preview).show(self.path)

    def action_close(self) -> None:
        self.app.pop_screen()
