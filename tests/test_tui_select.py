"""Multi-select and the actions on several renders, the re-run dialog, copying one field, the raw
metadata view, the system viewer and the full-screen preview: the TUI driven with Pilot."""

import json
import os

import pytest

from atlas.core.actions import detail
from atlas.tui.app import AtlasApp
from atlas.tui.screens.dialogs import AskDialog, ChoiceMenu, ConfirmDialog, TextDialog
from atlas.tui.screens.fullscreen import FullScreenPreview
from atlas.tui.screens.main import MainScreen
from atlas.tui.screens.rerun import RerunDialog
from tests.support import tui_catalogue
from tests.support.tui_pilot import row_ids, search, settle, table_of, to_results
from tests.support.tui_screen import messages, screen_text

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("tui_notices")]

SIZE = (150, 45)


async def select_singles(pilot) -> list[int]:
    """The four single renders (rows 2..5 of `steps:<=50`, newest first): two with space, two with V."""
    await search(pilot, "-kind:outpaint -kind:upscale")  # the chain's first render and the four singles
    await to_results(pilot)
    await pilot.press("down", "space", "space")  # space selects and steps down
    await pilot.press("V", "down", "V")  # a range: the next two rows
    await settle(pilot)
    return row_ids(pilot.app)[1:5]


async def test_space_and_v_select_rows_and_tag_applies_to_all(fixed):
    catalogue, ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        chosen = await select_singles(pilot)
        assert sorted(chosen) == sorted(ids["singles"])
        assert table_of(app).marked == set(chosen)
        assert "4 selected" in str(app.screen.query_one("#status").render())
        assert "●" + str(chosen[0]) in screen_text(app)
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, AskDialog) and "the 4 selected renders" in app.screen.prompt
        app.screen.query_one("#answer").value = "batch"
        await pilot.press("enter")
        await settle(pilot)
        await search(pilot, "tag:batch")
        assert sorted(row_ids(app)) == sorted(ids["singles"])
        await to_results(pilot)
        await pilot.press("escape")  # clears the selection
        await settle(pilot)
        assert not table_of(app).marked


async def test_selected_renders_export_into_one_upload_batch(fixed, tmp_path):
    catalogue, _ids = fixed
    target = tmp_path / "batch"
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        chosen = await select_singles(pilot)
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#answer").value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert any(f"4 renders exported to {target} (14 files" in m for m in messages(app)), messages(app)
    lines = [json.loads(line) for line in (target / "batch.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(row["render_id"] for row in lines) == sorted(chosen)
    assert len([p for p in target.iterdir() if p.suffix == ".png"]) == 4 and (target / "upload.py").is_file()


async def test_selected_renders_verify_together(fixed):
    catalogue, ids = fixed
    tampered = ids["singles"][0]
    path = detail.file_path(catalogue, tampered)
    path.write_bytes(path.read_bytes() + b"tampered")
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_singles(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, TextDialog)
        assert app.screen.title_text == "1 of 4 renders failed verification"
        text = app.screen.query_one("#text").text
        assert text.startswith(f"render {tampered}:") and "sha256" in text
        assert all(f"render {other}:" not in text for other in ids["singles"][1:])


async def test_selected_renders_re_run_only_after_one_confirmation(fixed):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_singles(pilot)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog) and "Make 4 new renders" in app.screen.question
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen) and app.job is None


async def test_the_rerun_dialog_checks_what_is_typed_and_cancels(fixed):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, "lighthouse")
        await to_results(pilot)
        await pilot.press("r")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, RerunDialog)
        assert dialog.query_one("#set-steps").value == "30" and dialog.query_one("#set-sampler").value == \
            "DPM++ 2M Karras"
        dialog.query_one("#set-steps").value = "many"
        await pilot.press(*"42", "enter")
        await pilot.pause()
        assert app.screen is dialog and "steps must be a whole number" in str(dialog.query_one("#rerun-error").render())
        dialog.query_one("#set-steps").value = "12"
        assert dialog.chosen()["seed"] == 42 and dialog.chosen()["steps"] == 12
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen) and app.job is None


async def test_copy_one_field(fixed):
    catalogue, ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, "lighthouse")
        await to_results(pilot)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceMenu)
        await pilot.press("s")
        await settle(pilot)
        assert app.clipboard == "202" and isinstance(app.screen, MainScreen)
        await pilot.press("c", "p")
        await settle(pilot)
        assert app.clipboard == tui_catalogue.SINGLES[1][0]
        await pilot.press("c", "n")
        await settle(pilot)
        assert app.clipboard == ""
        await pilot.press("c", "escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen) and app.clipboard == ""
    assert any(f"seed of render {ids['singles'][1]} sent to the clipboard" in m for m in messages(app))


async def test_raw_metadata_of_an_imported_file(fixed, tmp_path):
    catalogue, ids = fixed
    ids.update(tui_catalogue.add_imports(catalogue, tmp_path / "a1111"))
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, f"id:{ids['copied']}")
        await to_results(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, TextDialog)
        text = app.screen.query_one("#text").text
    assert "parameters (as written):\n" + tui_catalogue.A1111_INFOTEXT in text


