"""Control characters from prompts, titles and imported files never reach the terminal raw: every
human-readable output shows them as escapes (atlas.core.terminal); JSON output is unchanged."""

import json
import re

import pytest

from atlas.core import terminal
from atlas.core.files import png
from tests.support.hostile import run_capped
from tests.support.pngs import small_png

HOSTILE = "pwn\x1b[2J\x1b]0;pwn\x07\r\x00\x7f\x9b\u202e end"
RAW = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]")  # C0 (not \n \t), DEL, C1, bidi


def _raw_controls(data: bytes) -> list[bytes]:
    return RAW.findall(data)


def test_safe_shows_every_control_character():
    shown = terminal.safe(HOSTILE + "\n\tx")
    assert not terminal.has_unsafe(shown, multiline=False)
    assert "\\x1b[2J" in shown and "\\x07" in shown and "\\x0d" in shown and "\\x00" in shown
    assert "\\x9b" in shown and "\\u202e" in shown and "\\x0a\\x09x" in shown
    assert terminal.safe("a\n\tb\rc", multiline=True) == "a\n\tb\\x0dc"
    assert terminal.safe("plain ✓ 灯台") == "plain ✓ 灯台"


@pytest.fixture
def hostile_png(tmp_path):
    """A third-party PNG (A1111 parameters) whose prompt, parameters and other text carry control characters."""
    parameters = f"{HOSTILE}\nNegative prompt: bad{HOSTILE}\nSteps: 20, Sampler: Euler{HOSTILE}, Seed: 1"
    path = tmp_path / "third party.png"
    chunks = [png.text_chunk("parameters", parameters), png.text_chunk("Comment", HOSTILE)]
    path.write_bytes(png.with_text(small_png(16, 16), chunks))
    return path


def _atlas(tmp_path, *args):
    done, _ = run_capped(*args, home=tmp_path / "home", timeout=120)
    return done


def test_imported_file_text_reaches_no_terminal_raw(tmp_path, hostile_png):
    done = _atlas(tmp_path, "inspect", hostile_png)
    assert done.returncode == 0 and b"\\x1b[2J" in done.stdout
    assert _raw_controls(done.stdout + done.stderr) == []
    done = _atlas(tmp_path, "import", hostile_png)
    assert done.returncode == 0, done.stderr
    for args in (("list",), ("search", "pwn"), ("show", "1"), ("verify", "1"), ("verify", hostile_png),
                 ("model", "list"), ("tag", "1", "+x")):
        done = _atlas(tmp_path, *args)
        assert done.returncode in (0, 1), (args, done.stderr)
        assert _raw_controls(done.stdout + done.stderr) == [], args
    shown = _atlas(tmp_path, "show", "1").stdout
    assert b"\\x1b]0;pwn\\x07" in shown


def test_json_output_keeps_the_text(tmp_path, hostile_png):
    done = _atlas(tmp_path, "inspect", "--json", hostile_png)
    assert json.loads(done.stdout)["text"]["Comment"] == HOSTILE
    # Same values, but nothing a terminal acts on: JSON escapes C0 itself; DEL, C1 and the
    # line/paragraph separators are escaped too (the bidi override is printable text in JSON).
    bidi = re.compile(rb"\xe2\x80[\xaa-\xae]")
    assert [c for c in _raw_controls(done.stdout) if not bidi.fullmatch(c)] == []
    assert b"\\u009b" in done.stdout and b"\\u007f" in done.stdout


def test_error_messages_show_escapes(tmp_path):
    path = tmp_path / "bad\x1b[2Jname.png"
    path.write_bytes(b"not an image")
    done = _atlas(tmp_path, "inspect", path)
    assert done.returncode == 2 and b"bad\\x1b[2Jname.png" in done.stderr
    assert _raw_controls(done.stderr) == []


def test_render_with_hostile_prompt_and_title(catalogue, cli):
    """A render written through the real write path (no model: the pixels are given), with control
    characters in its prompt, negative prompt, title and tags."""
    from atlas.core.catalogue.tables import Pass
    from atlas.core.record.write import RenderInfo, begin_pass, finish_pass

    step = Pass(kind="txt2img", prompt=HOSTILE, negative_prompt=HOSTILE, seed=1, sampler="Euler", steps=2, cfg=7.0,
                width=16, height=16, software={"atlas": "test"}, device="cpu", settings={})
    render = finish_pass(catalogue, begin_pass(catalogue, step), small_png(16, 16), 16, 16,
                         RenderInfo(title=HOSTILE, author=HOSTILE, licence_id="CC0-1.0"))
    for args in (("show", render.id), ("list",), ("search", "pwn"), ("verify", render.id),
                 ("show", "--wikitext", render.id)):
        result = cli(*args)
        assert result.code in (0, 1), (args, result.err)
        assert _raw_controls((result.out + result.err).encode()) == [], args
    assert "\\x1b]0;pwn\\x07" in cli("show", render.id).out
    assert json.loads(cli("show", "--json", render.id).out)["record"]["render"]["title"] == HOSTILE


def test_tui_text_shows_escapes(catalogue):
    """Textual strips BEL, BS, VT, FF and CR only: ESC, NUL and C1 would reach the terminal."""
    from atlas.core.actions import detail, listing
    from atlas.core.catalogue.tables import Pass
    from atlas.core.record.write import RenderInfo, begin_pass, finish_pass
    from atlas.tui.widgets.detail_pane import facts_text
    from atlas.tui.widgets.results import COLUMNS, cells

    step = Pass(kind="txt2img", prompt=HOSTILE, seed=1, sampler="Euler", steps=2, cfg=7.0, width=16, height=16,
                software={"atlas": "test"}, device="cpu", settings={})
    render = finish_pass(catalogue, begin_pass(catalogue, step), small_png(16, 16), 16, 16,
                         RenderInfo(title=HOSTILE, licence_id="CC0-1.0"))
    shown = facts_text(detail.detail(catalogue, render.id))
    assert "\\x1b[2J" in shown and not terminal.has_unsafe(shown, multiline=True)
    row = listing.page(catalogue, "")[0]
    assert not any(terminal.has_unsafe(cell.plain, multiline=False) for cell in cells(row, COLUMNS))
