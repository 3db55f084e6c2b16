"""Recipes run as Runs: the demo recipe end to end, progress, failures that keep finished passes,
and resuming after SIGKILL to the same pixels as an uninterrupted run."""

import itertools
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml
from PIL import Image
from sqlmodel import select

from atlas.core.catalogue.tables import Pass, Render, Run
from atlas.core.errors import BadInput
from atlas.core.record import recipes
from atlas.engine import runner

TINY = {
    "name": "tiny", "prompt": "a lighthouse", "model": "atlas-demo-tiny-sd",
    "txt2img": {"width": 64, "height": 64, "steps": 3},
    "defaults": {"outpaint": {"pixels": 8, "steps": 3, "mask_blur": 2},
                 "upscale": {"upscaler": "atlas-demo-tiny-swinir", "tile": 64, "overlap": 16, "steps": 2,
                             "denoise": 0.5, "batch": 2}},
    "passes": [{"outpaint": {"side": "right"}},
               {"outpaint": {"side": "down", "steps": 60, "denoise": 1.0}},  # long: killed in its middle
               {"upscale": {"scale": 2}}],
}


def final_pixels(catalogue, run) -> np.ndarray:
    with catalogue.session() as session:
        render = session.get(Render, run.final_render_id)
        return np.asarray(Image.open(catalogue.store.path_of(render.store_path)))


def assert_consistent(catalogue):
    """Every render has its file, every stored file has its render, no pass is left running."""
    with catalogue.session() as session:
        paths = set(session.exec(select(Render.store_path)).all())
        assert session.exec(select(Pass).where(Pass.status == "running")).all() == []
        for step in session.exec(select(Pass).where(Pass.status == "completed")).all():
            assert step.render_id is not None
    stored = {p.relative_to(catalogue.store.root).as_posix() for p in catalogue.store.root.rglob("*") if p.is_file()}
    assert stored == paths


def running_pass(catalogue) -> bool:
    with catalogue.session() as session:
        return session.exec(select(Pass).where(Pass.status == "running")).first() is not None


class Recorder(runner.RunProgress):
    def __init__(self, stop_at=None):
        self.passes, self.steps, self.stop_at = [], [], stop_at

    def start_pass(self, index, total, label):
        if index == self.stop_at:
            raise KeyboardInterrupt  # what Ctrl-C does in the middle of a run
        self.passes.append((index, total, label))

    def step(self, done, total):
        self.steps.append((len(self.passes), done, total))


@pytest.mark.xdist_group("demo_recipe")  # shares demo_recipe_run with tests/test_rerender.py
def test_demo_recipe_runs_end_to_end_with_a_chained_lineage(demo_recipe_run, demo_run, cli):
    _, printed, seconds = demo_recipe_run  # `atlas demo --seed 5`, as the quick start runs it
    final = int(re.search(r"^render (\d+)", printed, re.MULTILINE).group(1))
    assert re.search(r"^run \d+ completed in [\d.]+ s$", printed, re.MULTILINE)
    facts = cli("show", "--json", final).json()
    lineage = facts["record"]["lineage"]
    assert [p["kind"] for p in lineage] == ["txt2img"] + ["outpaint"] * 14 + ["upscale"] * 2
    for before, after in itertools.pairwise(lineage):
        assert after["input"]["width"] == before["output"]["width"]
        assert after["input"]["height"] == before["output"]["height"]
    expected = [out for _, out in recipes.sizes(recipes.load("demo").document)]
    assert [(p["output"]["width"], p["output"]["height"]) for p in lineage] == expected
    assert [p["run"]["position"] for p in lineage] == list(range(17))
    assert [p["seed"] for p in lineage] == [5 + k for k in range(17)]
    assert lineage[-1]["upscaler"]["name"] == "atlas-demo-tiny-swinir"
    print(f"demo recipe: {seconds:.1f} s")
    # every file of the finished run still matches the catalogue (the run's status changed after
    # its files were written, so it must not be part of the embedded record)
    checked = cli("verify", "--all")
    assert checked.code == 0, checked.out + checked.err


def test_progress_reports_pass_i_of_n_and_steps(demo_catalogue):
    progress = Recorder()
    run = runner.run_recipe(demo_catalogue, {**TINY, "passes": TINY["passes"][:1]}, seed=3, progress=progress)
    assert run.status == "completed"
    assert progress.passes == [(1, 2, "txt2img"), (2, 2, "outpaint right")]
    assert (1, 3, 3) in progress.steps and (2, 3, 3) in progress.steps


