"""The TUI's bugs found by trying it as a new user would, each pinned by a Pilot test."""

import sqlite3
import threading
import time

import pytest
from rich.cells import cell_len

from atlas.core.actions import listing
from atlas.core.catalogue import Catalogue
from atlas.tui.app import AtlasApp
from atlas.tui.screens.detail import DetailScreen
from atlas.tui.screens.dialogs import AskDialog, ConfirmDialog, TextDialog
from atlas.tui.screens.main import MainScreen
from tests.support import tui_catalogue
from tests.support.tui_pilot import row_ids, search, settle, status, table_of, to_results
from tests.support.tui_screen import messages, screen_text

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("tui_notices")]

SIZE = (150, 45)


@pytest.fixture
def with_imports(fixed, tmp_path):
    catalogue, ids = fixed
    ids.update(tui_catalogue.add_imports(catalogue, tmp_path / "a1111"))
    return catalogue, ids


async def open_render(pilot, render_id: int) -> None:
    await search(pilot, f"id:{render_id}")
    await to_results(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, DetailScreen) and pilot.app.screen.render_id == render_id


# 1 -------------------------------------------------------------------------------------------------

async def test_after_a_rerun_the_detail_screen_s_actions_stay_on_its_render(fixed):
    catalogue, ids = fixed
    shown, made = ids["singles"][1], ids["singles"][3]
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_render(pilot, shown)
        # what the re-run worker calls on the UI thread when the engine has made render `made`
        app.rerun_done(shown, made)
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.render_id == shown
        assert app.target() == shown
        await pilot.press("c", "a")
        await settle(pilot)
        assert isinstance(app.screen, TextDialog) and app.screen.title_text.endswith(f"render {shown}")
        assert "lighthouse" in app.screen.query_one("#text").text
        assert any(f"render {made} made from the settings of render {shown}" in m for m in messages(app))


# 2 -------------------------------------------------------------------------------------------------

async def test_export_toast_counts_the_files_written(fixed, tmp_path):
    catalogue, ids = fixed
    target = tmp_path / "out"
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#answer").value = str(target)
        await pilot.press("enter")
        await settle(pilot)
    written = len(list(target.iterdir()))
    assert written == 5  # the PNG, its Commons page, its provenance, batch.jsonl and upload.py
    assert any(f"render {ids['chain'][-1]} exported to {target} ({written} files" in m for m in messages(app)), \
        messages(app)


async def test_an_export_error_names_no_command_line_flag(fixed, tmp_path):
    catalogue, _ids = fixed
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#answer").value = str(blocker / "inside")
        await pilot.press("enter")
        await settle(pilot)
    failed = [m for m in messages(app) if "cannot write there" in m]
    assert failed and not any("--to" in m for m in failed), messages(app)
    assert any(m.startswith(f"export folder {blocker / 'inside'}") for m in failed), failed


# 3 -------------------------------------------------------------------------------------------------

async def test_no_cell_is_cut_without_an_ellipsis(with_imports):
    catalogue, _ids = with_imports
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = table_of(app)
        for key in table.rows:
            for column, cell in zip(table.ordered_columns, table.get_row(key), strict=True):
                assert cell_len(str(cell)) <= column.width, (column.key.value, cell, column.width)
        text = screen_text(app)
        assert "1234567890123456789" in text  # a 64-bit seed is shown whole
        assert "v1-5-pruned-emaonly" in text or "v1-5-pruned-emaon…" in text


async def test_a_prompt_with_square_brackets_shows_as_written(home):
    # A1111's prompt syntax and Rich's markup share brackets: `[cat:dog:0.5]` vanished, `[/]` raised.
    from atlas.core.catalogue.tables import Pass
    from atlas.core.record.write import RenderInfo
    from tests.support.tui_catalogue import add_pass, picture

    catalogue = Catalogue.open(home)
    prompts = ["a [b]cat[/b] [cat:dog:0.5]", "closing [/] tag", "[red]red[/red] (word:1.2)"]
    for seed, prompt in enumerate(prompts):
        step = Pass(kind="txt2img", prompt=prompt, seed=seed, sampler="Euler", steps=2, cfg=7.0, width=16,
                    height=16, settings={})
        add_pass(catalogue, None, step, picture(seed, 16, 16), RenderInfo(title=f"r{seed}", licence_id="CC0-1.0"))
    from atlas.core.actions.tagging import tag

    tag(catalogue, [1], add=["[/]x"])
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        await search(pilot, "[/]")  # an error message quoting it
        error = screen_text(app)
        await search(pilot, "tag:[/]x")  # the status line names the query
        await to_results(pilot)
        await pilot.press("F")  # the facets list the tag
        await settle(pilot)
        after = screen_text(app)
    catalogue.close()
    for prompt in prompts:
        assert prompt in text, text
    assert "('[/]')" in error, error
    assert "matching tag:[/]x" in after and after.count("[/]x") >= 2, after  # the status and the tag facet


