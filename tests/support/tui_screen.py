"""What a running Textual app shows (its screen as text, via the public SVG screenshot) and what it notified."""

import html
import re
from weakref import WeakKeyDictionary

from rich.cells import cell_len

# One run of same-styled cells in Rich's SVG export: its x and width in pixels, its row, its text.
SVG_TEXT = re.compile(r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="([\d.]+)" '
                      r'clip-path="url\(#[^)]*-line-(\d+)\)">([^<]*)</text>')
# The notifications each app raised, while record_notifications spies on them.
_shown: WeakKeyDictionary = WeakKeyDictionary()


def screen_text(app) -> str:
    """The screen as text, one line per row, rebuilt from the app's SVG screenshot."""
    width, height = app.size
    rows = [[" "] * width for _ in range(height)]
    for x, length, row, escaped in SVG_TEXT.findall(app.export_screenshot()):
        text = html.unescape(escaped).replace("\xa0", " ")  # the export writes spaces as &#160;
        if text == "\n":  # each row's line break, after its last cell
            continue
        column = round(float(x) / (float(length) / len(text)))  # textLength is len(text) cell widths
        for char in text:
            rows[int(row)][column] = char
            for covered in range(1, cell_len(char)):  # a wide character covers the next cell too
                rows[int(row)][column + covered] = ""
            column += cell_len(char)
    return "\n".join("".join(row) for row in rows)


def record_notifications(monkeypatch, app_class) -> None:
    """Spy on `app_class.notify` for `messages`: each call is kept, then passed on to the real method.
    (Textual's run_test turns toasts off, and keeps no public list of notifications.)"""
    real = app_class.notify

    def notify(self, message, *args, **kwargs):
        _shown.setdefault(self, []).append(message)
        return real(self, message, *args, **kwargs)

    notify.records = True
    monkeypatch.setattr(app_class, "notify", notify)


def messages(app) -> list[str]:
    """Every notification `app` has raised so far, oldest first (the tui_notices fixture records them)."""
    if not getattr(type(app).notify, "records", False):
        raise RuntimeError("messages() needs the tui_notices fixture")
    return list(_shown.get(app, []))