def test_interrupted_run_keeps_finished_passes_and_resumes_to_the_same_picture(demo_catalogue):
    cheap = {**TINY, "passes": [TINY["passes"][0], {"outpaint": {"side": "up"}}, TINY["passes"][2]]}
    with pytest.raises(KeyboardInterrupt):
        runner.run_recipe(demo_catalogue, cheap, seed=21, progress=Recorder(stop_at=3))
    with demo_catalogue.session() as session:
        run = session.exec(select(Run)).one()
        assert run.status == "interrupted"
        done = session.exec(select(Pass).where(Pass.run_id == run.id)).all()
        assert [(p.position, p.status) for p in done] == [(0, "completed"), (1, "completed")]
        run_id = run.id
    resumed = runner.resume(demo_catalogue, run_id)
    assert resumed.status == "completed"
    straight = runner.run_recipe(demo_catalogue, cheap, seed=21)
    np.testing.assert_array_equal(final_pixels(demo_catalogue, resumed), final_pixels(demo_catalogue, straight))
    with demo_catalogue.session() as session:
        positions = session.exec(select(Pass.position).where(Pass.run_id == run_id)
                                 .order_by(Pass.position)).all()
        assert positions == [0, 1, 2, 3]  # nothing ran twice
    assert_consistent(demo_catalogue)


def test_failing_pass_marks_the_run_failed(demo_catalogue, monkeypatch):
    from atlas.engine import passes

    real = passes.outpaint

    def broken(catalogue, *args, **kwargs):
        real(catalogue, *args, **kwargs)
        raise RuntimeError("disk on fire")  # after a finished pass: that pass must be kept

    monkeypatch.setattr(passes, "outpaint", broken)
    with pytest.raises(RuntimeError):
        runner.run_recipe(demo_catalogue, {**TINY, "passes": TINY["passes"][:1]}, seed=2)
    with demo_catalogue.session() as session:
        run = session.exec(select(Run)).one()
        assert run.status == "failed" and "disk on fire" in run.error
        assert len(session.exec(select(Pass).where(Pass.status == "completed")).all()) == 2
    assert_consistent(demo_catalogue)


def test_bad_upscaler_or_model_is_refused_before_the_run_starts(demo_catalogue):
    bad = {**TINY, "defaults": {"upscale": {"upscaler": "SwinIR_4x"}}}
    with pytest.raises(BadInput, match=r"\$\.passes\[2\]\.upscale\.upscaler"):
        runner.run_recipe(demo_catalogue, bad, seed=1)
    with pytest.raises(BadInput, match="unknown model"):
        runner.run_recipe(demo_catalogue, TINY, model="sd-v9")
    with demo_catalogue.session() as session:
        assert session.exec(select(Run)).all() == [] and session.exec(select(Pass)).all() == []


