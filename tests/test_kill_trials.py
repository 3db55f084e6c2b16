"""SIGKILL at random moments of `atlas generate`, `import`, `export`, `run` and `worker`: whatever
moment a command dies at, every render row still names a store file whose bytes hash to the row's
sha256, `atlas verify --all` says so, and `--repair-orphans` leaves no file that no row names.

The commands and kill moments are drawn from a seeded generator; the seed is printed (and named in
every failure, with each trial's command and moment): `ATLAS_KILL_SEED=N` replays a run's draws
(the moments scale with how fast commands ran here, see SPAN). `ATLAS_KILL_TRIALS` sets the count
of the long version.
The short version (five trials: one of each command) runs in CI; the long one is marked `long` (`-m long`).
"""

import hashlib
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from sqlmodel import select

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.tables import Render, Run
from tests.support.processes import descendants_of, kill_running, run_atlas, survivors

ROOT = Path(__file__).resolve().parent.parent
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
LOCAL = ("generate", "import", "export", "run")
WITH_QUEUE = (*LOCAL, "worker")
# Seconds: a kill comes at a moment drawn uniformly from [0, span] after the command starts. Each
# starts at about how long the command takes on two busy shared cores (interpreter and torch start
# included); once a command of a kind exits before its kill, its span shrinks to that command's
# run time, so later kills of that kind land inside the command on this machine, however fast.
SPAN = {"generate": 14.0, "import": 12.0, "export": 8.0, "run": 22.0, "worker": 25.0}
IMPORT_FILES = 40
AFTER_WRITE_S = 0.3  # per import trial: each file is a write then a commit, and a moment to die between
RECIPE = {
    "name": "kill-trial", "prompt": "a lighthouse", "model": "atlas-demo-tiny-sd",
    "txt2img": {"width": 64, "height": 64, "steps": 2},
    "defaults": {"outpaint": {"pixels": 8, "steps": 2, "mask_blur": 2}},
    "passes": [{"outpaint": {"side": "right"}}, {"outpaint": {"side": "down"}}, {"outpaint": {"side": "left"}}],
}


def trial_seed() -> int:
    given = os.environ.get("ATLAS_KILL_SEED")
    return int(given) if given else secrets.randbits(32)


