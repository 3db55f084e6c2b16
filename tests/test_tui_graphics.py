"""The terminal is asked what pictures it shows in a child process before Textual starts, and
textual-image is loaded later without asking again (`atlas/tui/graphics.py`).

The terminal here is a pseudo-terminal scripted from the VT standards: a DA1 answer whose
attributes include 4 has sixel graphics, `CSI 16 t` is answered `CSI 6 ; height ; width t`
(cell pixels), and a kitty graphics query is answered `APC G i=ID ; OK ST`.
"""

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from atlas.tui import graphics

ROOT = Path(__file__).resolve().parents[1]
DA1 = b"\x1b[c"
CELL_SIZE = b"\x1b[16t"
KITTY_QUERY = re.compile(rb"\x1b_Gi=(\d+),[^;]*;AAAA\x1b\\")


def scripted_terminal(argv: list[str], answer, pixels: tuple[int, int] = (0, 0), pass_fds=()) -> bytes:
    """Run `argv` on a pseudo-terminal of 80x24 cells (`pixels`: its size in pixels as the kernel
    keeps it; 0: unknown); `answer(written)` gives the bytes the terminal sends back (or None) each
    time the program writes. Returns all the program wrote."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, *pixels))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TEXTUAL_CELL_WIDTH", None)
    env.pop("TEXTUAL_CELL_HEIGHT", None)
    child = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, pass_fds=pass_fds,
                             start_new_session=True)
    os.close(slave)
    written = b""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                written += chunk
                reply = answer(written)
                if reply:
                    os.write(master, reply)
            elif child.poll() is not None:
                break
        else:
            raise AssertionError(f"{argv} did not finish; it wrote {written!r}")
    finally:
        child.kill() if child.poll() is None else None
        child.wait()
        os.close(master)
    return written


class Terminal:
    """Answers each question once, as a terminal with the given abilities would."""

    def __init__(self, sixel: bool = False, kitty: bool = False, cell: tuple[int, int] | None = None):
        self.sixel, self.kitty, self.cell = sixel, kitty, cell
        self.answered: set[str] = set()

    def __call__(self, written: bytes) -> bytes | None:
        if DA1 in written and "da1" not in self.answered:
            self.answered.add("da1")
            return b"\x1b[?62;4;22c" if self.sixel else b"\x1b[?62;22c"
        query = KITTY_QUERY.search(written)
        if query and self.kitty and "kitty" not in self.answered:
            self.answered.add("kitty")
            return b"\x1b_Gi=" + query.group(1) + b";OK\x1b\\"
        if CELL_SIZE in written and self.cell and "cell" not in self.answered:
            self.answered.add("cell")
            return b"\x1b[6;%d;%dt" % (self.cell[1], self.cell[0])
        return None


def probe(terminal: Terminal, pixels=(0, 0)) -> dict:
    read_end, write_end = os.pipe()
    scripted_terminal([sys.executable, "-m", "atlas.tui.graphics_probe", str(write_end)], terminal, pixels,
                      pass_fds=(write_end,))
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        return json.loads(pipe.read())


@pytest.mark.parametrize("terminal, renderer", [(Terminal(sixel=True, cell=(9, 17)), "sixel"),
                                                (Terminal(kitty=True, cell=(9, 17)), "tgp"),
                                                (Terminal(cell=(9, 17)), "halfcell")])
def test_the_child_finds_what_the_terminal_shows(terminal, renderer):
    assert probe(terminal) == {"renderer": renderer, "cell_width": 9, "cell_height": 17}


def test_the_cell_size_comes_from_the_kernel_when_it_knows_the_pixels():
    # 80x24 cells in 720x408 pixels: 9x17 each, and the terminal is never asked for it.
    terminal = Terminal()
    assert probe(terminal, pixels=(720, 408)) == {"renderer": "halfcell", "cell_width": 9, "cell_height": 17}
    assert "cell" not in terminal.answered


LATER = """
import sys
from atlas.tui import graphics
if sys.argv[1] != "none":
    graphics.use(graphics.Answers(sys.argv[1], 9, 17))