async def test_open_in_the_system_viewer(fixed, tmp_path, monkeypatch):
    catalogue, ids = fixed
    empty = tmp_path / "no-viewer"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, "lighthouse")
        await to_results(pilot)
        path = detail.file_path(catalogue, ids["singles"][1])
        await pilot.press("O")
        await settle(pilot)
        assert any("no system image viewer here" in m and str(path) in m for m in messages(app)), messages(app)
        # A stand-in viewer on PATH, as xdg-open is found: it writes down what it was asked to open.
        viewer = tmp_path / "viewer"
        viewer.mkdir()
        opened = tmp_path / "opened.txt"
        script = viewer / ("open" if os.uname().sysname == "Darwin" else "xdg-open")
        script.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {opened}\n')
        script.chmod(0o755)
        monkeypatch.setenv("PATH", str(viewer))
        await pilot.press("O")
        await settle(pilot)
        for _ in range(100):
            if opened.exists():
                break
            await pilot.pause(0.05)
    assert opened.read_text() == str(path)


async def test_full_screen_preview(fixed):
    catalogue, ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FullScreenPreview) and app.screen.render_id == ids["chain"][-1]
        assert "▀" in screen_text(app)  # the picture, in half blocks
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)


TINY_RECIPE = {
    "name": "tiny", "model": "atlas-demo-tiny-sd", "prompt": "a tiny city", "negative_prompt": "", "seed": 11,
    "txt2img": {"width": 64, "height": 64, "steps": 2, "sampler": "Euler a", "cfg": 7},
    "passes": [{"repeat": 2, "passes": [{"outpaint": {"side": "right", "pixels": 16, "steps": 4, "denoise": 0.8}}]}],
}


@pytest.mark.slow
async def test_a_run_stopped_midway_is_offered_for_resuming(demo_catalogue):
    from sqlmodel import select

    from atlas.core.catalogue.tables import Run
    from atlas.engine.runner import RunProgress, run_recipe

    class StopAtThirdPass(RunProgress):  # what quitting the TUI midway does to the worker's run
        def start_pass(self, index, total, label):
            if index == 3:
                raise KeyboardInterrupt

    catalogue = demo_catalogue
    with pytest.raises(KeyboardInterrupt):
        run_recipe(catalogue, TINY_RECIPE, progress=StopAtThirdPass())
    with catalogue.session() as session:
        stopped = session.exec(select(Run)).one()
    assert stopped.status != "completed" and stopped.final_render_id is None
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        partial = row_ids(app)
        assert len(partial) == 2  # the txt2img pass and the first outpaint
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceMenu) and f"run {stopped.id}" in app.screen.title_text
        await pilot.press("u")
        await settle(pilot)
        assert app.job is None, messages(app)
        shown = row_ids(app)
    assert len(shown) == 3
    with catalogue.session() as session:
        runs = session.exec(select(Run)).all()
    assert len(runs) == 1 and runs[0].status == "completed" and runs[0].final_render_id == max(shown)
    lineage = detail.detail(catalogue, runs[0].final_render_id)["record"]["lineage"]
    assert [step["kind"] for step in lineage] == ["txt2img", "outpaint", "outpaint"]


async def test_x_asks_before_stopping_the_running_job(fixed):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await pilot.pause()
        assert any("nothing is running" in m for m in messages(app))
        app.set_job({"label": "re-run of render 1", "done": 3, "total": 10})  # what a running re-run shows
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await pilot.pause()
        assert not app.stop_asked
        await pilot.press("x", "y")
        await pilot.pause()
        assert app.stop_asked and "stopping after this step" in app.job["label"]


class StopAfterFirstStep(AtlasApp):
    """Stops its re-run as soon as it has made one sampling step, as the x key's Stop answer does."""

    def job_progress(self, done, total):
        super().job_progress(done, total)
        self.stop_asked = True


@pytest.mark.slow
async def test_a_stopped_recipe_rerun_is_interrupted_and_resumable(demo_catalogue):
    from sqlmodel import select

    from atlas.core.catalogue.tables import Run
    from atlas.engine.runner import run_recipe

    catalogue = demo_catalogue
    first = run_recipe(catalogue, TINY_RECIPE)
    app = StopAfterFirstStep(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert app.job is None
        assert any("stopped; a recipe run stopped midway can be resumed" in m for m in messages(app)), messages(app)
    with catalogue.session() as session:
        runs = session.exec(select(Run).order_by(Run.id)).all()
    assert [run.status for run in runs] == ["completed", "interrupted"] and runs[0].id == first.id
