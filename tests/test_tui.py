"""The TUI driven with Textual's Pilot (`App.run_test`) on a real catalogue with real PNG files."""

import sqlite3

import pytest

from atlas.core.actions import detail, listing
from atlas.tui.app import AtlasApp
from atlas.tui.screens.detail import DetailScreen
from atlas.tui.screens.dialogs import AskDialog, TextDialog
from atlas.tui.screens.help import HelpScreen
from atlas.tui.screens.main import MainScreen
from atlas.tui.widgets.lineage import LineageTree
from atlas.tui.widgets.results import ResultsTable
from tests.support import tui_catalogue
from tests.support.tui_pilot import row_ids, search, settle, to_results
from tests.support.tui_screen import messages, screen_text

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("tui_notices")]

SIZE = (150, 45)


async def test_first_screen_lists_renders_newest_first(fixed):
    catalogue, ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert row_ids(app) == sorted(ids["chain"] + ids["singles"], reverse=True)
        text = screen_text(app)
        assert "21 renders" in text
        assert "a red fox in the snow" in text
        assert "DPM++ 2M Karras" in text


async def test_typing_a_query_shows_the_matching_rows(fixed):
    catalogue, ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, "fox")
        # renders 1 and 3 have "fox" in their prompts, nothing else does
        assert row_ids(app) == [ids["singles"][2], ids["singles"][0]]
        text = screen_text(app)
        assert "2 renders matching fox" in text
        assert "a quiet garden with a fox statue" in text
        assert "lighthouse" not in text

        await search(pilot, 'sampler:"Euler a" steps:30..60 -kind:outpaint')
        assert row_ids(app) == [ids["chain"][0], ids["singles"][2]]

        await search(pilot, "cfg:>=9")
        assert row_ids(app) == [ids["singles"][3]]


async def test_a_syntax_error_shows_in_place_with_its_column(fixed):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = row_ids(app)
        await pilot.press("slash", *"fox steps:abc")
        await pilot.pause()
        error = app.screen.query_one("#query-error")
        assert error.has_class("visible")
        assert app.screen.query_one("#query").has_class("-invalid")
        shown = str(error.render())
        assert "column 5" in shown and "steps:abc" in shown
        # the caret sits under the offending token (test_tui_fixes checks it against the screen)
        assert shown.splitlines()[0] == " " * (5 - 1 + 3) + "^"
        await pilot.press("enter")  # refused: the rows do not change
        await pilot.pause()
        assert row_ids(app) == before
        # fixing the query clears the error as you type
        for _ in "abc":
            await pilot.press("backspace")
        await pilot.press(*"40")
        await pilot.pause()
        assert not error.has_class("visible")
        assert str(error.render()) == ""


async def test_history_walks_back_with_up_and_down(fixed):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, "fox")
        await search(pilot, "city")
        await pilot.press("slash")
        query = app.screen.query_one("#query")
        query.value = ""
        await pilot.press("up")
        assert query.value == "city"
        await pilot.press("up")
        assert query.value == "fox"
        await pilot.press("down")
        assert query.value == "city"
        await pilot.press("down")
        assert query.value == ""


async def test_sorting_by_a_column(fixed):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, "steps:<=50")
        table = app.screen.query_one(ResultsTable)
        table.sort_by("cfg")  # what clicking the CFG header does
        await settle(pilot)
        cfg = table.get_column_index("cfg")
        cfgs = [float(str(table.get_row(key)[cfg])) for key in table.rows]
        assert cfgs == sorted(cfgs) and cfgs[0] == 6.5
        assert "sorted by cfg" in screen_text(app)
        table.sort_by("cfg")  # again: the other way round
        await settle(pilot)
        assert [float(str(table.get_row(key)[cfg])) for key in table.rows] == sorted(cfgs, reverse=True)
        # a header click goes through the same path
        await pilot.click(ResultsTable, offset=(2, 0))
        await settle(pilot)
        assert table.sort == "id" and row_ids(app) == sorted(row_ids(app), reverse=True)


