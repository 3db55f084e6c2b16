"""`atlas tui` run for real in a terminal (tmux): keys in, screen text out, a clean exit."""

import os
import sys
import time

import pytest

from tests.support import tui_catalogue
from tests.support.tmux_driver import Tmux, available

pytestmark = pytest.mark.slow


@pytest.fixture
def terminal():
    if not available():
        if os.environ.get("CI"):
            pytest.fail("tmux is not installed (apt-get install tmux)")
        pytest.skip("tmux is not installed")
    with Tmux(150, 45) as tmux:
        yield tmux


def test_atlas_tui_in_a_real_terminal(catalogue, terminal):
    ids = tui_catalogue.build(catalogue, frozen=False)
    home = str(catalogue.home.root)
    catalogue.close()
    terminal.start([sys.executable, "-m", "atlas.cli.main", "--home", home, "tui", "--images", "halfcell"],
                   env={"TERM": "xterm-256color", "COLUMNS": "150", "LINES": "45"})
    terminal.wait_for("21 renders")
    terminal.wait_for("e export")  # the footer with the action keys
    screen = terminal.capture()
    assert "a red fox in the snow" in screen and "DPM++ 2M Karras" in screen and "? help" in screen

    terminal.keys("/")
    terminal.type("fox")
    terminal.keys("Enter")
    terminal.wait_for("2 renders matching fox")
    screen = terminal.capture()
    assert "a quiet garden with a fox statue" in screen and "a red fox in the snow" in screen
    assert "lighthouse" not in screen

    terminal.keys("/", "C-u")
    terminal.type("steps:abc")
    terminal.wait_for("query error at column 1")
    assert "steps needs a whole number" in terminal.capture()

    terminal.keys("C-u")
    terminal.type("kind:upscale")
    terminal.keys("Enter")
    terminal.wait_for("2 renders matching kind:upscale")
    terminal.keys("Enter")  # the table has the focus: open the newest upscale
    terminal.wait_for("lineage: 17 passes")
    screen = terminal.capture()
    assert f"render {ids['chain'][-1]}" in screen
    assert "outpaint ×14" in screen and "upscale ×2" in screen and "CreativeML Open RAIL-M" in screen
    # The image decodes in a thread and shows (half blocks here). Waiting for "loading preview" to go
    # raced: it passed at once when the capture came before the loading caption had appeared.
    terminal.wait_for("▀")
    assert "loading preview" not in terminal.capture()

    terminal.keys("?")
    terminal.wait_for("Query language")
    terminal.keys("Escape")
    terminal.keys("Escape")
    terminal.wait_for("2 renders matching kind:upscale")
    terminal.keys("q")
    deadline = time.monotonic() + 10
    while not terminal.dead() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert terminal.dead(), terminal.capture()
    assert "Traceback" not in terminal.capture()