def test_sigkill_in_the_middle_of_a_pass_then_resume_matches_an_uninterrupted_run(demo_catalogue, tmp_path, cli):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    env = {**os.environ, "ATLAS_HOME": str(demo_catalogue.home.root)}
    process = subprocess.Popen([sys.executable, "-m", "atlas.cli.main", "run", str(path), "--seed", "77"],
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    try:
        for line in process.stderr:
            if line.startswith("pass 3 of 4"):
                break
        # Kill as soon as the third pass is recorded as running: the middle of its 60 steps.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not running_pass(demo_catalogue):
            time.sleep(0.01)
        assert process.poll() is None, "the run ended before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    with demo_catalogue.session() as session:
        run = session.exec(select(Run)).one()
        assert run.status == "running"  # a SIGKILL leaves no chance to say otherwise
        steps = session.exec(select(Pass).where(Pass.run_id == run.id).order_by(Pass.position)).all()
        assert [(p.position, p.status) for p in steps] == [(0, "completed"), (1, "completed"), (2, "running")]
        run_id = run.id
    result = cli("run", "--resume", run_id, "--json")
    assert result.code == 0, result.err
    assert result.json()["run"]["status"] == "completed"
    with demo_catalogue.session() as session:
        statuses = session.exec(select(Pass.position, Pass.status).where(Pass.run_id == run_id)
                                .order_by(Pass.id)).all()
        assert statuses == [(0, "completed"), (1, "completed"), (2, "interrupted"), (2, "completed"),
                            (3, "completed")]
        resumed = session.get(Run, run_id)
    straight = runner.run_recipe(demo_catalogue, recipes.Recipe("tiny", TINY), seed=77)
    np.testing.assert_array_equal(final_pixels(demo_catalogue, resumed), final_pixels(demo_catalogue, straight))
    assert_consistent(demo_catalogue)


def test_resume_clears_what_a_kill_between_file_write_and_commit_leaves(demo_catalogue):
    """The narrowest window of a SIGKILL: the output file is in the store, named by the render row the
    pass committed before writing (write.finish_pass), the pass never completed. Resume removes that
    file and row, and nothing else: a file another writer is storing meanwhile stays."""
    from atlas.core.record.write import begin_pass

    short = {**TINY, "passes": TINY["passes"][:1]}
    with pytest.raises(KeyboardInterrupt):
        runner.run_recipe(demo_catalogue, short, seed=4, progress=Recorder(stop_at=2))
    with demo_catalogue.session() as session:
        run_id = session.exec(select(Run)).one().id
    pass_id = begin_pass(demo_catalogue, Pass(kind="outpaint", run_id=run_id, position=1))  # left running
    digest, leftover, created = demo_catalogue.store.put(b"\x89PNG half-recorded output", "png")
    with demo_catalogue.session() as session:
        intent = Render(sha256=digest, format="png", width=1, height=1, size_bytes=1, store_path=leftover)
        session.add(intent)
        session.flush()
        session.get(Pass, pass_id).render_id = intent.id
        session.commit()
    _, foreign, _ = demo_catalogue.store.put(b"\x89PNG another writer's output, not committed yet", "png")
    assert created and demo_catalogue.store.path_of(leftover).exists()
    resumed = runner.resume(demo_catalogue, run_id)
    assert resumed.status == "completed"
    assert not demo_catalogue.store.path_of(leftover).exists()
    assert demo_catalogue.store.path_of(foreign).exists()
    with demo_catalogue.session() as session:
        statuses = session.exec(select(Pass.position, Pass.status).where(Pass.run_id == run_id)
                                .order_by(Pass.id)).all()
        assert session.exec(select(Render).where(Render.sha256 == digest)).first() is None
    assert statuses == [(0, "completed"), (1, "interrupted"), (1, "completed")]
    demo_catalogue.store.remove(foreign)
    assert_consistent(demo_catalogue)


def test_a_second_resume_of_a_running_run_is_refused_and_each_pass_runs_once(demo_catalogue, cli):
    import socket

    from atlas.core.catalogue import claims

    recipe = {**TINY, "passes": TINY["passes"][:2]}  # the second outpaint is long: the second resume meets it
    with pytest.raises(KeyboardInterrupt):
        runner.run_recipe(demo_catalogue, recipe, seed=5, progress=Recorder(stop_at=2))
    with demo_catalogue.session() as session:
        run_id = session.exec(select(Run)).one().id
    assert claims.current_claim(demo_catalogue, run_id) is None  # Ctrl-C let the claim go
    env = {**os.environ, "ATLAS_HOME": str(demo_catalogue.home.root)}
    first = subprocess.Popen([sys.executable, "-m", "atlas.cli.main", "run", "--resume", str(run_id)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while claims.current_claim(demo_catalogue, run_id) is None and time.monotonic() < deadline:
            assert first.poll() is None, first.communicate()
            time.sleep(0.02)
        second = cli("run", "--resume", run_id)
        _, err = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            first.kill()
    assert second.code == 1
    assert second.err.startswith(f"atlas: error: run {run_id} is being run by process {first.pid} "
                                 f"on {socket.gethostname()} since "), second.err
    assert first.returncode == 0, err
    with demo_catalogue.session() as session:
        statuses = session.exec(select(Pass.position, Pass.status).where(Pass.run_id == run_id)
                                .order_by(Pass.id)).all()
        assert session.get(Run, run_id).status == "completed"
    assert statuses == [(0, "completed"), (1, "completed"), (2, "completed")]  # each once
    assert claims.current_claim(demo_catalogue, run_id) is None
    assert_consistent(demo_catalogue)


def test_a_run_is_inserted_claimed_and_released_when_it_ends(demo_catalogue):
    from atlas.core.catalogue import claims

    seen = []

    class Watch(runner.RunProgress):
        def start_pass(self, index, total, label):
            with demo_catalogue.session() as session:
                run_id = session.exec(select(Run.id)).one()
            seen.append(claims.current_claim(demo_catalogue, run_id))

    run = runner.run_recipe(demo_catalogue, {**TINY, "passes": TINY["passes"][:1]}, seed=2, progress=Watch())
    assert [(c.pid, c.host) for c in seen] == [(os.getpid(), claims.Owner.this_process().host)] * 2
    assert claims.current_claim(demo_catalogue, run.id) is None
    assert runner.resume(demo_catalogue, run.id).status == "completed"  # a finished run claims nothing