async def test_pages_load_lazily_as_the_cursor_moves(catalogue):
    from tests.benchmarks import make_catalogue

    catalogue.close()
    make_catalogue.build(catalogue.home.root, 350, quiet=True)
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ResultsTable)
        assert table.row_count == listing.PAGE_SIZE
        assert "350 renders" in screen_text(app)
        table.move_cursor(row=table.row_count - 1)
        await settle(pilot)
        assert table.row_count == 2 * listing.PAGE_SIZE
        for _ in range(3):
            table.move_cursor(row=table.row_count - 1)
            await settle(pilot)
        assert table.row_count == 350 and table.exhausted
        assert row_ids(app) == sorted(row_ids(app), reverse=True)  # newest first, ids rise with time


async def test_a_row_opens_its_lineage_tree_with_every_pass(fixed):
    catalogue, ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, "kind:upscale")
        assert row_ids(app)[0] == ids["chain"][-1]
        await to_results(pilot)  # the focus stays in the search bar after enter; tab moves it
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        tree = app.screen.query_one(LineageTree)
        assert str(tree.root.label) == "lineage: 17 passes"
        groups = [str(node.label) for node in tree.root.children]
        assert groups == ["txt2img  → 96x64", "outpaint ×14  → 256x128", "upscale ×2  → 1024x512"]
        passes = [node for group in tree.root.children for node in group.children]
        assert len(passes) == 17
        assert [node.data[2] for node in passes] == ids["chain"]
        text = screen_text(app)
        for fact in ("CreativeML Open RAIL-M", "use restrictions", "SwinIR_4x", "CC0-1.0", "C2PA",
                     "not signed", "Euler a"):
            assert fact in text, fact
        # expanding a pass shows its settings; highlighting it previews that pass's output
        outpaint = tree.root.children[1]
        outpaint.expand()
        third = outpaint.children[2]
        third.expand()
        await pilot.pause()
        leaves = [str(leaf.label) for leaf in third.children]
        assert "side: left" in leaves and "mask_blur: 8" in leaves and "denoising: 0.8" in leaves
        tree.move_cursor(third)
        await settle(pilot)
        assert f"preview: render {ids['chain'][3]}" in screen_text(app)
        await pilot.press("p")  # back to the render's own preview
        await settle(pilot)
        assert str(app.screen.query_one("#preview-caption").render()) == f"preview: render {ids['chain'][-1]}"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


async def test_help_screen_lists_the_keys(fixed):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for line in ("e            export", "r            re-run", "Query language", 'sampler:"Euler a"'):
            assert line in text, line
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


async def test_footer_shows_the_action_keys(fixed):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        for key in ("? help", "e export", "w wikitext", "c copy", "v verify", "t tag", "r re-run", "q quit"):
            assert key in footer, key


async def test_export_writes_the_files(fixed, tmp_path):
    catalogue, ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    target = tmp_path / "out"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")  # the newest render: the end of the 17-pass lineage
        await pilot.pause()
        assert isinstance(app.screen, AskDialog)
        app.screen.query_one("#answer").value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TextDialog)  # the page that was written, shown
        shown = app.screen.query_one("#text").text
        assert any(f"render {ids['chain'][-1]} exported to {target}" in m for m in messages(app))
    written = sorted(p.name for p in target.iterdir())
    pngs = [name for name in written if name.endswith(".png")]
    pages = [name for name in written if name.endswith(".wikitext")]
    assert len(pngs) == 1 and len(pages) == 1 and "batch.jsonl" in written
    assert any(name.endswith(".provenance.json") for name in written)
    assert (target / pages[0]).read_text(encoding="utf-8") == shown
    assert "{{Information" in shown and "fourteen successive passes" in shown  # the procedure, from the lineage
    assert app.last_export[0]["render_id"] == ids["chain"][-1]


async def test_export_into_a_file_is_refused_in_place(fixed, tmp_path):
    catalogue, _ids = fixed
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("keep me")
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#answer").value = str(blocker)
        await pilot.press("enter")
        await settle(pilot)
        assert any("is not a folder" in m for m in messages(app))
        assert isinstance(app.screen, MainScreen)
    assert blocker.read_text() == "keep me" and sorted(p.name for p in tmp_path.iterdir()) == ["home", blocker.name]


