"""The pane beside the results that previews the render under the cursor, from the thumbnail cache."""

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from atlas.tui.widgets.preview import Preview

EDGE = 256  # thumbnail pixels: a 36-cell pane shows 34x17 half-block cells, 34x34 "pixels"; sixel more


class PreviewPane(Vertical):
    def __init__(self, mode: str, **kwargs):
        super().__init__(**kwargs)
        self.mode = mode
        self.render_id: int | None = None

    def compose(self) -> ComposeResult:
        yield Preview(self.mode, edge=EDGE, id="pane-preview")
        yield Static("", id="pane-caption")

    @property
    def preview(self) -> Preview:
        return self.query_one(Preview)

    def follow(self, render_id: int | None, path: Path | None, caption: str = "") -> None:
        """Preview `render_id` (its file at `path`); the same render again changes nothing."""
        if render_id == self.render_id and render_id is not None:
            return
        self.render_id = render_id
        self.query_one("#pane-caption", Static).update(caption)
        if render_id is None:
            self.preview.show(None, "no render")
        else:
            self.preview.show(path)
