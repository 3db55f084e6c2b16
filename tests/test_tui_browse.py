"""The preview pane beside the list, the facets sidebar, rating / hiding / deleting, and comparing
two renders: the TUI driven with Pilot over the fixed catalogue of tests.support.tui_catalogue."""

import threading

import pytest

from atlas.core.thumbnails import ThumbnailCache
from atlas.tui.app import AtlasApp
from atlas.tui.screens.compare import CompareScreen
from atlas.tui.screens.dialogs import ConfirmDialog
from atlas.tui.screens.main import MainScreen
from atlas.tui.widgets.results import ResultsTable
from tests.support import tui_catalogue
from tests.support.tui_pilot import row_ids, search, settle, status, table_of, to_results
from tests.support.tui_screen import messages, screen_text

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("tui_notices")]

WIDE = (180, 45)  # the preview pane shows by itself from 160 cells
SMALL = (80, 24)
EULER_A = len(tui_catalogue.OUTPAINT_SIDES) + 3 + 1  # the chain (txt2img, 14 outpaints, 2 upscales) and one single


def file_of(catalogue, render_id: int):
    from atlas.core.actions import detail

    return detail.file_path(catalogue, render_id)


# ---- preview pane ------------------------------------------------------------------------------


async def test_preview_pane_follows_the_cursor_from_the_thumbnail_cache(fixed, home):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        pane = app.screen.query_one("#preview-pane")
        assert pane.display
        first, second = row_ids(app)[:2]
        assert pane.render_id == first and pane.preview.shown == file_of(catalogue, first)
        await to_results(pilot)
        await pilot.press("down")
        await settle(pilot)
        assert pane.render_id == second and pane.preview.shown == file_of(catalogue, second)
        assert f"render {second}" in screen_text(app)
    # the thumbnails are on disk, named by the content of their files
    thumbs = sorted(p.name for p in (home.root / "cache" / "thumbs").rglob("*.jpg"))
    digests = {ThumbnailCache(home.root / "x").digest(file_of(catalogue, i))[0] for i in (first, second)}
    assert {name.split("-")[0] for name in thumbs} == digests


async def test_preview_pane_is_hidden_at_80x24_until_asked_for(fixed):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        pane = app.screen.query_one("#preview-pane")
        assert not pane.display
        before = [c.key for c in table_of(app).columns_shown]
        await to_results(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert pane.display and pane.render_id == row_ids(app)[0]
        await pilot.press("p")
        await settle(pilot)
        assert not pane.display and [c.key for c in table_of(app).columns_shown] == before
        assert "q quit" in screen_text(app).splitlines()[-1].replace("  ", " ")


async def test_a_fast_cursor_decodes_only_the_latest_off_the_ui_thread(fixed, monkeypatch):
    # Decodes are held until the keys are through: a UI that waited on a decode could not move the
    # cursor at all meanwhile (no timing involved, so a loaded machine cannot fail it).
    catalogue, _ids = fixed
    real_get = ThumbnailCache.get
    made = []
    gate = threading.Event()

    def held_get(self, source, edge=256):  # the real thumbnail, once the gate opens
        made.append((threading.current_thread(), source))
        gate.wait(30)
        return real_get(self, source, edge)

    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await to_results(pilot)
        made.clear()
        monkeypatch.setattr(ThumbnailCache, "get", held_get)
        await pilot.press(*["down"] * 10)
        await pilot.pause()
        assert table_of(app).cursor_row == 10 and not gate.is_set()  # every key handled, no decode done
        in_flight = len(made)
        gate.set()
        await settle(pilot)
        pane = app.screen.query_one("#preview-pane")
        latest = row_ids(app)[10]
        assert pane.render_id == latest and pane.preview.shown == file_of(catalogue, latest)
    # one decode in flight while the keys went by, then only the latest wanted: never one per key
    assert in_flight <= 1 and 1 <= len(made) <= 2, made
    assert made[-1][1] == file_of(catalogue, latest)
    assert threading.main_thread() not in [thread for thread, _ in made]


# ---- facets ------------------------------------------------------------------------------------


def choose(app, facet: str, value: str) -> int:
    panel = app.screen.query_one("#facets")
    key = next(key for key, chosen in panel.values.items() if chosen == (facet, value))
    options = panel.options
    return next(i for i in range(options.option_count) if options.get_option_at_index(i).id == key)


async def test_facets_count_the_query_and_narrow_it_in_the_search_bar(fixed):
    catalogue, ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=(150, 45)) as pilot:
        await settle(pilot)
        await to_results(pilot)
        await pilot.press("F")
        await settle(pilot)
        text = screen_text(app)
        assert "samplers" in text and "DPM++ 2M Karras" in text
        panel = app.screen.query_one("#facets")
        assert app.focused is panel.options
        panel.options.highlighted = choose(app, "sampler", "Euler a")
        label = str(panel.options.get_option_at_index(panel.options.highlighted).prompt)
        assert label.split()[-1] == str(EULER_A)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one("#query").value == 'sampler:"Euler a"'
        assert table_of(app).total == EULER_A and sorted(row_ids(app)) == sorted(ids["chain"] + ids["singles"][2:3])
        # the counts follow the narrowed query: only the single render i=2 has the tag `best` among these
        panel.options.highlighted = choose(app, "tag", "best")
        assert str(panel.options.get_option_at_index(panel.options.highlighted).prompt).split()[-1] == "1"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one("#query").value == 'sampler:"Euler a" tag:"best"'
        assert row_ids(app) == [ids["singles"][2]]
        assert "1 render matching" in status(app)
        # minus leaves a value out: of the 18 Euler a renders, the one tagged best goes
        await search(pilot, 'sampler:"Euler a"')
        panel.options.focus()
        await settle(pilot)
        panel.options.highlighted = choose(app, "tag", "best")
        await pilot.press("minus")
        await settle(pilot)
        assert app.screen.query_one("#query").value == 'sampler:"Euler a" -tag:"best"'
        assert sorted(row_ids(app)) == sorted(ids["chain"]) and table_of(app).total == EULER_A - 1
        await pilot.press("F")
        await pilot.pause()
        assert not panel.display and isinstance(app.focused, ResultsTable)


