"""The image preview: textual-image picks sixel / kitty graphics / half blocks for the terminal;
`halfcell` forces half-block rendering, which works in any terminal (and keeps snapshots stable)."""

import os
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.containers import Container
from textual.widgets import Static

THUMBNAIL = (384, 384)  # pixels: plenty for a terminal pane, and big files decode once, small


def image_class(mode: str):
    from textual_image.widget import HalfcellImage, Image

    return HalfcellImage if mode == "halfcell" else Image


def default_mode() -> str:
    return os.environ.get("ATLAS_TUI_IMAGES", "auto")


class Preview(Container):
    """Shows one image file, decoded to a thumbnail in a thread so the UI never waits on it."""

    def __init__(self, mode: str = "auto", **kwargs):
        super().__init__(**kwargs)
        self.mode = mode
        self.path: Path | None = None

    def compose(self) -> ComposeResult:
        yield Static("no image", id="preview-note")

    def show(self, path: Path | None, missing_note: str | None = None) -> None:
        self.path = path
        note = self.query_one("#preview-note", Static)
        for old in self.query(".preview-image"):
            old.remove()
        if path is None or not path.is_file():
            note.update(missing_note or "file missing from the store")
            note.display = True
            return
        note.update("loading preview…")
        note.display = True
        self.load(path)

    @work(thread=True, exclusive=True, group="preview")
    def load(self, path: Path) -> None:
        from PIL import Image as PILImage

        try:
            with PILImage.open(path) as image:
                image.draft("RGB", THUMBNAIL)
                thumb = image.convert("RGB")
                thumb.thumbnail(THUMBNAIL)
        except OSError as exc:
            self.app.call_from_thread(self.failed, f"cannot read the image: {exc}")
            return
        self.app.call_from_thread(self.put, path, thumb)

    def failed(self, message: str) -> None:
        self.query_one("#preview-note", Static).update(message)

    def put(self, path: Path, thumb) -> None:
        if path != self.path:  # the user moved on meanwhile
            return
        self.query_one("#preview-note", Static).display = False
        self.mount(image_class(self.mode)(thumb, classes="preview-image"))
