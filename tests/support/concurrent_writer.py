"""One of several processes writing to one catalogue at once (tests/test_concurrency.py).

`python -m tests.support.concurrent_writer INDEX COUNT FOLDER SHARED_ID` makes COUNT records through
the atlas command line, run in this process (torch loads once): even records are `atlas generate` on
the demo model, odd ones `atlas import` of a PNG written here with A1111 parameters. Each record is
tagged `writer-INDEX`, and the render SHARED_ID gets a tag added and removed, against every other
writer doing the same. What atlas prints to stderr goes to this process's stderr, for the test to
read; the exit code is the number of commands that did not exit 0 (at most 100).

`python -m tests.support.concurrent_writer --fork WRITERS COUNT ROOT SHARED_ID` starts WRITERS such
writers at once (INDEX 0.., FOLDER ROOT/writer-INDEX, stderr to ROOT/writer-INDEX.err), each its own
process forked from this one after torch and diffusers are imported: importing them is most of a
writer's CPU time (about 10 s), which eight writers on two cores would otherwise each pay before
their first write. It prints the writers' exit codes as a JSON list.
"""

import contextlib
import io
import json
import os
import sys
import traceback
from pathlib import Path

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from atlas.cli.main import main


def atlas(*args) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([str(a) for a in args])
    return code, out.getvalue()


def a1111_png(path: Path, index: int, number: int) -> None:
    """A small PNG no other writer makes (its pixels spell the writer and record), with A1111 parameters."""
    rng = np.random.default_rng([index, number])
    pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    info = PngInfo()
    info.add_text("parameters", f"writer {index} import {number}\nNegative prompt: blur\n"
                                f"Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: {number}, Size: 32x32")
    Image.fromarray(pixels).save(path, pnginfo=info)


def write(index: int, count: int, folder: Path, shared: int) -> int:
    failures = 0
    for number in range(count):
        if number % 2 == 0:
            code, out = atlas("generate", f"writer {index} record {number}", "--model", "atlas-demo-tiny-sd",
                              "--size", "64x64", "--steps", "1", "--seed", index * 1_000_000 + number)
            render_id = int(out.strip()) if code == 0 else None
        else:
            path = folder / f"w{index}-{number}.png"
            a1111_png(path, index, number)
            code, out = atlas("import", path, "--json")
            render_id = json.loads(out)["imported"][0]["id"] if code == 0 else None
        failures += code != 0
        if render_id is not None:
            code, _ = atlas("tag", render_id, f"+writer-{index}", f"+record-{number}")
            failures += code != 0
        code, _ = atlas("tag", shared, "+busy" if number % 2 == 0 else "-busy", f"+seen-by-{index}")
        failures += code != 0
    return min(failures, 100)


def launch(writers: int, count: int, root: Path, shared: int) -> list[int]:
    """Fork `writers` writers once the heavy modules are imported (nothing else: no database
    connection, no model loaded, no torch op run before the fork); their exit codes, in order."""
    from diffusers import StableDiffusionPipeline  # noqa: F401  (what loading the model imports)

    import atlas.engine.generate  # noqa: F401  (torch, and the engine's own modules)

    pids = []
    for index in range(writers):
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the writer: its own process from here on, until os._exit
            code = 100
            try:
                err = os.open(root / f"writer-{index}.err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(err, 2)
                code = write(index, count, root / f"writer-{index}", shared)
            except BaseException:
                traceback.print_exc()  # in its .err file, where the test looks for "Traceback"
            finally:
                sys.stderr.flush()
                os._exit(code)
        pids.append(pid)
    return [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]


if __name__ == "__main__":
    if sys.argv[1] == "--fork":
        print(json.dumps(launch(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5]))))
        sys.exit(0)
    sys.exit(write(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])))
