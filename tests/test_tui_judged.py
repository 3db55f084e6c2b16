"""What the TUI shows after a tag, rating or hide: the facets sidebar counts the catalogue as it is
now, a compare screen's keys work on the two renders it compares (never on the list's cursor), and
the rating and hidden flag come from the render's facts. The TUI driven with Pilot over the fixed
catalogue of tests.support.tui_catalogue."""

import json
from collections import Counter

import pytest
from sqlmodel import select
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from atlas.core.actions import detail
from atlas.core.catalogue.tables import Render
from atlas.tui.app import AtlasApp
from atlas.tui.screens.compare import CompareScreen
from atlas.tui.screens.detail import DetailScreen
from atlas.tui.screens.dialogs import AskDialog, ConfirmDialog
from atlas.tui.screens.main import MainScreen
from atlas.tui.widgets.facets import PER_FACET
from atlas.tui.widgets.results import ResultsTable
from tests.support.tui_pilot import row_ids, search, settle, to_results
from tests.support.tui_screen import messages, screen_text

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("tui_notices")]

SIZE = (150, 45)
FACETS = ("tag", "model", "sampler", "licence", "tool")


# ---- facets after a write ----------------------------------------------------------------------


def walked_counts(catalogue, wanted=lambda rating: True) -> dict[str, dict[str, int]]:
    """Each facet's most common values among the renders a query finds, counted here by walking
    every render's row and `atlas show` facts: not hidden, `wanted(rating)`; the value of a render
    is its producing (last) pass's sampler and model (the file's own model name for an import),
    its licence, tool and tags. The `PER_FACET` most common of each, ties by value, as the sidebar."""
    with catalogue.session() as session:
        renders = [(r.id, r.hidden, r.rating) for r in session.exec(select(Render))]
    counts: dict[str, Counter] = {facet: Counter() for facet in FACETS}
    for render_id, hidden, rating in renders:
        if hidden or not wanted(rating):
            continue
        facts = detail.show(catalogue, render_id)
        render, lineage = facts["record"]["render"], facts["record"]["lineage"]
        last = lineage[-1] if lineage else {}
        model = (last.get("model") or {}).get("name") or (last.get("settings") or {}).get("model")
        found = {"model": model, "sampler": last.get("sampler"),
                 "licence": render["licence"]["id"] if render.get("licence") else None, "tool": render.get("tool")}
        for facet, value in found.items():
            if value is not None:
                counts[facet][value] += 1
        counts["tag"].update(set(facts["tags"]))
    return {facet: dict(sorted(found.items(), key=lambda item: (-item[1], item[0]))[:PER_FACET])
            for facet, found in counts.items()}


def sidebar_counts(app) -> dict[str, dict[str, int]]:
    """What the facets sidebar lists: per facet, each value with the count printed beside it."""
    panel = app.screen.query_one("#facets")
    shown: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
    for key, (facet, value) in panel.values.items():
        label = str(panel.options.get_option(key).prompt)
        shown[facet][value] = int(label.split()[-1].replace(",", ""))
    return shown


async def test_facets_count_again_after_a_tag_a_hide_and_a_rating_from_the_list(fixed):
    catalogue, ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, "")
        await to_results(pilot)
        await pilot.press("F")
        await settle(pilot)
        panel = app.screen.query_one("#facets")
        assert panel.display
        await pilot.press("escape")  # back to the list, the sidebar stays open
        await settle(pilot)
        assert isinstance(app.focused, ResultsTable)
        before = walked_counts(catalogue)
        assert sidebar_counts(app) == walked_counts(catalogue) and before["tag"].get("fresh") is None

        # a tag on the cursor's render: the same query runs again, the tag facet must list it
        cursor = app.screen.table.current_id
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, AskDialog)
        app.screen.query_one("#answer").value = "fresh"
        await pilot.press("enter")
        await settle(pilot)
        assert "fresh" in detail.show(catalogue, cursor)["tags"]
        assert sidebar_counts(app)["tag"].get("fresh") == 1
        assert sidebar_counts(app) == walked_counts(catalogue)

        # a hide: the render leaves the query, and its sampler, model, licence and tags their counts
        await pilot.press("h")
        await settle(pilot)
        assert cursor not in row_ids(app)
        hidden_counts = walked_counts(catalogue)
        assert hidden_counts != before and "fresh" not in hidden_counts["tag"]
        assert sidebar_counts(app) == hidden_counts

        # ratings: the query `rating:>=4` finds two renders; clearing one's rating drops it
        one, two = ids["singles"][:2]
        from atlas.core.actions import marking

        marking.rate(catalogue, [one, two], 5)
        await search(pilot, "rating:>=4")
        app.screen.table.focus()  # (tab from the search bar goes to the open sidebar first)
        await pilot.pause()
        high = lambda rating: rating is not None and rating >= 4  # noqa: E731
        assert sorted(row_ids(app)) == sorted([one, two])
        assert sidebar_counts(app) == walked_counts(catalogue, high)
        cleared = app.screen.table.current_id
        await pilot.press("0")
        await settle(pilot)
        assert row_ids(app) == [({one, two} - {cleared}).pop()]
        after = walked_counts(catalogue, high)
        assert sum(after["sampler"].values()) == 1
        assert sidebar_counts(app) == after


async def test_f5_counts_the_facets_again_after_a_write_from_elsewhere(fixed):
    """A tag written outside the TUI (another process, the CLI): f5 runs the query again, and the
    open sidebar counts again with it."""
    catalogue, ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    app.watch_interval = None  # only f5 may notice the write
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await to_results(pilot)
        await pilot.press("F")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert sidebar_counts(app) == walked_counts(catalogue)
        from atlas.core.actions import tagging

        tagging.tag(catalogue, ids["singles"][:2], add=["elsewhere"])
        assert walked_counts(catalogue)["tag"].get("elsewhere") == 2
        await pilot.press("f5")
        await settle(pilot)
        assert sidebar_counts(app) == walked_counts(catalogue)