def png_file(path: Path, seed: int) -> Path:
    pixels = np.random.default_rng(seed).integers(0, 256, (24, 24, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


class Trials:
    """One home that every trial kills a command in, and the checks after each kill."""

    def __init__(self, home, tmp_path: Path, seed: int):
        self.home, self.tmp, self.seed = home, tmp_path, seed
        self.rng = random.Random(seed)
        self.recipe = tmp_path / "kill-trial.yaml"
        self.recipe.write_text(yaml.safe_dump(RECIPE))
        self.log: list[str] = []  # one line per trial: what was killed when, and how it ended
        self.span = dict(SPAN)

    def context(self) -> str:
        return f"ATLAS_KILL_SEED={self.seed}; trials so far:\n" + "\n".join(self.log)

    # --- the commands ---

    def command(self, kind: str, number: int) -> list[str]:
        if kind == "generate":
            return ["generate", f"kill trial {number}", "--size", "64x64", "--steps", "2", "--seed", str(number)]
        if kind == "import":
            folder = self.tmp / f"import-{number}" / "day"
            folder.mkdir(parents=True)
            for index in range(IMPORT_FILES):
                png_file(folder / f"{index}.png", self.seed * 1000 + number * IMPORT_FILES + index)
            return ["import", "--recursive", "--workers", "2", str(folder.parent)]
        if kind == "export":
            ids = self.render_ids()[-30:]
            return ["export", *map(str, ids), "--to", str(self.tmp / f"export-{number}")]
        if kind == "run":
            unfinished = self.unfinished_runs()
            if unfinished and self.rng.random() < 0.5:  # resume a run an earlier kill interrupted
                return ["run", "--resume", str(self.rng.choice(unfinished))]
            return ["run", str(self.recipe), "--seed", str(number)]
        if kind == "worker":
            self.enqueue(number)
            concurrency = self.rng.choice(["1", "2"])
            return ["worker", "--stalled-after", "5", "--concurrency", concurrency]
        raise ValueError(kind)

    def enqueue(self, number: int) -> None:
        from atlas.core.record import recipes
        from atlas.queue import jobs

        catalogue = Catalogue.open(self.home)
        try:
            jobs.add(catalogue, recipes.load(self.recipe), seed=1000 + number)
        finally:
            catalogue.close()

    def render_ids(self) -> list[int]:
        catalogue = Catalogue.open(self.home)
        try:
            with catalogue.session() as session:
                return list(session.exec(select(Render.id).order_by(Render.id)).all())
        finally:
            catalogue.close()

    def unfinished_runs(self) -> list[int]:
        catalogue = Catalogue.open(self.home)
        try:
            with catalogue.session() as session:
                return list(session.exec(select(Run.id).where(Run.status.in_(("running", "interrupted", "failed")))
                                         .order_by(Run.id)).all())
        finally:
            catalogue.close()

    # --- one trial ---

    def trial(self, number: int, kind: str) -> None:
        arguments = self.command(kind, number)
        # Half the kills count from the moment the command's first file lands in the store, a
        # moment later: between a file's write and its row's commit is where orphans are made,
        # and a kill at a moment counted from the start rarely lands there.
        after_write = kind != "export" and self.rng.random() < 0.5
        delay = self.rng.uniform(0.0, AFTER_WRITE_S if after_write else self.span[kind])
        before = self.stored_now()
        process = subprocess.Popen([sys.executable, "-m", "atlas.cli.main", *arguments], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env={**os.environ, **ONE_THREAD})
        started = time.monotonic()
        anchor = None if after_write else started
        family: set[int] = set()
        while process.poll() is None and (anchor is None or time.monotonic() - anchor < delay):
            family.update(descendants_of(process.pid))  # seen now: a child started later is seen later
            if anchor is None and self.stored_now() > before:
                anchor = time.monotonic()
            time.sleep(0.02 if anchor is None else 0.005)
        ended = process.poll()
        if ended is not None:
            self.span[kind] = min(self.span[kind], time.monotonic() - started)
        else:
            family.update(descendants_of(process.pid))
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        self.no_survivors(family)  # before reading its pipes: a survivor would hold them open
        _, err = process.communicate(timeout=60)
        outcome = "killed" if ended is None else f"had exited {ended}"
        shown = " ".join(Path(a).name if a.startswith(str(self.tmp)) else a for a in arguments)
        moment = f"{delay:.2f} s after its first store file" if after_write else f"after {delay:.2f} s"
        self.log.append(f"#{number} atlas {shown}: SIGKILL {moment}, {outcome}")
        print(self.log[-1])
        if ended is not None:
            assert ended == 0, f"{kind} failed on its own:\n{err}\n{self.context()}"
        self.check_store()

    def no_survivors(self, family: set[int]) -> None:
        """A killed command's own processes (import readers, worker processes) die with it."""
        alive = survivors(family, within=10)
        kill_running(alive)
        assert alive == [], f"processes {alive} outlived the killed command\n{self.context()}"

    # --- the checks after each kill ---

    def rows(self) -> dict[str, str]:
        catalogue = Catalogue.open(self.home)
        try:
            with catalogue.session() as session:
                found = session.exec(select(Render.store_path, Render.sha256)).all()
            self.store_root = catalogue.store.root
        finally:
            catalogue.close()
        return {path: digest for path, digest in found if path is not None}

    def stored_now(self) -> int:
        """How many files the store holds now (temporary ones included)."""
        root = self.home.store
        return sum(len(files) for _, _, files in os.walk(root)) if root.exists() else 0

    def stored(self) -> set[str]:
        return {p.relative_to(self.store_root).as_posix() for p in self.store_root.rglob("*") if p.is_file()}

    def check_store(self) -> None:
        rows = self.rows()
        # every row's file is there with its bytes, hashed here (not by atlas)
        for path, digest in rows.items():
            file = self.store_root / path
            assert file.is_file(), f"render file {path} is missing\n{self.context()}"
            assert hashlib.sha256(file.read_bytes()).hexdigest() == digest, f"{path} changed\n{self.context()}"
        checked = run_atlas("verify", "--all", "--json", cwd=ROOT)
        report = json.loads(checked.stdout)
        assert len(report["checked"]) == len(self.render_ids()), self.context()
        assert report["store"]["missing"] == [], self.context()
        orphans = set(report["store"]["orphans"])
        assert orphans == self.stored() - set(rows), self.context()  # verify sees every orphan, and no other
        others = [p for p in report["problems"] if not p.endswith("`atlas verify --all --repair-orphans` removes it")]
        assert others == [], f"{others}\n{self.context()}"
        repaired = run_atlas("verify", "--all", "--repair-orphans", "--grace", "0", "--json", cwd=ROOT)
        assert repaired.returncode == 0, f"{repaired.stdout}{repaired.stderr}\n{self.context()}"
        assert self.stored() == set(rows), self.context()  # no orphan, no temporary file left
        print(f"   {len(rows)} render rows checked, {len(orphans)} orphan(s) found and removed")

    def run(self, count: int, kinds: tuple[str, ...]) -> None:
        print(f"kill trials: ATLAS_KILL_SEED={self.seed}")
        for number in range(count):
            # every command once first, then drawn
            kind = kinds[number] if number < len(kinds) else self.rng.choice(kinds)
            self.trial(number, kind)


def prepared_home(home, tmp_path: Path) -> None:
    """The demo model built and registered, and a few imported renders for the export trials."""
    from atlas.core.importers.batch import import_file
    from atlas.engine.demo_model import ensure

    catalogue = Catalogue.open(home)
    try:
        ensure(catalogue)
        for index in range(6):
            import_file(catalogue, png_file(tmp_path / f"seed-{index}.png", 10_000 + index))
    finally:
        catalogue.close()


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    for name, value in ONE_THREAD.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, home):
    if request.param == "postgresql":
        request.getfixturevalue("pg_home")
    return request.param


def test_kill_trials_short_local(home, tmp_path):
    """One kill in each of generate, import, export and run, on SQLite."""
    prepared_home(home, tmp_path)
    Trials(home, tmp_path, trial_seed()).run(len(LOCAL), LOCAL)


def test_kill_trial_short_worker(pg_home, tmp_path):
    """One kill of a queue worker, on PostgreSQL."""
    prepared_home(pg_home, tmp_path)
    Trials(pg_home, tmp_path, trial_seed()).run(1, ("worker",))


@pytest.mark.slow
@pytest.mark.long
def test_kill_trials(backend, home, tmp_path):
    prepared_home(home, tmp_path)
    kinds = WITH_QUEUE if backend == "postgresql" else LOCAL
    Trials(home, tmp_path, trial_seed()).run(int(os.environ.get("ATLAS_KILL_TRIALS", "30")), kinds)