async def test_copy_parameters_shows_the_a1111_text(fixed):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c", "a")  # all parameters, of the newest render: the last upscale of the chain
        await settle(pilot)
        assert isinstance(app.screen, TextDialog)
        text = app.screen.query_one("#text").text
        assert text.startswith(tui_catalogue.CITY)
        assert "Steps: 150, Sampler: Euler a, CFG scale: 7, Seed: 1234" in text
        assert "Model hash: fe4efff1e1" in text
        assert app.clipboard == text


async def test_tag_and_verify(fixed):
    catalogue, ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    target = ids["singles"][1]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, "lighthouse")
        await to_results(pilot)
        await pilot.press("t")
        await pilot.pause()
        app.screen.query_one("#answer").value = "night storm"
        await pilot.press("enter")
        await settle(pilot)
        assert any(f"render {target} tags: night storm" in m for m in messages(app))
        await search(pilot, "tag:storm")
        assert row_ids(app) == [target]
        await to_results(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert any(f"render {target} verified: no problems" in m for m in messages(app)), messages(app)
        await pilot.press("o")  # opened where the desktop can, named in any case
        await settle(pilot)
        folder = detail.file_path(catalogue, target).parent
        assert any(m.endswith(f": {folder}") for m in messages(app)), messages(app)


async def test_verify_reports_a_changed_file(fixed):
    catalogue, ids = fixed
    path = detail.file_path(catalogue, ids["singles"][0])
    path.write_bytes(path.read_bytes() + b"tampered")
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, "id:1")
        await to_results(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, TextDialog)
        assert any(f"render {ids['singles'][0]} failed verification" in m for m in messages(app))


async def test_missing_file_is_a_notification_not_a_traceback(fixed):
    catalogue, ids = fixed
    detail.file_path(catalogue, ids["chain"][-1]).unlink()
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert any("missing from the store" in m for m in messages(app))
        assert "file missing from the store" in screen_text(app)
        await pilot.press("o")  # open folder of a missing file: said, not raised
        await pilot.press("c", "a")  # the parameters come from the catalogue: still there
        await settle(pilot)
        assert isinstance(app.screen, TextDialog)
    assert app.return_code in (0, None)


async def test_locked_database_is_a_notification(fixed):
    catalogue, ids = fixed
    blocker = sqlite3.connect(catalogue.home.database_path, timeout=0)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
    try:
        app = AtlasApp(catalogue, image_mode="halfcell")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)  # reading still works under WAL
            assert len(row_ids(app)) == 21
            await pilot.press("t")
            await pilot.pause()
            app.screen.query_one("#answer").value = "keep"
            await pilot.press("enter")
            await settle(pilot)
            assert any("locked by another writer" in m for m in messages(app))
            assert isinstance(app.screen, MainScreen)
    finally:
        blocker.rollback()
        blocker.close()
    with catalogue.session():
        assert detail.detail(catalogue, ids["chain"][-1])["tags"] == []


async def test_wikitext_shows_the_commons_page(fixed):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, "lighthouse")
        await to_results(pilot)
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, TextDialog)
        text = app.screen.query_one("#text").text
        assert "{{Information" in text and "lighthouse at night" in text
        assert "{{self|cc-zero}}" in text or "cc-zero" in text  # render 2's output licence is CC0


async def test_rerun_refuses_a_multi_pass_render(fixed):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")  # the newest render is the end of a 17-pass lineage
        await settle(pilot)
        assert any("or the final render of a recipe run can be re-run" in m for m in messages(app))
        assert app.job is None


STEPS = 12


class JobRecordingApp(AtlasApp):
    """Keeps every job state the bar was given, and whether the bar was showing after it."""

    seen: list

    def set_job(self, job):
        super().set_job(job)
        self.seen = getattr(self, "seen", []) + [(job, self.screen.query_one("JobBar").display)]


