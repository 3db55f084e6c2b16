"""The pass form (`i`): img2img, outpaint or upscale on the selected render, driven with Pilot."""

import pytest

from atlas.core.actions import detail
from atlas.tui.app import AtlasApp
from atlas.tui.screens.main import MainScreen
from atlas.tui.screens.passes import PassDialog
from tests.support import tui_catalogue
from tests.support.tui_pilot import search, settle, to_results
from tests.support.tui_screen import messages

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("tui_notices")]

SIZE = (150, 60)


def field(dialog, name: str):
    return dialog.query_one(f"#set-{name}")


async def open_form(pilot, query: str) -> PassDialog:
    await settle(pilot)
    await search(pilot, query)
    await to_results(pilot)
    await pilot.press("i")
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, PassDialog), dialog
    return dialog


def passes_started(app) -> bool:
    return app.job is not None or any(worker.name == "pass_worker" for worker in app.workers)


async def test_the_form_opens_with_the_renders_own_values(fixed):
    catalogue, _ids = fixed
    prompt, negative, sampler, steps, cfg, seed, _licence = tui_catalogue.SINGLES[1]  # the lighthouse
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_form(pilot, "lighthouse")
        assert [field(dialog, name).value for name in ("prompt", "negative_prompt", "seed", "sampler", "steps")] \
            == [prompt, negative, str(seed), sampler, str(steps)]
        assert float(field(dialog, "cfg").value) == cfg
        assert float(field(dialog, "denoise").value) == 0.75  # A1111's img2img default; the render has none
        assert not dialog.query_one("#for-outpaint").display and not dialog.query_one("#for-upscale").display
        dialog.query_one("#kind").value = "upscale"
        await pilot.pause()
        assert dialog.query_one("#for-upscale").display and not dialog.query_one("#for-outpaint").display
        assert field(dialog, "tile").value == "512" and field(dialog, "scale").value == "2.0"
        assert field(dialog, "denoise").value == "0.1"  # the untouched default follows the kind (SD upscale's)
        request = dialog.chosen()
        assert (request.kind, request.seed, request.steps, request.sampler, request.upscaler) == \
            ("upscale", seed, steps, sampler, "Lanczos")


@pytest.mark.parametrize("kind, name, value, error", [
    ("img2img", "denoise", "1.5", "denoising strength must be between 0 and 1, got 1.5"),
    ("img2img", "steps", "many", "steps must be a whole number, got 'many'"),
    ("img2img", "seed", "x", "the seed must be a whole number"),
    ("outpaint", "pixels", "12", "multiple of 8"),
    ("upscale", "tile", "32", "tile size must be"),
])
async def test_a_bad_value_shows_its_error_and_runs_nothing(fixed, kind, name, value, error):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_form(pilot, "lighthouse")
        dialog.query_one("#kind").value = kind
        await pilot.pause()
        field(dialog, name).value = value
        field(dialog, name).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog and error in str(dialog.query_one("#pass-error").render())
        assert not passes_started(app)


async def test_cancel_runs_nothing(fixed):
    catalogue, _ids = fixed
    app = AtlasApp(catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot, "lighthouse")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen) and not passes_started(app) and messages(app) == []


async def test_a_pass_stopped_midway_makes_no_render(demo_catalogue, monkeypatch):
    from sqlmodel import select

    from atlas.core.catalogue.tables import Pass, Render
    from tests.support.renders import txt2img

    txt2img(demo_catalogue)

    def first_step_then_stop(app, done, total):
        app.stop_asked = True  # what `x` sets once confirmed; the worker stops before the next step

    monkeypatch.setattr(AtlasApp, "job_progress", first_step_then_stop)
    app = AtlasApp(demo_catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_form(pilot, "lighthouse")
        field(dialog, "steps").value = "4"
        await pilot.click("#ok")
        await settle(pilot)
        assert app.job is None and any("img2img of render" in text and "stopped" in text for text in messages(app))
    with demo_catalogue.session() as session:
        assert len(session.exec(select(Render)).all()) == 1
        assert [(step.kind, step.status) for step in session.exec(select(Pass).order_by(Pass.id))] == \
            [("txt2img", "completed"), ("img2img", "interrupted")]


async def test_an_img2img_pass_from_the_form_makes_a_new_render(demo_catalogue, monkeypatch):
    from tests.support.renders import txt2img

    source = txt2img(demo_catalogue)
    progress = []
    monkeypatch.setattr(AtlasApp, "job_progress",
                        lambda app, done, total: (progress.append((done, total)), app.set_job(
                            {**app.job, "done": done, "total": total}) if app.job else None))
    app = AtlasApp(demo_catalogue, image_mode="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        dialog = await open_form(pilot, "lighthouse")
        field(dialog, "seed").value = "1234"
        field(dialog, "denoise").value = "0.5"
        field(dialog, "steps").value = "4"
        await pilot.click("#ok")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen) and app.job is None
        new_id = app.selected_id
        assert new_id is not None and new_id != source.id
        assert app.screen.table.current_id == new_id
    lineage = detail.show(demo_catalogue, new_id)["record"]["lineage"]
    assert [step["kind"] for step in lineage] == ["txt2img", "img2img"]
    step = lineage[-1]
    assert (step["seed"], step["denoise"], step["steps"]) == (1234, 0.5, 4)
    assert step["prompt"] == lineage[0]["prompt"] and step["sampler"] == lineage[0]["sampler"]
    # A1111 runs int(min(denoise, 0.999) * steps) + 1 = 3 of the 4 steps, each reported to the job bar.
    assert progress and progress[-1][0] == progress[-1][1] == 3
    assert any(f"render {new_id} made by img2img from render {source.id}" in text for text in messages(app))
