"""`atlas tui` run for real in a terminal (tmux): keys in, screen text out, a clean exit."""

import os
import sys

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

    terminal.enter_text("/", "fox")  # retried: keys sent while the app answers the terminal's queries can drop
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
    terminal.keys("Tab", "Enter")  # the focus stays in the search bar until tab: open the newest upscale
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
    assert terminal.wait_dead(), terminal.capture()
    assert "Traceback" not in terminal.capture()


def test_selected_rows_export_as_one_batch_and_a_rerun_keeps_the_shown_render(demo_catalogue, terminal, tmp_path):
    """Select two rows (space), export them into one upload batch; then re-run from a detail screen
    and check that its keys still act on the render it shows, not on the new one."""
    import json

    from atlas.core.record.write import RenderInfo
    from atlas.engine.generate import Txt2ImgRequest, generate

    catalogue = demo_catalogue
    ids = tui_catalogue.build(catalogue, frozen=False)
    source = generate(catalogue, Txt2ImgRequest(prompt="a small harbour", steps=4, width=64, height=64, seed=5,
                                                model="atlas-demo-tiny-sd"), RenderInfo(licence_id="CC0-1.0")).id
    home = str(catalogue.home.root)
    catalogue.close()
    target = tmp_path / "upload"
    terminal.start([sys.executable, "-m", "atlas.cli.main", "--home", home, "tui", "--images", "halfcell"],
                   env={"TERM": "xterm-256color", "COLUMNS": "150", "LINES": "45"})
    terminal.wait_for("22 renders")
    terminal.enter_text("/", "lighthouse OR garden")
    terminal.keys("Enter")
    terminal.wait_for("2 renders matching lighthouse OR garden")
    terminal.keys("Tab", "space", "space")
    terminal.wait_for("2 selected")
    terminal.keys("e")
    terminal.wait_for("Folder to write 2 renders")
    terminal.keys("C-u")
    terminal.type(str(target))
    terminal.keys("Enter")
    terminal.wait_for("2 renders exported to")
    rows = [json.loads(line) for line in (target / "batch.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(row["render_id"] for row in rows) == sorted([ids["singles"][1], ids["singles"][2]])

    terminal.keys("Escape")  # clears the selection
    terminal.enter_text("/", f"id:{source}")
    terminal.keys("Enter")
    terminal.wait_for(f"1 render matching id:{source}")
    terminal.keys("Tab", "Enter")
    terminal.wait_for("lineage: 1 pass")
    terminal.keys("r")
    terminal.wait_for(f"Re-run render {source}")
    terminal.keys("Enter")  # a blank seed: a random one
    terminal.wait_for(f"made from the settings of render {source}", timeout=120)
    terminal.keys("c", "a")
    terminal.wait_for(f"A1111 parameters of render {source}")
    screen = terminal.capture()
    assert "a small harbour" in screen and "Seed: 5," in screen
    terminal.keys("Escape", "Escape")
    terminal.enter_text("/", "harbour")
    terminal.keys("Enter")
    terminal.wait_for("2 renders matching harbour")  # the source and the re-run made from it
    terminal.keys("Tab", "q")  # in the search bar q is a letter: from the results it quits
    assert terminal.wait_dead(), terminal.capture()
    assert "Traceback" not in terminal.capture()


def test_preview_pane_follows_the_cursor_and_facets_narrow_the_query(catalogue, tmp_path):
    """At 180 columns the preview pane shows beside the list; F opens the facets, enter narrows."""
    if not available():
        pytest.skip("tmux is not installed")
    ids = tui_catalogue.build(catalogue, frozen=False)
    home = str(catalogue.home.root)
    catalogue.close()
    with Tmux(180, 45) as terminal:
        terminal.start([sys.executable, "-m", "atlas.cli.main", "--home", home, "tui", "--images", "halfcell"],
                       env={"TERM": "xterm-256color", "COLUMNS": "180", "LINES": "45"})
        terminal.wait_for("21 renders")
        newest, second = ids["chain"][-1], ids["chain"][-2]  # the chain was written last: newest first
        terminal.wait_for(f"render {newest} ·")  # the pane's caption, beside the list
        terminal.wait_for("▀")  # its thumbnail, in half blocks
        terminal.keys("Down")
        terminal.wait_for(f"render {second} ·")
        terminal.wait_for("row 2 of 21")
        assert f"render {newest} ·" not in terminal.capture()

        terminal.keys("F")
        terminal.wait_for("facets: enter narrows")
        screen = terminal.capture()
        assert "samplers" in screen and "licences" in screen and "best" in screen
        terminal.keys("Enter")  # the first value: tag best (single renders 1 and 3)
        terminal.wait_for('2 renders matching tag:"best"')
        assert any('tag:"best"' in line for line in terminal.capture().splitlines()[:4])  # in the search bar
        terminal.wait_for(f"render {ids['singles'][2]} ·")  # the pane follows the new first row
        terminal.keys("F", "q")
        assert terminal.wait_dead(), terminal.capture()
        assert "Traceback" not in terminal.capture()