cls = graphics.widget_class(sys.argv[2])
from textual_image._terminal import get_cell_size
size = get_cell_size()
sys.stdout.write(f"LOADED {cls.__module__}.{cls.__name__} {size.width}x{size.height}\\n")
"""


@pytest.mark.parametrize("answer, mode, widget, cell", [
    ("sixel", "auto", "textual_image.widget.sixel.Image", "9x17"),
    ("tgp", "auto", "textual_image.widget.TGPImage", "9x17"),
    ("halfcell", "auto", "textual_image.widget.HalfcellImage", "9x17"),
    ("sixel", "halfcell", "textual_image.widget.HalfcellImage", "9x17"),
    # --images halfcell: no child asked; the cell size from the kernel's pixels (720x408 / 80x24)
    ("none", "halfcell", "textual_image.widget.HalfcellImage", "9x17"),
])
def test_loading_textual_image_later_asks_the_terminal_nothing(answer, mode, widget, cell):
    """What Textual would see on stdin had the import asked: any question written is a failure."""
    terminal = Terminal(sixel=True, cell=(30, 60))  # would answer differently from the child's answers
    written = scripted_terminal([sys.executable, "-c", LATER, answer, mode], terminal, pixels=(720, 408))
    text = written.decode(errors="replace")
    assert f"LOADED {widget} {cell}" in text, text
    assert terminal.answered == set(), f"the terminal was asked: {written!r}"
    assert b"\x1b" not in written, written


def test_a_broken_or_silent_child_means_half_blocks():
    assert graphics.parse(b"") is None
    assert graphics.parse(b'{"renderer": "sixel"}') is None
    assert graphics.parse(b'{"renderer": "ansi-art", "cell_width": 9, "cell_height": 17}') is None
    assert graphics.parse(b'{"renderer": "sixel", "cell_width": 0, "cell_height": 17}') is None
    assert graphics.parse(b'{"renderer": "tgp", "cell_width": 9, "cell_height": 17}') == graphics.Answers("tgp", 9, 17)


def test_the_first_screen_of_atlas_tui_loads_no_numpy(tmp_path):
    """`atlas tui --images halfcell` in a real terminal, on renders with no files to preview:
    numpy (textual-image's) is not in the process after its first screen."""
    from atlas.core.catalogue import Catalogue
    from atlas.core.catalogue.home import Home
    from tests.support.tmux_driver import Tmux, available
    from tests.support.varied_catalogue import fill

    if not available():
        pytest.skip("tmux is not installed")
    home = Home.resolve(tmp_path / "home")
    Catalogue.open(home).close()
    fill(home.database_path, 50)
    with Tmux(170, 40) as terminal:  # wide: the preview pane shows beside the list
        # -P: atlas from PYTHONPATH, never from the current folder
        terminal.start([sys.executable, "-P", "-m", "atlas.cli.main", "--home", str(home.root), "tui", "--images",
                        "halfcell"],
                       env={"TERM": "xterm-256color", "PYTHONPATH": str(ROOT), "COLUMNS": "170", "LINES": "40"})
        terminal.wait_for("renders", timeout=60)
        terminal.wait_for("file missing")  # the pane has looked at the first row
        maps = Path(f"/proc/{terminal.pid()}/maps").read_text()
        assert "textual" in maps or "python" in maps  # the app's own process, not a shell
        assert "numpy" not in maps
        terminal.keys("q")


def test_atlas_tui_asks_the_terminal_in_a_child_and_shows_pictures(catalogue):
    """`atlas tui` with pictures on auto, end to end in tmux (which answers DA1 without sixel): the
    child asks, the preview shows the picture in half blocks, nothing of the terminal's answers shows
    as typed text, and q quits. That the late import asks nothing is checked on the scripted terminal
    above: here Textual would swallow a stray answer."""
    from tests.support import tui_catalogue
    from tests.support.tmux_driver import Tmux, available

    if not available():
        pytest.skip("tmux is not installed")
    ids = tui_catalogue.build(catalogue, frozen=False)
    home = str(catalogue.home.root)
    catalogue.close()
    env = {"TERM": "xterm-256color", "PYTHONPATH": str(ROOT), "COLUMNS": "180", "LINES": "45",
           "ATLAS_TUI_IMAGES": "auto"}
    with Tmux(180, 45) as terminal:
        terminal.start([sys.executable, "-P", "-m", "atlas.cli.main", "--home", home, "tui"], env=env)
        terminal.wait_for("21 renders")
        terminal.wait_for(f"render {ids['chain'][-1]} ·")
        terminal.wait_for("▀")  # the picture, in half blocks
        screen = terminal.capture()
        search_line = next(line for line in screen.splitlines() if "search" in line)
        assert "?" not in search_line and ";" not in search_line, screen  # no "[?62;22c" typed in
        assert "Traceback" not in screen
        terminal.keys("q")
        assert terminal.wait_dead(), terminal.capture()