async def test_facets_hidden_during_a_write_count_again_when_shown(fixed):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, "")
        await to_results(pilot)
        await pilot.press("F")  # counted once for this query
        await settle(pilot)
        await pilot.press("F")  # the sidebar closes; the focus goes back to the list
        await settle(pilot)
        await pilot.press("h")  # the cursor's render leaves the query
        await settle(pilot)
        await pilot.press("F")
        await settle(pilot)
        assert sidebar_counts(app) == walked_counts(catalogue)


# ---- compare: its keys act on the two renders it shows ------------------------------------------


async def compare_two_with_the_cursor_elsewhere(pilot, ids) -> tuple[int, int, int]:
    """Select two single renders, put the list's cursor on a third, open the compare screen."""
    app = pilot.app
    await search(pilot, "-kind:outpaint -kind:upscale")  # the chain's first render and the four singles
    await to_results(pilot)
    rows = row_ids(app)
    await pilot.press("down", "space", "space")  # rows 1 and 2 selected; the cursor on row 3
    await pilot.press("down")
    await settle(pilot)
    left, right = sorted(rows[1:3])
    elsewhere = rows[4]
    assert app.screen.table.marked == {left, right} and app.selected_id == elsewhere
    await pilot.press("C")
    await settle(pilot)
    assert isinstance(app.screen, CompareScreen) and (app.screen.left, app.screen.right) == (left, right)
    return left, right, elsewhere


async def test_compare_batch_keys_act_on_the_compared_renders_not_the_lists_cursor(fixed, tmp_path):
    catalogue, ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    target = tmp_path / "compared"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        left, right, elsewhere = await compare_two_with_the_cursor_elsewhere(pilot, ids)
        untouched = detail.show(catalogue, elsewhere)

        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, AskDialog) and "the 2 selected renders" in app.screen.prompt
        app.screen.query_one("#answer").value = "compared"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CompareScreen)

        await pilot.press("3")
        await settle(pilot)

        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, AskDialog) and "2 renders" in app.screen.prompt
        app.screen.query_one("#answer").value = str(target)
        await pilot.press("enter")
        await settle(pilot)

        await pilot.press("v")
        await settle(pilot)

        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, CompareScreen)

    for render_id in (left, right):
        facts = detail.show(catalogue, render_id)
        assert "compared" in facts["tags"] and facts["rating"] == 3 and facts["hidden"] is True, render_id
    now = detail.show(catalogue, elsewhere)
    assert (now["tags"], now["rating"], now["hidden"]) == (untouched["tags"], untouched["rating"], False)
    assert now["tags"] == untouched["tags"] and "compared" not in now["tags"]
    exported = [json.loads(line)["render_id"] for line in (target / "batch.jsonl").read_text().splitlines()]
    assert sorted(exported) == [left, right]
    assert any("2 renders verified" in m for m in messages(app)), messages(app)


async def test_compare_offers_no_key_that_works_on_one_render(fixed):
    catalogue, ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        left, right, elsewhere = await compare_two_with_the_cursor_elsewhere(pilot, ids)
        # every key the compare screen offers (its footer's and the hidden ones) works on what it shows
        offered = {active.binding.action for active in app.screen.active_bindings.values()}
        on_both = {"export", "tag", "verify", "rerun", "toggle_hidden"} | {f"rate({n})" for n in range(6)}
        elsewhere_ok = {"back", "only_differences", "help", "stop_job", "runs"}  # the screen's, and no render's
        # Textual's own (quit, focus, copying selected text) and the table's (scrolling) act on no render
        textual_own = {binding.action for cls in (*type(app.screen.query_one("#compare")).__mro__, Screen, App)
                       for binding in getattr(cls, "BINDINGS", []) if isinstance(binding, Binding)}
        assert offered - textual_own <= on_both | elsewhere_ok, offered - textual_own - on_both - elsewhere_ok
        footer = screen_text(app).splitlines()[-1]
        assert "copy" not in footer and "wikitext" not in footer and "open folder" not in footer, footer
        assert "tag" in footer and "export" in footer

        before = app.clipboard
        for key in ("c", "w", "o", "delete", "i", "m"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, CompareScreen), (key, app.screen)
        assert app.clipboard == before

        await pilot.press("r")  # a re-run of both: one confirmation naming two renders, then no
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog) and "2 new renders" in app.screen.question
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CompareScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.table.marked == {left, right} and app.selected_id == elsewhere


# ---- the rating and hidden flag come from the render's facts --------------------------------------


async def test_the_detail_screen_shows_the_rating_and_hidden_flag_and_h_reads_them(fixed):
    catalogue, ids = fixed
    single = ids["singles"][1]
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, f"id:{single}")
        await to_results(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.render_id == single
        assert "judged" not in screen_text(app)
        await pilot.press("4")
        await settle(pilot)
        assert app.screen.facts["rating"] == 4
        assert "judged    ★★★★" in screen_text(app), screen_text(app)
        await pilot.press("h")
        await settle(pilot)
        assert app.screen.facts["hidden"] is True and "★★★★, hidden" in screen_text(app)
        # the list ran its query again and lost the render: `h` reads the flag from the facts shown
        main = next(screen for screen in app.screen_stack if isinstance(screen, MainScreen))
        assert single not in [row.id for row in main.table.loaded]
        await pilot.press("h")
        await settle(pilot)
        assert app.screen.facts["hidden"] is False and "hidden" not in screen_text(app)
    assert detail.show(catalogue, single)["hidden"] is False