@pytest.mark.slow
async def test_rerun_makes_a_new_render_in_a_worker(demo_catalogue):
    from atlas.core.record.write import RenderInfo
    from atlas.engine.generate import Txt2ImgRequest, generate

    catalogue = demo_catalogue
    source = generate(catalogue, Txt2ImgRequest(prompt="a small test", steps=STEPS, width=64, height=64, seed=5,
                                                model="atlas-demo-tiny-sd"), RenderInfo(licence_id="CC0-1.0"))
    app = JobRecordingApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert row_ids(app) == [source.id]
        await pilot.press("r")  # asks first: the seed (and the settings) can be changed
        await pilot.pause()
        await pilot.press(*"777", "enter")
        await settle(pilot)
        # the job bar showed the worker's progress step by step, then went away
        steps = [(job["done"], job["total"], shown) for job, shown in app.seen if job]
        assert steps[0] == (0, None, True)
        assert [done for done, total, shown in steps if total == STEPS and shown] == list(range(1, STEPS + 1))
        assert app.seen[-1] == (None, False) and app.job is None
        assert len(row_ids(app)) == 2
        new_id = row_ids(app)[0]
        assert new_id != source.id and app.selected_id == new_id
        assert any(f"render {new_id} made from the settings of render {source.id}" in m for m in messages(app))
    new = detail.detail(catalogue, new_id)["record"]["lineage"][0]
    assert new["prompt"] == "a small test" and new["steps"] == STEPS and new["seed"] == 777


TINY_RECIPE = {
    "name": "tiny", "model": "atlas-demo-tiny-sd", "prompt": "a tiny city", "negative_prompt": "", "seed": 11,
    "txt2img": {"width": 64, "height": 64, "steps": 2, "sampler": "Euler a", "cfg": 7},
    "passes": [{"repeat": 2, "passes": [{"outpaint": {"side": "right", "pixels": 16, "steps": 4, "denoise": 0.8}}]}],
}


@pytest.mark.slow
async def test_rerun_of_a_run_s_final_render_runs_its_recipe_again(demo_catalogue):
    from sqlmodel import select

    from atlas.core.catalogue.tables import Run
    from atlas.engine.runner import run_recipe

    catalogue = demo_catalogue
    first = run_recipe(catalogue, TINY_RECIPE)
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert row_ids(app)[0] == first.final_render_id
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("enter")  # a blank seed: a random one
        await settle(pilot)
        assert app.job is None, messages(app)
        new_id = row_ids(app)[0]
        assert new_id != first.final_render_id and app.selected_id == new_id
    with catalogue.session() as session:
        runs = session.exec(select(Run).order_by(Run.id)).all()
    assert [r.status for r in runs] == ["completed", "completed"] and runs[1].final_render_id == new_id
    assert runs[1].recipe["seed"] != runs[0].recipe["seed"]
    old, new = (detail.detail(catalogue, r.final_render_id)["record"]["lineage"] for r in runs)
    assert [s["kind"] for s in new] == [s["kind"] for s in old] == ["txt2img", "outpaint", "outpaint"]
    assert [(s["width"], s["height"]) for s in new] == [(s["width"], s["height"]) for s in old]


async def test_c2pa_state_of_a_signed_render_is_checked(catalogue):
    from atlas.core.trust.keys import create_identity

    create_identity(catalogue.home.keys, owner="Ada Lovelace")
    ids = tui_catalogue.build(catalogue, frozen=False)  # finish_pass signs every file now
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the end of the lineage, signed as an edit of its input
        await settle(pilot)
        facts = app.screen.facts
        assert facts["id"] == ids["chain"][-1]
        assert facts["c2pa"].startswith("Trusted, signed by"), facts["c2pa"]
        assert "manifests in the chain" in facts["c2pa"]
        assert "Trusted, signed by" in screen_text(app)
        await pilot.press("v")
        await settle(pilot)
        assert any(f"render {ids['chain'][-1]} verified: no problems" in m for m in messages(app))


async def test_a_render_deleted_meanwhile_is_a_notification(fixed):
    catalogue, ids = fixed
    gone = ids["singles"][0]
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, "fox")
        await to_results(pilot)
        with sqlite3.connect(catalogue.home.database_path) as other:  # another process removes it
            other.execute("DELETE FROM tag WHERE render_id = ?", (gone,))
            other.execute("DELETE FROM pass WHERE render_id = ?", (gone,))
            other.execute("DELETE FROM render WHERE id = ?", (gone,))
        app.screen.query_one(ResultsTable).move_cursor(row=1)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert any(f"no render with id {gone}" in m for m in messages(app)), messages(app)
        await pilot.press("c", "a")
        await settle(pilot)
        assert sum(f"no render with id {gone}" in m for m in messages(app)) == 2