# ---- rating, hiding, deleting ------------------------------------------------------------------


async def select(pilot, *render_ids: int) -> None:
    """Select rows `render_ids` (space) in a listing of just those."""
    await search(pilot, " OR ".join(f"id:{i}" for i in render_ids))
    await to_results(pilot)
    for _ in render_ids:
        await pilot.press("space")
    await settle(pilot)


async def test_rating_keys_rate_the_selection_and_rating_queries_find_them(fixed):
    catalogue, ids = fixed
    one, two, three = ids["singles"][:3]
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=(150, 45)) as pilot:
        await settle(pilot)
        await select(pilot, one, two)
        await pilot.press("4", "escape")  # escape: the selection cleared
        await settle(pilot)
        await search(pilot, f"id:{three}")
        await to_results(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert "★★" in status(app)
        await search(pilot, "rating:>=4")
        assert sorted(row_ids(app)) == sorted([one, two])
        await search(pilot, "rating:>=2")
        assert sorted(row_ids(app)) == sorted([one, two, three])
        await to_results(pilot)
        await pilot.press("home")
        cleared = row_ids(app)[0]
        await pilot.press("0")  # the cursor's render only: no selection now
        await settle(pilot)
        assert cleared not in row_ids(app)  # the list ran its query again
        await search(pilot, "rating:>=2")
        assert sorted(row_ids(app)) == sorted({one, two, three} - {cleared})
        assert any("rating cleared" in m for m in messages(app))


async def test_h_hides_a_render_and_h_in_a_hidden_query_shows_it_again(fixed):
    catalogue, ids = fixed
    single = ids["singles"][1]
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=(150, 45)) as pilot:
        await settle(pilot)
        await select(pilot, single)
        await pilot.press("h")
        await settle(pilot)
        await search(pilot, "")
        assert single not in row_ids(app)
        await search(pilot, "hidden")
        assert row_ids(app) == [single]
        assert "hidden" in status(app)
        await to_results(pilot)
        await pilot.press("h")
        await settle(pilot)
        await search(pilot, "")
        assert single in row_ids(app)


async def test_delete_confirms_with_the_plan_then_removes_rows_and_files(fixed):
    catalogue, ids = fixed
    doomed = ids["singles"][:2]
    files = [file_of(catalogue, i) for i in doomed]
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=(150, 45)) as pilot:
        await settle(pilot)
        await select(pilot, *doomed)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        question = app.screen.question
        assert f"2 renders: {', '.join(map(str, sorted(doomed)))}" in question
        assert "2 files" in question and files[0].name in question
        await pilot.press("n")  # kept
        await settle(pilot)
        assert all(path.is_file() for path in files)
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        await search(pilot, "")
        assert not set(doomed) & set(row_ids(app))
        assert not any(path.exists() for path in files)
        assert not table_of(app).marked


async def test_delete_refuses_a_render_others_were_made_from(fixed):
    catalogue, ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=(150, 45)) as pilot:
        await settle(pilot)
        await select(pilot, ids["chain"][0])
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)  # no confirmation for what cannot be done
        assert any(f"{ids['chain'][1]}" in m and "made from" in m for m in messages(app))
        await search(pilot, "")
        assert ids["chain"][0] in row_ids(app)


# ---- compare -----------------------------------------------------------------------------------