# 4 -------------------------------------------------------------------------------------------------

async def test_s_picks_a_column_and_shift_s_flips_the_direction(fixed):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = table_of(app)
        await pilot.press("s")
        await settle(pilot)
        assert table.sort == "created" and table.descending
        first = row_ids(app)
        await pilot.press("S")
        await settle(pilot)
        assert table.sort == "created" and not table.descending
        assert row_ids(app) == list(reversed(first))
        assert "sorted by created ▲" in status(app)


async def test_a_typed_sort_replaces_the_column_sort(fixed):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = table_of(app)
        table.sort_by("cfg")
        await settle(pilot)
        await search(pilot, "steps:<=50 sort:seed")
        seeds = [int(str(table.get_row(key)[table.get_column_index("seed")])) for key in table.rows]
        assert seeds == sorted(seeds) and len(seeds) == 5
        assert table.sort is None
        assert "sorted by seed ▲" in status(app) and "cfg" not in status(app)


async def test_cycling_past_the_last_column_clears_the_column_sort(fixed):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        newest_first = row_ids(app)
        table = table_of(app)
        table.sort_by("prompt")
        await settle(pilot)
        assert row_ids(app) != newest_first
        await pilot.press("s")  # after the last column: back to the query's own order
        await settle(pilot)
        assert table.sort is None and row_ids(app) == newest_first
        assert "sorted by" not in status(app)


async def test_sorting_by_model_sorts_imported_renders_too(with_imports):
    catalogue, _ids = with_imports
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = table_of(app)
        table.sort_by("model")
        await settle(pilot)
        if table.descending:
            table.sort_by("model")
            await settle(pilot)
        models = [str(table.get_row(key)[table.get_column_index("model")]) for key in table.rows]
        assert models == sorted(models) and models[-1].startswith("v1-5"), models


# 5 -------------------------------------------------------------------------------------------------

async def test_q_in_the_detail_screen_goes_back_and_quitting_during_a_job_asks(fixed):
    catalogue, ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_render(pilot, ids["singles"][0])
        await pilot.press("q")
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, MainScreen)
        app.set_job({"label": "re-run of render 1", "done": 3, "total": 10})  # what a running re-run shows
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, MainScreen)


# 6 -------------------------------------------------------------------------------------------------

async def test_after_enter_the_focus_stays_in_the_search_bar(fixed):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, "fox")
        assert row_ids(app)  # the query ran
        await pilot.press("r", "e", "d")
        await settle(pilot)
        assert app.screen.query_one("#query").value == "foxred"
        assert app.job is None and not isinstance(app.screen, AskDialog)
        assert not any("re-run" in m for m in messages(app))


# 7 -------------------------------------------------------------------------------------------------

async def test_copy_of_an_imported_a1111_render_keeps_every_field(with_imports):
    catalogue, ids = with_imports
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, f"id:{ids['copied']}")
        await to_results(pilot)
        await pilot.press("c", "a")  # copy: all the parameters
        await settle(pilot)
        text = app.screen.query_one("#text").text
    assert text == tui_catalogue.A1111_INFOTEXT


# 8 -------------------------------------------------------------------------------------------------

async def test_the_caret_sits_under_the_bad_token(fixed):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"fox steps:abc")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        typed = next(line for line in lines if "fox steps:abc" in line)
        caret = next(line for line in lines if line.strip() == "^")
        assert caret.index("^") == typed.index("steps:abc")


# 9 -------------------------------------------------------------------------------------------------

async def test_end_goes_to_the_last_of_all_rows_and_the_status_says_where(catalogue):
    from tests.benchmarks import make_catalogue

    catalogue.close()
    make_catalogue.build(catalogue.home.root, 350, quiet=True)
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = table_of(app)
        assert "row 1 of 350" in status(app)
        await pilot.press("end")
        await settle(pilot)
        assert table.scroll_x == 0
        assert "row 350 of 350" in status(app)
        assert app.selected_id == min(listing.page(catalogue, "", 349, 1)[0].id, app.selected_id)
        assert app.selected_id == listing.page(catalogue, "", 349, 1)[0].id
        await pilot.press("up")
        await settle(pilot)
        assert "row 349 of 350" in status(app)
        await pilot.press("home")
        await settle(pilot)
        assert "row 1 of 350" in status(app)
        assert app.selected_id == listing.page(catalogue, "", 0, 1)[0].id


# 10 ------------------------------------------------------------------------------------------------

