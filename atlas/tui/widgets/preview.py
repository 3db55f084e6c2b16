"""The image preview: textual-image picks sixel / kitty graphics / half blocks for the terminal;
`halfcell` forces half-block rendering, which works in any terminal (and keeps snapshots stable)."""

import threading
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Container
from textual.widgets import Static

from atlas.tui import graphics

THUMBNAIL = (384, 384)  # pixels: plenty for a terminal pane, and big files decode once, small


class Preview(Container):
    """Shows one image file, decoded in a thread so the UI never waits on it.

    Requests go into one slot that a single worker drains: while it decodes, newer requests replace
    each other there, so a cursor moving fast costs one decode in flight plus the latest, never a
    queue; a decode finished for a file no longer wanted is dropped. With `edge`, the picture comes
    from the app's thumbnail cache (`atlas.core.thumbnails`, on disk, found by content) at that size.
    """

    def __init__(self, mode: str = "auto", edge: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.mode = mode
        self.edge = edge
        self.path: Path | None = None
        self.shown: Path | None = None  # the file whose picture is on screen
        self.decodes = 0  # pictures decoded (tests and the benchmark count the work skipped)
        self._lock = threading.Lock()
        self._wanted: Path | None = None
        self._draining = False

    def compose(self) -> ComposeResult:
        yield Static("no image", id="preview-note")

    def show(self, path: Path | None, missing_note: str | None = None) -> None:
        self.path = path
        self.shown = None
        note = self.query_one("#preview-note", Static)
        for old in self.query(".preview-image"):
            old.display = False  # kept for the next picture: replacing it costs less than a new widget
        if path is None or not path.is_file():
            note.update(missing_note or "file missing from the store")
            note.display = True
            return
        note.update("loading preview…")
        note.display = True
        with self._lock:
            self._wanted = path
            start = not self._draining
            self._draining = True
        if start:
            self.run_worker(self._drain, thread=True, group="preview")

    def _drain(self) -> None:
        """In the worker: decode the wanted file, then whatever was asked for meanwhile, until none is."""
        while True:
            with self._lock:
                path, self._wanted = self._wanted, None
                if path is None:
                    self._draining = False
                    return
            try:
                picture = self._decode(path)
            except Exception as exc:  # a broken file, a full disk for the cache: said in the pane
                self._deliver(self.failed, path, f"cannot read the image: {exc}")
                continue
            self._deliver(self.put, path, picture)

    def _deliver(self, method, path: Path, value) -> None:
        with self._lock:
            stale = self._wanted is not None  # a newer request is waiting: this one is not shown
        if not stale:
            try:
                self.app.call_from_thread(method, path, value)
            except RuntimeError:  # the app is closing
                pass

    def _decode(self, path: Path):
        graphics.widget_class(self.mode)  # the first picture imports textual-image here, off the UI thread
        from PIL import Image as PILImage

        source = path
        if self.edge is not None:
            source = self.app.thumbnails().get(path, self.edge)
        with PILImage.open(source) as image:
            image.draft("RGB", THUMBNAIL)
            thumb = image.convert("RGB")
            thumb.thumbnail(THUMBNAIL)
        self.decodes += 1
        return thumb

    def failed(self, path: Path, message: str) -> None:
        if path == self.path:
            self.query_one("#preview-note", Static).update(message)

    def put(self, path: Path, thumb) -> None:
        if path != self.path:  # the user moved on meanwhile
            return
        self.query_one("#preview-note", Static).display = False
        widget = next(iter(self.query(".preview-image")), None)
        if widget is None:
            self.mount(graphics.widget_class(self.mode)(thumb, classes="preview-image"))
        else:
            widget.image = thumb
            widget.display = True
            widget.refresh(layout=True)  # another picture may have another aspect ratio
        self.shown = path