async def test_compare_two_selected_renders_marks_the_differences(fixed):
    catalogue, ids = fixed
    left, right = sorted(ids["singles"][:2])
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=(150, 45)) as pilot:
        await settle(pilot)
        await search(pilot, "")
        await to_results(pilot)
        await pilot.press("C")
        await pilot.pause()
        assert any("select two renders" in m for m in messages(app))
        await select(pilot, left, right)
        await pilot.press("C")
        await settle(pilot)
        assert isinstance(app.screen, CompareScreen)
        lines = screen_text(app).splitlines()

        def line(label: str) -> str:
            return next(text for text in lines if f" {label} " in text)

        # tests.support.tui_catalogue.SINGLES: samplers Euler / DPM++ 2M Karras, both by Ada
        assert "≠" in line("sampler") and "Euler" in line("sampler") and "DPM++ 2M Karras" in line("sampler")
        assert "≠" in line("seed") and "101" in line("seed") and "202" in line("seed")
        assert "≠" not in line("author") and line("author").count("Ada") == 2
        assert f"render {left}" in screen_text(app) and f"render {right}" in screen_text(app)
        await pilot.press("d")  # only the differences
        await pilot.pause()
        assert " author " not in screen_text(app) and " sampler " in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


# ---- grid --------------------------------------------------------------------------------------


async def test_g_shows_the_rows_as_a_grid_of_thumbnails_with_the_same_cursor(fixed):
    from atlas.tui.screens.detail import DetailScreen
    from atlas.tui.widgets.grid import TILE_WIDTH

    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=(150, 45)) as pilot:
        await settle(pilot)
        await to_results(pilot)
        rows = row_ids(app)
        await pilot.press("g")
        await settle(pilot)
        grid = app.screen.query_one("#grid")
        assert grid.display and not table_of(app).display and app.focused is grid
        tiles = [tile for tile in grid.tiles if tile.display]
        assert grid.columns == grid.size.width // TILE_WIDTH and grid.columns > 1
        assert [tile.render_id for tile in tiles] == rows[:len(tiles)]
        assert all(tile.query_one("Preview").shown == file_of(catalogue, tile.render_id) for tile in tiles)
        await pilot.press("right", "down")  # one tile right, one row of tiles down
        await settle(pilot)
        index = 1 + grid.columns
        assert table_of(app).cursor_row == index and app.selected_id == rows[index]
        assert f"row {index + 1} of 21" in status(app)
        assert next(tile for tile in tiles if tile.has_class("-cursor")).render_id == rows[index]
        await pilot.press("space")
        await settle(pilot)
        assert table_of(app).marked == {rows[index]}
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.render_id == rows[index + 1]
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert table_of(app).display and app.focused is table_of(app)


# ---- columns -----------------------------------------------------------------------------------


async def test_k_chooses_columns_the_rating_column_shows_stars(fixed):
    from textual.widgets import SelectionList

    from atlas.core.actions import marking
    from atlas.tui.screens.columns import ColumnsDialog

    catalogue, ids = fixed
    marking.rate(catalogue, [ids["singles"][0]], 3)
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=(150, 45)) as pilot:
        await settle(pilot)
        await to_results(pilot)
        table = table_of(app)
        assert "rating" not in [c.key for c in table.columns_shown]  # hidden until chosen
        await pilot.press("K")
        await pilot.pause()
        assert isinstance(app.screen, ColumnsDialog)
        choices = app.screen.query_one(SelectionList)
        keys = [choices.get_option_at_index(i).value for i in range(choices.option_count)]
        assert "id" not in keys and "prompt" not in keys  # always shown
        for key in ("rating", "model"):
            choices.highlighted = keys.index(key)
            await pilot.press("space")
        await pilot.press("escape")
        await settle(pilot)
        shown = [c.key for c in table.columns_shown]
        assert "rating" in shown and "model" not in shown and shown[0] == "id" and shown[-1] == "prompt"
        assert list(table.columns) == [c.key for c in table.columns_shown]
        row = next(i for i, key in enumerate(table.rows) if int(key.value) == ids["singles"][0])
        assert str(table.get_cell_at((row, shown.index("rating")))) == "★★★"
        # s cycles through the columns shown only
        seen = []
        for _ in range(len(shown)):
            await pilot.press("s")
            await settle(pilot)
            seen.append(table.sort)
        assert "model" not in seen and "rating" in seen


async def test_rating_and_delete_from_a_detail_screen_act_on_its_render(fixed):
    from atlas.tui.screens.detail import DetailScreen

    catalogue, ids = fixed
    shown = ids["singles"][3]
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=(150, 45)) as pilot:
        await settle(pilot)
        await search(pilot, f"id:{shown}")
        await to_results(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.render_id == shown
        await pilot.press("5")
        await settle(pilot)
        assert any(f"render {shown} rated ★★★★★" in m for m in messages(app))
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog) and f"1 render: {shown}" in app.screen.question
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)  # the deleted render's screen closed
        await search(pilot, "rating:5")
        assert row_ids(app) == []