async def test_tagging_from_the_list_updates_it(fixed):
    catalogue, ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, "tag:best")
        assert row_ids(app) == [ids["singles"][2], ids["singles"][0]]
        await to_results(pilot)
        await pilot.press("t")
        await pilot.pause()
        app.screen.query_one("#answer").value = "-best"
        await pilot.press("enter")
        await settle(pilot)
        assert row_ids(app) == [ids["singles"][0]]


async def test_renders_added_elsewhere_appear_on_refresh(fixed, tmp_path):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert len(row_ids(app)) == 21
        other = Catalogue.open(catalogue.home)  # another process, as `atlas import` would be
        added = tui_catalogue.add_imports(other, tmp_path / "more")
        other.close()
        await to_results(pilot)
        await pilot.press("f5")
        await settle(pilot)
        assert row_ids(app)[:2] == [added["linked"], added["copied"]]
        assert "23 renders" in status(app)


async def test_new_renders_show_without_a_key_when_the_list_is_at_the_top(fixed, tmp_path):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    app.watch_interval = 0.2
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        other = Catalogue.open(catalogue.home)
        added = tui_catalogue.add_imports(other, tmp_path / "more")
        other.close()
        deadline = time.monotonic() + 10
        while added["linked"] not in row_ids(app) and time.monotonic() < deadline:
            await pilot.pause(0.1)
            await settle(pilot)
        assert row_ids(app)[0] == added["linked"]


# 11 ------------------------------------------------------------------------------------------------

async def test_80x24_keeps_the_essentials_and_the_id_column(with_imports):
    catalogue, ids = with_imports
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await to_results(pilot)
        text = screen_text(app)
        header = next(line for line in text.splitlines() if line.lstrip().startswith("id "))
        for name in ("id", "model", "seed", "prompt"):
            assert f" {name}" in f" {header}", (name, header)
        footer = text.splitlines()[-1]
        assert "r re-run" in footer and "q quit" in footer, footer
        table = table_of(app)
        table.scroll_x = table.max_scroll_x
        await settle(pilot)
        rows = screen_text(app).splitlines()
        assert any(line.lstrip().startswith(str(ids["linked"])) for line in rows), "the id column scrolled away"


# 12 ------------------------------------------------------------------------------------------------

async def test_detail_of_an_imported_render_tells_its_model_tool_and_file(with_imports):
    catalogue, ids = with_imports
    with sqlite3.connect(catalogue.home.database_path) as db:  # a value float arithmetic left unround
        db.execute("UPDATE pass SET denoise = 0.5199999999999996 WHERE render_id = ?", (ids["copied"],))
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_render(pilot, ids["copied"])
        text = screen_text(app)
        assert "v1-5-pruned-emaonly" in text.split("lineage")[-1]  # in the facts, not only the tree
        assert "model hash 6ce0161689" in text
        assert "AUTOMATIC1111" in text
        assert "lineage: 1 pass" in text and "1 passes" not in text
        assert "denoising 0.52" in text and "0.5199" not in text
        await pilot.press("escape")
        await settle(pilot)
        ids["linked_path"].unlink()
        await open_render(pilot, ids["linked"])
        text = screen_text(app)
        assert "missing from the store" not in " ".join(messages(app)) + text
        assert any(f"linked file is gone ({ids['linked_path']})" in m for m in messages(app)), messages(app)


# 13 ------------------------------------------------------------------------------------------------

async def test_queries_run_off_the_ui_thread_and_stale_results_are_dropped(fixed, monkeypatch):
    # The "fox" query is held on a gate until a newer query has run and shown: a UI that waited on
    # it could take no key meanwhile, and its late result must not replace the newer one.
    catalogue, ids = fixed
    real_page = listing.page
    threads = []
    gate = threading.Event()

    def held_page(catalogue, text="", *args, **kwargs):  # the real query, held for one text
        threads.append(threading.current_thread())
        if "fox" in str(text):
            gate.wait(30)
        return real_page(catalogue, text, *args, **kwargs)

    monkeypatch.setattr(listing, "page", held_page)
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"fox")
        await pilot.press("enter", "ctrl+u")
        await pilot.press(*"lighthouse", "enter")
        for _ in range(100):  # the lighthouse query runs while fox is still held
            await pilot.pause(0.05)
            if row_ids(app) == [ids["singles"][1]]:
                break
        assert not gate.is_set() and row_ids(app) == [ids["singles"][1]]
        gate.set()  # fox's result comes in late: dropped
        await settle(pilot)
        assert row_ids(app) == [ids["singles"][1]]
        assert "1 render matching lighthouse" in status(app)
    assert threads and threading.main_thread() not in threads
